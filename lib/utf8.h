/* Private: the one strict UTF-8 decoder of the core (casing.c, csv.c). */
#ifndef PYFFI_LIB_UTF8_H
#define PYFFI_LIB_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decode the non-ASCII character at s[0..left): its length, or 0 when the
 * bytes are not valid UTF-8 (RFC 3629: no overlong forms, no surrogates,
 * nothing above U+10FFFF). Inline: the hot loop's one call per character
 * into utf8proc_iterate() cost more than the decoding itself. */
static inline size_t decode_utf8(const unsigned char *s, size_t left, int32_t *cp)
{
    unsigned char c = s[0];
    if (c >= 0xC2 && c <= 0xDF) {
        if (left < 2 || (s[1] & 0xC0) != 0x80)
            return 0;
        *cp = (int32_t)(c & 0x1F) << 6 | (s[1] & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (left < 3 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
            return 0;
        *cp = (int32_t)(c & 0x0F) << 12 | (int32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (left < 4 || s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        *cp = (int32_t)(c & 0x07) << 18 | (int32_t)(s[1] & 0x3F) << 12 |
              (int32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

#endif
