/* C unit tests of the decoders of PostgreSQL text values (pgtext.c), run by `make test-c`.
 * Inputs are copied into exact-size heap buffers, so ASan catches a read past the end. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pgtext.h"

/* An exact-size, unterminated heap copy of a C string. */
static char *dup_exact(const char *s)
{
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    return p;
}

static int int_of(const char *s, long long *v)
{
    char *p = dup_exact(s);
    int rc = fq_pgtext_int(p, strlen(s), v);
    free(p);
    return rc;
}

static void test_int(void)
{
    long long v = 0;
    CHECK(int_of("42", &v) == 0 && v == 42);
    CHECK(int_of("-9223372036854775808", &v) == 0 && v == (-9223372036854775807LL - 1));
    CHECK(int_of("9223372036854775807", &v) == 0 && v == 9223372036854775807LL);
    CHECK(int_of("9223372036854775808", &v) < 0);
    CHECK(int_of("+7", &v) == 0 && v == 7);
    CHECK(int_of("", &v) < 0 && int_of("-", &v) < 0 && int_of("1x", &v) < 0);
    CHECK(int_of(" 1", &v) < 0 && int_of("1_0", &v) < 0);
}

static int numeric_ok(const char *s)
{
    char *p = dup_exact(s);
    int rc = fq_pgtext_numeric(p, strlen(s));
    free(p);
    return rc == 0;
}

static void test_numeric(void)
{
    CHECK(numeric_ok("0") && numeric_ok("-1.50") && numeric_ok("123456789012345678901234.5"));
    CHECK(numeric_ok("NaN") && numeric_ok("Infinity") && numeric_ok("-Infinity"));
    CHECK(!numeric_ok("") && !numeric_ok("1.") && !numeric_ok(".5") && !numeric_ok("1e5"));
    CHECK(!numeric_ok("+1") && !numeric_ok("nan") && !numeric_ok("1.2.3") && !numeric_ok("-"));
}

static int dt_of(int kind, const char *s, fq_pg_datetime *v)
{
    char *p = dup_exact(s);
    size_t n = strlen(s);
    int rc = kind == 0   ? fq_pgtext_date(p, n, v)
             : kind == 1 ? fq_pgtext_time(p, n, 0, v)
             : kind == 2 ? fq_pgtext_time(p, n, 1, v)
             : kind == 3 ? fq_pgtext_timestamp(p, n, 0, v)
                         : fq_pgtext_timestamp(p, n, 1, v);
    free(p);
    return rc;
}

static void test_datetime(void)
{
    fq_pg_datetime v;
    CHECK(dt_of(0, "2024-02-29", &v) == 0 && v.year == 2024 && v.month == 2 && v.day == 29);
    CHECK(dt_of(0, "2023-02-29", &v) < 0 && dt_of(0, "2024-13-01", &v) < 0);
    CHECK(dt_of(0, "0000-01-01", &v) < 0 && dt_of(0, "10000-01-01", &v) < 0);
    CHECK(dt_of(0, "2024-01-01 BC", &v) < 0 && dt_of(0, "2024-01-0", &v) < 0);
    CHECK(dt_of(0, "infinity", &v) == 0 && v.infinity == 1);
    CHECK(dt_of(0, "-infinity", &v) == 0 && v.infinity == -1);
    CHECK(dt_of(1, "12:34:56.789", &v) == 0 && v.hour == 12 && v.second == 56 && v.usec == 789000);
    CHECK(dt_of(1, "24:00:00", &v) == 0 && v.hour == 23 && v.usec == 999999);
    CHECK(dt_of(1, "24:00:01", &v) < 0 && dt_of(1, "12:60:00", &v) < 0);
    CHECK(dt_of(1, "12:00:00+01", &v) < 0 && dt_of(1, "12:00", &v) < 0);
    CHECK(dt_of(2, "12:00:00-05:30", &v) == 0 && v.has_tz && v.tz_offset == -19800);
    CHECK(dt_of(2, "12:00:00+01:02:03", &v) == 0 && v.tz_offset == 3723);
    CHECK(dt_of(2, "12:00:00", &v) < 0 && dt_of(2, "12:00:00+24", &v) < 0);
    CHECK(dt_of(3, "2024-05-06 07:08:09.123456", &v) == 0 && v.minute == 8 && v.usec == 123456);
    CHECK(dt_of(3, "2024-05-06 24:00:00", &v) < 0 && dt_of(3, "2024-05-06T07:08:09", &v) < 0);
    CHECK(dt_of(4, "2024-05-06 07:08:09+02", &v) == 0 && v.tz_offset == 7200);
    CHECK(dt_of(4, "2024-05-06 07:08:09+00 BC", &v) < 0);
    CHECK(dt_of(4, "infinity", &v) == 0 && v.infinity == 1);
}

static int interval_of(const char *s, fq_pg_interval *v)
{
    char *p = dup_exact(s);
    int rc = fq_pgtext_interval(p, strlen(s), v);
    free(p);
    return rc;
}

