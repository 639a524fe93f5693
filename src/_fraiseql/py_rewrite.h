/* Bindings of the rewriter: fraiseql.Selection, rewrite(), to_camel(), camel_name(), JSONError,
 * NonNullError, the ID / NON_NULL flags.
 *
 * C API for the other binding files (e.g. the libpq driver):
 *   fq_py_selection_get  the compiled selection inside a fraiseql.Selection
 *   fq_py_rewrite_bytes  a core rewrite straight into a new bytes object, errors raised
 * Typical use:
 *     const fq_selection *sel = fq_py_selection_get(st, obj);   // NULL: TypeError set
 *     fq_py_docs docs = {.json = json, .len = len};
 *     if (sel == NULL || (result = fq_py_rewrite_bytes(st, sel, &docs, len + 64)) == NULL)
 *         goto error;
 */
#ifndef FQ_PY_REWRITE_H
#define FQ_PY_REWRITE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "rewrite.h"

typedef struct fq_rewrite_state {
    PyObject *JSONError;
    PyObject *NonNullError;
    PyTypeObject *SelectionType;
    int shapes; /* default of Selection(shapes=): 0 when FRAISEQL_SHAPES=0 at import */
} fq_rewrite_state;

int fq_py_rewrite_exec(PyObject *module, fq_rewrite_state *st);
int fq_py_rewrite_traverse(fq_rewrite_state *st, visitproc visit, void *arg);
void fq_py_rewrite_clear(fq_rewrite_state *st);

/* The compiled selection of obj (borrowed: valid while obj lives), or NULL with TypeError
 * set when obj is not a fraiseql.Selection. */
const fq_selection *fq_py_selection_get(fq_rewrite_state *st, PyObject *obj);

/* What fq_py_rewrite_bytes rewrites: the document json[0..len), or, when doc is set, the
 * array of the n documents doc supplies (fq_rewrite_array). */
typedef struct fq_py_docs {
    const char *json;
    size_t len;
    fq_doc_fn doc;
    void *ctx;
    size_t n;
} fq_py_docs;

/* The rewrite of docs under sel (NULL: to_camel) as a new bytes object, written in place
 * from an initial capacity of cap bytes (it grows as needed). NULL with the exception set:
 * JSONError (attributes pos, path), NonNullError (attribute path) or MemoryError. */
PyObject *fq_py_rewrite_bytes(fq_rewrite_state *st, const fq_selection *sel, const fq_py_docs *docs,
                              size_t cap);

#endif
