/* Text: case mapping of UTF-8 with explicit lengths. */
#include "pyffi.h"
#include "check.h"

#include <stdlib.h>

static void check_map(pyffi_status (*f)(char **, size_t *, const char *, size_t, unsigned),
                      const char *in, size_t len, const char *want, size_t want_len)
{
    char *out = NULL;
    size_t out_len = 0;
    CHECK(f(&out, &out_len, in, len, PYFFI_UTF8_STRICT) == PYFFI_OK);
    CHECK(out != NULL && out_len == want_len && memcmp(out, want, want_len) == 0);
    CHECK(out != NULL && out[out_len] == '\0');
    pyffi_string_free(out);
}

int main(void)
{
    check_map(pyffi_utf8_to_uppercase, "stra\xc3\x9f" "e", 7, "STRASSE", 7);
    check_map(pyffi_utf8_to_uppercase, "a\0b", 3, "A\0B", 3);
    check_map(pyffi_utf8_to_uppercase, "", 0, "", 0);
    check_map(pyffi_utf8_to_uppercase, NULL, 0, "", 0);
    /* Final sigma: "ΑΣ Σ" -> "ας σ" */
    check_map(pyffi_utf8_to_lowercase, "\xce\x91\xce\xa3 \xce\xa3", 7,
              "\xce\xb1\xcf\x82 \xcf\x83", 7);
    /* U+0130 -> "i" U+0307 */
    check_map(pyffi_utf8_to_lowercase, "\xc4\xb0", 2, "i\xcc\x87", 3);
    /* Unicode 16's new capital of U+019B, whatever the system's utf8proc knows */
    CHECK_STR(pyffi_unicode_version(), "17.0.0");
    check_map(pyffi_utf8_to_uppercase, "\xc6\x9b", 2, "\xea\x9f\x9c", 3);
    check_map(pyffi_utf8_to_lowercase, "\xea\x9f\x9c", 3, "\xc6\x9b", 2);

    char *out = (char *)"untouched";
    size_t n = 99;
    CHECK(pyffi_utf8_to_uppercase(&out, &n, "ok\xe4\xb8", 4, 0) == PYFFI_UTF8);
    CHECK_STR(pyffi_error_last(), "to_uppercase: invalid UTF-8 at byte offset 2");
    CHECK_STR(out, "untouched");
    CHECK(n == 99);
    /* An encoded surrogate: refused when strict, copied when allowed. */
    CHECK(pyffi_utf8_to_lowercase(&out, &n, "A\xed\xa0\x80", 4, 0) == PYFFI_UTF8);
    CHECK_STR(pyffi_error_last(), "to_lowercase: invalid UTF-8 at byte offset 1");
    CHECK(pyffi_utf8_to_lowercase(&out, &n, "A\xed\xa0\x80", 4,
                                  PYFFI_UTF8_ALLOW_SURROGATES) == PYFFI_OK);
    CHECK(n == 4 && memcmp(out, "a\xed\xa0\x80", 4) == 0);
    pyffi_string_free(out);
    CHECK(pyffi_utf8_to_lowercase(&out, &n, "A", 1, 4) == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "to_lowercase: unknown flags 0x4");
    CHECK(pyffi_utf8_to_lowercase(NULL, &n, "A", 1, 0) == PYFFI_INVALID_ARGUMENT);
    CHECK(pyffi_utf8_to_lowercase(&out, &n, NULL, 1, 0) == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "to_lowercase: NULL text");
    return CHECK_DONE();
}
