/* Text: full Unicode case mapping of UTF-8, as Python's str.upper/str.lower.
 *
 * utf8proc decodes and encodes UTF-8; casing_data.h (generated from one
 * version of Unicode's data files by tools/gen_casing.py) has each code
 * point's simple case mapping, the unconditional multi-character mappings
 * and the Cased and Case_Ignorable properties that the Final_Sigma rule is
 * written with. */
#include "pyffi.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "casing_data.h"
#include "utf8.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The output: grows by doubling; `len` bytes are used of `cap`. */
struct out_buffer {
    unsigned char *data;
    size_t len;
    size_t cap;
};

/* Grow to hold @p extra more bytes: the slow path of reserve(). */
static bool grow(struct out_buffer *b, size_t extra)
{
    size_t need;
    if (__builtin_add_overflow(b->len, extra, &need))
        return false;
    size_t cap = b->cap != 0 ? b->cap : need;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    unsigned char *data = realloc(b->data, cap);
    if (data == NULL)
        return false;
    b->data = data;
    b->cap = cap;
    return true;
}

/* Make room for @p extra more bytes. */
static inline bool reserve(struct out_buffer *b, size_t extra)
{
    return b->cap - b->len >= extra || grow(b, extra);
}

/* Copy one encoded character (1..4 bytes) without a call to memcpy. */
static inline void put_bytes(struct out_buffer *b, const unsigned char *s, size_t n)
{
    unsigned char *d = b->data + b->len;
    switch (n) {
    case 4: d[3] = s[3]; /* fall through */
    case 3: d[2] = s[2]; /* fall through */
    case 2: d[1] = s[1]; /* fall through */
    default: d[0] = s[0];
    }
    b->len += n;
}

static const struct casing_special *find_special(const struct casing_special *table,
                                                 size_t count, uint32_t cp)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (table[mid].code_point < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && table[lo].code_point == cp ? &table[lo] : NULL;
}

static bool in_ranges(const struct casing_range *ranges, size_t count, uint32_t cp)
{
    size_t lo = 0, hi = count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ranges[mid].last < cp)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < count && ranges[lo].first <= cp;
}

/* The simple mapping of @p cp (itself when it has none): two table reads. */
static inline int32_t simple_map(const uint8_t *block, const int32_t (*delta)[256], int32_t cp)
{
    return cp + delta[block[(uint32_t)cp >> 8]][(uint32_t)cp & 0xff];
}

const char *pyffi_unicode_version(void)
{
    return CASING_UNICODE_VERSION;
}

static bool is_cased(uint32_t cp)
{
    return in_ranges(cased_ranges, COUNT(cased_ranges), cp);
}

static bool is_case_ignorable(uint32_t cp)
{
    return in_ranges(case_ignorable_ranges, COUNT(case_ignorable_ranges), cp);
}

/* The code point starting at s[i] (valid UTF-8 there, or an encoded
 * surrogate when those are allowed: then -1, neither cased nor ignorable). */
static int32_t decode_at(const unsigned char *s, size_t len, size_t i)
{
    utf8proc_int32_t cp;
    if (utf8proc_iterate(s + i, (utf8proc_ssize_t)(len - i), &cp) < 0)
        return -1;
    return cp;
}

/* Final_Sigma (Unicode 3.13, as str.lower applies it): the capital sigma at
 * s[i..next) is final when a cased letter precedes it and none follows it,
 * skipping case-ignorable characters both ways. Each scan stops at the first
 * other character, and a sigma is not case-ignorable, so the scans around
 * successive sigmas never overlap: linear overall. */
static bool final_sigma(const unsigned char *s, size_t len, size_t i, size_t next)
{
    bool cased_before = false;
    size_t j = i;
    while (j > 0) {
        do
            j--;
        while (j > 0 && (s[j] & 0xC0) == 0x80);
        int32_t cp = decode_at(s, len, j);
        if (cp < 0 || !is_case_ignorable((uint32_t)cp)) {
            cased_before = cp >= 0 && is_cased((uint32_t)cp);
            break;
        }
    }
    if (!cased_before)
        return false;
    for (j = next; j < len;) {
        utf8proc_int32_t cp;
        utf8proc_ssize_t n = utf8proc_iterate(s + j, (utf8proc_ssize_t)(len - j), &cp);
        if (n < 0)
            return true; /* invalid UTF-8 fails the call; a surrogate is uncased */
        if (!is_case_ignorable((uint32_t)cp))
            return !is_cased((uint32_t)cp);
        j += (size_t)n;
    }
    return true;
}

static bool is_surrogate(const unsigned char *s, size_t left)
{
    return left >= 3 && s[0] == 0xED && (s[1] & 0xE0) == 0xA0 && (s[2] & 0xC0) == 0x80;
}

/* Case-map a run of ASCII bytes, 8 at a time: for each byte x < 0x80,
 * (x + 0x80 - lo) has its top bit set iff x >= lo, and (x + 0x7F - hi) iff
 * x > hi; no byte carries into the next. The top bit of "in range",
 * shifted to 0x20, flips the case. */
#define ASCII_BYTES(c) (0x0101010101010101u * (uint64_t)(c))
#define HIGH_BITS ASCII_BYTES(0x80)

