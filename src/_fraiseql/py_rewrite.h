/* Bindings of the rewriter: Selection type, rewrite(), to_camel(), JSONError. */
#ifndef FQ_PY_REWRITE_H
#define FQ_PY_REWRITE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

typedef struct fq_rewrite_state {
    PyObject *JSONError;
} fq_rewrite_state;

int fq_py_rewrite_exec(PyObject *module, fq_rewrite_state *st);
int fq_py_rewrite_traverse(fq_rewrite_state *st, visitproc visit, void *arg);
void fq_py_rewrite_clear(fq_rewrite_state *st);

#endif
