/* The streaming JSON rewriter: one validating pass over borrowed JSON text, writing the
 * response fragment as it goes (contract: rewrite.h; camelCase rule: camel.h).
 *
 * Objects under a selection are scanned once: each selected key records the span of its
 * value (a later duplicate overwrites it: last wins), unselected values are skipped
 * (validated, never materialised); at the closing brace the fields are written in
 * selection order, leaves copied from their spans and sub-selections rewritten from theirs.
 * Every scan checks the end pointer; 16-byte SSE2 loads happen only while 16 bytes remain.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && !defined(FQ_NO_SIMD)
#include <emmintrin.h>
#define FQ_SIMD 1
#else
#define FQ_SIMD 0
#endif

/* AVX2 for long string bodies, chosen at run time (the extension is built for baseline
 * x86-64, where SSE2 is all there is). */
#if FQ_SIMD && defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define FQ_AVX2 1
#else
#define FQ_AVX2 0
#endif

#include "camel.h"
#include "jsonstr.h"
#include "rewrite.h"
#include "shape.h"

/* ======================================================================================
 * Context, response path, errors
 * ====================================================================================== */

/* Where the rewrite is in the response: a chain of frames on the C stack. */
typedef struct frame {
    const struct frame *up;
    const char *key; /* NULL: list element `index` */
    size_t key_len;
    size_t index;
} frame;

typedef struct span {
    const char *v; /* first byte of the value; NULL: key not seen */
    const char *e; /* one past its last byte */
} span;

typedef struct rw {
    const char *start, *end;
    fq_buf *out;
    fq_err *err;
    const frame *root; /* the document's frame in fq_rewrite_array */
    span *slots;       /* stack of per-object value spans, one per source slot */
    size_t nslots, slots_cap;
    span inline_slots[32]; /* the stack while it is small: no allocation per call */
    char *scratch;         /* decoded keys */
    size_t scratch_cap;
    fq_level_shapes *shapes; /* the selection tree's learned shapes; NULL: not used */
    int shaped;              /* a shape was tried in the current document */
} rw;

static FQ_COLD const char *fail_at(rw *c, const char *at, fq_errcode code, const char *msg,
                                   const frame *fr)
{
    fq_err *err = c->err;
    fq_err_set(err, code, msg);
    err->pos = (size_t)(at - c->start);
    if (fr == NULL)
        fr = c->root;
    size_t n = 0;
    for (const frame *f = fr; f; f = f->up)
        n++;
    if (n && (err->path = malloc(n * sizeof(fq_path_elem))) != NULL) {
        err->path_len = n;
        for (const frame *f = fr; f; f = f->up) {
            fq_path_elem *e = &err->path[--n];
            e->key = f->key;
            e->key_len = f->key_len;
            e->index = f->index;
        }
    }
    return NULL;
}

static FQ_COLD const char *fail(rw *c, const char *at, const char *msg)
{
    return fail_at(c, at, FQ_ERR_JSON, msg, NULL);
}

static FQ_COLD const char *fail_nomem(rw *c, const char *at)
{
    return fail_at(c, at, FQ_ERR_NOMEM, "out of memory", NULL);
}

static FQ_COLD const char *fail_depth(rw *c, const char *at)
{
    return fail_at(c, at, FQ_ERR_DEPTH, "nesting deeper than the maximum depth (512)", NULL);
}

/* Every reservation carries SLACK spare bytes, so that copy_small may store a whole 16-byte
 * vector for a shorter copy. */
#define SLACK 16
#define RESERVE(c, at, n)                                                                          \
    do {                                                                                           \
        if (FQ_UNLIKELY(fq_buf_reserve((c)->out, (n) + SLACK) < 0))                                \
            return fail_nomem((c), (at));                                                          \
    } while (0)

/* Writes src[0..n) at dst, returns dst + n; avail: bytes readable at src. Short copies (the
 * keys and scalars of typical documents) are one 16-byte load and store instead of a libc
 * call; the store stays within the SLACK of the caller's reservation. */
FQ_INLINE char *copy_at(char *dst, const char *src, size_t n, size_t avail)
{
#if FQ_SIMD
    if (FQ_LIKELY(n <= 16 && avail >= 16)) {
        _mm_storeu_si128((__m128i *)dst, _mm_loadu_si128((const __m128i *)src));
        return dst + n;
    }
    /* 16 < n <= 64 (dates, e-mail addresses, titles): the first and the last 16 or 32
     * bytes, overlapping, read and written within [0, n); cheaper than a libc call. */
    if (n > 16 && n <= 32) {
        __m128i a = _mm_loadu_si128((const __m128i *)src),
                b = _mm_loadu_si128((const __m128i *)(src + n - 16));
        _mm_storeu_si128((__m128i *)dst, a);
        _mm_storeu_si128((__m128i *)(dst + n - 16), b);
        return dst + n;
    }
    if (n > 32 && n <= 64) {
        __m128i a = _mm_loadu_si128((const __m128i *)src),
                b = _mm_loadu_si128((const __m128i *)(src + 16)),
                x = _mm_loadu_si128((const __m128i *)(src + n - 32)),
                y = _mm_loadu_si128((const __m128i *)(src + n - 16));
        _mm_storeu_si128((__m128i *)dst, a);
        _mm_storeu_si128((__m128i *)(dst + 16), b);
        _mm_storeu_si128((__m128i *)(dst + n - 32), x);
        _mm_storeu_si128((__m128i *)(dst + n - 16), y);
        return dst + n;
    }
#endif
    memcpy(dst, src, n);
    return dst + n;
}

/* Appends src[0..n) (copy_at). */
FQ_INLINE void copy_small(fq_buf *o, const char *src, size_t n, size_t avail)
{
    o->len = (size_t)(copy_at(o->data + o->len, src, n, avail) - o->data);
}

/* ======================================================================================
 * Scanning: whitespace, strings, numbers, literals, skipping values
 * ====================================================================================== */

/* 1 for bytes that end the fast run of a string body: '"', '\\', controls, non-ASCII. */
static const unsigned char string_special[256] = {
    [0 ... 0x1F] = 1,
    ['"'] = 1,
    ['\\'] = 1,
    [0x80 ... 0xFF] = 1,
};

static const unsigned char is_ws[256] = {[' '] = 1, ['\t'] = 1, ['\n'] = 1, ['\r'] = 1};

#if FQ_SIMD
/* 0xFF in each byte of v that ends the plain run of a string body: '"', '\\', a control
 * character or non-ASCII (signed < ' '). Three independent compares: shorter dependency
 * chains than folding two of them into one (measured slower). */
FQ_INLINE __m128i string_special_vec(__m128i v)
{
    __m128i special =
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    return _mm_or_si128(special, _mm_cmplt_epi8(v, _mm_set1_epi8(' ')));
}

/* Bit i set when p[i] ends the plain run of a string body. */
FQ_INLINE unsigned string_special_mask(const char *p)
{
    return (unsigned)_mm_movemask_epi8(string_special_vec(_mm_loadu_si128((const __m128i *)p)));
}
#endif

static const char *skip_ws_slow(const char *p, const char *end)
{
    /* jsonb's ", " and ": ": one space, then a token */
    if (p < end && is_ws[(unsigned char)*p]) {
        p++;
        if (FQ_LIKELY(p < end && (unsigned char)*p > ' '))
            return p;
    }
#if FQ_SIMD
    const __m128i sp = _mm_set1_epi8(' '), nl = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r'),
                  tab = _mm_set1_epi8('\t');
    while (end - p >= 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)p);
        __m128i ws = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, sp), _mm_cmpeq_epi8(v, nl)),
                                  _mm_or_si128(_mm_cmpeq_epi8(v, cr), _mm_cmpeq_epi8(v, tab)));
        unsigned m = (unsigned)_mm_movemask_epi8(ws) ^ 0xFFFFu;
        if (m)
            return p + __builtin_ctz(m);
        p += 16;
    }
#endif
    while (p < end && is_ws[(unsigned char)*p])
        p++;
    return p;
}

