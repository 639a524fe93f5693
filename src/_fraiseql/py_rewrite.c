/* Bindings of the rewriter (C API: py_rewrite.h). Thin: argument checking, the Selection
 * heap type, bytes-backed output buffers, and fq_err -> exception. */
#include "module.h"

#include <structmember.h>

#include "camel.h"
#include "py_rewrite.h"
#include "rewrite.h"

/* ======================================================================================
 * Output buffers written straight into the final bytes object
 * ====================================================================================== */

static int bytes_resize(fq_buf *b, size_t cap)
{
    PyObject *o = (PyObject *)b->owner;
    if (cap == 0 || cap > (size_t)PY_SSIZE_T_MAX) {
        Py_XDECREF(o);
        b->owner = NULL;
        b->data = NULL;
        b->len = b->cap = 0;
        return cap == 0 ? 0 : -1;
    }
    if (o == NULL)
        o = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)cap);
    else if (_PyBytes_Resize(&o, (Py_ssize_t)cap) < 0)
        o = NULL; /* _PyBytes_Resize released it */
    b->owner = o;
    if (o == NULL) {
        b->data = NULL;
        b->len = b->cap = 0;
        return -1;
    }
    b->data = PyBytes_AS_STRING(o);
    b->cap = cap;
    return 0;
}

/* Initialises b to write into a new bytes object of capacity cap; 0, or -1 with
 * MemoryError set. Release with fq_buf_free or hand over with bytes_buf_finish. */
