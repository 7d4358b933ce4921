/*
 * CSV: one pass over the bytes, csv.reader's state machine unrolled into
 * loops. Unquoted runs are found 16 bytes at a time (SSE2), quoted runs
 * with memchr, and copied with memcpy into one data buffer; fields and rows
 * are end offsets. The text is checked as UTF-8 first, 8 ASCII bytes at a
 * time.
 */
#include "error.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

typedef struct builder {
    pyffi_csv_table *t;
    size_t field_cap, row_cap;
} builder;

static bool grow(size_t **array, size_t *cap)
{
    size_t n = *cap ? *cap * 2 : 64;
    if (n > SIZE_MAX / sizeof **array)
        return false;
    size_t *p = realloc(*array, n * sizeof **array);
    if (p == NULL)
        return false;
    *array = p;
    *cap = n;
    return true;
}

static inline bool push(size_t **array, size_t *n, size_t *cap, size_t value)
{
    if (*n == *cap && !grow(array, cap))
        return false;
    (*array)[(*n)++] = value;
    return true;
}

/* End the current field: its end offset in data. */
static inline bool push_field(builder *b)
{
    return push(&b->t->field_ends, &b->t->n_fields, &b->field_cap, b->t->data_len);
}

/* End the current row: its end index in the fields. */
static inline bool push_row(builder *b)
{
    return push(&b->t->row_ends, &b->t->n_rows, &b->row_cap, b->t->n_fields);
}

static inline void append(pyffi_csv_table *t, const char *s, size_t n)
{
    memcpy(t->data + t->data_len, s, n); /* data holds len bytes: never overflows */
    t->data_len += n;
}

/* The first index >= i holding the delimiter, '\n' or '\r' (len if none). */
static inline size_t scan_unquoted(const unsigned char *s, size_t i, size_t len,
                                   unsigned char delim)
{
#if defined(__SSE2__)
    const __m128i d = _mm_set1_epi8((char)delim), lf = _mm_set1_epi8('\n'),
                  cr = _mm_set1_epi8('\r');
    while (i + 16 <= len) {
        __m128i v = _mm_loadu_si128((const __m128i *)(s + i));
        __m128i hit = _mm_or_si128(_mm_cmpeq_epi8(v, d),
                                   _mm_or_si128(_mm_cmpeq_epi8(v, lf), _mm_cmpeq_epi8(v, cr)));
        unsigned mask = (unsigned)_mm_movemask_epi8(hit);
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
        i += 16;
    }
#endif
    while (i < len && s[i] != delim && s[i] != '\n' && s[i] != '\r')
        i++;
    return i;
}

/* Whether s[0..n) (n < the sequence's length) can begin a valid UTF-8
 * sequence: the lead byte, the second byte's range for that lead, then
 * continuation bytes. */
static bool valid_prefix(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return false;
    }
    if (n >= need)
        return false;
    if (n > 1 && (s[1] < lo || s[1] > hi))
        return false;
    for (size_t k = 2; k < n; k++)
        if ((s[k] & 0xC0) != 0x80)
            return false;
    return true;
}

/* Offset of the first byte that is not valid UTF-8, or len. When the text
 * is not final, a sequence cut off by its end is not an error (yet). */
static size_t check_utf8(const unsigned char *s, size_t len, bool final)
{
    size_t i = 0;
    while (i < len) {
#if defined(__SSE2__)
        if (i + 16 <= len) { /* skip the ASCII bytes up to the next non-ASCII one */
            unsigned mask = (unsigned)_mm_movemask_epi8(
                _mm_loadu_si128((const __m128i *)(s + i)));
            if (mask == 0) {
                i += 16;
                continue;
            }
            i += (size_t)__builtin_ctz(mask);
        }
#endif
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        int32_t cp;
        size_t n = decode_utf8(s + i, len - i, &cp);
        if (n == 0) {
            if (!final && valid_prefix(s + i, len - i))
                return len; /* cut short by the chunk's end: the next chunk decides */
            return i;
        }
        i += n;
    }
    return len;
}