FQ_INLINE const char *skip_ws(const char *p, const char *end)
{
    if (FQ_LIKELY(p < end && (unsigned char)*p > ' '))
        return p;
    if (p + 1 < end && *p == ' ' && (unsigned char)p[1] > ' ')
        return p + 1;
    return skip_ws_slow(p, end);
}

/* skip_ws after a ',' or ':', where jsonb text has exactly one space: that case first. */
FQ_INLINE const char *skip_ws_sp(const char *p, const char *end)
{
    if (FQ_LIKELY(end - p >= 2 && *p == ' ' && (unsigned char)p[1] > ' '))
        return p + 1;
    return skip_ws(p, end);
}

/* The separator rule after an array element or object member at *pp: 1 when ',' follows
 * (*pp past it and jsonb's space), 0 when the closer does (*pp past it), -1 with the error
 * set otherwise. Callers write their own output. */
FQ_INLINE int next_item(rw *c, const char **pp, char closer)
{
    const char *p = skip_ws(*pp, c->end);
    if (p < c->end && *p == ',') {
        *pp = skip_ws_sp(p + 1, c->end);
        return 1;
    }
    if (p < c->end && *p == closer) {
        *pp = p + 1;
        return 0;
    }
    fail(c, p,
         closer == ']' ? "expected ',' or ']' after an array element"
                       : "expected ',' or '}' after an object member");
    return -1;
}

/* p at a backslash inside a string: validates one escape, returns the byte after it. */
static const char *scan_escape(rw *c, const char *p)
{
    const char *end = c->end;
    if (end - p < 2)
        return fail(c, p, "unterminated escape sequence in string");
    switch (p[1]) {
    case '"':
    case '\\':
    case '/':
    case 'b':
    case 'f':
    case 'n':
    case 'r':
    case 't':
        return p + 2;
    case 'u':
        break;
    default:
        return fail(c, p,
                    "invalid escape sequence in string (expected one of \\\" \\\\ \\/ \\b \\f \\n "
                    "\\r \\t \\u)");
    }
    int cp = end - p >= 6 ? fq_hex4(p + 2) : -1;
    if (cp < 0)
        return fail(c, p, "expected 4 hex digits after \\u");
    if (cp >= 0xDC00 && cp <= 0xDFFF)
        return fail(c, p, "lone low surrogate \\u escape");
    if (cp >= 0xD800 && cp <= 0xDBFF) {
        int lo = end - p >= 12 && p[6] == '\\' && p[7] == 'u' ? fq_hex4(p + 8) : -1;
        if (lo < 0xDC00 || lo > 0xDFFF)
            return fail(
                c, p,
                "lone high surrogate \\u escape (expected a low surrogate \\u escape after it)");
        return p + 12;
    }
    return p + 6;
}

#if FQ_AVX2
/* From p, skips 64-byte blocks of plain ASCII string text (no '"', '\\', control or
 * non-ASCII byte); returns the first byte that is not such text, or the start of the last
 * block under 64 bytes before end. Two 32-byte compares per block instead of SSE2's four
 * 16-byte ones: about half the instructions on post bodies and long descriptions. With
 * copy_to, each block is also stored there as it is scanned (room for them all), so
 * everything before the returned byte is copied. */
__attribute__((target("avx2"))) static const char *skip_plain_avx2(const char *p, const char *end,
                                                                   char *copy_to)
{
    const __m256i quote = _mm256_set1_epi8('"'), bslash = _mm256_set1_epi8('\\'),
                  space = _mm256_set1_epi8(' ');
    char *w = copy_to;
    while (end - p >= 64) {
        __m256i a = _mm256_loadu_si256((const __m256i *)p),
                b = _mm256_loadu_si256((const __m256i *)(p + 32));
        if (w) {
            _mm256_storeu_si256((__m256i *)w, a);
            _mm256_storeu_si256((__m256i *)(w + 32), b);
            w += 64;
        }
#define FQ_SPECIAL(v)                                                                              \
    _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(v, quote), _mm256_cmpeq_epi8(v, bslash)),    \
                    _mm256_cmpgt_epi8(space, v))
        uint64_t m = (uint32_t)_mm256_movemask_epi8(FQ_SPECIAL(a)) |
                     (uint64_t)(uint32_t)_mm256_movemask_epi8(FQ_SPECIAL(b)) << 32;
#undef FQ_SPECIAL
        if (m)
            return p + __builtin_ctzll(m);
        p += 64;
    }
    return p;
}
#endif

/* Rest of scan_string from p, the first byte of the body that is not plain ASCII text
 * (or where fewer than 16 bytes remain). */
static FQ_NOINLINE const char *scan_string_slow(rw *c, const char *open, const char *p, int *esc)
{
    const char *end = c->end;
    for (;;) {
#if FQ_AVX2
        if (end - p >= 64 && __builtin_cpu_supports("avx2")) {
            p = skip_plain_avx2(p, end, NULL);
            if (end - p >= 64)
                goto special; /* it stopped at a special byte */
        }
#endif
#if FQ_SIMD
        /* long text: 64 bytes per round, one branch */
        while (end - p >= 64) {
            __m128i a = _mm_loadu_si128((const __m128i *)p),
                    b = _mm_loadu_si128((const __m128i *)(p + 16)),
                    x = _mm_loadu_si128((const __m128i *)(p + 32)),
                    y = _mm_loadu_si128((const __m128i *)(p + 48));
            __m128i any = _mm_or_si128(_mm_or_si128(string_special_vec(a), string_special_vec(b)),
                                       _mm_or_si128(string_special_vec(x), string_special_vec(y)));
            if (_mm_movemask_epi8(any))
                break;
            p += 64;
        }
        while (end - p >= 16) {
            unsigned m = string_special_mask(p);
            if (m) {
                p += __builtin_ctz(m);
                goto special;
            }
            p += 16;
        }
#endif
        while (p < end && !string_special[(unsigned char)*p])
            p++;
        if (p >= end)
            return fail(c, open, "unterminated string");
#if FQ_SIMD
    special:;
#endif
        unsigned char ch = (unsigned char)*p;
        if (ch == '"')
            return p + 1;
        if (ch == '\\') {
            *esc = 1;
            if ((p = scan_escape(c, p)) == NULL)
                return NULL;
        } else if (ch < 0x20) {
            return fail(c, p, "control character in string (must be escaped)");
        } else {
            size_t k = fq_utf8_seq((const unsigned char *)p, (const unsigned char *)end);
            if (k == 0)
                return fail(c, p, "invalid UTF-8 in string");
            p += k;
        }
    }
}

/* p at the opening quote: validates the string, returns the byte after the closing quote;
 * sets *esc when the body holds a backslash. Inline fast path: a string of plain ASCII text
 * under 64 bytes, found with 16-byte loads; anything else goes to scan_string_slow. */
FQ_INLINE const char *scan_string(rw *c, const char *p, int *esc)
{
    const char *open = p++;
#if FQ_SIMD
    /* four rounds: keys, names, dates, e-mail addresses and titles are under 64 bytes */
    for (int round = 0; round < 4 && FQ_LIKELY(c->end - p >= 16); round++) {
        unsigned m = string_special_mask(p);
        if (m) {
            p += __builtin_ctz(m);
            if (FQ_LIKELY(*p == '"'))
                return p + 1;
            break;
        }
        p += 16;
    }
#endif
    return scan_string_slow(c, open, p, esc);
}

/* Rest of copy_string: p is the first byte of the body not yet scanned, w where it goes
 * (the bytes before p are copied). Scans as scan_string_slow does and copies what it
 * passed; returns the byte after the closing quote and sets *wp past its copy, or NULL with
 * the error set. */