static int bytes_buf_init(fq_buf *b, size_t cap)
{
    fq_buf_init(b);
#ifndef FQ_DEBUG
    /* Debug builds keep realloc storage: exact sizes there make ASan see overruns. */
    b->resize = bytes_resize;
#endif
    if (fq_buf_reserve(b, cap ? cap : 1) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* The bytes holding b's b->len bytes (b is left empty), or NULL with an exception set;
 * shrunk with a realloc only when more than a quarter of it is spare. */
static PyObject *bytes_buf_finish(fq_buf *b)
{
    PyObject *o;
    if (b->resize != bytes_resize) {
        o = PyBytes_FromStringAndSize(b->data ? b->data : "", (Py_ssize_t)b->len);
        fq_buf_free(b);
        return o;
    }
    o = (PyObject *)b->owner;
    if (o == NULL)
        return PyBytes_FromStringAndSize("", 0);
    if ((size_t)PyBytes_GET_SIZE(o) - b->len <= b->len / 4 + 64) {
        /* Little spare room: keep the allocation and only set the size (what a shrinking
         * realloc would have split off costs more to hand back than it is worth, for
         * bytes that are usually short-lived; at most a quarter is left unused). */
        Py_SET_SIZE(o, (Py_ssize_t)b->len);
        PyBytes_AS_STRING(o)[b->len] = '\0';
    } else if (_PyBytes_Resize(&o, (Py_ssize_t)b->len) < 0) {
        o = NULL;
    }
    b->owner = NULL;
    b->data = NULL;
    b->len = b->cap = 0;
    return o;
}

/* ======================================================================================
 * Errors
 * ====================================================================================== */

static PyObject *path_list(const fq_err *err)
{
    PyObject *list = PyList_New((Py_ssize_t)err->path_len);
    if (list == NULL)
        return NULL;
    for (size_t i = 0; i < err->path_len; i++) {
        const fq_path_elem *e = &err->path[i];
        PyObject *item = e->key ? PyUnicode_DecodeUTF8(e->key, (Py_ssize_t)e->key_len, "replace")
                                : PyLong_FromSize_t(e->index);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, item);
    }
    return list;
}

/* Raises exc_type(msg) with the given attributes set. */
static void raise_with(PyObject *exc_type, PyObject *msg, PyObject *pos, PyObject *path)
{
    PyObject *exc = PyObject_CallOneArg(exc_type, msg);
    if (exc == NULL)
        return;
    if ((pos == NULL || PyObject_SetAttrString(exc, "pos", pos) == 0) &&
        PyObject_SetAttrString(exc, "path", path) == 0)
        PyErr_SetObject(exc_type, exc);
    Py_DECREF(exc);
}

/* Sets the exception for a failed core call and clears err; json/len, when not NULL, is
 * the failing document (the message then quotes the byte found at the offset). */
static void raise_core_error(fq_rewrite_state *st, fq_err *err, const char *json, size_t len)
{
    PyObject *path = NULL, *msg = NULL, *pos = NULL;
    if (err->code == FQ_ERR_NOMEM || err->code == FQ_OK) {
        PyErr_NoMemory();
        goto done;
    }
    if ((path = path_list(err)) == NULL)
        goto done;
    if (err->code == FQ_ERR_NONNULL) {
        msg = PyUnicode_FromFormat("%s at response path %R", err->msg, path);
        if (msg != NULL)
            raise_with(st->NonNullError, msg, NULL, path);
        goto done;
    }
    char found[32];
    if (json == NULL) {
        found[0] = '\0';
    } else if (err->pos >= len) {
        snprintf(found, sizeof(found), " (found end of input)");
    } else {
        unsigned char ch = (unsigned char)json[err->pos];
        if (ch >= 0x20 && ch < 0x7F)
            snprintf(found, sizeof(found), " (found '%c')", ch);
        else
            snprintf(found, sizeof(found), " (found byte 0x%02x)", ch);
    }
    if (err->path_len)
        msg = PyUnicode_FromFormat("%s at byte %zu%s, response path %R", err->msg, err->pos, found,
                                   path);
    else
        msg = PyUnicode_FromFormat("%s at byte %zu%s", err->msg, err->pos, found);
    if (msg != NULL && (pos = PyLong_FromSize_t(err->pos)) != NULL)
        raise_with(st->JSONError, msg, pos, path);
done:
    Py_XDECREF(path);
    Py_XDECREF(msg);
    Py_XDECREF(pos);
    fq_err_clear(err);
}

PyObject *fq_py_rewrite_bytes(fq_rewrite_state *st, const fq_selection *sel, const fq_py_docs *docs,
                              size_t cap)
{
    fq_buf b;
    fq_err err = {0};
    if (bytes_buf_init(&b, cap) < 0)
        return NULL;
    int rc = docs->doc ? fq_rewrite_array(&b, docs->n, docs->doc, docs->ctx, sel, &err)
                       : fq_rewrite(&b, docs->json, docs->len, sel, &err);
    if (rc < 0) {
        raise_core_error(st, &err, docs->doc ? NULL : docs->json, docs->len);
        fq_buf_free(&b);
        return NULL;
    }
    return bytes_buf_finish(&b);
}

/* ======================================================================================
 * Selection
 * ====================================================================================== */

typedef struct SelectionObject {
    PyObject_HEAD
    PyObject *typename_; /* str or None */
    PyObject *fields;    /* tuple of (out_key, src_key, child, flags) */
    fq_selection *sel;
} SelectionObject;

static fq_rewrite_state *state_of_type(PyTypeObject *type)
{
    return &((fq_module_state *)PyType_GetModuleState(type))->rewrite;
}

const fq_selection *fq_py_selection_get(fq_rewrite_state *st, PyObject *obj)
{
    if (!Py_IS_TYPE(obj, st->SelectionType)) {
        PyErr_Format(PyExc_TypeError, "expected a fraiseql.Selection, not %.100s",
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    return ((SelectionObject *)obj)->sel;
}

/* Checks field i and fills spec (borrowing UTF-8 from the item's strings) and the
 * normalised tuple. 0, or -1 with TypeError/ValueError naming the field. */
static int parse_field(fq_rewrite_state *st, PyObject *item, Py_ssize_t i, fq_field_spec *spec,
                       PyObject **normalised)
{
    if (!PyTuple_Check(item) && !PyList_Check(item)) {
        PyErr_Format(
            PyExc_TypeError,
            "Selection field %zd must be a tuple (out_key, src_key, child[, flags]), not %.100s", i,
            Py_TYPE(item)->tp_name);
        return -1;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(item);
    PyObject **it = PySequence_Fast_ITEMS(item);
    if (n != 3 && n != 4) {
        PyErr_Format(PyExc_ValueError,
                     "Selection field %zd must have 3 or 4 items (out_key, src_key, child[, "
                     "flags]), not %zd",
                     i, n);
        return -1;
    }
    PyObject *out = it[0], *src = it[1], *child = it[2];
    if (!PyUnicode_Check(out)) {
        PyErr_Format(PyExc_TypeError, "Selection field %zd: out_key must be a str, not %.100s", i,
                     Py_TYPE(out)->tp_name);
        return -1;
    }
    if (src != Py_None && !PyUnicode_Check(src)) {
        PyErr_Format(PyExc_TypeError,
                     "Selection field %zd (%R): src_key must be a str or None, not %.100s", i, out,
                     Py_TYPE(src)->tp_name);
        return -1;
    }
    if (child != Py_None && !Py_IS_TYPE(child, st->SelectionType)) {
        PyErr_Format(PyExc_TypeError,
                     "Selection field %zd (%R): child must be a Selection or None, not %.100s", i,
                     out, Py_TYPE(child)->tp_name);
        return -1;
    }
    long flags = 0;
    if (n == 4) {
        if (!PyLong_Check(it[3])) {
            PyErr_Format(PyExc_TypeError,
                         "Selection field %zd (%R): flags must be an int (ID | NON_NULL | "
                         "ITEMS_NON_NULL | STRING | INT | NUMBER | BOOL), not %.100s",
                         i, out, Py_TYPE(it[3])->tp_name);
            return -1;
        }
        flags = PyLong_AsLong(it[3]);
        if (flags == -1 && PyErr_Occurred())
            return -1;
        if (flags < 0 || (flags & ~(long)FQ_FIELD_ALL_FLAGS)) {
            PyErr_Format(
                PyExc_ValueError,
                "Selection field %zd (%R): unknown flags %ld (use ID | NON_NULL | ITEMS_NON_NULL "
                "| STRING | INT | NUMBER | BOOL | VARIANT)",
                i, out, flags);
            return -1;
        }
    }
    if (src == Py_None && child != Py_None) {
        PyErr_Format(
            PyExc_ValueError,
            "Selection field %zd (%R): a typename field (src_key None) cannot have a child", i,
            out);
        return -1;
    }
    Py_ssize_t len;
    if ((spec->out_key = PyUnicode_AsUTF8AndSize(out, &len)) == NULL)
        return -1;
    spec->out_len = (size_t)len;
    spec->src_key = NULL;
    spec->src_len = 0;
    if (src != Py_None) {
        if ((spec->src_key = PyUnicode_AsUTF8AndSize(src, &len)) == NULL)
            return -1;
        spec->src_len = (size_t)len;
    }
    spec->child = child == Py_None ? NULL : ((SelectionObject *)child)->sel;
    spec->flags = (unsigned)flags;
    *normalised = Py_BuildValue("(OOOl)", out, src, child, flags);
    return *normalised ? 0 : -1;
}

static PyObject *Selection_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"typename", "fields", "shapes", NULL};
    fq_rewrite_state *st = state_of_type(type);
    PyObject *typename_, *fields_arg, *seq = NULL, *fields = NULL, *seen = NULL;
    fq_field_spec *specs = NULL;
    SelectionObject *self = NULL;
    fq_err err = {0};
    int shapes = st->shapes;

    if (!PyArg_ParseTupleAndKeywords(args, kwds, "OO|$p:Selection", kwlist, &typename_, &fields_arg,
                                     &shapes))
        return NULL;
    if (typename_ != Py_None && !PyUnicode_Check(typename_)) {
        PyErr_Format(PyExc_TypeError, "Selection() typename must be a str or None, not %.100s",
                     Py_TYPE(typename_)->tp_name);
        return NULL;
    }
    if (PyUnicode_Check(fields_arg) || PyBytes_Check(fields_arg) ||
        (seq = PySequence_Fast(fields_arg, "")) == NULL) {
        PyErr_Clear();
        PyErr_Format(PyExc_TypeError,
                     "Selection() fields must be a sequence of (out_key, src_key, child[, flags]) "
                     "tuples, not %.100s",
                     Py_TYPE(fields_arg)->tp_name);
        return NULL;
    }
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    if (n > FQ_SELECTION_MAX_FIELDS) {
        PyErr_Format(PyExc_ValueError, "Selection() has %zd fields, at most %d are supported", n,
                     FQ_SELECTION_MAX_FIELDS);
        goto error;
    }
    if ((fields = PyTuple_New(n)) == NULL || (seen = PySet_New(NULL)) == NULL)
        goto error;
    if ((specs = PyMem_Calloc((size_t)n + 1, sizeof(fq_field_spec))) == NULL) {
        PyErr_NoMemory();
        goto error;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i), *normalised;
        if (parse_field(st, item, i, &specs[i], &normalised) < 0)
            goto error;
        PyTuple_SET_ITEM(fields, i, normalised);
        PyObject *out = PyTuple_GET_ITEM(normalised, 0);
        int dup = PySet_Contains(seen, out);
        if (dup < 0 || (!dup && PySet_Add(seen, out) < 0))
            goto error;
        if (dup) {
            PyErr_Format(PyExc_ValueError, "Selection field %zd: duplicate out_key %R", i, out);
            goto error;
        }
        if (specs[i].src_key == NULL && typename_ == Py_None) {
            PyErr_Format(PyExc_ValueError,
                         "Selection field %zd (%R) asks for the typename but the Selection has "
                         "typename None",
                         i, out);
            goto error;
        }
    }
    const char *tn = NULL;
    Py_ssize_t tn_len = 0;
    if (typename_ != Py_None && (tn = PyUnicode_AsUTF8AndSize(typename_, &tn_len)) == NULL)
        goto error;
    if ((self = (SelectionObject *)type->tp_alloc(type, 0)) == NULL)
        goto error;
    self->sel = fq_selection_new(tn, (size_t)tn_len, specs, (size_t)n, &err);
    if (self->sel == NULL) {
        if (err.code == FQ_ERR_NOMEM)
            PyErr_NoMemory();
        else
            PyErr_Format(PyExc_ValueError, "Selection(): %s (field %zu)", err.msg, err.pos);
        fq_err_clear(&err);
        goto error;
    }
    fq_selection_use_shapes(self->sel, shapes);
    self->typename_ = Py_NewRef(typename_);
    self->fields = fields;
    Py_DECREF(seq);
    Py_DECREF(seen);
    PyMem_Free(specs);
    return (PyObject *)self;

error:
    Py_XDECREF(self);
    Py_XDECREF(seq);
    Py_XDECREF(fields);
    Py_XDECREF(seen);
    PyMem_Free(specs);
    return NULL;
}

static void Selection_dealloc(SelectionObject *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    Py_XDECREF(self->typename_);
    Py_XDECREF(self->fields);
    fq_selection_free(self->sel);
    tp->tp_free((PyObject *)self);
    Py_DECREF(tp);
}

static PyObject *Selection_repr(SelectionObject *self)
{
    return PyUnicode_FromFormat("Selection(%R, %R)", self->typename_, self->fields);
}

static PyObject *Selection_get_shapes(SelectionObject *self, void *unused)
{
    return PyBool_FromLong(self->sel->shapes_on);
}

static PyGetSetDef Selection_getset[] = {
    {"shapes", (getter)Selection_get_shapes, NULL,
     "Whether rewrites under this Selection (as a root) use learned key layouts.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMemberDef Selection_members[] = {
    {"typename", T_OBJECT, offsetof(SelectionObject, typename_), READONLY,
     "The GraphQL type name written by typename fields (src_key None)."},
    {"fields", T_OBJECT, offsetof(SelectionObject, fields), READONLY,
     "The fields as normalised (out_key, src_key, child, flags) tuples."},
    {NULL},
};

PyDoc_STRVAR(
    Selection_doc,
    "Selection(typename, fields, *, shapes=True)\n--\n\n"
    "A compiled GraphQL selection for rewrite(). fields: a sequence of\n"
    "(out_key, src_key, child[, flags]): out_key is the response key, src_key the key in the\n"
    "stored JSON (None: write typename as a string), child a Selection for objects and lists\n"
    "of objects or None for leaves, flags ID | NON_NULL | ITEMS_NON_NULL | STRING | INT |\n"
    "NUMBER | BOOL (ID: numbers become strings; NON_NULL: a null or missing value raises\n"
    "NonNullError; ITEMS_NON_NULL: so does a null item of the field's list; STRING, INT (32\n"
    "bits), NUMBER, BOOL: a non-null value of another JSON kind raises JSONError, so that\n"
    "GraphQL's coercion decides); VARIANT: a union level (every field one: out_key the value of\n"
    "the discriminator key src_key naming the member whose Selection child rewrites the\n"
    "object; none named raises JSONError). shapes=False: never learn key layouts (same\n"
    "output and errors; the root's setting applies to its children); the default is False\n"
    "when FRAISEQL_SHAPES=0 was set at import.");

static PyType_Slot Selection_slots[] = {
    {Py_tp_new, Selection_new},
    {Py_tp_dealloc, Selection_dealloc},
    {Py_tp_repr, Selection_repr},
    {Py_tp_members, Selection_members},
    {Py_tp_getset, Selection_getset},
    {Py_tp_doc, (void *)Selection_doc},
    {0, NULL},
};

static PyType_Spec Selection_spec = {
    .name = "fraiseql.Selection",
    .basicsize = sizeof(SelectionObject),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE,
    .slots = Selection_slots,
};

/* ======================================================================================
 * rewrite() and to_camel()
 * ====================================================================================== */

typedef struct input {
    const char *data;
    Py_ssize_t len;
    Py_buffer view;
    int has_view;
} input;

static int input_get(PyObject *obj, input *in, const char *fname)
{
    in->has_view = 0;
    if (PyBytes_CheckExact(obj)) {
        in->data = PyBytes_AS_STRING(obj);
        in->len = PyBytes_GET_SIZE(obj);
        return 0;
    }
    if (PyUnicode_Check(obj)) {
        in->data = PyUnicode_AsUTF8AndSize(obj, &in->len);
        return in->data ? 0 : -1;
    }
    if (PyObject_GetBuffer(obj, &in->view, PyBUF_SIMPLE) < 0) {
        PyErr_Format(PyExc_TypeError,
                     "%s() json must be bytes, str or a bytes-like object, not %.100s", fname,
                     Py_TYPE(obj)->tp_name);
        return -1;
    }
    in->has_view = 1;
    in->data = in->view.buf;
    in->len = in->view.len;
    return 0;
}

static void input_release(input *in)
{
    if (in->has_view)
        PyBuffer_Release(&in->view);
}

static PyObject *run_rewrite(PyObject *module, PyObject *json, const fq_selection *sel,
                             const char *fname)
{
    input in;
    if (input_get(json, &in, fname) < 0)
        return NULL;
    /* to_camel never grows the text; a selection may (longer keys, typenames): leave room so
     * that the common case never reallocates (untouched capacity costs nothing) */
    size_t cap = (size_t)in.len + (sel ? (size_t)in.len / 4 : 0) + 64;
    fq_py_docs docs = {.json = in.data, .len = (size_t)in.len};
    PyObject *result = fq_py_rewrite_bytes(&fq_module_get_state(module)->rewrite, sel, &docs, cap);
    input_release(&in);
    return result;
}

static PyObject *py_rewrite(PyObject *module, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "rewrite() takes 2 arguments (json, selection), %zd given",
                     nargs);
        return NULL;
    }
    const fq_selection *sel = fq_py_selection_get(&fq_module_get_state(module)->rewrite, args[1]);
    if (sel == NULL)
        return NULL;
    return run_rewrite(module, args[0], sel, "rewrite");
}

