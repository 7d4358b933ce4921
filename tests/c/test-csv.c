/* The CSV parser: records, quoting, line ends, chunked parsing, errors. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_NORESERVE */
#include "pyffi.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static const pyffi_csv_options STRICT = {.delimiter = ',', .quotechar = '"', .strict = true};

/* Render a table as "a|b;c;" (fields joined by |, rows ended by ;). */
static void render(const pyffi_csv_table *t, char *buf, size_t cap)
{
    size_t n = 0, field = 0;
    char value[256];
    for (size_t r = 0; r < t->n_rows; r++) {
        size_t first = field;
        for (; field < t->rows[r].fields_end; field++) {
            if (field > first && n + 1 < cap)
                buf[n++] = '|';
            size_t len = 0;
            const char *text = t->longest < sizeof value
                                   ? pyffi_csv_field(t, r, field, value, &len)
                                   : "(too long)";
            if (t->longest >= sizeof value)
                len = strlen(text);
            for (size_t k = 0; k < len && n + 1 < cap; k++)
                buf[n++] = text[k];
        }
        if (n + 1 < cap)
            buf[n++] = ';';
    }
    buf[n] = 0;
}

static void check_parse(const char *text, const char *want)
{
    pyffi_csv_table *t = NULL;
    char got[256];
    pyffi_status status = pyffi_csv_parse(&t, text, strlen(text), &STRICT, true, 1, 0);
    CHECK(status == PYFFI_OK);
    if (status != PYFFI_OK)
        return;
    render(t, got, sizeof got);
    CHECK_STR(got, want);
    CHECK(t->consumed == strlen(text));
    pyffi_csv_table_free(t);
}

static void test_records(void)
{
    check_parse("", "");
    check_parse("a,b\r\nc,d\r\n", "a|b;c|d;");
    check_parse("a\rb\nc", "a;b;c;");
    check_parse("\n\n", ";;");
    check_parse("\"x,\"\"y\"\"\r\nz\",w", "x,\"y\"\r\nz|w;");
    check_parse("a\"b,", "a\"b|;");
}

static void test_chunks(void)
{
    const char *text = "a,\"b\nc\"\nd\r";
    pyffi_csv_table *t = NULL;
    /* not final: the record cut by the end waits, so does a lone CR */
    CHECK(pyffi_csv_parse(&t, text, 5, &STRICT, false, 1, 0) == PYFFI_OK);
    CHECK(t->n_rows == 0 && t->consumed == 0);
    pyffi_csv_table_free(t);
    CHECK(pyffi_csv_parse(&t, text, strlen(text), &STRICT, false, 1, 0) == PYFFI_OK);
    CHECK(t->n_rows == 1 && t->consumed == 8 && t->lines == 2);
    pyffi_csv_table_free(t);
    /* "\xc3" alone at the end of a chunk is half of a character, not an error */
    CHECK(pyffi_csv_parse(&t, "ab\xc3", 3, &STRICT, false, 1, 0) == PYFFI_OK);
    CHECK(t->consumed == 0);
    pyffi_csv_table_free(t);
}

static void test_errors(void)
{
    pyffi_csv_table *t = (pyffi_csv_table *)&t; /* untouched on failure */
    pyffi_csv_table *const before = t;
    CHECK(pyffi_csv_parse(&t, "a\n\"b\"c", 6, &STRICT, true, 1, 0) == PYFFI_CSV);
    CHECK_STR(pyffi_error_last(), "csv: line 2, column 4: 'c' after a closing quote (a "
                                  "delimiter or a line break was expected)");
    CHECK(pyffi_csv_parse(&t, "x,\"open", 7, &STRICT, true, 10, 0) == PYFFI_CSV);
    CHECK_STR(pyffi_error_last(), "csv: line 10, column 3: '\"' opens a quoted field that is "
                                  "not closed at the end of the data");
    CHECK(pyffi_csv_parse(&t, "ok\xff", 3, &STRICT, true, 1, 100) == PYFFI_UTF8);
    CHECK_STR(pyffi_error_last(), "csv: invalid UTF-8 at byte offset 102");
    /* the error first in the text wins: the CSV error before the bad byte */
    CHECK(pyffi_csv_parse(&t, "a\n\"b\"c\xff", 7, &STRICT, true, 1, 0) == PYFFI_CSV);
    CHECK_STR(pyffi_error_last(), "csv: line 2, column 4: 'c' after a closing quote (a "
                                  "delimiter or a line break was expected)");
    CHECK(pyffi_csv_parse(&t, "a\n\"b\"\xff", 6, &STRICT, true, 1, 0) == PYFFI_UTF8);
    pyffi_csv_options same = {.delimiter = ',', .quotechar = ',', .strict = true};
    CHECK(pyffi_csv_parse(&t, "a", 1, &same, true, 1, 0) == PYFFI_INVALID_ARGUMENT);
    CHECK(pyffi_csv_parse(NULL, "a", 1, &STRICT, true, 1, 0) == PYFFI_INVALID_ARGUMENT);
    CHECK(pyffi_csv_parse(&t, NULL, 1, &STRICT, true, 1, 0) == PYFFI_INVALID_ARGUMENT);
    CHECK(t == before);
    pyffi_csv_table_free(NULL);
}

