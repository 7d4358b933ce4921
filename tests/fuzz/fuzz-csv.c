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
    if (t->consumed > len || t->longest > len)
        abort();
    for (size_t r = 0; r < t->n_rows; r++) {
        const pyffi_csv_row *row = &t->rows[r];
        size_t first = r ? t->rows[r - 1].fields_end : 0;
        if (row->fields_end > t->n_fields || row->fields_end < first || row->start > len ||
            (r && row->start <= t->rows[r - 1].start))
            abort();
        for (size_t k = first; k < row->fields_end; k++)
            if (row->start + t->field_ends[k] > len ||
                (k > first && t->field_ends[k] <= t->field_ends[k - 1]))
                abort();
    }
}

/* Fields as one byte string: each field's value then 0xFF, each row then 0xFE. */
static size_t flatten(const pyffi_csv_table *t, unsigned char *out, size_t n)
{
    char *buf = malloc(t->longest + 1);
    if (buf == NULL)
        abort();
    size_t field = 0;
    for (size_t r = 0; r < t->n_rows; r++) {
        for (; field < t->rows[r].fields_end; field++) {
            size_t len;
            const char *value = pyffi_csv_field(t, r, field, buf, &len);
            if (len > t->longest)
                abort();
            memcpy(out + n, value, len);
            n += len;
            out[n++] = 0xFF;
        }
        out[n++] = 0xFE;
    }
    free(buf);
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    static const char delimiters[] = {',', ';', '\t', '|'};
    pyffi_csv_options options = {.delimiter = delimiters[data[0] & 3],
                                 .quotechar = (data[0] & 4) ? '\'' : '"',
                                 .trim = (data[0] & 8) != 0, .strict = (data[0] & 16) != 0};
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
