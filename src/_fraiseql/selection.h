/* Compiled selections: what the rewriter keeps of one level of a GraphQL selection set.
 *
 * A compiled selection is one position-independent arena (all references are offsets from
 * the owning level's header), so a parent embeds its children by plain memcpy and the
 * whole tree sits in one allocation. Each field holds its pre-rendered `"outKey":`
 * fragment, or `"outKey":"Typename"` for a typename field. Distinct source keys of a level
 * are numbered (slots) and found through a small open-addressing hash table keyed on the
 * length and a few bytes, verified with memcmp.
 *
 * Each tree also owns a table of learned object shapes, one entry per level (shape.h): the
 * only part that changes after compilation, through atomics.
 *
 * Public API for other C files: fq_selection_new / fq_selection_free /
 * fq_selection_use_shapes and the FQ_FIELD_* flags. The struct layout and the inline
 * accessors below are for the rewriter. */
#ifndef FQ_SELECTION_H
#define FQ_SELECTION_H

#include <stdint.h>
#include <string.h>

#include "common.h"

/* Field flags. */
#define FQ_FIELD_ID 1u             /* a JSON number is written as a JSON string (GraphQL ID) */
#define FQ_FIELD_NON_NULL 2u       /* a null or missing value fails with FQ_ERR_NONNULL */
#define FQ_FIELD_ITEMS_NON_NULL 4u /* a null item of the field's list fails with FQ_ERR_NONNULL */
/* The JSON kind a non-null leaf (or list item) must have, else FQ_ERR_KIND: what the field's
 * scalar writes as it is stored; any other value is the general path's to coerce or refuse. */
#define FQ_FIELD_STRING 8u  /* a JSON string */
#define FQ_FIELD_INT 16u    /* a JSON integer within GraphQL Int's 32 bits */
#define FQ_FIELD_NUMBER 32u /* a JSON number */
#define FQ_FIELD_BOOL 64u   /* true or false */
#define FQ_FIELD_KINDS (FQ_FIELD_STRING | FQ_FIELD_INT | FQ_FIELD_NUMBER | FQ_FIELD_BOOL)
/* A member of a union level (a GraphQL union or interface over stored documents): out_key is
 * the value of the discriminator key src_key that marks an object as this member, child the
 * member's selection. A level holding one holds only such fields, all reading one key; an
 * object is rewritten under the child its discriminator names (FQ_ERR_KIND when none). */
#define FQ_FIELD_VARIANT 128u
#define FQ_FIELD_ALL_FLAGS                                                                         \
    (FQ_FIELD_ID | FQ_FIELD_NON_NULL | FQ_FIELD_ITEMS_NON_NULL | FQ_FIELD_KINDS | FQ_FIELD_VARIANT)

/* Most distinct source keys or fields in one level. */
#define FQ_SELECTION_MAX_FIELDS 32767

typedef struct fq_selection fq_selection;

/* One field as given to fq_selection_new; strings are UTF-8, not NUL-terminated. */
typedef struct fq_field_spec {
    const char *out_key;
    size_t out_len;
    const char *src_key; /* NULL: emit the level's typename as a JSON string */
    size_t src_len;
    const fq_selection *child; /* NULL: leaf; else copied into the new selection */
    unsigned flags;
} fq_field_spec;

/* Compiles one level (children are copied in). typename may be NULL when no field asks for
 * it. Returns NULL with err filled (FQ_ERR_NOMEM, or FQ_ERR_JSON for invalid UTF-8, too
 * many fields, unknown flags, a typename field without a typename, variants mixed with other
 * fields, reading different keys, with other flags or without a child). */
fq_selection *fq_selection_new(const char *typename_, size_t typename_len,
                               const fq_field_spec *fields, size_t nfields, fq_err *err);
void fq_selection_free(fq_selection *sel);
/* Learned shapes (shape.h) on or off for rewrites under sel (a root; on by default). Off is
 * for diagnosis and for measuring the general path: output and errors are the same either
 * way. Set it before sel is shared between threads. */
