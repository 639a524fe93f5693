/* Nonblocking libpq state machine: connect, pipelined prepared requests, results. */
#define _POSIX_C_SOURCE 200809L /* getpid, pid_t under -std=c11 */
#include "pgconn.h"
#include "ring.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ============================================================================
 * Types
 * ========================================================================== */

/* A prepared statement: cached by SQL text, evicted least recently used first. */
typedef struct fq_stmt {
    char *sql;
    size_t len;
    uint64_t hash;
    uint32_t id; /* server name: see stmt_name; ids are never reused */
    struct fq_stmt *chain;
    struct fq_stmt *prev, *next; /* LRU list, most recent at head */
} fq_stmt;

enum { CMD_PREPARE = 1, CMD_EXEC = 2 };

/* One protocol command of a request: results come back one command at a time. */
typedef struct fq_cmd {
    uint8_t kind;
    uint8_t ok;
    uint8_t quiet; /* an EXEC whose result is dropped (fq_query.quiet) */
    uint32_t stmt_id;
} fq_cmd;

#define FQ_MAX_CMDS (2 * FQ_MAX_QUERIES)

typedef struct fq_req {
    uint64_t seq;
    PGresult *res;    /* first error, else the last result of a statement not quiet */
    uint8_t simple;   /* simple protocol: done at the first NULL result */
    uint8_t internal; /* our own DEALLOCATE: popped silently */
    uint8_t done;
    uint8_t ncmds;
    uint8_t cur;    /* command whose results are arriving */
    uint8_t failed; /* command whose error is res, when res is an error */
    fq_cmd cmds[FQ_MAX_CMDS];
} fq_req;

struct fq_pgconn {
    PGconn *pg;
    fq_pgstate state;
    pid_t pid;    /* creator: a forked child must not PQfinish the parent's session */
    int watch_fd; /* once ready: our duplicate of libpq's socket, see fq_pgconn_socket */
    fq_err err;   /* why the last call failed or the connection broke (msg NULL: no error) */
    int flush_pending;
    fq_ring reqs; /* fq_req in send order: the first ndone complete, the rest in flight */
    size_t ndone;
    uint64_t next_seq;
    /* statement cache */
    fq_stmt **buckets;
    size_t nbuckets, nstmts, max_stmts;
    fq_stmt *lru_head, *lru_tail;
    uint32_t next_stmt_id;
    uint32_t nonce; /* in every statement name: no other connection's name is ours */
    int unnamed;    /* max_statements 0: no cache, every statement sent unnamed */
    int misrouted;  /* fq_pgconn_misrouted */
};

/* ============================================================================
 * Errors
 * ========================================================================== */

/* libpq's message (copied: the next libpq call may overwrite it), else fallback. */
static void set_pq_error(fq_pgconn *c, const char *fallback)
{
    const char *msg = c->pg ? PQerrorMessage(c->pg) : NULL;
    size_t n = msg ? strlen(msg) : 0;
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == ' '))
        n--; /* libpq messages end with a newline */
    if (n == 0)
        fq_err_set(&c->err, FQ_ERR_PG, fallback);
    else
        fq_err_set_copy(&c->err, FQ_ERR_PG, msg, n, fallback);
}

/* Every in-flight request completes with a NULL result: the caller reports c->err. */
static void break_conn(fq_pgconn *c)
{
    if (c->state != FQ_PG_CLOSED)
        c->state = FQ_PG_BROKEN;
    c->flush_pending = 0;
    for (size_t i = c->ndone; i < c->reqs.count; i++) {
        fq_req *r = fq_ring_at(&c->reqs, i);
        if (r->res != NULL && PQresultStatus(r->res) != PGRES_FATAL_ERROR) {
            PQclear(r->res);
            r->res = NULL;
        }
        r->done = 1;
    }
    c->ndone = c->reqs.count;
}

/* Never raises, never prints: libpq's default would write notices to stderr. */
static void ignore_notice(void *arg, const PGresult *res)
{
    (void)arg;
    (void)res;
}

/* ============================================================================
 * Statement cache
 * ========================================================================== */

