/*
 * libFuzzer harness for the CSV parser (scripts/fuzz builds and runs it
 * under ASan + UBSan). The first input byte picks the dialect; the rest is
 * the CSV text. Beyond "no crash, no sanitizer report", it checks:
 *  - the table is well formed (offsets increasing, within the data);
 *  - parsing in two chunks (the first not final, then the unconsumed rest
 *    plus the remainder) gives the same fields and the same status as
 *    parsing the whole text at once.
 */
#include "pyffi.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void well_formed(const pyffi_csv_table *t, size_t len)
{
    if (t->data_len > len || t->consumed > len)
        abort();
    for (size_t i = 0; i < t->n_fields; i++)
        if (t->field_ends[i] > t->data_len || (i && t->field_ends[i] < t->field_ends[i - 1]))
            abort();
    for (size_t r = 0; r < t->n_rows; r++)
        if (t->row_ends[r] > t->n_fields || (r && t->row_ends[r] < t->row_ends[r - 1]))
            abort();
}

/* Fields as one byte string: each field's bytes then 0xFF, each row then 0xFE. */
static size_t flatten(const pyffi_csv_table *t, unsigned char *out, size_t n)
{
    size_t field = 0, start = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        for (; field < t->row_ends[r]; field++) {
            size_t end = t->field_ends[field];
            memcpy(out + n, t->data + start, end - start);
            n += end - start;
            out[n++] = 0xFF;
            start = end;
        }
        out[n++] = 0xFE;
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char delimiters[] = {',', ';', '\t', '|'};
    pyffi_csv_options options = {delimiters[data[0] & 3], (data[0] & 4) ? '\'' : '"',
                                 (data[0] & 8) != 0, (data[0] & 16) != 0};
    size_t split = (size_t)data[1] % (size - 1);
    const char *text = (const char *)data + 2;
    size_t len = size - 2;
    if (split > len)
        split = len;

    pyffi_csv_table *whole = NULL;
    pyffi_status s1 = pyffi_csv_parse(&whole, text, len, &options, true, 1, 0);
    if (s1 == PYFFI_OK)
        well_formed(whole, len);

    /* the same text in two chunks */
    pyffi_csv_table *first = NULL, *second = NULL;
    pyffi_status s2 = pyffi_csv_parse(&first, text, split, &options, false, 1, 0);
    if (s2 == PYFFI_OK) {
        well_formed(first, split);
        size_t used = first->consumed;
        s2 = pyffi_csv_parse(&second, text + used, len - used, &options, true, 1, used);
    }
    if (s1 != s2 && !(s1 != PYFFI_OK && s2 != PYFFI_OK))
        abort(); /* one way fails, the other does not */
    if (s1 == PYFFI_OK && s2 == PYFFI_OK) {
        size_t cap = 3 * len + 16;
        unsigned char *a = malloc(cap), *b = malloc(cap);
        if (a && b) {
            size_t na = flatten(whole, a, 0);
            size_t nb = flatten(second, b, flatten(first, b, 0));
            if (na != nb || memcmp(a, b, na) != 0)
                abort(); /* chunked parsing changed the fields */
        }
        free(a);
        free(b);
    }
    pyffi_csv_table_free(whole);
    pyffi_csv_table_free(first);
    pyffi_csv_table_free(second);
    return 0;
}
