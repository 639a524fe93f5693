/* The streaming JSON rewriter (pure C, no Python.h).
 *
 * Contract (DESIGN.md section 4): with a compiled selection, an object becomes an object
 * holding the selected fields in selection order (pre-rendered keys, typename fields,
 * aliases, a missing source key gives null, duplicate source keys: the last wins), an
 * array becomes an array of rewritten elements, null stays null; leaf values are copied
 * verbatim (containers compacted), with optional ID coercion and non-null checks. Without
 * a selection (to_camel), every object key is renamed to camelCase, in place and order.
 * Output is compact UTF-8 JSON. The whole input is validated (RFC 8259, UTF-8, lone
 * surrogates, number grammar, trailing data); errors carry the byte offset.
 *
 * Keys are renamed by the camelCase rule of camel.h, as they come; two source keys that
 * rename alike both stay.
 */
#ifndef FQ_REWRITE_H
#define FQ_REWRITE_H

#include "buf.h"
#include "common.h"
#include "selection.h"

/* Containers nested deeper than this fail with FQ_ERR_DEPTH. The rewriter recurses once
 * per level; an optimised build uses up to ~400 bytes of stack per level (gcc
 * -fstack-usage), so the cap costs at most ~200 KB of the C stack: safe on the main thread
 * and on default-sized threads (8 MB on glibc). Read-model documents are never that deep. */
#define FQ_MAX_DEPTH 512

/* Appends the rewrite of the borrowed document json[0..len) under sel (NULL: to_camel) to
 * out. Returns 0, or -1 with err filled (pos: byte offset in json; path: where in the
 * response, for FQ_ERR_NONNULL and FQ_ERR_KIND; call fq_err_clear afterwards). On failure
 * out->len is restored, except for FQ_ERR_NOMEM where the buffer has been released. */
int fq_rewrite(fq_buf *out, const char *json, size_t len, const fq_selection *sel, fq_err *err);

/* Supplies document i of a sequence: *json NULL means SQL NULL (written as null). */
typedef void (*fq_doc_fn)(void *ctx, size_t i, const char **json, size_t *len);

/* Appends `[doc0,doc1,...]`, each of the n documents rewritten under sel (NULL: to_camel).
 * Errors as fq_rewrite; err->pos is then an offset in the failing document, whose index is
 * the first element of err->path. */
int fq_rewrite_array(fq_buf *out, size_t n, fq_doc_fn doc, void *ctx, const fq_selection *sel,
                     fq_err *err);

#endif
