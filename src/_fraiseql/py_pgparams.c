/* Parameters of the libpq driver (py_pgparams.h): None, str, bool, int and float here;
 * anything else through the adapter fraiseql/db/adapt.py gives PGConn. */
#include "py_pgparams.h"

#include <string.h>

#include "py_pgconn.h"

/* The text of parameter i (NULL: SQL NULL) in *text, borrowed from p->keep or static. */
static int param_text(fq_pgparams *p, PyObject *v, Py_ssize_t i, const char **text)
{
    PyObject *s;
    *text = NULL;
    if (v == Py_None)
        return 0;
    if (PyUnicode_CheckExact(v)) {
        s = Py_NewRef(v);
    } else if (PyBool_Check(v)) {
        *text = v == Py_True ? "t" : "f";
        return 0;
    } else if (PyLong_CheckExact(v)) {
        s = PyObject_Str(v);
    } else if (PyFloat_CheckExact(v)) {
        double d = PyFloat_AS_DOUBLE(v);
        if (Py_IS_NAN(d) || Py_IS_INFINITY(d)) {
            *text = Py_IS_NAN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity";
            return 0;
        }
        s = PyObject_Repr(v);
    } else {
        s = PyObject_CallOneArg(p->adapter, v);
        if (s == Py_None) {
            Py_DECREF(s);
            return 0;
        }
        if (s != NULL && !PyUnicode_Check(s)) {
            PyErr_Format(PyExc_TypeError, "parameter adapter returned %.100s, expected str",
                         Py_TYPE(s)->tp_name);
            Py_CLEAR(s);
        }
    }
    if (s == NULL || PyList_Append(p->keep, s) < 0) {
        Py_XDECREF(s);
        return -1;
    }
    Py_DECREF(s);
    Py_ssize_t len;
    if ((*text = PyUnicode_AsUTF8AndSize(s, &len)) == NULL)
        return -1;
    if ((size_t)len != strlen(*text)) {
        char msg[96];
        snprintf(msg, sizeof(msg), "parameter $%zd contains a NUL character", i + 1);
        fq_pg_raise(p->error_factory, "data", msg);
        return -1;
    }
    return 0;
}

int fq_pgparams_init(fq_pgparams *p, PyObject *adapter, PyObject *error_factory)
{
    p->nq = 0;
    p->adapter = adapter;
    p->error_factory = error_factory;
    memset(p->heap, 0, sizeof(p->heap));
    p->keep = PyList_New(0);
    return p->keep ? 0 : -1;
}

int fq_pgparams_add(fq_pgparams *p, PyObject *sql, PyObject *args, int quiet)
{
    if (p->nq == FQ_MAX_QUERIES) {
        PyErr_SetString(PyExc_ValueError, "too many statements in one request");
        return -1;
    }
    fq_query *q = &p->q[p->nq];
    if (!PyUnicode_Check(sql) || !PyTuple_Check(args)) {
        PyErr_SetString(PyExc_TypeError, "sql must be str and args a tuple");
        return -1;
    }
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (n > 65535) {
        fq_pg_raise(p->error_factory, "interface", "more than 65535 query parameters");
        return -1;
    }
    Py_ssize_t len;
    q->sql = PyUnicode_AsUTF8AndSize(sql, &len);
    if (q->sql == NULL)
        return -1;
    if ((size_t)len != strlen(q->sql)) {
        fq_pg_raise(p->error_factory, "interface", "the SQL text contains a NUL character");
        return -1;
    }
    const char **values = p->stack[p->nq];
    if (n > FQ_STACK_PARAMS) {
        values = p->heap[p->nq] = PyMem_Malloc((size_t)n * sizeof(char *));
        if (values == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (param_text(p, PyTuple_GET_ITEM(args, i), i, &values[i]) < 0)
            return -1;
    q->nparams = (int)n;
    q->values = values;
    q->quiet = quiet;
    p->nq++;
    return 0;
}

void fq_pgparams_free(fq_pgparams *p)
{
    Py_CLEAR(p->keep);
    for (int i = 0; i < FQ_MAX_QUERIES; i++)
        PyMem_Free(p->heap[i]);
}
