/* Results of the libpq driver as Python values (py_pgresult.h): Records decoded by type
 * OID (py_pgtypes.c), a first value, the command status, or JSON bytes rewritten straight
 * from libpq's buffer. */
#include "py_pgresult.h"

#include <stdlib.h>
#include <string.h>

#include "page.h"

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

/* The document json[0..len) as bytes: rewritten through selection, or as it is (None). */
static PyObject *json_doc(fq_rewrite_state *rst, const char *json, size_t len, PyObject *selection)
{
    if (selection == Py_None)
        return PyBytes_FromStringAndSize(json, (Py_ssize_t)len);
    const fq_selection *sel = fq_py_selection_get(rst, selection);
    fq_py_docs docs = {.json = json, .len = len};
    return sel ? fq_py_rewrite_bytes(rst, sel, &docs, len + 64) : NULL;
}

/* The first row's JSON, rewritten through sel straight from libpq's buffer. */
static PyObject *json_one(fq_rewrite_state *rst, const PGresult *res, PyObject *selection)
{
    if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
        return PyBytes_FromStringAndSize("null", 4);
    return json_doc(rst, PQgetvalue(res, 0, 0), (size_t)PQgetlength(res, 0, 0), selection);
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

enum { PAGE_NODE, PAGE_POS, PAGE_OTHER, PAGE_TOTAL, PAGE_COUNT, PAGE_BACKWARD, PAGE_COLUMNS };

int fq_pgresult_misfit(const PGresult *res, int mode)
{
    int want = mode == MODE_PAGE ? PAGE_COLUMNS : 1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        return want;
    if (PQnfields(res) != want || (mode == MODE_PAGE && PQntuples(res) < 1))
        return want;
    return -1;
}

static void page_row(void *ctx, size_t i, fq_page_row *row)
{
    const PGresult *res = ctx;
    int r = (int)i;
    row->node = PQgetisnull(res, r, PAGE_NODE) ? NULL : PQgetvalue(res, r, PAGE_NODE);
    row->node_len = (size_t)PQgetlength(res, r, PAGE_NODE);
    row->pos = PQgetvalue(res, r, PAGE_POS); /* "" when null: only the empty page's row */
    row->pos_len = (size_t)PQgetlength(res, r, PAGE_POS);
}

static int is_true(const PGresult *res, int col)
{
    return !PQgetisnull(res, 0, col) && PQgetvalue(res, 0, col)[0] == 't';
}

/* The page document of a page statement's rows (every row repeats the page's other, total,
 * count and backward; an empty page is one row of them with a null position), rewritten
 * through sel, or as it is. */
static PyObject *json_page(fq_rewrite_state *rst, const PGresult *res, PyObject *selection)
{
    int n = PQntuples(res);
    fq_page page = {
        .row = page_row,
        .ctx = (void *)res,
        .n = PQgetisnull(res, 0, PAGE_POS) ? 0 : (size_t)n,
        .count = (size_t)strtoull(PQgetvalue(res, 0, PAGE_COUNT), NULL, 10),
        .backward = is_true(res, PAGE_BACKWARD),
        .other = is_true(res, PAGE_OTHER),
        .total = PQgetisnull(res, 0, PAGE_TOTAL) ? NULL : PQgetvalue(res, 0, PAGE_TOTAL),
        .total_len = (size_t)PQgetlength(res, 0, PAGE_TOTAL),
    };
    fq_buf doc;
    fq_buf_init(&doc);
    if (fq_page_write(&doc, &page) < 0)
        return PyErr_NoMemory();
    PyObject *out = json_doc(rst, doc.data, doc.len, selection);
    fq_buf_free(&doc);
    return out;
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
    case MODE_PAGE:
        return json_page(rst, res, selection);
    default: {
        const char *status = PQcmdStatus((PGresult *)res);
        return PyUnicode_FromString(status ? status : "");
    }
    }
}
