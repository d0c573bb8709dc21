"""Loading event data fast, with marshmallow's answers.

``Schema().load`` costs tens of microseconds per event (field objects, error bookkeeping, hooks),
which at 500 events a request is most of the request. ``loader(Schema)`` compiles the schema once
into plain-Python checks of the canonical inputs (a ``str`` for a String, an ``int`` that is not a
``bool`` for an Integer, a dict for a Nested, a list for a List; other field types through their
own ``field.deserialize``; the fields' validators as declared). Whenever the fast path meets
anything else — a missing required field, a wrong type, a validator that refuses, an unknown key
the schema would refuse, a schema with hooks (``@validates``, ``@post_load`` …) — it gives up and
the schema's own ``load`` decides, so every error message and field path is marshmallow's and
valid data comes out the same either way (``tests/ingest/test_fastload.py`` checks both).
"""
from __future__ import annotations

from collections.abc import Callable

import marshmallow as ma
from marshmallow import fields

_MISSING = ma.missing


class _GiveUp(Exception):
    """The fast path cannot vouch for this input: let marshmallow load it."""


def _has_hooks(schema: ma.Schema) -> bool:
    return any(schema._hooks.values())


def _field_fn(field: fields.Field) -> Callable:
    """A function value -> loaded value for one field (raising _GiveUp)."""
    validators = list(field.validators)
    kind = type(field)
    if kind is fields.String:
        def base(value):
            if type(value) is not str:
                raise _GiveUp
            return value
    elif kind is fields.Integer:
        def base(value):
            if type(value) is not int:
                raise _GiveUp
            return value
    elif kind is fields.Boolean:
        def base(value):
            if value is not True and value is not False:
                raise _GiveUp
            return value
    elif kind is fields.Nested and not field.only and not field.exclude and isinstance(field.nested, type):
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
        def base(value, _field=field):
            try:
                return _field.deserialize(value)
            except ma.ValidationError:
                raise _GiveUp from None

    allow_none = field.allow_none
    if kind not in (fields.String, fields.Integer, fields.Boolean, fields.Nested, fields.List):
        return base                 # deserialize() ran the validators and the None rule itself

    def run(value):
        if value is None:
            if allow_none:
                return None
            raise _GiveUp
        value = base(value)
        for validate in validators:
            try:
                if validate(value) is False:
                    raise _GiveUp
            except ma.ValidationError:
                raise _GiveUp from None
        return value
    return run


def _compile(schema: ma.Schema, unknown: str | None = None) -> Callable[[dict], dict]:
    if _has_hooks(schema):
        raise _Unsupported
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
