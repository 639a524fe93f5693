/* PGConn: the Python face of the libpq state machine (pgconn.c).
 *
 * fraiseql/db/connection.py owns the waiting: it registers the socket with the event loop
 * and calls step() when it is ready. Each send() takes an asyncio Future; step() resolves the
 * futures of completed requests in send order with rows, a value, a status string or
 * JSON bytes, or with an exception built by the error factory connection.py gave us (the
 * exception classes live in Python, fraiseql/errors.py). */
#include "module.h"
#include "pgconn.h"
#include "py_pgparams.h"
#include "py_pgresult.h"
#include "ring.h"

#include <string.h>

/* A sent request waiting for its result. */
typedef struct pending {
    uint64_t seq;
    PyObject *fut;
    PyObject *selection; /* fraiseql.Selection for the JSON modes, else None */
    int mode;
} pending;

typedef struct {
    PyObject_HEAD
    fq_pgconn *c;
    PyObject *error_factory;  /* (kind, sqlstate, message, detail, hint, fields) -> exception */
    PyObject *adapter;        /* value -> str | None, for parameter types C does not know */
    PyObject *notify_handler; /* (channel, pid, payload) -> None for LISTEN, or NULL */
    fq_ring pending;          /* of pending, in send order like the core's requests */
} PGConn;

static fq_pgconn_state *conn_state(PGConn *self)
{
    fq_module_state *ms = PyType_GetModuleState(Py_TYPE(self));
    return &ms->pgconn;
}

static fq_rewrite_state *rewrite_state(PGConn *self)
{
    fq_module_state *ms = PyType_GetModuleState(Py_TYPE(self));
    return &ms->rewrite;
}

/* ============================================================================
 * Errors
 * ========================================================================== */

static PyObject *make_error(PyObject *factory, const char *kind, const char *sqlstate,
                            const char *msg, const char *detail, const char *hint, PyObject *fields)
{
    return PyObject_CallFunction(factory, "szszzO", kind, sqlstate, msg, detail, hint,
                                 fields ? fields : Py_None);
}

PyObject *fq_pg_raise(PyObject *error_factory, const char *kind, const char *msg)
{
    PyObject *exc = make_error(error_factory, kind, NULL, msg, NULL, NULL, NULL);
    if (exc != NULL) {
        PyErr_SetObject((PyObject *)Py_TYPE(exc), exc);
        Py_DECREF(exc);
    }
    return NULL;
}

static PyObject *server_error(PGConn *self, const PGresult *res)
{
    static const struct {
        char code;
        const char *name;
    } extra[] = {
        {PG_DIAG_SCHEMA_NAME, "schema_name"},
        {PG_DIAG_TABLE_NAME, "table_name"},
        {PG_DIAG_COLUMN_NAME, "column_name"},
        {PG_DIAG_DATATYPE_NAME, "datatype_name"},
        {PG_DIAG_CONSTRAINT_NAME, "constraint_name"},
        {PG_DIAG_STATEMENT_POSITION, "position"},
        {PG_DIAG_CONTEXT, "context"},
        {PG_DIAG_SEVERITY_NONLOCALIZED, "severity"},
    };
    PyObject *fields = PyDict_New();
    if (fields == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
        const char *v = PQresultErrorField(res, extra[i].code);
        if (v == NULL)
            continue;
        PyObject *s = PyUnicode_DecodeUTF8(v, (Py_ssize_t)strlen(v), "replace");
        if (s == NULL || PyDict_SetItemString(fields, extra[i].name, s) < 0) {
            Py_XDECREF(s);
            Py_DECREF(fields);
            return NULL;
        }
        Py_DECREF(s);
    }
    const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    PyObject *exc = make_error(
        self->error_factory, "server", PQresultErrorField(res, PG_DIAG_SQLSTATE),
        msg ? msg : PQresultErrorMessage(res), PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL),
        PQresultErrorField(res, PG_DIAG_MESSAGE_HINT), fields);
    Py_DECREF(fields);
    return exc;
}

