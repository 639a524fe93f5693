/* Learned object shapes: building and publishing them (matching lives in rewrite.c). */
#include <stdlib.h>
#include <string.h>

#include "shape.h"

/* Glue bytes, and constant text bytes, one shape may hold; an object with more (huge keys
 * or whitespace, a huge selection) is not learned. */
#define SHAPE_MAX_BYTES 65536

/* Whether t holds exactly the glue sequence m[0..n), close. */
static int same_shape(const fq_shape *t, const fq_shape_seen *m, size_t n, const char *close,
                      size_t close_len)
{
    if (t->nmembers != n || t->close.glue_len != close_len ||
        memcmp(fq_shape_glue(t, &t->close), close, close_len) != 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        const fq_shape_member *tm = &t->members[i];
        if (tm->glue_len != m[i].glue_len ||
            memcmp(fq_shape_glue(t, tm), m[i].glue, m[i].glue_len) != 0)
            return 0;
    }
    return 1;
}

enum { ABSENT = 0, LATER = 1, MET = 2 }; /* a slot's key, seen from a point of the layout */

/* Whether field f can be written at a point where the slot states are `state`: a typename,
 * a key met earlier, or a key the shape lacks (null); *constant: its text is fixed (no
 * recorded value needed). */
static int writable(const fq_selection *sel, uint32_t f, const unsigned char *state, int *constant)
{
    int32_t s = sel->fields[f].src;
    if (s >= 0 && state[s] == LATER)
        return 0;
    *constant = *constant && (s < 0 || state[s] == ABSENT);
    return 1;
}

/* Writes ',' (unless f is the first field) and field f's pre-rendered fragment (its key, and
 * for a typename field the typename) at w, if w; returns the length. */
static size_t key_text(const fq_selection *sel, uint32_t f, char *w)
{
    const fq_sel_field *fd = &sel->fields[f];
    if (w) {
        if (f != 0)
            *w++ = ',';
        memcpy(w, fq_sel_str(sel, fd->frag_off), fd->frag_len);
    }
    return (f != 0) + fd->frag_len;
}

/* Field f's constant text (a typename, or null for an absent key) at w, if w; its length. */
static size_t constant_text(const fq_selection *sel, uint32_t f, char *w)
{
    size_t n = key_text(sel, f, w);
    if (sel->fields[f].src < 0)
        return n;
    if (w)
        memcpy(w + n, "null", 4);
    return n + 4;
}

/* The text of member mb (flush range and field already planned) at w, if w; its length. A
 * flush range of constant fields becomes text (and the range empty). */
static size_t member_text(const fq_selection *sel, fq_shape_member *mb, int constant, int close,
                          char *w)
{
    size_t n = 0;
    if (constant) {
        for (uint32_t f = mb->flush_from; f < mb->flush_to; f++)
            n += constant_text(sel, f, w ? w + n : NULL);
        if (w)
            mb->flush_from = mb->flush_to;
    }
    if (mb->field >= 0)
        n += key_text(sel, (uint32_t)mb->field, w ? w + n : NULL);
    if (close) {
        if (w)
            w[n] = '}';
        n++;
    }
    return n;
}

/* Plans the members (fq_shape_member) of t, whose glue and slots are set: a member whose
 * key's first reader is the next field to write, once every field before it can be written,
 * writes that field from its value; its slot is recorded only when other fields read it.
 * constants[i]: member i's flush range (close: index n) is all constant text. Returns -1
 * when a selected key comes twice (last-wins objects stay with the general path) or a
 * non-null field's key is missing. state: nsrc bytes, zeroed. */
static int plan_members(const fq_selection *sel, fq_shape *t, unsigned char *state,
                        unsigned char *constants)
{
    const fq_sel_src *srcs = fq_sel_srcs(sel);
    for (uint32_t i = 0; i < t->nmembers; i++) {
        int32_t s = t->members[i].slot;
        if (s >= 0 && state[s] != ABSENT)
            return -1;
        if (s >= 0)
            state[s] = LATER;
    }
    for (uint32_t f = 0; f < sel->nfields; f++) {
        int32_t s = sel->fields[f].src;
        if (s >= 0 && state[s] == ABSENT && (sel->fields[f].flags & FQ_FIELD_NON_NULL))
            return -1;
    }
    uint32_t next = 0;
    for (uint32_t i = 0; i <= t->nmembers; i++) {
        fq_shape_member *mb = i < t->nmembers ? &t->members[i] : &t->close;
        int constant = 1;
        mb->flush_from = mb->flush_to = next;
        mb->field = -1;
        mb->kind = FQ_MEMBER_SCAN;
        if (i == t->nmembers) {
            for (uint32_t f = next; f < sel->nfields; f++)
                (void)writable(sel, f, state, &constant);
            mb->flush_to = sel->nfields;
        } else if (mb->slot >= 0) {
            int32_t s = mb->slot;
            uint32_t f = srcs[s].first_field, g = next, readers = 0;
            while (g < f && writable(sel, g, state, &constant))
                g++;
            if (g == f) {
                mb->flush_to = f;
                mb->field = (int32_t)f;
                mb->kind = sel->fields[f].plain ? FQ_MEMBER_LEAF : FQ_MEMBER_FIELD;
                next = f + 1;
                for (uint32_t h = f; h < sel->nfields; h++)
                    readers += sel->fields[h].src == s;
                if (readers == 1)
                    mb->slot = -1;
            } else {
                constant = 1; /* nothing is flushed here */
            }
            state[s] = MET;
        }
        constants[i] = (unsigned char)constant;
        t->records |= mb->slot >= 0;
    }
    return 0;
}

