/* Private helpers shared by the core's files; never installed. */
#ifndef PYFFI_LIB_ERROR_H
#define PYFFI_LIB_ERROR_H

#include "pyffi.h"

/*
 * Record a formatted message for the calling thread and return @p status,
 * so a failure reads `return pyffi__fail(PYFFI_OVERFLOW, "...", ...);`.
 * The message is truncated to the per-thread buffer, never overflowing it.
 */
__attribute__((visibility("hidden"), format(printf, 2, 3)))
pyffi_status pyffi__fail(pyffi_status status, const char *fmt, ...);

/*
 * Ask the kernel to back the whole 2 MiB pages inside p[0..bytes) with huge
 * pages: far fewer page faults and TLB misses on big arrays. Advice only:
 * nothing changes where the kernel or the platform says no.
 */
__attribute__((visibility("hidden"))) void pyffi__huge_pages(void *p, size_t bytes);

#endif
