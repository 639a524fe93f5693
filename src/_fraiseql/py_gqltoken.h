/* Bindings of the GraphQL tokenizer (gqltoken.h): gql_shape(), gql_tokens() and the GQL_*
 * literal kinds, for fraiseql/plan_cache.py. No state of their own. */
#ifndef FQ_PY_GQLTOKEN_H
#define FQ_PY_GQLTOKEN_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

int fq_py_gqltoken_exec(PyObject *module);

#endif
