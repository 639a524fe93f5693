/* PostgreSQL text output -> Python values, chosen by the column's type OID.
 * The connection forces DateStyle=ISO and IntervalStyle=postgres, the formats parsed here. */
#include "py_pgconn.h"

#include <datetime.h>
#include <string.h>

#include "jsonstr.h"

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
 * Date and time
 * ========================================================================== */

/* Reads exactly n digits. */
static int digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char ch = (*p)[i];
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

static int parse_date(const char **p, int *y, int *m, int *d)
{
    const char *s = *p;
    int n = 0;
    while (s[n] >= '0' && s[n] <= '9')
        n++;
    if (n < 4 || n > 4) /* years beyond 9999 do not fit datetime */
        return -1;
    if (digits(p, 4, y) < 0 || **p != '-')
        return -1;
    (*p)++;
    if (digits(p, 2, m) < 0 || **p != '-')
        return -1;
    (*p)++;
    if (digits(p, 2, d) < 0)
        return -1;
    return strncmp(*p, " BC", 3) == 0 ? -1 : 0;
}

static int parse_time(const char **p, int *h, int *mi, int *sec, int *us)
{
    if (digits(p, 2, h) < 0 || **p != ':')
        return -1;
    (*p)++;
    if (digits(p, 2, mi) < 0 || **p != ':')
        return -1;
    (*p)++;
    if (digits(p, 2, sec) < 0)
        return -1;
    *us = 0;
    if (**p == '.') {
        (*p)++;
        int scale = 100000;
        while (**p >= '0' && **p <= '9') {
            *us += (**p - '0') * scale;
            scale /= 10;
            (*p)++;
        }
    }
    return 0;
}

/* "+HH[:MM[:SS]]" -> tzinfo (new ref), or NULL with an exception. */
static PyObject *parse_tz(const char **p)
{
    int sign = **p == '-' ? -1 : 1;
    int h, m = 0, s = 0;
    if (**p != '+' && **p != '-')
        return NULL;
    (*p)++;
    if (digits(p, 2, &h) < 0)
        return NULL;
    if (**p == ':') {
        (*p)++;
        if (digits(p, 2, &m) < 0)
            return NULL;
        if (**p == ':') {
            (*p)++;
            if (digits(p, 2, &s) < 0)
                return NULL;
        }
    }
    int offset = sign * (h * 3600 + m * 60 + s);
    if (offset == 0) {
        Py_INCREF(PyDateTime_TimeZone_UTC);
        return PyDateTime_TimeZone_UTC;
    }
    PyObject *delta = PyDelta_FromDSU(0, offset, 0);
    if (delta == NULL)
        return NULL;
    PyObject *tz = PyTimeZone_FromOffset(delta);
    Py_DECREF(delta);
    return tz;
}

static PyObject *decode_date(const char *s)
{
    int y, m, d;
    if (strcmp(s, "infinity") == 0)
        return PyDate_FromDate(9999, 12, 31);
    if (strcmp(s, "-infinity") == 0)
        return PyDate_FromDate(1, 1, 1);
    const char *p = s;
    if (parse_date(&p, &y, &m, &d) < 0 || *p != '\0')
        return bad_value("date", s);
    return PyDate_FromDate(y, m, d);
}

static PyObject *decode_time(const char *s, int with_tz)
{
    int h, mi, sec, us;
    const char *p = s;
    if (parse_time(&p, &h, &mi, &sec, &us) < 0)
        return bad_value("time", s);
    if (h == 24) /* PostgreSQL allows 24:00:00 */
        h = 23, mi = 59, sec = 59, us = 999999;
    if (!with_tz)
        return *p == '\0' ? PyTime_FromTime(h, mi, sec, us) : bad_value("time", s);
    PyObject *tz = parse_tz(&p);
    if (tz == NULL || *p != '\0') {
        Py_XDECREF(tz);
        return PyErr_Occurred() ? NULL : bad_value("timetz", s);
    }
    PyObject *t = PyDateTimeAPI->Time_FromTime(h, mi, sec, us, tz, PyDateTimeAPI->TimeType);
    Py_DECREF(tz);
    return t;
}