/* 1-based line and column (in characters) of byte pos. */
static void position(const unsigned char *s, size_t pos, size_t first_line, size_t *line,
                     size_t *column)
{
    size_t l = first_line, start = 0;
    for (size_t i = 0; i < pos; i++) {
        if (s[i] == '\n' || (s[i] == '\r' && (i + 1 >= pos || s[i + 1] != '\n'))) {
            l++;
            start = i + 1;
        }
    }
    size_t c = 1;
    for (size_t i = start; i < pos; i++)
        c += (s[i] & 0xC0) != 0x80;
    *line = l;
    *column = c;
}

static size_t count_lines(const unsigned char *s, size_t n)
{
    size_t lines = 0;
    for (size_t i = 0; i < n; i++)
        lines += s[i] == '\n' || (s[i] == '\r' && (i + 1 >= n || s[i + 1] != '\n'));
    return lines;
}

static pyffi_status fail_at(const unsigned char *s, size_t pos, size_t first_line,
                            const char *what, unsigned char c)
{
    size_t line, column;
    position(s, pos, first_line, &line, &column);
    if (c == 0)
        return pyffi__fail(PYFFI_CSV, "csv: line %zu, column %zu: %s", line, column, what);
    if (c >= 0x20 && c < 0x7F)
        return pyffi__fail(PYFFI_CSV, "csv: line %zu, column %zu: '%c' %s", line, column, c,
                           what);
    int32_t cp;
    size_t n = c >= 0x80 ? decode_utf8(s + pos, 4, &cp) : 0; /* text already validated */
    if (n > 0)
        return pyffi__fail(PYFFI_CSV, "csv: line %zu, column %zu: '%.*s' %s", line, column,
                           (int)n, (const char *)s + pos, what);
    return pyffi__fail(PYFFI_CSV, "csv: line %zu, column %zu: byte 0x%02X %s", line, column,
                       c, what);
}

void pyffi_csv_table_free(pyffi_csv_table *table)
{
    if (table == NULL)
        return;
    free(table->data);
    free(table->field_ends);
    free(table->row_ends);
    free(table);
}

static inline bool is_space(unsigned char c)
{
    return c == ' ' || c == '\t';
}

