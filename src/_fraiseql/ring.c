/* Growth of the FIFO ring (ring.h): doubles, oldest element first in the new storage. */
#include "ring.h"

#include <stdint.h>
#include <string.h>

void *fq_ring_push(fq_ring *r)
{
    if (r->count == r->cap) {
        size_t ncap = r->cap ? r->cap * 2 : 16;
        if (ncap < r->cap || ncap > SIZE_MAX / r->elem)
            return NULL;
        char *n = malloc(ncap * r->elem);
        if (n == NULL)
            return NULL;
        for (size_t i = 0; i < r->count; i++)
            memcpy(n + i * r->elem, fq_ring_at(r, i), r->elem);
        free(r->data);
        r->data = n;
        r->cap = ncap;
        r->head = 0;
    }
    r->count++;
    return fq_ring_at(r, r->count - 1);
}

void fq_ring_free(fq_ring *r)
{
    free(r->data);
    fq_ring_init(r, r->elem);
}