static FQ_NOINLINE const char *copy_string_slow(rw *c, const char *open, const char *p, char *w,
                                                char **wp)
{
#if FQ_AVX2
    if (c->end - p >= 64 && __builtin_cpu_supports("avx2")) {
        const char *q = skip_plain_avx2(p, c->end, w);
        w += q - p;
        p = q;
        if (FQ_LIKELY(p < c->end && *p == '"')) {
            *w = '"';
            *wp = w + 1;
            return p + 1;
        }
    }
#endif
    int esc = 0;
    const char *q = scan_string_slow(c, open, p, &esc);
    if (q == NULL)
        return NULL;
    *wp = copy_at(w, p, (size_t)(q - p), (size_t)(c->end - p));
    return q;
}

/* v at the opening quote of a string; *wp with room for end - v + SLACK bytes. Copies the
 * string, quotes included, while validating it as scan_string does: each 16-byte vector
 * scanned inline is stored as it is loaded, so the usual string (under 64 bytes) is read
 * once; longer ones and ones with escapes or non-ASCII finish in copy_string_slow. Returns
 * the byte after the string and advances *wp past its copy, or NULL with the error set. */
FQ_INLINE const char *copy_string(rw *c, const char *v, char **wp)
{
    char *w = *wp;
#if FQ_SIMD
    if (FQ_LIKELY(c->end - v >= 64)) {
        unsigned opening = 1; /* the opening quote, at bit 0 of the first vector */
        for (int k = 0; k < 64; k += 16) {
            __m128i x = _mm_loadu_si128((const __m128i *)(v + k));
            _mm_storeu_si128((__m128i *)(w + k), x);
            unsigned m = (unsigned)_mm_movemask_epi8(string_special_vec(x)) & ~opening;
            opening = 0;
            if (m) {
                unsigned at = (unsigned)k + (unsigned)__builtin_ctz(m);
                if (FQ_LIKELY(v[at] == '"')) {
                    *wp = w + at + 1;
                    return v + at + 1;
                }
                return copy_string_slow(c, v, v + at, w + at, wp);
            }
        }
        return copy_string_slow(c, v, v + 64, w + 64, wp);
    }
#endif
    *w = '"';
    return copy_string_slow(c, v, v + 1, w + 1, wp);
}

FQ_INLINE int is_digit(char ch)
{
    return (unsigned char)(ch - '0') < 10;
}

static const char *scan_number(rw *c, const char *p)
{
    const char *end = c->end;
    if (*p == '-')
        p++;
    if (p >= end || !is_digit(*p))
        return fail(c, p, "expected a digit in number");
    if (*p == '0') {
        p++;
    } else {
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (p >= end || !is_digit(*p))
            return fail(c, p, "expected a digit after the decimal point");
        while (p < end && is_digit(*p))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (p >= end || !is_digit(*p))
            return fail(c, p, "expected a digit in the exponent");
        while (p < end && is_digit(*p))
            p++;
    }
    return p;
}

static const char *scan_literal(rw *c, const char *p, const char *word, size_t n)
{
    if ((size_t)(c->end - p) < n || memcmp(p, word, n) != 0)
        return fail(c, p, "expected a JSON value");
    return p + n;
}

static const char *skip_container(rw *c, const char *p, int depth);

/* p at the first byte of a value (or end): validates it, returns the byte after it.
 * depth: containers open around the value. */
FQ_INLINE const char *skip_value(rw *c, const char *p, int depth)
{
    int esc = 0;
    if (FQ_UNLIKELY(p >= c->end))
        return fail(c, p, "expected a JSON value");
    switch (*p) {
    case '"':
        return scan_string(c, p, &esc);
    case '{':
    case '[':
        return skip_container(c, p, depth);
    case 't':
        return scan_literal(c, p, "true", 4);
    case 'f':
        return scan_literal(c, p, "false", 5);
    case 'n':
        return scan_literal(c, p, "null", 4);
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9': {
        /* ids and counts: digits up to a byte that continues no number, checked inline */
        const char *q = p + 1;
        while (q < c->end && is_digit(*q))
            q++;
        if (FQ_LIKELY(q < c->end && *q != '.' && (*q | 0x20) != 'e'))
            return q;
        return scan_number(c, p);
    }
    case '-':
    case '0':
        return scan_number(c, p);
    default:
        return fail(c, p, "expected a JSON value");
    }
}

/* p at '{' or '[': validates the container, returns the byte after it. */
static const char *skip_container(rw *c, const char *p, int depth)
{
    const char *end = c->end;
    int esc = 0;
    if (depth >= FQ_MAX_DEPTH)
        return fail_depth(c, p);
    if (*p == '[') {
        p = skip_ws(p + 1, end);
        if (p < end && *p == ']')
            return p + 1;
        for (;;) {
            if ((p = skip_value(c, p, depth + 1)) == NULL)
                return NULL;
            int more = next_item(c, &p, ']');
            if (more <= 0)
                return more < 0 ? NULL : p;
        }
    }
    p = skip_ws(p + 1, end);
    if (p < end && *p == '}')
        return p + 1;
    for (;;) {
        if (p >= end || *p != '"')
            return fail(c, p, "expected a string key");
        if ((p = scan_string(c, p, &esc)) == NULL)
            return NULL;
        p = skip_ws(p, end);
        if (p >= end || *p != ':')
            return fail(c, p, "expected ':' after an object key");
        p = skip_ws_sp(p + 1, end);
        if ((p = skip_value(c, p, depth + 1)) == NULL)
            return NULL;
        int more = next_item(c, &p, '}');
        if (more <= 0)
            return more < 0 ? NULL : p;
    }
}

/* ======================================================================================
 * Keys
 * ====================================================================================== */

/* Decodes the escaped key body s[0..e) into c->scratch; returns its length or -1. */
static ptrdiff_t decode_key(rw *c, const char *s, const char *e)
{
    size_t need = (size_t)(e - s) + 16; /* + 16: lookup_key's wide compare */
    if (need > c->scratch_cap) {
        size_t cap = need < 256 ? 256 : need;
        char *p = realloc(c->scratch, cap);
        if (p == NULL)
            return -1;
        c->scratch = p;
        c->scratch_cap = cap;
    }
    return (ptrdiff_t)fq_json_decode(c->scratch, s, e);
}

/* Writes the key whose body is s[0..e) (quotes excluded) renamed to camelCase, with its
 * quotes. Room: e - s + 2 bytes, reserved by the caller (the result is never longer). */
static int write_camel_key(rw *c, const char *s, const char *e, int esc)
{
    fq_buf *o = c->out;
    size_t n = (size_t)(e - s);
    o->data[o->len++] = '"';
    if (!esc) {
#if FQ_SIMD
        if (FQ_LIKELY(n <= 16 && c->end - s >= 16)) {
            __m128i v = _mm_loadu_si128((const __m128i *)s);
            unsigned under = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8('_')));
            if ((under & ((1u << n) - 1)) == 0) {
                _mm_storeu_si128((__m128i *)(o->data + o->len), v);
                o->len += n;
            } else {
                o->len += fq_camel(o->data + o->len, s, n);
            }
            o->data[o->len++] = '"';
            return 0;
        }
#endif
        if (memchr(s, '_', n) == NULL)
            fq_buf_put(o, s, n);
        else
            o->len += fq_camel(o->data + o->len, s, n);
    } else {
        ptrdiff_t dn = decode_key(c, s, e);
        if (dn < 0)
            return -1;
        size_t cn = fq_camel(c->scratch, c->scratch, (size_t)dn);
        o->len = (size_t)(fq_json_escape(o->data + o->len, c->scratch, cn) - o->data);
    }
    o->data[o->len++] = '"';
    return 0;
}

/* k[0..n) == name[0..n); avail: bytes readable at k. Source names are padded (selection.h),
 * so a key of up to 16 bytes compares with one load when 16 input bytes remain. */
FQ_INLINE int key_eq(const char *name, const char *k, size_t n, size_t avail)
{
#if FQ_SIMD
    if (FQ_LIKELY(n <= 16 && avail >= 16)) {
        __m128i a = _mm_loadu_si128((const __m128i *)name), b = _mm_loadu_si128((const __m128i *)k);
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b));
        unsigned want = (1u << n) - 1;
        return (eq & want) == want;
    }