pyffi_status pyffi_csv_parse(pyffi_csv_table **out, const char *text, size_t len,
                             const pyffi_csv_options *options, bool final, size_t first_line,
                             size_t base_offset)
{
    if (out == NULL || options == NULL || (text == NULL && len > 0))
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "csv: a NULL pointer");
    const unsigned char delim = (unsigned char)options->delimiter,
                        quote = (unsigned char)options->quotechar;
    if (delim == quote || delim == '\n' || delim == '\r' || quote == '\n' || quote == '\r' ||
        delim >= 0x80 || quote >= 0x80)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                           "csv: delimiter and quotechar must be two different ASCII "
                           "characters, not line breaks");
    const unsigned char *s = (const unsigned char *)text;
    size_t bad = check_utf8(s, len, final);
    if (bad < len)
        return pyffi__fail(PYFFI_UTF8, "csv: invalid UTF-8 at byte offset %zu",
                           base_offset + bad);

    pyffi_csv_table *t = calloc(1, sizeof *t);
    if (t == NULL || (t->data = malloc(len ? len : 1)) == NULL) {
        free(t);
        return pyffi__fail(PYFFI_NOMEM, "csv: no memory for %zu bytes", len);
    }
    builder b = {t, 0, 0};
    const bool trim = options->trim, strict = options->strict;
    pyffi_status status = PYFFI_OK;
    size_t i = 0;
    size_t record = 0, record_fields = 0, record_data = 0;

    while (i < len) {
        record = i;
        record_fields = t->n_fields;
        record_data = t->data_len;
        if (s[i] == '\n' || s[i] == '\r') { /* a blank line: a row of no fields */
            if (s[i] == '\r' && i + 1 == len && !final)
                goto incomplete;
            i += (s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
            if (!push_row(&b))
                goto nomem;
            continue;
        }
        for (;;) { /* one field per turn, i at its start */
            bool lenient_tail = false;
            if (trim)
                while (i < len && is_space(s[i]))
                    i++;
            if (i < len && s[i] == quote) {
                size_t open = i++;
                for (;;) {
                    const unsigned char *q = memchr(s + i, quote, len - i);
                    if (q == NULL) {
                        if (!final)
                            goto incomplete;
                        if (strict) {
                            status = fail_at(s, open, first_line,
                                             "opens a quoted field that is not closed at the "
                                             "end of the data", quote);
                            goto error;
                        }
                        append(t, (const char *)s + i, len - i);
                        i = len;
                        break;
                    }
                    size_t k = (size_t)(q - s);
                    append(t, (const char *)s + i, k - i);
                    i = k + 1;
                    if (i < len && s[i] == quote) { /* a doubled quote */
                        append(t, (const char *)s + i, 1);
                        i++;
                        continue;
                    }
                    if (i == len && !final)
                        goto incomplete; /* the next chunk may start with a quote */
                    break;
                }
                if (trim)
                    while (i < len && is_space(s[i]))
                        i++;
                if (i == len) {
                    if (!final)
                        goto incomplete;
                    if (!push_field(&b) || !push_row(&b))
                        goto nomem;
                    break;
                }
                if (s[i] == delim) {
                    if (!push_field(&b))
                        goto nomem;
                    i++;
                    continue;
                }
                if (s[i] == '\n' || s[i] == '\r') {
                    if (!push_field(&b))
                        goto nomem;
                    goto end_of_line;
                }
                if (strict) {
                    int32_t cp;
                    if (!final && s[i] >= 0x80 && decode_utf8(s + i, len - i, &cp) == 0)
                        goto incomplete; /* name the whole character, from the next chunk */
                    status = fail_at(s, i, first_line,
                                     "after a closing quote (a delimiter or a line break "
                                     "was expected)", s[i]);
                    goto error;
                }
                lenient_tail = true; /* csv.reader keeps the text, unquoted */
            }
            size_t j = scan_unquoted(s, i, len, delim), end = j;
            if (trim && !lenient_tail)
                while (end > i && is_space(s[end - 1]))
                    end--;
            append(t, (const char *)s + i, end - i);
            i = j;
            if (i == len) {
                if (!final)
                    goto incomplete;
                if (!push_field(&b) || !push_row(&b))
                    goto nomem;
                break;
            }
            if (!push_field(&b))
                goto nomem;
            if (s[i] == delim) {
                i++;
                continue;
            }
            goto end_of_line;
        }
        continue; /* the data ended inside this record, which is now complete */
    end_of_line:
        if (s[i] == '\r') {
            if (i + 1 == len && !final)
                goto incomplete; /* maybe the first half of "\r\n" */
            i += (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
        } else {
            i++;
        }
        if (!push_row(&b))
            goto nomem;
    }
    t->consumed = len;
    goto done;

incomplete:
    t->n_fields = record_fields;
    t->data_len = record_data;
    t->consumed = record;
done:
    if (!final)
        t->lines = count_lines(s, t->consumed);
    *out = t;
    return PYFFI_OK;

nomem:
    status = pyffi__fail(PYFFI_NOMEM, "csv: no memory for the fields of %zu bytes", len);
error:
    pyffi_csv_table_free(t);
    return status;
}

/* Cell (row r, column c) of t: its bytes, or NULL if the row is too short. */
static const char *cell(const pyffi_csv_table *t, size_t r, size_t c, size_t *len)
{
    size_t first = r ? t->row_ends[r - 1] : 0;
    if (c >= t->row_ends[r] - first)
        return NULL;
    size_t f = first + c;
    size_t start = f ? t->field_ends[f - 1] : 0;
    *len = t->field_ends[f] - start;
    return t->data + start;
}

static bool parse_i64(const char *s, size_t n, int64_t *value, bool *overflow)
{
    size_t i = 0;
    bool negative = false;
    *overflow = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        negative = s[i++] == '-';
    if (i == n)
        return false;
    uint64_t v = 0, limit = negative ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return false;
        if (v > (limit - d) / 10)
            *overflow = true;
        else
            v = v * 10 + d;
    }
    if (*overflow)
        return false;
    *value = negative ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

static bool parse_f64(const char *s, size_t n, double *value)
{
    char small[64];
    char *buf = n < sizeof small ? small : malloc(n + 1);
    if (buf == NULL || n == 0 || s[0] == ' ' || s[0] == '\t' || s[0] == '\n') {
        if (buf != small)
            free(buf);
        return false;
    }
    memcpy(buf, s, n);
    buf[n] = 0;
    char *end;
    *value = strtod(buf, &end);
    bool ok = end == buf + n;
    if (buf != small)
        free(buf);
    return ok;
}

static pyffi_status column_error(const pyffi_csv_table *t, size_t r, size_t c,
                                 const char *name, size_t name_len, const char *what)
{
    size_t len = 0;
    const char *text = cell(t, r, c, &len);
    if (text == NULL)
        return pyffi__fail(PYFFI_CSV, "csv: row %zu, column '%.*s': the row has only %zu "
                           "field(s)", r + 1, (int)name_len, name,
                           t->row_ends[r] - (r ? t->row_ends[r - 1] : 0));
    return pyffi__fail(PYFFI_CSV, "csv: row %zu, column '%.*s': '%.*s' %s", r + 1,
                       (int)name_len, name, (int)(len > 200 ? 200 : len), text, what);
}

static pyffi_status column_check(void **out, const pyffi_csv_table *t, size_t first_row,
                                 const char *name)
{
    if (out == NULL || t == NULL || first_row > t->n_rows || name == NULL)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "csv: bad column arguments");
    size_t n = t->n_rows - first_row;
    *out = malloc((n ? n : 1) * 8);
    if (*out == NULL)
        return pyffi__fail(PYFFI_NOMEM, "csv: no memory for a column of %zu values", n);
    return PYFFI_OK;
}