/* The value a completed request resolves to; NULL with an exception set if decoding failed. */
static PyObject *convert(PGConn *self, const pending *pd, const PGresult *res)
{
    int want = fq_mode_is_json(pd->mode) ? fq_pgresult_misfit(res, pd->mode) : -1;
    if (want >= 0) {
        char msg[160];
        int got = PQresultStatus(res) == PGRES_TUPLES_OK ? PQnfields(res) : 0;
        if (pd->mode == MODE_PAGE)
            snprintf(msg, sizeof(msg),
                     "fetch_json(page=True) needs a connection page's statement: exactly %d "
                     "columns in at least one row, got %d columns",
                     want, got);
        else
            snprintf(msg, sizeof(msg),
                     "fetch_json needs a query returning exactly one (JSON) column, got %d", got);
        return fq_pg_raise(self->error_factory, "interface", msg);
    }
    return fq_pgresult_value(conn_state(self), rewrite_state(self), pd->mode, pd->selection, res);
}

/* ============================================================================
 * Pending futures
 * ========================================================================== */

static int pending_push(PGConn *self, uint64_t seq, PyObject *fut, PyObject *sel, int mode)
{
    pending *pd = fq_ring_push(&self->pending);
    if (pd == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    pd->seq = seq;
    pd->fut = Py_NewRef(fut);
    pd->selection = Py_NewRef(sel);
    pd->mode = mode;
    return 0;
}

/* Pops the oldest pending request (the caller owns its references). */
static pending pending_pop(PGConn *self)
{
    pending pd = *(pending *)fq_ring_at(&self->pending, 0);
    fq_ring_pop(&self->pending);
    return pd;
}

/* Resolves fut with value or exc (one of them NULL); a cancelled future is left alone. */
static int settle(PGConn *self, PyObject *fut, PyObject *value, PyObject *exc)
{
    fq_pgconn_state *st = conn_state(self);
    PyObject *done = PyObject_CallMethodNoArgs(fut, st->str_done);
    if (done == NULL)
        return -1;
    int is_done = PyObject_IsTrue(done);
    Py_DECREF(done);
    if (is_done != 0)
        return is_done < 0 ? -1 : 0;
    PyObject *r = value ? PyObject_CallMethodOneArg(fut, st->str_set_result, value)
                        : PyObject_CallMethodOneArg(fut, st->str_set_exception, exc);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* A value the decoder rejects (a date beyond year 9999, ...) is a DataError, caused by the
 * decoder's ValueError; the rewriter's own exceptions (JSON modes) pass unchanged. Steals exc. */
static PyObject *as_data_error(PGConn *self, const pending *pd, PyObject *exc)
{
    if (exc == NULL || fq_mode_is_json(pd->mode) ||
        !PyErr_GivenExceptionMatches(exc, PyExc_ValueError))
        return exc;
    PyObject *msg = PyObject_Str(exc);
    const char *text = msg ? PyUnicode_AsUTF8(msg) : NULL;
    PyObject *data_error =
        text ? make_error(self->error_factory, "data", NULL, text, NULL, NULL, NULL) : NULL;
    Py_XDECREF(msg);
    if (data_error == NULL) {
        PyErr_Clear();
        return exc;
    }
    PyException_SetCause(data_error, exc);
    return data_error;
}

/* The exception being raised, normalized and cleared (NULL when there is none). */
static PyObject *pending_exception(void)
{
    PyObject *type, *val, *tb;
    PyErr_Fetch(&type, &val, &tb);
    PyErr_NormalizeException(&type, &val, &tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return val;
}

/* Pops every completed request from the core and settles its future; -1 (the first error
 * set) when some future could not be settled, after settling all the others. */
static int resolve_done(PGConn *self)
{
    uint64_t seq;
    PGresult *res;
    PyObject *err_type = NULL, *err_value = NULL, *err_tb = NULL;
    int rc = 0;
    while (fq_pgconn_pop(self->c, &seq, &res)) {
        if (self->pending.count == 0 || ((pending *)fq_ring_at(&self->pending, 0))->seq != seq) {
            PQclear(res); /* cannot happen: both queues are in send order */
            continue;
        }
        pending pd = pending_pop(self);
        PyObject *value = NULL, *exc = NULL;
        if (res == NULL)
            exc = make_error(self->error_factory, "connection", NULL, fq_pgconn_error(self->c),
                             NULL, NULL, NULL);
        else if (PQresultStatus(res) == PGRES_FATAL_ERROR)
            exc = server_error(self, res);
        else if ((value = convert(self, &pd, res)) == NULL)
            /* a decoding failure belongs to this request, not to the caller of step() */
            exc = as_data_error(self, &pd, pending_exception());
        PQclear(res);
        if (value == NULL && exc == NULL) /* building its error failed: that is its error */
            exc = pending_exception();
        /* A future left unsettled would wait forever: on failure, settle the others first. */
        if ((exc == NULL && value == NULL) || settle(self, pd.fut, value, exc) < 0) {
            if (rc == 0)
                PyErr_Fetch(&err_type, &err_value, &err_tb);
            else
                PyErr_Clear();
            rc = -1;
        }
        Py_XDECREF(value);
        Py_XDECREF(exc);
        Py_DECREF(pd.fut);
        Py_DECREF(pd.selection);
    }
    if (rc < 0 && err_type == NULL)
        PyErr_SetString(PyExc_SystemError, "a request's future could not be settled");
    else if (rc < 0)
        PyErr_Restore(err_type, err_value, err_tb);
    return rc;
}

/* ============================================================================
 * PGConn methods
 * ========================================================================== */

static PyObject *PGConn_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
    PyObject *keys, *values, *factory, *adapter;
    Py_ssize_t max_statements = 256;
    static char *kwlist[] = {"keys", "values", "error_factory", "adapter", "max_statements", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!OO|n:PGConn", kwlist, &PyTuple_Type, &keys,
                                     &PyTuple_Type, &values, &factory, &adapter, &max_statements))
        return NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(keys);
    if (PyTuple_GET_SIZE(values) != n || max_statements < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "keys and values must have the same length; max_statements >= 0");
        return NULL;
    }
    const char **ck = PyMem_Calloc((size_t)n + 1, sizeof(char *));
    const char **cv = PyMem_Calloc((size_t)n + 1, sizeof(char *));
    PGConn *self = NULL;
    if (ck == NULL || cv == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        ck[i] = PyUnicode_AsUTF8(PyTuple_GET_ITEM(keys, i));
        cv[i] = PyUnicode_AsUTF8(PyTuple_GET_ITEM(values, i));
        if (ck[i] == NULL || cv[i] == NULL)
            goto error;
    }
    self = (PGConn *)tp->tp_alloc(tp, 0);
    if (self == NULL)
        goto error;
    fq_ring_init(&self->pending, sizeof(pending));
    self->error_factory = Py_NewRef(factory);
    self->adapter = Py_NewRef(adapter);
    self->c = fq_pgconn_start(ck, cv, (size_t)max_statements);
    if (self->c == NULL) {
        PyErr_NoMemory();
        Py_CLEAR(self);
    }
error:
    PyMem_Free(ck);
    PyMem_Free(cv);
    return (PyObject *)self;
}

