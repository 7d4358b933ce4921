/*
 * CSV: csv.reader's state machine, made fast. The table records where each
 * field ends (its separator) relative to its row's start, so nothing is
 * copied; pyffi_csv_field() undoes quoting when a field is read.
 *
 * Two loops find the separators:
 *  - fast_records(): 64 bytes at a time as bit masks (SSE2). Quoted regions
 *    come from a prefix XOR of the quote mask; the masks also prove that
 *    every quote in the block is one csv.reader treats as a quote (opening
 *    at a field's start, doubled, or closing before a separator). When that
 *    proof fails, or near the end of the text, it stops at a record start;
 *  - careful_record(): one record byte by byte, every rule and error of
 *    csv.reader (strict and lenient), and the chunk-end cases.
 * The text is checked as UTF-8 first, 16 ASCII bytes at a time.
 */
#include "pyffi.h"
#include "common/error.h"
#include "pages.h"
#include "utf8.h"

#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* Room for `more` entries in *array (of `size`-byte entries, *cap of them). */
static bool reserve(void **array, size_t *cap, size_t n, size_t more, size_t size)
{
    if (n + more <= *cap)
        return true;
    size_t want = *cap ? *cap : 64;
    while (want < n + more)
        want *= 2;
    if (want > SIZE_MAX / size)
        return false;
    void *p = realloc(*array, want * size);
    if (p == NULL)
        return false;
    *array = p;
    *cap = want;
    pyffi__huge_pages(p, want * size);
    return true;
}

static inline bool reserve_fields(pyffi_csv_table *t, size_t more)
{
    return reserve((void **)&t->field_ends, &t->field_cap, t->n_fields, more,
                   sizeof *t->field_ends);
}

static inline bool reserve_rows(pyffi_csv_table *t, size_t more)
{
    return reserve((void **)&t->rows, &t->row_cap, t->n_rows, more, sizeof *t->rows);
}

