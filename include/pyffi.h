/**
 * @file pyffi.h
 * @brief The one public header of the pyffi C core.
 *
 * Everything the core exports is declared here, and nowhere else: the Python
 * bindings' declarations are generated from this file by running it through
 * the C preprocessor with PYFFI_CDEF defined (`cc -E -P -DPYFFI_CDEF`).
 * That is why the header keeps to what cffi can read: no inline functions,
 * no attributes in declarations, constants as enum values.
 *
 * Conventions (see docs/design.md):
 *  - every public name starts with `pyffi_` or `PYFFI_`;
 *  - fallible functions return a ::pyffi_status; outputs come first as `out`
 *    parameters and are written only on success. Exception: a fallible
 *    function whose only output is one scalar returns a result struct
 *    `{ pyffi_status status; T value; }` by value (value meaningful only when
 *    status is PYFFI_OK). It is atomic for callers that cannot keep a private
 *    out buffer cheaply (Python: no per-call allocation, nothing shared
 *    between threads or re-entrant calls);
 *  - on failure, pyffi_error_last() holds a message for the calling thread;
 *  - memory the library allocates goes back through the library's own free
 *    function, never the caller's free();
 *  - no function aborts, exits or prints on bad input.
 */
#ifndef PYFFI_H
#define PYFFI_H

#include "pyffi_common.h"

#if defined(__cplusplus) && !defined(PYFFI_CDEF)
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Scalar results                                                            */
/* ------------------------------------------------------------------------ */

/** Result of a fallible function returning one int32_t. */
typedef struct pyffi_i32_result { pyffi_status status; int32_t value; } pyffi_i32_result;
/** Result of a fallible function returning one uint32_t. */
typedef struct pyffi_u32_result { pyffi_status status; uint32_t value; } pyffi_u32_result;
/** Result of a fallible function returning one intptr_t. */
typedef struct pyffi_isize_result { pyffi_status status; intptr_t value; } pyffi_isize_result;
/** Result of a fallible function returning one float. */
typedef struct pyffi_f32_result { pyffi_status status; float value; } pyffi_f32_result;
/** Result of a fallible function returning one double. */
typedef struct pyffi_f64_result { pyffi_status status; double value; } pyffi_f64_result;
/** Result of a fallible function returning one char. */
typedef struct pyffi_char_result { pyffi_status status; char value; } pyffi_char_result;

/* ------------------------------------------------------------------------ */
/* Numbers                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * 32-bit signed addition without wrap-around.
 *
 * @return .value = a + b with .status PYFFI_OK; or .status PYFFI_OVERFLOW if the sum does not fit int32_t.
 * Ownership: none.
 */
PYFFI_API pyffi_i32_result pyffi_scalar_add(int32_t a, int32_t b);

/**
 * x + 1 in int32_t.
 *
 * @return .value = x + 1 with .status PYFFI_OK; or .status PYFFI_OVERFLOW if x is INT32_MAX.
 * Ownership: none.
 */
PYFFI_API pyffi_i32_result pyffi_scalar_add_one(int32_t x);

/**
 * x + 1 in uint32_t.
 *
 * @return .value = x + 1 with .status PYFFI_OK; or .status PYFFI_OVERFLOW if x is UINT32_MAX.
 * Ownership: none.
 */
PYFFI_API pyffi_u32_result pyffi_scalar_add_one_u32(uint32_t x);

/**
 * x + 1 in a pointer-sized signed integer.
 *
 * @return .value = x + 1 with .status PYFFI_OK; or .status PYFFI_OVERFLOW if x is INTPTR_MAX.
 * Ownership: none.
 */
PYFFI_API pyffi_isize_result pyffi_scalar_add_one_isize(intptr_t x);

/**
 * x + 1 computed in float (single precision).
 *
 * @p x is taken as a double so that a value float cannot hold is reported
 * instead of silently becoming infinity. Infinities and NaN pass through.
 *
 * @return .value = (float)x + 1.0f with .status PYFFI_OK; or .status PYFFI_OVERFLOW if x is finite but beyond FLT_MAX in
 *         magnitude, or the sum is.
 * Ownership: none.
 */
