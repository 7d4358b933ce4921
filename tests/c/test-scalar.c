/* Numbers, characters, the status table and per-thread error messages. */
#include "pyffi.h"
#include "check.h"

#include <float.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>

static void test_add(void)
{
    pyffi_i32_result r = pyffi_scalar_add(11, 22);
    CHECK(r.status == PYFFI_OK && r.value == 33);
    r = pyffi_scalar_add(INT32_MIN, INT32_MAX);
    CHECK(r.status == PYFFI_OK && r.value == -1);
    CHECK(pyffi_scalar_add(INT32_MAX, 1).status == PYFFI_OVERFLOW);
    CHECK_STR(pyffi_error_last(), "add: 2147483647 + 1 does not fit int32_t");
    CHECK(pyffi_scalar_add(INT32_MIN, -1).status == PYFFI_OVERFLOW);
    r = pyffi_scalar_add_one(41);
    CHECK(r.status == PYFFI_OK && r.value == 42);
    CHECK(pyffi_scalar_add_one(INT32_MAX).status == PYFFI_OVERFLOW);
}

static void test_widths(void)
{
    pyffi_u32_result u = pyffi_scalar_add_one_u32(123);
    CHECK(u.status == PYFFI_OK && u.value == 124);
    CHECK(pyffi_scalar_add_one_u32(UINT32_MAX).status == PYFFI_OVERFLOW);
    pyffi_isize_result i = pyffi_scalar_add_one_isize(-1);
    CHECK(i.status == PYFFI_OK && i.value == 0);
    CHECK(pyffi_scalar_add_one_isize(INTPTR_MAX).status == PYFFI_OVERFLOW);
    pyffi_f32_result f = pyffi_scalar_add_one_f32(3.14);
    CHECK(f.status == PYFFI_OK && f.value == 3.14f + 1.0f);
    CHECK(pyffi_scalar_add_one_f32(1e39).status == PYFFI_OVERFLOW);
    CHECK(pyffi_scalar_add_one_f32(-1e39).status == PYFFI_OVERFLOW);
    f = pyffi_scalar_add_one_f32(INFINITY);
    CHECK(f.status == PYFFI_OK && isinf(f.value));
    f = pyffi_scalar_add_one_f32(NAN);
    CHECK(f.status == PYFFI_OK && isnan(f.value));
    f = pyffi_scalar_add_one_f32(FLT_MAX);
    CHECK(f.status == PYFFI_OK && f.value == FLT_MAX);
    CHECK(pyffi_scalar_add_one_f64(3.14) == 3.14 + 1.0);
    pyffi_f64_result d = pyffi_scalar_sqrt(100);
    CHECK(d.status == PYFFI_OK && d.value == 10.0);
    CHECK(pyffi_scalar_sqrt(-4).status == PYFFI_DOMAIN);
    CHECK_STR(pyffi_error_last(), "get_square_root: -4 is negative");
    d = pyffi_scalar_divide(7, 2);
    CHECK(d.status == PYFFI_OK && d.value == 3.5);
    CHECK(pyffi_scalar_divide(1, 0.0).status == PYFFI_DIVISION_BY_ZERO);
    CHECK(pyffi_scalar_divide(1, -0.0).status == PYFFI_DIVISION_BY_ZERO);
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
    pyffi_char_result c = pyffi_char_next('a');
    CHECK(c.status == PYFFI_OK && c.value == 'b');
    c = pyffi_char_next((char)0xFE);
    CHECK(c.status == PYFFI_OK && (unsigned char)c.value == 0xFF);
    CHECK(pyffi_char_next((char)0xFF).status == PYFFI_OVERFLOW);
    pyffi_u32_result cp = pyffi_char_unicode(0x61A8);
    CHECK(cp.status == PYFFI_OK && cp.value == 0x6279);
    cp = pyffi_char_unicode(0x563F);
    CHECK(cp.status == PYFFI_OK && cp.value == 0x563F);
    CHECK(pyffi_char_unicode(0xD800).status == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "get_unicode: U+D800 is a surrogate, not a character");
    CHECK(pyffi_char_unicode(0x110000).status == PYFFI_INVALID_ARGUMENT);
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
    char want[64];
    snprintf(want, sizeof want, "add: %d + %d does not fit int32_t", INT32_MAX, base);
    for (int i = 0; i < 10000; i++) {
        if (pyffi_scalar_add(INT32_MAX, base).status != PYFFI_OVERFLOW ||
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
