"""Read models (qm_ tables, mv_ materialized views, tv_ views) declared once, generated as SQL.

from fraiseql.cqrs import ReadModel, Many, One, install
user = ReadModel("user", table="tb_user", fields=("id", "email"),
                 embed={"posts": Many("tb_post", fields=("id", "title"),
                                      order_by="created_at DESC", limit=10)},
                 forms=("tv", "mv", "qm"))
await install(conn, [user])      # or: fraiseql makemigrations / fraiseql migrate
"""

from fraiseql.cqrs.declare import DeclarationError, Many, One, ReadModel, Sql
from fraiseql.cqrs.live import enable_live
from fraiseql.cqrs.migrations import MigrationError, install, make_migration, migrate
from fraiseql.cqrs.refresh import Refresher, RefreshError, refresh
from fraiseql.cqrs.verify import Drift, verify

__all__ = [
    "DeclarationError",
    "Drift",
    "Many",
    "MigrationError",
    "One",
    "ReadModel",
    "RefreshError",
    "Refresher",
    "Sql",
    "enable_live",
    "install",
    "make_migration",
    "migrate",
    "refresh",
    "verify",
]