static uint64_t hash_sql(const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void lru_unlink(fq_pgconn *c, fq_stmt *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        c->lru_head = s->next;
    if (s->next)
        s->next->prev = s->prev;
    else
        c->lru_tail = s->prev;
    s->prev = s->next = NULL;
}

static void lru_push(fq_pgconn *c, fq_stmt *s)
{
    s->prev = NULL;
    s->next = c->lru_head;
    if (c->lru_head)
        c->lru_head->prev = s;
    c->lru_head = s;
    if (c->lru_tail == NULL)
        c->lru_tail = s;
}

static fq_stmt *stmt_find(fq_pgconn *c, const char *sql, size_t len, uint64_t h)
{
    for (fq_stmt *s = c->buckets[h & (c->nbuckets - 1)]; s; s = s->chain)
        if (s->hash == h && s->len == len && memcmp(s->sql, sql, len) == 0)
            return s;
    return NULL;
}

static void stmt_remove(fq_pgconn *c, fq_stmt *s)
{
    fq_stmt **p = &c->buckets[s->hash & (c->nbuckets - 1)];
    while (*p != s)
        p = &(*p)->chain;
    *p = s->chain;
    lru_unlink(c, s);
    c->nstmts--;
    free(s->sql);
    free(s);
}

/* A prepare that failed leaves no statement on the server: forget it if still cached. */
static void stmt_forget_id(fq_pgconn *c, uint32_t id)
{
    for (fq_stmt *s = c->lru_head; s; s = s->next)
        if (s->id == id) {
            stmt_remove(c, s);
            return;
        }
}

static void stmt_free_all(fq_pgconn *c)
{
    while (c->lru_head)
        stmt_remove(c, c->lru_head);
}

static const fq_stmt *stmt_by_id(const fq_pgconn *c, uint32_t id)
{
    for (const fq_stmt *s = c->lru_head; s; s = s->next)
        if (s->id == id)
            return s;
    return NULL;
}

/* "fq<nonce>_<id>": a transaction pooler shares server sessions between clients, and a
 * name another client prepared there must never run its SQL for us. */
static void stmt_name(const fq_pgconn *c, uint32_t id, char *buf, size_t size)
{
    snprintf(buf, size, "fq%08x_%u", c->nonce, id);
}

/* Unpredictable across processes and hosts (getrandom), else as varied as we can make it. */
static uint32_t make_nonce(const fq_pgconn *c)
{
    uint32_t n;
    if (getrandom(&n, sizeof(n), GRND_NONBLOCK) == (ssize_t)sizeof(n))
        return n;
    return (uint32_t)(hash_sql((const char *)&c, sizeof(c)) ^ (uint64_t)time(NULL) ^
                      ((uint64_t)getpid() << 16));
}

/* ============================================================================
 * Request queue
 * ========================================================================== */

static fq_req *req_push(fq_pgconn *c)
{
    fq_req *r = fq_ring_push(&c->reqs);
    if (r == NULL)
        return NULL;
    memset(r, 0, sizeof(*r));
    r->seq = ++c->next_seq;
    return r;
}

/* Undoes the last req_push after a send failed before anything reached libpq. */
static void req_pop_last(fq_pgconn *c)
{
    fq_ring_drop_last(&c->reqs);
    c->next_seq--;
}

static int flush(fq_pgconn *c)
{
    int r = PQflush(c->pg);
    if (r < 0) {
        set_pq_error(c, "could not send data to the server");
        break_conn(c);
        return -1;
    }
    c->flush_pending = r == 1;
    return 0;
}

/* ============================================================================
 * Connect
 * ========================================================================== */

fq_pgconn *fq_pgconn_start(const char *const *keys, const char *const *values,
                           size_t max_statements)
{
    fq_pgconn *c = calloc(1, sizeof(*c));
    if (c == NULL)
        return NULL;
    c->pid = getpid();
    c->watch_fd = -1;
    c->nonce = make_nonce(c);
    c->unnamed = max_statements == 0;
    fq_ring_init(&c->reqs, sizeof(fq_req));
    /* room for every statement of one request plus the one being evicted */
    c->max_stmts = max_statements > FQ_MAX_QUERIES ? max_statements : FQ_MAX_QUERIES + 1;
    c->nbuckets = 16;
    while (c->nbuckets < 2 * c->max_stmts)
        c->nbuckets *= 2;
    c->buckets = calloc(c->nbuckets, sizeof(fq_stmt *));
    if (c->buckets == NULL) {
        free(c);
        return NULL;
    }
    c->state = FQ_PG_CONNECTING;
    c->pg = PQconnectStartParams(keys, values, 1);
    if (c->pg == NULL) {
        free(c->buckets);
        free(c);
        return NULL;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD) {
        set_pq_error(c, "could not start the connection");
        c->state = FQ_PG_BROKEN;
    }
    PQsetNoticeReceiver(c->pg, ignore_notice, NULL);
    return c;
}

fq_want fq_pgconn_connect_poll(fq_pgconn *c)
{
    if (c->state != FQ_PG_CONNECTING)
        return FQ_WANT_NONE;
    switch (PQconnectPoll(c->pg)) {
    case PGRES_POLLING_READING:
        return FQ_WANT_READ;
    case PGRES_POLLING_WRITING:
        return FQ_WANT_WRITE;
    case PGRES_POLLING_OK:
        if (PQsetnonblocking(c->pg, 1) != 0 || PQenterPipelineMode(c->pg) != 1) {
            set_pq_error(c, "could not switch the connection to nonblocking pipeline mode");
            c->state = FQ_PG_BROKEN;
            return FQ_WANT_NONE;
        }
        c->watch_fd = fcntl(PQsocket(c->pg), F_DUPFD_CLOEXEC, 0);
        if (c->watch_fd < 0) {
            char msg[160];
            snprintf(msg, sizeof(msg), "could not duplicate the connection's socket: %s",
                     strerror(errno));
            fq_err_set_copy(&c->err, FQ_ERR_PG, msg, strlen(msg),
                            "could not duplicate the connection's socket");
            c->state = FQ_PG_BROKEN;
            return FQ_WANT_NONE;
        }
        c->state = FQ_PG_READY;
        return FQ_WANT_NONE;
    default:
        set_pq_error(c, "connection failed");
        c->state = FQ_PG_BROKEN;
        return FQ_WANT_NONE;
    }
}

/* ============================================================================
 * Accessors
 * ========================================================================== */

fq_pgstate fq_pgconn_status(const fq_pgconn *c)
{
    return c->state;
}

int fq_pgconn_socket(const fq_pgconn *c)
{
    if (c->watch_fd >= 0)
        return c->watch_fd;
    return c->pg ? PQsocket(c->pg) : -1;
}

PGconn *fq_pgconn_pg(const fq_pgconn *c)
{
    return c->state == FQ_PG_CLOSED ? NULL : c->pg;
}

const char *fq_pgconn_error(const fq_pgconn *c)
{
    if (c->state == FQ_PG_CLOSED && c->err.msg == NULL)
        return "the connection is closed";
    return c->err.msg ? c->err.msg : "the connection is broken";
}

size_t fq_pgconn_inflight(const fq_pgconn *c)
{
    return c->reqs.count - c->ndone;
}

uint64_t fq_pgconn_running(const fq_pgconn *c)
{
    if (c->ndone >= c->reqs.count)
        return 0;
    return ((const fq_req *)fq_ring_at(&c->reqs, c->ndone))->seq;
}

size_t fq_pgconn_statements(const fq_pgconn *c)
{
    return c->nstmts;
}

int fq_pgconn_misrouted(const fq_pgconn *c)
{
    return c->misrouted;
}

/* ============================================================================
 * Send
 * ========================================================================== */

/* Queues DEALLOCATE of the least recently used statement as its own request. */
static int evict_one(fq_pgconn *c)
{
    fq_stmt *victim = c->lru_tail;
    char name[32], sql[48];
    stmt_name(c, victim->id, name, sizeof(name));
    snprintf(sql, sizeof(sql), "DEALLOCATE %s", name);
    fq_req *r = req_push(c);
    if (r == NULL) {
        fq_err_set(&c->err, FQ_ERR_NOMEM, "out of memory");
        return -1;
    }
    r->internal = 1;
    r->ncmds = 1;
    r->cmds[0].kind = CMD_EXEC;
    stmt_remove(c, victim);
    if (!PQsendQueryParams(c->pg, sql, 0, NULL, NULL, NULL, NULL, 0) || !PQpipelineSync(c->pg)) {
        set_pq_error(c, "could not send DEALLOCATE");
        break_conn(c);
        return -1;
    }
    return 0;
}

/* The statement for this SQL text: cached, or newly prepared (cmd filled, *fresh=1). */
static fq_stmt *stmt_for(fq_pgconn *c, const char *sql, int *fresh)
{
    size_t len = strlen(sql);
    uint64_t h = hash_sql(sql, len);
    fq_stmt *s = stmt_find(c, sql, len, h);
    *fresh = 0;
    if (s != NULL) {
        lru_unlink(c, s);
        lru_push(c, s);
        return s;
    }
    if (c->nstmts >= c->max_stmts && evict_one(c) < 0)
        return NULL;
    s = calloc(1, sizeof(*s));
    if (s == NULL || (s->sql = malloc(len + 1)) == NULL) {
        free(s);
        fq_err_set(&c->err, FQ_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(s->sql, sql, len + 1);
    s->len = len;
    s->hash = h;
    s->id = ++c->next_stmt_id;
    s->chain = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = s;
    lru_push(c, s);
    c->nstmts++;
    *fresh = 1;
    return s;
}

static int send_simple(fq_pgconn *c, const char *sql, fq_req *r)
{
    if (fq_pgconn_inflight(c) > 1) { /* r itself is counted */
        fq_err_set(&c->err, FQ_ERR_USAGE,
                   "a simple-protocol query needs a connection with nothing in flight");
        req_pop_last(c);
        return -1;
    }
    if (PQexitPipelineMode(c->pg) != 1) {
        set_pq_error(c, "could not leave pipeline mode");
        req_pop_last(c);
        return -1;
    }
    r->simple = 1;
    if (!PQsendQuery(c->pg, sql)) {
        set_pq_error(c, "could not send the query");
        break_conn(c);
        return -1;
    }
    return 0;
}

int fq_pgconn_send(fq_pgconn *c, const fq_query *q, int nq, int simple, uint64_t *seq)
{
    if (c->state != FQ_PG_READY) {
        if (c->state == FQ_PG_CONNECTING)
            fq_err_set(&c->err, FQ_ERR_USAGE, "the connection is not established yet");
        return -1;
    }
    if (nq < 1 || nq > FQ_MAX_QUERIES || (simple && nq != 1)) {
        fq_err_set(&c->err, FQ_ERR_USAGE, "invalid number of statements in one request");
        return -1;
    }
    /* Statements first: an eviction queues its DEALLOCATE ahead of this request. */
    fq_stmt *stmts[FQ_MAX_QUERIES] = {NULL};
    int fresh[FQ_MAX_QUERIES] = {0};
    if (!simple && !c->unnamed) {
        for (int i = 0; i < nq; i++) {
            stmts[i] = stmt_for(c, q[i].sql, &fresh[i]);
            if (stmts[i] == NULL) {
                for (int j = 0; j < i; j++)
                    if (fresh[j])
                        stmt_remove(c, stmts[j]);
                return -1;
            }
        }
    }
    fq_req *r = req_push(c);
    if (r == NULL) {
        for (int j = 0; j < nq; j++)
            if (fresh[j])
                stmt_remove(c, stmts[j]);
        fq_err_set(&c->err, FQ_ERR_NOMEM, "out of memory");
        return -1;
    }
    *seq = r->seq;
    if (simple) {
        if (send_simple(c, q[0].sql, r) < 0)
            return -1;
        return flush(c);
    }
    for (int i = 0; i < nq && c->unnamed; i++) {
        /* parse, bind and execute the unnamed statement: nothing outlives the request */
        r->cmds[r->ncmds++] = (fq_cmd){CMD_EXEC, 0, q[i].quiet != 0, 0};
        if (!PQsendQueryParams(c->pg, q[i].sql, q[i].nparams, NULL, q[i].values, NULL, NULL, 0))
            goto send_failed;
    }
    for (int i = 0; i < nq && !c->unnamed; i++) {
        char name[32];
        stmt_name(c, stmts[i]->id, name, sizeof(name));
        if (fresh[i]) {
            r->cmds[r->ncmds++] = (fq_cmd){CMD_PREPARE, 0, 0, stmts[i]->id};
            if (!PQsendPrepare(c->pg, name, q[i].sql, 0, NULL))
                goto send_failed;
        }
        r->cmds[r->ncmds++] = (fq_cmd){CMD_EXEC, 0, q[i].quiet != 0, stmts[i]->id};
        if (!PQsendQueryPrepared(c->pg, name, q[i].nparams, q[i].values, NULL, NULL, 0))
            goto send_failed;
    }
    if (!PQpipelineSync(c->pg))
        goto send_failed;
    return flush(c);

send_failed:
    /* Part of the request may already be queued in libpq: the pipeline is unusable. */
    set_pq_error(c, "could not send the query");
    break_conn(c);
    return -1;
}

/* ============================================================================
 * Results
 * ========================================================================== */

static void keep_result(fq_req *r, PGresult *res)
{
    if (r->res != NULL && PQresultStatus(r->res) == PGRES_FATAL_ERROR) {
        PQclear(res); /* the first error explains the request */
        return;
    }
    if (PQresultStatus(res) == PGRES_FATAL_ERROR)
        r->failed = r->cur;
    PQclear(r->res);
    r->res = res;
}

/* DEALLOCATE ALL and DISCARD ALL (the caller's own SQL) dropped every statement on the
 * server: forget them too, so that a statement found missing later means misrouting. */
static void note_command(fq_pgconn *c, const PGresult *res)
{
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return;
    const char *tag = PQcmdStatus((PGresult *)res);
    if (strcmp(tag, "DEALLOCATE ALL") == 0 || strcmp(tag, "DISCARD ALL") == 0)
        stmt_free_all(c);
}

/* The server no longer has (26000: DEALLOCATE ALL, DISCARD ALL) or can no longer run
 * (0A000: "cached plan must not change result type" after DDL) a statement: re-prepare. */
static int stale_statement(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state && (strcmp(state, "26000") == 0 || strcmp(state, "0A000") == 0);
}

static void complete(fq_pgconn *c, fq_req *r)
{
    int stale = stale_statement(r->res);
    const char *state = stale ? PQresultErrorField(r->res, PG_DIAG_SQLSTATE) : NULL;
    /* Missing although prepared here (its prepare succeeded in an earlier request, else it
     * would be forgotten) and not dropped by our own SQL: another server session ran it. */
    if (state && strcmp(state, "26000") == 0 && r->failed < r->ncmds &&
        r->cmds[r->failed].kind == CMD_EXEC && stmt_by_id(c, r->cmds[r->failed].stmt_id))
        c->misrouted = 1;
    r->done = 1;
    c->ndone++;
    for (int i = 0; i < r->ncmds; i++)
        if ((r->cmds[i].kind == CMD_PREPARE && !r->cmds[i].ok) || stale)
            stmt_forget_id(c, r->cmds[i].stmt_id);
}

/* Pulls every result libpq can give without blocking; -1 when the connection broke. */
static int collect(fq_pgconn *c)
{
    while (c->ndone < c->reqs.count) {
        fq_req *r = fq_ring_at(&c->reqs, c->ndone);
        if (PQisBusy(c->pg))
            return 0;
        PGresult *res = PQgetResult(c->pg);
        if (r->simple) {
            if (res == NULL) {
                complete(c, r);
                if (PQenterPipelineMode(c->pg) != 1) {
                    set_pq_error(c, "could not re-enter pipeline mode");
                    return -1;
                }
                continue;
            }
            note_command(c, res);
            ExecStatusType st = PQresultStatus(res);
            if (st == PGRES_COPY_IN || st == PGRES_COPY_OUT || st == PGRES_COPY_BOTH) {
                PQclear(res);
                fq_err_set(&c->err, FQ_ERR_PG, "COPY is not supported by fraiseql's driver");
                return -1;
            }
            keep_result(r, res);
            continue;
        }
        if (res == NULL) { /* end of one command's results */
            if (r->cur < r->ncmds)
                r->cur++;
            continue;
        }
        switch (PQresultStatus(res)) {
        case PGRES_PIPELINE_SYNC:
            PQclear(res);
            complete(c, r);
            break;
        case PGRES_PIPELINE_ABORTED:
            PQclear(res);
            break;
        case PGRES_FATAL_ERROR:
            keep_result(r, res);
            break;
        case PGRES_COPY_IN:
        case PGRES_COPY_OUT:
        case PGRES_COPY_BOTH:
            PQclear(res);
            fq_err_set(&c->err, FQ_ERR_PG, "COPY is not supported by fraiseql's driver");
            return -1;
        default: {
            note_command(c, res);
            fq_cmd *cmd = r->cur < r->ncmds ? &r->cmds[r->cur] : NULL;
            if (cmd != NULL && cmd->kind == CMD_PREPARE)
                cmd->ok = 1;
            if (cmd != NULL && (cmd->kind == CMD_PREPARE || cmd->quiet))
                PQclear(res);
            else
                keep_result(r, res);
            break;
        }
        }
    }
    return 0;
}

fq_want fq_pgconn_want(const fq_pgconn *c)
{
    if (c->state != FQ_PG_READY)
        return FQ_WANT_NONE;
    return c->flush_pending ? FQ_WANT_BOTH : FQ_WANT_READ;
}

/* Whether the socket reports an error or a hang-up now (a reset, typically after the
 * server's last words): libuv (uvloop) reports POLLERR once and then stops watching the
 * socket, so the step that read those words must also read the reset while requests wait
 * (with none in flight, the next send finds it). */
static int socket_failed(const fq_pgconn *c)
{
    struct pollfd p = {.fd = PQsocket(c->pg), .events = POLLIN};
    return poll(&p, 1, 0) == 1 && (p.revents & (POLLERR | POLLHUP | POLLNVAL));
}

/* Most reads of one step while the socket reports a failure: each reads what is left
 * before the failure (the kernel's buffer is finite), the last finds the failure. */
#define FQ_MAX_FAILING_READS 64

fq_want fq_pgconn_step(fq_pgconn *c)
{
    if (c->state != FQ_PG_READY)
        return FQ_WANT_NONE;
    int reads = 0;
    do {
        if (!PQconsumeInput(c->pg)) {
            set_pq_error(c, "server closed the connection");
            break_conn(c);
            return FQ_WANT_NONE;
        }
        /* Flush while reading: the server may be blocked writing results we have not read. */
        if (c->flush_pending && flush(c) < 0)
            return FQ_WANT_NONE;
        if (collect(c) < 0 || PQstatus(c->pg) == CONNECTION_BAD) {
            if (PQstatus(c->pg) == CONNECTION_BAD)
                set_pq_error(c, "server closed the connection");
            break_conn(c);
            return FQ_WANT_NONE;
        }
    } while (fq_pgconn_inflight(c) > 0 && ++reads < FQ_MAX_FAILING_READS && socket_failed(c));
    return fq_pgconn_want(c);
}

int fq_pgconn_pop(fq_pgconn *c, uint64_t *seq, PGresult **res)
{
    while (c->ndone > 0) {
        fq_req *r = fq_ring_at(&c->reqs, 0);
        fq_ring_pop(&c->reqs); /* r stays readable until the next push */
        c->ndone--;
        if (r->internal) {
            PQclear(r->res);
            continue;
        }
        *seq = r->seq;
        *res = r->res;
        return 1;
    }
    return 0;
}

/* ============================================================================
 * Close
 * ========================================================================== */

void fq_pgconn_close(fq_pgconn *c)
{
    if (c->state == FQ_PG_CLOSED)
        return;
    if (c->state != FQ_PG_BROKEN || c->err.msg == NULL)
        fq_err_set(&c->err, FQ_ERR_USAGE, "the connection is closed");
    c->state = FQ_PG_CLOSED;
    break_conn(c);
    stmt_free_all(c);
    if (c->pg != NULL) {
        /* In a forked child the socket is the parent's session: leave it alone. */
        if (c->pid == getpid())
            PQfinish(c->pg);
        c->pg = NULL;
    }
    if (c->watch_fd >= 0) { /* the last reference once PQfinish ran; in a forked child, ours */
        close(c->watch_fd);
        c->watch_fd = -1;
    }
}

void fq_pgconn_free(fq_pgconn *c)
{
    if (c == NULL)
        return;
    fq_pgconn_close(c);
    uint64_t seq;
    PGresult *res;
    while (fq_pgconn_pop(c, &seq, &res))
        PQclear(res);
    fq_ring_free(&c->reqs);
    free(c->buckets);
    fq_err_clear(&c->err);
    free(c);
}