/* Whether members a (of shape s) and b (of shape t) have the same glue and plan. */
static int same_member(const fq_shape *s, const fq_shape_member *a, const fq_shape *t,
                       const fq_shape_member *b)
{
    return a->glue_len == b->glue_len && a->text_len == b->text_len && a->kind == b->kind &&
           a->slot == b->slot && a->field == b->field && a->flush_from == b->flush_from &&
           a->flush_to == b->flush_to &&
           memcmp(fq_shape_glue(s, a), fq_shape_glue(t, b), a->glue_len) == 0 &&
           memcmp(fq_shape_text(s, a), fq_shape_text(t, b), a->text_len) == 0;
}

/* How many leading members shapes s and t share. */
static uint32_t shared_members(const fq_shape *s, const fq_shape *t)
{
    uint32_t i = 0;
    while (i < s->nmembers && i < t->nmembers && same_member(s, &s->members[i], t, &t->members[i]))
        i++;
    return i;
}

int fq_shape_publish(fq_level_shapes *level, const fq_selection *sel, const fq_shape_seen *m,
                     size_t n, const char *close, size_t close_len)
{
    if (n > FQ_SHAPE_MAX_MEMBERS)
        return -1;
    size_t glue = close_len;
    for (size_t i = 0; i < n; i++)
        glue += m[i].glue_len;
    if (glue > SHAPE_MAX_BYTES)
        return -1;
    for (int k = 0; k < FQ_SHAPES_PER_LEVEL; k++) {
        const fq_shape *t = fq_shape_get(level, k);
        if (t != NULL && same_shape(t, m, n, close, close_len))
            return -1; /* learned already (by a concurrent rewrite, or re-met) */
    }

    /* plan on a draft, then size the texts and build the shape */
    size_t head = sizeof(fq_shape) + n * sizeof(fq_shape_member);
    fq_shape *draft = calloc(1, head), *t = NULL;
    unsigned char *state = calloc(sel->nsrc + n + 2, 1), *constants = state + sel->nsrc;
    if (draft == NULL || state == NULL)
        goto error;
    draft->nmembers = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        draft->members[i].slot = m[i].slot;
    draft->close.slot = -1;
    if (plan_members(sel, draft, state, constants) < 0)
        goto error;
    size_t text = 0;
    for (size_t i = 0; i <= n; i++)
        text += member_text(sel, i < n ? &draft->members[i] : &draft->close, constants[i], i == n,
                            NULL);
    if (text > SHAPE_MAX_BYTES)
        goto error;
    if ((t = calloc(1, head + glue + text + FQ_SHAPE_PAD)) == NULL)
        goto error;
    memcpy(t, draft, head);
    t->text_total = (uint32_t)text;
    char *w = (char *)t + head;
    for (size_t i = 0; i <= n; i++) {
        fq_shape_member *mb = i < n ? &t->members[i] : &t->close;
        mb->glue_off = (uint32_t)(w - (char *)t);
        mb->glue_len = (uint32_t)(i < n ? m[i].glue_len : close_len);
        memcpy(w, i < n ? m[i].glue : close, mb->glue_len);
        w += mb->glue_len;
    }
    for (size_t i = 0; i <= n; i++) {
        fq_shape_member *mb = i < n ? &t->members[i] : &t->close;
        mb->text_off = (uint32_t)(w - (char *)t);
        mb->text_len = (uint32_t)member_text(sel, mb, constants[i], i == n, w);
        w += mb->text_len;
    }
    free(draft);
    free(state);
    /* the first free slot, noting what t shares with the shapes before it */
    for (int k = 0; k < FQ_SHAPES_PER_LEVEL; k++) {
        fq_shape *expected = (fq_shape *)fq_shape_get(level, k);
        if (expected == NULL) {
            t->index = (uint32_t)k;
            if (__atomic_compare_exchange_n(&level->shape[k], &expected, t, 0, __ATOMIC_RELEASE,
                                            __ATOMIC_ACQUIRE))
                return 0;
        }
        t->same[k] = shared_members(t, expected); /* taken, by now or meanwhile */
    }
    free(t); /* every slot taken */
    return -1;

error:
    free(draft);
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
