"""The numbers of the C state machine (native.PGConn) the Python driver passes or reads."""

# Hand-copied from src/_fraiseql (pgconn.h, py_pgconn.c): swap for the native.* exports.
WANT_READ, WANT_WRITE = 1, 2
STATE_CONNECTING, STATE_READY, STATE_BROKEN, STATE_CLOSED = range(4)
MODE_ROWS, MODE_ROW, MODE_VAL, MODE_STATUS, MODE_JSON, MODE_JSON_MANY, MODE_SCRIPT = range(7)
TRANS_IDLE = 0  # PQTRANS_IDLE
