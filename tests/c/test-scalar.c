/* Numbers, characters, the status table and per-thread error messages. */
#include "pyffi.h"
#include "check.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>

static void test_add(void)
{
    int32_t r = 7;
    CHECK(pyffi_scalar_add(&r, 11, 22) == PYFFI_OK && r == 33);
    CHECK(pyffi_scalar_add(&r, INT32_MIN, INT32_MAX) == PYFFI_OK && r == -1);
    r = 7;
    CHECK(pyffi_scalar_add(&r, INT32_MAX, 1) == PYFFI_OVERFLOW);
    CHECK(r == 7); /* out untouched on failure */
    CHECK_STR(pyffi_error_last(), "add: 2147483647 + 1 does not fit int32_t");
    CHECK(pyffi_scalar_add(&r, INT32_MIN, -1) == PYFFI_OVERFLOW);
    CHECK(pyffi_scalar_add_one(&r, 41) == PYFFI_OK && r == 42);
    CHECK(pyffi_scalar_add_one(&r, INT32_MAX) == PYFFI_OVERFLOW);
}

static void test_widths(void)
{
    uint32_t u;
    CHECK(pyffi_scalar_add_one_u32(&u, 123) == PYFFI_OK && u == 124);
    CHECK(pyffi_scalar_add_one_u32(&u, UINT32_MAX) == PYFFI_OVERFLOW);
    intptr_t i;
    CHECK(pyffi_scalar_add_one_isize(&i, -1) == PYFFI_OK && i == 0);
    CHECK(pyffi_scalar_add_one_isize(&i, INTPTR_MAX) == PYFFI_OVERFLOW);
    float f;
    CHECK(pyffi_scalar_add_one_f32(&f, 3.14) == PYFFI_OK && f == 3.14f + 1.0f);
    CHECK(pyffi_scalar_add_one_f32(&f, 1e39) == PYFFI_OVERFLOW);
    CHECK(pyffi_scalar_add_one_f32(&f, -1e39) == PYFFI_OVERFLOW);
    CHECK(pyffi_scalar_add_one_f32(&f, INFINITY) == PYFFI_OK && isinf(f));
    CHECK(pyffi_scalar_add_one_f32(&f, NAN) == PYFFI_OK && isnan(f));
    CHECK(pyffi_scalar_add_one_f32(&f, FLT_MAX) == PYFFI_OK && f == FLT_MAX);
    CHECK(pyffi_scalar_add_one_f64(3.14) == 3.14 + 1.0);
    double d;
    CHECK(pyffi_scalar_sqrt(&d, 100) == PYFFI_OK && d == 10.0);
    CHECK(pyffi_scalar_sqrt(&d, -4) == PYFFI_DOMAIN);
    CHECK_STR(pyffi_error_last(), "get_square_root: -4 is negative");
    CHECK(pyffi_scalar_divide(&d, 7, 2) == PYFFI_OK && d == 3.5);
    CHECK(pyffi_scalar_divide(&d, 1, 0.0) == PYFFI_DIVISION_BY_ZERO);
    CHECK(pyffi_scalar_divide(&d, 1, -0.0) == PYFFI_DIVISION_BY_ZERO);
    CHECK_STR(pyffi_error_last(), "Division by zero");
    CHECK(pyffi_scalar_not(true) == false && pyffi_scalar_not(false) == true);
}

static void test_sum_string(void)
{
    char *s = NULL;
    size_t n = 0;
    CHECK(pyffi_scalar_sum_string(&s, &n, 5, 3) == PYFFI_OK);
    CHECK(s != NULL && n == 1);
    if (s)
        CHECK_STR(s, "8");
    pyffi_string_free(s);
    CHECK(pyffi_scalar_sum_string(&s, NULL, SIZE_MAX - 1, 1) == PYFFI_OK);
    char want[32];
    snprintf(want, sizeof want, "%zu", (size_t)SIZE_MAX);
    CHECK_STR(s, want);
    pyffi_string_free(s);
    s = NULL;
    CHECK(pyffi_scalar_sum_string(&s, &n, SIZE_MAX, 1) == PYFFI_OVERFLOW);
    CHECK(s == NULL);
    pyffi_string_free(NULL); /* a no-op */
}

static void test_chars(void)
{
    char c;
    CHECK(pyffi_char_next(&c, 'a') == PYFFI_OK && c == 'b');
    CHECK(pyffi_char_next(&c, (char)0xFE) == PYFFI_OK && (unsigned char)c == 0xFF);
    CHECK(pyffi_char_next(&c, (char)0xFF) == PYFFI_OVERFLOW);
    uint32_t cp;
    CHECK(pyffi_char_unicode(&cp, 0x61A8) == PYFFI_OK && cp == 0x6279);
    CHECK(pyffi_char_unicode(&cp, 0x563F) == PYFFI_OK && cp == 0x563F);
    CHECK(pyffi_char_unicode(&cp, 0xD800) == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "get_unicode: U+D800 is a surrogate, not a character");
    CHECK(pyffi_char_unicode(&cp, 0x110000) == PYFFI_INVALID_ARGUMENT);
}

static void test_status_table(void)
{
    CHECK_STR(pyffi_status_name(PYFFI_OK), "PYFFI_OK");
    CHECK_STR(pyffi_status_name(PYFFI_DIVISION_BY_ZERO), "PYFFI_DIVISION_BY_ZERO");
    CHECK_STR(pyffi_status_message(PYFFI_NOMEM), "out of memory");
    CHECK_STR(pyffi_status_name((pyffi_status)9999), "PYFFI_UNKNOWN");
    CHECK_STR(pyffi_status_message((pyffi_status)-1), "unknown status");
    CHECK_STR(pyffi_version_string(), PYFFI_EXPECTED_VERSION);
}

/* Each thread fails with its own message and must read back its own. */
static void *fail_in_thread(void *arg)
{
    int32_t base = (int32_t)(intptr_t)arg;
    int32_t r;
    char want[64];
    snprintf(want, sizeof want, "add: %d + %d does not fit int32_t", INT32_MAX, base);
    for (int i = 0; i < 10000; i++) {
        if (pyffi_scalar_add(&r, INT32_MAX, base) != PYFFI_OVERFLOW ||
            strcmp(pyffi_error_last(), want) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_no_error_yet(void)
{
    CHECK_STR(pyffi_error_last(), "no error");
}

int main(void)
{
    test_no_error_yet(); /* first: nothing has failed on this thread yet */
    test_add();
    test_widths();
    test_sum_string();
    test_chars();
    test_status_table();

    pthread_t threads[4];
    for (intptr_t t = 0; t < 4; t++)
        CHECK(pthread_create(&threads[t], NULL, fail_in_thread, (void *)(t + 1)) == 0);
    for (int t = 0; t < 4; t++) {
        void *ret = (void *)1;
        CHECK(pthread_join(threads[t], &ret) == 0);
        CHECK(ret == NULL);
    }
    return CHECK_DONE();
}