PYFFI_API pyffi_f32_result pyffi_scalar_add_one_f32(double x);

/**
 * x + 1 computed in double. Cannot fail: a finite double plus one is finite.
 *
 * @return x + 1.0.
 * Ownership: none.
 */
PYFFI_API double pyffi_scalar_add_one_f64(double x);

/**
 * The square root of an int32_t, as a double.
 *
 * @return .value = sqrt(v) with .status PYFFI_OK; or .status PYFFI_DOMAIN if v is negative.
 * Ownership: none.
 */
PYFFI_API pyffi_f64_result pyffi_scalar_sqrt(int32_t v);

/**
 * a / b in double.
 *
 * @return .value = a / b with .status PYFFI_OK; or .status PYFFI_DIVISION_BY_ZERO if b is zero (either sign).
 * Ownership: none.
 */
PYFFI_API pyffi_f64_result pyffi_scalar_divide(double a, double b);

/**
 * Logical negation.
 *
 * @return !b.
 * Ownership: none.
 */
PYFFI_API bool pyffi_scalar_not(bool b);

/**
 * The decimal representation of a + b, built in C.
 *
 * @param[out] out     a new NUL-terminated string, set only on success.
 * @param[out] out_len its length in bytes (without the NUL); may be NULL.
 * @return PYFFI_OK, PYFFI_OVERFLOW if a + b does not fit size_t, or
 *         PYFFI_NOMEM.
 * Ownership: the caller owns *out and releases it with pyffi_string_free().
 */
PYFFI_API pyffi_status pyffi_scalar_sum_string(char **out, size_t *out_len,
                                               size_t a, size_t b);

/* ------------------------------------------------------------------------ */
/* Characters                                                                */
/* ------------------------------------------------------------------------ */

/**
 * The next byte value: c + 1.
 *
 * @return .value = the byte after @p c with .status PYFFI_OK; or .status PYFFI_OVERFLOW if @p c is the byte 0xFF.
 * Ownership: none.
 */
PYFFI_API pyffi_char_result pyffi_char_next(char c);

/**
 * Maps U+61A8 (憨) to U+6279 (批); every other code point maps to itself.
 *
 * @return .value = the mapped code point with .status PYFFI_OK; or .status PYFFI_INVALID_ARGUMENT if @p code_point is a
 *         surrogate (U+D800..U+DFFF) or beyond U+10FFFF.
 * Ownership: none.
 */
PYFFI_API pyffi_u32_result pyffi_char_unicode(uint32_t code_point);

/* ------------------------------------------------------------------------ */
/* Text                                                                      */
/* ------------------------------------------------------------------------ */

/** Flags of the UTF-8 text functions. */
enum {
    /** Strict UTF-8 (RFC 3629). */
    PYFFI_UTF8_STRICT = 0,
    /** Also accept encoded lone surrogates (ED A0..BF 80..BF) and copy them
     *  unchanged, as Python's "surrogatepass" error handler produces them. */
    PYFFI_UTF8_ALLOW_SURROGATES = 1
};

/**
 * Full Unicode uppercase of UTF-8 text, exactly as Python's str.upper():
 * one-to-many mappings included ("straße" -> "STRASSE"), no language-specific
 * rules. Lengths are explicit: NUL bytes are ordinary characters.
 *
 * @param[out] out     the uppercased text, NUL-terminated, set only on success.
 * @param[out] out_len its length in bytes (without the NUL); may be NULL.
 * @param text  UTF-8, @p len bytes (NULL only when @p len is 0).
 * @param flags PYFFI_UTF8_STRICT or PYFFI_UTF8_ALLOW_SURROGATES.
 * @return PYFFI_OK; PYFFI_UTF8 if @p text is not valid UTF-8 (the message
 *         names the byte offset of the first bad sequence);
 *         PYFFI_INVALID_ARGUMENT for unknown flags or a NULL pointer; or
 *         PYFFI_NOMEM.
 * Ownership: the caller owns *out and releases it with pyffi_string_free().
 */
