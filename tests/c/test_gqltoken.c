/* C unit tests of the GraphQL tokenizer (gqltoken.c), run by `make test-c`. Documents are
 * copied into exact-size heap buffers, so ASan catches a read past the end. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gqltoken.h"

/* Tokenizes s (an exact-size copy) into doc; returns the error code (FQ_OK on success). */
static fq_errcode run(const char *s, fq_gql_doc *doc, size_t *pos)
{
    size_t n = strlen(s);
    char *p = malloc(n ? n : 1);
    memcpy(p, s, n);
    fq_err err = {0};
    fq_gql_doc_init(doc, 1);
    int rc = fq_gql_tokenize(p, n, doc, &err);
    fq_errcode code = rc < 0 ? err.code : FQ_OK;
    if (pos)
        *pos = err.pos;
    fq_err_clear(&err);
    free(p);
    return code;
}

static int shape_is(const char *s, const char *want)
{
    fq_gql_doc doc;
    int ok = run(s, &doc, NULL) == FQ_OK && doc.shape.len == strlen(want) &&
             memcmp(doc.shape.data, want, doc.shape.len) == 0;
    fq_gql_doc_free(&doc);
    return ok;
}

/* The error code for s, and the byte offset it names. */
static fq_errcode error_of(const char *s, size_t *pos)
{
    fq_gql_doc doc;
    fq_errcode code = run(s, &doc, pos);
    fq_gql_doc_free(&doc);
    return code;
}

static int value_is(const fq_gql_doc *doc, size_t i, fq_gql_kind kind, const char *want)
{
    const fq_gql_literal *lit = &doc->literals[i];
    return i < doc->n_literals && lit->kind == kind && lit->value_len == strlen(want) &&
           memcmp(doc->values.data + lit->value, want, lit->value_len) == 0;
}

static void test_shapes(void)
{
    CHECK(shape_is("{ user(id: 42) { id name } }", "{user(id:\x01){id name}}"));
    CHECK(shape_is("# c\n{ a , b }  # end", "{a b}"));
    /* literals of one kind share the shape, whatever their values and layout */
    CHECK(shape_is("{u(id:7,s:\"x\")}", "{u(id:\x01s:\x03)}"));
    CHECK(shape_is("{ u( id : 123456 s: \"a b \\n\" ) }", "{u(id:\x01s:\x03)}"));
    /* names where values start are enum values or booleans; null stays itself */
    CHECK(shape_is("{u(o: ASC, b: true, n: null, l: [1, 2.5, X])}",
                   "{u(o:\x06"
                   "b:\x05n:null l:[\x01\x02\x06])}"));
    /* inside objects only field values are values */
    CHECK(shape_is("{u(w: {email: {eq: \"a\"}, AND: [{x: 1}]})}",
                   "{u(w:{email:{eq:\x03}AND:[{x:\x01}]})}"));
    /* variable definitions: types stay, defaults are values; variables are not literals */
    CHECK(shape_is("query Q($a: [Int!]! = [1], $b: E = X) { u(a: $a) @include(if: false) }",
                   "query Q($a:[Int!]!=[\x01]$b:E=\x06){u(a:$a)@include(if:\x05)}"));
    CHECK(shape_is("query($a: Int) { u(a: $a) }", "query($a:Int){u(a:$a)}"));
    CHECK(shape_is("{ ...F ... on T { a } } fragment F on T { b(x: \"\"\"q\"\"\") }",
                   "{...F...on T{a}}fragment F on T{b(x:\x04)}"));
    CHECK(shape_is("", ""));
}

