/* Learned object shapes: building and publishing them (matching lives in rewrite.c). */
#include <stdlib.h>
#include <string.h>

#include "shape.h"

/* Glue bytes one shape may hold; an object with more (huge keys or whitespace) is not
 * learned. */
#define SHAPE_MAX_GLUE 65536

/* Whether t holds exactly the glue sequence m[0..n), close. */
static int same_shape(const fq_shape *t, const fq_shape_seen *m, size_t n, const char *close,
                      size_t close_len)
{
    if (t->nmembers != n || t->close.glue_len != close_len
        || memcmp(fq_shape_glue(t, &t->close), close, close_len) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const fq_shape_member *tm = &t->members[i];
        if (tm->glue_len != m[i].glue_len || memcmp(fq_shape_glue(t, tm), m[i].glue, m[i].glue_len) != 0)
            return 0;
    }
    return 1;
}

/* Plans each member's writes (fq_shape_member): a member whose key's first reader is the
 * next field to write, once every field before it can be written (a typename, a key met
 * earlier, or a key the shape lacks), writes that field straight from its value. Returns
 * -1 when a selected key comes twice (last-wins objects stay with the general path).
 * state: nsrc bytes, zeroed. */
static int plan_members(const fq_selection *sel, fq_shape *t, unsigned char *state)
{
    enum { ABSENT = 0, LATER = 1, MET = 2 };
    for (uint32_t i = 0; i < t->nmembers; i++) {
        int32_t s = t->members[i].slot;
        if (s >= 0 && state[s] != ABSENT)
            return -1;
        if (s >= 0)
            state[s] = LATER;
    }
    for (uint32_t s = 0; s < sel->nsrc; s++)
        t->absent += state[s] == ABSENT;
    uint32_t next = 0;
    for (uint32_t i = 0; i < t->nmembers; i++) {
        fq_shape_member *mb = &t->members[i];
        mb->flush_to = next;
        mb->direct = -1;
        if (mb->slot < 0)
            continue;
        uint32_t f = fq_sel_srcs(sel)[mb->slot].first_field;
        if (f >= next) {
            uint32_t g = next;
            while (g < f && (sel->fields[g].src < 0 || state[sel->fields[g].src] != LATER))
                g++;
            if (g == f) {
                mb->flush_to = f;
                mb->direct = (int32_t)f;
                next = f + 1;
            }
        }
        state[mb->slot] = MET;
    }
    t->close.flush_to = sel->nfields;
    return 0;
}

int fq_shape_publish(fq_level_shapes *level, const fq_selection *sel, const fq_shape_seen *m,
                     size_t n, const char *close, size_t close_len)
{
    if (n > FQ_SHAPE_MAX_MEMBERS)
        return -1;
    size_t glue = close_len;
    for (size_t i = 0; i < n; i++)
        glue += m[i].glue_len;
    if (glue > SHAPE_MAX_GLUE)
        return -1;
    for (int k = 0; k < FQ_SHAPES_PER_LEVEL; k++) {
        const fq_shape *t = fq_shape_get(level, k);
        if (t != NULL && same_shape(t, m, n, close, close_len))
            return -1; /* learned already (by a concurrent rewrite, or re-met) */
    }

    size_t head = sizeof(fq_shape) + n * sizeof(fq_shape_member);
    fq_shape *t = calloc(1, head + glue + FQ_SHAPE_GLUE_PAD);
    unsigned char *state = calloc(sel->nsrc ? sel->nsrc : 1, 1);
    if (t == NULL || state == NULL)
        goto error;
    t->nmembers = (uint32_t)n;
    char *w = (char *)t + head;
    for (size_t i = 0; i < n; i++) {
        t->members[i] = (fq_shape_member){(uint32_t)(w - (char *)t), (uint32_t)m[i].glue_len, m[i].slot, 0, -1};
        memcpy(w, m[i].glue, m[i].glue_len);
        w += m[i].glue_len;
    }
    t->close = (fq_shape_member){(uint32_t)(w - (char *)t), (uint32_t)close_len, -1, 0, -1};
    memcpy(w, close, close_len);
    if (plan_members(sel, t, state) < 0)
        goto error;
    free(state);
    for (int k = 0; k < FQ_SHAPES_PER_LEVEL; k++) {
        fq_shape *expected = NULL;
        if (__atomic_compare_exchange_n(&level->shape[k], &expected, t, 0, __ATOMIC_RELEASE,
                                        __ATOMIC_RELAXED))
            return 0;
    }
    free(t); /* every slot taken meanwhile */
    return -1;

error:
    free(state);
    free(t);
    return -1;
}

fq_level_shapes *fq_shapes_new(size_t n)
{
    return calloc(n ? n : 1, sizeof(fq_level_shapes));
}

void fq_shapes_free(fq_level_shapes *levels, size_t n)
{
    if (levels == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < FQ_SHAPES_PER_LEVEL; k++)
            free(levels[i].shape[k]);
    free(levels);
}
