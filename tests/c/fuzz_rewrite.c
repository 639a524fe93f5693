/* libFuzzer harness of the rewriter against a jansson DOM oracle (`make fuzz`).
 *
 * Input: byte 0 picks the mode (even: to_camel, odd: selection); in selection mode byte 1
 * is the length of a selection descriptor that follows; the rest is the JSON document,
 * passed with its exact length, so ASan catches any read past the end.
 * Checks: the rewriter and jansson agree on validity (except where jansson cannot represent
 * a valid document: integer/real overflow; where our depth cap is lower; and documents with
 * NUL bytes, where jansson stops reading); on valid input
 * the output parses and equals the oracle's rewrite of the DOM, key order included; the
 * selection checks (wrong kind, non-null) fail the same way; union levels (FQ_FIELD_VARIANT)
 * rewrite each object under the member its discriminator names, as the oracle picks it;
 * rewriting again with the same selection (learned shapes) gives the same bytes or the same
 * error. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rewrite.h"

/* ---- selections: built from the descriptor, once as an oracle tree, once compiled ---- */

static const char *const KEYS[] = {"a", "b", "a_b", "id", "", "x_y_z", "\xc3\xa9"};
#define NKEYS 7
#define MAXF 6
#define ID_MARK                                                                                    \
    "\x01\x02"                                                                                     \
    "fq-id" /* oracle placeholder: "a JSON string holding this number" */

/* The discriminator values that name a union level's members. */
static const char *const MEMBERS[] = {"a", "T", "id"};
#define NMEMBERS 3

typedef struct osel {
    int n;
    int variants; /* a union level: f[i].out is the member's name, f[i].src the key */
    struct {
        char out[4];
        const char *src; /* NULL: typename */
        struct osel *child;
        unsigned flags;
    } f[MAXF];
    fq_selection *compiled;
} osel;

typedef struct desc {
    const uint8_t *p, *end;
} desc;

static int next_byte(desc *d)
{
    return d->p < d->end ? *d->p++ : 0;
}

static void osel_free(osel *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++)
        osel_free(s->f[i].child);
    fq_selection_free(s->compiled);
    free(s);
}

static osel *osel_build(desc *d, int depth)
{
    fq_err err = {0};
    osel *s = calloc(1, sizeof(osel));
    int head = next_byte(d);
    fq_field_spec specs[MAXF];
    if ((head & 0x80) && depth < 3) { /* a union level of 1 to 3 members, one key */
        s->variants = 1;
        s->n = 1 + head % NMEMBERS;
        const char *key = KEYS[next_byte(d) % NKEYS];
        for (int i = 0; i < s->n; i++) {
            snprintf(s->f[i].out, sizeof(s->f[i].out), "%s", MEMBERS[next_byte(d) % NMEMBERS]);
            s->f[i].src = key;
            s->f[i].flags = FQ_FIELD_VARIANT;
            s->f[i].child = osel_build(d, depth + 1);
            specs[i] = (fq_field_spec){s->f[i].out, strlen(s->f[i].out),     key,
                                       strlen(key), s->f[i].child->compiled, FQ_FIELD_VARIANT};
        }
        s->compiled = fq_selection_new(NULL, 0, specs, (size_t)s->n, &err);
        if (!s->compiled)
            abort();
        return s;
    }
    s->n = head % (MAXF + 1);
    for (int i = 0; i < s->n; i++) {
        int b = next_byte(d);
        snprintf(s->f[i].out, sizeof(s->f[i].out), "o%d", i);
        s->f[i].src = (b & 7) < NKEYS ? KEYS[b & 7] : NULL;
        s->f[i].flags = (unsigned)(b >> 4) & 7;
        if ((b & 8) && s->f[i].src && depth < 3)
            s->f[i].child = osel_build(d, depth + 1);
        specs[i] = (fq_field_spec){s->f[i].out,
                                   strlen(s->f[i].out),
                                   s->f[i].src,
                                   s->f[i].src ? strlen(s->f[i].src) : 0,
                                   s->f[i].child ? s->f[i].child->compiled : NULL,
                                   s->f[i].flags};
    }
    s->compiled = fq_selection_new("T", 1, specs, (size_t)s->n, &err);
    if (!s->compiled)
        abort();
    return s;
}

