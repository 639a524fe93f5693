/* Bindings of the libpq driver: the PGConn type (py_pgconn.c), Record rows, value decoding
 * by type OID; results (py_pgresult.h) and parameters (py_pgparams.h) have their own. */
#ifndef FQ_PY_PGCONN_H
#define FQ_PY_PGCONN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <libpq-fe.h>

typedef struct fq_pgconn_state {
    PyTypeObject *PGConnType;
    PyTypeObject *RecordType;
    PyObject *Decimal;    /* decimal.Decimal, for numeric */
    PyObject *UUID;       /* uuid.UUID */
    PyObject *json_loads; /* json.loads, for json/jsonb */
    PyObject *str_set_result, *str_set_exception, *str_done;
} fq_pgconn_state;

int fq_py_pgconn_exec(PyObject *module, fq_pgconn_state *st);
/* Raises the exception error_factory (fraiseql/db/connection.py's) makes for kind and msg,
 * e.g. ("interface", "..."); always returns NULL. */
PyObject *fq_pg_raise(PyObject *error_factory, const char *kind, const char *msg);
int fq_py_pgconn_traverse(fq_pgconn_state *st, visitproc visit, void *arg);
void fq_py_pgconn_clear(fq_pgconn_state *st);

/* py_pgtypes.c: one value in PostgreSQL's text output format -> Python object (new ref).
 * s is NUL-terminated at s[len]. */
int fq_pgtypes_init(void);
PyObject *fq_pg_decode(const fq_pgconn_state *st, Oid oid, const char *s, size_t len);

/* py_record.c: rows indexable by position and by column name. */
PyTypeObject *fq_record_type_create(PyObject *module);
/* Steals nothing: values is a tuple, keys a dict name -> index shared by all rows. */
PyObject *fq_record_new(PyTypeObject *tp, PyObject *values, PyObject *keys);

#endif