void fq_selection_use_shapes(fq_selection *sel, int on);

/* ---- layout (rewriter's view) ---------------------------------------------------------- */

typedef struct fq_sel_field {
    uint32_t frag_off, frag_len; /* `"outKey":` or `"outKey":"Typename"` */
    uint32_t key_off, key_len;   /* the out key, unescaped UTF-8 (error paths) */
    uint32_t child_off;          /* 0: leaf */
    int32_t src;                 /* source slot, -1: typename field */
    uint32_t flags;
    uint32_t plain; /* 1: a scalar-or-null leaf without flags, written as copied */
} fq_sel_field;

typedef struct fq_sel_src {
    uint32_t name_off, name_len;
    uint16_t first_field; /* lowest index of a field reading this key */
    uint16_t fast_mask;   /* bit i for each byte of `name":` (FQ_SEL_FAST_KEY_MAX); 0: not
                             matched raw */
    int32_t next;         /* the slot after this one in jsonb key order; -1: none */
} fq_sel_src;

struct fq_selection {
    uint32_t size;
    uint32_t nfields;
    uint32_t nsrc;
    uint32_t mask; /* hash table has mask + 1 uint16 entries: slot + 1, 0 = empty */
    uint32_t srcs_off, table_off;
    uint32_t typename_off, typename_len;
    int32_t first;         /* the slot whose name comes first in jsonb key order; -1: none */
    uint32_t children_off; /* the first child arena; == size when there is none */
    uint32_t node;         /* this level's preorder index in its tree (the root's is 0) */
    uint32_t nnodes;       /* levels in the subtree rooted here, this one included */
    uint32_t shapes_on;    /* the root's: rewrites under it use learned shapes (default 1) */
    uint32_t variants;     /* 1: a union level, its fields FQ_FIELD_VARIANT (never shaped) */
    /* Learned shapes (shape.h), one entry per level of the tree, indexed by node. Owned by
     * the root; NULL in the copies embedded in a parent (which has its own table). */
    struct fq_level_shapes *shapes;
    fq_sel_field fields[];
};

FQ_INLINE const char *fq_sel_str(const fq_selection *s, uint32_t off)
{
    return (const char *)s + off;
}

FQ_INLINE const fq_selection *fq_sel_child(const fq_selection *s, const fq_sel_field *f)
{
    return f->child_off ? (const fq_selection *)((const char *)s + f->child_off) : NULL;
}

/* Source names are followed by this many bytes in the arena: `":` then zeros, so that the
 * rewriter can compare a key, and with FQ_SEL_FAST_KEY_MAX the quoted key and its colon,
 * with one 16-byte load; the strings area ends with as many, so that any fragment can be
 * copied with one. */
#define FQ_SEL_NAME_PAD 16
#define FQ_SEL_STRINGS_PAD 16

/* Longest source name the rewriter matches as raw bytes `name":` in one 16-byte compare
 * (names holding '"', '\\' or control characters never match that way: their JSON text
 * differs from their bytes). */
#define FQ_SEL_FAST_KEY_MAX 14

/* Hash of a source key: its length and first, middle and last bytes (keys of one GraphQL
 * type rarely agree on all four); verified with a full compare. */
FQ_INLINE uint32_t fq_sel_hash(const char *k, size_t n)
{
    uint32_t h = (uint32_t)n;
    if (n)
        h ^= ((uint32_t)(unsigned char)k[0] << 8) ^ ((uint32_t)(unsigned char)k[n - 1] << 16) ^
             ((uint32_t)(unsigned char)k[n / 2] << 24);
    h *= 0x9E3779B1u;
    return h ^ (h >> 16);
}

FQ_INLINE const uint16_t *fq_sel_table(const fq_selection *s)
{
    return (const uint16_t *)((const char *)s + s->table_off);
}

FQ_INLINE const fq_sel_src *fq_sel_srcs(const fq_selection *s)
{
    return (const fq_sel_src *)((const char *)s + s->srcs_off);
}

#endif