static PyObject *py_to_camel(PyObject *module, PyObject *json)
{
    return run_rewrite(module, json, NULL, "to_camel");
}

static PyObject *py_camel_name(PyObject *module, PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_Format(PyExc_TypeError, "camel_name() argument must be a str, not %.100s",
                     Py_TYPE(name)->tp_name);
        return NULL;
    }
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(name, &n);
    if (s == NULL)
        return NULL;
    if (memchr(s, '_', (size_t)n) == NULL)
        return Py_NewRef(name);
    char *dst = PyMem_Malloc((size_t)n);
    if (dst == NULL)
        return PyErr_NoMemory();
    PyObject *out = PyUnicode_DecodeUTF8(dst, (Py_ssize_t)fq_camel(dst, s, (size_t)n), NULL);
    PyMem_Free(dst);
    return out;
}

PyDoc_STRVAR(
    rewrite_doc,
    "rewrite(json, selection) -> bytes\n--\n\n"
    "Rewrite stored JSON (bytes, str or any buffer) under a Selection: an object maps to an\n"
    "object of the selected fields in selection order, an array to an array of rewritten\n"
    "elements, null to null. Raises JSONError (byte offset in the message) on malformed input\n"
    "or a value of the wrong kind, NonNullError on a null or missing NON_NULL field.");

