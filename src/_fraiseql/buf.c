/* fq_buf growth and release (the hot inline half lives in buf.h). */
#include <stdint.h>
#include <stdlib.h>

#include "buf.h"

static int realloc_resize(fq_buf *b, size_t cap)
{
    if (cap == 0) {
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
        return 0;
    }
    char *data = realloc(b->data, cap);
    if (data == NULL) {
        free(b->data);
        b->data = NULL;
        b->len = b->cap = 0;
        return -1;
    }
    b->data = data;
    b->cap = cap;
    return 0;
}

FQ_COLD int fq_buf_grow(fq_buf *b, size_t extra)
{
    if (extra > SIZE_MAX / 2 - b->len) {
        fq_buf_free(b);
        return -1;
    }
    size_t need = b->len + extra;
#ifdef FQ_DEBUG
    size_t cap = need; /* exact: an unreserved write overflows the allocation */
#else
    size_t cap = b->cap + b->cap / 2;
    if (cap < need)
        cap = need;
    if (cap < 64)
        cap = 64;
#endif
    return b->resize ? b->resize(b, cap) : realloc_resize(b, cap);
}

void fq_buf_free(fq_buf *b)
{
    if (b->resize)
        (void)b->resize(b, 0);
    else
        (void)realloc_resize(b, 0);
}
