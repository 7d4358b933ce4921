/* Functions that call back through C function pointers. */
#include "pyffi.h"
#include "common/error.h"

#include <stdlib.h>
#include <string.h>

pyffi_i32_result pyffi_calc(int32_t a, int32_t b, pyffi_i32_binop op, void *user)
{
    pyffi_i32_result result = {PYFFI_OK, 0};
    if (op == NULL) {
        result.status = pyffi__fail(PYFFI_INVALID_ARGUMENT, "calc: op is NULL");
        return result;
    }
    int32_t value = 0;
    result.status = op(user, a, b, &value);
    if (result.status == PYFFI_OK)
        result.value = value;
    return result;
}

/* Runs of this many values are insertion-sorted before merging. */
enum { RUN = 16 };

/*
 * Insertion sort of xs[0..n): on a failed comparison the value being placed
 * is put back into the hole, so xs stays a permutation.
 */
static pyffi_status insertion_sort(int64_t *xs, size_t n, pyffi_i64_compare compare,
                                   void *user)
{
    for (size_t i = 1; i < n; i++) {
        int64_t x = xs[i];
        size_t j = i;
        while (j > 0) {
            int order = 0;
            pyffi_status status = compare(user, xs[j - 1], x, &order);
            if (status != PYFFI_OK) {
                xs[j] = x;
                return status;
            }
            if (order <= 0) /* stable: equal values keep their order */
                break;
            xs[j] = xs[j - 1];
            j--;
        }
        xs[j] = x;
    }
    return PYFFI_OK;
}

/* Merge src[lo..mid) and src[mid..hi) into dst[lo..hi), stably. */
static pyffi_status merge(int64_t *dst, const int64_t *src, size_t lo, size_t mid, size_t hi,
                          pyffi_i64_compare compare, void *user)
{
    size_t i = lo, j = mid, k = lo;
    while (i < mid && j < hi) {
        int order = 0;
        pyffi_status status = compare(user, src[j], src[i], &order);
        if (status != PYFFI_OK)
            return status;
        dst[k++] = order < 0 ? src[j++] : src[i++];
    }
    memcpy(dst + k, src + i, (mid - i) * sizeof *dst);
    k += mid - i;
    memcpy(dst + k, src + j, (hi - j) * sizeof *dst);
    return PYFFI_OK;
}

pyffi_status pyffi_sort_i64_by(int64_t *xs, size_t n, pyffi_i64_compare compare, void *user)
{
    if (compare == NULL)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "sort_i64_by: compare is NULL");
    if (xs == NULL && n > 0)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "sort_i64_by: xs is NULL");
    if (n <= RUN)
        return insertion_sort(xs, n, compare, user);

    int64_t *scratch = malloc(n * sizeof *scratch);
    if (scratch == NULL)
        return pyffi__fail(PYFFI_NOMEM, "sort_i64_by: no memory for %zu values", n);

    pyffi_status status = PYFFI_OK;
    for (size_t lo = 0; lo < n && status == PYFFI_OK; lo += RUN)
        status = insertion_sort(xs + lo, n - lo < RUN ? n - lo : RUN, compare, user);

    /* Bottom-up merge passes, alternating between xs and scratch. A pass only
     * reads its source, so on failure the source still holds every value. */
    int64_t *src = xs, *dst = scratch;
    for (size_t width = RUN; width < n && status == PYFFI_OK; width *= 2) {
        for (size_t lo = 0; lo < n && status == PYFFI_OK; lo += 2 * width) {
            size_t mid = n - lo < width ? n : lo + width;
            size_t hi = n - lo < 2 * width ? n : lo + 2 * width;
            status = merge(dst, src, lo, mid, hi, compare, user);
        }
        if (status == PYFFI_OK) {
            int64_t *t = src;
            src = dst;
            dst = t;
        }
    }
    if (src != xs) /* the sorted values, or on failure the last complete pass */
        memcpy(xs, src, n * sizeof *xs);
    free(scratch);
    return status;
}

pyffi_status pyffi_map_f64(double *out, const double *xs, size_t n, pyffi_f64_unary fn,
                           void *user)
{
    if (fn == NULL)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "map_f64: fn is NULL");
    if ((out == NULL || xs == NULL) && n > 0)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "map_f64: an array is NULL");
    for (size_t i = 0; i < n; i++) {
        double y = 0.0;
        pyffi_status status = fn(user, xs[i], &y);
        if (status != PYFFI_OK)
            return status;
        out[i] = y;
    }
    return PYFFI_OK;
}
