/* libFuzzer harness of the decoders of PostgreSQL text values (pgtext.c; `make fuzz`).
 *
 * Input: byte 0 picks the decoder, the rest is the text, passed with its exact length in an
 * exact-size copy, so ASan catches any read past the end. Checks: a decoder either refuses
 * the text or returns a value within its documented ranges, and the value survives a round
 * trip: printed in PostgreSQL's canonical form and decoded again, it is the same value
 * (integers, dates, times, timestamps, intervals, arrays), bytea re-encodes to the input's
 * hex, accepted numerics have numeric syntax. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pgtext.h"

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s\n", #cond);                                      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

enum { INT, NUMERIC, DATE, TIME, TIMETZ, TIMESTAMP, TIMESTAMPTZ, INTERVAL, BYTEA, ARRAY, KINDS };

static void check_int(const char *s, size_t len)
{
    long long v, again;
    if (fq_pgtext_int(s, len, &v) < 0)
        return;
    char text[32];
    int n = snprintf(text, sizeof text, "%lld", v);
    REQUIRE(fq_pgtext_int(text, (size_t)n, &again) == 0 && again == v);
}

static void check_numeric(const char *s, size_t len)
{
    if (fq_pgtext_numeric(s, len) < 0)
        return;
    if (len == 3 && memcmp(s, "NaN", 3) == 0)
        return;
    int dots = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] == '.')
            dots++;
        else if (s[i] == '-')
            REQUIRE(i == 0);
        else
            REQUIRE(isdigit((unsigned char)s[i]) || memcmp(s + (s[0] == '-'), "Infinity", 8) == 0);
    }
    REQUIRE(dots <= 1);
}

static int decode_dt(int kind, const char *s, size_t len, fq_pg_datetime *v)
{
    switch (kind) {
    case DATE:
        return fq_pgtext_date(s, len, v);
    case TIME:
    case TIMETZ:
        return fq_pgtext_time(s, len, kind == TIMETZ, v);
    default:
        return fq_pgtext_timestamp(s, len, kind == TIMESTAMPTZ, v);
    }
}

/* The value in ISO form, as PostgreSQL prints it. */
static int print_dt(int kind, const fq_pg_datetime *v, char *out, size_t cap)
{
    int n = 0;
    if (kind == DATE || kind == TIMESTAMP || kind == TIMESTAMPTZ)
        n += snprintf(out + n, cap - (size_t)n, "%04d-%02d-%02d%s", v->year, v->month, v->day,
                      kind == DATE ? "" : " ");
    if (kind != DATE)
        n += snprintf(out + n, cap - (size_t)n, "%02d:%02d:%02d.%06d", v->hour, v->minute,
                      v->second, v->usec);
    if (v->has_tz) {
        int off = v->tz_offset < 0 ? -v->tz_offset : v->tz_offset;
        n += snprintf(out + n, cap - (size_t)n, "%c%02d:%02d:%02d", v->tz_offset < 0 ? '-' : '+',
                      off / 3600, off / 60 % 60, off % 60);
    }
    return n;
}

static void check_datetime(int kind, const char *s, size_t len)
{
    fq_pg_datetime v, again;
    if (decode_dt(kind, s, len, &v) < 0)
        return;
    if (v.infinity) {
        REQUIRE(kind == DATE || kind == TIMESTAMP || kind == TIMESTAMPTZ);
        return;
    }
    if (kind != TIME && kind != TIMETZ)
        REQUIRE(v.year >= 1 && v.year <= 9999 && v.month >= 1 && v.month <= 12 && v.day >= 1 &&
                v.day <= 31);
    REQUIRE(v.hour >= 0 && v.hour <= 23 && v.minute >= 0 && v.minute <= 59 && v.second >= 0 &&
            v.second <= 59 && v.usec >= 0 && v.usec <= 999999);
    REQUIRE(v.has_tz == (kind == TIMETZ || kind == TIMESTAMPTZ));
    REQUIRE(v.tz_offset > -86400 && v.tz_offset < 86400);
    char text[64];
    int n = print_dt(kind, &v, text, sizeof text);
    REQUIRE(decode_dt(kind, text, (size_t)n, &again) == 0 && memcmp(&v, &again, sizeof v) == 0);
}

