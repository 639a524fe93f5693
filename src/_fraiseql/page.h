/* A Relay connection page as the document the rewriter serves (fraiseql/relay.py):
 *
 *   {"edges":[{"cursor":C,"node":N},...],"page_info":{"has_next_page":B,
 *    "has_previous_page":B,"start_cursor":C|null,"end_cursor":C|null}[,"total_count":T]}
 *
 * written from the rows of the page's statement: each row's node (stored JSON) and position
 * (the JSON array text of the view's fingerprint, the row's order values and key); a cursor
 * is its position in base64. The statement reads one row beyond `count` to tell whether the
 * walk goes on, in walk order: backward pages are shown in reverse. */
#ifndef FQ_PAGE_H
#define FQ_PAGE_H

#include "buf.h"

typedef struct fq_page_row {
    const char *node; /* NULL: a null node */
    size_t node_len;
    const char *pos;
    size_t pos_len;
} fq_page_row;

/* Row i (0 <= i < n) of the statement, in walk order. */
typedef void (*fq_page_row_fn)(void *ctx, size_t i, fq_page_row *row);

typedef struct fq_page {
    fq_page_row_fn row;
    void *ctx;
    size_t n;          /* rows read: at most count + 1 */
    size_t count;      /* rows asked for */
    int backward;      /* a `last`/`before` page */
    int other;         /* rows exist beyond the cursor on the side the walk came from */
    const char *total; /* the total count as JSON digits; NULL: not asked for */
    size_t total_len;
} fq_page;

/* Appends the page document to out: 0, or -1 when out of memory (out released). */
int fq_page_write(fq_buf *out, const fq_page *page);

#endif
