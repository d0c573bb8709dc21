"""Form plumbing every domain's views repeat: select options, a refusal shown beside its field,
the status of a re-rendered form, values read from a request by allow-list.

Domain-specific choices (the org tree's indented nodes, saved targets …) stay in their domains;
they hand their (value, label) pairs to ``options``.
"""
from __future__ import annotations

from collections.abc import Collection, Iterable

from flask import flash, request
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, StopValidation

from portal.kernel.errors import Conflict, RuleError


def options(pairs: Iterable, *, blank: str | None = None) -> list[SelectChoice]:
    """(value, label) pairs as WTForms select options; ``blank`` adds a first "" option."""
    out = [SelectChoice("", blank)] if blank is not None else []
    return out + [SelectChoice(value, label) for value, label in pairs]


def strip(value):
    """A field filter: text without surrounding spaces (anything else as it is)."""
    return value.strip() if isinstance(value, str) else value


def rule_error(form, exc: RuleError, *, default: str | None = None, at: str | None = None) -> None:
    """Show a service's refusal beside the field it names — or beside ``default`` when it names
    none (or one this form does not have) — else above the form. ``at`` puts it beside that
    field whatever it names (a page that shows errors in one place)."""
    name = at or (exc.field if exc.field and exc.field in form else default)
    target = form[name] if name and name in form else None
    if target is not None:
        target.errors = list(target.errors) + [exc.message]   # errors may be a tuple before validate()
    else:
        form.form_errors.append(exc.message)


def form_status() -> int:
    """The status of a page that shows a form: 422 when it comes back from a failed submit."""
    return 422 if request.method == "POST" else 200


def flash_outcome(action, done) -> bool:
    """Run a service call that may refuse with a RuleError: flash the refusal, or ``done`` (a text,
    or a function of what the call returned)."""
    try:
        result = action()
    except Conflict:
        raise                   # a lost race answers 409 (the app's handler), not a flash
    except RuleError as exc:
        flash(exc.message, "danger")
        return False
    flash(done(result) if callable(done) else done, "success")
    return True


def one_of(value, allowed: Collection[str], default: str = "") -> str:
    """A query/form value taken only from an allow-list (``state=`` …), else ``default``."""
    return value if isinstance(value, str) and value in allowed else default


def flag(values, name: str, default: bool = False) -> bool:
    """A checkbox or switch sent as "1": ``flag(request.form, "locked")``."""
    value = values.get(name)
    return default if value is None else value == "1"


class Required(DataRequired):
    """``DataRequired`` for fields that parse what is typed (dates, numbers, money): a value that
    did not parse keeps only its own message ("not a valid date"), not a second "required"
    beside it, and the rest of the chain is skipped. Templates also show one message per field
    (the first: macros/forms.html), so whatever a chain adds, people read one."""

    def __call__(self, form, field):
        if field.process_errors:
            raise StopValidation()
        super().__call__(form, field)
