/* Learned object shapes: the key layout that the objects under one selection level keep
 * having.
 *
 * PostgreSQL prints the jsonb documents of one read model with the same keys in the same
 * order and spacing, so the bytes from the end of one member's value to the start of the
 * next one's (separator, key, colon, spaces: the "glue") repeat from object to object.
 * Once the general path has rewritten two objects under a level, the second one's glue
 * sequence is kept as a shape of that level; later objects are matched against it with a
 * vector compare per member instead of scanning, hashing and looking up every key. Glue
 * bytes equal to ones the general path accepted parse exactly as they did then, so only the
 * values need scanning (and validating); any difference sends the object back to the
 * general path (rewrite.c).
 *
 * A level keeps up to FQ_SHAPES_PER_LEVEL shapes (documents with optional keys have a few
 * layouts). The one that fitted last is tried first; an object that leaves it at member i
 * is redone with a shape sharing the first i members, if one fits there. Each shape is
 * immutable once published into a free slot (atomic compare-and-swap), never replaced, and
 * freed with its selection: a reader needs no lock, and concurrent rewrites under one
 * selection are safe.
 */
#ifndef FQ_SHAPE_H
#define FQ_SHAPE_H

#include <stdint.h>

#include "common.h"
#include "selection.h"

#define FQ_SHAPES_PER_LEVEL 4
/* Objects with more members are not learned (the learning scan keeps them on the stack). */
#define FQ_SHAPE_MAX_MEMBERS 64
/* The glue and text bytes end with this many readable bytes, for vector compares and
 * copies. */
#define FQ_SHAPE_PAD 32

/* What the rewrite does at a member (and, for `close`, at the closing brace): write the
 * fields [flush_from, flush_to) from recorded values (if any), then the constant text
 * (typename fields, nulls for keys the shape lacks, then ',' and the key of `field`), then
 * the value as its kind says. The plan is fixed when the shape is learned: which field a
 * member feeds, and where each field is written, depend only on the key layout. */
enum fq_shape_kind {
    FQ_MEMBER_SCAN,  /* value validated only (recorded when slot >= 0) */
    FQ_MEMBER_LEAF,  /* `field` is a plain leaf: the value copied as scanned */
    FQ_MEMBER_FIELD, /* `field` has a child selection or flags: the general writer */
};

typedef struct fq_shape_member {
    uint32_t glue_off, glue_len; /* from the shape's start */
    uint32_t text_off, text_len;
    uint32_t flush_from, flush_to;
    int32_t field; /* -1: none */
    int32_t slot;  /* the source slot to record the value in (other fields read it); -1: none */
    uint32_t kind; /* enum fq_shape_kind */
} fq_shape_member;

typedef struct fq_shape {
    uint32_t nmembers;
    uint32_t text_total; /* bytes of all constant texts */
    uint32_t records;    /* whether any member records its value */
    uint32_t index;      /* its slot in the level */
    /* same[j], for the shape in slot j < index: how many leading members (glue and plan)
     * the two share. A rewrite whose input differs from this shape at member i may go on
     * with another shape sharing at least i members (fq_shape_shared). */
    uint32_t same[FQ_SHAPES_PER_LEVEL];
    fq_shape_member close;     /* glue from the last value through '}' (or '{' through '}') */
    fq_shape_member members[]; /* the first glue starts at '{'; glue and text bytes follow */
} fq_shape;

/* The shapes of one selection level (one per level of a selection tree, selection.h). */
typedef struct fq_level_shapes {
    fq_shape *shape[FQ_SHAPES_PER_LEVEL]; /* atomic; filled in order, never replaced */
    unsigned seen;                        /* atomic; objects the general path rewrote */
    unsigned hint;                        /* atomic; the slot of the shape that fitted last */
    unsigned failed;                      /* atomic; objects it could not learn */
} fq_level_shapes;

/* One member of an object as the learning scan met it. */
typedef struct fq_shape_seen {
    const char *glue;
    size_t glue_len;
    int32_t slot;
} fq_shape_seen;

FQ_INLINE const fq_shape *fq_shape_get(fq_level_shapes *level, int i)
{
    return __atomic_load_n(&level->shape[i], __ATOMIC_ACQUIRE);
}

FQ_INLINE const char *fq_shape_glue(const fq_shape *t, const fq_shape_member *m)
{
    return (const char *)t + m->glue_off;
}

FQ_INLINE const char *fq_shape_text(const fq_shape *t, const fq_shape_member *m)
{
    return (const char *)t + m->text_off;
}

/* Leading members that two shapes of one level share (glue and plan). */
FQ_INLINE uint32_t fq_shape_shared(const fq_shape *a, const fq_shape *b)
{
    return a->index > b->index ? a->same[b->index] : b->same[a->index];
}

/* A level stops learning after this many objects it could not learn (too many members, a
 * selected key twice, ...): learning rescans an object, which must not become a tax. */
#define FQ_SHAPE_MAX_FAILURES 16

/* Whether the general path should learn the object it just rewrote under this level: the
 * level has a free slot, has not given up, and has met an object before (so a selection
 * used for a single object never pays for learning). */
FQ_INLINE int fq_shape_wanted(fq_level_shapes *level)
{
    if (__atomic_load_n(&level->shape[FQ_SHAPES_PER_LEVEL - 1], __ATOMIC_RELAXED) != NULL ||
        __atomic_load_n(&level->failed, __ATOMIC_RELAXED) >= FQ_SHAPE_MAX_FAILURES)
        return 0;
    return __atomic_fetch_add(&level->seen, 1, __ATOMIC_RELAXED) > 0;
}

/* Builds the shape of an object of sel whose members are m[0..n) and whose closing glue is
 * close[0..close_len), plans its writes (fq_shape_member), and publishes it in the first
 * free slot of level. Returns 0, or -1 with nothing published (no free slot, out of memory,
 * a selected key met twice, a non-null field's key missing). */
int fq_shape_publish(fq_level_shapes *level, const fq_selection *sel, const fq_shape_seen *m,
                     size_t n, const char *close, size_t close_len);

/* A zeroed table for the n levels of a selection tree, or NULL when out of memory. */
fq_level_shapes *fq_shapes_new(size_t n);
/* Frees the table and every shape published in it. */
void fq_shapes_free(fq_level_shapes *levels, size_t n);

#endif