static void check_interval(const char *s, size_t len)
{
    fq_pg_interval v, again;
    if (fq_pgtext_interval(s, len, &v) < 0)
        return;
    REQUIRE(v.days >= -FQ_INTERVAL_MAX_DAYS && v.days <= FQ_INTERVAL_MAX_DAYS);
    REQUIRE(v.seconds >= 0 && v.seconds < 86400 && v.usecs >= 0 && v.usecs < 1000000);
    char text[64];
    int n = snprintf(text, sizeof text, "%lld days %02d:%02d:%02d.%06d", v.days, v.seconds / 3600,
                     v.seconds / 60 % 60, v.seconds % 60, v.usecs);
    REQUIRE(fq_pgtext_interval(text, (size_t)n, &again) == 0);
    REQUIRE(again.days == v.days && again.seconds == v.seconds && again.usecs == v.usecs);
}

static void check_bytea(const char *s, size_t len)
{
    long long size = fq_pgtext_bytea_size(s, len);
    if (size < 0)
        return;
    REQUIRE((size_t)size * 2 + 2 == len);
    char *out = malloc((size_t)size + 1);
    if (fq_pgtext_bytea(s, len, out) == 0) {
        static const char hex[] = "0123456789abcdef";
        for (long long i = 0; i < size; i++) {
            unsigned char b = (unsigned char)out[i];
            REQUIRE(hex[b >> 4] == tolower((unsigned char)s[2 + 2 * i]));
            REQUIRE(hex[b & 15] == tolower((unsigned char)s[3 + 2 * i]));
        }
    }
    free(out);
}

/* The canonical text of an array literal (every item quoted and escaped), or -1 when the
 * tokenizer refused it; checks the token stream's structure on the way. */
static long canonical_array(const char *s, size_t len, char *out)
{
    char *scratch = malloc(len + 1);
    fq_pgarray a;
    fq_pgarray_init(&a, s, len, scratch);
    long o = 0;
    int depth = 0, need_comma = 0;
    for (;;) {
        const char *item;
        size_t n;
        fq_pgarray_token t = fq_pgarray_next(&a, &item, &n);
        if (t >= FQ_PGARRAY_DONE) {
            free(scratch);
            if (t != FQ_PGARRAY_DONE)
                return -1;
            REQUIRE(depth == 0 && o > 0);
            return o;
        }
        if (t == FQ_PGARRAY_END) {
            REQUIRE(depth > 0);
            depth--;
            out[o++] = '}';
            need_comma = 1;
            continue;
        }
        if (need_comma)
            out[o++] = ',';
        need_comma = 1;
        if (t == FQ_PGARRAY_BEGIN) {
            REQUIRE(++depth <= FQ_PGARRAY_MAX_DEPTH);
            out[o++] = '{';
            need_comma = 0;
        } else if (t == FQ_PGARRAY_NULL) {
            memcpy(out + o, "NULL", 4);
            o += 4;
        } else {
            REQUIRE(depth > 0 && n <= len && item[n] == '\0');
            out[o++] = '"';
            for (size_t i = 0; i < n; i++) {
                if (item[i] == '"' || item[i] == '\\')
                    out[o++] = '\\';
                out[o++] = item[i];
            }
            out[o++] = '"';
        }
    }
}

static void check_array(const char *s, size_t len)
{
    size_t cap = 4 * len + 16; /* each input byte gives at most 2 bytes, plus 2 quotes per item */
    char *first = malloc(cap), *second = malloc(cap);
    long n = canonical_array(s, len, first);
    if (n >= 0) {
        char *copy = malloc((size_t)n);
        memcpy(copy, first, (size_t)n);
        long m = canonical_array(copy, (size_t)n, second);
        REQUIRE(m == n && memcmp(first, second, (size_t)n) == 0);
        free(copy);
    }
    free(first);
    free(second);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int kind = data[0] % KINDS;
    size_t len = size - 1;
    char *s = malloc(len ? len : 1);
    memcpy(s, data + 1, len);
    switch (kind) {
    case INT:
        check_int(s, len);
        break;
    case NUMERIC:
        check_numeric(s, len);
        break;
    case INTERVAL:
        check_interval(s, len);
        break;
    case BYTEA:
        check_bytea(s, len);
        break;
    case ARRAY:
        check_array(s, len);
        break;
    default:
        check_datetime(kind, s, len);
    }
    free(s);
    return 0;
}
