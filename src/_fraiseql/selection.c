/* Compilation of selections into one position-independent arena (layout: selection.h).
 *
 *   header | fields[nfields] | srcs[nsrc] | hash table | strings | child arenas (8-aligned)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "selection.h"
#include "jsonstr.h"
#include "shape.h"

/* ======================================================================================
 * Building
 * ====================================================================================== */

static fq_selection *fail(fq_err *err, fq_errcode code, const char *msg, size_t pos)
{
    fq_err_set(err, code, msg);
    err->pos = pos;
    return NULL;
}

/* A source name in jsonb key order: shorter first, then bytewise (PostgreSQL prints jsonb
 * objects in that order, so the rewriter can predict the next selected key). */
typedef struct named_slot {
    const char *name;
    size_t len;
    int32_t slot;
} named_slot;

static int jsonb_order(const void *a, const void *b)
{
    const named_slot *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    return memcmp(x->name, y->name, x->len);
}

/* A bit for each byte of `name":` when name[0..n) may be matched as raw input bytes,
 * else 0. */
static uint16_t fast_mask(const char *name, size_t n)
{
    if (n > FQ_SEL_FAST_KEY_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)name[i];
        if (ch < 0x20 || ch == '"' || ch == '\\')
            return 0;
    }
    return (uint16_t)((1u << (n + 2)) - 1);
}

#define ALIGN8(x) (((x) + 7u) & ~(size_t)7u)

/* Numbers the levels of a subtree just copied into a parent from `base` on, and drops the
 * copy's shape table pointer (the parent's table covers it). Arenas nest in preorder, each
 * level's children last in it (sizes are multiples of 8), so a linear walk visits every
 * level of the copy without recursion: a level's first child follows at children_off, and
 * a level without children is followed by the next level at its size. */
static void renumber(fq_selection *copy, uint32_t base)
{
    char *end = (char *)copy + copy->size;
    for (char *at = (char *)copy; at < end;) {
        fq_selection *s = (fq_selection *)at;
        s->node += base;
        s->shapes = NULL;
        at += s->children_off < s->size ? s->children_off : s->size;
    }
}
/* Arena offsets are uint32; keep a margin so sums of checked parts cannot wrap. */
#define ARENA_LIMIT ((size_t)UINT32_MAX - 64u)

