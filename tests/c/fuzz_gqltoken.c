/* libFuzzer harness of the GraphQL tokenizer (gqltoken.c; `make fuzz`).
 *
 * Input: a document, passed with its exact length in an exact-size copy, so ASan catches any
 * read past the end. Checks: a document is refused or tokenized; tokenized, its tokens are in
 * order within it, each literal is a token of the kind its placeholder says, and the shape is
 * stable: the document rebuilt from the shape (each placeholder replaced by its literal as
 * written, spaced) tokenizes to the same shape and the same literal values. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gqltoken.h"

#define REQUIRE(cond)                                                                              \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "invariant failed: %s\n", #cond);                                      \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

static int is_placeholder(unsigned char c)
{
    return c >= FQ_GQL_INT && c <= FQ_GQL_ENUM;
}

static void check_tokens(const fq_gql_doc *doc, size_t len)
{
    size_t placeholders = 0;
    for (size_t i = 0; i < doc->shape.len; i++)
        placeholders += is_placeholder((unsigned char)doc->shape.data[i]);
    REQUIRE(placeholders == doc->n_literals);
    size_t t = 0;
    for (size_t i = 0; i < doc->n_tokens; i++) {
        REQUIRE(doc->tokens[i] < len);
        REQUIRE(i == 0 || doc->tokens[i] > doc->tokens[i - 1]);
    }
    for (size_t i = 0; i < doc->n_literals; i++) {
        const fq_gql_literal *lit = &doc->literals[i];
        REQUIRE(lit->start < lit->end && lit->end <= len);
        REQUIRE(i == 0 || lit->start >= doc->literals[i - 1].end);
        REQUIRE(lit->value + lit->value_len <= doc->values.len);
        while (t < doc->n_tokens && doc->tokens[t] < lit->start)
            t++;
        REQUIRE(t < doc->n_tokens && doc->tokens[t] == lit->start);
    }
}

/* The document rebuilt from doc's shape and the literals of src; NULL if out of memory. */
static char *rebuild(const fq_gql_doc *doc, const char *src, size_t *out_len)
{
    size_t cap = doc->shape.len + 2 * doc->n_literals + 1;
    for (size_t i = 0; i < doc->n_literals; i++)
        cap += doc->literals[i].end - doc->literals[i].start;
    char *out = malloc(cap);
    if (out == NULL)
        return NULL;
    size_t n = 0, lit = 0;
    for (size_t i = 0; i < doc->shape.len; i++) {
        unsigned char c = (unsigned char)doc->shape.data[i];
        if (!is_placeholder(c)) {
            out[n++] = (char)c;
            continue;
        }
        const fq_gql_literal *l = &doc->literals[lit++];
        out[n++] = ' ';
        memcpy(out + n, src + l->start, l->end - l->start);
        n += l->end - l->start;
        out[n++] = ' ';
    }
    *out_len = n;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *src = malloc(size ? size : 1);
    if (src == NULL)
        return 0;
    memcpy(src, data, size);
    fq_gql_doc doc;
    fq_gql_doc_init(&doc, 1);
    fq_err err = {0};
    if (fq_gql_tokenize(src, size, &doc, &err) < 0) {
        REQUIRE(err.code == FQ_ERR_SYNTAX || err.code == FQ_ERR_DEPTH || err.code == FQ_ERR_NOMEM);
        REQUIRE(err.pos <= size);
        fq_err_clear(&err);
        fq_gql_doc_free(&doc);
        free(src);
        return 0;
    }
    check_tokens(&doc, size);
    size_t again_len = 0;
    char *again = rebuild(&doc, src, &again_len);
    if (again != NULL) {
        fq_gql_doc second;
        fq_gql_doc_init(&second, 0);
        REQUIRE(fq_gql_tokenize(again, again_len, &second, &err) == 0);
        REQUIRE(second.shape.len == doc.shape.len &&
                memcmp(second.shape.data, doc.shape.data, doc.shape.len) == 0);
        REQUIRE(second.n_literals == doc.n_literals);
        for (size_t i = 0; i < doc.n_literals; i++) {
            const fq_gql_literal *a = &doc.literals[i], *b = &second.literals[i];
            REQUIRE(a->kind == b->kind && a->value_len == b->value_len);
            REQUIRE(memcmp(doc.values.data + a->value, second.values.data + b->value,
                           a->value_len) == 0);
        }
        fq_gql_doc_free(&second);
        free(again);
    }
    fq_gql_doc_free(&doc);
    free(src);
    return 0;
}
