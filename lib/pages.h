/* Private to the chapters' core; never installed. */
#ifndef PYFFI_LIB_PAGES_H
#define PYFFI_LIB_PAGES_H

#include <stddef.h>

/*
 * Ask the kernel to back the whole 2 MiB pages inside p[0..bytes) with huge
 * pages: far fewer page faults and TLB misses on big arrays. Advice only:
 * nothing changes where the kernel or the platform says no.
 */
__attribute__((visibility("hidden"))) void pyffi__huge_pages(void *p, size_t bytes);

#endif