static int has_variants(const osel *s)
{
    for (int i = 0; i < s->n; i++)
        if (s->f[i].child && has_variants(s->f[i].child))
            return 1;
    return s->variants;
}

/* ---- oracle -------------------------------------------------------------------------------- */

static int oracle_id(json_t *v, json_t **out)
{
    if (json_is_number(v)) {
        *out = json_object();
        json_object_set(*out, ID_MARK, v);
        return 0;
    }
    if (json_is_string(v) || json_is_null(v)) {
        *out = json_incref(v);
        return 0;
    }
    if (!json_is_array(v))
        return FQ_ERR_KIND;
    *out = json_array();
    for (size_t i = 0; i < json_array_size(v); i++) {
        json_t *e = NULL;
        int rc = oracle_id(json_array_get(v, i), &e);
        if (rc) {
            json_decref(e);
            return rc;
        }
        json_array_append_new(*out, e);
    }
    return 0;
}

static int oracle(json_t *v, const osel *s, json_t **out);

/* FQ_FIELD_ITEMS_NON_NULL: a null item of the (outer) list fails. */
static int items_check(json_t *v, unsigned flags)
{
    if ((flags & FQ_FIELD_ITEMS_NON_NULL) && json_is_array(v))
        for (size_t i = 0; i < json_array_size(v); i++)
            if (json_is_null(json_array_get(v, i)))
                return FQ_ERR_NONNULL;
    return 0;
}

/* Leaf flags: item by item, a null item (ITEMS_NON_NULL) or an item that is no ID fails,
 * whichever comes first; then ID coercion (or a plain copy). */
static int oracle_leaf(json_t *v, unsigned flags, json_t **out)
{
    if (json_is_array(v) && (flags & FQ_FIELD_ITEMS_NON_NULL)) {
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *item = json_array_get(v, i), *r = NULL;
            if (json_is_null(item))
                return FQ_ERR_NONNULL;
            int rc = (flags & FQ_FIELD_ID) ? oracle_id(item, &r) : 0;
            json_decref(r);
            if (rc)
                return rc;
        }
    }
    if (flags & FQ_FIELD_ID)
        return oracle_id(v, out);
    *out = json_incref(v);
    return 0;
}

/* For a list of objects with null items that also fails inside an item: whichever comes
 * first in list order is the rewriter's error. */
static int first_error_before_null(json_t *list, const osel *s, int rc)
{
    for (size_t i = 0; i < json_array_size(list); i++) {
        json_t *item = json_array_get(list, i), *r = NULL;
        if (json_is_null(item))
            return FQ_ERR_NONNULL;
        int item_rc = oracle(item, s, &r);
        json_decref(r);
        if (item_rc)
            return item_rc;
    }
    return rc;
}

/* 0 with *out set (new reference, may be partial on error: caller frees), or the error. */
static int oracle(json_t *v, const osel *s, json_t **out)
{
    *out = NULL;
    if (json_is_null(v)) {
        *out = json_null();
        return 0;
    }
    if (json_is_array(v)) {
        *out = json_array();
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *e;
            int rc = oracle(json_array_get(v, i), s, &e);
            if (rc) {
                json_decref(e);
                return rc;
            }
            json_array_append_new(*out, e);
        }
        return 0;
    }
    if (!json_is_object(v))
        return FQ_ERR_KIND;
    if (s->variants) { /* the first member the discriminator's string value names */
        json_t *tag = json_object_get(v, s->f[0].src);
        for (int i = 0; tag && json_is_string(tag) && i < s->n; i++)
            if (json_string_length(tag) == strlen(s->f[i].out) &&
                memcmp(json_string_value(tag), s->f[i].out, json_string_length(tag)) == 0)
                return oracle(v, s->f[i].child, out);
        return FQ_ERR_KIND;
    }
    *out = json_object();
    for (int i = 0; i < s->n; i++) {
        json_t *x, *r = NULL;
        int rc = 0;
        if (!s->f[i].src) {
            json_object_set_new(*out, s->f[i].out, json_string("T"));
            continue;
        }
        x = json_object_get(v, s->f[i].src);
        if (!x || json_is_null(x)) {
            if (s->f[i].flags & FQ_FIELD_NON_NULL)
                return FQ_ERR_NONNULL;
            r = json_null();
        } else if (s->f[i].child) {
            rc = oracle(x, s->f[i].child, &r);
            /* rewritten item by item: an error in an item before the first null comes first */
            if (rc == 0 || !json_is_array(x))
                rc = rc ? rc : items_check(x, s->f[i].flags);
            else if (items_check(x, s->f[i].flags))
                rc = first_error_before_null(x, s->f[i].child, rc);
        } else {
            rc = oracle_leaf(x, s->f[i].flags, &r);
        }
        if (rc) {
            json_decref(r);
            return rc;
        }
        json_object_set_new(*out, s->f[i].out, r);
    }
    return 0;
}

