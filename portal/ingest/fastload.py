"""Loading event data fast, with marshmallow's answers.

``Schema().load`` costs tens of microseconds per event (field objects, error bookkeeping, hooks),
which at 500 events a request is most of the request. ``loader(Schema)`` compiles the schema once
into plain-Python checks of the canonical inputs (a ``str`` for a String, an ``int`` that is not a
``bool`` for an Integer, a dict for a Nested, a list for a List; other field types through their
own ``field.deserialize``; the fields' validators as declared). Whenever the fast path meets
anything else — a missing required field, a wrong type, a validator that refuses, an unknown key
the schema would refuse, a ``@validates_schema`` that refuses (run on the loaded item, as
marshmallow runs it), a schema with other hooks (``@validates``, ``@post_load`` …) — it gives up
and the schema's own ``load`` decides, so every error message and field path is marshmallow's and
valid data comes out the same either way (``tests/ingest/test_fastload.py`` checks both).
"""
from __future__ import annotations

from collections.abc import Callable

import marshmallow as ma
from marshmallow import fields, validate
from marshmallow.decorators import VALIDATES_SCHEMA

_MISSING = ma.missing


class _GiveUp(Exception):
    """The fast path cannot vouch for this input: let marshmallow load it."""


def _schema_validators(schema: ma.Schema) -> list[tuple[Callable, bool]]:
    """The schema's ``@validates_schema`` methods of one item, as ``(method, pass_original)``;
    any other hook (``@validates``, ``@pre_load``, ``@post_load``, a ``pass_collection`` validator)
    is _Unsupported: the schema's own load runs it."""
    out = []
    for key, hooks in schema._hooks.items():
        if not hooks:
            continue
        if key != VALIDATES_SCHEMA:
            raise _Unsupported
        for attr, pass_collection, kwargs in hooks:
            if pass_collection:
                raise _Unsupported
            out.append((getattr(schema, attr), bool(kwargs.get("pass_original", False))))
    return out


def _predicate(validator) -> Callable[[object], bool]:
    """``value -> bool``: True exactly when ``validator`` accepts the value (the common validators
    inlined, any other called)."""
    kind = type(validator)
    if kind is validate.Length:
        lo, hi, eq = validator.min, validator.max, validator.equal
        if eq is not None:
            return lambda v: len(v) == eq
        if hi is None:
            return lambda v: len(v) >= lo
        if lo is None:
            return lambda v: len(v) <= hi
        return lambda v: lo <= len(v) <= hi
    if kind is validate.Range:
        lo, hi = validator.min, validator.max
        lo_in, hi_in = validator.min_inclusive, validator.max_inclusive

        def in_range(v):
            if lo is not None and (v < lo if lo_in else v <= lo):
                return False
            return not (hi is not None and (v > hi if hi_in else v >= hi))
        return in_range
    if kind is validate.OneOf:
        choices = validator.choices
        return lambda v: v in choices

    def other(v):
        try:
            return validator(v) is not False
        except ma.ValidationError:
            return False
    return other


_SIMPLE = {fields.String: (str,), fields.Integer: (int,), fields.Boolean: (bool,)}


def _field_fn(field: fields.Field) -> Callable:
    """A function value -> loaded value for one field (raising _GiveUp)."""
    kind = type(field)
    allow_none = field.allow_none
    checks = [_predicate(v) for v in field.validators]
    if kind in _SIMPLE:
        (want,) = _SIMPLE[kind]
        if not checks:
            def run(value):
                if type(value) is want:
                    return value
                if value is None and allow_none:
                    return None
                raise _GiveUp
            return run
        if len(checks) == 1:
            (check,) = checks

            def run(value):
                if type(value) is want and check(value):
                    return value
                if value is None and allow_none:
                    return None
                raise _GiveUp
            return run

        def run(value):
            if type(value) is want:
                for check in checks:
                    if not check(value):
                        raise _GiveUp
                return value
            if value is None and allow_none:
                return None
            raise _GiveUp
        return run

    if kind is fields.Nested and not field.only and not field.exclude and isinstance(field.nested, type):
        inner = _compile(field.schema, field.unknown)
        many = field.many

        def base(value):
            if many:
                if type(value) is not list:
                    raise _GiveUp
                return [inner(v) for v in value]
            return inner(value)
    elif kind is fields.List:
        item = _field_fn(field.inner)

        def base(value):
            if type(value) is not list:
                raise _GiveUp
            return [item(v) for v in value]
    else:
        def other(value, _field=field):
            try:
                return _field.deserialize(value)      # runs the validators and the None rule itself
            except ma.ValidationError:
                raise _GiveUp from None
        return other

    def run(value):
        if value is None:
            if allow_none:
                return None
            raise _GiveUp
        value = base(value)
        for check in checks:
            if not check(value):
                raise _GiveUp
        return value
    return run


def _compile(schema: ma.Schema, unknown: str | None = None) -> Callable[[dict], dict]:
    validators = _schema_validators(schema)
    unknown = unknown or schema.unknown
    plan = []
    for name, field in schema.load_fields.items():
        default = field.load_default
        plan.append((field.data_key or name, field.attribute or name, _field_fn(field), field.required, default))
    known = frozenset(key for key, *_ in plan)

    def load(data):
        if type(data) is not dict:
            raise _GiveUp
        out = {}
        for key, attr, fn, required, default in plan:
            if key in data:
                out[attr] = fn(data[key])
            elif required:
                raise _GiveUp
            elif default is not _MISSING:
                out[attr] = default() if callable(default) else default
        if not known.issuperset(data):
            extra = [k for k in data if k not in known]
            if extra:
                if unknown == ma.RAISE:
                    raise _GiveUp
                if unknown == ma.INCLUDE:
                    for k in extra:
                        out[k] = data[k]
        # The schema's validators, on the loaded item as marshmallow passes it (there are no field
        # errors here, so none is skipped). A refusal, or anything else a validator raises, is
        # marshmallow's to report.
        for method, pass_original in validators:
            try:
                if pass_original:
                    method(out, data, partial=None, many=False, unknown=unknown)
                else:
                    method(out, partial=None, many=False, unknown=unknown)
            except Exception:
                raise _GiveUp from None
        return out
    return load


class _Unsupported(Exception):
    pass


def loader(schema_cls: type[ma.Schema]) -> Callable[[dict], dict]:
    """``load(data) -> dict`` for ``schema_cls``: the fast path, marshmallow whenever it gives up
    (raising marshmallow's ``ValidationError`` for bad data)."""
    schema = schema_cls()
    try:
        fast = _compile(schema)
    except _Unsupported:
        return schema.load

    def load(data):
        try:
            return fast(data)
        except _GiveUp:
            return schema.load(data)
    return load


__all__ = ["loader"]