#endif
    return memcmp(name, k, n) == 0;
}

/* Non-slot results of lookup_key and key_slot: tri-state, so hot lookups need no out-param. */
enum { SLOT_UNSELECTED = -1, SLOT_NOMEM = -2 };

/* Slot of source key k[0..n) (decoded UTF-8) in sel, or SLOT_UNSELECTED. */
FQ_INLINE int lookup_key(const fq_selection *sel, const char *k, size_t n, size_t avail)
{
    const uint16_t *table = fq_sel_table(sel);
    const fq_sel_src *srcs = fq_sel_srcs(sel);
    uint32_t i = fq_sel_hash(k, n) & sel->mask;
    for (;;) {
        uint16_t e = table[i];
        if (e == 0)
            return SLOT_UNSELECTED;
        const fq_sel_src *src = &srcs[e - 1];
        if (src->name_len == n && key_eq(fq_sel_str(sel, src->name_off), k, n, avail))
            return e - 1;
        i = (i + 1) & sel->mask;
    }
}

/* p at the opening quote of a key. When the key is, byte for byte, the source name of slot
 * `expect` closed by `":` (fast_mask: no escape possible, nothing to validate), returns the
 * byte after the colon; else NULL and the caller takes the general path. Why: jsonb prints
 * keys in a fixed order (selection.c chains the slots in it), so the next selected key is
 * nearly always the predicted one, and one 16-byte compare replaces scanning the key,
 * hashing it, probing the table and finding the colon. */
FQ_INLINE const char *match_expected(const rw *c, const fq_selection *sel, int32_t expect,
                                     const char *p)
{
    if (expect < 0)
        return NULL;
    const fq_sel_src *src = &fq_sel_srcs(sel)[expect];
    unsigned want = src->fast_mask;
    const char *name = fq_sel_str(sel, src->name_off);
    size_t n = (size_t)__builtin_ctz(~want); /* bytes of `name":` */
#if FQ_SIMD
    if (FQ_LIKELY(c->end - p > 16)) {
        __m128i a = _mm_loadu_si128((const __m128i *)name),
                b = _mm_loadu_si128((const __m128i *)(p + 1));
        unsigned eq = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b));
        if (want == 0 || (eq & want) != want)
            return NULL;
        return p + 1 + n;
    }
#endif
    if (want == 0 || (size_t)(c->end - p) - 1 < n || memcmp(name, p + 1, n) != 0)
        return NULL;
    return p + 1 + n;
}

/* Source slot of the key body s[0..e) in sel, SLOT_UNSELECTED, or SLOT_NOMEM. */
FQ_INLINE int key_slot(rw *c, const fq_selection *sel, const char *s, const char *e, int esc)
{
    if (FQ_LIKELY(!esc))
        return lookup_key(sel, s, (size_t)(e - s), (size_t)(c->end - s));
    ptrdiff_t dn = decode_key(c, s, e);
    if (dn < 0)
        return SLOT_NOMEM;
    return lookup_key(sel, c->scratch, (size_t)dn, c->scratch_cap);
}

/* ======================================================================================
 * Writing values without a selection: to_camel, and compact copies of leaf containers
 * ====================================================================================== */

/* Validates the value at p and writes it compact, renaming keys when camel_keys. The
 * caller has reserved the input length of the value (the output is never longer). */
static const char *write_value(rw *c, const char *p, int depth, int camel_keys)
{
    const char *end = c->end;
    fq_buf *o = c->out;
    const char *q;
    int esc;
    if (p >= end)
        return fail(c, p, "expected a JSON value");
    if (*p == '[') {
        if (depth >= FQ_MAX_DEPTH)
            return fail_depth(c, p);
        fq_buf_putc(o, '[');
        p = skip_ws(p + 1, end);
        if (p < end && *p == ']') {
            fq_buf_putc(o, ']');
            return p + 1;
        }
        for (;;) {
            if ((p = write_value(c, p, depth + 1, camel_keys)) == NULL)
                return NULL;
            int more = next_item(c, &p, ']');
            if (more < 0)
                return NULL;
            fq_buf_putc(o, more ? ',' : ']');
            if (!more)
                return p;
        }
    }
    if (*p == '{') {
        if (depth >= FQ_MAX_DEPTH)
            return fail_depth(c, p);
        fq_buf_putc(o, '{');
        p = skip_ws(p + 1, end);
        if (p < end && *p == '}') {
            fq_buf_putc(o, '}');
            return p + 1;
        }
        for (;;) {
            if (p >= end || *p != '"')
                return fail(c, p, "expected a string key");
            esc = 0;
            if ((q = scan_string(c, p, &esc)) == NULL)
                return NULL;
            if (camel_keys) {
                if (write_camel_key(c, p + 1, q - 1, esc) < 0)
                    return fail_nomem(c, p);
            } else {
                copy_small(o, p, (size_t)(q - p), (size_t)(end - p));
            }
            p = skip_ws(q, end);
            if (p >= end || *p != ':')
                return fail(c, p, "expected ':' after an object key");
            fq_buf_putc(o, ':');
            p = skip_ws_sp(p + 1, end);
            if ((p = write_value(c, p, depth + 1, camel_keys)) == NULL)
                return NULL;
            int more = next_item(c, &p, '}');
            if (more < 0)
                return NULL;
            fq_buf_putc(o, more ? ',' : '}');
            if (!more)
                return p;
        }
    }
    if ((q = skip_value(c, p, depth)) == NULL)
        return NULL;
    copy_small(o, p, (size_t)(q - p), (size_t)(end - p));
    return q;
}

/* ======================================================================================
 * Rewriting under a selection
 * ====================================================================================== */

static const char *rw_value(rw *c, const char *p, const fq_selection *sel, int depth,
                            const frame *fr, int direct);
static const char *rw_array(rw *c, const char *p, const fq_selection *sel, int depth,
                            const frame *fr, int direct, int items_nn);

/* Makes room for n more spans on the slot stack: 0, or -1 when out of memory. */
static FQ_COLD int grow_slots(rw *c, size_t n)
{
    size_t base = c->nslots, cap = c->slots_cap * 2;
    while (cap < base + n)
        cap *= 2;
    span *s = c->slots == c->inline_slots ? malloc(cap * sizeof(span))
                                          : realloc(c->slots, cap * sizeof(span));
    if (s == NULL)
        return -1;
    if (c->slots == c->inline_slots)
        memcpy(s, c->inline_slots, base * sizeof(span));
    c->slots = s;
    c->slots_cap = cap;
    return 0;
}

/* Pushes n spans (zeroed if asked) from index c->nslots on; 0, or -1 when out of memory. */
FQ_INLINE int push_slots(rw *c, size_t n, int zero)
{
    size_t base = c->nslots;
    if (FQ_UNLIKELY(n > c->slots_cap - base) && grow_slots(c, n) < 0)
        return -1;
    if (zero)
        memset(c->slots + base, 0, n * sizeof(span));
    c->nslots = base + n;
    return 0;
}

#define KIND_MISMATCH "the value's JSON kind does not match the field's scalar"

/* Whether the integer literal v[0..e) (validated JSON) fits in 32 signed bits. */
static FQ_NOINLINE int int32_literal(const char *v, const char *e)
{
    int negative = *v == '-';
    const char *d = v + negative;
    for (const char *p = d; p < e; p++)
        if (!is_digit(*p))
            return 0; /* a fraction or an exponent: not an integer literal */
    size_t n = (size_t)(e - d);
    if (negative && n == 1 && *d == '0')
        return 0; /* -0: GraphQL writes 0 */
    if (n != 10)
        return n < 10;
    return memcmp(d, negative ? "2147483648" : "2147483647", 10) <= 0;
}