static void test_values(void)
{
    fq_gql_doc doc;
    const char *s = "{u(a: -0, b: 1.5e-3, c: \"\\u00e9\\n\\\"\", d: \"\\ud83d\\ude00\", "
                    "e: \"\"\"x\\\"\"\"y\"\"\", f: FOO, g: false)}";
    CHECK(run(s, &doc, NULL) == FQ_OK && doc.n_literals == 7);
    if (doc.n_literals == 7) {
        CHECK(value_is(&doc, 0, FQ_GQL_INT, "-0"));
        CHECK(value_is(&doc, 1, FQ_GQL_FLOAT, "1.5e-3"));
        CHECK(value_is(&doc, 2, FQ_GQL_STRING, "\xc3\xa9\n\""));
        CHECK(value_is(&doc, 3, FQ_GQL_STRING, "\xf0\x9f\x98\x80"));
        CHECK(value_is(&doc, 4, FQ_GQL_BLOCK_STRING, "\"\"\"x\\\"\"\"y\"\"\""));
        CHECK(value_is(&doc, 5, FQ_GQL_ENUM, "FOO"));
        CHECK(value_is(&doc, 6, FQ_GQL_BOOLEAN, "false"));
        CHECK(doc.literals[0].start == 6 && doc.literals[0].end == 8);
    }
    /* every token's offset, literals among them */
    CHECK(doc.n_tokens == 26 && doc.tokens[0] == 0 && doc.tokens[1] == 1 && doc.tokens[6] == 10);
    fq_gql_doc_free(&doc);
}

static void test_errors(void)
{
    size_t pos = 0;
    CHECK(error_of("{u(s: \"abc)}", &pos) == FQ_ERR_SYNTAX && pos == 6);
    CHECK(error_of("{u(s: \"\"\"abc\")}", &pos) == FQ_ERR_SYNTAX && pos == 6);
    CHECK(error_of("{u(s: \"a\nb\")}", &pos) == FQ_ERR_SYNTAX && pos == 8);
    CHECK(error_of("{u(s: \"\\q\")}", &pos) == FQ_ERR_SYNTAX && pos == 7);
    CHECK(error_of("{u(s: \"\\u12\")}", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{u(s: \"\\u{41}\")}", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{u(s: \"\\ud83d\")}", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{u(s: \"\\ude00\")}", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{u(s: \"\\", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{u(n: 01)}", &pos) == FQ_ERR_SYNTAX && pos == 7);
    CHECK(error_of("{u(n: 1.)}", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{u(n: 1a)}", &pos) == FQ_ERR_SYNTAX && pos == 7);
    CHECK(error_of("{u(n: 1.5.2)}", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{u(n: 1e)}", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{u(n: -)}", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{u(n: $ x)}", &pos) == FQ_OK); /* graphql-core takes `$ x` too */
    CHECK(error_of("{u(n: $1)}", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{ \xc3\xa9 }", &pos) == FQ_ERR_SYNTAX && pos == 2);
    CHECK(error_of("{ a ? }", &pos) == FQ_ERR_SYNTAX && pos == 4);
    CHECK(error_of("{ a.b }", &pos) == FQ_ERR_SYNTAX);
    CHECK(error_of("{ a ) }", &pos) == FQ_ERR_SYNTAX && pos == 4);
    CHECK(error_of("{ a }}", &pos) == FQ_ERR_SYNTAX && pos == 5);
    CHECK(error_of("{ a", &pos) == FQ_ERR_SYNTAX && pos == 3);
}

static void test_bounds(void)
{
    size_t pos = 0;
    char deep[2 * FQ_GQL_MAX_DEPTH + 3];
    size_t n = 0;
    for (int i = 0; i <= FQ_GQL_MAX_DEPTH; i++)
        deep[n++] = '{';
    deep[n] = '\0';
    CHECK(error_of(deep, &pos) == FQ_ERR_DEPTH && pos == FQ_GQL_MAX_DEPTH);
    deep[n - 1] = '\0'; /* at the cap: only unclosed */
    CHECK(error_of(deep, &pos) == FQ_ERR_SYNTAX);
    char *big = malloc(FQ_GQL_MAX_BYTES + 2);
    memset(big, ' ', FQ_GQL_MAX_BYTES + 1);
    big[FQ_GQL_MAX_BYTES + 1] = '\0';
    CHECK(error_of(big, &pos) == FQ_ERR_SYNTAX);
    big[FQ_GQL_MAX_BYTES] = '\0';
    CHECK(error_of(big, &pos) == FQ_OK);
    free(big);
}

int main(void)
{
    test_shapes();
    test_values();
    test_errors();
    test_bounds();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    puts("test_gqltoken: all checks passed");
    return 0;
}