/* The camelCase rule of rewrite.h restated in another shape (split off the outer underscore
 * runs, then drop inner ones), so that the oracle shares no code with what it checks. */
static void camel(const char *k, char *dst)
{
    size_t n = strlen(k), lead = strspn(k, "_"), trail = 0;
    while (trail < n - lead && k[n - 1 - trail] == '_')
        trail++;
    memcpy(dst, k, lead);
    char *w = dst + lead;
    int after_underscore = 0;
    for (size_t i = lead; i < n - trail; i++) {
        if (k[i] == '_') {
            after_underscore = 1;
            continue;
        }
        *w++ = (after_underscore && k[i] >= 'a' && k[i] <= 'z') ? (char)(k[i] - 'a' + 'A') : k[i];
        after_underscore = 0;
    }
    memcpy(w, k + n - trail, trail);
    w[trail] = 0;
}

/* The DOM with every key renamed; *collision set when two keys of one object rename alike
 * (then our streamed output keeps both, which a DOM cannot show). */
static json_t *oracle_camel(json_t *v, int *collision)
{
    if (json_is_array(v)) {
        json_t *a = json_array();
        for (size_t i = 0; i < json_array_size(v); i++)
            json_array_append_new(a, oracle_camel(json_array_get(v, i), collision));
        return a;
    }
    if (!json_is_object(v))
        return json_incref(v);
    json_t *o = json_object();
    const char *key;
    json_t *val;
    json_object_foreach(v, key, val)
    {
        char *name = malloc(strlen(key) + 1);
        camel(key, name);
        if (json_object_get(o, name))
            *collision = 1;
        json_object_set_new(o, name, oracle_camel(val, collision));
        free(name);
    }
    return o;
}

/* Equality with object key order; ID_MARK objects match a string holding the number. */
static int same(json_t *ours, json_t *want)
{
    if (json_is_object(want) && json_object_size(want) == 1 && json_object_get(want, ID_MARK)) {
        if (!json_is_string(ours))
            return 0;
        json_t *num =
            json_loadb(json_string_value(ours), json_string_length(ours), JSON_DECODE_ANY, NULL);
        int ok = num && json_equal(num, json_object_get(want, ID_MARK));
        json_decref(num);
        return ok;
    }
    if (json_typeof(ours) != json_typeof(want))
        return 0;
    if (json_is_array(want)) {
        if (json_array_size(ours) != json_array_size(want))
            return 0;
        for (size_t i = 0; i < json_array_size(want); i++)
            if (!same(json_array_get(ours, i), json_array_get(want, i)))
                return 0;
        return 1;
    }
    if (json_is_object(want)) {
        if (json_object_size(ours) != json_object_size(want))
            return 0;
        void *a = json_object_iter(ours), *b = json_object_iter(want);
        for (; a && b; a = json_object_iter_next(ours, a), b = json_object_iter_next(want, b)) {
            if (strcmp(json_object_iter_key(a), json_object_iter_key(b)) != 0 ||
                !same(json_object_iter_value(a), json_object_iter_value(b)))
                return 0;
        }
        return a == NULL && b == NULL;
    }
    return json_equal(ours, want);
}

/* Valid JSON that jansson refuses: huge numbers, and \u0000 in object keys (C-string keys). */
static int jansson_cannot_represent(const json_error_t *e)
{
    return strstr(e->text, "too big") != NULL || strstr(e->text, "overflow") != NULL ||
           strstr(e->text, "NUL byte in object key") != NULL;
}

