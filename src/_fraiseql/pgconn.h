/* Nonblocking libpq connection as a state machine (pure C, no Python.h).
 *
 * The caller owns the waiting: every call returns at once and says what the socket must
 * become ready for (fq_want); the caller waits (an asyncio reader/writer) and calls
 * fq_pgconn_step() again. Queries run in pipeline mode, each request ending with its own
 * sync so that one failure aborts nobody else's request; every distinct SQL text is
 * prepared once per connection (bounded LRU cache) and then executed by name, or, for
 * transaction poolers (PgBouncer < 1.21), every statement is sent unnamed. Completed
 * requests are popped in the order they were sent, with their PGresult. */
#ifndef FQ_PGCONN_H
#define FQ_PGCONN_H

#include <stdint.h>
#include <libpq-fe.h>

#include "common.h"

typedef enum fq_want {
    FQ_WANT_NONE = 0,
    FQ_WANT_READ = 1,
    FQ_WANT_WRITE = 2,
    FQ_WANT_BOTH = 3,
} fq_want;

typedef enum fq_pgstate {
    FQ_PG_CONNECTING = 0,
    FQ_PG_READY,
    FQ_PG_BROKEN, /* connection lost or failed: fq_pgconn_error() says why */
    FQ_PG_CLOSED,
} fq_pgstate;

/* One statement of a request; values are NUL-terminated text (NULL for SQL NULL). */
typedef struct fq_query {
    const char *sql;
    int nparams;
    const char *const *values;
    int quiet; /* applies or restores settings around the query: its rows answer nothing */
} fq_query;

/* Most statements one request may hold (session settings, the query, restoring them). */
#define FQ_MAX_QUERIES 3

typedef struct fq_pgconn fq_pgconn;

/* Starts connecting (PQconnectStartParams, expand_dbname). NULL only when out of memory;
 * a connection that failed at once is returned in state FQ_PG_BROKEN. max_statements
 * bounds the cache of prepared statements; 0: none, every statement is sent unnamed
 * (parse, bind and execute in one go), which a transaction pooler can route anywhere. */
fq_pgconn *fq_pgconn_start(const char *const *keys, const char *const *values,
                           size_t max_statements);
/* Advances the connection handshake: FQ_WANT_NONE once ready (or broken). */
fq_want fq_pgconn_connect_poll(fq_pgconn *c);

fq_pgstate fq_pgconn_status(const fq_pgconn *c);
/* The descriptor to wait on. Once connected, a duplicate of libpq's socket that c owns
 * until fq_pgconn_close: libpq closes its own the moment it finds the connection lost
 * (inside a send or a step), and a watcher's registration of that number would be left
 * stale, or handed to the next socket that reuses the number, before the watcher knows. */
int fq_pgconn_socket(const fq_pgconn *c);
PGconn *fq_pgconn_pg(const fq_pgconn *c); /* NULL once closed */
/* The message of the connection's fq_err (common.h): why its last call failed or why it
 * broke; valid until the next call on c. */
const char *fq_pgconn_error(const fq_pgconn *c);
size_t fq_pgconn_inflight(const fq_pgconn *c);
/* Seq of the request the server runs now (the oldest not complete, our own DEALLOCATEs
 * included): a cancel sent now lands on it, or on a later one if it finishes first.
 * 0 when nothing is in flight. */
uint64_t fq_pgconn_running(const fq_pgconn *c);
size_t fq_pgconn_statements(const fq_pgconn *c);
/* 1 once a statement this connection prepared, and still holds as prepared, was missing
 * on the server: the server session changed under the connection (a transaction pooler
 * routes each transaction to any server connection). Sticky. */
int fq_pgconn_misrouted(const fq_pgconn *c);

/* Queues a request of nq statements (prepared, one sync) and sends what the socket
 * takes; the request answers with its first error, else with the last result of a
 * statement that is not quiet; simple=1 sends one parameterless SQL text with the simple protocol
 * (may hold several statements; only when nothing is in flight). Returns 0 and the request's
 * sequence number, or -1 with fq_pgconn_error() set (the connection may then be broken). */
int fq_pgconn_send(fq_pgconn *c, const fq_query *q, int nq, int simple, uint64_t *seq);

/* What the socket must become ready for right now (READ, or BOTH while a send is
 * only partly flushed; NONE unless the connection is ready). */
fq_want fq_pgconn_want(const fq_pgconn *c);

/* Reads what arrived, flushes what is pending, completes requests. Never blocks. */
fq_want fq_pgconn_step(fq_pgconn *c);

/* Pops the oldest completed request: 1 with its seq and result (caller PQclears; NULL
 * result means the connection broke first), 0 when none is complete. */
int fq_pgconn_pop(fq_pgconn *c, uint64_t *seq, PGresult **res);

/* Closes the socket (never PQfinish in a forked child) and breaks pending requests. */
void fq_pgconn_close(fq_pgconn *c);
void fq_pgconn_free(fq_pgconn *c);

#endif
