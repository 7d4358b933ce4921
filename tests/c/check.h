/* A minimal check macro for the C tests: report and count, never abort. */
#ifndef PYFFI_TEST_CHECK_H
#define PYFFI_TEST_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                           \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, \
                    #cond);                                                   \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_STR(got, want)                                                  \
    do {                                                                      \
        const char *got_ = (got), *want_ = (want);                            \
        if (strcmp(got_, want_) != 0) {                                       \
            fprintf(stderr, "%s:%d: %s is \"%s\", want \"%s\"\n", __FILE__,   \
                    __LINE__, #got, got_, want_);                             \
            check_failures++;                                                 \
        }                                                                     \
    } while (0)

#define CHECK_DONE()                                                          \
    (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1) : 0)

#endif
