"""What metrics and tracing learn of one GraphQL request while the HTTP app answers it."""

from __future__ import annotations

from typing import Any


class Observation:
    """The operation a request ran (once planned) and its response (once executed)."""

    __slots__ = ("operation", "name", "response")

    def __init__(self) -> None:
        self.operation: str | None = None  # query, mutation, subscription: once planned
        self.name: str | None = None
        self.response: Any = None  # the executor's Response

    def planned(self, operation: Any) -> None:
        """The plan selected `operation` (an OperationDefinitionNode, or None)."""
        if operation is not None:
            self.operation = operation.operation.value
            self.name = operation.name.value if operation.name else None

    def outcome(self, status: int) -> str:
        """ok, error (errors in the executed response, or a 5xx), rejected (refused before
        execution: request errors, 4xx); see fraiseql.metrics.OUTCOMES."""
        response = self.response
        if response is not None:
            if response.request_error:
                return "rejected"
            return "error" if response.has_errors else "ok"
        return "error" if status >= 500 else "rejected"