PYFFI_API pyffi_status pyffi_utf8_to_uppercase(char **out, size_t *out_len,
                                               const char *text, size_t len,
                                               unsigned flags);

/**
 * Full Unicode lowercase of UTF-8 text, exactly as Python's str.lower(),
 * including the Final_Sigma rule ("ΟΔΟΣ" -> "οδος" with a final ς).
 *
 * Parameters, results and ownership as pyffi_utf8_to_uppercase().
 */
PYFFI_API pyffi_status pyffi_utf8_to_lowercase(char **out, size_t *out_len,
                                               const char *text, size_t len,
                                               unsigned flags);

/**
 * The version of Unicode whose data pyffi_utf8_to_uppercase() and
 * pyffi_utf8_to_lowercase() follow, such as "17.0.0": the newest Debian ships
 * when the tables were generated, whatever the system's Unicode libraries are.
 * A Python whose Unicode version is older agrees on every character that
 * version assigns and whose data did not change since.
 * @return a static string; never NULL.
 */
PYFFI_API const char *pyffi_unicode_version(void);

/* ------------------------------------------------------------------------ */
/* Arrays                                                                    */
/* ------------------------------------------------------------------------ */

/**
 * Sort @p n int32_t values ascending, in place (a radix sort: one MSD pass,
 * then each bucket in cache: by sorting networks in AVX-512 registers where
 * the CPU has them, else by LSD passes; equal integers are
 * indistinguishable, so stability is moot). Arrays of 2^18 elements or more
 * are sorted by as many threads as the process may run on (at most 4); a
 * helper thread the system starts after the caller has sorted everything
 * alone is not waited for, and exits without touching @p xs.
 *
 * @return PYFFI_OK; PYFFI_INVALID_ARGUMENT if @p xs is NULL and @p n is not 0;
 *         or PYFFI_NOMEM (a scratch buffer of @p n elements is needed, except
 *         for n < 2 or, with AVX-512, n <= 256; from 2^23 elements with
 *         AVX-512, of n / 2 unless most keys share their top bits), with
 *         @p xs untouched.
 * Ownership: @p xs is borrowed for the call.
 */
PYFFI_API pyffi_status pyffi_sort_i32(int32_t *xs, size_t n);
/**
 * As pyffi_sort_i32(), for int64_t: from 2^16 elements one MSD pass, then
 * each bucket LSD-sorted in cache (a bucket too big for it split again),
 * below that LSD passes; the scratch buffer is needed when n >= 48.
 */
PYFFI_API pyffi_status pyffi_sort_i64(int64_t *xs, size_t n);
/** As pyffi_sort_i32(), for uint32_t. */
PYFFI_API pyffi_status pyffi_sort_u32(uint32_t *xs, size_t n);
/** As pyffi_sort_i32(), for uint64_t. */
PYFFI_API pyffi_status pyffi_sort_u64(uint64_t *xs, size_t n);
/**
 * As pyffi_sort_i32(), for float: NaNs go last (in no particular order),
 * -0.0 before 0.0. On PYFFI_NOMEM the NaNs may have moved to the end but
 * every value is still in the array.
 */
PYFFI_API pyffi_status pyffi_sort_f32(float *xs, size_t n);
/** As pyffi_sort_f32(), for double. */
PYFFI_API pyffi_status pyffi_sort_f64(double *xs, size_t n);

/**
 * The multiples of @p divisor in 1..@p upto, ascending, in a new array:
 * C decides the length (upto / |divisor|, 0 when upto < 1).
 *
 * @param[out] out     the array, set only on success (never NULL then, even
 *                     when empty).
 * @param[out] out_len its number of elements.
 * @return PYFFI_OK; PYFFI_DIVISION_BY_ZERO if @p divisor is 0;
 *         PYFFI_INVALID_ARGUMENT for a NULL out pointer; or PYFFI_NOMEM.
 * Ownership: the caller owns *out and releases it with pyffi_array_free().
 */