PyDoc_STRVAR(to_camel_doc,
             "to_camel(json) -> bytes\n--\n\n"
             "Rename every object key to camelCase (user_posts -> userPosts; leading and trailing\n"
             "underscores kept), output compact. Raises JSONError on malformed input.");

PyDoc_STRVAR(camel_name_doc,
             "camel_name(name) -> str\n--\n\n"
             "The camelCase of one name by the rule to_camel renames keys with (user_posts ->\n"
             "userPosts; leading and trailing underscores kept): GraphQL field names.");

static PyMethodDef rewrite_methods[] = {
    {"rewrite", (PyCFunction)(void (*)(void))py_rewrite, METH_FASTCALL, rewrite_doc},
    {"to_camel", (PyCFunction)py_to_camel, METH_O, to_camel_doc},
    {"camel_name", (PyCFunction)py_camel_name, METH_O, camel_name_doc},
    {NULL, NULL, 0, NULL},
};

/* ======================================================================================
 * Module wiring
 * ====================================================================================== */

int fq_py_rewrite_exec(PyObject *module, fq_rewrite_state *st)
{
    /* FRAISEQL_SHAPES=0: no learned shapes by default (README, "The rewriter") */
    const char *shapes = getenv("FRAISEQL_SHAPES");
    st->shapes = shapes == NULL || strcmp(shapes, "0") != 0;
    st->JSONError = PyErr_NewExceptionWithDoc(
        "fraiseql.JSONError",
        "Malformed JSON input, or a value of the wrong kind for the selection. The message "
        "names the byte offset; attributes: pos (byte offset), path (response path).",
        PyExc_ValueError, NULL);
    if (st->JSONError == NULL || PyModule_AddObjectRef(module, "JSONError", st->JSONError) < 0)
        return -1;
    st->NonNullError = PyErr_NewExceptionWithDoc(
        "fraiseql.NonNullError",
        "A field flagged NON_NULL is null or missing; attribute path: the response path, "
        "e.g. ['userPosts', 3, 'title'].",
        PyExc_ValueError, NULL);
    if (st->NonNullError == NULL ||
        PyModule_AddObjectRef(module, "NonNullError", st->NonNullError) < 0)
        return -1;
    st->SelectionType = (PyTypeObject *)PyType_FromModuleAndSpec(module, &Selection_spec, NULL);
    if (st->SelectionType == NULL ||
        PyModule_AddObjectRef(module, "Selection", (PyObject *)st->SelectionType) < 0)
        return -1;
    if (PyModule_AddIntConstant(module, "ID", FQ_FIELD_ID) < 0 ||
        PyModule_AddIntConstant(module, "NON_NULL", FQ_FIELD_NON_NULL) < 0 ||
        PyModule_AddIntConstant(module, "ITEMS_NON_NULL", FQ_FIELD_ITEMS_NON_NULL) < 0 ||
        PyModule_AddIntConstant(module, "STRING", FQ_FIELD_STRING) < 0 ||
        PyModule_AddIntConstant(module, "INT", FQ_FIELD_INT) < 0 ||
        PyModule_AddIntConstant(module, "NUMBER", FQ_FIELD_NUMBER) < 0 ||
        PyModule_AddIntConstant(module, "BOOL", FQ_FIELD_BOOL) < 0 ||
        PyModule_AddIntConstant(module, "VARIANT", FQ_FIELD_VARIANT) < 0 ||
        PyModule_AddIntConstant(module, "MAX_DEPTH", FQ_MAX_DEPTH) < 0)
        return -1;
    return PyModule_AddFunctions(module, rewrite_methods);
}

int fq_py_rewrite_traverse(fq_rewrite_state *st, visitproc visit, void *arg)
{
    Py_VISIT(st->JSONError);
    Py_VISIT(st->NonNullError);
    Py_VISIT(st->SelectionType);
    return 0;
}

void fq_py_rewrite_clear(fq_rewrite_state *st)
{
    Py_CLEAR(st->JSONError);
    Py_CLEAR(st->NonNullError);
    Py_CLEAR(st->SelectionType);
}