/* Parse one cell into values[k]; on failure return what to say about the text. */
typedef const char *(*cell_parser)(const char *text, size_t len, void *values, size_t k);

static const char *cell_i64(const char *text, size_t len, void *values, size_t k)
{
    bool overflow = false;
    if (parse_i64(text, len, (int64_t *)values + k, &overflow))
        return NULL;
    return overflow ? "does not fit int64" : "is not an integer";
}

static const char *cell_f64(const char *text, size_t len, void *values, size_t k)
{
    return parse_f64(text, len, (double *)values + k) ? NULL : "is not a number";
}

/* A column of 8-byte values, each cell converted by parse. */
static pyffi_status convert_column(void **out, const pyffi_csv_table *table, size_t column,
                                   size_t first_row, const char *name, size_t name_len,
                                   cell_parser parse)
{
    void *values = NULL;
    pyffi_status status = column_check(out ? &values : NULL, table, first_row, name);
    if (status != PYFFI_OK)
        return status;
    for (size_t r = first_row; r < table->n_rows; r++) {
        size_t len;
        const char *text = cell(table, r, column, &len);
        const char *what = text == NULL ? "" : parse(text, len, values, r - first_row);
        if (what != NULL) {
            free(values);
            return column_error(table, r, column, name, name_len, what);
        }
    }
    *out = values;
    return PYFFI_OK;
}

pyffi_status pyffi_csv_column_i64(int64_t **out, const pyffi_csv_table *table, size_t column,
                                  size_t first_row, const char *name, size_t name_len)
{
    void *values = NULL;
    pyffi_status status = convert_column(out ? &values : NULL, table, column, first_row, name,
                                         name_len, cell_i64);
    if (status == PYFFI_OK)
        *out = values;
    return status;
}

pyffi_status pyffi_csv_column_f64(double **out, const pyffi_csv_table *table, size_t column,
                                  size_t first_row, const char *name, size_t name_len)
{
    void *values = NULL;
    pyffi_status status = convert_column(out ? &values : NULL, table, column, first_row, name,
                                         name_len, cell_f64);
    if (status == PYFFI_OK)
        *out = values;
    return status;
}

void pyffi_csv_column_free(void *column)
{
    free(column);
}
