/* GraphQL documents -> their shape: one pass over the bytes of an executable document that
 * gives the token stream with every literal (numbers, strings, block strings, booleans, enum
 * values) replaced by a one-byte placeholder of its kind, comments, whitespace and commas
 * dropped, and the literals' values with their byte offsets. Two documents with the same
 * shape differ only in their literals, so a plan built for one serves the other
 * (fraiseql/plan_cache.py). Pure C (no Python.h): tested and fuzzed from C.
 *
 * The lexer is stricter than graphql-core's, never looser: whatever it refuses is parsed by
 * graphql-core from the original text, which words the error (a control character in a
 * string, a byte order mark, `\u{...}` escapes are refused here, not necessarily there). */
#ifndef FQ_GQLTOKEN_H
#define FQ_GQLTOKEN_H

#include <stddef.h>

#include "buf.h"
#include "common.h"

/* Nesting of (), [] and {} beyond which a document is refused (graphql-core then parses it). */
#define FQ_GQL_MAX_DEPTH 128
/* Documents longer than this are refused, so that offsets and counts stay small. */
#define FQ_GQL_MAX_BYTES (1u << 20)

/* The kind of a literal, which is also its placeholder byte in the shape. */
typedef enum fq_gql_kind {
    FQ_GQL_INT = 1,
    FQ_GQL_FLOAT,
    FQ_GQL_STRING,
    FQ_GQL_BLOCK_STRING,
    FQ_GQL_BOOLEAN,
    FQ_GQL_ENUM,
} fq_gql_kind;

/* One literal: its token at [start, end) of the document, its value at [value, value +
 * value_len) of fq_gql_doc.values: the digits of a number, the name of a boolean or enum
 * value, a string's content unescaped (UTF-8), a block string's token as written (its
 * indentation rules are graphql-core's to apply). */
typedef struct fq_gql_literal {
    fq_gql_kind kind;
    size_t start, end;
    size_t value, value_len;
} fq_gql_literal;

/* What fq_gql_tokenize fills in; tokens (the byte offset of every token) only when
 * want_tokens was set at init. */
typedef struct fq_gql_doc {
    fq_buf shape;
    fq_buf values;
    fq_gql_literal *literals;
    size_t n_literals, cap_literals;
    size_t *tokens;
    size_t n_tokens, cap_tokens;
    int want_tokens;
} fq_gql_doc;

void fq_gql_doc_init(fq_gql_doc *doc, int want_tokens);
void fq_gql_doc_free(fq_gql_doc *doc);

/* Tokenizes src[0..len) into doc (initialised, empty). 0, or -1 with err set: FQ_ERR_SYNTAX
 * (pos: the byte offset of the offending input), FQ_ERR_DEPTH, FQ_ERR_NOMEM. */
int fq_gql_tokenize(const char *src, size_t len, fq_gql_doc *doc, fq_err *err);

#endif
