/* Arrays: radix sorts of every type, C-allocated arrays, entries by key. */
#include "pyffi.h"
#include "check.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static uint64_t state = 88172645463325252u;
static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

#define CHECK_SORTED(xs, n)                                                   \
    do {                                                                      \
        int sorted_ = 1;                                                      \
        for (size_t i_ = 1; i_ < (n); i_++)                                   \
            if ((xs)[i_ - 1] > (xs)[i_])                                      \
                sorted_ = 0;                                                  \
        CHECK(sorted_);                                                       \
    } while (0)

int main(void)
{
    static const size_t sizes[] = {0, 1, 2, 47, 48, 1000, 100000};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        int32_t *a = malloc((n + 1) * sizeof *a);
        int64_t *b = malloc((n + 1) * sizeof *b);
        uint32_t *c = malloc((n + 1) * sizeof *c);
        uint64_t *d = malloc((n + 1) * sizeof *d);
        double *e = malloc((n + 1) * sizeof *e);
        float *f = malloc((n + 1) * sizeof *f);
        int64_t sum_before = 0, sum_after = 0;
        for (size_t i = 0; i < n; i++) {
            uint64_t r = next();
            a[i] = (int32_t)r;
            b[i] = (int64_t)r;
            c[i] = (uint32_t)r;
            d[i] = r;
            e[i] = i % 9 == 0 ? NAN : (double)(int64_t)r / 1e6;
            f[i] = i % 7 == 0 ? -NAN : (float)(int32_t)r;
            sum_before += a[i];
        }
        CHECK(pyffi_sort_i32(a, n) == PYFFI_OK);
        CHECK(pyffi_sort_i64(b, n) == PYFFI_OK);
        CHECK(pyffi_sort_u32(c, n) == PYFFI_OK);
        CHECK(pyffi_sort_u64(d, n) == PYFFI_OK);
        CHECK(pyffi_sort_f64(e, n) == PYFFI_OK);
        CHECK(pyffi_sort_f32(f, n) == PYFFI_OK);
        for (size_t i = 0; i < n; i++)
            sum_after += a[i];
        CHECK(sum_before == sum_after); /* a permutation, not a rewrite */
        CHECK_SORTED(a, n);
        CHECK_SORTED(b, n);
        CHECK_SORTED(c, n);
        CHECK_SORTED(d, n);
        size_t nan_e = (n + 8) / 9, nan_f = (n + 6) / 7;
        CHECK_SORTED(e, n - nan_e);
        CHECK_SORTED(f, n - nan_f);
        for (size_t i = n - nan_e; i < n; i++)
            CHECK(isnan(e[i]));
        for (size_t i = n - nan_f; i < n; i++)
            CHECK(isnan(f[i]));
        free(a), free(b), free(c), free(d), free(e), free(f);
    }
    CHECK(pyffi_sort_i32(NULL, 0) == PYFFI_OK);
    CHECK(pyffi_sort_f64(NULL, 3) == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "sort_f64: NULL array of 3 elements");

    int64_t *xs = NULL;
    size_t n = 0;
    CHECK(pyffi_create_array(&xs, &n, 3, 50) == PYFFI_OK && n == 16);
    CHECK(xs[0] == 3 && xs[15] == 48);
    pyffi_array_free(xs);
    CHECK(pyffi_create_array(&xs, &n, -5, 4) == PYFFI_OK && n == 0 && xs != NULL);
    pyffi_array_free(xs);
    CHECK(pyffi_create_array(&xs, &n, INT64_MIN, INT64_MAX) == PYFFI_OK && n == 0);
    pyffi_array_free(xs);
    xs = NULL;
    CHECK(pyffi_create_array(&xs, &n, 0, 50) == PYFFI_DIVISION_BY_ZERO && xs == NULL);
    CHECK_STR(pyffi_error_last(), "create_array: divisor is 0");
    CHECK(pyffi_create_array(NULL, &n, 1, 5) == PYFFI_INVALID_ARGUMENT);
    pyffi_array_free(NULL);

    pyffi_entry entries[] = {{"b", 1, 2}, {"ab", 2, 1}, {"a", 1, 0}, {"", 0, 9}, {NULL, 0, 5}};
    CHECK(pyffi_entries_sort(entries, 5) == PYFFI_OK);
    CHECK(entries[0].key_len == 0 && entries[1].key_len == 0);
    CHECK(entries[2].value == 0 && entries[3].value == 1 && entries[4].value == 2);
    pyffi_entry bad[] = {{"b", 1, 2}, {NULL, 3, 1}};
    CHECK(pyffi_entries_sort(bad, 2) == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "entries_sort: entry 1 has a NULL key of 3 bytes");
    CHECK(bad[0].value == 2);
    CHECK(pyffi_entries_sort(NULL, 1) == PYFFI_INVALID_ARGUMENT);
    return CHECK_DONE();
}