PYFFI_API pyffi_status pyffi_create_array(int64_t **out, size_t *out_len,
                                          int64_t divisor, int64_t upto);

/**
 * Release an array returned by pyffi_create_array().
 *
 * @param array the array; NULL is a no-op.
 * Ownership: takes @p array.
 */
PYFFI_API void pyffi_array_free(int64_t *array);

/** A key (UTF-8 bytes with an explicit length) and a value. */
typedef struct pyffi_entry {
    const char *key;
    size_t key_len;
    int64_t value;
} pyffi_entry;

/**
 * Sort entries by key bytes (memcmp order; a prefix sorts first), in place.
 *
 * @return PYFFI_OK, or PYFFI_INVALID_ARGUMENT for a NULL array or a NULL key
 *         with a non-zero length (nothing is moved then).
 * Ownership: @p entries and the keys are borrowed for the call.
 */
PYFFI_API pyffi_status pyffi_entries_sort(pyffi_entry *entries, size_t n);

/* ------------------------------------------------------------------------ */
/* Callbacks                                                                 */
/* Every callback takes the caller's `void *user` first and returns a        */
/* pyffi_status: PYFFI_OK to go on, anything else to make the calling        */
/* function stop at once and return that status (PYFFI_CALLBACK when the     */
/* callback has its own record of what went wrong, as Python's exceptions). */
/* ------------------------------------------------------------------------ */

/** A binary operation on int32 values: stores op(a, b) in *out. */
typedef pyffi_status (*pyffi_i32_binop)(void *user, int32_t a, int32_t b, int32_t *out);

/** A three-way comparison: *out < 0, == 0 or > 0 as a < b, a == b, a > b. */
typedef pyffi_status (*pyffi_i64_compare)(void *user, int64_t a, int64_t b, int *out);

/** A function of one double: stores f(x) in *out. */
typedef pyffi_status (*pyffi_f64_unary)(void *user, double x, double *out);

/** Progress of a long computation: @p done of @p total units finished. */
typedef pyffi_status (*pyffi_progress)(void *user, size_t done, size_t total);

/**
 * Apply @p op to @p a and @p b through a C function pointer.
 *
 * @return .value = op(a, b) with .status PYFFI_OK; PYFFI_INVALID_ARGUMENT
 *         for a NULL @p op; or the status @p op returned.
 * Ownership: @p user is passed through untouched.
 */
PYFFI_API pyffi_i32_result pyffi_calc(int32_t a, int32_t b, pyffi_i32_binop op, void *user);

/**
 * Sort @p n int64 values ascending, in place, by @p compare (a stable merge
 * sort: equal values keep their order; an inconsistent comparison gives
 * some permutation, never an out-of-bounds access).
 *
 * @return PYFFI_OK; PYFFI_INVALID_ARGUMENT (NULL @p compare, or NULL @p xs
 *         with n > 0); PYFFI_NOMEM (scratch of @p n values), with @p xs
 *         untouched; or the status @p compare returned, at once, with @p xs
 *         holding a permutation of its values.
 * Ownership: @p xs is borrowed for the call.
 */
PYFFI_API pyffi_status pyffi_sort_i64_by(int64_t *xs, size_t n, pyffi_i64_compare compare,
                                         void *user);

/**
 * out[i] = fn(xs[i]) for i in 0..n-1, in order (@p out may be @p xs).
 *
 * @return PYFFI_OK; PYFFI_INVALID_ARGUMENT (NULL @p fn, or a NULL array with
 *         n > 0); or the status @p fn returned, at once (out[0..i-1] are set).
 * Ownership: both arrays are borrowed for the call.
 */
PYFFI_API pyffi_status pyffi_map_f64(double *out, const double *xs, size_t n,
                                     pyffi_f64_unary fn, void *user);

