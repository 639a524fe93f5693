/* C unit tests of the pure core (buf, selection, rewrite, page), run by `make test-c` under
 * ASan+UBSan with leak detection, built with FQ_DEBUG (exact-size buffer growth). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "camel.h"
#include "check.h"
#include "jsonstr.h"
#include "page.h"
#include "ring.h"
#include "rewrite.h"
#include "shape.h"

static fq_field_spec field(const char *out, const char *src, const fq_selection *child,
                           unsigned flags)
{
    fq_field_spec f = {out, strlen(out), src, src ? strlen(src) : 0, child, flags};
    return f;
}

/* Rewrites doc (NUL-terminated) and compares with want (NULL: must fail with code). */
static void expect(const char *doc, const fq_selection *sel, const char *want, fq_errcode code)
{
    fq_buf b;
    fq_err err = {0};
    fq_buf_init(&b);
    /* a prefix already in the buffer must survive success and failure */
    CHECK(fq_buf_reserve(&b, 3) == 0);
    fq_buf_put(&b, "<<<", 3);
    int rc = fq_rewrite(&b, doc, strlen(doc), sel, &err);
    if (want) {
        if (rc != 0 || b.len != 3 + strlen(want) || memcmp(b.data + 3, want, strlen(want)) != 0) {
            fprintf(stderr, "doc %s\n  want %s\n  got  %.*s (rc %d, %s at %zu)\n", doc, want,
                    (int)(b.len - 3), b.data + 3, rc, err.msg ? err.msg : "", err.pos);
            failures++;
        }
    } else {
        if (rc != -1 || err.code != code || b.len != 3) {
            fprintf(stderr, "doc %s: want error %d, got rc %d code %d\n", doc, code, rc, err.code);
            failures++;
        }
    }
    CHECK(memcmp(b.data, "<<<", 3) == 0);
    fq_err_clear(&err);
    fq_buf_free(&b);
}

static void test_buf(void)
{
    fq_buf b;
    fq_buf_init(&b);
    for (int i = 0; i < 10000; i++) {
        CHECK(fq_buf_reserve(&b, 1) == 0);
        fq_buf_putc(&b, (char)('a' + i % 26));
    }
    CHECK(b.len == 10000 && b.cap >= 10000 && b.data[9999] == 'a' + 9999 % 26);
    CHECK(fq_buf_reserve(&b, (size_t)-1) == -1); /* overflow: refused, storage released */
    CHECK(b.data == NULL && b.len == 0);
    fq_buf_free(&b);
}

static void test_err(void)
{
    fq_err err = {0};
    char msg[] = "server closed the connection\n";
    fq_err_set_copy(&err, FQ_ERR_PG, msg, strlen(msg) - 1, "fallback");
    msg[0] = 'X'; /* the message is a copy */
    CHECK(err.code == FQ_ERR_PG && strcmp(err.msg, "server closed the connection") == 0);
    fq_err_set(&err, FQ_ERR_USAGE, "static"); /* replaces (and frees) the copy */
    CHECK(err.code == FQ_ERR_USAGE && strcmp(err.msg, "static") == 0 && err.owned == NULL);
    fq_err_set_copy(&err, FQ_ERR_PG, "", 0, "fallback");
    CHECK(strcmp(err.msg, "") == 0);
    fq_err_clear(&err);
    CHECK(err.code == FQ_OK && err.msg == NULL && err.owned == NULL && err.path == NULL);
}

static void test_hex(void)
{
    CHECK(fq_hex_digit('0') == 0 && fq_hex_digit('9') == 9 && fq_hex_digit('a') == 10);
    CHECK(fq_hex_digit('F') == 15 && fq_hex_digit('g') == -1 && fq_hex_digit('/') == -1);
    CHECK(fq_hex_digit('@') == -1 && fq_hex_digit('G') == -1 && fq_hex_digit('\0') == -1);
    CHECK(fq_hex4("00aF") == 0xaf && fq_hex4("D83d") == 0xd83d && fq_hex4("12g4") == -1);
}

