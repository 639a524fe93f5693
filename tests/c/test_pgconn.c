/* C-level test of the libpq state machine (pgconn.c), without Python: waits with poll().
 * Usage: test_pgconn DSN   (run by tests/test_pgconn_c.py against the test server) */
#define _POSIX_C_SOURCE 200809L
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "pgconn.h"

static void wait_for(fq_pgconn *c, fq_want want)
{
    struct pollfd p = {fq_pgconn_socket(c), 0, 0};
    if (want & FQ_WANT_READ)
        p.events |= POLLIN;
    if (want & FQ_WANT_WRITE)
        p.events |= POLLOUT;
    if (poll(&p, 1, 10000) <= 0) {
        fprintf(stderr, "poll timed out\n");
        exit(2);
    }
}

static fq_pgconn *connect_to(const char *dsn, size_t max_statements)
{
    const char *keys[] = {"dbname", NULL};
    const char *values[] = {dsn, NULL};
    fq_pgconn *c = fq_pgconn_start(keys, values, max_statements);
    if (c == NULL)
        exit(2);
    fq_want want = FQ_WANT_WRITE;
    while (fq_pgconn_status(c) == FQ_PG_CONNECTING) {
        wait_for(c, want);
        want = fq_pgconn_connect_poll(c);
    }
    return c;
}

/* Steps until n requests completed; results[i] in send order (caller clears). */
static void collect(fq_pgconn *c, int n, PGresult **results, uint64_t *seqs)
{
    int got = 0;
    while (got < n) {
        fq_want want = fq_pgconn_step(c);
        while (got < n && fq_pgconn_pop(c, &seqs[got], &results[got]))
            got++;
        if (got < n) {
            if (want == FQ_WANT_NONE) {
                fprintf(stderr, "connection broke: %s\n", fq_pgconn_error(c));
                exit(2);
            }
            wait_for(c, want);
        }
    }
}

static uint64_t send1(fq_pgconn *c, const char *sql, int nparams, const char *const *values)
{
    fq_query q = {sql, nparams, values, 0};
    uint64_t seq = 0;
    CHECK(fq_pgconn_send(c, &q, 1, 0, &seq) == 0);
    return seq;
}

static const char *value(PGresult *r)
{
    return r && PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 ? PQgetvalue(r, 0, 0) : "";
}

/* Collects the next request's result: whether its first value equals want. */
static int next_value_is(fq_pgconn *c, const char *want)
{
    PGresult *r;
    uint64_t seq;
    collect(c, 1, &r, &seq);
    int same = strcmp(value(r), want) == 0;
    PQclear(r);
    return same;
}

static void test_unreachable(void)
{
    fq_pgconn *c = connect_to("postgresql://postgres@127.0.0.1:1/postgres", 16);
    CHECK(fq_pgconn_status(c) == FQ_PG_BROKEN);
    CHECK(strstr(fq_pgconn_error(c), "127.0.0.1") != NULL);
    uint64_t seq;
    fq_query q = {"SELECT 1", 0, NULL, 0};
    CHECK(fq_pgconn_send(c, &q, 1, 0, &seq) == -1);
    fq_pgconn_free(c);
}

static void test_pipeline_isolates_failures(const char *dsn)
{
    fq_pgconn *c = connect_to(dsn, 16);
    CHECK(fq_pgconn_status(c) == FQ_PG_READY);
    const char *v41[] = {"41"};
    uint64_t s[3], got[3];
    PGresult *r[3];
    s[0] = send1(c, "SELECT $1::int + 1", 1, v41);
    s[1] = send1(c, "SELECT * FROM no_such_table_here", 0, NULL);
    s[2] = send1(c, "SELECT 'ok'", 0, NULL);
    CHECK(fq_pgconn_inflight(c) == 3);
    CHECK(fq_pgconn_running(c) == s[0]);
    collect(c, 1, r, got);
    /* the oldest not complete: a cancel now would reach it (one step may complete more) */
    size_t left = fq_pgconn_inflight(c);
    CHECK(fq_pgconn_running(c) == (left == 2 ? s[1] : left == 1 ? s[2] : 0));
    collect(c, 2, r + 1, got + 1);
    CHECK(fq_pgconn_running(c) == 0);
    CHECK(got[0] == s[0] && got[1] == s[1] && got[2] == s[2]);
    CHECK(strcmp(value(r[0]), "42") == 0);
    CHECK(PQresultStatus(r[1]) == PGRES_FATAL_ERROR);
    CHECK(strcmp(PQresultErrorField(r[1], PG_DIAG_SQLSTATE), "42P01") == 0);
    CHECK(strcmp(value(r[2]), "ok") == 0);
    /* the failed prepare is not cached: 2 statements, not 3 */
    CHECK(fq_pgconn_statements(c) == 2);
    for (int i = 0; i < 3; i++)
        PQclear(r[i]);
    fq_pgconn_free(c);
}