static PyObject *decode_timestamp(const char *s, int with_tz)
{
    int y, mo, d, h, mi, sec, us;
    PyObject *tz = NULL, *dt;
    if (strcmp(s, "infinity") == 0 || strcmp(s, "-infinity") == 0) {
        int inf = s[0] == 'i';
        tz = with_tz ? Py_NewRef(PyDateTime_TimeZone_UTC) : Py_NewRef(Py_None);
        dt = inf ? PyDateTimeAPI->DateTime_FromDateAndTime(9999, 12, 31, 23, 59, 59, 999999, tz,
                                                           PyDateTimeAPI->DateTimeType)
                 : PyDateTimeAPI->DateTime_FromDateAndTime(1, 1, 1, 0, 0, 0, 0, tz,
                                                           PyDateTimeAPI->DateTimeType);
        Py_DECREF(tz);
        return dt;
    }
    const char *p = s;
    if (parse_date(&p, &y, &mo, &d) < 0 || *p++ != ' ' || parse_time(&p, &h, &mi, &sec, &us) < 0)
        return bad_value(with_tz ? "timestamptz" : "timestamp", s);
    if (with_tz) {
        tz = parse_tz(&p);
        if (tz == NULL)
            return PyErr_Occurred() ? NULL : bad_value("timestamptz", s);
    } else {
        tz = Py_NewRef(Py_None);
    }
    if (*p != '\0') {
        Py_DECREF(tz);
        return bad_value(with_tz ? "timestamptz" : "timestamp", s);
    }
    dt = PyDateTimeAPI->DateTime_FromDateAndTime(y, mo, d, h, mi, sec, us, tz,
                                                 PyDateTimeAPI->DateTimeType);
    Py_DECREF(tz);
    return dt;
}

/* IntervalStyle=postgres: "[-]N year[s] [-]N mon[s] [-]N day[s] [-+]HH:MM:SS[.f]".
 * timedelta has no months: a month counts 30 days and a year 365 days. */
static PyObject *decode_interval(const char *s)
{
    long long days = 0, secs = 0, usecs = 0;
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            break;
        const char *start = p;
        int neg = 0;
        if (*p == '-' || *p == '+')
            neg = *p++ == '-';
        long long n = 0;
        int nd = 0;
        while (*p >= '0' && *p <= '9' && nd < 12) {
            n = n * 10 + (*p++ - '0');
            nd++;
        }
        if (nd == 0)
            return bad_value("interval", s);
        if (*p == ':') { /* the time part */
            int mi, sec, us;
            p = start + (start[0] == '-' || start[0] == '+');
            long long hours = 0;
            for (int k = 0; k < 12 && *p >= '0' && *p <= '9'; k++)
                hours = hours * 10 + (*p++ - '0');
            if (*p++ != ':' || digits(&p, 2, &mi) < 0 || *p++ != ':' || digits(&p, 2, &sec) < 0)
                return bad_value("interval", s);
            us = 0;
            if (*p == '.') {
                p++;
                int scale = 100000;
                while (*p >= '0' && *p <= '9') {
                    us += (*p++ - '0') * scale;
                    scale /= 10;
                }
            }
            long long t = hours * 3600 + mi * 60 + sec;
            secs += neg ? -t : t;
            usecs += neg ? -us : us;
            continue;
        }
        if (neg)
            n = -n;
        while (*p == ' ')
            p++;
        if (strncmp(p, "year", 4) == 0)
            days += n * 365;
        else if (strncmp(p, "mon", 3) == 0)
            days += n * 30;
        else if (strncmp(p, "day", 3) == 0)
            days += n;
        else
            return bad_value("interval", s);
        while (*p >= 'a' && *p <= 'z')
            p++;
    }
    days += secs / 86400; /* timedelta normalizes the signs of the rest */
    if (days > 999999999 || days < -999999999)
        return bad_value("interval", s);
    return PyDelta_FromDSU((int)days, (int)(secs % 86400), (int)usecs);
}

/* ============================================================================
 * Scalars
 * ========================================================================== */

