"""Stored documents handed on as read: the JSON text of a read model and the type it holds.

A field whose type is a union or interface (a typed mutation result, a search over several
read models) gets from the Repository a `Document`: the stored JSON text, keys as stored,
never decoded, and the GraphQL type of the read model it came from. The executor rewrites
it in C under the selection of that type (or of the type its discriminator names);
graphql-core's path decodes it into `StoredObject`s, which remember the type too.
"""

from __future__ import annotations

from typing import Any

from fraiseql.scalars import decode_document

__all__ = ["STORED", "Document", "StoredObject", "decode", "typename_of"]

STORED = object()
"""The selection of `fraiseql.current.Field` asking the Repository for `Document`s."""


class Document(bytes):
    """Stored JSON text (an object, an array of objects or null) and `typename`, the
    GraphQL type of the read model it was read from (None: its discriminator tells)."""

    typename: str | None

    def __new__(cls, raw: bytes, typename: str | None) -> Document:
        doc = super().__new__(cls, raw)
        doc.typename = typename
        return doc


class StoredObject(dict[str, Any]):
    """A decoded stored document that remembers the GraphQL type of its read model."""

    __slots__ = ("typename",)

    def __init__(self, values: dict[str, Any], typename: str | None) -> None:
        super().__init__(values)
        self.typename = typename


def decode(doc: Document) -> Any:
    """A Document as Python data for graphql-core: its objects as StoredObjects."""
    value = decode_document(bytes(doc))
    if doc.typename is None:
        return value
    if isinstance(value, list):
        return [StoredObject(v, doc.typename) if isinstance(v, dict) else v for v in value]
    return StoredObject(value, doc.typename) if isinstance(value, dict) else value


def typename_of(value: Any) -> str | None:
    """The read model's type a stored value remembers, if any."""
    return getattr(value, "typename", None) if isinstance(value, (Document, StoredObject)) else None
