"""asyncio driver over the C libpq state machine, and the connection pool.

    connection.py   Connection, connect(): one connection, the socket waiting, requests
    transaction.py  Transaction: BEGIN ... COMMIT, savepoints when nested
    pool.py         Pool, create_pool(), acquire() and transaction() on a pool
    context.py      ContextDB: a pool or connection bound to a request's context
    settings.py     settings applied at connect and per call, and their restore
    adapt.py        parameters as PostgreSQL text
    view_cache.py   ViewCache: the Repository's per-pool, per-connection cache of views
    constants.py    the C state machine's numbers (modes, states, socket wants), as C exports them

Pool and Transaction use a connection through its public API, its `progress_at` and the
section of Connection marked "for the pool and transactions" (open, request, drain, the
transaction depth and savepoint names, apply_context, reset), never its underscore fields.
"""

from fraiseql.db.connection import Connection, Record, connect
from fraiseql.db.context import ContextDB
from fraiseql.db.pool import Pool, create_pool
from fraiseql.db.transaction import Transaction

__all__ = ["Connection", "ContextDB", "Pool", "Record", "Transaction", "connect", "create_pool"]