/* ------------------------------------------------------------------------ */
/* Heavy computation on C threads                                            */
/* ------------------------------------------------------------------------ */

enum {
    /** Most threads pyffi_compute_heavy() accepts. */
    PYFFI_COMPUTE_MAX_THREADS = 256
};

/**
 * The sum of tan(cos(sin(x))) over @p xs, on @p threads threads (the
 * calling one included). The data is cut into fixed blocks whose sums are
 * added in block order, so the result is the same for every thread count.
 *
 * @param progress NULL, or called from the worker threads (one at a time,
 *                 with @p done increasing) at most about 100 times; a
 *                 status other than PYFFI_OK stops the computation.
 * @return .value with .status PYFFI_OK; PYFFI_INVALID_ARGUMENT (threads 0
 *         or above PYFFI_COMPUTE_MAX_THREADS, or NULL @p xs with n > 0);
 *         PYFFI_NOMEM; or the status @p progress returned.
 * Ownership: @p xs is borrowed for the call. If a thread cannot be started
 * the work is shared by the threads that could.
 */
PYFFI_API pyffi_f64_result pyffi_compute_heavy(const double *xs, size_t n, unsigned threads,
                                               pyffi_progress progress, void *user);

/* ------------------------------------------------------------------------ */
/* CSV                                                                       */
/* ------------------------------------------------------------------------ */

/** Dialect of pyffi_csv_parse(); the Python defaults are ',', '"', false, true. */
typedef struct pyffi_csv_options {
    char delimiter;  /**< field separator */
    char quotechar;  /**< opens a quoted field at the start of a field */
    bool trim;       /**< strip spaces and tabs (not the delimiter) around fields, outside quotes */
    bool strict;     /**< fail where Python's csv.reader(strict=True) fails */
    /** NULL, or called as the text is parsed: with (progress_user, bytes
     *  parsed, bytes in all) about every PYFFI_CSV_PROGRESS_STEP bytes and
     *  once at the end (done == total). A status other than PYFFI_OK stops
     *  the parse, which returns that status. */
    pyffi_progress progress;
    void *progress_user;
} pyffi_csv_options;

/** About how many bytes pyffi_csv_parse() parses between two progress calls. */
#define PYFFI_CSV_PROGRESS_STEP 1048576

/** A row of a pyffi_csv_table. */
typedef struct pyffi_csv_row {
    size_t start;      /**< offset in the text of the row's first byte */
    size_t fields_end; /**< the row is fields [previous row's fields_end (0 for the
                            first), fields_end) */
} pyffi_csv_row;

/**
 * Parsed CSV, as positions in the parsed text (nothing is copied): field k
 * of row r spans its row's text from the byte after field k - 1's end (0
 * for the row's first field) to field_ends[k], both relative to
 * rows[r].start; the byte at the end is its separator (delimiter or line
 * break; or the end of the text). That span is the field as written:
 * pyffi_csv_field() gives its value. A blank line is a row of no fields, as
 * in csv.reader.
 */
typedef struct pyffi_csv_table {
    const char *text;      /**< the parsed text (borrowed: see pyffi_csv_parse) */
    pyffi_csv_options options;
    uint32_t *field_ends;  /**< per field, relative to its row's start */
    size_t n_fields;
    pyffi_csv_row *rows;
    size_t n_rows;
    size_t longest;  /**< bytes in the longest record: the buffer pyffi_csv_field needs */
    size_t consumed; /**< input bytes used: whole records only when not final */
    size_t lines;    /**< line breaks within the consumed bytes (when not final) */
    size_t field_cap, row_cap; /**< private: the arrays' capacities */
} pyffi_csv_table;

