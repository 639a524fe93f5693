"""The error a write refuses with on purpose: a code, a sentence for end users, the field.

Raised by the write side (generated commands, function-backed mutations, optimistic locking)
and by user code; a mutation whose result type has an error member answers it as that
member, any other mutation as a GraphQL error keeping `message` and `extensions.code`. The
transaction is rolled back either way.
"""

from __future__ import annotations

from typing import Any


class CommandError(Exception):
    """A refused write: `code` (UNIQUE_VIOLATION, CONFLICT, ...), `message` for end users,
    `field` the camelCase input field it concerns (or None), `details` extra values the
    error member may carry (for example `currentVersion`)."""

    def __init__(
        self, code: str, message: str, *, field: str | None = None, **details: Any
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = details

    @property
    def extensions(self) -> dict[str, Any]:
        """What a GraphQL error of it carries (graphql-core reads this attribute): `code`,
        `field` when set, and the details."""
        out: dict[str, Any] = {"code": self.code}
        if self.field is not None:
            out["field"] = self.field
        return out | self.details

    def __repr__(self) -> str:
        return f"CommandError({self.code!r}, {self.message!r}, field={self.field!r})"
