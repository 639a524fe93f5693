"""The numbers of the C state machine (native.PGConn) the Python driver passes or reads.

Defined once, in C (pgconn.h, py_pgresult.h, libpq's PQTRANS_*), and exported by the module.
"""

from fraiseql._native import native

WANT_READ, WANT_WRITE = native.WANT_READ, native.WANT_WRITE
STATE_CONNECTING, STATE_READY = native.STATE_CONNECTING, native.STATE_READY
STATE_BROKEN, STATE_CLOSED = native.STATE_BROKEN, native.STATE_CLOSED
MODE_ROWS, MODE_ROW, MODE_VAL = native.MODE_ROWS, native.MODE_ROW, native.MODE_VAL
MODE_STATUS, MODE_SCRIPT = native.MODE_STATUS, native.MODE_SCRIPT
MODE_JSON, MODE_JSON_MANY, MODE_PAGE = native.MODE_JSON, native.MODE_JSON_MANY, native.MODE_PAGE
TRANS_IDLE, TRANS_INTRANS, TRANS_INERROR = (
    native.TRANS_IDLE,
    native.TRANS_INTRANS,
    native.TRANS_INERROR,
)


def json_mode(many: bool, page: bool) -> int:
    """fetch_json's mode: one document, every row's as an array, or a connection page's."""
    return MODE_PAGE if page else MODE_JSON_MANY if many else MODE_JSON