static void fail(const char *why, const uint8_t *doc, size_t len)
{
    fprintf(stderr, "fuzz_rewrite: %s on document (%zu bytes): %.*s\n", why, len, (int)len,
            (const char *)doc);
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int select = data[0] & 1;
    osel *sel = NULL;
    const uint8_t *doc = data + 1;
    size_t len = size - 1;
    if (select) {
        size_t dlen = size > 1 ? data[1] % 16 : 0;
        if (size < 2 + dlen)
            return 0;
        desc d = {data + 2, data + 2 + dlen};
        sel = osel_build(&d, 0);
        doc = data + 2 + dlen;
        len = size - 2 - dlen;
    }

    fq_buf out;
    fq_err err = {0};
    fq_buf_init(&out);
    int rc = fq_rewrite(&out, (const char *)doc, len, sel ? sel->compiled : NULL, &err);
    if (rc == 0 && err.code != FQ_OK)
        fail("success with an error set", doc, len);
    if (rc < 0 && err.pos > len)
        fail("error offset past the end", doc, len);
    /* The shapes the selection learns (shape.h: from the second object of a level on, so
     * the second call learns and the third matches) must change nothing: same output, or
     * the same error at the same offset. */
    for (int again = 0; sel && again < 2; again++) {
        fq_buf out2;
        fq_err err2 = {0};
        fq_buf_init(&out2);
        int rc2 = fq_rewrite(&out2, (const char *)doc, len, sel->compiled, &err2);
        if (rc2 != rc || err2.code != err.code || err2.pos != err.pos || err2.msg != err.msg ||
            err2.path_len != err.path_len)
            fail("a repeated rewrite fails differently", doc, len);
        if (rc == 0 && (out2.len != out.len || memcmp(out2.data, out.data, out.len) != 0))
            fail("a repeated rewrite writes other bytes", doc, len);
        fq_err_clear(&err2);
        fq_buf_free(&out2);
    }

    json_error_t jerr;
    json_t *want = NULL,
           *dom = json_loadb((const char *)doc, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (dom == NULL) {
        if (rc == 0 && !jansson_cannot_represent(&jerr))
            fail("accepted what jansson rejects", doc, len);
        goto done;
    }
    /* jansson stops reading at a NUL byte; the pytest corpus covers NULs */
    if (rc < 0 && (err.code == FQ_ERR_JSON || err.code == FQ_ERR_NOMEM) && !memchr(doc, 0, len))
        fail("rejected what jansson accepts", doc, len);
    if (rc < 0 && err.code == FQ_ERR_JSON)
        goto done;
    if (rc < 0 && err.code == FQ_ERR_DEPTH)
        goto done;

    /* A discriminator written with escapes names no member (rewrite.c leaves it to
     * graphql-core); the DOM cannot tell how a string was written. */
    if (sel && memchr(doc, '\\', len) && has_variants(sel))
        goto done;
    int collision = 0;
    int want_rc = 0;
    if (sel) {
        want_rc = oracle(dom, sel, &want);
    } else {
        want = oracle_camel(dom, &collision);
    }
    if (want_rc != (rc < 0 ? (int)err.code : 0)) {
        fprintf(stderr, "oracle says %d, rewriter %d (%s)\n", want_rc, rc < 0 ? (int)err.code : 0,
                err.msg ? err.msg : "");
        fail("selection checks disagree", doc, len);
    }
    if (rc == 0) {
        json_t *ours = json_loadb(out.data, out.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (ours == NULL) {
            fprintf(stderr, "output: %.*s\n%s\n", (int)out.len, out.data, jerr.text);
            fail("output does not parse", doc, len);
        }
        for (size_t i = 0; i < out.len; i++) /* compact: no whitespace outside strings */
            if (out.data[i] == '"') {
                for (i++; out.data[i] != '"'; i++)
                    i += out.data[i] == '\\';
            } else if (out.data[i] == ' ' || out.data[i] == '\n' || out.data[i] == '\t' ||
                       out.data[i] == '\r') {
                fail("output is not compact", doc, len);
            }
        if (!collision && !same(ours, want)) {
            char *dump = json_dumps(want, JSON_ENCODE_ANY | JSON_PRESERVE_ORDER);
            fprintf(stderr, "output: %.*s\noracle: %s\n", (int)out.len, out.data, dump);
            free(dump);
            fail("output differs from the oracle", doc, len);
        }
        json_decref(ours);
    }
done:
    json_decref(want);
    json_decref(dom);
    fq_err_clear(&err);
    fq_buf_free(&out);
    osel_free(sel);
    return 0;
}
