/* Module state of fraiseql._fraiseql: one sub-state per binding file, so that each
 * binding owns its types and exceptions and module.c only wires them together. */
#ifndef FQ_MODULE_H
#define FQ_MODULE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "py_pgconn.h"
#include "py_rewrite.h"

typedef struct fq_module_state {
    fq_rewrite_state rewrite;
    fq_pgconn_state pgconn;
} fq_module_state;

static inline fq_module_state *fq_module_get_state(PyObject *module)
{
    return (fq_module_state *)PyModule_GetState(module);
}

#endif