/* Whether the non-null value v[0..e) has the JSON kind `flags` asks for (FQ_FIELD_KINDS). */
FQ_INLINE int kind_ok(const char *v, const char *e, unsigned flags)
{
    if (flags & FQ_FIELD_STRING)
        return *v == '"';
    if (flags & FQ_FIELD_BOOL)
        return *v == 't' || *v == 'f';
    if (*v != '-' && !is_digit(*v))
        return 0;
    return !(flags & FQ_FIELD_INT) || int32_literal(v, e);
}

/* A leaf with flags (v..e validated): under FQ_FIELD_ID numbers become JSON strings;
 * under FQ_FIELD_ITEMS_NON_NULL a null item of the list fails; under a kind flag a value
 * of another kind fails; lists map item-wise. */
static const char *write_leaf(rw *c, const char *v, const char *e, int depth, const frame *fr,
                              unsigned flags)
{
    fq_buf *o = c->out;
    if (*v == '[') {
        if (depth >= FQ_MAX_DEPTH)
            return fail_depth(c, v);
        RESERVE(c, v, 2);
        fq_buf_putc(o, '[');
        const char *p = skip_ws(v + 1, e);
        frame f = {fr, NULL, 0, 0};
        while (*p != ']') {
            const char *q = skip_value(c, p, depth + 1);
            if (q == NULL)
                return NULL;
            if ((flags & FQ_FIELD_ITEMS_NON_NULL) && *p == 'n')
                return fail_at(c, p, FQ_ERR_NONNULL, "null item in a list of non-null items", &f);
            if (write_leaf(c, p, q, depth + 1, &f, flags & ~FQ_FIELD_ITEMS_NON_NULL) == NULL)
                return NULL;
            p = skip_ws(q, e);
            if (*p == ',') {
                RESERVE(c, p, 1);
                fq_buf_putc(o, ',');
                p = skip_ws(p + 1, e);
                f.index++;
            }
        }
        RESERVE(c, p, 1);
        fq_buf_putc(o, ']');
        return e;
    }
    if ((flags & FQ_FIELD_ID) && (*v == '-' || is_digit(*v))) {
        RESERVE(c, v, (size_t)(e - v) + 2);
        fq_buf_putc(o, '"');
        fq_buf_put(o, v, (size_t)(e - v));
        fq_buf_putc(o, '"');
        return e;
    }
    if ((flags & FQ_FIELD_ID) && *v != '"' && *v != 'n')
        return fail_at(c, v, FQ_ERR_KIND, "expected a string or a number for an ID field", fr);
    if ((flags & FQ_FIELD_KINDS) && *v != 'n' && !kind_ok(v, e, flags))
        return fail_at(c, v, FQ_ERR_KIND, KIND_MISMATCH, fr);
    RESERVE(c, v, (size_t)(e - v));
    if (*v == '{')
        return write_value(c, v, depth, 0);
    copy_small(o, v, (size_t)(e - v), (size_t)(c->end - v));
    return e;
}

/* Writes the value of field f from span s: recorded (s.e set), not seen (s.v NULL), or met
 * just now in the input (s.e NULL: streamed). Returns the end of the value (close if not
 * seen). direct: whether sub-objects may stream their fields (see rw_object). */
FQ_INLINE const char *emit_value(rw *c, const fq_selection *sel, const fq_sel_field *f, span s,
                                 const char *close, int depth, const frame *fr, int direct)
{
    fq_buf *o = c->out;
    frame here = {fr, fq_sel_str(sel, f->key_off), f->key_len, 0};
    const fq_selection *child = fq_sel_child(sel, f);
    if (s.v && s.e == NULL && (child == NULL || *s.v == 'n')) {
        if ((s.e = skip_value(c, s.v, depth)) == NULL)
            return NULL;
    }
    if (s.v == NULL || *s.v == 'n') {
        if (FQ_UNLIKELY(f->flags & FQ_FIELD_NON_NULL))
            return fail_at(c, s.v ? s.v : close, FQ_ERR_NONNULL,
                           s.v ? "null value for a non-null field"
                               : "missing value for a non-null field",
                           &here);
        RESERVE(c, close, 4);
        fq_buf_put(o, "null", 4);
        return s.v ? s.e : close;
    }
    if (child) {
        if ((f->flags & FQ_FIELD_ITEMS_NON_NULL) && *s.v == '[')
            return rw_array(c, s.v, child, depth, &here, direct, 1);
        return rw_value(c, s.v, child, depth, &here, direct);
    }
    if ((f->flags & (FQ_FIELD_ID | FQ_FIELD_ITEMS_NON_NULL)) ||
        ((f->flags & FQ_FIELD_KINDS) && *s.v == '['))
        return write_leaf(c, s.v, s.e, depth, &here, f->flags);
    if ((f->flags & FQ_FIELD_KINDS) && FQ_UNLIKELY(!kind_ok(s.v, s.e, f->flags)))
        return fail_at(c, s.v, FQ_ERR_KIND, KIND_MISMATCH, &here);
    RESERVE(c, s.v, (size_t)(s.e - s.v));
    if (*s.v == '{' || *s.v == '[')
        return write_value(c, s.v, depth, 0);
    copy_small(o, s.v, (size_t)(s.e - s.v), (size_t)(c->end - s.v));
    return s.e;
}

/* Writes field i: separator, pre-rendered key (and typename), value. */
FQ_INLINE const char *emit_field(rw *c, const fq_selection *sel, uint32_t i, span s,
                                 const char *close, int depth, const frame *fr, int direct)
{
    const fq_sel_field *f = &sel->fields[i];
    RESERVE(c, close, (size_t)f->frag_len + 1);
    if (i)
        fq_buf_putc(c->out, ',');
    copy_small(c->out, fq_sel_str(sel, f->frag_off), f->frag_len, FQ_SEL_STRINGS_PAD);
    if (f->src < 0)
        return close;
    return emit_value(c, sel, f, s, close, depth, fr, direct);
}

/* ---- objects of a learned shape (shape.h) ------------------------------------------- */

/* Whether p[0..) starts with the glue of member m of shape t. */
FQ_INLINE int glue_eq(const char *end, const char *p, const fq_shape *t, const fq_shape_member *m)
{
    const char *g = fq_shape_glue(t, m);
    size_t n = m->glue_len;
#if FQ_SIMD
    if (FQ_LIKELY(n <= 16 && end - p >= 16)) {
        __m128i a = _mm_loadu_si128((const __m128i *)p), b = _mm_loadu_si128((const __m128i *)g);
        unsigned diff = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, b)) ^ 0xFFFFu;
        return (diff & ((1u << n) - 1)) == 0;
    }
#endif
    return (size_t)(end - p) >= n && memcmp(p, g, n) == 0;
}

/* emit_field out of line, for the shape path's rare cases (child selections, flags,
 * containers under plain leaves, nulls): keeps that path's frame small. */
static FQ_NOINLINE const char *emit_field_out(rw *c, const fq_selection *sel, uint32_t i, span s,
                                              const char *close, int depth, const frame *fr)
{
    return emit_field(c, sel, i, s, close, depth, fr, 1);
}

/* Writes field i of sel, a typename (v NULL) or a plain leaf whose scalar value is
 * v[0..vn), with its separator: one reservation, stores through a local cursor (stores
 * through char * would otherwise make the compiler reload o->len after each one). */
FQ_INLINE int put_field(rw *c, const fq_selection *sel, uint32_t i, const char *v, size_t vn)
{
    const fq_sel_field *f = &sel->fields[i];
    fq_buf *o = c->out;
    size_t avail = (size_t)(c->end - v);
    if (FQ_UNLIKELY(fq_buf_reserve(o, 1 + f->frag_len + vn + SLACK) < 0)) {
        fail_nomem(c, v);
        return -1;
    }
    char *data = o->data, *w = data + o->len;
    *w = ','; /* overwritten by the key when this is the first field */
    w += i != 0;
    w = copy_at(w, fq_sel_str(sel, f->frag_off), f->frag_len, FQ_SEL_STRINGS_PAD);
    if (v)
        w = copy_at(w, v, vn, avail);
    o->len = (size_t)(w - data);
    return 0;
}

