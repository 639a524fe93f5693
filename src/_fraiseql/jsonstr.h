/* JSON string helpers shared by the selection compiler and the rewriter: escaping valid
 * UTF-8 into a JSON string body, decoding an already validated JSON string body, and the
 * one hex digit decoder (also bytea's, py_pgtypes.c). */
#ifndef FQ_JSONSTR_H
#define FQ_JSONSTR_H

#include <stdint.h>
#include <string.h>

#include "common.h"
#include "utf8.h"

/* Bytes fq_json_escape writes for s[0..n). */
static inline size_t fq_json_escaped_len(const char *s, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\' || c == '\b' || c == '\f' || c == '\n' || c == '\r' || c == '\t')
            len += 2;
        else if (c < 0x20)
            len += 6;
        else
            len += 1;
    }
    return len;
}

/* Writes s[0..n) as a JSON string body (no quotes), shortest escapes; returns the new end.
 * Never longer than the escaped form it was decoded from, which the rewriter relies on. */
static inline char *fq_json_escape(char *dst, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc = 0;
        switch (c) {
        case '"':
            esc = '"';
            break;
        case '\\':
            esc = '\\';
            break;
        case '\b':
            esc = 'b';
            break;
        case '\f':
            esc = 'f';
            break;
        case '\n':
            esc = 'n';
            break;
        case '\r':
            esc = 'r';
            break;
        case '\t':
            esc = 't';
            break;
        default:
            break;
        }
        if (esc) {
            *dst++ = '\\';
            *dst++ = esc;
        } else if (c < 0x20) {
            memcpy(dst, "\\u00", 4);
            dst[4] = hex[c >> 4];
            dst[5] = hex[c & 15];
            dst += 6;
        } else {
            *dst++ = (char)c;
        }
    }
    return dst;
}

/* The value of one hex digit (either case), or -1; also bytea's hex (py_pgtypes.c). */
static inline int fq_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
        return (c | 0x20) - 'a' + 10;
    return -1;
}

/* The value of the four hex digits at p (a \uXXXX escape), or -1. */
static inline int fq_hex4(const char *p)
{
    int v = 0;
    for (int i = 0; i < 4; i++) {
        int d = fq_hex_digit(p[i]);
        if (d < 0)
            return -1;
        v = v * 16 + d;
    }
    return v;
}

/* Decodes the body s[0..e) of a JSON string the scanner has validated into UTF-8 at dst
 * (room: e - s bytes suffice); returns the decoded length. */
static inline size_t fq_json_decode(char *dst, const char *s, const char *e)
{
    char *w = dst;
    while (s < e) {
        if (*s != '\\') {
            *w++ = *s++;
            continue;
        }
        char c = s[1];
        s += 2;
        switch (c) {
        case 'b':
            *w++ = '\b';
            continue;
        case 'f':
            *w++ = '\f';
            continue;
        case 'n':
            *w++ = '\n';
            continue;
        case 'r':
            *w++ = '\r';
            continue;
        case 't':
            *w++ = '\t';
            continue;
        case 'u':
            break;
        default:
            *w++ = c;
            continue; /* " \ / */
        }
        uint32_t cp = (uint32_t)fq_hex4(s);
        s += 4;
        if (cp >= 0xD800 && cp <= 0xDBFF) { /* the scanner guaranteed the low half follows */
            cp = 0x10000 + ((cp - 0xD800) << 10) + ((uint32_t)fq_hex4(s + 2) - 0xDC00);
            s += 6;
        }
        if (cp < 0x80) {
            *w++ = (char)cp;
        } else if (cp < 0x800) {
            *w++ = (char)(0xC0 | (cp >> 6));
            *w++ = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            *w++ = (char)(0xE0 | (cp >> 12));
            *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *w++ = (char)(0x80 | (cp & 0x3F));
        } else {
            *w++ = (char)(0xF0 | (cp >> 18));
            *w++ = (char)(0x80 | ((cp >> 12) & 0x3F));
            *w++ = (char)(0x80 | ((cp >> 6) & 0x3F));
            *w++ = (char)(0x80 | (cp & 0x3F));
        }
    }
    return (size_t)(w - dst);
}

#endif