static void test_ring(void)
{
    fq_ring r;
    fq_ring_init(&r, sizeof(int));
    int next = 0, oldest = 0;
    for (int round = 0; round < 5; round++) { /* wraps around, then grows while wrapped */
        for (int i = 0; i < 7 + round * 11; i++) {
            int *slot = fq_ring_push(&r);
            CHECK(slot != NULL);
            *slot = next++;
        }
        for (size_t i = 0; i < r.count; i++)
            CHECK(*(int *)fq_ring_at(&r, i) == oldest + (int)i);
        for (int i = 0; i < 5; i++) {
            CHECK(*(int *)fq_ring_at(&r, 0) == oldest++);
            fq_ring_pop(&r);
        }
    }
    *(int *)fq_ring_push(&r) = -1;
    fq_ring_drop_last(&r);
    CHECK(r.count == (size_t)(next - oldest) && *(int *)fq_ring_at(&r, r.count - 1) == next - 1);
    fq_ring_free(&r);
    CHECK(r.data == NULL && r.count == 0 && r.elem == sizeof(int));
    fq_ring big;
    fq_ring_init(&big, SIZE_MAX / 8); /* the first growth would overflow: refused */
    CHECK(fq_ring_push(&big) == NULL && big.count == 0);
}

static void test_selection_errors(void)
{
    fq_err err = {0};
    fq_field_spec bad_flags = field("a", "a", NULL, FQ_FIELD_ALL_FLAGS + 1); /* the next bit */
    CHECK(fq_selection_new("T", 1, &bad_flags, 1, &err) == NULL && err.code == FQ_ERR_JSON);
    fq_field_spec typename_field = field("t", NULL, NULL, 0);
    CHECK(fq_selection_new(NULL, 0, &typename_field, 1, &err) == NULL && err.code == FQ_ERR_JSON);
    fq_field_spec bad_utf8 = field("\xff", "a", NULL, 0);
    CHECK(fq_selection_new("T", 1, &bad_utf8, 1, &err) == NULL && err.code == FQ_ERR_JSON);
    CHECK(fq_selection_new("\xc3", 1, NULL, 0, &err) == NULL && err.code == FQ_ERR_JSON);
    fq_selection *empty = fq_selection_new(NULL, 0, NULL, 0, &err);
    CHECK(empty != NULL);
    expect("{\"a\": 1}", empty, "{}", FQ_OK);
    expect("[{}, null]", empty, "[{},null]", FQ_OK);
    fq_selection_free(empty);
}

static void test_rewrite(void)
{
    fq_err err = {0};
    fq_field_spec post_fields[] = {
        field("__typename", NULL, NULL, 0),
        field("id", "id", NULL, FQ_FIELD_ID),
        field("title", "title", NULL, FQ_FIELD_NON_NULL),
    };
    fq_selection *post = fq_selection_new("Post", 4, post_fields, 3, &err);
    fq_field_spec user_fields[] = {
        field("firstName", "first_name", NULL, 0),
        field("posts", "user_posts", post, 0),
        field("ids", "user_posts", NULL, 0),
        field("t", NULL, NULL, 0),
        field("m", "missing", NULL, 0),
    };
    fq_selection *user = fq_selection_new("User", 4, user_fields, 5, &err);
    fq_selection_free(post); /* the user selection holds its own copy */
    CHECK(user != NULL);

    expect(
        "{\"user_posts\": [{\"title\": \"x\", \"id\": 7}], \"first_name\": \"A\"}", user,
        "{\"firstName\":\"A\",\"posts\":[{\"__typename\":\"Post\",\"id\":\"7\",\"title\":\"x\"}],"
        "\"ids\":[{\"title\":\"x\",\"id\":7}],\"t\":\"User\",\"m\":null}",
        FQ_OK);
    expect("{\"first_name\": 1, \"first_name\": 2}", user,
           "{\"firstName\":2,\"posts\":null,\"ids\":null,\"t\":\"User\",\"m\":null}", FQ_OK);
    expect("{\"user_posts\": [{\"title\": null}]}", user, NULL, FQ_ERR_NONNULL);
    expect("{\"user_posts\": [{}]}", user, NULL, FQ_ERR_NONNULL);
    expect("{\"user_posts\": 5}", user, NULL, FQ_ERR_KIND);
    expect("{\"user_posts\": [{\"title\": \"x\", \"id\": true}]}", user, NULL, FQ_ERR_KIND);
    expect("{\"user_posts\": [{\"title\": \"x\"}", user, NULL, FQ_ERR_JSON);
    expect("[[[", user, NULL, FQ_ERR_JSON);
    expect("", user, NULL, FQ_ERR_JSON);
    expect("{\"first_name\": \"\\ud800\"}", user, NULL, FQ_ERR_JSON);

    /* non-null path: ["posts", 1, "title"] */
    const char *doc = "{\"user_posts\": [{\"title\": \"a\"}, {\"title\": null}]}";
    fq_buf b;
    fq_buf_init(&b);
    CHECK(fq_rewrite(&b, doc, strlen(doc), user, &err) == -1);
    CHECK(err.code == FQ_ERR_NONNULL && err.path_len == 3);
    if (err.path_len == 3) {
        CHECK(err.path[0].key_len == 5 && memcmp(err.path[0].key, "posts", 5) == 0);
        CHECK(err.path[1].key == NULL && err.path[1].index == 1);
        CHECK(err.path[2].key_len == 5 && memcmp(err.path[2].key, "title", 5) == 0);
    }
    fq_err_clear(&err);
    CHECK(err.path == NULL && err.code == FQ_OK);
    fq_buf_free(&b);
    fq_selection_free(user);
}

