/* Arrays: radix sorts of every type, C-allocated arrays, entries by key. */
#include "pyffi.h"
#include "../../lib/sort_simd.h"
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

static int compare_flipped(const void *x, const void *y)
{
    uint32_t a = *(const uint32_t *)x ^ UINT32_C(0x80000000), b = *(const uint32_t *)y ^ UINT32_C(0x80000000);
    return (a > b) - (a < b);
}

/* Keys of one kind: 0 all bits, 1 narrow, 2 equal, 3 two values, 4 one
 * outlier among equal keys, 5 a shared top, 6 descending. */
static uint32_t key_of(int kind, size_t i, size_t n)
{
    uint32_t r = (uint32_t)next();
    switch (kind) {
    case 0: return r;
    case 1: return r % 1000;
    case 2: return 77;
    case 3: return r & 1 ? 5 : UINT32_C(0x80000005);
    case 4: return i == n / 2 ? UINT32_C(0x7FFFFFFF) : 1234567;
    case 5: return UINT32_C(0xABC00000) | (r >> 12);
    default: return (uint32_t)(n - i) * 2654435761u;
    }
}

/* The 32-bit sort with networks (where the CPU has them) and without, on
 * keys of every kind: both give what qsort gives, as signed keys. */
static void test_sort32_paths(void)
{
    static const size_t sizes[] = {2, 16, 17, 255, 256, 257, 600, 5000, 70000, (1 << 18) + 7};
    const bool nets = pyffi__sort32_net_ok();
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint32_t *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
        CHECK(want != NULL && got != NULL);
        if (want == NULL || got == NULL) {
            free(want), free(got);
            return;
        }
        for (int kind = 0; kind < 7; kind++) {
            for (size_t i = 0; i < n; i++)
                want[i] = key_of(kind, i, n);
            for (int net = 0; net <= (int)nets; net++) {
                memcpy(got, want, n * sizeof *got);
                CHECK(pyffi__sort32(got, n, UINT32_C(0x80000000), net, "test") == PYFFI_OK);
                if (net == 0)
                    qsort(want, n, sizeof *want, compare_flipped);
                if (memcmp(got, want, n * sizeof *got) != 0) {
                    fprintf(stderr, "n=%zu kind=%d net=%d: not what qsort gives\n", n, kind, net);
                    CHECK(0);
                }
            }
        }
        free(want), free(got);
    }
}

static int compare_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return (a > b) - (a < b);
}

static int compare_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return (a > b) - (a < b);
}

/* 64-bit keys from 2^16 on: one MSD pass, then buckets LSD-sorted in
 * cache; below, LSD passes over the whole array. Every kind of keys, as
 * signed and as unsigned, gives what qsort gives. */
static void test_sort64_paths(void)
{
    static const size_t sizes[] = {1000, 65535, 65536, 100003, (1 << 20) + 3};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint64_t *want = malloc(n * sizeof *want), *got = malloc(n * sizeof *got);
        CHECK(want != NULL && got != NULL);
        if (want == NULL || got == NULL) {
            free(want), free(got);
            return;
        }
        for (int kind = 0; kind < 9; kind++) {
            for (size_t i = 0; i < n; i++) {
                uint64_t hi = kind == 0 ? next() : 0; /* kind 0: all 64 bits vary */
                /* 7: a shared top; 8: one outlier above keys of 40 bits (one
                 * bucket of nearly all, split again as floats' exponents are) */
                want[i] = kind == 7   ? (next() >> 20) | UINT64_C(0xFFF0000000000000)
                          : kind == 8 ? (i == n / 3 ? UINT64_MAX - 5 : next() >> 24)
                                      : hi ^ ((uint64_t)key_of(kind, i, n) << 17);
            }
            for (int is_signed = 0; is_signed < 2; is_signed++) {
                memcpy(got, want, n * sizeof *got);
                CHECK((is_signed ? pyffi_sort_i64((int64_t *)got, n) : pyffi_sort_u64(got, n)) ==
                      PYFFI_OK);
                uint64_t *sorted = malloc(n * sizeof *sorted);
                CHECK(sorted != NULL);
                if (sorted == NULL)
                    break;
                memcpy(sorted, want, n * sizeof *sorted);
                qsort(sorted, n, sizeof *sorted, is_signed ? compare_i64 : compare_u64);
                if (memcmp(got, sorted, n * sizeof *got) != 0) {
                    fprintf(stderr, "n=%zu kind=%d signed=%d: not what qsort gives\n", n, kind,
                            is_signed);
                    CHECK(0);
                }
                free(sorted);
            }
        }
        free(want), free(got);
    }
}