/**
 * Parse CSV text (RFC 4180 and what real files hold: quoted fields with
 * doubled quotes, delimiters and line breaks inside quotes, LF, CRLF and
 * lone CR line ends, a last line with or without a line break).
 *
 * @param[out] out  the table, set only on success.
 * @param text      @p len bytes of UTF-8 (no BOM: the caller drops it).
 * @param final     true: @p text is the end of the data. false: stop after
 *                  the last complete record (table->consumed says where),
 *                  so the caller can append the next chunk to the rest.
 * @param first_line, base_offset  where @p text starts in the whole data
 *                  (for messages): its 1-based line and its byte offset.
 * @return PYFFI_OK; PYFFI_CSV with "line L, column C: ..." (strict mode:
 *         text after a closing quote, or a quoted field not closed at the
 *         end of the data); PYFFI_UTF8 naming the byte offset;
 *         PYFFI_INVALID_ARGUMENT (NULL pointers, a line break or the same
 *         byte as delimiter and quotechar); or PYFFI_NOMEM. A record of
 *         more than 4 GiB is PYFFI_CSV too (field ends are 32-bit).
 * Ownership: the caller owns *out and releases it with pyffi_csv_table_free().
 * The table points into @p text, which must stay alive and unchanged until
 * then.
 */
PYFFI_API pyffi_status pyffi_csv_parse(pyffi_csv_table **out, const char *text, size_t len,
                                       const pyffi_csv_options *options, bool final,
                                       size_t first_line, size_t base_offset);

/** Release a table from pyffi_csv_parse(); NULL is a no-op. Ownership: takes @p table. */
PYFFI_API void pyffi_csv_table_free(pyffi_csv_table *table);

/**
 * The value of field @p field (an index into field_ends) of row @p row:
 * the span with quoting undone (the quotes removed, doubled quotes made
 * single, and in lenient mode any text after the closing quote kept) and,
 * with options.trim, spaces and tabs around it removed.
 *
 * @param buf  room for table->longest bytes: used for quoted fields only.
 * @param[out] len  the value's length in bytes.
 * @return a pointer into the text (most fields) or to @p buf.
 */
PYFFI_API const char *pyffi_csv_field(const pyffi_csv_table *table, size_t row, size_t field,
                                      char *buf, size_t *len);

/**
 * Column @p column of rows @p first_row.. of a table as int64 values
 * (optional sign, decimal digits, nothing else).
 *
 * @param[out] out  n_rows - first_row values, set only on success (never
 *                  NULL then, even when empty).
 * @param name      the column's name, @p name_len bytes, for messages.
 * @return PYFFI_OK; PYFFI_CSV naming the row (1-based, as in the file), the
 *         column and the text ("row 7, column 'price': '12x' is not an
 *         integer"; a row too short; a value beyond int64); or
 *         PYFFI_INVALID_ARGUMENT / PYFFI_NOMEM.
 * Ownership: the caller owns *out and releases it with pyffi_csv_column_free().
 */
PYFFI_API pyffi_status pyffi_csv_column_i64(int64_t **out, const pyffi_csv_table *table,
                                            size_t column, size_t first_row,
                                            const char *name, size_t name_len);

/** As pyffi_csv_column_i64(), for float64 values (C strtod syntax: "1e3", "-0.5", "nan"). */
PYFFI_API pyffi_status pyffi_csv_column_f64(double **out, const pyffi_csv_table *table,
                                            size_t column, size_t first_row,
                                            const char *name, size_t name_len);

/** Release a column from pyffi_csv_column_i64/f64(); NULL is a no-op. Ownership: takes it. */
PYFFI_API void pyffi_csv_column_free(void *column);

/* ------------------------------------------------------------------------ */
/* Slices shared with other libraries (pyffi.load)                           */
/* A pointer and a length, for C and Rust (#[repr(C)] struct of a pointer    */
/* and a usize) libraries that pyffi.load() marshals Python values into:    */
/* str -> pyffi_str, bytes-like -> pyffi_bytes, list of ints -> a vec, ...   */
/* Ownership: the memory a slice points to belongs to whoever filled it in;  */
/* for an argument pyffi.load() built, it is valid for the call only.        */
/* ------------------------------------------------------------------------ */

