/* Shared by every C file of fraiseql: branch hints, inline, and the one error record
 * the pure-C core fills in (the bindings turn it into a Python exception). */
#ifndef FQ_COMMON_H
#define FQ_COMMON_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) || defined(__clang__)
#define FQ_LIKELY(x) __builtin_expect(!!(x), 1)
#define FQ_UNLIKELY(x) __builtin_expect(!!(x), 0)
#define FQ_INLINE static inline __attribute__((always_inline))
#define FQ_NOINLINE __attribute__((noinline))
#define FQ_COLD __attribute__((cold, noinline))
#else
#define FQ_LIKELY(x) (x)
#define FQ_UNLIKELY(x) (x)
#define FQ_INLINE static inline
#define FQ_NOINLINE
#define FQ_COLD
#endif

/* The error convention of the pure-C core (rewriter, selection, pgconn):
 *   - a call that can fail returns 0 / -1, or a pointer / NULL, and on failure fills an
 *     fq_err (the caller's; fq_pgconn keeps its own, the reason it broke: fq_pgconn_error);
 *   - messages are static strings, except a message copied from libpq (fq_err_set_copy):
 *     the rewriter's error path never allocates for its message;
 *   - the bindings turn an fq_err into a Python exception, then fq_err_clear it.
 * No other sentinels: where a hot inline lookup is naturally tri-state it returns a named
 * enum, and says why. */

/* Error codes of the pure-C core. */
typedef enum fq_errcode {
    FQ_OK = 0,
    FQ_ERR_NOMEM,   /* allocation failed */
    FQ_ERR_JSON,    /* malformed JSON (or an invalid selection spec) */
    FQ_ERR_DEPTH,   /* nesting deeper than the cap */
    FQ_ERR_NONNULL, /* null or missing value in a field flagged non-null */
    FQ_ERR_KIND,    /* valid JSON, but a value of the wrong kind for the selection */
    FQ_ERR_PG,      /* libpq or the server failed (connection lost, send refused, ...) */
    FQ_ERR_USAGE,   /* a call the connection's state or the arguments do not allow */
    FQ_ERR_SYNTAX,  /* a GraphQL document the tokenizer does not take */
} fq_errcode;

/* One step of a response path: an object key (key != NULL) or a list index. */
typedef struct fq_path_elem {
    const char *key; /* borrowed from the selection that produced the error */
    size_t key_len;
    size_t index;
} fq_path_elem;

/* Filled by a failing core call: msg a static string or the copy in owned, pos the byte
 * offset in the input. path (heap, may be NULL) is where in the response the error
 * happened. fq_err_clear frees path and owned, so initialise with `fq_err err = {0};` and
 * clear once the error has been reported. */
typedef struct fq_err {
    fq_errcode code;
    const char *msg;
    size_t pos;
    fq_path_elem *path;
    size_t path_len;
    char *owned; /* heap copy msg points at (fq_err_set_copy), else NULL */
} fq_err;

static inline void fq_err_clear(fq_err *err)
{
    free(err->path);
    free(err->owned);
    err->code = FQ_OK;
    err->msg = NULL;
    err->pos = 0;
    err->path = NULL;
    err->path_len = 0;
    err->owned = NULL;
}

/* Replaces err with code and the static message msg. */
static inline void fq_err_set(fq_err *err, fq_errcode code, const char *msg)
{
    fq_err_clear(err);
    err->code = code;
    err->msg = msg;
}

/* Replaces err with code and a copy of msg[0..len); when the copy cannot be allocated the
 * static fallback is kept instead (reporting an error never fails). */
static inline void fq_err_set_copy(fq_err *err, fq_errcode code, const char *msg, size_t len,
                                   const char *fallback)
{
    fq_err_set(err, code, fallback);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return;
    memcpy(copy, msg, len);
    copy[len] = '\0';
    err->msg = err->owned = copy;
}

#endif
