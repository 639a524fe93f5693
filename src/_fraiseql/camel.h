/* The one camelCase rule of fraiseql (pure C, no Python.h): the rewriter renames JSON keys
 * with it and fraiseql.types.to_camel names GraphQL fields with it (through camel_name).
 *
 * Leading and trailing underscores are kept; every other run of underscores is dropped and
 * the character after it, if an ASCII lowercase letter, is uppercased; everything else is
 * unchanged (bytes >= 0x80 too, so UTF-8 stays valid): user_posts -> userPosts,
 * address_1 -> address1, _id -> _id, a__b -> aB, type_ -> type_, __typename -> __typename.
 */
#ifndef FQ_CAMEL_H
#define FQ_CAMEL_H

#include "common.h"

/* camelCase of k[0..n) into dst (n bytes of room; may alias k); returns the length. */
static inline size_t fq_camel(char *dst, const char *k, size_t n)
{
    size_t i = 0, w = 0;
    while (i < n && k[i] == '_')
        dst[w++] = k[i++];
    while (i < n) {
        if (k[i] != '_') {
            dst[w++] = k[i++];
            continue;
        }
        size_t run = i;
        while (run < n && k[run] == '_')
            run++;
        if (run == n) { /* trailing underscores stay */
            while (i < n)
                dst[w++] = k[i++];
            break;
        }
        char ch = k[run];
        dst[w++] = (ch >= 'a' && ch <= 'z') ? (char)(ch - 32) : ch;
        i = run + 1;
    }
    return w;
}

#endif
