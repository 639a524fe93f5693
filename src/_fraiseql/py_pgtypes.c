/* PostgreSQL text output -> Python values, chosen by the column's type OID.
 * The connection forces DateStyle=ISO and IntervalStyle=postgres, the formats parsed here. */
#include "py_pgconn.h"

#include <datetime.h>
#include <string.h>

#include "pgtext.h"

/* ============================================================================
 * Type OIDs (pg_type.dat; stable across releases)
 * ========================================================================== */

enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_CHAR = 18,
    OID_NAME = 19,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_TEXT = 25,
    OID_OID = 26,
    OID_JSON = 114,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_BPCHAR = 1042,
    OID_VARCHAR = 1043,
    OID_DATE = 1082,
    OID_TIME = 1083,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_INTERVAL = 1186,
    OID_TIMETZ = 1266,
    OID_NUMERIC = 1700,
    OID_UUID = 2950,
    OID_JSONB = 3802,
};

/* Array type OID -> element type OID; 0 when not an array we decode. */
static Oid element_oid(Oid oid)
{
    switch (oid) {
    case 1000:
        return OID_BOOL;
    case 1001:
        return OID_BYTEA;
    case 1002:
        return OID_CHAR;
    case 1003:
        return OID_NAME;
    case 1005:
        return OID_INT2;
    case 1007:
        return OID_INT4;
    case 1009:
        return OID_TEXT;
    case 1014:
        return OID_BPCHAR;
    case 1015:
        return OID_VARCHAR;
    case 1016:
        return OID_INT8;
    case 1021:
        return OID_FLOAT4;
    case 1022:
        return OID_FLOAT8;
    case 1028:
        return OID_OID;
    case 1115:
        return OID_TIMESTAMP;
    case 1182:
        return OID_DATE;
    case 1183:
        return OID_TIME;
    case 1185:
        return OID_TIMESTAMPTZ;
    case 1187:
        return OID_INTERVAL;
    case 1231:
        return OID_NUMERIC;
    case 1270:
        return OID_TIMETZ;
    case 199:
        return OID_JSON;
    case 2951:
        return OID_UUID;
    case 3807:
        return OID_JSONB;
    default:
        return 0;
    }
}

int fq_pgtypes_init(void)
{
    PyDateTime_IMPORT;
    return PyDateTimeAPI == NULL ? -1 : 0;
}

static PyObject *bad_value(const char *what, const char *s)
{
    PyErr_Format(PyExc_ValueError, "cannot decode %s value '%.60s'", what, s);
    return NULL;
}

/* ============================================================================
 * Date and time (parsed by pgtext.c)
 * ========================================================================== */

/* A tzinfo for an offset in seconds east of UTC (new ref), or NULL with an exception. */
static PyObject *tz_of(int offset)
{
    if (offset == 0)
        return Py_NewRef(PyDateTime_TimeZone_UTC);
    PyObject *delta = PyDelta_FromDSU(0, offset, 0);
    if (delta == NULL)
        return NULL;
    PyObject *tz = PyTimeZone_FromOffset(delta);
    Py_DECREF(delta);
    return tz;
}

static PyObject *decode_date(const char *s, size_t len)
{
    fq_pg_datetime v;
    if (fq_pgtext_date(s, len, &v) < 0)
        return bad_value("date", s);
    if (v.infinity)
        return v.infinity > 0 ? PyDate_FromDate(9999, 12, 31) : PyDate_FromDate(1, 1, 1);
    return PyDate_FromDate(v.year, v.month, v.day);
}

static PyObject *decode_time(const char *s, size_t len, int with_tz)
{
    fq_pg_datetime v;
    if (fq_pgtext_time(s, len, with_tz, &v) < 0)
        return bad_value(with_tz ? "timetz" : "time", s);
    if (!with_tz)
        return PyTime_FromTime(v.hour, v.minute, v.second, v.usec);
    PyObject *tz = tz_of(v.tz_offset);
    if (tz == NULL)
        return NULL;
    PyObject *t = PyDateTimeAPI->Time_FromTime(v.hour, v.minute, v.second, v.usec, tz,
                                               PyDateTimeAPI->TimeType);
    Py_DECREF(tz);
    return t;
}

static PyObject *decode_timestamp(const char *s, size_t len, int with_tz)
{
    fq_pg_datetime v;
    if (fq_pgtext_timestamp(s, len, with_tz, &v) < 0)
        return bad_value(with_tz ? "timestamptz" : "timestamp", s);
    if (v.infinity > 0)
        v = (fq_pg_datetime){9999, 12, 31, 23, 59, 59, 999999, 0, 0, 1};
    else if (v.infinity < 0)
        v = (fq_pg_datetime){1, 1, 1, 0, 0, 0, 0, 0, 0, -1};
    PyObject *tz = with_tz ? tz_of(v.tz_offset) : Py_NewRef(Py_None);
    if (tz == NULL)
        return NULL;
    PyObject *dt =
        PyDateTimeAPI->DateTime_FromDateAndTime(v.year, v.month, v.day, v.hour, v.minute, v.second,
                                                v.usec, tz, PyDateTimeAPI->DateTimeType);
    Py_DECREF(tz);
    return dt;
}

