/* PostgreSQL text output -> C values: integers, numeric syntax, dates, times, timestamps,
 * intervals, bytea, and a tokenizer of array literals. Pure C (no Python.h), so the
 * decoders are tested and fuzzed from C; py_pgtypes.c builds Python objects from them.
 * Formats are those the connection forces: DateStyle=ISO, IntervalStyle=postgres,
 * bytea_output=hex. Every function reads exactly s[0..len) (no NUL needed) and returns
 * 0 on success, -1 when the text is not a value of its type (nothing partial is used). */
#ifndef FQ_PGTEXT_H
#define FQ_PGTEXT_H

#include <stddef.h>

/* int2, int4, int8, oid: [-+]digits within the range of long long. */
int fq_pgtext_int(const char *s, size_t len, long long *out);

/* numeric: [-]digits[.digits], NaN, Infinity, -Infinity (the caller builds the Decimal). */
int fq_pgtext_numeric(const char *s, size_t len);

/* A date, time or timestamp. Fields are in the ranges Python's datetime accepts (24:00:00
 * reads as 23:59:59.999999); infinity is +1 or -1 for 'infinity' and '-infinity' (dates
 * and timestamps only; the fields are then zero). */
typedef struct fq_pg_datetime {
    int year, month, day;
    int hour, minute, second, usec;
    int has_tz, tz_offset; /* seconds east of UTC, |offset| < 24 h */
    int infinity;
} fq_pg_datetime;

int fq_pgtext_date(const char *s, size_t len, fq_pg_datetime *out);
int fq_pgtext_time(const char *s, size_t len, int with_tz, fq_pg_datetime *out);
int fq_pgtext_timestamp(const char *s, size_t len, int with_tz, fq_pg_datetime *out);

/* An interval as a timedelta holds it: a month counts 30 days and a year 365; normalized
 * like timedelta (0 <= seconds < 86400, 0 <= usecs < 1000000, |days| <= 999999999). */
typedef struct fq_pg_interval {
    long long days;
    int seconds, usecs;
} fq_pg_interval;

#define FQ_INTERVAL_MAX_DAYS 999999999LL /* timedelta's bound */

int fq_pgtext_interval(const char *s, size_t len, fq_pg_interval *out);

/* bytea "\x<hex>": the decoded size, or -1 when s is not that form; then the bytes into out
 * (room for that size). */
long long fq_pgtext_bytea_size(const char *s, size_t len);
int fq_pgtext_bytea(const char *s, size_t len, char *out);

/* Arrays: "{1,2,NULL}", '{"a b","c\"d"}', nested "{{1,2},{3,4}}", "[0:1]={...}". A pull
 * tokenizer: each call returns the next token; items are unescaped into the caller's
 * scratch (len + 1 bytes), NUL-terminated. */
#define FQ_PGARRAY_MAX_DEPTH 6 /* PostgreSQL's MAXDIM */

typedef enum fq_pgarray_token {
    FQ_PGARRAY_BEGIN,     /* '{': a (nested) array starts */
    FQ_PGARRAY_END,       /* '}' */
    FQ_PGARRAY_ITEM,      /* an element: *item, *item_len */
    FQ_PGARRAY_NULL,      /* an unquoted NULL */
    FQ_PGARRAY_DONE,      /* the outer array closed at the end of the text */
    FQ_PGARRAY_MALFORMED, /* not an array literal */
    FQ_PGARRAY_TOO_DEEP,  /* nested deeper than FQ_PGARRAY_MAX_DEPTH */
    FQ_PGARRAY_TRAILING,  /* text after the outer array, or bounds without '=' */
} fq_pgarray_token;

typedef struct fq_pgarray {
    const char *p, *end;
    char *scratch;
    int depth;
    int state; /* what the tokenizer expects next (pgtext.c) */
} fq_pgarray;

void fq_pgarray_init(fq_pgarray *a, const char *s, size_t len, char *scratch);
fq_pgarray_token fq_pgarray_next(fq_pgarray *a, const char **item, size_t *item_len);

#endif
