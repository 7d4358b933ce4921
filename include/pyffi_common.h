/**
 * @file pyffi_common.h
 * @brief What every pyffi library shares: version, status table, error detail, free.
 *
 * Included by pyffi.h (the chapters' core, libpyffi.so) and pyffi_embed.h
 * (libpyffi_embed.so); both libraries link the same small common core
 * (lib/common/) and export these functions. Kept to what cffi can read, as
 * pyffi.h is: the Python side's status names are generated from
 * PYFFI_STATUS_MAP at build time.
 */
#ifndef PYFFI_COMMON_H
#define PYFFI_COMMON_H

#ifndef PYFFI_CDEF
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#endif

#ifndef PYFFI_API
#if defined(PYFFI_CDEF)
#define PYFFI_API
#elif defined(__GNUC__)
#define PYFFI_API __attribute__((visibility("default")))
#else
#define PYFFI_API
#endif
#endif

#if defined(__cplusplus) && !defined(PYFFI_CDEF)
extern "C" {
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

/** The version of this header; pyffi_version_string() gives the library's. */
enum {
    PYFFI_VERSION_MAJOR = 0,
    PYFFI_VERSION_MINOR = 1,
    PYFFI_VERSION_PATCH = 0
};

/**
 * The library's version as "MAJOR.MINOR.PATCH".
 *
 * @return a static string, never NULL.
 * Ownership: static storage; do not free.
 */
PYFFI_API const char *pyffi_version_string(void);

/* ------------------------------------------------------------------------ */
/* Status codes and error detail                                             */
/* ------------------------------------------------------------------------ */

/**
 * The one status table: X(NAME, VALUE, MESSAGE). Values are stable: a new
 * status is appended with the next free value, none is ever renumbered.
 */
#define PYFFI_STATUS_MAP(X)                                                  \
    X(OK, 0, "no error")                                                     \
    X(NOMEM, 1, "out of memory")                                             \
    X(INVALID_ARGUMENT, 2, "invalid argument")                               \
    X(OVERFLOW, 3, "value out of range")                                     \
    X(DIVISION_BY_ZERO, 4, "Division by zero")                               \
    X(DOMAIN, 5, "argument outside the function's domain")                  \
    X(UTF8, 6, "invalid UTF-8")                                              \
    X(CALLBACK, 7, "a callback reported a failure")                          \
    X(CSV, 8, "malformed CSV")                                               \
    X(PYTHON, 9, "a Python exception was raised")

#define PYFFI_STATUS_ENUM_(name, value, message) PYFFI_##name = value,
/** Result of every fallible pyffi function; PYFFI_OK (0) means success. */
typedef enum pyffi_status { PYFFI_STATUS_MAP(PYFFI_STATUS_ENUM_) } pyffi_status;
#undef PYFFI_STATUS_ENUM_

/**
 * The enumerator's name, e.g. "PYFFI_OVERFLOW".
 *
 * @return a static string; "PYFFI_UNKNOWN" for a value not in the table.
 * Ownership: static storage; do not free.
 */
PYFFI_API const char *pyffi_status_name(pyffi_status status);

/**
 * A generic one-line description of @p status, e.g. "value out of range".
 *
 * @return a static string; "unknown status" for a value not in the table.
 * Ownership: static storage; do not free.
 */
PYFFI_API const char *pyffi_status_message(pyffi_status status);

/**
 * The detailed message of the last failure on the calling thread, e.g.
 * "add: 2147483647 + 1 does not fit int32_t".
 *
 * Only meaningful right after a call returned a status other than PYFFI_OK:
 * the status, not the message, says whether a call failed.
 *
 * @return a NUL-terminated UTF-8 string, never NULL ("no error" before any
 *         failure on this thread).
 * Ownership: owned by the library, per thread; valid until the next pyffi
 * call on the same thread. Copy it to keep it.
 */
PYFFI_API const char *pyffi_error_last(void);

/* ------------------------------------------------------------------------ */
/* Owned memory                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Release a string returned by pyffi (e.g. by pyffi_scalar_sum_string()).
 *
 * @param s the string; NULL is a no-op.
 * Ownership: takes @p s; it must come from pyffi and be released once.
 */
PYFFI_API void pyffi_string_free(char *s);

#if defined(__cplusplus) && !defined(PYFFI_CDEF)
}
#endif

#endif /* PYFFI_COMMON_H */
