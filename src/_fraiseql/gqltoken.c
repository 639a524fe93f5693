/* The GraphQL tokenizer (gqltoken.h): a lexer and a small state machine that knows where
 * values start, since only there a name is an enum value or a boolean. */
#include "gqltoken.h"

#include <stdint.h>

/* ======================================================================================
 * Growth of the output arrays (cold)
 * ====================================================================================== */

void fq_gql_doc_init(fq_gql_doc *doc, int want_tokens)
{
    memset(doc, 0, sizeof *doc);
    fq_buf_init(&doc->shape);
    fq_buf_init(&doc->values);
    doc->want_tokens = want_tokens;
}

void fq_gql_doc_free(fq_gql_doc *doc)
{
    fq_buf_free(&doc->shape);
    fq_buf_free(&doc->values);
    free(doc->literals);
    free(doc->tokens);
    fq_gql_doc_init(doc, doc->want_tokens);
}

/* Room for one more item in *items (of *cap, each size bytes): 0, or -1 out of memory. */
FQ_COLD static int grow(void **items, size_t *cap, size_t size)
{
    size_t n = *cap ? *cap + *cap / 2 + 1 : 16;
    void *p = realloc(*items, n * size);
    if (p == NULL)
        return -1;
    *items = p;
    *cap = n;
    return 0;
}

/* ======================================================================================
 * The tokenizer's state
 * ====================================================================================== */

/* What an open bracket is: the state machine's stack. */
enum frame {
    ARGS,      /* ( of field or directive arguments */
    VARIABLES, /* ( of an operation's variable definitions */
    SELECTION, /* { of a selection set */
    OBJECT,    /* { of an input object value */
    LIST,      /* [ of a list value */
    LIST_TYPE, /* [ of a list type, in variable definitions */
};

/* Where an operation's header is, at the top level: `query Name (` opens variables. */
enum header { NONE, KEYWORD, NAMED };

typedef struct state {
    const char *src;
    size_t len, pos;
    fq_gql_doc *doc;
    fq_err *err;
    unsigned char stack[FQ_GQL_MAX_DEPTH];
    size_t depth;
    int expect_value; /* after `:` of an argument or object field, or `=` of a default */
    int after_dollar; /* the next name is a variable's */
    int last_name;    /* the previous token written was a name: a space separates the next */
    enum header header;
} state;

static int fail(state *s, size_t pos, const char *msg)
{
    fq_err_set(s->err, FQ_ERR_SYNTAX, msg);
    s->err->pos = pos;
    return -1;
}

static int nomem(state *s)
{
    fq_err_set(s->err, FQ_ERR_NOMEM, "out of memory");
    s->err->pos = s->pos;
    return -1;
}

static int in_value(const state *s)
{
    return s->expect_value || (s->depth > 0 && s->stack[s->depth - 1] == LIST);
}

