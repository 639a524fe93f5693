/* Bindings of the rewriter: fraiseql.Selection, rewrite(), to_camel(), camel_name(), JSONError,
 * NonNullError, the ID / NON_NULL flags.
 *
 * C API for the other binding files (e.g. the libpq driver):
 *   fq_py_selection_get  the compiled selection inside a fraiseql.Selection
 *   fq_py_buf_init       an fq_buf that writes straight into the final bytes object
 *   fq_py_buf_finish     ... and hands that bytes object over, sized to what was written
 *   fq_py_rewrite_raise  turns a failed core call's fq_err into the Python exception
 * Typical use:
 *     fq_buf b; fq_err err = {0};
 *     const fq_selection *sel = fq_py_selection_get(st, obj);   // NULL: TypeError set
 *     if (sel == NULL || fq_py_buf_init(&b, len + 64) < 0) goto error;
 *     if (fq_rewrite(&b, json, len, sel, &err) < 0) {
 *         fq_py_rewrite_raise(st, &err, json, len);
 *         fq_buf_free(&b);
 *         goto error;
 *     }
 *     result = fq_py_buf_finish(&b);                              // NULL: exception set
 */
#ifndef FQ_PY_REWRITE_H
#define FQ_PY_REWRITE_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "buf.h"
#include "common.h"
#include "selection.h"

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

/* Initialises b to write into a new bytes object of capacity cap (it grows as needed).
 * 0, or -1 with MemoryError set. Release with fq_buf_free or hand over with
 * fq_py_buf_finish. */
int fq_py_buf_init(fq_buf *b, size_t cap);

/* The bytes holding b's b->len bytes (new reference; b is left empty), or NULL with an
 * exception set. Shrunk with a realloc only when more than a quarter of it is spare. Works
 * for realloc-backed buffers too (then it copies). */
PyObject *fq_py_buf_finish(fq_buf *b);

/* Sets the exception for a failed core call and clears err: JSONError (attributes pos,
 * path) for FQ_ERR_JSON/DEPTH/KIND, NonNullError (attribute path) for FQ_ERR_NONNULL,
 * MemoryError for FQ_ERR_NOMEM. json/len, when not NULL, is the failing document (the
 * message then quotes the byte found at the offset). */
void fq_py_rewrite_raise(fq_rewrite_state *st, fq_err *err, const char *json, size_t len);

#endif