static inline uint64_t ascii_word(uint64_t w, unsigned char lo, unsigned char hi)
{
    uint64_t ge_lo = w + ASCII_BYTES(0x80 - lo);
    uint64_t gt_hi = w + ASCII_BYTES(0x7F - hi);
    return w ^ (((ge_lo & ~gt_hi) & HIGH_BITS) >> 2);
}

/* Map s[i..) while it is ASCII into d; returns the index after the run. */
static size_t ascii_run(const unsigned char *s, size_t i, size_t len, unsigned char *d,
                        bool upper)
{
    const unsigned char lo = upper ? 'a' : 'A', hi = upper ? 'z' : 'Z';
    const size_t start = i;
    while (len - i >= 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (w & HIGH_BITS)
            break;
        w = ascii_word(w, lo, hi);
        memcpy(d + (i - start), &w, 8);
        i += 8;
    }
    for (; i < len && s[i] < 0x80; i++)
        d[i - start] = (unsigned char)(s[i] ^ ((unsigned)(s[i] - lo) <= (unsigned)(hi - lo) ? 0x20 : 0));
    return i;
}

static bool has_bit(const uint64_t *bits, size_t words, uint32_t cp)
{
    return cp / 64 < words && (bits[cp / 64] >> (cp % 64) & 1);
}

static pyffi_status convert(char **out, size_t *out_len, const char *text, size_t len,
                            unsigned flags, bool upper, const char *func)
{
    if (out == NULL || (text == NULL && len != 0))
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: NULL %s", func,
                           out == NULL ? "out" : "text");
    if (flags & ~(unsigned)PYFFI_UTF8_ALLOW_SURROGATES)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: unknown flags 0x%x", func, flags);

    const unsigned char *s = (const unsigned char *)text;
    const struct casing_special *specials = upper ? upper_special : lower_special;
    const size_t n_specials = upper ? COUNT(upper_special) : COUNT(lower_special);
    const uint64_t *special_bits = upper ? upper_special_bits : lower_special_bits;
    const size_t n_special_bits = upper ? COUNT(upper_special_bits) : COUNT(lower_special_bits);
    struct out_buffer b = {NULL, 0, 0};
    /* Most text keeps its length; a little slack spares most reallocations. */
    size_t cap0 = len + len / 16 + 16;
    if (cap0 < len || !reserve(&b, cap0))
        goto nomem;

    size_t i = 0;
    while (i < len) {
        if (s[i] < 0x80) {
            /* ASCII maps to one byte each: room for the rest of the input. */
            if (!reserve(&b, len - i))
                goto nomem;
            size_t end = ascii_run(s, i, len, b.data + b.len, upper);
            b.len += end - i;
            i = end;
            continue;
        }

        int32_t cp;
        size_t n = decode_utf8(s + i, len - i, &cp);
        /* Up to 3 code points of up to 4 bytes each. */
        if (!reserve(&b, 12))
            goto nomem;
        if (n == 0) {
            if (!(flags & PYFFI_UTF8_ALLOW_SURROGATES) || !is_surrogate(s + i, len - i)) {
                free(b.data);
                return pyffi__fail(PYFFI_UTF8, "%s: invalid UTF-8 at byte offset %zu",
                                   func, i);
            }
            n = 3; /* a lone surrogate has no case: copied as it is */
            memcpy(b.data + b.len, s + i, 3);
            b.len += 3;
            i += 3;
            continue;
        }

        const struct casing_special *special = NULL;
        if (has_bit(special_bits, n_special_bits, (uint32_t)cp))
            special = find_special(specials, n_specials, (uint32_t)cp);
        if (special != NULL) {
            for (uint32_t k = 0; k < special->count; k++)
                b.len += (size_t)utf8proc_encode_char((utf8proc_int32_t)special->mapping[k],
                                                      b.data + b.len);
            i += n;
            continue;
        }

        int32_t mapped;
        if (upper)
            mapped = simple_map(simple_upper_block, simple_upper_delta, cp);
        else if (cp == 0x03A3)
            mapped = final_sigma(s, len, i, i + n) ? 0x03C2 : 0x03C3;
        else
            mapped = simple_map(simple_lower_block, simple_lower_delta, cp);
        if (mapped == cp) {
            put_bytes(&b, s + i, n);
        } else {
            b.len += (size_t)utf8proc_encode_char((utf8proc_int32_t)mapped, b.data + b.len);
        }
        i += n;
    }

    if (!reserve(&b, 1))
        goto nomem;
    b.data[b.len] = '\0';
    *out = (char *)b.data;
    if (out_len != NULL)
        *out_len = b.len;
    return PYFFI_OK;

nomem:
    free(b.data);
    return pyffi__fail(PYFFI_NOMEM, "%s: out of memory for a %zu-byte text", func, len);
}

pyffi_status pyffi_utf8_to_uppercase(char **out, size_t *out_len, const char *text,
                                     size_t len, unsigned flags)
{
    return convert(out, out_len, text, len, flags, true, "to_uppercase");
}

pyffi_status pyffi_utf8_to_lowercase(char **out, size_t *out_len, const char *text,
                                     size_t len, unsigned flags)
{
    return convert(out, out_len, text, len, flags, false, "to_lowercase");
}
