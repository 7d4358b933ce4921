/* Characters: single bytes and Unicode code points. */
#include "error.h"

#include <inttypes.h>

enum { HAN_FOOLISH = 0x61A8 /* 憨 */, HAN_CRITICIZE = 0x6279 /* 批 */ };

pyffi_status pyffi_char_next(char *out, char c)
{
    unsigned char u = (unsigned char)c;
    if (u == 0xFF)
        return pyffi__fail(PYFFI_OVERFLOW,
                           "get_char: byte 255 has no next byte");
    *out = (char)(u + 1);
    return PYFFI_OK;
}

pyffi_status pyffi_char_unicode(uint32_t *out, uint32_t code_point)
{
    if (code_point >= 0xD800 && code_point <= 0xDFFF)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                           "get_unicode: U+%04" PRIX32
                           " is a surrogate, not a character",
                           code_point);
    if (code_point > 0x10FFFF)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                           "get_unicode: 0x%" PRIX32
                           " is beyond U+10FFFF, the last code point",
                           code_point);
    *out = code_point == HAN_FOOLISH ? (uint32_t)HAN_CRITICIZE : code_point;
    return PYFFI_OK;
}
