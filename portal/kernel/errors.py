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
