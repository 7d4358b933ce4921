/* Arrays C allocates (length unknown to the caller in advance), and
 * key/value entries sorted by key. */
#include "pyffi.h"
#include "common/error.h"
#include "pages.h"

#include <stdlib.h>
#include <string.h>

pyffi_status pyffi_create_array(int64_t **out, size_t *out_len, int64_t divisor,
                                int64_t upto)
{
    if (out == NULL || out_len == NULL)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "create_array: NULL out or out_len");
    if (divisor == 0)
        return pyffi__fail(PYFFI_DIVISION_BY_ZERO, "create_array: divisor is 0");
    /* The multiples of d and of -d are the same numbers. */
    uint64_t d = divisor < 0 ? (uint64_t)0 - (uint64_t)divisor : (uint64_t)divisor;
    uint64_t count = upto < 1 ? 0 : (uint64_t)upto / d;
    if (count > SIZE_MAX / sizeof(int64_t))
        return pyffi__fail(PYFFI_NOMEM, "create_array: %llu elements cannot be allocated",
                           (unsigned long long)count);
    /* Never malloc(0): success always gives a pointer to free. */
    int64_t *xs = malloc((count > 0 ? (size_t)count : 1) * sizeof(int64_t));
    if (xs == NULL)
        return pyffi__fail(PYFFI_NOMEM, "create_array: out of memory for %llu elements",
                           (unsigned long long)count);
    pyffi__huge_pages(xs, (size_t)count * sizeof(int64_t)); /* before the first touch */
    for (uint64_t k = 0; k < count; k++)
        xs[k] = (int64_t)((k + 1) * d);
    *out = xs;
    *out_len = (size_t)count;
    return PYFFI_OK;
}

void pyffi_array_free(int64_t *array)
{
    free(array);
}

static int compare_keys(const void *pa, const void *pb)
{
    const pyffi_entry *a = pa, *b = pb;
    size_t n = a->key_len < b->key_len ? a->key_len : b->key_len;
    int c = n > 0 ? memcmp(a->key, b->key, n) : 0;
    if (c != 0)
        return c;
    return (a->key_len > b->key_len) - (a->key_len < b->key_len);
}

pyffi_status pyffi_entries_sort(pyffi_entry *entries, size_t n)
{
    if (entries == NULL && n != 0)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "entries_sort: NULL entries");
    for (size_t i = 0; i < n; i++)
        if (entries[i].key == NULL && entries[i].key_len != 0)
            return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                               "entries_sort: entry %zu has a NULL key of %zu bytes", i,
                               entries[i].key_len);
    if (n > 1)
        qsort(entries, n, sizeof *entries, compare_keys);
    return PYFFI_OK;
}