typedef struct calls {
    size_t n, last_done, total, stop_at;
} calls;

static pyffi_status count_progress(void *user, size_t done, size_t total)
{
    calls *c = user;
    CHECK(done >= c->last_done && done <= total);
    c->n++;
    c->last_done = done;
    c->total = total;
    return c->n == c->stop_at ? PYFFI_CALLBACK : PYFFI_OK;
}

static void test_progress(void)
{
    /* 3.5 MiB of records: reports after each MiB, then at the end */
    size_t len = 7 * (PYFFI_CSV_PROGRESS_STEP / 2);
    char *text = malloc(len);
    CHECK(text != NULL);
    if (text == NULL)
        return;
    for (size_t i = 0; i < len; i++)
        text[i] = i % 16 == 15 ? '\n' : i % 4 == 3 ? ',' : 'a';
    calls c = {0, 0, 0, 0};
    pyffi_csv_options options = STRICT;
    options.progress = count_progress;
    options.progress_user = &c;
    pyffi_csv_table *t = NULL;
    CHECK(pyffi_csv_parse(&t, text, len, &options, true, 1, 0) == PYFFI_OK);
    CHECK(c.n == 4 && c.last_done == len && c.total == len);
    CHECK(t != NULL && t->n_rows == len / 16 && t->n_fields == len / 4);
    pyffi_csv_table_free(t);
    /* a callback's status stops the parse, and nothing is returned */
    pyffi_csv_table *before = (pyffi_csv_table *)&t;
    t = before;
    c = (calls){0, 0, 0, 2};
    CHECK(pyffi_csv_parse(&t, text, len, &options, true, 1, 0) == PYFFI_CALLBACK);
    CHECK(c.n == 2 && t == before);
    c = (calls){0, 0, 0, 1}; /* a small text: only the final call, which stops it */
    CHECK(pyffi_csv_parse(&t, text, 100, &options, true, 1, 0) == PYFFI_CALLBACK);
    CHECK(c.n == 1 && c.last_done == 100 && t == before);
    free(text);
}

/* Field ends are 32-bit offsets in their record: a longer record is an
 * error, not a wrap. The text is 4 GiB + 2 of untouched anonymous memory
 * (NUL bytes, valid UTF-8, read from the kernel's zero page: no RAM used). */
static void test_record_over_4_gib(void)
{
    if (sizeof(size_t) < 8)
        return;
    size_t len = ((size_t)1 << 32) + 2;
    char *text = mmap(NULL, len, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (text == MAP_FAILED)
        return; /* no address space for it here */
    pyffi_csv_table *t = NULL;
    CHECK(pyffi_csv_parse(&t, text, len, &STRICT, true, 5, 0) == PYFFI_CSV);
    CHECK_STR(pyffi_error_last(), "csv: line 5: a record of more than 4 GiB");
    CHECK(t == NULL);
    munmap(text, len);
}

static void test_columns(void)
{
    const char *text = "n,x\n1,2.5\n-3,1e3\n4\n";
    pyffi_csv_table *t = NULL;
    CHECK(pyffi_csv_parse(&t, text, strlen(text), &STRICT, true, 1, 0) == PYFFI_OK);
    int64_t *ints = NULL;
    CHECK(pyffi_csv_column_i64(&ints, t, 0, 1, "n", 1) == PYFFI_OK);
    CHECK(ints && ints[0] == 1 && ints[1] == -3 && ints[2] == 4);
    pyffi_csv_column_free(ints);
    double *xs = NULL;
    CHECK(pyffi_csv_column_f64(&xs, t, 1, 1, "x", 1) == PYFFI_CSV);
    CHECK(xs == NULL);
    CHECK_STR(pyffi_error_last(), "csv: row 4, column 'x': the row has only 1 field(s)");
    CHECK(pyffi_csv_column_i64(&ints, t, 1, 1, "x", 1) == PYFFI_CSV);
    CHECK_STR(pyffi_error_last(), "csv: row 2, column 'x': '2.5' is not an integer");
    CHECK(pyffi_csv_column_f64(&xs, t, 1, 9, "x", 1) == PYFFI_INVALID_ARGUMENT);
    CHECK(pyffi_csv_column_f64(&xs, t, 1, 3, "x", 1) == PYFFI_CSV); /* row 4 again */
    CHECK(pyffi_csv_column_f64(&xs, t, 0, 4, "n", 1) == PYFFI_OK && xs != NULL); /* empty */
    pyffi_csv_column_free(xs);
    pyffi_csv_column_free(NULL);
    pyffi_csv_table_free(t);
}

int main(void)
{
    test_records();
    test_progress();
    test_record_over_4_gib();
    test_columns();
    test_chunks();
    test_errors();
    return CHECK_DONE();
}