fq_selection *fq_selection_new(const char *typename_, size_t typename_len,
                               const fq_field_spec *fields, size_t n, fq_err *err)
{
    uint16_t *table = NULL;
    named_slot *order = NULL;
    int32_t *slot_of = NULL;
    size_t *owner = NULL; /* first field of each slot */
    fq_selection *sel = NULL;

    if (n > FQ_SELECTION_MAX_FIELDS)
        return fail(err, FQ_ERR_JSON, "too many fields in one selection level", n);
    if (typename_ && !fq_utf8_valid(typename_, typename_len))
        return fail(err, FQ_ERR_JSON, "typename is not valid UTF-8", 0);
    if (typename_len > ARENA_LIMIT / 8)
        return fail(err, FQ_ERR_JSON, "selection too large", 0);

    size_t tsize = 8;
    while (tsize < 2 * n)
        tsize *= 2;
    table = calloc(tsize, sizeof(uint16_t));
    slot_of = malloc((n ? n : 1) * sizeof(int32_t));
    owner = malloc((n ? n : 1) * sizeof(size_t));
    order = malloc((n ? n : 1) * sizeof(named_slot));
    if (table == NULL || slot_of == NULL || owner == NULL || order == NULL) {
        fail(err, FQ_ERR_NOMEM, "out of memory", 0);
        goto error;
    }

    /* A union level: variants only, each with a child, none with other flags, one key. */
    int variants = n && (fields[0].flags & FQ_FIELD_VARIANT);
    for (size_t i = 0; i < n; i++) {
        const fq_field_spec *f = &fields[i];
        if (!(f->flags & FQ_FIELD_VARIANT) != !variants ||
            (variants && (f->flags != FQ_FIELD_VARIANT || f->child == NULL || !f->src_key ||
                          f->src_len != fields[0].src_len ||
                          memcmp(f->src_key, fields[0].src_key, f->src_len) != 0))) {
            fail(err, FQ_ERR_JSON,
                 "a union level holds only variants, each with a child, reading one key", i);
            goto error;
        }
    }

    /* Validate, number the distinct source keys, and measure the strings. */
    size_t nsrc = 0, strings = typename_len, children = 0;
    size_t typename_esc = typename_ ? fq_json_escaped_len(typename_, typename_len) : 0;
    for (size_t i = 0; i < n; i++) {
        const fq_field_spec *f = &fields[i];
        if (f->flags & ~FQ_FIELD_ALL_FLAGS) {
            fail(err, FQ_ERR_JSON, "unknown field flags", i);
            goto error;
        }
        if (f->out_len > ARENA_LIMIT / 8 || f->src_len > ARENA_LIMIT / 8 ||
            !fq_utf8_valid(f->out_key, f->out_len) ||
            (f->src_key && !fq_utf8_valid(f->src_key, f->src_len))) {
            fail(err, FQ_ERR_JSON, "field key is not valid UTF-8 or too long", i);
            goto error;
        }
        strings += f->out_len + 3 + fq_json_escaped_len(f->out_key, f->out_len);
        if (f->src_key == NULL) {
            if (typename_ == NULL) {
                fail(err, FQ_ERR_JSON, "typename field in a selection without a typename", i);
                goto error;
            }
            slot_of[i] = -1;
            strings += 2 + typename_esc;
        } else {
            uint32_t h = fq_sel_hash(f->src_key, f->src_len) & (uint32_t)(tsize - 1);
            for (;;) {
                uint16_t e = table[h];
                if (e == 0) {
                    table[h] = (uint16_t)(nsrc + 1);
                    owner[nsrc] = i;
                    slot_of[i] = (int32_t)nsrc++;
                    strings += f->src_len + FQ_SEL_NAME_PAD;
                    break;
                }
                const fq_field_spec *g = &fields[owner[e - 1]];
                if (g->src_len == f->src_len && memcmp(g->src_key, f->src_key, f->src_len) == 0) {
                    slot_of[i] = (int32_t)(e - 1);
                    break;
                }
                h = (h + 1) & (uint32_t)(tsize - 1);
            }
        }
        if (f->child) {
            children += ALIGN8((size_t)f->child->size);
            if (children > ARENA_LIMIT) {
                fail(err, FQ_ERR_JSON, "selection too large", i);
                goto error;
            }
        }
        if (strings > ARENA_LIMIT) {
            fail(err, FQ_ERR_JSON, "selection too large", i);
            goto error;
        }
    }

    size_t off_srcs = sizeof(fq_selection) + n * sizeof(fq_sel_field);
    size_t off_table = off_srcs + nsrc * sizeof(fq_sel_src);
    size_t off_strings = off_table + tsize * sizeof(uint16_t);
    size_t off_children = ALIGN8(off_strings + strings + FQ_SEL_STRINGS_PAD);
    size_t total = off_children + children;
    if (total > ARENA_LIMIT) {
        fail(err, FQ_ERR_JSON, "selection too large", 0);
        goto error;
    }
    sel = calloc(1, total);
    if (sel == NULL) {
        fail(err, FQ_ERR_NOMEM, "out of memory", 0);
        goto error;
    }
    sel->size = (uint32_t)total;
    sel->nfields = (uint32_t)n;
    sel->nsrc = (uint32_t)nsrc;
    sel->mask = (uint32_t)(tsize - 1);
    sel->srcs_off = (uint32_t)off_srcs;
    sel->table_off = (uint32_t)off_table;
    sel->children_off = (uint32_t)off_children;
    sel->nnodes = 1;
    memcpy((char *)sel + off_table, table, tsize * sizeof(uint16_t));

    char *base = (char *)sel;
    char *w = base + off_strings;
    sel->typename_off = (uint32_t)(w - base);
    sel->typename_len = (uint32_t)typename_len;
    if (typename_len)
        memcpy(w, typename_, typename_len);
    w += typename_len;

    fq_sel_src *srcs = (fq_sel_src *)(base + off_srcs);
    size_t child_w = off_children;
    for (size_t i = 0; i < n; i++) {
        const fq_field_spec *f = &fields[i];
        fq_sel_field *out = &sel->fields[i];
        out->src = slot_of[i];
        out->flags = f->flags;
        out->plain = f->child == NULL && f->flags == 0;

        out->key_off = (uint32_t)(w - base);
        out->key_len = (uint32_t)f->out_len;
        memcpy(w, f->out_key, f->out_len);
        w += f->out_len;

        char *frag = w;
        *w++ = '"';
        w = fq_json_escape(w, f->out_key, f->out_len);
        *w++ = '"';
        *w++ = ':';
        if (f->src_key == NULL) {
            *w++ = '"';
            w = fq_json_escape(w, typename_, typename_len);
            *w++ = '"';
        }
        out->frag_off = (uint32_t)(frag - base);
        out->frag_len = (uint32_t)(w - frag);

        if (f->src_key && owner[slot_of[i]] == i) {
            srcs[slot_of[i]].name_off = (uint32_t)(w - base);
            srcs[slot_of[i]].name_len = (uint32_t)f->src_len;
            srcs[slot_of[i]].first_field = (uint16_t)i;
            srcs[slot_of[i]].fast_mask = fast_mask(f->src_key, f->src_len);
            order[slot_of[i]] = (named_slot){w, f->src_len, slot_of[i]};
            memcpy(w, f->src_key, f->src_len);
            memcpy(w + f->src_len, "\":", 2); /* the rest of the pad: zeroed by calloc */
            w += f->src_len + FQ_SEL_NAME_PAD;
        }
        if (f->child) {
            memcpy(base + child_w, f->child, f->child->size);
            renumber((fq_selection *)(base + child_w), sel->nnodes);
            sel->nnodes += f->child->nnodes;
            out->child_off = (uint32_t)child_w;
            child_w += ALIGN8((size_t)f->child->size);
        }
    }
    sel->shapes_on = 1;
    sel->variants = (uint32_t)variants;
    if ((sel->shapes = fq_shapes_new(sel->nnodes)) == NULL) {
        fail(err, FQ_ERR_NOMEM, "out of memory", 0);
        goto error;
    }
    /* Chain the slots in jsonb key order. */
    qsort(order, nsrc, sizeof(named_slot), jsonb_order);
    sel->first = nsrc ? order[0].slot : -1;
    for (size_t k = 0; k < nsrc; k++)
        srcs[order[k].slot].next = k + 1 < nsrc ? order[k + 1].slot : -1;
    free(table);
    free(order);
    free(slot_of);
    free(owner);
    return sel;

error:
    free(table);
    free(order);
    free(slot_of);
    free(owner);
    free(sel);
    return NULL;
}

void fq_selection_free(fq_selection *sel)
{
    if (sel)
        fq_shapes_free(sel->shapes, sel->nnodes);
    free(sel);
}

void fq_selection_use_shapes(fq_selection *sel, int on)
{
    sel->shapes_on = on != 0;
}