static int PGConn_traverse(PGConn *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->error_factory);
    Py_VISIT(self->adapter);
    Py_VISIT(self->notify_handler);
    for (size_t i = 0; i < self->pending.count; i++) {
        pending *pd = fq_ring_at(&self->pending, i);
        Py_VISIT(pd->fut);
        Py_VISIT(pd->selection);
    }
    return 0;
}

static void drop_pending(PGConn *self)
{
    while (self->pending.count > 0) {
        pending pd = pending_pop(self);
        Py_DECREF(pd.fut);
        Py_DECREF(pd.selection);
    }
}

static int PGConn_clear(PGConn *self)
{
    Py_CLEAR(self->error_factory);
    Py_CLEAR(self->adapter);
    Py_CLEAR(self->notify_handler);
    drop_pending(self);
    return 0;
}

static void PGConn_dealloc(PGConn *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    fq_pgconn_free(self->c);
    PGConn_clear(self);
    fq_ring_free(&self->pending);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *PGConn_connect_poll(PGConn *self, PyObject *unused)
{
    return PyLong_FromLong(fq_pgconn_connect_poll(self->c));
}

static PyObject *PGConn_fileno(PGConn *self, PyObject *unused)
{
    return PyLong_FromLong(fq_pgconn_socket(self->c));
}

/* send(fut, mode, sql, args, prefix_sql, prefix_args, suffix_sql, selection) -> want
 * One request, one sync: the optional prefix (settings) and parameterless suffix (their
 * restore) run around the query in its transaction; only the query's rows answer. */
static PyObject *PGConn_send(PGConn *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 8) {
        PyErr_SetString(
            PyExc_TypeError,
            "send(fut, mode, sql, args, prefix_sql, prefix_args, suffix_sql, selection)");
        return NULL;
    }
    PyObject *fut = args[0], *sql = args[2], *qargs = args[3], *psql = args[4], *pargs = args[5];
    PyObject *ssql = args[6], *sel = args[7];
    long mode = PyLong_AsLong(args[1]);
    if (mode == -1 && PyErr_Occurred())
        return NULL;
    if (mode < 0 || mode >= MODE_COUNT) {
        PyErr_Format(PyExc_ValueError, "unknown result mode %ld", mode);
        return NULL;
    }
    if (sel != Py_None &&
        (!fq_mode_is_json(mode) || fq_py_selection_get(rewrite_state(self), sel) == NULL)) {
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_TypeError, "a selection applies to fetch_json only");
        return NULL;
    }
    fq_pgparams p;
    PyObject *result = NULL, *no_args = NULL;
    if (fq_pgparams_init(&p, self->adapter, self->error_factory) < 0)
        return NULL;
    if (psql != Py_None && fq_pgparams_add(&p, psql, pargs, 1) < 0)
        goto error;
    if (fq_pgparams_add(&p, sql, qargs, 0) < 0)
        goto error;
    if (ssql != Py_None &&
        ((no_args = PyTuple_New(0)) == NULL || fq_pgparams_add(&p, ssql, no_args, 1) < 0))
        goto error;
    int simple = mode == MODE_SCRIPT;
    if (simple && (p.nq != 1 || p.q[0].nparams != 0)) {
        PyErr_SetString(PyExc_ValueError, "a script takes no parameters and no session settings");
        goto error;
    }
    uint64_t seq;
    if (fq_pgconn_send(self->c, p.q, p.nq, simple, &seq) < 0) {
        const char *kind = fq_pgconn_status(self->c) == FQ_PG_READY ? "interface" : "connection";
        fq_pg_raise(self->error_factory, kind, fq_pgconn_error(self->c));
        goto error;
    }
    if (pending_push(self, seq, fut, sel, (int)mode) < 0) {
        /* the request is on the wire: without its future the queues would disagree; the
         * requests before it fail now rather than wait for a step that never comes */
        fq_pgconn_close(self->c);
        PyObject *type, *val, *tb;
        PyErr_Fetch(&type, &val, &tb);
        if (resolve_done(self) < 0)
            PyErr_Clear();
        PyErr_Restore(type, val, tb);
        goto error;
    }
    result = PyLong_FromLong(fq_pgconn_want(self->c));