static int is_name_start(unsigned char c)
{
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int is_digit(unsigned char c)
{
    return c >= '0' && c <= '9';
}

/* Records the start of a token (when the caller asked for every token's offset). */
static int token_at(state *s, size_t start)
{
    fq_gql_doc *d = s->doc;
    if (!d->want_tokens)
        return 0;
    if (d->n_tokens == d->cap_tokens && grow((void **)&d->tokens, &d->cap_tokens, sizeof(size_t)))
        return nomem(s);
    d->tokens[d->n_tokens++] = start;
    return 0;
}

/* Writes a punctuator or name to the shape; names are separated by one space. */
static int emit(state *s, const char *text, size_t n, int is_name)
{
    fq_buf *b = &s->doc->shape;
    if (fq_buf_reserve(b, n + 1) < 0)
        return nomem(s);
    if (is_name && s->last_name)
        fq_buf_putc(b, ' ');
    fq_buf_put(b, text, n);
    s->last_name = is_name;
    return 0;
}

/* Starts a literal of `kind` at [start, end): its placeholder in the shape, its record;
 * its value is then appended to doc->values by the caller. */
static fq_gql_literal *literal(state *s, fq_gql_kind kind, size_t start, size_t end)
{
    fq_gql_doc *d = s->doc;
    if (d->n_literals == d->cap_literals &&
        grow((void **)&d->literals, &d->cap_literals, sizeof(fq_gql_literal))) {
        nomem(s);
        return NULL;
    }
    if (fq_buf_reserve(&d->shape, 1) < 0) {
        nomem(s);
        return NULL;
    }
    fq_buf_putc(&d->shape, (char)kind);
    s->last_name = 0;
    s->expect_value = 0;
    fq_gql_literal *lit = &d->literals[d->n_literals++];
    lit->kind = kind;
    lit->start = start;
    lit->end = end;
    lit->value = d->values.len;
    lit->value_len = 0;
    return lit;
}

/* Appends src[start, end) as the value of lit. */
static int literal_text(state *s, fq_gql_literal *lit, size_t start, size_t end)
{
    fq_buf *v = &s->doc->values;
    if (fq_buf_reserve(v, end - start) < 0)
        return nomem(s);
    fq_buf_put(v, s->src + start, end - start);
    lit->value_len = end - start;
    return 0;
}

/* ======================================================================================
 * Brackets
 * ====================================================================================== */

static int open_frame(state *s, enum frame f, size_t at)
{
    if (s->depth == FQ_GQL_MAX_DEPTH) {
        fq_err_set(s->err, FQ_ERR_DEPTH, "document nested too deeply");
        s->err->pos = at;
        return -1;
    }
    s->stack[s->depth++] = (unsigned char)f;
    s->expect_value = 0;
    return 0;
}

static int close_frame(state *s, char c, size_t at)
{
    if (s->depth == 0)
        return fail(s, at, "unbalanced closing bracket");
    enum frame f = (enum frame)s->stack[s->depth - 1];
    int ok = c == ')'   ? f == ARGS || f == VARIABLES
             : c == ']' ? f == LIST || f == LIST_TYPE
                        : f == SELECTION || f == OBJECT;
    if (!ok)
        return fail(s, at, "mismatched closing bracket");
    s->depth--;
    s->expect_value = 0;
    return 0;
}

/* ======================================================================================
 * Lexing
 * ====================================================================================== */

/* A number at s->pos: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, not followed by a
 * name start or a dot (graphql-core refuses `1a`, `1.`, `01`). */
static int number(state *s)
{
    const char *p = s->src;
    size_t start = s->pos, i = start, n = s->len;
    int is_float = 0;
    if (p[i] == '-')
        i++;
    if (i >= n || !is_digit((unsigned char)p[i]))
        return fail(s, i, "invalid number: expected a digit");
    if (p[i] == '0') {
        i++;
        if (i < n && is_digit((unsigned char)p[i]))
            return fail(s, i, "invalid number: unexpected digit after 0");
    } else {
        while (i < n && is_digit((unsigned char)p[i]))
            i++;
    }
    if (i < n && p[i] == '.') {
        is_float = 1;
        i++;
        if (i >= n || !is_digit((unsigned char)p[i]))
            return fail(s, i, "invalid number: expected a digit after the dot");
        while (i < n && is_digit((unsigned char)p[i]))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        is_float = 1;
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (i >= n || !is_digit((unsigned char)p[i]))
            return fail(s, i, "invalid number: expected a digit in the exponent");
        while (i < n && is_digit((unsigned char)p[i]))
            i++;
    }
    if (i < n && (p[i] == '.' || is_name_start((unsigned char)p[i])))
        return fail(s, i, "invalid number: unexpected character after it");
    fq_gql_literal *lit = literal(s, is_float ? FQ_GQL_FLOAT : FQ_GQL_INT, start, i);
    if (lit == NULL || literal_text(s, lit, start, i) < 0)
        return -1;
    s->pos = i;
    return 0;
}

static int hex_value(unsigned char c)
{
    if (is_digit(c))
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The four hex digits at p[i..i+4) as a code unit, or -1. */
static long hex4(const char *p, size_t i, size_t n)
{
    if (n - i < 4)
        return -1;
    long v = 0;
    for (size_t k = 0; k < 4; k++) {
        int h = hex_value((unsigned char)p[i + k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

/* Appends code point cp (a Unicode scalar value) to v as UTF-8 (room reserved). */
static void put_utf8(fq_buf *v, uint32_t cp)
{
    if (cp < 0x80) {
        fq_buf_putc(v, (char)cp);
    } else if (cp < 0x800) {
        fq_buf_putc(v, (char)(0xC0 | (cp >> 6)));
        fq_buf_putc(v, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        fq_buf_putc(v, (char)(0xE0 | (cp >> 12)));
        fq_buf_putc(v, (char)(0x80 | ((cp >> 6) & 0x3F)));
        fq_buf_putc(v, (char)(0x80 | (cp & 0x3F)));
    } else {
        fq_buf_putc(v, (char)(0xF0 | (cp >> 18)));
        fq_buf_putc(v, (char)(0x80 | ((cp >> 12) & 0x3F)));
        fq_buf_putc(v, (char)(0x80 | ((cp >> 6) & 0x3F)));
        fq_buf_putc(v, (char)(0x80 | (cp & 0x3F)));
    }
}

/* A string at s->pos ("..."), its content unescaped into the values. */
static int string(state *s)
{
    const char *p = s->src;
    size_t start = s->pos, i = start + 1, n = s->len;
    fq_buf *v = &s->doc->values;
    /* unescaping never lengthens: reserve the rest of the document once */
    if (fq_buf_reserve(v, n - i) < 0)
        return nomem(s);
    size_t value = v->len;
    for (;;) {
        if (i >= n)
            return fail(s, start, "unterminated string");
        unsigned char c = (unsigned char)p[i];
        if (c == '"')
            break;
        if (c < 0x20 && c != '\t')
            return fail(s, i, "control character in a string");
        if (c != '\\') {
            fq_buf_putc(v, (char)c);
            i++;
            continue;
        }
        if (i + 1 >= n)
            return fail(s, start, "unterminated string");
        char e = p[i + 1];
        const char *simple = strchr("\"\\/bfnrt", e);
        if (e != '\0' && simple != NULL) {
            static const char decoded[] = "\"\\/\b\f\n\r\t";
            fq_buf_putc(v, decoded[simple - "\"\\/bfnrt"]);
            i += 2;
            continue;
        }
        if (e != 'u')
            return fail(s, i, "invalid escape sequence in a string");
        long cp = hex4(p, i + 2, n);
        if (cp < 0)
            return fail(s, i, "invalid unicode escape sequence in a string");
        i += 6;
        if (cp >= 0xDC00 && cp <= 0xDFFF)
            return fail(s, i - 6, "lone surrogate in a unicode escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
            long low = (n - i >= 2 && p[i] == '\\' && p[i + 1] == 'u') ? hex4(p, i + 2, n) : -1;
            if (low < 0xDC00 || low > 0xDFFF)
                return fail(s, i - 6, "lone surrogate in a unicode escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
            i += 6;
        }
        put_utf8(v, (uint32_t)cp);
    }
    i++; /* the closing quote */
    fq_gql_literal *lit = literal(s, FQ_GQL_STRING, start, i);
    if (lit == NULL)
        return -1;
    lit->value = value;
    lit->value_len = v->len - value;
    s->pos = i;
    return 0;
}

/* A block string at s->pos ("""..."""), kept as written. */
static int block_string(state *s)
{
    const char *p = s->src;
    size_t start = s->pos, i = start + 3, n = s->len;
    for (;;) {
        if (i >= n)
            return fail(s, start, "unterminated block string");
        unsigned char c = (unsigned char)p[i];
        if (c == '"' && n - i >= 3 && p[i + 1] == '"' && p[i + 2] == '"')
            break;
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return fail(s, i, "control character in a block string");
        if (c == '\\' && n - i >= 4 && memcmp(p + i + 1, "\"\"\"", 3) == 0)
            i += 4;
        else
            i++;
    }
    i += 3;
    fq_gql_literal *lit = literal(s, FQ_GQL_BLOCK_STRING, start, i);
    if (lit == NULL || literal_text(s, lit, start, i) < 0)
        return -1;
    s->pos = i;
    return 0;
}

/* A name at s->pos: a keyword, field, type, variable, or (where a value starts) a boolean,
 * null or an enum value. */
static int name(state *s)
{
    const char *p = s->src;
    size_t start = s->pos, i = start + 1, n = s->len;
    while (i < n && (is_name_start((unsigned char)p[i]) || is_digit((unsigned char)p[i])))
        i++;
    s->pos = i;
    const char *text = p + start;
    size_t len = i - start;
    if (s->after_dollar) {
        s->after_dollar = 0;
        s->expect_value = 0;
        return emit(s, text, len, 1);
    }
    if (in_value(s) && !(len == 4 && memcmp(text, "null", 4) == 0)) {
        int boolean = (len == 4 && memcmp(text, "true", 4) == 0) ||
                      (len == 5 && memcmp(text, "false", 5) == 0);
        fq_gql_literal *lit = literal(s, boolean ? FQ_GQL_BOOLEAN : FQ_GQL_ENUM, start, i);
        return lit == NULL ? -1 : literal_text(s, lit, start, i);
    }
    s->expect_value = 0;
    if (s->depth == 0) {
        int keyword = (len == 5 && memcmp(text, "query", 5) == 0) ||
                      (len == 8 && memcmp(text, "mutation", 8) == 0) ||
                      (len == 12 && memcmp(text, "subscription", 12) == 0);
        s->header = keyword ? KEYWORD : s->header == KEYWORD ? NAMED : NONE;
    }
    return emit(s, text, len, 1);
}

/* A punctuator at s->pos. */
static int punctuator(state *s)
{
    size_t at = s->pos;
    char c = s->src[at];
    enum header header = s->header;
    s->header = NONE;
    if (c == '.') {
        if (s->len - at < 3 || s->src[at + 1] != '.' || s->src[at + 2] != '.')
            return fail(s, at, "unexpected '.'");
        s->pos += 3;
        s->expect_value = 0;
        return emit(s, "...", 3, 0);
    }
    s->pos++;
    enum frame top = s->depth ? (enum frame)s->stack[s->depth - 1] : SELECTION;
    int value = in_value(s);
    int rc = 0;
    switch (c) {
    case '(':
        rc = open_frame(s, s->depth == 0 && header != NONE ? VARIABLES : ARGS, at);
        break;
    case '[':
        rc = open_frame(s, value ? LIST : LIST_TYPE, at);
        break;
    case '{':
        rc = open_frame(s, value ? OBJECT : SELECTION, at);
        break;
    case ')':
    case ']':
    case '}':
        rc = close_frame(s, c, at);
        break;
    case ':':
        s->expect_value = s->depth > 0 && (top == ARGS || top == OBJECT);
        break;
    case '=':
        s->expect_value = s->depth > 0 && top == VARIABLES;
        break;
    case '$':
        s->after_dollar = 1;
        break;
    case '!':
    case '&':
    case '@':
    case '|':
        s->expect_value = 0;
        break;
    default:
        return fail(s, at, "unexpected character");
    }
    return rc < 0 ? -1 : emit(s, &c, 1, 0);
}

int fq_gql_tokenize(const char *src, size_t len, fq_gql_doc *doc, fq_err *err)
{
    if (len > FQ_GQL_MAX_BYTES) {
        fq_err_set(err, FQ_ERR_SYNTAX, "document too long to tokenize");
        err->pos = FQ_GQL_MAX_BYTES;
        return -1;
    }
    state s = {.src = src, .len = len, .doc = doc, .err = err};
    if (fq_buf_reserve(&doc->shape, len + 1) < 0)
        return nomem(&s);
    while (s.pos < len) {
        unsigned char c = (unsigned char)src[s.pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ',') {
            s.pos++;
            continue;
        }
        if (c == '#') {
            while (s.pos < len && src[s.pos] != '\n' && src[s.pos] != '\r')
                s.pos++;
            continue;
        }
        if (token_at(&s, s.pos) < 0)
            return -1;
        int rc;
        if (s.after_dollar && !is_name_start(c))
            return fail(&s, s.pos, "expected a variable name after '$'");
        if (is_name_start(c))
            rc = name(&s);
        else if (c == '-' || is_digit(c))
            rc = number(&s);
        else if (c == '"')
            rc = (len - s.pos >= 3 && src[s.pos + 1] == '"' && src[s.pos + 2] == '"')
                     ? block_string(&s)
                     : string(&s);
        else if (c < 0x80)
            rc = punctuator(&s);
        else
            rc = fail(&s, s.pos, "unexpected non-ASCII character outside a string");
        if (rc < 0)
            return -1;
    }
    if (s.depth != 0)
        return fail(&s, len, "unclosed bracket at the end of the document");
    return 0;
}