static void test_statement_cache_is_bounded(const char *dsn)
{
    fq_pgconn *c = connect_to(dsn, 4);
    for (int i = 0; i < 40; i++) {
        char sql[64], want[16];
        snprintf(sql, sizeof(sql), "SELECT %d + $1::int", i);
        snprintf(want, sizeof(want), "%d", i + 1);
        const char *one[] = {"1"};
        uint64_t seq = send1(c, sql, 1, one);
        /* from the fifth statement on, our DEALLOCATE of the oldest runs first */
        CHECK((fq_pgconn_running(c) == seq) == (i < 4));
        CHECK(next_value_is(c, want));
        CHECK(fq_pgconn_statements(c) <= 4);
    }
    send1(c, "SELECT count(*) FROM pg_prepared_statements", 0, NULL);
    PGresult *r;
    uint64_t seq;
    collect(c, 1, &r, &seq);
    CHECK(atoi(value(r)) <= 5); /* the cache plus this statement */
    PQclear(r);
    fq_pgconn_free(c);
}

static void test_two_statements_share_one_transaction(const char *dsn)
{
    fq_pgconn *c = connect_to(dsn, 16);
    const char *set[] = {"application_name", "from-the-prefix"};
    fq_query q[2] = {{"SELECT set_config($1, $2, true)", 2, set, 1},
                     {"SELECT current_setting('application_name')", 0, NULL, 0}};
    uint64_t seq;
    CHECK(fq_pgconn_send(c, q, 2, 0, &seq) == 0);
    CHECK(next_value_is(c, "from-the-prefix"));
    send1(c, "SELECT current_setting('application_name')", 0, NULL);
    CHECK(!next_value_is(c, "from-the-prefix")); /* set_config(..., true) ended with it */
    fq_pgconn_free(c);
}

/* The query answers, not the quiet statements around it: its rows, or its error (the
 * statements after a failure are skipped, never reported in its place). */
static void test_quiet_statements_around_the_query(const char *dsn)
{
    fq_pgconn *c = connect_to(dsn, 16);
    const char *set[] = {"application_name", "around"};
    fq_query q[3] = {{"SELECT set_config($1, $2, true)", 2, set, 1},
                     {"SELECT current_setting('application_name')", 0, NULL, 0},
                     {"SELECT 'the quiet suffix'", 0, NULL, 1}};
    uint64_t seq;
    CHECK(fq_pgconn_send(c, q, 3, 0, &seq) == 0);
    CHECK(next_value_is(c, "around"));
    q[1].sql = "SELECT 1/0";
    q[2].sql = "SELECT * FROM no_such_table_after";
    CHECK(fq_pgconn_send(c, q, 3, 0, &seq) == 0);
    PGresult *r;
    collect(c, 1, &r, &seq);
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    CHECK(strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "22012") == 0);
    PQclear(r);
    q[1].sql = "SELECT 'query ok'";
    CHECK(fq_pgconn_send(c, q, 3, 0, &seq) == 0); /* a failing suffix is the request's error */
    collect(c, 1, &r, &seq);
    CHECK(PQresultStatus(r) == PGRES_FATAL_ERROR);
    CHECK(strcmp(PQresultErrorField(r, PG_DIAG_SQLSTATE), "42P01") == 0);
    PQclear(r);
    CHECK(fq_pgconn_send(c, q, 4, 0, &seq) == -1);
    fq_pgconn_free(c);
}

