/* Private to pyffi's libraries (the chapters' core and the embedding library); never
 * installed. */
#ifndef PYFFI_LIB_ERROR_H
#define PYFFI_LIB_ERROR_H

#include "pyffi_common.h"

/*
 * Record a formatted message for the calling thread and return @p status,
 * so a failure reads `return pyffi__fail(PYFFI_OVERFLOW, "...", ...);`.
 * The message is truncated to the per-thread buffer, never overflowing it.
 */
__attribute__((visibility("hidden"), format(printf, 2, 3)))
pyffi_status pyffi__fail(pyffi_status status, const char *fmt, ...);

/* How many failures pyffi__fail recorded on the calling thread (compare two counts to
 * tell whether code in between recorded one). */
__attribute__((visibility("hidden"))) unsigned long pyffi__failures(void);

#endif