/* A key's part of an order-free digest of keys (their sum): a permutation
 * keeps the digest, a lost key (or one written twice) changes it. */
static uint64_t mixed(uint32_t key)
{
    uint64_t z = key + UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Arrays of 2^23 keys and more are sorted with a scratch array of half
 * their size, in halves (keys that fall into few buckets: a whole one):
 * each kind of keys, at starts of every alignment within a cache line
 * (the front half's buckets are streamed out in whole lines). */
static void test_sort32_halves(void)
{
    const size_t n = ((size_t)1 << 23) + 5;
    uint32_t *block = malloc((n + 16) * sizeof *block);
    CHECK(block != NULL);
    if (block == NULL)
        return;
    static const int kinds[] = {0, 1, 3, 5, 6, 7};
    static const size_t starts[] = {0, 5, 11, 15};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        for (size_t j = 0; j < sizeof starts / sizeof starts[0]; j++) {
            uint32_t *xs = block + starts[j];
            uint64_t before = 0, after = 0;
            for (size_t i = 0; i < n; i++) {
                /* kind 7: the first keys vary in fewer bits than the rest */
                xs[i] = kinds[k] != 7 ? key_of(kinds[k], i, n)
                        : i < 5000    ? (uint32_t)next() & 0xFFFF
                                      : (uint32_t)next();
                before += mixed(xs[i]);
            }
            CHECK(pyffi__sort32(xs, n, UINT32_C(0x80000000), pyffi__sort32_net_ok(), "test") ==
                  PYFFI_OK);
            bool sorted = true;
            for (size_t i = 0; i < n; i++) {
                after += mixed(xs[i]);
                sorted = sorted && (i == 0 || (int32_t)xs[i - 1] <= (int32_t)xs[i]);
            }
            if (!sorted || after != before)
                fprintf(stderr, "halves: kind %d, start %zu: not the keys sorted\n", kinds[k],
                        starts[j]);
            CHECK(sorted && after == before);
        }
    }
    free(block);
}

/* The buffered scatter writes every key where the plain one does, and
 * nothing outside its places: two calls fill one array, as threads do. */
static void check_scatter32(void (*scatter)(uint32_t *, const uint32_t *, size_t, uint32_t,
                                            unsigned, uint32_t, size_t *, pyffi__line *, size_t *))
{
    enum { M = 1000, DIGITS = 16, FROM = 3, SLACK = 40 };
    static uint32_t src[M], plain[FROM + M + SLACK];
    static pyffi__line lines[DIGITS];
    static size_t first[DIGITS];
    _Alignas(64) static uint32_t dst[FROM + M + SLACK];
    for (unsigned skew = 0; skew < 2; skew++) { /* skewed: runs of 40 keys of one digit */
        size_t count[DIGITS] = {0}, offset[DIGITS], again[DIGITS];
        for (size_t i = 0; i < M; i++) {
            src[i] = skew && i % 100 < 40 ? 0x50000000u ^ (uint32_t)i : (uint32_t)next();
            count[(src[i] ^ 7) >> 28]++;
        }
        for (size_t v = 0, sum = FROM; v < DIGITS; sum += count[v++])
            offset[v] = sum;
        for (size_t i = 0; i < sizeof dst / sizeof dst[0]; i++)
            dst[i] = plain[i] = 0xDEADBEEF;
        memcpy(again, offset, sizeof again);
        for (size_t i = 0; i < M; i++)
            plain[again[(src[i] ^ 7) >> 28]++] = src[i];
        /* the first 601 keys, then the rest, each from the offsets it is given */
        size_t half[DIGITS], second[DIGITS];
        memcpy(half, offset, sizeof half);
        for (size_t i = 0; i < 601; i++)
            half[(src[i] ^ 7) >> 28]++;
        memcpy(second, half, sizeof second);
        scatter(dst, src + 601, M - 601, 7, 28, DIGITS - 1, half, lines, first);
        scatter(dst, src, 601, 7, 28, DIGITS - 1, offset, lines, first);
        CHECK(memcmp(dst, plain, sizeof dst) == 0);
        CHECK(memcmp(offset, second, sizeof offset) == 0 && memcmp(half, again, sizeof half) == 0);
    }
}

/* Both scatters, each in two calls that share lines at their borders. */
static void test_scatter32(void)
{
    if (pyffi__sort32_net_ok())
        check_scatter32(pyffi__scatter32);
    if (pyffi__scatter32_cd_ok())
        check_scatter32(pyffi__scatter32_cd);
}

/* The halving by one bit, with that bit of flip clear and set: lows first
 * in order, highs after; and the range pass, every tail length. */
static void test_partition32(void)
{
    if (!pyffi__sort32_net_ok())
        return;
    enum { M = 1000 };
    static uint32_t src[M], dst[M + 1], want[M], got[M];
    static const struct {
        uint32_t flip;
        unsigned bit;
    } cases[] = {{5, 20}, {0x80000000u, 31}, {0x00100005u, 20}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const uint32_t flip = cases[c].flip, bit = UINT32_C(1) << cases[c].bit;
        for (size_t m = 1; m <= M; m += 37) {
            size_t lows = 0;
            for (size_t i = 0; i < m; i++) {
                src[i] = (uint32_t)next();
                lows += ((src[i] ^ flip) & bit) == 0;
            }
            dst[m] = 0xDEADBEEF;
            CHECK(pyffi__partition32(dst, src, m, flip, cases[c].bit) == lows);
            CHECK(dst[m] == 0xDEADBEEF);
            size_t j = 0, highs = 0;
            for (size_t i = 0; i < m; i++)
                if (((src[i] ^ flip) & bit) == 0)
                    CHECK(dst[j++] == src[i]); /* the lows keep their order */
                else
                    want[highs++] = src[i];
            /* the highs are the same keys, in any order */
            CHECK(highs == m - lows);
            memcpy(got, dst + lows, highs * sizeof *got);
            qsort(want, highs, sizeof *want, compare_flipped);
            qsort(got, highs, sizeof *got, compare_flipped);
            CHECK(memcmp(want, got, highs * sizeof *got) == 0);
        }
    }
    for (size_t m = 1; m <= 40; m++) { /* the range alone, every tail length */
        uint32_t least = UINT32_MAX, most = 0, got[2];
        for (size_t i = 0; i < m; i++) {
            uint32_t k = src[i] ^ 5;
            least = k < least ? k : least;
            most = k > most ? k : most;
        }
        pyffi__range32(src, m, 5, got);
        CHECK(got[0] == least && got[1] == most);
    }
    uint32_t same[20], out[20];
    for (size_t i = 0; i < 20; i++)
        same[i] = 3;
    CHECK(pyffi__partition32(out, same, 20, 0, 7) == 20);
    CHECK(memcmp(out, same, sizeof out) == 0);
}

/* The networks alone: every length they take, against qsort. */
static void test_networks(void)
{
    if (!pyffi__sort32_net_ok())
        return;
    uint32_t keys[PYFFI__NET32_MAX + 1], want[PYFFI__NET32_MAX], out[PYFFI__NET32_MAX + 1];
    for (size_t m = 1; m <= PYFFI__NET32_MAX; m++) {
        for (size_t i = 0; i < m; i++)
            keys[i] = want[i] = i % 3 ? (uint32_t)next() : (uint32_t)next() % 5;
        keys[m] = out[m] = 0xDEADBEEF;
        qsort(want, m, sizeof *want, compare_flipped);
        pyffi__sort32_net(out, keys, m, UINT32_C(0x80000000));
        CHECK(memcmp(out, want, m * sizeof *out) == 0 && out[m] == 0xDEADBEEF);
        pyffi__sort32_net(keys, keys, m, UINT32_C(0x80000000)); /* in place */
        CHECK(memcmp(keys, want, m * sizeof *keys) == 0 && keys[m] == 0xDEADBEEF);
    }
}

int main(void)
{
    test_networks();
    test_partition32();
    test_scatter32();
    test_sort32_paths();
    test_sort32_halves();
    test_sort64_paths();
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
