/* Record: one result row, indexable by position and by column name (asyncpg-style).
 * The values are a tuple; the name -> index dict is shared by every row of a result. */
#include "py_pgconn.h"

typedef struct {
    PyObject_HEAD
    PyObject *values; /* tuple */
    PyObject *keys;   /* dict: column name -> index */
} Record;

PyObject *fq_record_new(PyTypeObject *tp, PyObject *values, PyObject *keys)
{
    Record *r = PyObject_GC_New(Record, tp);
    if (r == NULL)
        return NULL;
    r->values = Py_NewRef(values);
    r->keys = Py_NewRef(keys);
    PyObject_GC_Track(r);
    return (PyObject *)r;
}

static int Record_traverse(Record *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(self));
    Py_VISIT(self->values);
    Py_VISIT(self->keys);
    return 0;
}

static int Record_clear(Record *self)
{
    Py_CLEAR(self->values);
    Py_CLEAR(self->keys);
    return 0;
}

static void Record_dealloc(Record *self)
{
    PyTypeObject *tp = Py_TYPE(self);
    PyObject_GC_UnTrack(self);
    Record_clear(self);
    tp->tp_free(self);
    Py_DECREF(tp);
}

static PyObject *Record_subscript(Record *self, PyObject *key)
{
    if (PyUnicode_Check(key)) {
        PyObject *idx = PyDict_GetItemWithError(self->keys, key);
        if (idx == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_KeyError, "no column %R in this row", key);
            return NULL;
        }
        return Py_NewRef(PyTuple_GET_ITEM(self->values, PyLong_AsSsize_t(idx)));
    }
    return PyObject_GetItem(self->values, key); /* ints, negative ints, slices */
}

static Py_ssize_t Record_length(Record *self)
{
    return PyTuple_GET_SIZE(self->values);
}

static PyObject *Record_iter(Record *self)
{
    return PyObject_GetIter(self->values);
}

static int Record_contains(Record *self, PyObject *key)
{
    return PySequence_Contains(self->values, key);
}

static PyObject *Record_get(Record *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs < 1 || nargs > 2) {
        PyErr_SetString(PyExc_TypeError, "get() takes a column name and an optional default");
        return NULL;
    }
    PyObject *idx = PyDict_GetItemWithError(self->keys, args[0]);
    if (idx == NULL)
        return PyErr_Occurred() ? NULL : Py_NewRef(nargs == 2 ? args[1] : Py_None);
    return Py_NewRef(PyTuple_GET_ITEM(self->values, PyLong_AsSsize_t(idx)));
}

static PyObject *Record_keys(Record *self, PyObject *unused)
{
    return PyDict_Keys(self->keys);
}

static PyObject *Record_values(Record *self, PyObject *unused)
{
    return PySequence_List(self->values);
}

static PyObject *Record_items(Record *self, PyObject *unused)
{
    PyObject *names = PyDict_Keys(self->keys);
    if (names == NULL)
        return NULL;
    Py_ssize_t n = PyList_GET_SIZE(names);
    PyObject *out = PyList_New(n);
    for (Py_ssize_t i = 0; out != NULL && i < n; i++) {
        PyObject *name = PyList_GET_ITEM(names, i);
        PyObject *idx = PyDict_GetItem(self->keys, name);
        PyObject *pair =
            PyTuple_Pack(2, name, PyTuple_GET_ITEM(self->values, PyLong_AsSsize_t(idx)));
        if (pair == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, i, pair);
    }
    Py_DECREF(names);
    return out;
}

static PyObject *Record_repr(Record *self)
{
    PyObject *items = Record_items(self, NULL);
    if (items == NULL)
        return NULL;
    PyObject *out = PyUnicode_FromFormat("<Record %R>", items);
    Py_DECREF(items);
    return out;
}

static PyObject *Record_richcompare(Record *self, PyObject *other, int op)
{
    PyObject *ovalues;
    if (PyObject_TypeCheck(other, Py_TYPE(self)))
        ovalues = ((Record *)other)->values;
    else if (PyTuple_Check(other))
        ovalues = other;
    else
        Py_RETURN_NOTIMPLEMENTED;
    return PyObject_RichCompare(self->values, ovalues, op);
}

static PyMethodDef Record_methods[] = {
    {"get", (PyCFunction)(void (*)(void))Record_get, METH_FASTCALL,
     "get(name, default=None): the column's value, or default when there is no such column."},
    {"keys", (PyCFunction)Record_keys, METH_NOARGS, "Column names."},
    {"values", (PyCFunction)Record_values, METH_NOARGS, "Column values."},
    {"items", (PyCFunction)Record_items, METH_NOARGS, "(name, value) pairs."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot Record_slots[] = {
    {Py_tp_doc, "A result row: row[0], row['name'], len(row), iter(row), row.get('name')."},
    {Py_tp_dealloc, Record_dealloc},
    {Py_tp_traverse, Record_traverse},
    {Py_tp_clear, Record_clear},
    {Py_tp_repr, Record_repr},
    {Py_tp_richcompare, Record_richcompare},
    {Py_tp_hash, PyObject_HashNotImplemented},
    {Py_tp_iter, Record_iter},
    {Py_tp_methods, Record_methods},
    {Py_mp_subscript, Record_subscript},
    {Py_mp_length, Record_length},
    {Py_sq_length, Record_length},
    {Py_sq_contains, Record_contains},
    {0, NULL},
};

static PyType_Spec Record_spec = {
    .name = "fraiseql.Record",
    .basicsize = sizeof(Record),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_IMMUTABLETYPE |
             Py_TPFLAGS_DISALLOW_INSTANTIATION,
    .slots = Record_slots,
};

PyTypeObject *fq_record_type_create(PyObject *module)
{
    return (PyTypeObject *)PyType_FromModuleAndSpec(module, &Record_spec, NULL);
}