/* Writes fields [from, to) of sel from the spans at c->slots[base..]; at: an input
 * position for errors. */
static FQ_NOINLINE int flush_fields(rw *c, const fq_selection *sel, uint32_t from, uint32_t to,
                                    size_t base, const char *at, int depth, const frame *fr)
{
    for (uint32_t i = from; i < to; i++) {
        const fq_sel_field *f = &sel->fields[i];
        if (f->src < 0) {
            if (put_field(c, sel, i, NULL, 0) < 0)
                return -1;
            continue;
        }
        span s = c->slots[base + (size_t)f->src];
        if (f->plain && s.v != NULL && *s.v != '{' && *s.v != '[') {
            if (put_field(c, sel, i, s.v, (size_t)(s.e - s.v)) < 0)
                return -1;
        } else if (emit_field_out(c, sel, i, s, at, depth, fr) == NULL) {
            return -1;
        }
    }
    return 0;
}

/* emit_value out of line, for a value under field i written in place. */
static FQ_NOINLINE const char *emit_value_out(rw *c, const fq_selection *sel, uint32_t i,
                                              const char *v, int depth, const frame *fr)
{
    return emit_value(c, sel, &sel->fields[i], (span){v, NULL}, v, depth, fr, 1);
}

/* Makes room for what the shape path may write from p on: every constant text, and values
 * copied from [p, end); returns the output cursor, or NULL when out of memory. */
FQ_INLINE char *shape_room(rw *c, const fq_shape *t, const char *p)
{
    fq_buf *o = c->out;
    if (FQ_UNLIKELY(fq_buf_reserve(o, (size_t)(c->end - p) + t->text_total + SLACK) < 0)) {
        fail_nomem(c, p);
        return NULL;
    }
    return o->data + o->len;
}

/* The writes of shape member m before its value (or, for t->close, before the object's
 * end): the fields it flushes from recorded values, out of line (then a fresh reservation
 * from `rest`, where the values still to copy start), and its constant text. Returns the
 * output cursor, or NULL with the error set. at: an input position for errors. */
FQ_INLINE char *shape_texts(rw *c, const fq_selection *sel, const fq_shape *t,
                            const fq_shape_member *m, size_t base, char *w, const char *at,
                            const char *rest, int depth, const frame *fr)
{
    if (m->flush_from < m->flush_to) {
        c->out->len = (size_t)(w - c->out->data);
        if (flush_fields(c, sel, m->flush_from, m->flush_to, base, at, depth, fr) < 0 ||
            (w = shape_room(c, t, rest)) == NULL)
            return NULL;
    }
    return copy_at(w, fq_shape_text(t, m), m->text_len, FQ_SHAPE_PAD);
}

/* p at '{' of an object under sel, matched against shape t: the object written as the
 * general path writes it, its end returned. The output cursor stays in a register between
 * members (one reservation covers the object, renewed after anything written out of line).
 * A glue that differs returns NULL with *mismatch set to the member's index + 1, *at to
 * where in the input, and nothing written; a failing value returns NULL with the error set
 * (rewrite_doc then redoes the document without shapes, so that errors are exactly the
 * general path's). */
FQ_INLINE const char *rw_object_shaped(rw *c, const char *open, const fq_selection *sel,
                                       const fq_shape *t, int depth, const frame *fr,
                                       uint32_t *mismatch, const char **at)
{
    const char *end = c->end, *p = open;
    fq_buf *o = c->out;
    size_t mark = o->len, base = c->nslots;
    uint32_t i = 0;
    *mismatch = 0;
    if (t->records && push_slots(c, sel->nsrc, 1) < 0)
        return fail_nomem(c, open);
    char *w = shape_room(c, t, p);
    if (w == NULL)
        return NULL;
    *w++ = '{';
    const fq_shape_member *m = t->members;
    for (; i < t->nmembers; i++, m++) {
        if (!glue_eq(end, p, t, m))
            goto mismatch;
        const char *v = p + m->glue_len;
        if (FQ_UNLIKELY(v >= end))
            return fail(c, v, "expected a JSON value");
        if ((w = shape_texts(c, sel, t, m, base, w, v, v, depth + 1, fr)) == NULL)
            return NULL;
        if (m->kind == FQ_MEMBER_LEAF && *v == '"') {
            if ((p = copy_string(c, v, &w)) == NULL)
                return NULL;
        } else if (m->kind == FQ_MEMBER_SCAN ||
                   (m->kind == FQ_MEMBER_LEAF && *v != '{' && *v != '[')) {
            int esc = 0;
            p = *v == '"' ? scan_string(c, v, &esc) : skip_value(c, v, depth + 1);
            if (p == NULL)
                return NULL;
            if (m->kind == FQ_MEMBER_LEAF)
                w = copy_at(w, v, (size_t)(p - v), (size_t)(end - v));
        } else {
            o->len = (size_t)(w - o->data);
            if ((p = emit_value_out(c, sel, (uint32_t)m->field, v, depth + 1, fr)) == NULL ||
                (w = shape_room(c, t, p)) == NULL)
                return NULL;
        }
        if (m->slot >= 0)
            c->slots[base + (size_t)m->slot] = (span){v, p};
    }
    if (!glue_eq(end, p, t, &t->close))
        goto mismatch;
    p += t->close.glue_len;
    if ((w = shape_texts(c, sel, t, &t->close, base, w, p - 1, p, depth + 1, fr)) == NULL)
        return NULL;
    o->len = (size_t)(w - o->data);
    c->nslots = base;
    return p;

mismatch:
    o->len = mark;
    c->nslots = base;
    *mismatch = i + 1;
    *at = p;
    return NULL;
}

/* Another shape of level that shares t's first i members and whose member i (or closing
 * glue) starts at p, or NULL. */
static FQ_NOINLINE const fq_shape *other_shape(fq_level_shapes *level, const fq_shape *t,
                                               uint32_t i, const char *end, const char *p)
{
    for (int k = 0; k < FQ_SHAPES_PER_LEVEL; k++) {
        const fq_shape *u = fq_shape_get(level, k);
        if (u == NULL)
            return NULL;
        if (u != t && fq_shape_shared(t, u) >= i &&
            glue_eq(end, p, u, i < u->nmembers ? &u->members[i] : &u->close))
            return u;
    }
    return NULL;
}

/* After the general path rewrote the object at open (valid, ending before close_end):
 * scans its members again and publishes their glue as a shape of sel's level. Cold: at
 * most a few times per selection level. */
static FQ_NOINLINE void learn_shape(rw *c, const fq_selection *sel, fq_level_shapes *level,
                                    const char *open, int depth)
{
    fq_shape_seen m[FQ_SHAPE_MAX_MEMBERS];
    size_t n = 0;
    const char *end = c->end, *glue = open;
    const char *p = skip_ws(open + 1, end);
    if (*p != '}') {
        for (;;) {
            int esc = 0;
            const char *q = scan_string(c, p, &esc);
            if (n == FQ_SHAPE_MAX_MEMBERS || q == NULL)
                goto done;
            int slot = key_slot(c, sel, p + 1, q - 1, esc);
            if (slot == SLOT_NOMEM)
                goto done;
            p = skip_ws_sp(skip_ws(q, end) + 1, end); /* past ':' */
            m[n++] = (fq_shape_seen){glue, (size_t)(p - glue), slot};
            if ((p = skip_value(c, p, depth + 1)) == NULL)
                goto done;
            glue = p;
            p = skip_ws(p, end);
            if (*p == '}')
                break;
            p = skip_ws_sp(p + 1, end); /* past ',' */
        }
    }
    if (fq_shape_publish(level, sel, m, n, glue, (size_t)(p + 1 - glue)) == 0)
        return;
done:
    __atomic_fetch_add(&level->failed, 1, __ATOMIC_RELAXED);
    fq_err_clear(c->err); /* the object was valid: nothing to report */
}

