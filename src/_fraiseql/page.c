/* The connection page document from its statement's rows (page.h). */
#include "page.h"

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static size_t b64_len(size_t n)
{
    return (n + 2) / 3 * 4;
}

/* Standard base64 with padding, no line breaks: what relay.decode_cursor reads. */
static void put_b64(fq_buf *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    char *d = out->data + out->len;
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 | p[i + 2];
        *d++ = B64[v >> 18];
        *d++ = B64[(v >> 12) & 63];
        *d++ = B64[(v >> 6) & 63];
        *d++ = B64[v & 63];
    }
    if (i < n) {
        unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0);
        *d++ = B64[v >> 18];
        *d++ = B64[(v >> 12) & 63];
        *d++ = i + 1 < n ? B64[(v >> 6) & 63] : '=';
        *d++ = '=';
    }
    out->len = (size_t)(d - out->data);
}

#define PUT(out, lit) fq_buf_put(out, lit, sizeof(lit) - 1)

static void put_cursor(fq_buf *out, const fq_page_row *row)
{
    fq_buf_putc(out, '"');
    put_b64(out, row->pos, row->pos_len);
    fq_buf_putc(out, '"');
}

/* The cursor of the statement's row i, or null when the page is empty. */
static void put_cursor_of(fq_buf *out, const fq_page *page, size_t shown, size_t i)
{
    fq_page_row row;
    if (shown == 0) {
        PUT(out, "null");
        return;
    }
    page->row(page->ctx, i, &row);
    put_cursor(out, &row);
}

static void put_bool(fq_buf *out, int value)
{
    if (value)
        PUT(out, "true");
    else
        PUT(out, "false");
}

int fq_page_write(fq_buf *out, const fq_page *page)
{
    size_t shown = page->n < page->count ? page->n : page->count;
    int more = page->n > page->count;
    fq_page_row row;
    /* the worst case first: the punctuation and names (under 160 bytes), every edge's cursor
     * and node, and the page info's two cursors, the rows at both ends */
    size_t need = 160 + page->total_len;
    for (size_t i = 0; i < shown; i++) {
        page->row(page->ctx, i, &row);
        need += 32 + b64_len(row.pos_len) + (row.node ? row.node_len : 4);
        if (i == 0)
            need += b64_len(row.pos_len) + 2;
        if (i + 1 == shown)
            need += b64_len(row.pos_len) + 2;
    }
    if (fq_buf_reserve(out, need) < 0)
        return -1;
    PUT(out, "{\"edges\":[");
    for (size_t k = 0; k < shown; k++) {
        size_t i = page->backward ? shown - 1 - k : k; /* shown in the order of the list */
        page->row(page->ctx, i, &row);
        if (k > 0)
            fq_buf_putc(out, ',');
        PUT(out, "{\"cursor\":");
        put_cursor(out, &row);
        PUT(out, ",\"node\":");
        if (row.node)
            fq_buf_put(out, row.node, row.node_len);
        else
            PUT(out, "null");
        fq_buf_putc(out, '}');
    }
    PUT(out, "],\"page_info\":{\"has_next_page\":");
    put_bool(out, page->backward ? page->other : more);
    PUT(out, ",\"has_previous_page\":");
    put_bool(out, page->backward ? more : page->other);
    /* the list's first and last edges: the walk's first and last rows, swapped backward */
    size_t head = page->backward ? shown - 1 : 0, tail = page->backward ? 0 : shown - 1;
    PUT(out, ",\"start_cursor\":");
    put_cursor_of(out, page, shown, head);
    PUT(out, ",\"end_cursor\":");
    put_cursor_of(out, page, shown, tail);
    fq_buf_putc(out, '}');
    if (page->total) {
        PUT(out, ",\"total_count\":");
        fq_buf_put(out, page->total, page->total_len);
    }
    fq_buf_putc(out, '}');
    return 0;
}