/* A union level: each object rewritten under the member its discriminator names, inside
 * lists and objects, shapes on or off alike; an unnamed member is FQ_ERR_KIND. */
static void test_variants(void)
{
    fq_err err = {0};
    fq_field_spec post_fields[] = {field("__typename", NULL, NULL, 0),
                                   field("t", "title", NULL, 0)};
    fq_field_spec note_fields[] = {field("__typename", NULL, NULL, 0), field("b", "body", NULL, 0)};
    fq_selection *post = fq_selection_new("Post", 4, post_fields, 2, &err);
    fq_selection *note = fq_selection_new("Note", 4, note_fields, 2, &err);
    fq_field_spec members[] = {field("post", "kind", post, FQ_FIELD_VARIANT),
                               field("note", "kind", note, FQ_FIELD_VARIANT)};
    fq_selection *either = fq_selection_new(NULL, 0, members, 2, &err);
    fq_field_spec feed_fields[] = {field("items", "items", either, 0)};
    fq_selection *feed = fq_selection_new("Feed", 4, feed_fields, 1, &err);
    CHECK(post && note && either && feed);
    const char *doc = "{\"items\": [{\"kind\": \"note\", \"body\": \"x\"}, {\"title\": \"y\", "
                      "\"kind\": \"note\", \"kind\": \"post\"}, null]}";
    const char *out = "{\"items\":[{\"__typename\":\"Note\",\"b\":\"x\"},"
                      "{\"__typename\":\"Post\",\"t\":\"y\"},null]}";
    for (int round = 0; round < 3; round++) /* shapes learnt, then used */
        expect(doc, feed, out, FQ_OK);
    fq_selection_use_shapes(feed, 0);
    expect(doc, feed, out, FQ_OK);
    expect("{\"items\": [{\"kind\": \"poll\"}]}", feed, NULL, FQ_ERR_KIND);
    expect("{\"items\": [{\"kind\": 1}]}", feed, NULL, FQ_ERR_KIND);
    expect("{\"items\": [{}]}", feed, NULL, FQ_ERR_KIND);
    expect("{\"items\": [{\"kind\": \"p\\u006fst\"}]}", feed, NULL, FQ_ERR_KIND);
    expect("{\"items\": [{\"kind\": \"post\", \"title\": }]}", feed, NULL, FQ_ERR_JSON);
    expect("{\"items\": 3}", feed, NULL, FQ_ERR_KIND);

    /* variants mixed with plain fields, without a child, or reading two keys: refused */
    fq_field_spec mixed[] = {field("post", "kind", post, FQ_FIELD_VARIANT),
                             field("x", "x", NULL, 0)};
    CHECK(fq_selection_new(NULL, 0, mixed, 2, &err) == NULL && err.code == FQ_ERR_JSON);
    fq_field_spec childless[] = {field("post", "kind", NULL, FQ_FIELD_VARIANT)};
    CHECK(fq_selection_new(NULL, 0, childless, 1, &err) == NULL && err.code == FQ_ERR_JSON);
    fq_field_spec two_keys[] = {field("post", "kind", post, FQ_FIELD_VARIANT),
                                field("note", "type", note, FQ_FIELD_VARIANT)};
    CHECK(fq_selection_new(NULL, 0, two_keys, 2, &err) == NULL && err.code == FQ_ERR_JSON);
    fq_field_spec flagged[] = {field("post", "kind", post, FQ_FIELD_VARIANT | FQ_FIELD_ID)};
    CHECK(fq_selection_new(NULL, 0, flagged, 1, &err) == NULL && err.code == FQ_ERR_JSON);
    fq_selection_free(post);
    fq_selection_free(note);
    fq_selection_free(either);
    fq_selection_free(feed);
}

