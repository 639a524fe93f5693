/* Bindings of the GraphQL tokenizer (py_gqltoken.h). Thin: str -> UTF-8, fq_gql_doc ->
 * Python values, fq_err -> ValueError naming the byte offset. */
#include "py_gqltoken.h"

#include "gqltoken.h"

/* Raises what err says (MemoryError, or ValueError with the byte offset) and clears it. */
static PyObject *raise_err(fq_err *err)
{
    if (err->code == FQ_ERR_NOMEM)
        PyErr_NoMemory();
    else
        PyErr_Format(PyExc_ValueError, "%s at byte %zu", err->msg, err->pos);
    fq_err_clear(err);
    return NULL;
}

/* Tokenizes the str arg into doc; 0, or -1 with an exception set (doc then freed). */
static int tokenize(PyObject *arg, fq_gql_doc *doc)
{
    if (!PyUnicode_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "a GraphQL document must be a str, not %.100s",
                     Py_TYPE(arg)->tp_name);
        return -1;
    }
    Py_ssize_t len;
    const char *src = PyUnicode_AsUTF8AndSize(arg, &len); /* cached in the str */
    if (src == NULL)
        return -1;
    fq_err err = {0};
    if (fq_gql_tokenize(src, (size_t)len, doc, &err) < 0) {
        fq_gql_doc_free(doc);
        raise_err(&err);
        return -1;
    }
    return 0;
}

static PyObject *py_gql_shape(PyObject *self, PyObject *arg)
{
    fq_gql_doc doc;
    fq_gql_doc_init(&doc, 0);
    if (tokenize(arg, &doc) < 0)
        return NULL;
    PyObject *shape = NULL, *values = NULL, *out = NULL;
    shape =
        PyBytes_FromStringAndSize(doc.shape.data ? doc.shape.data : "", (Py_ssize_t)doc.shape.len);
    values = PyTuple_New((Py_ssize_t)doc.n_literals);
    if (shape == NULL || values == NULL)
        goto error;
    for (size_t i = 0; i < doc.n_literals; i++) {
        const fq_gql_literal *lit = &doc.literals[i];
        PyObject *v = PyUnicode_DecodeUTF8(doc.values.data + lit->value, (Py_ssize_t)lit->value_len,
                                           "strict");
        if (v == NULL)
            goto error;
        PyTuple_SET_ITEM(values, (Py_ssize_t)i, v);
    }
    out = PyTuple_Pack(2, shape, values);
error:
    Py_XDECREF(shape);
    Py_XDECREF(values);
    fq_gql_doc_free(&doc);
    return out;
}

static PyObject *py_gql_tokens(PyObject *self, PyObject *arg)
{
    fq_gql_doc doc;
    fq_gql_doc_init(&doc, 1);
    if (tokenize(arg, &doc) < 0)
        return NULL;
    PyObject *tokens = NULL, *literals = NULL, *out = NULL;
    tokens = PyTuple_New((Py_ssize_t)doc.n_tokens);
    literals = PyTuple_New((Py_ssize_t)doc.n_literals);
    if (tokens == NULL || literals == NULL)
        goto error;
    for (size_t i = 0; i < doc.n_tokens; i++) {
        PyObject *v = PyLong_FromSize_t(doc.tokens[i]);
        if (v == NULL)
            goto error;
        PyTuple_SET_ITEM(tokens, (Py_ssize_t)i, v);
    }
    for (size_t i = 0; i < doc.n_literals; i++) {
        const fq_gql_literal *lit = &doc.literals[i];
        PyObject *v =
            Py_BuildValue("(inn)", (int)lit->kind, (Py_ssize_t)lit->start, (Py_ssize_t)lit->end);
        if (v == NULL)
            goto error;
        PyTuple_SET_ITEM(literals, (Py_ssize_t)i, v);
    }
    out = PyTuple_Pack(2, tokens, literals);
error:
    Py_XDECREF(tokens);
    Py_XDECREF(literals);
    fq_gql_doc_free(&doc);
    return out;
}

PyDoc_STRVAR(gql_shape_doc,
             "gql_shape(document) -> (bytes, tuple[str, ...])\n--\n\n"
             "The shape of a GraphQL document (its tokens with each literal replaced by the\n"
             "byte of its kind, GQL_INT ... GQL_ENUM; whitespace, comments and commas dropped)\n"
             "and the literals' values: digits, names, strings unescaped, block strings as\n"
             "written. Raises ValueError naming the byte offset for what it does not take.");

PyDoc_STRVAR(gql_tokens_doc,
             "gql_tokens(document) -> (tuple[int, ...], tuple[(kind, start, end), ...])\n--\n\n"
             "The byte offset of every token of a GraphQL document, and the kind and byte span\n"
             "of each literal; ValueError as gql_shape.");

static PyMethodDef gqltoken_methods[] = {
    {"gql_shape", (PyCFunction)py_gql_shape, METH_O, gql_shape_doc},
    {"gql_tokens", (PyCFunction)py_gql_tokens, METH_O, gql_tokens_doc},
    {NULL, NULL, 0, NULL},
};

int fq_py_gqltoken_exec(PyObject *module)
{
    if (PyModule_AddIntConstant(module, "GQL_INT", FQ_GQL_INT) < 0 ||
        PyModule_AddIntConstant(module, "GQL_FLOAT", FQ_GQL_FLOAT) < 0 ||
        PyModule_AddIntConstant(module, "GQL_STRING", FQ_GQL_STRING) < 0 ||
        PyModule_AddIntConstant(module, "GQL_BLOCK_STRING", FQ_GQL_BLOCK_STRING) < 0 ||
        PyModule_AddIntConstant(module, "GQL_BOOLEAN", FQ_GQL_BOOLEAN) < 0 ||
        PyModule_AddIntConstant(module, "GQL_ENUM", FQ_GQL_ENUM) < 0)
        return -1;
    return PyModule_AddFunctions(module, gqltoken_methods);
}
