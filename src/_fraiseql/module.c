/* fraiseql._fraiseql: multi-phase init; each binding file adds its types and exceptions
 * to the module in its own exec function and keeps them in its part of the module state. */
#include "module.h"

#include "py_gqltoken.h"

static int module_exec(PyObject *module)
{
    fq_module_state *st = fq_module_get_state(module);
    if (fq_py_rewrite_exec(module, &st->rewrite) < 0)
        return -1;
    if (fq_py_pgconn_exec(module, &st->pgconn) < 0)
        return -1;
    return fq_py_gqltoken_exec(module);
}

static int module_traverse(PyObject *module, visitproc visit, void *arg)
{
    fq_module_state *st = fq_module_get_state(module);
    if (fq_py_rewrite_traverse(&st->rewrite, visit, arg) < 0)
        return -1;
    return fq_py_pgconn_traverse(&st->pgconn, visit, arg);
}

static int module_clear(PyObject *module)
{
    fq_module_state *st = fq_module_get_state(module);
    fq_py_rewrite_clear(&st->rewrite);
    fq_py_pgconn_clear(&st->pgconn);
    return 0;
}

static void module_free(void *module)
{
    module_clear((PyObject *)module);
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, module_exec},
#if PY_VERSION_HEX >= 0x030C0000
    {Py_mod_multiple_interpreters, Py_MOD_PER_INTERPRETER_GIL_SUPPORTED},
#endif
    {0, NULL},
};

static struct PyModuleDef fraiseql_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "fraiseql._fraiseql",
    .m_doc = "fraiseql's C core: the streaming JSON rewriter, the libpq driver and the GraphQL "
             "tokenizer.",
    .m_size = sizeof(fq_module_state),
    .m_methods = NULL,
    .m_slots = module_slots,
    .m_traverse = module_traverse,
    .m_clear = module_clear,
    .m_free = module_free,
};

PyMODINIT_FUNC PyInit__fraiseql(void)
{
    return PyModuleDef_Init(&fraiseql_module);
}