static void test_camel_rule(void)
{
    static const char *const cases[][2] = {
        {"type_", "type_"},
        {"_id", "_id"},
        {"a__b", "aB"},
        {"address_1", "address1"},
        {"HTTPCode", "HTTPCode"},
        {"user_posts", "userPosts"},
        {"__typename", "__typename"},
        {"a_", "a_"},
        {"_", "_"},
        {"", ""},
        {"\xc3\xa9_\xc3\xa9", "\xc3\xa9\xc3\xa9"},
        {"a_b_c", "aBC"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char dst[32];
        size_t n = fq_camel(dst, cases[i][0], strlen(cases[i][0]));
        CHECK(n == strlen(cases[i][1]) && memcmp(dst, cases[i][1], n) == 0);
    }
}

static void test_to_camel(void)
{
    expect("{\"user_posts\": [{\"created_at_utc\": 1}], \"_id\": \"a_b\", \"x__\": {}}", NULL,
           "{\"userPosts\":[{\"createdAtUtc\":1}],\"_id\":\"a_b\",\"x__\":{}}", FQ_OK);
    expect("{\"a\\u005fb\": 1}", NULL, "{\"aB\":1}", FQ_OK);
    expect("{\"a_\\n\": 1}", NULL, "{\"a\\n\":1}", FQ_OK);
    expect(" 1 ", NULL, "1", FQ_OK);
    expect("01", NULL, NULL, FQ_ERR_JSON);
}

struct docs {
    const char *doc[3];
};

static void doc_at(void *ctx, size_t i, const char **json, size_t *len)
{
    struct docs *d = ctx;
    *json = d->doc[i];
    *len = d->doc[i] ? strlen(d->doc[i]) : 0;
}

static void test_rewrite_array(void)
{
    fq_err err = {0};
    fq_field_spec f[] = {field("aB", "a_b", NULL, FQ_FIELD_NON_NULL)};
    fq_selection *sel = fq_selection_new(NULL, 0, f, 1, &err);
    fq_buf b;
    fq_buf_init(&b);
    struct docs ok = {{"{\"a_b\": 1}", NULL, " {\"a_b\": [2]} "}};
    CHECK(fq_rewrite_array(&b, 3, doc_at, &ok, sel, &err) == 0);
    CHECK(b.len == strlen("[{\"aB\":1},null,{\"aB\":[2]}]") &&
          memcmp(b.data, "[{\"aB\":1},null,{\"aB\":[2]}]", b.len) == 0);
    b.len = 0;
    CHECK(fq_rewrite_array(&b, 0, doc_at, &ok, sel, &err) == 0 && b.len == 2 &&
          memcmp(b.data, "[]", 2) == 0);
    b.len = 0;
    CHECK(fq_rewrite_array(&b, 3, doc_at, &ok, NULL, &err) == 0);
    CHECK(memcmp(b.data, "[{\"aB\":1},null,{\"aB\":[2]}]", b.len) == 0);
    b.len = 0;
    struct docs bad = {{"{\"a_b\": 1}", "{}", "{"}};
    CHECK(fq_rewrite_array(&b, 3, doc_at, &bad, sel, &err) == -1);
    CHECK(err.code == FQ_ERR_NONNULL && err.path_len == 2 && err.path[0].index == 1 && b.len == 0);
    fq_err_clear(&err);
    struct docs bad2 = {{"{\"a_b\": 1}", "{\"a_b\": 2}", "{\"a_b\": 3"}};
    CHECK(fq_rewrite_array(&b, 3, doc_at, &bad2, sel, &err) == -1);
    CHECK(err.code == FQ_ERR_JSON && err.pos == 9 && err.path_len == 1 && err.path[0].index == 2);
    fq_err_clear(&err);
    fq_buf_free(&b);
    fq_selection_free(sel);
}

/* Every prefix and every single-byte corruption of a document: never a crash or overread
 * (the input is copied into an exact-size allocation so ASan sees any read past it). */
/* The learned shapes change nothing: with them off, doc under sel gives what a call with
 * them gave (rc, err; out holding only its output): the same bytes, or the same error code,
 * offset and message. */
static void general_path_agrees(const char *doc, size_t len, fq_selection *sel, int rc,
                                const fq_err *err, const fq_buf *out)
{
    fq_buf plain;
    fq_err plain_err = {0};
    fq_buf_init(&plain);
    fq_selection_use_shapes(sel, 0);
    int plain_rc = fq_rewrite(&plain, doc, len, sel, &plain_err);
    fq_selection_use_shapes(sel, 1);
    CHECK(plain_rc == rc && plain_err.code == err->code && plain_err.pos == err->pos &&
          plain_err.msg == err->msg);
    CHECK(rc != 0 || (plain.len == out->len && memcmp(plain.data, out->data, out->len) == 0));
    fq_err_clear(&plain_err);
    fq_buf_free(&plain);
}

static void test_prefixes_and_corruptions(void)
{
    static const char doc[] =
        "{\"id\": 1, \"email\": \"a@b.c\", \"first_name\": \"caf\\u00e9 \xc3\xa9\", "
        "\"user_posts\": "
        "[{\"id\": 2, \"title\": \"a long enough title to use the sixteen byte loads\", \"n\": "
        "-1.5e3}, "
        "{\"id\": 3, \"title\": \"\\ud83d\\ude00\", \"tags\": [true, false, null, {}]}]}";
    fq_err err = {0};
    fq_field_spec pf[] = {field("id", "id", NULL, FQ_FIELD_ID), field("title", "title", NULL, 0)};
    fq_selection *post = fq_selection_new("Post", 4, pf, 2, &err);
    fq_field_spec uf[] = {field("t", NULL, NULL, 0), field("firstName", "first_name", NULL, 0),
                          field("posts", "user_posts", post, 0)};
    fq_selection *user = fq_selection_new("User", 4, uf, 3, &err);
    size_t n = strlen(doc);
    fq_buf b;
    fq_buf_init(&b);
    for (int warm = 0; warm < 3; warm++) { /* the selection learns the document's shapes */
        b.len = 0;
        CHECK(fq_rewrite(&b, doc, n, user, &err) == 0);
    }
    for (size_t len = 0; len <= n; len++) {
        for (int corrupt = -1; corrupt < 256; corrupt += (len == n ? 1 : 256)) {
            for (size_t at = 0; at < (corrupt < 0 ? 1 : len); at++) {
                char *copy = malloc(len ? len : 1);
                memcpy(copy, doc, len);
                if (corrupt >= 0)
                    copy[at] = (char)corrupt;
                for (int mode = 0; mode < 2; mode++) {
                    b.len = 0;
                    int rc = fq_rewrite(&b, copy, len, mode ? user : NULL, &err);
                    CHECK(rc == 0 || err.pos <= len);
                    if (len < n && corrupt < 0)
                        CHECK(rc == -1); /* every strict prefix of an object is invalid */
                    if (mode)
                        general_path_agrees(copy, len, user, rc, &err, &b);
                    fq_err_clear(&err);
                }
                free(copy);
            }
        }
    }
    fq_buf_free(&b);
    fq_selection_free(user);
    fq_selection_free(post);
}

/* One selection over documents of many layouts (more than a level keeps, some sharing a
 * start, one too wide to learn), again and again: every output equals the general path's. */
static void test_shapes(void)
{
    static const char *const docs[] = {
        "[{\"a\": 1, \"b\": \"x\"}, {\"a\": 2, \"b\": \"y\"}, {\"a\": 3, \"b\": \"z\"}]",
        "[{\"a\": 1, \"b\": \"x\", \"c\": [1]}, {\"a\": 2, \"b\": \"y\", \"c\": [2]}]",
        "[{\"b\": \"x\", \"a\": 1}, {\"b\": \"y\", \"a\": 2}, {\"b\": null, \"a\": 2}]",
        "[{\"a\": 1}, {\"a\": 2}, {\"a\": {\"deep\": [1, 2]}}]",
        "[{\"a\":1,\"b\":\"x\"}, {\"a\":2,\"b\":\"y\"}]",
        "[{\"a\": 1, \"b\": \"x\", \"b\": \"dup\"}, {\"a\": 1, \"b\": \"x\", \"b\": \"dup\"}]",
        "[{}, {}, {\"z\": 0}]",
    };
    char wide[8192];
    size_t w = 0;
    w += (size_t)snprintf(wide + w, sizeof(wide) - w, "[");
    for (int o = 0; o < 3; o++) {
        w += (size_t)snprintf(wide + w, sizeof(wide) - w, "%s{", o ? ", " : "");
        for (int k = 0; k < 70; k++) /* more members than a shape holds */
            w += (size_t)snprintf(wide + w, sizeof(wide) - w, "%s\"k%d\": %d", k ? ", " : "", k, k);
        w += (size_t)snprintf(wide + w, sizeof(wide) - w, ", \"a\": 5}");
    }
    snprintf(wide + w, sizeof(wide) - w, "]");
    fq_err err = {0};
    fq_field_spec f[] = {field("t", NULL, NULL, 0), field("a", "a", NULL, 0),
                         field("b", "b", NULL, 0), field("a2", "a", NULL, FQ_FIELD_ID)};
    fq_selection *sel = fq_selection_new("T", 1, f, 4, &err);
    fq_buf b;
    fq_buf_init(&b);
    for (int round = 0; round < 4; round++) {
        for (size_t d = 0; d <= sizeof(docs) / sizeof(docs[0]); d++) {
            const char *doc = d < sizeof(docs) / sizeof(docs[0]) ? docs[d] : wide;
            b.len = 0;
            int rc = fq_rewrite(&b, doc, strlen(doc), sel, &err);
            general_path_agrees(doc, strlen(doc), sel, rc, &err, &b);
            fq_err_clear(&err);
        }
    }
    fq_selection_free(sel);

    /* a level meeting only objects it cannot learn (too wide) gives up after a few: no
     * rescans from there on */
    sel = fq_selection_new("T", 1, f, 4, &err);
    for (int round = 0; round < 40; round++) {
        b.len = 0;
        CHECK(fq_rewrite(&b, wide, strlen(wide), sel, &err) == 0);
    }
    CHECK(sel->shapes[0].failed == FQ_SHAPE_MAX_FAILURES && sel->shapes[0].shape[0] == NULL);
    fq_selection_free(sel);

    /* with shapes off a selection learns nothing, on again it learns */
    sel = fq_selection_new("T", 1, f, 4, &err);
    fq_selection_use_shapes(sel, 0);
    for (int round = 0; round < 3; round++) {
        b.len = 0;
        CHECK(fq_rewrite(&b, docs[0], strlen(docs[0]), sel, &err) == 0);
    }
    CHECK(sel->shapes[0].shape[0] == NULL && sel->shapes[0].failed == 0);
    fq_selection_use_shapes(sel, 1);
    b.len = 0;
    CHECK(fq_rewrite(&b, docs[0], strlen(docs[0]), sel, &err) == 0);
    CHECK(sel->shapes[0].shape[0] != NULL);
    fq_buf_free(&b);
    fq_selection_free(sel);
}

/* Rows of a page test: node i is "{\"i\":i}" unless NULL is asked, positions as given. */
typedef struct page_rows {
    const char **pos;
    int null_node; /* the index of a null node, or -1 */
} page_rows;

static void test_page_row(void *ctx, size_t i, fq_page_row *row)
{
    static const char *nodes[] = {"{\"i\":0}", "{\"i\":1}", "{\"i\":2}", "{\"i\":3}"};
    const page_rows *rows = ctx;
    row->node = (int)i == rows->null_node ? NULL : nodes[i];
    row->node_len = row->node ? strlen(row->node) : 0;
    row->pos = rows->pos[i];
    row->pos_len = strlen(rows->pos[i]);
}

static void expect_page(size_t n, size_t count, int backward, int other, const char *total,
                        int null_node, const char *want)
{
    /* positions of 1, 2 and 3 bytes past a multiple of three: every base64 padding */
    const char *pos[] = {"abc", "abcd", "abcde", "[\"t\", 4]"};
    page_rows rows = {pos, null_node};
    fq_page page = {test_page_row, &rows, n,     count,
                    backward,      other, total, total ? strlen(total) : 0};
    fq_buf b;
    fq_buf_init(&b);
    CHECK(fq_page_write(&b, &page) == 0);
    CHECK(b.len == strlen(want) && memcmp(b.data, want, b.len) == 0);
    if (b.len != strlen(want) || memcmp(b.data, want, b.len) != 0)
        fprintf(stderr, "got  %.*s\nwant %s\n", (int)b.len, b.data, want);
    fq_buf_free(&b);
}

static void test_page(void)
{
    /* forward, one row beyond count: the walk goes on; rows before the cursor exist */
    expect_page(3, 2, 0, 1, NULL, -1,
                "{\"edges\":[{\"cursor\":\"YWJj\",\"node\":{\"i\":0}},"
                "{\"cursor\":\"YWJjZA==\",\"node\":{\"i\":1}}],\"page_info\":{"
                "\"has_next_page\":true,\"has_previous_page\":true,"
                "\"start_cursor\":\"YWJj\",\"end_cursor\":\"YWJjZA==\"}}");
    /* backward: shown in reverse of the walk; more rows before, the other side after */
    expect_page(3, 2, 1, 0, "7", -1,
                "{\"edges\":[{\"cursor\":\"YWJjZA==\",\"node\":{\"i\":1}},"
                "{\"cursor\":\"YWJj\",\"node\":{\"i\":0}}],\"page_info\":{"
                "\"has_next_page\":false,\"has_previous_page\":true,"
                "\"start_cursor\":\"YWJjZA==\",\"end_cursor\":\"YWJj\"},"
                "\"total_count\":7}");
    /* the whole rest fits: no next page; a null node stays null; padding of 5 and 8 bytes */
    expect_page(2, 4, 0, 0, NULL, 1,
                "{\"edges\":[{\"cursor\":\"YWJj\",\"node\":{\"i\":0}},"
                "{\"cursor\":\"YWJjZA==\",\"node\":null}],\"page_info\":{"
                "\"has_next_page\":false,\"has_previous_page\":false,"
                "\"start_cursor\":\"YWJj\",\"end_cursor\":\"YWJjZA==\"}}");
    expect_page(4, 4, 0, 0, NULL, -1,
                "{\"edges\":[{\"cursor\":\"YWJj\",\"node\":{\"i\":0}},"
                "{\"cursor\":\"YWJjZA==\",\"node\":{\"i\":1}},"
                "{\"cursor\":\"YWJjZGU=\",\"node\":{\"i\":2}},"
                "{\"cursor\":\"WyJ0IiwgNF0=\",\"node\":{\"i\":3}}],\"page_info\":{"
                "\"has_next_page\":false,\"has_previous_page\":false,"
                "\"start_cursor\":\"YWJj\",\"end_cursor\":\"WyJ0IiwgNF0=\"}}");
    /* one row: both page-info cursors are its own (room for each) */
    expect_page(1, 1, 1, 1, NULL, -1,
                "{\"edges\":[{\"cursor\":\"YWJj\",\"node\":{\"i\":0}}],\"page_info\":{"
                "\"has_next_page\":true,\"has_previous_page\":false,"
                "\"start_cursor\":\"YWJj\",\"end_cursor\":\"YWJj\"}}");
    /* empty: no cursors; first: 0 with rows beyond is an empty page that goes on */
    expect_page(0, 2, 0, 1, "0", -1,
                "{\"edges\":[],\"page_info\":{\"has_next_page\":false,"
                "\"has_previous_page\":true,\"start_cursor\":null,\"end_cursor\":null},"
                "\"total_count\":0}");
    expect_page(1, 0, 0, 0, NULL, -1,
                "{\"edges\":[],\"page_info\":{\"has_next_page\":true,"
                "\"has_previous_page\":false,\"start_cursor\":null,\"end_cursor\":null}}");
}

int main(void)
{
    test_buf();
    test_err();
    test_ring();
    test_hex();
    test_selection_errors();
    test_rewrite();
    test_variants();
    test_camel_rule();
    test_to_camel();
    test_rewrite_array();
    test_prefixes_and_corruptions();
    test_shapes();
    test_page();
    if (failures) {
        fprintf(stderr, "%d check(s) failed\n", failures);
        return 1;
    }
    printf("test_core: all checks passed\n");
    return 0;
}