static PyObject *decode_interval(const char *s, size_t len)
{
    fq_pg_interval v;
    if (fq_pgtext_interval(s, len, &v) < 0)
        return bad_value("interval", s);
    return PyDelta_FromDSU((int)v.days, v.seconds, v.usecs);
}

/* ============================================================================
 * Scalars
 * ========================================================================== */

static PyObject *decode_bytea(const char *s, size_t len)
{
    long long size = fq_pgtext_bytea_size(s, len);
    if (size < 0)
        return bad_value("bytea", s);
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)size);
    if (out == NULL)
        return NULL;
    if (fq_pgtext_bytea(s, len, PyBytes_AS_STRING(out)) < 0) {
        Py_DECREF(out);
        return bad_value("bytea", s);
    }
    return out;
}

static PyObject *call_with_text(PyObject *callable, const char *s, size_t len)
{
    PyObject *text = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, NULL);
    if (text == NULL)
        return NULL;
    PyObject *out = PyObject_CallOneArg(callable, text);
    Py_DECREF(text);
    return out;
}

static PyObject *decode_array(const fq_pgconn_state *st, Oid elem, const char *s, size_t len);

PyObject *fq_pg_decode(const fq_pgconn_state *st, Oid oid, const char *s, size_t len)
{
    switch (oid) {
    case OID_TEXT:
    case OID_VARCHAR:
    case OID_BPCHAR:
    case OID_NAME:
    case OID_CHAR:
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, NULL);
    case OID_INT2:
    case OID_INT4:
    case OID_INT8:
    case OID_OID: {
        long long v;
        return fq_pgtext_int(s, len, &v) < 0 ? bad_value("integer", s) : PyLong_FromLongLong(v);
    }
    case OID_FLOAT4:
    case OID_FLOAT8: {
        char *end;
        double d = PyOS_string_to_double(s, &end, NULL);
        if (d == -1.0 && PyErr_Occurred())
            return NULL;
        if (*end != '\0')
            return bad_value("float", s);
        return PyFloat_FromDouble(d);
    }
    case OID_BOOL:
        return Py_NewRef(s[0] == 't' ? Py_True : Py_False);
    case OID_NUMERIC:
        if (fq_pgtext_numeric(s, len) < 0)
            return bad_value("numeric", s);
        return call_with_text(st->Decimal, s, len);
    case OID_UUID:
        return call_with_text(st->UUID, s, len);
    case OID_JSON:
    case OID_JSONB:
        return call_with_text(st->json_loads, s, len);
    case OID_BYTEA:
        return decode_bytea(s, len);
    case OID_DATE:
        return decode_date(s, len);
    case OID_TIME:
        return decode_time(s, len, 0);
    case OID_TIMETZ:
        return decode_time(s, len, 1);
    case OID_TIMESTAMP:
        return decode_timestamp(s, len, 0);
    case OID_TIMESTAMPTZ:
        return decode_timestamp(s, len, 1);
    case OID_INTERVAL:
        return decode_interval(s, len);
    default: {
        Oid elem = element_oid(oid);
        if (elem != 0)
            return decode_array(st, elem, s, len);
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, NULL);
    }
    }
}

/* ============================================================================
 * Arrays (tokenized by pgtext.c): nested Python lists of decoded elements
 * ========================================================================== */

static PyObject *decode_array(const fq_pgconn_state *st, Oid elem, const char *s, size_t len)
{
    char *scratch = PyMem_Malloc(len + 1);
    if (scratch == NULL)
        return PyErr_NoMemory();
    fq_pgarray a;
    fq_pgarray_init(&a, s, len, scratch);
    PyObject *root = NULL, *levels[FQ_PGARRAY_MAX_DEPTH]; /* root owned, levels borrowed */
    int depth = 0;
    for (;;) {
        const char *item = NULL;
        size_t n = 0;
        fq_pgarray_token tok = fq_pgarray_next(&a, &item, &n);
        PyObject *value;
        if (tok == FQ_PGARRAY_DONE)
            break;
        if (tok == FQ_PGARRAY_END) {
            depth--;
            continue;
        }
        if (tok == FQ_PGARRAY_MALFORMED)
            PyErr_SetString(PyExc_ValueError, "malformed array literal from the server");
        else if (tok == FQ_PGARRAY_TOO_DEEP)
            PyErr_SetString(PyExc_ValueError, "array nested deeper than 6 levels");
        else if (tok == FQ_PGARRAY_TRAILING)
            bad_value("array", s);
        if (tok > FQ_PGARRAY_NULL)
            goto error;
        if (tok == FQ_PGARRAY_BEGIN)
            value = PyList_New(0);
        else if (tok == FQ_PGARRAY_NULL)
            value = Py_NewRef(Py_None);
        else
            value = fq_pg_decode(st, elem, item, n);
        if (value == NULL)
            goto error;
        if (depth > 0 && PyList_Append(levels[depth - 1], value) < 0) {
            Py_DECREF(value);
            goto error;
        }
        if (tok == FQ_PGARRAY_BEGIN) {
            if (depth == 0)
                root = value;
            else
                Py_DECREF(value); /* its parent holds it */
            levels[depth++] = value;
        } else {
            Py_DECREF(value);
        }
    }
    PyMem_Free(scratch);
    return root;
error:
    Py_XDECREF(root);
    PyMem_Free(scratch);
    return NULL;
}
