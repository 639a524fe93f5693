/* UTF-8 validation (RFC 3629: shortest form only, no surrogates, at most U+10FFFF). */
#ifndef FQ_UTF8_H
#define FQ_UTF8_H

#include "common.h"

/* Length of the valid multi-byte sequence starting at p (p[0] >= 0x80), or 0 if invalid
 * or truncated before end. */
FQ_INLINE size_t fq_utf8_seq(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    size_t avail = (size_t)(end - p);
    unsigned char lo = 0x80, hi = 0xBF;
    size_t n;
    if (c >= 0xC2 && c <= 0xDF) {
        n = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        n = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong */
        else if (c == 0xED)
            hi = 0x9F; /* UTF-16 surrogates */
    } else if (c >= 0xF0 && c <= 0xF4) {
        n = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0;
    }
    if (avail < n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if ((p[i] & 0xC0) != 0x80)
            return 0;
    return n;
}

/* 1 if the n bytes at s are valid UTF-8. */
FQ_INLINE int fq_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t k = fq_utf8_seq(p, end);
        if (k == 0)
            return 0;
        p += k;
    }
    return 1;
}

#endif