/* End the row that started at `start` and whose longest-so-far is known. */
static inline void end_row(pyffi_csv_table *t, size_t start, size_t end)
{
    t->rows[t->n_rows].start = start;
    t->rows[t->n_rows].fields_end = t->n_fields;
    t->n_rows++;
    if (end - start > t->longest)
        t->longest = end - start;
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

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PYFFI_UTF8_BLOCKS 1

/*
 * utf8_blocks(): whether s[0..n) (n a multiple of 32) holds no invalid
 * UTF-8 except perhaps a sequence cut off by its end, 32 bytes at a time
 * (AVX2; machines without it use check_utf8 alone): the lookup
 * algorithm of Keiser and Lemire, "Validating UTF-8 In Less Than One
 * Instruction Per Byte" (2021). Each byte is classified by three table
 * lookups (the high and low nibble of the byte before it, the high nibble
 * of itself); every error class sets a bit that all three lookups agree on.
 * The third and fourth bytes of a sequence are checked separately.
 */
enum {
    TOO_SHORT = 1 << 0,  /* a lead not followed by a continuation */
    TOO_LONG = 1 << 1,   /* a continuation after ASCII */
    OVERLONG_3 = 1 << 2, /* E0 followed by 80..9F */
    TOO_LARGE = 1 << 3,  /* F4 followed by 90..BF, or F5..FF */
    SURROGATE = 1 << 4,  /* ED followed by A0..BF */
    OVERLONG_2 = 1 << 5, /* C0 or C1 */
    TOO_LARGE_1000 = 1 << 6, /* F5.. followed by 80..8F */
    OVERLONG_4 = 1 << 6,     /* F0 followed by 80..8F */
    TWO_CONTS = 1 << 7,      /* two continuations in a row: fine only as byte 3 or 4 */
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

/* The three lookup tables: by the high and the low nibble of the byte
 * before, and by the high nibble of the byte itself. */
static const __m128i *utf8_tables(void)
{
    enum { LARGE = CARRY | TOO_LARGE | TOO_LARGE_1000, CONT = TOO_LONG | OVERLONG_2 | TWO_CONTS };
    static const unsigned char tables[3][16] = {{
        TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,
        TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS, TOO_SHORT | OVERLONG_2, TOO_SHORT,
        TOO_SHORT | OVERLONG_3 | SURROGATE, TOO_SHORT | TOO_LARGE | TOO_LARGE_1000 | OVERLONG_4}, {
        CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY, CARRY,
        CARRY | TOO_LARGE, LARGE, LARGE, LARGE, LARGE, LARGE, LARGE, LARGE, LARGE,
        LARGE | SURROGATE, LARGE, LARGE}, {
        TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,
        CONT | OVERLONG_3 | TOO_LARGE_1000 | OVERLONG_4, CONT | OVERLONG_3 | TOO_LARGE,
        CONT | SURROGATE | TOO_LARGE, CONT | SURROGATE | TOO_LARGE, TOO_SHORT, TOO_SHORT,
        TOO_SHORT, TOO_SHORT}};
    return (const __m128i *)tables;
}

__attribute__((target("avx2"))) static bool utf8_blocks(const unsigned char *s, size_t n)
{
    const __m128i *tables = utf8_tables();
    const __m256i first_high = _mm256_broadcastsi128_si256(_mm_loadu_si128(tables)),
                  first_low = _mm256_broadcastsi128_si256(_mm_loadu_si128(tables + 1)),
                  second_high = _mm256_broadcastsi128_si256(_mm_loadu_si128(tables + 2)),
                  nibble = _mm256_set1_epi8(0x0F);
    __m256i prev = _mm256_setzero_si256(), error = _mm256_setzero_si256();
    for (size_t i = 0; i < n; i += 32) {
        __m256i in = _mm256_loadu_si256((const __m256i *)(s + i));
        if (_mm256_movemask_epi8(_mm256_or_si256(in, prev)) == 0) {
            prev = in;
            continue;
        }
        /* the 32 bytes before each of in's bytes' predecessors: prev's high half, in's low */
        __m256i before = _mm256_permute2x128_si256(prev, in, 0x21);
        __m256i prev1 = _mm256_alignr_epi8(in, before, 15),
                prev2 = _mm256_alignr_epi8(in, before, 14),
                prev3 = _mm256_alignr_epi8(in, before, 13);
        __m256i special = _mm256_and_si256(
            _mm256_and_si256(
                _mm256_shuffle_epi8(first_high,
                                    _mm256_and_si256(_mm256_srli_epi16(prev1, 4), nibble)),
                _mm256_shuffle_epi8(first_low, _mm256_and_si256(prev1, nibble))),
            _mm256_shuffle_epi8(second_high, _mm256_and_si256(_mm256_srli_epi16(in, 4), nibble)));
        __m256i must23 = _mm256_and_si256(
            _mm256_or_si256(_mm256_subs_epu8(prev2, _mm256_set1_epi8((char)(0xE0 - 0x80))),
                            _mm256_subs_epu8(prev3, _mm256_set1_epi8((char)(0xF0 - 0x80)))),
            _mm256_set1_epi8((char)0x80));
        error = _mm256_or_si256(error, _mm256_xor_si256(must23, special));
        prev = in;
    }
    return _mm256_testz_si256(error, error) != 0;
}
#endif

/* check_utf8(), the block validator first: where it finds no error, only the
 * last (possibly cut) characters need the byte-by-byte check. */
static size_t check_utf8_fast(const unsigned char *s, size_t len, bool final)
{
#if defined(PYFFI_UTF8_BLOCKS)
    size_t n = len & ~(size_t)31;
    if (n >= 32 && __builtin_cpu_supports("avx2") && utf8_blocks(s, n)) {
        size_t j = n - 1; /* back to the start of the last character begun before n */
        while (j > n - 4 && (s[j] & 0xC0) == 0x80)
            j--;
        if ((s[j] & 0xC0) != 0x80) {
            size_t bad = check_utf8(s + j, len - j, final);
            return bad == len - j ? len : check_utf8(s, len, final);
        }
    }
#endif
    return check_utf8(s, len, final);
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


/* What trim strips: spaces and tabs, but never the delimiter (a tab, say). */
static inline bool is_space(unsigned char c, unsigned char delim)
{
    return (c == ' ' || c == '\t') && c != delim;
}

#if defined(__SSE2__)
/* Bit k of each mask: whether s[k] is that byte. */
typedef struct masks {
    uint64_t quote, delim, lf, cr;
} masks;

static inline uint64_t eq_mask(__m128i a, __m128i b, __m128i c, __m128i d, __m128i x)
{
    return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(a, x)) |
           (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(b, x)) << 16 |
           (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(c, x)) << 32 |
           (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(d, x)) << 48;
}

static inline masks block_masks(const unsigned char *s, __m128i quote, __m128i delim)
{
    __m128i a = _mm_loadu_si128((const __m128i *)s),
            b = _mm_loadu_si128((const __m128i *)(s + 16)),
            c = _mm_loadu_si128((const __m128i *)(s + 32)),
            d = _mm_loadu_si128((const __m128i *)(s + 48));
    masks m = {eq_mask(a, b, c, d, quote), eq_mask(a, b, c, d, delim),
               eq_mask(a, b, c, d, _mm_set1_epi8('\n')), eq_mask(a, b, c, d, _mm_set1_epi8('\r'))};
    return m;
}

/* Bit k: the XOR of bits 0..k (the parity of the quotes up to byte k). */
static inline uint64_t prefix_xor(uint64_t x)
{
    x ^= x << 1;
    x ^= x << 2;
    x ^= x << 4;
    x ^= x << 8;
    x ^= x << 16;
    x ^= x << 32;
    return x;
}

/*
 * Whole records from record start i, 64 bytes at a time, while the quotes
 * are all plain (see the file comment), records stay under 4 GiB and the
 * blocks start before `stop`.
 * Returns the start of the first record it did not finish (its fields are
 * dropped), or SIZE_MAX when out of memory.
 */
static size_t fast_records(pyffi_csv_table *t, const unsigned char *s, size_t i, size_t len,
                           size_t stop, unsigned char delim, unsigned char quote)
{
    const __m128i vquote = _mm_set1_epi8((char)quote), vdelim = _mm_set1_epi8((char)delim);
    size_t row = i, row_fields = t->n_fields;
    uint64_t in_quote = 0;  /* all ones when the block starts inside quotes */
    uint64_t after_sep = 1; /* bit 0: s[i] starts a field */
    uint64_t after_close = 0, after_cr = 0;
    while (i + 64 < len && i < stop && i + 64 <= row + UINT32_MAX) {
        if (!reserve_fields(t, 64) || !reserve_rows(t, 64))
            return SIZE_MAX;
        masks m = block_masks(s + i, vquote, vdelim);
        uint64_t lines = m.lf | m.cr, seps = m.delim | lines, inside = 0;
        uint64_t starts = seps << 1 | after_sep;
        after_sep = seps >> 63;
        if (m.quote | in_quote) {
            inside = prefix_xor(m.quote) ^ in_quote;
            uint64_t open = m.quote & inside, close = m.quote & ~inside;
            if (open & ~(starts | close << 1 | after_close))
                break; /* a quote inside an unquoted field: careful_record() */
            unsigned char next = s[i + 64];
            uint64_t next_ok = next == delim || next == '\n' || next == '\r' || next == quote;
            if (close & ~((seps | m.quote) >> 1 | next_ok << 63))
                break; /* text after a closing quote */
            in_quote = 0 - (inside >> 63);
            after_close = close >> 63;
        } else {
            after_close = 0;
        }
        uint64_t crlf = m.lf & (m.cr << 1 | after_cr); /* the \n of a \r\n */
        seps &= ~inside & ~crlf;
        after_cr = m.cr >> 63 & ~(inside >> 63);
        lines &= seps;
        uint32_t *ends = t->field_ends;
        size_t n = t->n_fields;
        while (seps) {
            unsigned k = (unsigned)__builtin_ctzll(seps);
            size_t p = i + k;
            seps &= seps - 1;
            if (!(lines >> k & 1)) {
                ends[n++] = (uint32_t)(p - row);
                continue;
            }
            if (p != row) /* else a blank line: a row of no fields */
                ends[n++] = (uint32_t)(p - row);
            t->n_fields = n;
            end_row(t, row, p);
            row = p + 1 + (s[p] == '\r' && s[p + 1] == '\n');
            row_fields = n;
        }
        t->n_fields = n;
        i += 64;
    }
    t->n_fields = row_fields;
    return row;
}
#endif

/* Push the end of a field of the record that starts at `row`. */
static inline bool push_field(pyffi_csv_table *t, size_t row, size_t end)
{
    if (!reserve_fields(t, 1))
        return false;
    t->field_ends[t->n_fields++] = (uint32_t)(end - row);
    return true;
}

enum { RECORD_DONE, RECORD_INCOMPLETE, RECORD_FAILED };

/*
 * One record from *pos, byte by byte: every rule of csv.reader. Returns
 * RECORD_DONE (with *pos after it), RECORD_INCOMPLETE (not final, and the
 * text may end inside it) or RECORD_FAILED (*status says why).
 */
static int careful_record(pyffi_csv_table *t, const unsigned char *s, size_t *pos, size_t len,
                          const pyffi_csv_options *options, bool final, size_t first_line,
                          pyffi_status *status)
{
    const unsigned char delim = (unsigned char)options->delimiter,
                        quote = (unsigned char)options->quotechar;
    const bool trim = options->trim, strict = options->strict;
    size_t i = *pos;
    const size_t row = i;
    if (!reserve_rows(t, 1))
        goto nomem;
    if (s[i] == '\n' || s[i] == '\r') { /* a blank line: a row of no fields */
        if (s[i] == '\r' && i + 1 == len && !final)
            return RECORD_INCOMPLETE;
        end_row(t, row, i);
        *pos = i + ((s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') ? 2 : 1);
        return RECORD_DONE;
    }
    for (;;) { /* one field per turn, i at its start */
        if (trim)
            while (i < len && is_space(s[i], delim))
                i++;
        if (i < len && s[i] == quote) {
            size_t open = i++;
            for (;;) {
                const unsigned char *q = memchr(s + i, quote, len - i);
                if (q == NULL) {
                    if (!final)
                        return RECORD_INCOMPLETE;
                    if (strict) {
                        *status = fail_at(s, open, first_line,
                                          "opens a quoted field that is not closed at the "
                                          "end of the data", quote);
                        return RECORD_FAILED;
                    }
                    i = len;
                    break;
                }
                i = (size_t)(q - s) + 1;
                if (i < len && s[i] == quote) { /* a doubled quote */
                    i++;
                    continue;
                }
                if (i == len && !final)
                    return RECORD_INCOMPLETE; /* the next chunk may start with a quote */
                break;
            }
            if (trim)
                while (i < len && is_space(s[i], delim))
                    i++;
            if (i < len && s[i] != delim && s[i] != '\n' && s[i] != '\r') {
                if (strict) {
                    int32_t cp;
                    if (!final && s[i] >= 0x80 && decode_utf8(s + i, len - i, &cp) == 0)
                        return RECORD_INCOMPLETE; /* name the whole character */
                    *status = fail_at(s, i, first_line,
                                      "after a closing quote (a delimiter or a line break "
                                      "was expected)", s[i]);
                    return RECORD_FAILED;
                }
                i = scan_unquoted(s, i, len, delim); /* csv.reader keeps the text */
            }
        } else {
            i = scan_unquoted(s, i, len, delim);
        }
        if (i - row > UINT32_MAX) {
            size_t line, column;
            position(s, row, first_line, &line, &column);
            *status = pyffi__fail(PYFFI_CSV, "csv: line %zu: a record of more than 4 GiB",
                                  line);
            return RECORD_FAILED;
        }
        if (i == len && !final)
            return RECORD_INCOMPLETE;
        if (!push_field(t, row, i))
            goto nomem;
        if (i == len) {
            end_row(t, row, i);
            *pos = i;
            return RECORD_DONE;
        }
        if (s[i] == delim) {
            i++;
            continue;
        }
        if (s[i] == '\r' && i + 1 == len && !final)
            return RECORD_INCOMPLETE; /* maybe the first half of "\r\n" */
        end_row(t, row, i);
        *pos = i + ((s[i] == '\r' && i + 1 < len && s[i + 1] == '\n') ? 2 : 1);
        return RECORD_DONE;
    }
nomem:
    *status = pyffi__fail(PYFFI_NOMEM, "csv: no memory for the fields of %zu bytes", len);
    return RECORD_FAILED;
}

void pyffi_csv_table_free(pyffi_csv_table *table)
{
    if (table == NULL)
        return;
    free(table->field_ends);
    free(table->rows);
    free(table);
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
    size_t bad = check_utf8_fast(s, len, final);
    if (bad < len) {
        /* The error that comes first in the text wins, as when the text comes in
         * pieces (csv.iter_rows): a CSV error in the valid text before the bad byte
         * is the one reported. That text is valid UTF-8 (a sequence cut by its end
         * is allowed when not final): this call does not come back here. */
        pyffi_csv_options before = *options;
        before.progress = NULL;
        pyffi_csv_table *prefix = NULL;
        pyffi_status status =
            pyffi_csv_parse(&prefix, text, bad, &before, false, first_line, base_offset);
        if (status != PYFFI_OK)
            return status;
        pyffi_csv_table_free(prefix);
        return pyffi__fail(PYFFI_UTF8, "csv: invalid UTF-8 at byte offset %zu",
                           base_offset + bad);
    }

    pyffi_csv_table *t = calloc(1, sizeof *t);
    if (t == NULL)
        return pyffi__fail(PYFFI_NOMEM, "csv: no memory for a table");
    t->text = text;
    t->options = *options;
    /* A guess of one field per 8 bytes and one row per 64 (grown as needed). */
    if (!reserve_fields(t, len / 8 + 1) || !reserve_rows(t, len / 64 + 1)) {
        pyffi_csv_table_free(t);
        return pyffi__fail(PYFFI_NOMEM, "csv: no memory for the fields of %zu bytes", len);
    }
    pyffi_status status = PYFFI_OK;
    size_t i = 0;
    const pyffi_progress progress = options->progress;
    size_t report = progress ? PYFFI_CSV_PROGRESS_STEP : SIZE_MAX; /* the next report */
    while (i < len) {
        if (i >= report) {
            status = progress(options->progress_user, i, len);
            if (status != PYFFI_OK)
                goto stopped;
            report = i + PYFFI_CSV_PROGRESS_STEP;
        }
#if defined(__SSE2__)
        i = fast_records(t, s, i, len, report, delim, quote);
        if (i == SIZE_MAX) {
            pyffi_csv_table_free(t);
            return pyffi__fail(PYFFI_NOMEM, "csv: no memory for the fields of %zu bytes", len);
        }
        if (i >= len)
            break;
        if (i >= report)
            continue;
#endif
        int done = careful_record(t, s, &i, len, options, final, first_line, &status);
        if (done == RECORD_INCOMPLETE) {
            t->n_fields = t->n_rows ? t->rows[t->n_rows - 1].fields_end : 0;
            break;
        }
        if (done == RECORD_FAILED) {
            pyffi_csv_table_free(t);
            return status;
        }
    }
    if (progress && (status = progress(options->progress_user, len, len)) != PYFFI_OK)
        goto stopped;
    t->consumed = i < len ? i : len;
    if (!final)
        t->lines = count_lines(s, t->consumed);
    *out = t;
    return PYFFI_OK;

stopped:
    pyffi_csv_table_free(t);
    return status;
}

const char *pyffi_csv_field(const pyffi_csv_table *table, size_t row, size_t field,
                            char *buf, size_t *len)
{
    const pyffi_csv_row *r = &table->rows[row];
    size_t first = row ? table->rows[row - 1].fields_end : 0;
    const unsigned char *s = (const unsigned char *)table->text + r->start;
    size_t i = field > first ? table->field_ends[field - 1] + 1 : 0, end = table->field_ends[field];
    const unsigned char quote = (unsigned char)table->options.quotechar,
                        delim = (unsigned char)table->options.delimiter;
    const bool trim = table->options.trim;
    if (trim)
        while (i < end && is_space(s[i], delim))
            i++;
    if (i == end || s[i] != quote) {
        if (trim)
            while (end > i && is_space(s[end - 1], delim))
                end--;
        *len = end - i;
        return (const char *)s + i;
    }
    /* quoted: the text between the quotes with doubled quotes undone, then
     * (lenient mode) any text after the closing quote as it is */
    size_t n = 0;
    i++;
    for (;;) {
        const unsigned char *q = memchr(s + i, quote, end - i);
        size_t k = q ? (size_t)(q - s) : end;
        memcpy(buf + n, s + i, k - i);
        n += k - i;
        i = k + 1;
        if (q == NULL || i >= end)
            break;
        if (s[i] != quote)
            break;
        buf[n++] = (char)quote;
        i++;
    }
    if (trim)
        while (i < end && is_space(s[i], delim))
            i++;
    if (i < end) {
        memcpy(buf + n, s + i, end - i);
        n += end - i;
    }
    *len = n;
    return buf;
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

/* Clinger's fast path: a plain decimal with at most 19 digits whose
 * significand is at most 2^53 and whose power of ten is at most 22 is
 * m * 10^e or m / 10^e of two exact doubles, so one correctly rounded
 * operation gives what strtod gives. False: not such a number (strtod
 * decides). */
static bool fast_f64(const char *s, size_t n, double *value)
{
    static const double powers[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                    1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                    1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
    size_t i = 0, digits = 0;
    bool negative = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        negative = s[i++] == '-';
    uint64_t m = 0;
    long exponent = 0;
    for (; i < n && (unsigned char)(s[i] - '0') <= 9 && digits < 19; i++, digits++)
        m = m * 10 + (unsigned)(s[i] - '0');
    if (i < n && s[i] == '.')
        for (i++; i < n && (unsigned char)(s[i] - '0') <= 9 && digits < 19; i++, digits++) {
            m = m * 10 + (unsigned)(s[i] - '0');
            exponent--;
        }
    if (digits == 0)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        bool minus = false;
        if (i < n && (s[i] == '-' || s[i] == '+'))
            minus = s[i++] == '-';
        size_t first = i;
        long e = 0;
        for (; i < n && (unsigned char)(s[i] - '0') <= 9 && e < 1000; i++)
            e = e * 10 + (s[i] - '0');
        if (i == first)
            return false;
        exponent += minus ? -e : e;
    }
    if (i != n || m > (uint64_t)1 << 53 || exponent < -22 || exponent > 22)
        return false;
    double v = (double)m;
    v = exponent < 0 ? v / powers[-exponent] : v * powers[exponent];
    *value = negative ? -v : v;
    return true;
}

static bool parse_f64(const char *s, size_t n, double *value)
{
    if (fast_f64(s, n, value))
        return true;
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

/* Cell (row r, column c) of t, unquoted (buf holds t->longest bytes), or
 * NULL when the row is too short. */
static const char *cell(const pyffi_csv_table *t, size_t r, size_t c, char *buf, size_t *len)
{
    size_t first = r ? t->rows[r - 1].fields_end : 0;
    if (c >= t->rows[r].fields_end - first)
        return NULL;
    return pyffi_csv_field(t, r, first + c, buf, len);
}

static pyffi_status column_error(const pyffi_csv_table *t, size_t r, size_t c,
                                 const char *name, size_t name_len, const char *what,
                                 char *buf)
{
    size_t len = 0;
    const char *text = cell(t, r, c, buf, &len);
    if (text == NULL)
        return pyffi__fail(PYFFI_CSV, "csv: row %zu, column '%.*s': the row has only %zu "
                           "field(s)", r + 1, (int)name_len, name,
                           t->rows[r].fields_end - (r ? t->rows[r - 1].fields_end : 0));
    return pyffi__fail(PYFFI_CSV, "csv: row %zu, column '%.*s': '%.*s' %s", r + 1,
                       (int)name_len, name, (int)(len > 200 ? 200 : len), text, what);
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
    if (out == NULL || table == NULL || first_row > table->n_rows || name == NULL)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "csv: bad column arguments");
    size_t n = table->n_rows - first_row;
    void *values = malloc((n ? n : 1) * 8);
    char *buf = values ? malloc(table->longest + 1) : NULL; /* for quoted cells */
    if (buf == NULL) {
        free(values);
        return pyffi__fail(PYFFI_NOMEM, "csv: no memory for a column of %zu values", n);
    }
    pyffi_status status = PYFFI_OK;
    for (size_t r = first_row; r < table->n_rows; r++) {
        size_t len;
        const char *text = cell(table, r, column, buf, &len);
        const char *what = text == NULL ? "" : parse(text, len, values, r - first_row);
        if (what != NULL) {
            status = column_error(table, r, column, name, name_len, what, buf);
            free(values);
            values = NULL;
            break;
        }
    }
    free(buf);
    if (status == PYFFI_OK)
        *out = values;
    return status;
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