error:
    Py_XDECREF(no_args);
    fq_pgparams_free(&p);
    return result;
}

/* Hands LISTEN notifications to the handler; a failing handler is reported, never raised
 * into the event loop's reader callback. Without a handler they are dropped (freed). */
static void dispatch_notifies(PGConn *self)
{
    PGconn *pg = fq_pgconn_pg(self->c);
    PGnotify *n;
    while (pg != NULL && (n = PQnotifies(pg)) != NULL) {
        if (self->notify_handler != NULL) {
            PyObject *r =
                PyObject_CallFunction(self->notify_handler, "siz", n->relname, n->be_pid, n->extra);
            if (r == NULL)
                PyErr_WriteUnraisable(self->notify_handler);
            Py_XDECREF(r);
        }
        PQfreemem(n);
    }
}

static PyObject *PGConn_step(PGConn *self, PyObject *unused)
{
    fq_want want = fq_pgconn_step(self->c);
    dispatch_notifies(self);
    if (resolve_done(self) < 0)
        return NULL;
    return PyLong_FromLong(want);
}

/* Blocking PQcancel with the GIL released: call it from a worker thread. */
static PyObject *PGConn_cancel(PGConn *self, PyObject *unused)
{
    PGconn *pg = fq_pgconn_pg(self->c);
    if (pg == NULL || fq_pgconn_status(self->c) != FQ_PG_READY)
        Py_RETURN_FALSE;
    PGcancel *cancel = PQgetCancel(pg); /* independent copy: survives a concurrent close */
    if (cancel == NULL)
        Py_RETURN_FALSE;
    char err[256];
    int ok;
    Py_BEGIN_ALLOW_THREADS
    ok = PQcancel(cancel, err, sizeof(err));
    Py_END_ALLOW_THREADS
    PQfreeCancel(cancel);
    return PyBool_FromLong(ok);
}

