/* Results of the libpq driver as Python values (py_pgresult.h): Records decoded by type
 * OID (py_pgtypes.c), a first value, the command status, or JSON bytes rewritten straight
 * from libpq's buffer. */
#include "py_pgresult.h"

#include <string.h>

static PyObject *column_keys(const PGresult *res)
{
    PyObject *keys = PyDict_New();
    for (int j = 0; keys != NULL && j < PQnfields(res); j++) {
        const char *name = PQfname(res, j);
        PyObject *k = PyUnicode_DecodeUTF8(name, (Py_ssize_t)strlen(name), "replace");
        PyObject *v = PyLong_FromLong(j);
        int rc = (k && v) ? PyDict_SetDefault(keys, k, v) != NULL : 0;
        Py_XDECREF(k);
        Py_XDECREF(v);
        if (!rc)
            Py_CLEAR(keys);
    }
    return keys;
}

static PyObject *decode_cell(fq_pgconn_state *st, const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return Py_NewRef(Py_None);
    return fq_pg_decode(st, PQftype(res, col), PQgetvalue(res, row, col),
                        (size_t)PQgetlength(res, row, col));
}

static PyObject *make_record(fq_pgconn_state *st, const PGresult *res, int row, PyObject *keys)
{
    int n = PQnfields(res);
    PyObject *values = PyTuple_New(n);
    if (values == NULL)
        return NULL;
    for (int j = 0; j < n; j++) {
        PyObject *v = decode_cell(st, res, row, j);
        if (v == NULL) {
            Py_DECREF(values);
            return NULL;
        }
        PyTuple_SET_ITEM(values, j, v);
    }
    PyObject *rec = fq_record_new(st->RecordType, values, keys);
    Py_DECREF(values);
    return rec;
}

static PyObject *result_rows(fq_pgconn_state *st, const PGresult *res, int limit)
{
    int n = PQntuples(res);
    if (limit >= 0 && n > limit)
        n = limit;
    PyObject *keys = column_keys(res);
    if (keys == NULL)
        return NULL;
    PyObject *rows = PyList_New(n);
    for (int i = 0; rows != NULL && i < n; i++) {
        PyObject *rec = make_record(st, res, i, keys);
        if (rec == NULL)
            Py_CLEAR(rows);
        else
            PyList_SET_ITEM(rows, i, rec);
    }
    Py_DECREF(keys);
    return rows;
}

/* The first row's JSON, rewritten through sel straight from libpq's buffer. */
static PyObject *json_one(fq_rewrite_state *rst, const PGresult *res, PyObject *selection)
{
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        return PyBytes_FromStringAndSize("null", 4);
    const char *json = PQgetvalue(res, 0, 0);
    size_t len = (size_t)PQgetlength(res, 0, 0);
    if (selection == Py_None)
        return PyBytes_FromStringAndSize(json, (Py_ssize_t)len);
    const fq_selection *sel = fq_py_selection_get(rst, selection);
    fq_py_docs docs = {.json = json, .len = len};
    return sel ? fq_py_rewrite_bytes(rst, sel, &docs, len + 64) : NULL;
}

static void row_doc(void *ctx, size_t i, const char **json, size_t *len)
{
    const PGresult *res = ctx;
    if (PQgetisnull(res, (int)i, 0)) {
        *json = NULL;
        *len = 0;
    } else {
        *json = PQgetvalue(res, (int)i, 0);
        *len = (size_t)PQgetlength(res, (int)i, 0);
    }
}

/* One array of every row's JSON: rewritten through sel, or copied once into the bytes. */
static PyObject *json_many(fq_rewrite_state *rst, const PGresult *res, PyObject *selection)
{
    int n = PQntuples(res);
    size_t total = 2 + (n > 0 ? (size_t)n - 1 : 0);
    for (int i = 0; i < n; i++)
        total += PQgetisnull(res, i, 0) ? 4 : (size_t)PQgetlength(res, i, 0);
    if (selection != Py_None) {
        const fq_selection *sel = fq_py_selection_get(rst, selection);
        fq_py_docs docs = {.doc = row_doc, .ctx = (void *)res, .n = (size_t)n};
        return sel ? fq_py_rewrite_bytes(rst, sel, &docs, total + 64) : NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)total);
    if (out == NULL)
        return NULL;
    char *p = PyBytes_AS_STRING(out);
    *p++ = '[';
    for (int i = 0; i < n; i++) {
        if (i > 0)
            *p++ = ',';
        if (PQgetisnull(res, i, 0)) {
            memcpy(p, "null", 4);
            p += 4;
        } else {
            size_t len = (size_t)PQgetlength(res, i, 0);
            memcpy(p, PQgetvalue(res, i, 0), len);
            p += len;
        }
    }
    *p = ']';
    return out;
}

int fq_pgresult_is_json(const PGresult *res)
{
    return PQresultStatus(res) == PGRES_TUPLES_OK && PQnfields(res) == 1;
}

PyObject *fq_pgresult_value(fq_pgconn_state *st, fq_rewrite_state *rst, int mode,
                            PyObject *selection, const PGresult *res)
{
    switch (mode) {
    case MODE_ROWS:
        return result_rows(st, res, -1);
    case MODE_ROW:
    case MODE_VAL:
        if (PQntuples(res) == 0 || PQnfields(res) == 0)
            return Py_NewRef(Py_None);
        if (mode == MODE_VAL)
            return decode_cell(st, res, 0, 0);
        {
            PyObject *keys = column_keys(res);
            if (keys == NULL)
                return NULL;
            PyObject *rec = make_record(st, res, 0, keys);
            Py_DECREF(keys);
            return rec;
        }
    case MODE_JSON:
        return json_one(rst, res, selection);
    case MODE_JSON_MANY:
        return json_many(rst, res, selection);
    default: {
        const char *status = PQcmdStatus((PGresult *)res);
        return PyUnicode_FromString(status ? status : "");
    }
    }
}
