/* Results of the libpq driver as Python values, one conversion per request mode. */
#ifndef FQ_PY_PGRESULT_H
#define FQ_PY_PGRESULT_H

#include "py_pgconn.h"
#include "py_rewrite.h"

/* What a request resolves to (PGConn.send's mode; exported to Python as MODE_*). */
enum {
    MODE_ROWS = 0,  /* list of Records */
    MODE_ROW,       /* first Record or None */
    MODE_VAL,       /* first column of the first row, or None */
    MODE_STATUS,    /* command status, e.g. "INSERT 0 1" */
    MODE_JSON,      /* the single JSON column of the first row as bytes, b"null" if none */
    MODE_JSON_MANY, /* every row's JSON as one array, as bytes */
    MODE_SCRIPT,    /* simple protocol, several statements allowed; command status */
    MODE_PAGE,      /* a connection page's rows as its document (page.h), as bytes */
    MODE_COUNT
};

/* The modes answering JSON bytes, which a selection rewrites. */
static inline int fq_mode_is_json(long mode)
{
    return mode == MODE_JSON || mode == MODE_JSON_MANY || mode == MODE_PAGE;
}

/* For a JSON mode: the number of columns res (rows) must have and does not, else -1 (it
 * fits): one for MODE_JSON(_MANY); a page's node, position, other, total, count, backward,
 * in at least one row. */
int fq_pgresult_misfit(const PGresult *res, int mode);

/* The value res (a successful result) gives in mode; for the JSON modes (res checked with
 * fq_pgresult_misfit) rewritten under selection unless it is None. New reference, or
 * NULL with the exception set (a decoder's ValueError, the rewriter's errors). */
PyObject *fq_pgresult_value(fq_pgconn_state *st, fq_rewrite_state *rst, int mode,
                            PyObject *selection, const PGresult *res);

#endif