/* position(fut) -> int: 0 when the server runs fut's request now (a cancel would reach
 * it), > 0 while others run before it, -1 when it is no longer in flight. */
static PyObject *PGConn_position(PGConn *self, PyObject *fut)
{
    for (size_t i = 0; i < self->pending.count; i++) {
        const pending *pd = fq_ring_at(&self->pending, i);
        if (pd->fut != fut)
            continue;
        /* at the head, yet behind one of our DEALLOCATEs: not running yet */
        return PyLong_FromSize_t(i > 0 || fq_pgconn_running(self->c) != pd->seq ? i + 1 : 0);
    }
    return PyLong_FromLong(-1);
}

/* Closes the connection; requests still in flight fail with a connection error. */
static PyObject *PGConn_close(PGConn *self, PyObject *unused)
{
    fq_pgconn_close(self->c);
    if (resolve_done(self) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *PGConn_get_state(PGConn *self, void *c)
{
    return PyLong_FromLong(fq_pgconn_status(self->c));
}

static PyObject *PGConn_get_error(PGConn *self, void *c)
{
    const char *e = fq_pgconn_error(self->c);
    return PyUnicode_DecodeUTF8(e, (Py_ssize_t)strlen(e), "replace");
}

static PyObject *PGConn_get_inflight(PGConn *self, void *c)
{
    return PyLong_FromSize_t(self->pending.count);
}

static PyObject *PGConn_get_statements(PGConn *self, void *c)
{
    return PyLong_FromSize_t(fq_pgconn_statements(self->c));
}

static PyObject *PGConn_get_misrouted(PGConn *self, void *c)
{
    return PyBool_FromLong(fq_pgconn_misrouted(self->c));
}

static PyObject *PGConn_get_transaction_status(PGConn *self, void *c)
{
    PGconn *pg = fq_pgconn_pg(self->c);
    return PyLong_FromLong(pg ? PQtransactionStatus(pg) : PQTRANS_UNKNOWN);
}

static PyObject *PGConn_get_backend_pid(PGConn *self, void *c)
{
    PGconn *pg = fq_pgconn_pg(self->c);
    return PyLong_FromLong(pg ? PQbackendPID(pg) : 0);
}

static PyObject *PGConn_get_server_version(PGConn *self, void *c)
{
    PGconn *pg = fq_pgconn_pg(self->c);
    return PyLong_FromLong(pg ? PQserverVersion(pg) : 0);
}

static PyObject *pg_string(const char *s)
{
    if (s == NULL)
        Py_RETURN_NONE;
    return PyUnicode_DecodeUTF8(s, (Py_ssize_t)strlen(s), "replace");
}

static PyObject *PGConn_get_host(PGConn *self, void *c)
{
    PGconn *pg = fq_pgconn_pg(self->c);
    return pg_string(pg ? PQhost(pg) : NULL);
}

static PyObject *PGConn_get_port(PGConn *self, void *c)
{
    PGconn *pg = fq_pgconn_pg(self->c);
    return pg_string(pg ? PQport(pg) : NULL);
}

static PyMethodDef PGConn_methods[] = {
    {"connect_poll", (PyCFunction)PGConn_connect_poll, METH_NOARGS,
     "Advance the handshake: 0 once ready or failed, else WANT_READ / WANT_WRITE."},
    {"fileno", (PyCFunction)PGConn_fileno, METH_NOARGS,
     "The socket (may change while connecting)."},
    {"send", (PyCFunction)(void (*)(void))PGConn_send, METH_FASTCALL,
     "send(fut, mode, sql, args, prefix_sql, prefix_args, suffix_sql, selection) -> want"},
    {"step", (PyCFunction)PGConn_step, METH_NOARGS,
     "Read, flush, settle the futures of completed requests; returns want."},
    {"cancel", (PyCFunction)PGConn_cancel, METH_NOARGS,
     "Ask the server to cancel the running query (blocking: call from a thread)."},
    {"position", (PyCFunction)PGConn_position, METH_O,
     "position(fut): 0 if the server runs its request now, > 0 if queued, -1 if done."},
    {"close", (PyCFunction)PGConn_close, METH_NOARGS, "Close; pending requests fail."},
    {NULL, NULL, 0, NULL},
};

static PyObject *PGConn_get_notify_handler(PGConn *self, void *c)
{
    return Py_NewRef(self->notify_handler ? self->notify_handler : Py_None);
}

static int PGConn_set_notify_handler(PGConn *self, PyObject *value, void *c)
{
    if (value != NULL && value != Py_None && !PyCallable_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "notify_handler must be callable or None");
        return -1;
    }
    Py_XSETREF(self->notify_handler, value == Py_None ? NULL : Py_XNewRef(value));
    return 0;
}

static PyGetSetDef PGConn_getset[] = {
    {"notify_handler", (getter)PGConn_get_notify_handler, (setter)PGConn_set_notify_handler,
     "Called as handler(channel, pid, payload) for each LISTEN notification.", NULL},
    {"state", (getter)PGConn_get_state, NULL,
     "STATE_CONNECTING, STATE_READY, STATE_BROKEN or STATE_CLOSED", NULL},
    {"error", (getter)PGConn_get_error, NULL, "Why the connection failed or broke.", NULL},
    {"inflight", (getter)PGConn_get_inflight, NULL, "Requests sent and not yet settled.", NULL},
    {"statements", (getter)PGConn_get_statements, NULL, "Prepared statements cached.", NULL},
    {"misrouted", (getter)PGConn_get_misrouted, NULL,
     "True once a statement prepared here was missing on the server (a transaction pooler).", NULL},
    {"transaction_status", (getter)PGConn_get_transaction_status, NULL, "PQtransactionStatus",
     NULL},
    {"backend_pid", (getter)PGConn_get_backend_pid, NULL, "Server process id.", NULL},
    {"server_version", (getter)PGConn_get_server_version, NULL, "e.g. 150004", NULL},
    {"host", (getter)PGConn_get_host, NULL, "Host connected to (or tried).", NULL},
    {"port", (getter)PGConn_get_port, NULL, "Port connected to (or tried).", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyType_Slot PGConn_slots[] = {
    {Py_tp_doc, "Low-level nonblocking libpq connection; use fraiseql.db.Connection."},
    {Py_tp_new, PGConn_new},
    {Py_tp_dealloc, PGConn_dealloc},
    {Py_tp_traverse, PGConn_traverse},
    {Py_tp_clear, PGConn_clear},
    {Py_tp_methods, PGConn_methods},
    {Py_tp_getset, PGConn_getset},
    {0, NULL},
};

static PyType_Spec PGConn_spec = {
    .name = "fraiseql._fraiseql.PGConn",
    .basicsize = sizeof(PGConn),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = PGConn_slots,
};

/* ============================================================================
 * Module wiring
 * ========================================================================== */

static PyObject *import_attr(const char *module, const char *attr)
{
    PyObject *m = PyImport_ImportModule(module);
    if (m == NULL)
        return NULL;
    PyObject *a = PyObject_GetAttrString(m, attr);
    Py_DECREF(m);
    return a;
}

/* The state machine's constants, defined here only; fraiseql/db/constants.py reads them. */
static int add_constants(PyObject *module)
{
    static const struct {
        const char *name;
        long value;
    } constants[] = {
        {"WANT_READ", FQ_WANT_READ},
        {"WANT_WRITE", FQ_WANT_WRITE},
        {"STATE_CONNECTING", FQ_PG_CONNECTING},
        {"STATE_READY", FQ_PG_READY},
        {"STATE_BROKEN", FQ_PG_BROKEN},
        {"STATE_CLOSED", FQ_PG_CLOSED},
        {"MODE_ROWS", MODE_ROWS},
        {"MODE_ROW", MODE_ROW},
        {"MODE_VAL", MODE_VAL},
        {"MODE_STATUS", MODE_STATUS},
        {"MODE_JSON", MODE_JSON},
        {"MODE_JSON_MANY", MODE_JSON_MANY},
        {"MODE_PAGE", MODE_PAGE},
        {"MODE_SCRIPT", MODE_SCRIPT},
        {"TRANS_IDLE", PQTRANS_IDLE},
        {"TRANS_ACTIVE", PQTRANS_ACTIVE},
        {"TRANS_INTRANS", PQTRANS_INTRANS},
        {"TRANS_INERROR", PQTRANS_INERROR},
        {"TRANS_UNKNOWN", PQTRANS_UNKNOWN},
    };
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
        if (PyModule_AddIntConstant(module, constants[i].name, constants[i].value) < 0)
            return -1;
    return 0;
}

int fq_py_pgconn_exec(PyObject *module, fq_pgconn_state *st)
{
    if (fq_pgtypes_init() < 0 || add_constants(module) < 0)
        return -1;
    st->PGConnType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &PGConn_spec, NULL);
    if (st->PGConnType == NULL || PyModule_AddType(module, st->PGConnType) < 0)
        return -1;
    st->RecordType = fq_record_type_create(module);
    if (st->RecordType == NULL || PyModule_AddType(module, st->RecordType) < 0)
        return -1;
    st->Decimal = import_attr("decimal", "Decimal");
    st->UUID = import_attr("uuid", "UUID");
    st->json_loads = import_attr("json", "loads");
    st->str_set_result = PyUnicode_InternFromString("set_result");
    st->str_set_exception = PyUnicode_InternFromString("set_exception");
    st->str_done = PyUnicode_InternFromString("done");
    if (!st->Decimal || !st->UUID || !st->json_loads || !st->str_set_result ||
        !st->str_set_exception || !st->str_done)
        return -1;
    return 0;
}

int fq_py_pgconn_traverse(fq_pgconn_state *st, visitproc visit, void *arg)
{
    Py_VISIT(st->PGConnType);
    Py_VISIT(st->RecordType);
    Py_VISIT(st->Decimal);
    Py_VISIT(st->UUID);
    Py_VISIT(st->json_loads);
    return 0;
}

void fq_py_pgconn_clear(fq_pgconn_state *st)
{
    Py_CLEAR(st->PGConnType);
    Py_CLEAR(st->RecordType);
    Py_CLEAR(st->Decimal);
    Py_CLEAR(st->UUID);
    Py_CLEAR(st->json_loads);
    Py_CLEAR(st->str_set_result);
    Py_CLEAR(st->str_set_exception);
    Py_CLEAR(st->str_done);
}