/* p at '{': the object rewritten under sel.
 *
 * Fields go out in selection order. In direct mode a field is streamed straight from the
 * input when its key arrives and every field before it has been written (typename fields,
 * and fields whose keys were already met, are flushed from their recorded spans first):
 * with jsonb's key order and a selection in declaration order most fields stream, and a
 * sub-document is scanned once. Other keys record their span (a later duplicate overwrites
 * it: last wins) and are written at the closing brace. If a key that was already written
 * comes again, or a streamed value fails a selection check (wrong kind, non-null) that a
 * later duplicate might override, the object is redone in record mode, children included:
 * at most once per object, so the work stays linear in the input times the selection
 * depth. */
static FQ_NOINLINE const char *rw_object(rw *c, const char *open, const fq_selection *sel,
                                         int depth, const frame *fr, int direct)
{
    const char *end = c->end;
    const fq_sel_src *srcs = fq_sel_srcs(sel);
    fq_buf *o = c->out;
    size_t mark = o->len;
    const char *p;
    if (depth >= FQ_MAX_DEPTH)
        return fail_depth(c, open);
    size_t base = c->nslots;
    if (push_slots(c, sel->nsrc, 1) < 0)
        return fail_nomem(c, open);

restart:;
    uint32_t next = 0;           /* fields [0, next) are written */
    int32_t expect = sel->first; /* the slot whose key jsonb order puts next */
    RESERVE(c, open, 1);
    fq_buf_putc(o, '{');
    p = skip_ws(open + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            if (p >= end || *p != '"')
                return fail(c, p, "expected a string key");
            int slot;
            const char *q = match_expected(c, sel, expect, p);
            if (FQ_LIKELY(q != NULL)) {
                slot = expect;
                p = skip_ws_sp(q, end);
            } else {
                int esc = 0;
                if ((q = scan_string(c, p, &esc)) == NULL)
                    return NULL;
                slot = key_slot(c, sel, p + 1, q - 1, esc);
                if (FQ_UNLIKELY(slot == SLOT_NOMEM))
                    return fail_nomem(c, p);
                p = skip_ws(q, end);
                if (p >= end || *p != ':')
                    return fail(c, p, "expected ':' after an object key");
                p = skip_ws_sp(p + 1, end);
            }
            if (slot >= 0)
                expect = srcs[slot].next;
            if (FQ_UNLIKELY(p >= end))
                return fail(c, p, "expected a JSON value");
            const char *v = p;
            if (slot < 0 || !direct) {
                if ((p = skip_value(c, p, depth + 1)) == NULL)
                    return NULL;
            } else {
                if (srcs[slot].first_field < next)
                    goto redo; /* a written field's key again */
                /* Flush the fields ready to go. The loop stops at field first_field (>= next,
                 * < nfields) at the latest: it reads this very slot. */
                for (; sel->fields[next].src != slot; next++) {
                    int32_t src = sel->fields[next].src;
                    span s = src < 0 ? (span){NULL, NULL} : c->slots[base + (size_t)src];
                    if (src >= 0 && s.v == NULL)
                        break; /* not seen yet */
                    if (emit_field(c, sel, next, s, v, depth + 1, fr, direct) == NULL)
                        goto failed;
                }
                const fq_sel_field *f = &sel->fields[next];
                if (f->src != slot) {
                    if ((p = skip_value(c, p, depth + 1)) == NULL)
                        return NULL;
                } else if (f->plain && *v != '{' && *v != '[') {
                    /* The common field, a plain scalar leaf: validate it (strings, the
                     * common kind, straight to the scanner), then one reservation for
                     * separator, key and value (emit_field would do two). */
                    int esc = 0;
                    p = *v == '"' ? scan_string(c, v, &esc) : skip_value(c, v, depth + 1);
                    if (p == NULL || put_field(c, sel, next, v, (size_t)(p - v)) < 0)
                        return NULL;
                    next++;
                } else {
                    span now = {v, NULL};
                    if ((p = emit_field(c, sel, next, now, v, depth + 1, fr, direct)) == NULL)
                        goto failed;
                    next++;
                }
            }
            if (slot >= 0) {
                c->slots[base + (size_t)slot].v = v;
                c->slots[base + (size_t)slot].e = p;
            }
            int more = next_item(c, &p, '}');
            if (more < 0)
                return NULL;
            if (!more)
                break;
        }
    }

    const char *close = p - 1;
    for (uint32_t i = next; i < sel->nfields; i++) {
        const fq_sel_field *f = &sel->fields[i];
        /* c->slots may move while children push theirs: index it afresh */
        span s = f->src < 0 ? (span){NULL, NULL} : c->slots[base + (size_t)f->src];
        if (emit_field(c, sel, i, s, close, depth + 1, fr, direct) == NULL)
            return NULL;
    }
    RESERVE(c, close, 1);
    fq_buf_putc(o, '}');
    c->nslots = base;
    if (direct && c->shapes && fq_shape_wanted(&c->shapes[sel->node]))
        learn_shape(c, sel, &c->shapes[sel->node], open, depth);
    return p;

failed:
    if (c->err->code != FQ_ERR_KIND && c->err->code != FQ_ERR_NONNULL)
        return NULL;
redo:
    fq_err_clear(c->err);
    o->len = mark;
    c->nslots = base + sel->nsrc;
    if (sel->nsrc)
        memset(c->slots + base, 0, sel->nsrc * sizeof(span));
    direct = 0;
    goto restart;
}

/* *p at '{' of an object under sel: rewrites it through a learned shape of sel's level if
 * one fits, leaving in *p the end of the object (NULL: error set), and returns 1; returns 0
 * when none fits (nothing written). The shape that fitted last at this level goes first;
 * when the input leaves a shape at member i, the object is redone with a shape that shares
 * the first i members and fits there, if any (each shape at most once). */
FQ_INLINE int try_shapes(rw *c, const char **p, const fq_selection *sel, int depth, const frame *fr)
{
    fq_level_shapes *level = &c->shapes[sel->node];
    unsigned hint = __atomic_load_n(&level->hint, __ATOMIC_RELAXED);
    const fq_shape *t = fq_shape_get(level, (int)hint);
    if (t == NULL)
        return 0;
    c->shaped = 1;
    for (int tries = 0; tries < FQ_SHAPES_PER_LEVEL; tries++) {
        uint32_t mismatch;
        const char *at;
        const char *r = rw_object_shaped(c, *p, sel, t, depth, fr, &mismatch, &at);
        if (mismatch == 0) {
            if (t->index != hint)
                __atomic_store_n(&level->hint, t->index, __ATOMIC_RELAXED);
            *p = r;
            return 1;
        }
        if ((t = other_shape(level, t, mismatch - 1, c->end, at)) == NULL)
            return 0;
    }
    return 0;
}

/* p at '[': each element rewritten under sel; items_nn: a null element fails. */
static const char *rw_array(rw *c, const char *p, const fq_selection *sel, int depth,
                            const frame *fr, int direct, int items_nn)
{
    const char *end = c->end;
    fq_buf *o = c->out;
    if (depth >= FQ_MAX_DEPTH)
        return fail_depth(c, p);
    RESERVE(c, p, 2);
    fq_buf_putc(o, '[');
    p = skip_ws(p + 1, end);
    if (p < end && *p == ']') {
        fq_buf_putc(o, ']');
        return p + 1;
    }
    frame f = {fr, NULL, 0, 0};
    int shaped = direct && c->shapes && !sel->variants && depth + 1 < FQ_MAX_DEPTH;
    for (;;) {
        if (FQ_UNLIKELY(items_nn && p < end && *p == 'n')) {
            if (scan_literal(c, p, "null", 4) == NULL)
                return NULL;
            return fail_at(c, p, FQ_ERR_NONNULL, "null item in a list of non-null items", &f);
        }
        /* objects of a learned shape without the detour through rw_value */
        if (!(p < end && *p == '{' && shaped && try_shapes(c, &p, sel, depth + 1, &f)))
            p = rw_value(c, p, sel, depth + 1, &f, direct);
        if (p == NULL)
            return NULL;
        RESERVE(c, p, 1);
        int more = next_item(c, &p, ']');
        if (more < 0)
            return NULL;
        fq_buf_putc(o, more ? ',' : ']');
        if (!more)
            return p;
        f.index++;
    }
}