static PyObject *decode_bytea(const char *s, size_t len)
{
    if (len < 2 || s[0] != '\\' || s[1] != 'x' || len % 2 != 0)
        return bad_value("bytea", s); /* bytea_output=hex is forced at connect */
    PyObject *out = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(len - 2) / 2);
    if (out == NULL)
        return NULL;
    char *dst = PyBytes_AS_STRING(out);
    for (size_t i = 2; i < len; i += 2) {
        int hi = fq_hex_digit(s[i]), lo = fq_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0) {
            Py_DECREF(out);
            return bad_value("bytea", s);
        }
        *dst++ = (char)(hi << 4 | lo);
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
        char *end;
        PyObject *v = PyLong_FromString(s, &end, 10);
        if (v != NULL && *end != '\0') {
            Py_DECREF(v);
            return bad_value("integer", s);
        }
        return v;
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
        return call_with_text(st->Decimal, s, len);
    case OID_UUID:
        return call_with_text(st->UUID, s, len);
    case OID_JSON:
    case OID_JSONB:
        return call_with_text(st->json_loads, s, len);
    case OID_BYTEA:
        return decode_bytea(s, len);
    case OID_DATE:
        return decode_date(s);
    case OID_TIME:
        return decode_time(s, 0);
    case OID_TIMETZ:
        return decode_time(s, 1);
    case OID_TIMESTAMP:
        return decode_timestamp(s, 0);
    case OID_TIMESTAMPTZ:
        return decode_timestamp(s, 1);
    case OID_INTERVAL:
        return decode_interval(s);
    default: {
        Oid elem = element_oid(oid);
        if (elem != 0)
            return decode_array(st, elem, s, len);
        return PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, NULL);
    }
    }
}

/* ============================================================================
 * Arrays: "{1,2,NULL}", '{"a b","c\"d"}', nested "{{1,2},{3,4}}", "[0:1]={...}"
 * ========================================================================== */

#define FQ_ARRAY_MAX_DEPTH 6 /* PostgreSQL's MAXDIM */

typedef struct array_parser {
    const fq_pgconn_state *st;
    Oid elem;
    const char *p, *end;
    char *scratch; /* unescaped element, as long as the whole input at most */
} array_parser;

static PyObject *array_level(array_parser *ap, int depth)
{
    if (depth > FQ_ARRAY_MAX_DEPTH) {
        PyErr_SetString(PyExc_ValueError, "array nested deeper than 6 levels");
        return NULL;
    }
    if (ap->p >= ap->end || *ap->p != '{')
        goto malformed;
    ap->p++;
    PyObject *list = PyList_New(0);
    if (list == NULL)
        return NULL;
    if (ap->p < ap->end && *ap->p == '}') {
        ap->p++;
        return list;
    }
    for (;;) {
        PyObject *item;
        if (ap->p >= ap->end)
            goto malformed_list;
        if (*ap->p == '{') {
            item = array_level(ap, depth + 1);
        } else {
            size_t n = 0;
            int quoted = *ap->p == '"';
            if (quoted) {
                ap->p++;
                while (ap->p < ap->end && *ap->p != '"') {
                    if (*ap->p == '\\' && ap->p + 1 < ap->end)
                        ap->p++;
                    ap->scratch[n++] = *ap->p++;
                }
                if (ap->p >= ap->end)
                    goto malformed_list;
                ap->p++;
            } else {
                while (ap->p < ap->end && *ap->p != ',' && *ap->p != '}')
                    ap->scratch[n++] = *ap->p++;
            }
            ap->scratch[n] = '\0';
            if (!quoted && n == 4 && memcmp(ap->scratch, "NULL", 4) == 0)
                item = Py_NewRef(Py_None);
            else
                item = fq_pg_decode(ap->st, ap->elem, ap->scratch, n);
        }
        if (item == NULL || PyList_Append(list, item) < 0) {
            Py_XDECREF(item);
            Py_DECREF(list);
            return NULL;
        }
        Py_DECREF(item);
        if (ap->p < ap->end && *ap->p == ',') {
            ap->p++;
            continue;
        }
        if (ap->p < ap->end && *ap->p == '}') {
            ap->p++;
            return list;
        }
        goto malformed_list;
    }
malformed_list:
    Py_DECREF(list);
malformed:
    if (!PyErr_Occurred())
        PyErr_SetString(PyExc_ValueError, "malformed array literal from the server");
    return NULL;
}

static PyObject *decode_array(const fq_pgconn_state *st, Oid elem, const char *s, size_t len)
{
    array_parser ap = {st, elem, s, s + len, NULL};
    if (len > 0 && s[0] == '[') { /* explicit bounds: skip to the '=' */
        const char *eq = memchr(s, '=', len);
        if (eq == NULL)
            return bad_value("array", s);
        ap.p = eq + 1;
    }
    ap.scratch = PyMem_Malloc(len + 1);
    if (ap.scratch == NULL)
        return PyErr_NoMemory();
    PyObject *out = array_level(&ap, 1);
    PyMem_Free(ap.scratch);
    if (out != NULL && ap.p != ap.end) {
        Py_DECREF(out);
        return bad_value("array", s);
    }
    return out;
}
