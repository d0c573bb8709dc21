"""Form fields every domain uses: money in fen and bounded quantities.

``MoneyField.data`` is fen (int) or None; the input shows what was typed (or the stored amount as
yuan), and a bad amount is an error beside the field, never an exception. ``QuantityField.data``
is an int or None, bounded by ``MAX_QUANTITY``. Both are optional unless a validator such as
``InputRequired`` says otherwise; ``min``/``max`` bound the value with a message for the field.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import Field
from wtforms.validators import ValidationError
from wtforms.widgets import TextInput

from portal.kernel.money import MAX_FEN, MAX_QUANTITY, MoneyError, format_yuan, parse_quantity, parse_yuan, yuan_text


class _ParsedField(Field):
    widget = TextInput()

    def __init__(self, label=None, validators=None, *, min: int | None = None, max: int | None = None,
                 **kwargs):
        super().__init__(label, validators, **kwargs)
        self.min, self.max = min, max

    def _parse(self, text: str) -> int:
        raise NotImplementedError

    def _show(self, value: int) -> str:
        raise NotImplementedError

    def process_formdata(self, valuelist):
        self.data = None
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        if not text:
            return
        try:
            self.data = self._parse(text)
        except MoneyError as exc:
            raise ValueError(str(exc)) from None

    @property
    def typed(self) -> bool:
        """Something was entered (valid or not): a row with only "abc" as price is not blank."""
        return bool(self.raw_data and str(self.raw_data[0]).strip()) or self.data is not None

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else self._show(self.data)

    def pre_validate(self, form):
        if self.data is None:
            return
        if self.min is not None and self.data < self.min:
            raise ValidationError(self._below(self.min))
        if self.max is not None and self.data > self.max:
            raise ValidationError(self._above(self.max))


class MoneyField(_ParsedField):
    """An amount in yuan, typed with at most two decimals; ``data`` in fen."""

    def __init__(self, label=None, validators=None, *, min: int | None = 0, max: int | None = MAX_FEN, **kwargs):
        super().__init__(label, validators, min=min, max=max, **kwargs)

    def _parse(self, text):
        return parse_yuan(text)

    def _show(self, value):
        return yuan_text(value)

    def _below(self, bound):
        if bound <= 1:
            return _l("Enter an amount above zero.")
        return _l("At least %(amount)s.", amount=format_yuan(bound))

    def _above(self, bound):
        return _l("At most %(amount)s.", amount=format_yuan(bound))


class QuantityField(_ParsedField):
    """A whole number from ``min`` (0) to ``max`` (``MAX_QUANTITY``)."""

    def __init__(self, label=None, validators=None, *, min: int | None = 0, max: int | None = MAX_QUANTITY,
                 **kwargs):
        super().__init__(label, validators, min=min, max=max, **kwargs)

    def _parse(self, text):
        return parse_quantity(text)

    def _show(self, value):
        return str(value)

    def _below(self, bound):
        return _l("At least %(n)s.", n=bound)

    def _above(self, bound):
        return _l("At most %(n)s.", n=f"{bound:,}")
