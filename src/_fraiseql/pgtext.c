/* PostgreSQL text output -> C values (pgtext.h). Every reader is bounded by its end pointer. */
#include "pgtext.h"

#include <string.h>

#include "jsonstr.h"

/* ============================================================================
 * Cursor helpers
 * ========================================================================== */

typedef struct cur {
    const char *p, *end;
} cur;

static int at(const cur *c, char ch)
{
    return c->p < c->end && *c->p == ch;
}

static int is_digit(const cur *c)
{
    return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* Reads exactly n digits. */
static int digits(cur *c, int n, int *out)
{
    if (c->end - c->p < n)
        return -1;
    int v = 0;
    for (int i = 0; i < n; i++) {
        char ch = c->p[i];
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    c->p += n;
    *out = v;
    return 0;
}

static int literal(cur *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return -1;
    c->p += n;
    return 0;
}

static int is_text(const char *s, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(s, word, len) == 0;
}

/* ".ffffff": microseconds from the first six digits (PostgreSQL prints at most six). */
static void fraction(cur *c, int *us)
{
    *us = 0;
    if (!at(c, '.'))
        return;
    c->p++;
    int scale = 100000;
    while (is_digit(c)) {
        *us += (*c->p++ - '0') * scale;
        scale /= 10;
    }
}

/* ============================================================================
 * Numbers
 * ========================================================================== */

int fq_pgtext_int(const char *s, size_t len, long long *out)
{
    cur c = {s, s + len};
    int neg = at(&c, '-');
    if (neg || at(&c, '+'))
        c.p++;
    if (!is_digit(&c))
        return -1;
    unsigned long long limit = neg ? 9223372036854775808ULL : 9223372036854775807ULL, v = 0;
    while (is_digit(&c)) {
        unsigned d = (unsigned)(*c.p++ - '0');
        if (v > (limit - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (c.p != c.end)
        return -1;
    *out = neg ? (long long)(0 - v) : (long long)v;
    return 0;
}

int fq_pgtext_numeric(const char *s, size_t len)
{
    if (is_text(s, len, "NaN") || is_text(s, len, "Infinity") || is_text(s, len, "-Infinity"))
        return 0;
    cur c = {s, s + len};
    if (at(&c, '-'))
        c.p++;
    if (!is_digit(&c))
        return -1;
    while (is_digit(&c))
        c.p++;
    if (at(&c, '.')) {
        c.p++;
        if (!is_digit(&c))
            return -1;
        while (is_digit(&c))
            c.p++;
    }
    return c.p == c.end ? 0 : -1;
}

/* ============================================================================
 * Dates and times
 * ========================================================================== */

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* YYYY-MM-DD: four-digit years only (beyond 9999, and BC, do not fit datetime). */
static int read_date(cur *c, fq_pg_datetime *out)
{
    if (digits(c, 4, &out->year) < 0 || is_digit(c) || literal(c, "-") < 0 ||
        digits(c, 2, &out->month) < 0 || literal(c, "-") < 0 || digits(c, 2, &out->day) < 0)
        return -1;
    if (out->year < 1 || out->month < 1 || out->month > 12 || out->day < 1 ||
        out->day > days_in_month(out->year, out->month))
        return -1;
    return 0;
}

static int read_time(cur *c, fq_pg_datetime *out)
{
    if (digits(c, 2, &out->hour) < 0 || literal(c, ":") < 0 || digits(c, 2, &out->minute) < 0 ||
        literal(c, ":") < 0 || digits(c, 2, &out->second) < 0)
        return -1;
    fraction(c, &out->usec);
    if (out->minute > 59 || out->second > 59 || out->hour > 24)
        return -1;
    return 0;
}

/* "+HH[:MM[:SS]]" */
static int read_tz(cur *c, fq_pg_datetime *out)
{
    int h, m = 0, s = 0;
    if (!at(c, '+') && !at(c, '-'))
        return -1;
    int sign = *c->p++ == '-' ? -1 : 1;
    if (digits(c, 2, &h) < 0)
        return -1;
    if (at(c, ':')) {
        c->p++;
        if (digits(c, 2, &m) < 0)
            return -1;
        if (at(c, ':')) {
            c->p++;
            if (digits(c, 2, &s) < 0)
                return -1;
        }
    }
    if (h > 23 || m > 59 || s > 59)
        return -1;
    out->has_tz = 1;
    out->tz_offset = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int infinity(const char *s, size_t len, fq_pg_datetime *out)
{
    memset(out, 0, sizeof *out);
    if (is_text(s, len, "infinity"))
        out->infinity = 1;
    else if (is_text(s, len, "-infinity"))
        out->infinity = -1;
    return out->infinity;
}

int fq_pgtext_date(const char *s, size_t len, fq_pg_datetime *out)
{
    if (infinity(s, len, out))
        return 0;
    cur c = {s, s + len};
    return read_date(&c, out) == 0 && c.p == c.end ? 0 : -1;
}

int fq_pgtext_time(const char *s, size_t len, int with_tz, fq_pg_datetime *out)
{
    memset(out, 0, sizeof *out);
    cur c = {s, s + len};
    if (read_time(&c, out) < 0 || (with_tz && read_tz(&c, out) < 0) || c.p != c.end)
        return -1;
    if (out->hour == 24) { /* PostgreSQL allows 24:00:00 */
        if (out->minute || out->second || out->usec)
            return -1;
        out->hour = 23, out->minute = 59, out->second = 59, out->usec = 999999;
    }
    return 0;
}

int fq_pgtext_timestamp(const char *s, size_t len, int with_tz, fq_pg_datetime *out)
{
    if (infinity(s, len, out))
        return 0;
    cur c = {s, s + len};
    if (read_date(&c, out) < 0 || literal(&c, " ") < 0 || read_time(&c, out) < 0 ||
        out->hour > 23 || (with_tz && read_tz(&c, out) < 0) || c.p != c.end)
        return -1;
    return 0;
}

/* ============================================================================
 * Intervals: "[-]N year[s] [-]N mon[s] [-]N day[s] [-+]HH:MM:SS[.f]"
 * ========================================================================== */

/* Far below overflow of the sums, far above any interval PostgreSQL prints. */
#define INTERVAL_SUM_CAP 100000000000000000LL

static long long floor_div(long long a, long long b)
{
    return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

int fq_pgtext_interval(const char *s, size_t len, fq_pg_interval *out)
{
    long long days = 0, secs = 0, usecs = 0;
    cur c = {s, s + len};
    for (;;) {
        while (at(&c, ' '))
            c.p++;
        if (c.p == c.end)
            break;
        int neg = at(&c, '-');
        if (neg || at(&c, '+'))
            c.p++;
        long long n = 0;
        int nd = 0;
        while (is_digit(&c) && nd < 12) {
            n = n * 10 + (*c.p++ - '0');
            nd++;
        }
        if (nd == 0)
            return -1;
        if (at(&c, ':')) { /* the time part: n is the hours */
            int mi, sec, us;
            c.p++;
            if (digits(&c, 2, &mi) < 0 || literal(&c, ":") < 0 || digits(&c, 2, &sec) < 0 ||
                mi > 59 || sec > 59)
                return -1;
            fraction(&c, &us);
            long long t = n * 3600 + mi * 60 + sec;
            secs += neg ? -t : t;
            usecs += neg ? -us : us;
        } else {
            while (at(&c, ' '))
                c.p++;
            long long per;
            if (literal(&c, "years") == 0 || literal(&c, "year") == 0)
                per = 365;
            else if (literal(&c, "mons") == 0 || literal(&c, "mon") == 0)
                per = 30;
            else if (literal(&c, "days") == 0 || literal(&c, "day") == 0)
                per = 1;
            else
                return -1;
            days += (neg ? -n : n) * per;
        }
        if (c.p != c.end && *c.p != ' ')
            return -1;
        if (days > INTERVAL_SUM_CAP || days < -INTERVAL_SUM_CAP || secs > INTERVAL_SUM_CAP ||
            secs < -INTERVAL_SUM_CAP || usecs > INTERVAL_SUM_CAP || usecs < -INTERVAL_SUM_CAP)
            return -1;
    }
    secs += floor_div(usecs, 1000000); /* then normalized as timedelta does */
    usecs -= floor_div(usecs, 1000000) * 1000000;
    days += floor_div(secs, 86400);
    secs -= floor_div(secs, 86400) * 86400;
    if (days > FQ_INTERVAL_MAX_DAYS || days < -FQ_INTERVAL_MAX_DAYS)
        return -1;
    out->days = days;
    out->seconds = (int)secs;
    out->usecs = (int)usecs;
    return 0;
}

/* ============================================================================
 * bytea (bytea_output=hex is forced at connect)
 * ========================================================================== */

long long fq_pgtext_bytea_size(const char *s, size_t len)
{
    if (len < 2 || s[0] != '\\' || s[1] != 'x' || len % 2 != 0)
        return -1;
    return (long long)(len - 2) / 2;
}

int fq_pgtext_bytea(const char *s, size_t len, char *out)
{
    if (fq_pgtext_bytea_size(s, len) < 0)
        return -1;
    for (size_t i = 2; i < len; i += 2) {
        int hi = fq_hex_digit(s[i]), lo = fq_hex_digit(s[i + 1]);
        if (hi < 0 || lo < 0)
            return -1;
        *out++ = (char)(hi << 4 | lo);
    }
    return 0;
}

/* ============================================================================
 * Arrays
 * ========================================================================== */

enum { EXPECT_OPEN, AFTER_OPEN, EXPECT_VALUE, AFTER_VALUE, FINISHED };

void fq_pgarray_init(fq_pgarray *a, const char *s, size_t len, char *scratch)
{
    a->p = s;
    a->end = s + len;
    a->scratch = scratch;
    a->depth = 0;
    a->state = EXPECT_OPEN;
    if (len > 0 && s[0] == '[') { /* explicit bounds: skip to the '=' */
        const char *eq = memchr(s, '=', len);
        if (eq == NULL)
            a->state = FINISHED;
        else
            a->p = eq + 1;
    }
}

static fq_pgarray_token open_level(fq_pgarray *a)
{
    if (a->depth >= FQ_PGARRAY_MAX_DEPTH)
        return FQ_PGARRAY_TOO_DEEP;
    a->p++;
    a->depth++;
    a->state = AFTER_OPEN;
    return FQ_PGARRAY_BEGIN;
}

static fq_pgarray_token close_level(fq_pgarray *a)
{
    a->p++;
    a->depth--;
    a->state = AFTER_VALUE;
    return FQ_PGARRAY_END;
}

static fq_pgarray_token element(fq_pgarray *a, const char **item, size_t *item_len)
{
    size_t n = 0;
    int quoted = *a->p == '"';
    if (quoted) {
        a->p++;
        while (a->p < a->end && *a->p != '"') {
            if (*a->p == '\\' && a->p + 1 < a->end)
                a->p++;
            a->scratch[n++] = *a->p++;
        }
        if (a->p >= a->end)
            return FQ_PGARRAY_MALFORMED;
        a->p++;
    } else {
        while (a->p < a->end && *a->p != ',' && *a->p != '}')
            a->scratch[n++] = *a->p++;
    }
    a->scratch[n] = '\0';
    a->state = AFTER_VALUE;
    if (!quoted && n == 4 && memcmp(a->scratch, "NULL", 4) == 0)
        return FQ_PGARRAY_NULL;
    *item = a->scratch;
    *item_len = n;
    return FQ_PGARRAY_ITEM;
}

fq_pgarray_token fq_pgarray_next(fq_pgarray *a, const char **item, size_t *item_len)
{
    int more = a->p < a->end;
    switch (a->state) {
    case EXPECT_OPEN:
        return more && *a->p == '{' ? open_level(a) : FQ_PGARRAY_MALFORMED;
    case AFTER_OPEN:
        if (more && *a->p == '}')
            return close_level(a);
        /* fallthrough */
    case EXPECT_VALUE:
        if (!more)
            return FQ_PGARRAY_MALFORMED;
        return *a->p == '{' ? open_level(a) : element(a, item, item_len);
    case AFTER_VALUE:
        if (a->depth == 0) {
            a->state = FINISHED;
            return more ? FQ_PGARRAY_TRAILING : FQ_PGARRAY_DONE;
        }
        if (more && *a->p == ',') {
            a->p++;
            a->state = EXPECT_VALUE;
            return fq_pgarray_next(a, item, item_len);
        }
        return more && *a->p == '}' ? close_level(a) : FQ_PGARRAY_MALFORMED;
    default:
        return FQ_PGARRAY_TRAILING;
    }
}
