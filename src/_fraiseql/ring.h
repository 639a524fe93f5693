/* A growable FIFO ring of fixed-size elements (pure C, no Python.h): the driver's queue of
 * requests in flight (pgconn.c) and the futures waiting for them (py_pgconn.c). */
#ifndef FQ_RING_H
#define FQ_RING_H

#include "common.h"

typedef struct fq_ring {
    char *data;
    size_t elem;  /* bytes per element */
    size_t cap;   /* elements allocated: 0 or a power of two */
    size_t head;  /* index of the oldest element */
    size_t count; /* elements held */
} fq_ring;

static inline void fq_ring_init(fq_ring *r, size_t elem)
{
    r->data = NULL;
    r->elem = elem;
    r->cap = r->head = r->count = 0;
}

/* Element i counted from the oldest (i < count). */
static inline void *fq_ring_at(const fq_ring *r, size_t i)
{
    return r->data + ((r->head + i) & (r->cap - 1)) * r->elem;
}

/* Appends an element (contents undefined) and returns it; NULL when out of memory. */
void *fq_ring_push(fq_ring *r);

/* Drops the oldest element (count > 0). */
static inline void fq_ring_pop(fq_ring *r)
{
    r->head = (r->head + 1) & (r->cap - 1);
    r->count--;
}

/* Drops the newest element (count > 0): undoes the last push. */
static inline void fq_ring_drop_last(fq_ring *r)
{
    r->count--;
}

void fq_ring_free(fq_ring *r);

#endif
