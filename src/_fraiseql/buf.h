/* fq_buf: the one growable output buffer of the C core.
 *
 * Discipline: reserve the worst case of what comes next with fq_buf_reserve (one compare
 * in the hot path), then write unchecked with fq_buf_put / fq_buf_putc. Growth is 1.5x in
 * a cold function; a debug build (FQ_DEBUG) grows to the exact size asked, so a write
 * beyond a reservation lands outside the allocation and ASan reports it.
 *
 * Storage is pluggable through `resize`: the default uses realloc/free; the Python binding
 * backs the buffer with the final `bytes` object (py_rewrite.c: bytes_buf_init), so the
 * response is written in place and sized once. */
#ifndef FQ_BUF_H
#define FQ_BUF_H

#include <string.h>

#include "common.h"

typedef struct fq_buf fq_buf;

/* Makes room for exactly `cap` bytes keeping the first b->len; cap 0 releases the storage.
 * Returns 0, or -1 with the buffer left empty and storage released. */
typedef int (*fq_buf_resize_fn)(fq_buf *b, size_t cap);

struct fq_buf {
    char *data;
    size_t len;
    size_t cap;
    fq_buf_resize_fn resize; /* NULL: realloc/free */
    void *owner;             /* for custom storage (the bytes object of the binding) */
};

/* An empty realloc-backed buffer (no allocation until the first reserve). */
static inline void fq_buf_init(fq_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->resize = NULL;
    b->owner = NULL;
}

/* Cold path of fq_buf_reserve: 0, or -1 when out of memory (the buffer is then released). */
FQ_COLD int fq_buf_grow(fq_buf *b, size_t extra);

/* Releases the storage, whatever its kind; the buffer is empty and reusable afterwards. */
void fq_buf_free(fq_buf *b);

/* Ensures `extra` writable bytes after b->len: 0, or -1 when out of memory. */
FQ_INLINE int fq_buf_reserve(fq_buf *b, size_t extra)
{
    if (FQ_LIKELY(b->cap - b->len >= extra))
        return 0;
    return fq_buf_grow(b, extra);
}

/* Unchecked writes: the caller has reserved the room. */
FQ_INLINE void fq_buf_put(fq_buf *b, const void *src, size_t n)
{
    memcpy(b->data + b->len, src, n);
    b->len += n;
}

FQ_INLINE void fq_buf_putc(fq_buf *b, char c)
{
    b->data[b->len++] = c;
}

#endif
