"""The one exception a refused change raises, in every part of the domain.

`RuleError(message, field=None)`: `str(error)` is the Indonesian message a person reads, and
`field` names the form input it belongs to (or None for the form as a whole), so a view maps an
error to its input without reading the message.
"""
from __future__ import annotations


class RuleError(Exception):
    """A change the rules refuse, with the Indonesian message and the field it concerns."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field

    @property
    def message(self) -> str:
        return str(self)
