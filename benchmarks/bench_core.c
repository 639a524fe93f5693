/* C-level benchmark of the pure core (no Python call overhead): to_camel and the "all"
 * selection of bench_rewrite.py over the documents it dumps. Built twice by
 * `make bench-core`, with SSE2 scanning and with the portable fallback (-DFQ_NO_SIMD).
 * Usage: bench_core DIR (DIR/doc0.json ... from bench_rewrite.py --dump DIR) prints timings;
 * bench_core DIR D N [noshapes] only rewrites document D N times under the "all" selection
 * (for instruction counts: benchmarks/count_core.py runs it under callgrind). */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rewrite.h"

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static fq_field_spec field(const char *out, const char *src, const fq_selection *child)
{
    fq_field_spec f = {out, strlen(out), src, src ? strlen(src) : 0, child, 0};
    return f;
}

/* Median ns of one call over 15 batches. */
static double bench(fq_buf *b, const char *doc, size_t len, const fq_selection *sel)
{
    fq_err err = {0};
    double samples[15];
    int iters = (int)(200000000 / (len * 20 + 2000)) + 1;
    for (int s = 0; s < 15; s++) {
        double t = now_ns();
        for (int i = 0; i < iters; i++) {
            b->len = 0;
            if (fq_rewrite(b, doc, len, sel, &err) < 0) {
                fprintf(stderr, "rewrite failed: %s at %zu\n", err.msg, err.pos);
                exit(1);
            }
        }
        samples[s] = (now_ns() - t) / iters;
    }
    qsort(samples, 15, sizeof(double), cmp);
    return samples[7];
}

/* Document d of dir, malloc'd, or NULL. */
static char *load_doc(const char *dir, int d, size_t *len)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/doc%d.json", dir, d);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *doc = malloc(*len ? *len : 1);
    if (doc && fread(doc, 1, *len, f) != *len) {
        free(doc);
        doc = NULL;
    }
    fclose(f);
    return doc;
}

/* n rewrites of document d and nothing else (instruction counts). */
static int rewrite_n(const char *dir, int d, long n, int noshapes, fq_buf *b, fq_selection *sel)
{
    size_t len;
    fq_err err = {0};
    char *doc = load_doc(dir, d, &len);
    if (doc == NULL)
        return 1;
    fq_selection_use_shapes(sel, !noshapes);
    for (long i = 0; i < n; i++) {
        b->len = 0;
        if (fq_rewrite(b, doc, len, sel, &err) < 0)
            return 1;
    }
    free(doc);
    return 0;
}

int main(int argc, char **argv)
{
    fq_err err = {0};
    fq_field_spec post[] = {
        field("__typename", NULL, NULL),        field("id", "id", NULL),
        field("title", "title", NULL),          field("content", "content", NULL),
        field("createdAt", "created_at", NULL),
    };
    fq_selection *psel = fq_selection_new("Post", 4, post, 5, &err);
    fq_field_spec user[] = {
        field("__typename", NULL, NULL),        field("id", "id", NULL),
        field("firstName", "first_name", NULL), field("lastName", "last_name", NULL),
        field("email", "email", NULL),          field("bio", "bio", NULL),
        field("isActive", "is_active", NULL),   field("createdAt", "created_at", NULL),
        field("updatedAt", "updated_at", NULL), field("userPosts", "user_posts", psel),
    };
    fq_selection *usel = fq_selection_new("User", 4, user, 10, &err);
    if ((argc != 2 && argc != 4 && argc != 5) || !psel || !usel) {
        fprintf(stderr, "usage: bench_core DIR [D N [noshapes]]\n");
        return 2;
    }
    fq_buf b;
    fq_buf_init(&b);
    if (argc >= 4)
        return rewrite_n(argv[1], atoi(argv[2]), atol(argv[3]), argc == 5, &b, usel);
    printf("%-10s %8s %12s %10s %12s %10s   (%s)\n", "document", "bytes", "to_camel ns", "MB/s",
           "select ns", "MB/s", FQ_NO_SIMD_LABEL);
    for (int d = 0; d < 4; d++) {
        size_t len;
        char *doc = load_doc(argv[1], d, &len);
        if (doc == NULL)
            break;
        double camel = bench(&b, doc, len, NULL), sel = bench(&b, doc, len, usel);
        printf("doc%-7d %8zu %12.0f %10.0f %12.0f %10.0f\n", d, len, camel, len / camel * 1e3, sel,
               len / sel * 1e3);
        free(doc);
    }
    fq_buf_free(&b);
    fq_selection_free(usel);
    fq_selection_free(psel);
    return 0;
}
