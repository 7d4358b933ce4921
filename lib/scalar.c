/* Numbers: checked arithmetic on C's fixed-size types. */
#include "pyffi.h"
#include "common/error.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

pyffi_i32_result pyffi_scalar_add(int32_t a, int32_t b)
{
    pyffi_i32_result r = {PYFFI_OK, 0};
    if (__builtin_add_overflow(a, b, &r.value))
        r.status = pyffi__fail(PYFFI_OVERFLOW,
                               "add: %" PRId32 " + %" PRId32 " does not fit int32_t",
                               a, b);
    return r;
}

pyffi_i32_result pyffi_scalar_add_one(int32_t x)
{
    if (x == INT32_MAX)
        return (pyffi_i32_result){
            pyffi__fail(PYFFI_OVERFLOW, "add_one: %" PRId32 " + 1 does not fit int32_t", x), 0};
    return (pyffi_i32_result){PYFFI_OK, x + 1};
}

pyffi_u32_result pyffi_scalar_add_one_u32(uint32_t x)
{
    if (x == UINT32_MAX)
        return (pyffi_u32_result){
            pyffi__fail(PYFFI_OVERFLOW, "add_u32: %" PRIu32 " + 1 does not fit uint32_t", x), 0};
    return (pyffi_u32_result){PYFFI_OK, x + 1};
}

pyffi_isize_result pyffi_scalar_add_one_isize(intptr_t x)
{
    if (x == INTPTR_MAX)
        return (pyffi_isize_result){
            pyffi__fail(PYFFI_OVERFLOW, "add_isize: %" PRIdPTR " + 1 does not fit intptr_t", x), 0};
    return (pyffi_isize_result){PYFFI_OK, x + 1};
}

pyffi_f32_result pyffi_scalar_add_one_f32(double x)
{
    if (isfinite(x) && fabs(x) > FLT_MAX)
        return (pyffi_f32_result){
            pyffi__fail(PYFFI_OVERFLOW, "add_f32: %.17g does not fit float", x), 0.0f};
    float r = (float)x + 1.0f;
    if (isinf(r) && !isinf(x))
        return (pyffi_f32_result){
            pyffi__fail(PYFFI_OVERFLOW, "add_f32: %.9g + 1 does not fit float", x), 0.0f};
    return (pyffi_f32_result){PYFFI_OK, r};
}

double pyffi_scalar_add_one_f64(double x)
{
    return x + 1.0;
}

pyffi_f64_result pyffi_scalar_sqrt(int32_t v)
{
    if (v < 0)
        return (pyffi_f64_result){
            pyffi__fail(PYFFI_DOMAIN, "get_square_root: %" PRId32 " is negative", v), 0.0};
    return (pyffi_f64_result){PYFFI_OK, sqrt((double)v)};
}

pyffi_f64_result pyffi_scalar_divide(double a, double b)
{
    if (b == 0.0)
        return (pyffi_f64_result){pyffi__fail(PYFFI_DIVISION_BY_ZERO, "Division by zero"), 0.0};
    return (pyffi_f64_result){PYFFI_OK, a / b};
}

bool pyffi_scalar_not(bool b)
{
    return !b;
}

pyffi_status pyffi_scalar_sum_string(char **out, size_t *out_len, size_t a,
                                     size_t b)
{
    size_t sum;
    if (__builtin_add_overflow(a, b, &sum))
        return pyffi__fail(PYFFI_OVERFLOW,
                           "sum_as_string: %zu + %zu does not fit size_t", a, b);
    /* Digits are produced backwards into a buffer big enough for any size_t. */
    char digits[3 * sizeof(size_t) + 1];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + sum % 10);
        sum /= 10;
    } while (sum != 0);
    char *s = malloc(n + 1);
    if (s == NULL)
        return pyffi__fail(PYFFI_NOMEM,
                           "sum_as_string: out of memory allocating %zu bytes",
                           n + 1);
    for (size_t i = 0; i < n; i++)
        s[i] = digits[n - 1 - i];
    s[n] = '\0';
    *out = s;
    if (out_len != NULL)
        *out_len = n;
    return PYFFI_OK;
}
