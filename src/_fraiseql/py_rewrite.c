/* Bindings of the rewriter (skeleton: the exception only; the rewriter lands next). */
#include "py_rewrite.h"

int fq_py_rewrite_exec(PyObject *module, fq_rewrite_state *st)
{
    st->JSONError = PyErr_NewExceptionWithDoc(
        "fraiseql.JSONError", "Malformed JSON input; the message names the byte offset.",
        PyExc_ValueError, NULL);
    if (st->JSONError == NULL)
        return -1;
    return PyModule_AddObjectRef(module, "JSONError", st->JSONError);
}

int fq_py_rewrite_traverse(fq_rewrite_state *st, visitproc visit, void *arg)
{
    Py_VISIT(st->JSONError);
    return 0;
}

void fq_py_rewrite_clear(fq_rewrite_state *st)
{
    Py_CLEAR(st->JSONError);
}