typedef struct pyffi_str        { const char *ptr; size_t len; } pyffi_str;        /* UTF-8, not NUL-terminated */
typedef struct pyffi_bytes      { uint8_t *ptr; size_t len; } pyffi_bytes;
typedef struct pyffi_vec_i64    { int64_t *ptr; size_t len; } pyffi_vec_i64;
typedef struct pyffi_vec_f64    { double *ptr; size_t len; } pyffi_vec_f64;
typedef struct pyffi_vec_str    { pyffi_str *ptr; size_t len; } pyffi_vec_str;
typedef struct pyffi_vec_vec_i64 { pyffi_vec_i64 *ptr; size_t len; } pyffi_vec_vec_i64;

/* ------------------------------------------------------------------------ */
/* Structs                                                                   */
/* ------------------------------------------------------------------------ */

/** A point in the plane: a plain value struct, no heap memory. */
typedef struct pyffi_point { double x; double y; } pyffi_point;

/**
 * Euclidean distance between two points passed BY VALUE.
 *
 * @return the distance (hypot of the differences).
 * Ownership: none; the points are copies.
 */
PYFFI_API double pyffi_point_distance(pyffi_point a, pyffi_point b);

/**
 * Euclidean distance between two points passed BY POINTER.
 *
 * @return the distance, or NaN if either pointer is NULL.
 * Ownership: none; the points are borrowed for the call only.
 */
PYFFI_API double pyffi_point_distance_ptr(const pyffi_point *a, const pyffi_point *b);

/** A person: a struct that owns heap memory (its name). */
typedef struct pyffi_person { char *name; uint8_t age; } pyffi_person;

/** Result of pyffi_person_create(): a person returned by value. */
typedef struct pyffi_person_result { pyffi_status status; pyffi_person value; } pyffi_person_result;

/**
 * Allocate a person, copying @p name (UTF-8, @p name_len bytes, no NUL inside).
 *
 * @param[out] out the new person, set only on success.
 * @return PYFFI_OK, PYFFI_INVALID_ARGUMENT if name contains a NUL byte, or
 *         PYFFI_NOMEM.
 * Ownership: the caller owns *out and releases it with pyffi_person_free().
 */
PYFFI_API pyffi_status pyffi_person_new(pyffi_person **out, const char *name,
                                        size_t name_len, uint8_t age);

/**
 * Release a person made by pyffi_person_new() and its name.
 *
 * @param person the person; NULL is a no-op.
 * Ownership: takes @p person.
 */
PYFFI_API void pyffi_person_free(pyffi_person *person);

/**
 * A person returned BY VALUE; its name is a new heap copy.
 *
 * @return .value with .status PYFFI_OK; or .status PYFFI_INVALID_ARGUMENT
 *         (a NUL in name) or PYFFI_NOMEM, with .value zeroed.
 * Ownership: the caller owns .value.name and releases it with
 * pyffi_person_clear() on the struct (never free()).
 */
PYFFI_API pyffi_person_result pyffi_person_create(const char *name, size_t name_len,
                                                  uint8_t age);

/**
 * Release the heap field of a person held by value (see pyffi_person_create()),
 * leaving name NULL. The struct itself is the caller's.
 *
 * @param person the struct; NULL, or a NULL name, is a no-op.
 * Ownership: releases person->name.
 */
PYFFI_API void pyffi_person_clear(pyffi_person *person);

/**
 * Replace a person's name with a copy of @p name; the old name is freed.
 *
 * @return PYFFI_OK, PYFFI_INVALID_ARGUMENT (NULL person or a NUL in name),
 *         or PYFFI_NOMEM (the old name is kept).
 * Ownership: @p person is borrowed; the new copy belongs to it.
 */
PYFFI_API pyffi_status pyffi_person_set_name(pyffi_person *person, const char *name,
                                             size_t name_len);

#if defined(__cplusplus) && !defined(PYFFI_CDEF)
}
#endif

#endif /* PYFFI_H */
