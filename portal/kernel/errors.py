"""The error a service raises when a request breaks a rule of the domain.

Views turn it into a message next to the field it names (forms), a flash (actions) or the API's
error shape; it never reaches the user as a 500.
"""
from __future__ import annotations


class RuleError(ValueError):
    """A request that breaks a rule of the domain; ``field`` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class Conflict(RuleError):
    """A write that lost a race: someone else changed the row between our read and our write.

    Raised when a conditional UPDATE matched nothing; nothing was written. The app answers it
    with 409 and its message (``portal.web``); a view that catches ``RuleError`` to flash it
    re-raises this one first, and a view that can show more (the template editor keeps the
    second editor's text in the form) catches it itself."""

    def __init__(self, message: str):
        super().__init__(message)