static void test_simple_protocol_and_close(const char *dsn)
{
    fq_pgconn *c = connect_to(dsn, 16);
    fq_query q = {"SELECT 1; SELECT 2", 0, NULL, 0};
    uint64_t seq;
    CHECK(fq_pgconn_send(c, &q, 1, 1, &seq) == 0);
    CHECK(next_value_is(c, "2"));
    send1(c, "SELECT 'back in pipeline mode'", 0, NULL);
    CHECK(next_value_is(c, "back in pipeline mode"));
    PGresult *r;
    /* a request in flight when the connection closes completes with a NULL result */
    send1(c, "SELECT pg_sleep(10)", 0, NULL);
    fq_pgconn_close(c);
    CHECK(fq_pgconn_pop(c, &seq, &r) == 1 && r == NULL);
    CHECK(fq_pgconn_status(c) == FQ_PG_CLOSED);
    CHECK(fq_pgconn_send(c, &q, 1, 0, &seq) == -1);
    CHECK(strstr(fq_pgconn_error(c), "closed") != NULL);
    CHECK(fq_pgconn_step(c) == FQ_WANT_NONE);
    fq_pgconn_free(c);
}

static uint64_t send_script(fq_pgconn *c, const char *sql)
{
    fq_query q = {sql, 0, NULL, 0};
    uint64_t seq = 0;
    CHECK(fq_pgconn_send(c, &q, 1, 1, &seq) == 0);
    return seq;
}

/* Collects the next request's result: whether it failed with SQLSTATE state. */
static int next_error_is(fq_pgconn *c, const char *state)
{
    PGresult *r;
    uint64_t seq;
    collect(c, 1, &r, &seq);
    const char *got = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    int same = got != NULL && strcmp(got, state) == 0;
    PQclear(r);
    return same;
}

static void test_unnamed_statements(const char *dsn)
{
    fq_pgconn *c = connect_to(dsn, 0);
    const char *v41[] = {"41"};
    send1(c, "SELECT $1::int + 1", 1, v41);
    send1(c, "SELECT * FROM no_such_table_here", 0, NULL);
    fq_query two[] = {{"SELECT set_config('fq.t', $1, true)", 1, v41, 1},
                      {"SELECT current_setting('fq.t')", 0, NULL, 0}};
    uint64_t seq;
    CHECK(fq_pgconn_send(c, two, 2, 0, &seq) == 0);
    send1(c, "SELECT count(*) FROM pg_prepared_statements", 0, NULL);
    CHECK(next_value_is(c, "42"));
    CHECK(next_error_is(c, "42P01"));
    CHECK(next_value_is(c, "41")); /* one request, one transaction: the setting holds */
    CHECK(next_value_is(c, "0"));  /* nothing named on the server */
    CHECK(fq_pgconn_statements(c) == 0 && !fq_pgconn_misrouted(c));
    fq_pgconn_free(c);
}

/* Statement names are unique to the connection; one found missing although prepared here
 * means the server session changed under it; DEALLOCATE ALL is the caller's, not that. */
static void test_missing_statements(const char *dsn)
{
    fq_pgconn *c = connect_to(dsn, 16);
    send1(c, "SELECT 'a'", 0, NULL);
    CHECK(next_value_is(c, "a"));
    send_script(c, "DEALLOCATE ALL");
    CHECK(next_value_is(c, "") && fq_pgconn_statements(c) == 0);
    send1(c, "SELECT 'a'", 0, NULL);
    CHECK(next_value_is(c, "a") && !fq_pgconn_misrouted(c));
    send1(c, "SELECT name FROM pg_prepared_statements WHERE statement = 'SELECT ''a'''", 0, NULL);
    PGresult *r;
    uint64_t seq;
    collect(c, 1, &r, &seq);
    CHECK(strncmp(value(r), "fq", 2) == 0 && strchr(value(r), '_') != NULL);
    char sql[96];
    snprintf(sql, sizeof(sql), "DEALLOCATE %s", value(r)); /* as another session would lack it */
    PQclear(r);
    send_script(c, sql);
    CHECK(next_value_is(c, ""));
    send1(c, "SELECT 'a'", 0, NULL);
    CHECK(next_error_is(c, "26000") && fq_pgconn_misrouted(c));
    fq_pgconn_free(c);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DSN\n", argv[0]);
        return 2;
    }
    test_unreachable();
    test_pipeline_isolates_failures(argv[1]);
    test_statement_cache_is_bounded(argv[1]);
    test_two_statements_share_one_transaction(argv[1]);
    test_quiet_statements_around_the_query(argv[1]);
    test_simple_protocol_and_close(argv[1]);
    test_unnamed_statements(argv[1]);
    test_missing_statements(argv[1]);
    if (failures == 0)
        printf("test_pgconn: all passed\n");
    return failures ? 1 : 0;
}