static void test_interval(void)
{
    fq_pg_interval v;
    CHECK(interval_of("00:00:00", &v) == 0 && v.days == 0 && v.seconds == 0 && v.usecs == 0);
    CHECK(interval_of("1 year 2 mons 3 days 04:05:06.5", &v) == 0 && v.days == 365 + 60 + 3 &&
          v.seconds == 4 * 3600 + 5 * 60 + 6 && v.usecs == 500000);
    /* timedelta's normalization: -1 us is -1 day + 86399.999999 s */
    CHECK(interval_of("-00:00:00.000001", &v) == 0 && v.days == -1 && v.seconds == 86399 &&
          v.usecs == 999999);
    CHECK(interval_of("-1 days +02:03:00", &v) == 0 && v.days == -1 && v.seconds == 7380);
    CHECK(interval_of("100:00:00", &v) == 0 && v.days == 4 && v.seconds == 4 * 3600);
    CHECK(interval_of("1 fortnight", &v) < 0 && interval_of("1 dayz", &v) < 0);
    CHECK(interval_of("day", &v) < 0 && interval_of("1:2:3", &v) < 0);
    CHECK(interval_of("178000000 years", &v) < 0); /* beyond timedelta */
    CHECK(interval_of("999999999999 years 999999999999 years", &v) < 0);
}

static void test_bytea(void)
{
    char out[4];
    char *p = dup_exact("\\x00fFa1");
    CHECK(fq_pgtext_bytea_size(p, 8) == 3);
    CHECK(fq_pgtext_bytea(p, 8, out) == 0 && memcmp(out, "\x00\xff\xa1", 3) == 0);
    CHECK(fq_pgtext_bytea_size(p, 7) < 0 && fq_pgtext_bytea_size(p, 1) < 0);
    free(p);
    p = dup_exact("\\x0g");
    CHECK(fq_pgtext_bytea(p, 4, out) < 0);
    free(p);
    CHECK(fq_pgtext_bytea_size("\\x", 2) == 0 && fq_pgtext_bytea("\\x", 2, out) == 0);
}

/* The tokens of an array literal as a compact string: [ ] , N and items in <>; then the end
 * token's name. */
static void tokens(const char *s, char *out, size_t cap)
{
    size_t len = strlen(s), o = 0;
    char *p = dup_exact(s), *scratch = malloc(len + 1);
    fq_pgarray a;
    fq_pgarray_init(&a, p, len, scratch);
    for (;;) {
        const char *item;
        size_t n;
        fq_pgarray_token t = fq_pgarray_next(&a, &item, &n);
        const char *end = t == FQ_PGARRAY_DONE        ? "."
                          : t == FQ_PGARRAY_MALFORMED ? "!malformed"
                          : t == FQ_PGARRAY_TOO_DEEP  ? "!deep"
                          : t == FQ_PGARRAY_TRAILING  ? "!trailing"
                                                      : NULL;
        if (end) {
            snprintf(out + o, cap - o, "%s", end);
            break;
        }
        if (t == FQ_PGARRAY_ITEM)
            o += (size_t)snprintf(out + o, cap - o, "<%.*s>", (int)n, item);
        else
            o += (size_t)snprintf(out + o, cap - o, "%s",
                                  t == FQ_PGARRAY_BEGIN ? "["
                                  : t == FQ_PGARRAY_END ? "]"
                                                        : "N");
    }
    free(p);
    free(scratch);
}

#define TOKENS(in, want)                                                                           \
    do {                                                                                           \
        char got_[256];                                                                            \
        tokens(in, got_, sizeof got_);                                                             \
        CHECK(strcmp(got_, want) == 0);                                                            \
        if (strcmp(got_, want) != 0)                                                               \
            fprintf(stderr, "  %s -> %s, want %s\n", in, got_, want);                              \
    } while (0)

static void test_array(void)
{
    TOKENS("{}", "[].");
    TOKENS("{1,2,NULL}", "[<1><2>N].");
    TOKENS("{\"a b\",\"c\\\"d\",\"NULL\"}", "[<a b><c\"d><NULL>].");
    TOKENS("{{1,2},{3,4}}", "[[<1><2>][<3><4>]].");
    TOKENS("[0:1]={a,b}", "[<a><b>].");
    TOKENS("{,}", "[<><>].");
    TOKENS("{{{{{{1}}}}}}", "[[[[[[<1>]]]]]].");
    TOKENS("{{{{{{{1}}}}}}}", "[[[[[[!deep");
    TOKENS("[0:1]", "!trailing");
    TOKENS("{1}x", "[<1>]!trailing");
    TOKENS("", "!malformed");
    TOKENS("{1", "[<1>!malformed");
    TOKENS("{\"a", "[!malformed");
    TOKENS("{\"a\\", "[!malformed");
    TOKENS("{1}}", "[<1>]!trailing");
}

int main(void)
{
    test_int();
    test_numeric();
    test_datetime();
    test_interval();
    test_bytea();
    test_array();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    puts("test_pgtext: all checks passed");
    return 0;
}
