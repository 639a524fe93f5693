"""`from fraiseql.repositories import Repository`, as the seed document writes it."""

from fraiseql.repository import FilterError, Repository, current_selection

__all__ = ["Repository", "FilterError", "current_selection"]
