/* Sorting fixed-width numbers in place: LSD radix sort on unsigned keys.
 *
 * Every type becomes an unsigned key whose order is the type's order:
 * signed integers flip their sign bit (folded into the digit extraction),
 * floats are rewritten as keys and back (negative: all bits flipped;
 * positive: sign bit set), after NaNs are moved to the end as numpy puts
 * them. One pass counts all digits at once; a digit that is the same for
 * every element is skipped. Short arrays use insertion sort. */
#include "error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

enum {
    SMALL = 48,        /* below this, insertion sort */
    DIGIT_BITS = 11,   /* 3 passes for 32-bit keys, 6 for 64-bit */
    BUCKETS = 1 << DIGIT_BITS
};

/* radix_u32 / radix_u64: sort a[0..n) of keys XOR @p flip, using tmp[0..n)
 * and count[PASSES][BUCKETS] (zeroed). Scattered stores dominate the cost
 * on large arrays, so wider digits (fewer passes) win over cache-sized
 * 8-bit ones, measured on this project's machines. */
#define DEFINE_RADIX(NAME, T, BITS)                                             \
    enum { NAME##_PASSES = (BITS + DIGIT_BITS - 1) / DIGIT_BITS };              \
    static void NAME(T *a, T *tmp, size_t n, T flip, size_t (*count)[BUCKETS])  \
    {                                                                           \
        const T mask = BUCKETS - 1;                                             \
        for (size_t i = 0; i < n; i++) {                                        \
            T k = a[i] ^ flip;                                                  \
            for (unsigned d = 0; d < NAME##_PASSES; d++)                        \
                count[d][(k >> (DIGIT_BITS * d)) & mask]++;                     \
        }                                                                       \
        T *src = a, *dst = tmp;                                                 \
        T first = a[0] ^ flip;                                                  \
        for (unsigned d = 0; d < NAME##_PASSES; d++) {                          \
            unsigned shift = DIGIT_BITS * d;                                    \
            if (count[d][(first >> shift) & mask] == n)                         \
                continue; /* one value of this digit: already in order */      \
            size_t sum = 0;                                                     \
            for (unsigned v = 0; v < BUCKETS; v++) { /* counts become offsets */ \
                size_t c = count[d][v];                                         \
                count[d][v] = sum;                                              \
                sum += c;                                                       \
            }                                                                   \
            size_t *offset = count[d];                                          \
            for (size_t i = 0; i < n; i++) {                                    \
                T x = src[i];                                                   \
                dst[offset[((x ^ flip) >> shift) & mask]++] = x;                \
            }                                                                   \
            T *t = src;                                                         \
            src = dst;                                                          \
            dst = t;                                                            \
        }                                                                       \
        if (src != a)                                                           \
            memcpy(a, src, n * sizeof(T));                                      \
    }                                                                           \
    static void NAME##_small(T *a, size_t n, T flip)                            \
    {                                                                           \
        for (size_t i = 1; i < n; i++) {                                        \
            T x = a[i];                                                         \
            size_t j = i;                                                       \
            for (; j > 0 && (a[j - 1] ^ flip) > (x ^ flip); j--)                \
                a[j] = a[j - 1];                                                \
            a[j] = x;                                                           \
        }                                                                       \
    }                                                                           \
    static pyffi_status NAME##_sort(T *a, size_t n, T flip, const char *func)   \
    {                                                                           \
        if (n < SMALL) {                                                        \
            NAME##_small(a, n, flip);                                           \
            return PYFFI_OK;                                                    \
        }                                                                       \
        const size_t counts = sizeof(size_t[NAME##_PASSES][BUCKETS]);           \
        if (n > (SIZE_MAX - counts) / sizeof(T))                                \
            return pyffi__fail(PYFFI_NOMEM, "%s: %zu elements cannot be buffered", \
                               func, n);                                        \
        /* One block: the histograms, then the scratch array. */               \
        void *block = calloc(1, counts + n * sizeof(T));                        \
        if (block == NULL)                                                      \
            return pyffi__fail(PYFFI_NOMEM,                                     \
                               "%s: out of memory for a %zu-element buffer",    \
                               func, n);                                        \
        NAME(a, (T *)(void *)((char *)block + counts), n, flip,                 \
             (size_t(*)[BUCKETS])block);                                        \
        free(block);                                                            \
        return PYFFI_OK;                                                        \
    }

DEFINE_RADIX(radix_u32, uint32_t, 32)
DEFINE_RADIX(radix_u64, uint64_t, 64)

#define CHECK_ARRAY(func)                                                       \
    do {                                                                        \
        if (xs == NULL && n != 0)                                               \
            return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: NULL array of %zu elements", \
                               func, n);                                        \
    } while (0)

pyffi_status pyffi_sort_i32(int32_t *xs, size_t n)
{
    CHECK_ARRAY("sort_i32");
    return radix_u32_sort((uint32_t *)xs, n, UINT32_C(1) << 31, "sort_i32");
}

pyffi_status pyffi_sort_u32(uint32_t *xs, size_t n)
{
    CHECK_ARRAY("sort_u32");
    return radix_u32_sort(xs, n, 0, "sort_u32");
}

pyffi_status pyffi_sort_i64(int64_t *xs, size_t n)
{
    CHECK_ARRAY("sort_i64");
    return radix_u64_sort((uint64_t *)xs, n, UINT64_C(1) << 63, "sort_i64");
}

pyffi_status pyffi_sort_u64(uint64_t *xs, size_t n)
{
    CHECK_ARRAY("sort_u64");
    return radix_u64_sort(xs, n, 0, "sort_u64");
}

/* Floats: NaNs to the end (their bits untouched), the rest through keys.
 * The array is only read and written through memcpy'd bit patterns, so no
 * float object is ever accessed as an integer. */
#define DEFINE_FLOAT_SORT(NAME, F, U, SIGN, RADIX, LABEL)                       \
    pyffi_status NAME(F *xs, size_t n)                                          \
    {                                                                           \
        CHECK_ARRAY(LABEL);                                                     \
        size_t m = n; /* xs[m..n) are the NaNs */                               \
        for (size_t i = 0; i < m;) {                                            \
            if (isnan(xs[i])) {                                                 \
                F t = xs[i];                                                    \
                xs[i] = xs[--m];                                                \
                xs[m] = t;                                                      \
            } else {                                                            \
                i++;                                                            \
            }                                                                   \
        }                                                                       \
        U *keys = (U *)(void *)xs;                                              \
        for (size_t i = 0; i < m; i++) {                                        \
            U u;                                                                \
            memcpy(&u, &xs[i], sizeof u);                                       \
            u = (u & (SIGN)) ? ~u : (u | (SIGN));                                   \
            memcpy(&keys[i], &u, sizeof u);                                     \
        }                                                                       \
        pyffi_status status = RADIX(keys, m, 0, LABEL);                         \
        for (size_t i = 0; i < m; i++) {                                        \
            U u;                                                                \
            memcpy(&u, &keys[i], sizeof u);                                     \
            u = (u & (SIGN)) ? (u & ~(SIGN)) : ~u;                                  \
            memcpy(&xs[i], &u, sizeof u);                                       \
        }                                                                       \
        return status;                                                          \
    }

DEFINE_FLOAT_SORT(pyffi_sort_f32, float, uint32_t, UINT32_C(1) << 31, radix_u32_sort, "sort_f32")
DEFINE_FLOAT_SORT(pyffi_sort_f64, double, uint64_t, UINT64_C(1) << 63, radix_u64_sort, "sort_f64")
