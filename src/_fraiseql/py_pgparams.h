/* Parameters of the libpq driver: the statements of one request, their Python arguments
 * turned into the NUL-terminated texts libpq sends. */
#ifndef FQ_PY_PGPARAMS_H
#define FQ_PY_PGPARAMS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pgconn.h"

/* Statements with up to this many parameters need no allocation for their values. */
#define FQ_STACK_PARAMS 16

/* One request being built: q[0..nq) for fq_pgconn_send, valid until fq_pgparams_free. */
typedef struct fq_pgparams {
    fq_query q[FQ_MAX_QUERIES];
    int nq;
    PyObject *adapter;       /* borrowed: value -> str | None, for types C does not know */
    PyObject *error_factory; /* borrowed: makes the DataError / InterfaceError raised */
    PyObject *keep;          /* the str objects whose UTF-8 the values borrow */
    const char *stack[FQ_MAX_QUERIES][FQ_STACK_PARAMS];
    const char **heap[FQ_MAX_QUERIES]; /* values of statements with more parameters */
} fq_pgparams;

/* 0, or -1 with MemoryError set (then p needs no fq_pgparams_free). */
int fq_pgparams_init(fq_pgparams *p, PyObject *adapter, PyObject *error_factory);

/* Appends the statement sql (str) with args (tuple): None is SQL NULL; str, bool, int and
 * float are converted here, anything else by the adapter. quiet: fq_query.quiet. 0, or -1
 * with the exception set (TypeError, or the factory's error naming the parameter). */
int fq_pgparams_add(fq_pgparams *p, PyObject *sql, PyObject *args, int quiet);

void fq_pgparams_free(fq_pgparams *p);

#endif