/* open at '{' of an object under a union level: the value of its discriminator key (the
 * last one: jsonb keeps the last duplicate) names the variant whose selection rewrites the
 * object, in a second pass. No string value naming a variant as raw bytes (escapes
 * included: the general path decodes them) fails with FQ_ERR_KIND, for graphql-core's
 * resolve_type to decide. */
static FQ_NOINLINE const char *rw_variant(rw *c, const char *open, const fq_selection *sel,
                                          int depth, const frame *fr, int direct)
{
    const fq_sel_src *key = &fq_sel_srcs(sel)[0];
    const char *name = fq_sel_str(sel, key->name_off), *end = c->end;
    span value = {NULL, NULL};
    if (depth >= FQ_MAX_DEPTH)
        return fail_depth(c, open);
    const char *p = skip_ws(open + 1, end);
    if (p < end && *p == '}') {
        p++;
    } else {
        for (;;) {
            int esc = 0;
            if (p >= end || *p != '"')
                return fail(c, p, "expected a string key");
            const char *q = scan_string(c, p, &esc);
            if (q == NULL)
                return NULL;
            int named = !esc && (size_t)(q - p - 2) == key->name_len &&
                        memcmp(p + 1, name, key->name_len) == 0;
            p = skip_ws(q, end);
            if (p >= end || *p != ':')
                return fail(c, p, "expected ':' after an object key");
            const char *v = skip_ws(p + 1, end);
            if ((p = skip_value(c, v, depth + 1)) == NULL)
                return NULL;
            if (named)
                value = (span){v, p};
            int more = next_item(c, &p, '}');
            if (more < 0)
                return NULL;
            if (!more)
                break;
        }
    }
    if (value.v && *value.v == '"' && memchr(value.v, '\\', (size_t)(value.e - value.v)) == NULL) {
        size_t n = (size_t)(value.e - value.v) - 2;
        for (uint32_t i = 0; i < sel->nfields; i++) {
            const fq_sel_field *f = &sel->fields[i];
            if (f->key_len != n || memcmp(fq_sel_str(sel, f->key_off), value.v + 1, n) != 0)
                continue;
            const fq_selection *member = fq_sel_child(sel, f);
            if (FQ_UNLIKELY(member->variants)) /* a union level again: one level deeper */
                return rw_variant(c, open, member, depth + 1, fr, direct);
            const char *r = open;
            if (direct && c->shapes && try_shapes(c, &r, member, depth, fr))
                return r;
            return rw_object(c, open, member, depth, fr, direct);
        }
    }
    return fail_at(c, value.v ? value.v : open, FQ_ERR_KIND,
                   "no member of the union is named by the object's discriminator", fr);
}

/* A value under a sub-selection: object, array (of such values) or null. */
static const char *rw_value(rw *c, const char *p, const fq_selection *sel, int depth,
                            const frame *fr, int direct)
{
    if (p >= c->end)
        return fail(c, p, "expected a JSON value");
    switch (*p) {
    case '{':
        if (FQ_UNLIKELY(sel->variants))
            return rw_variant(c, p, sel, depth, fr, direct);
        if (direct && c->shapes && depth < FQ_MAX_DEPTH && try_shapes(c, &p, sel, depth, fr))
            return p;
        return rw_object(c, p, sel, depth, fr, direct);
    case '[':
        return rw_array(c, p, sel, depth, fr, direct, 0);
    case 'n':
        if ((p = scan_literal(c, p, "null", 4)) == NULL)
            return NULL;
        RESERVE(c, p, 4);
        fq_buf_put(c->out, "null", 4);
        return p;
    default:
        if (skip_value(c, p, depth) == NULL)
            return NULL;
        return fail_at(c, p, FQ_ERR_KIND,
                       "expected an object, an array or null for a field with a sub-selection", fr);
    }
}

/* ======================================================================================
 * Entry points
 * ====================================================================================== */

static int rewrite_doc_once(rw *c, const char *json, size_t len, const fq_selection *sel)
{
    c->start = json;
    c->end = json + len;
    c->nslots = 0;
    c->shaped = 0;
    const char *p = skip_ws(json, c->end);
    if (p >= c->end) {
        fail(c, p, "expected a JSON value");
        return -1;
    }
    if (sel) {
        p = rw_value(c, p, sel, 0, c->root, 1);
    } else {
        if (fq_buf_reserve(c->out, (size_t)(c->end - p) + SLACK) < 0) {
            fail_nomem(c, p);
            return -1;
        }
        p = write_value(c, p, 0, 1);
    }
    if (p == NULL)
        return -1;
    p = skip_ws(p, c->end);
    if (p != c->end) {
        fail(c, p, "unexpected data after the JSON value");
        return -1;
    }
    return 0;
}

/* A document that fails after a learned shape was tried is redone without shapes: errors
 * (message, offset, path) are then exactly those of the general path. */
static int rewrite_doc(rw *c, const char *json, size_t len, const fq_selection *sel)
{
    size_t mark = c->out->len;
    int rc = rewrite_doc_once(c, json, len, sel);
    if (rc < 0 && c->shaped && c->err->code != FQ_ERR_NOMEM) {
        fq_level_shapes *shapes = c->shapes;
        fq_err_clear(c->err);
        c->out->len = mark;
        c->shapes = NULL;
        rc = rewrite_doc_once(c, json, len, sel);
        c->shapes = shapes;
    }
    return rc;
}

static void rw_init(rw *c, fq_buf *out, fq_err *err, const fq_selection *sel)
{
    c->start = c->end = NULL;
    c->out = out;
    c->err = err;
    c->root = NULL;
    c->slots = c->inline_slots;
    c->nslots = 0;
    c->slots_cap = sizeof(c->inline_slots) / sizeof(c->inline_slots[0]);
    c->scratch = NULL;
    c->scratch_cap = 0;
    c->shapes = sel && sel->shapes_on ? sel->shapes : NULL;
    c->shaped = 0;
}

static int rw_finish(rw *c, size_t mark, int rc)
{
    if (c->slots != c->inline_slots)
        free(c->slots);
    free(c->scratch);
    if (rc < 0 && c->err->code != FQ_ERR_NOMEM)
        c->out->len = mark;
    return rc;
}

int fq_rewrite(fq_buf *out, const char *json, size_t len, const fq_selection *sel, fq_err *err)
{
    rw c;
    size_t mark = out->len;
    rw_init(&c, out, err, sel);
    if (json == NULL)
        json = "";
    int rc = rewrite_doc(&c, json, len, sel);
    return rw_finish(&c, mark, rc);
}

int fq_rewrite_array(fq_buf *out, size_t n, fq_doc_fn doc, void *ctx, const fq_selection *sel,
                     fq_err *err)
{
    rw c;
    frame root = {NULL, NULL, 0, 0};
    size_t mark = out->len;
    int rc = 0;
    rw_init(&c, out, err, sel);
    c.root = &root;
    if (fq_buf_reserve(out, 2) < 0)
        goto nomem;
    fq_buf_putc(out, '[');
    for (size_t i = 0; i < n; i++) {
        const char *json = NULL;
        size_t len = 0;
        doc(ctx, i, &json, &len);
        root.index = i;
        if (fq_buf_reserve(out, 5) < 0)
            goto nomem;
        if (i)
            fq_buf_putc(out, ',');
        if (json == NULL) {
            fq_buf_put(out, "null", 4);
        } else if ((rc = rewrite_doc(&c, json, len, sel)) < 0) {
            return rw_finish(&c, mark, rc);
        }
    }
    if (fq_buf_reserve(out, 1) < 0)
        goto nomem;
    fq_buf_putc(out, ']');
    return rw_finish(&c, mark, 0);

nomem:
    c.start = "";
    fail_nomem(&c, c.start);
    return rw_finish(&c, mark, -1);
}
