/* Huge pages for the chapters' big arrays (sorts, CSV tables, created arrays). */
#define _DEFAULT_SOURCE /* madvise */

#include "pages.h"

#include <stdint.h>
#if defined(__linux__)
#include <sys/mman.h>
#endif

void pyffi__huge_pages(void *p, size_t bytes)
{
#if defined(__linux__) && defined(MADV_HUGEPAGE)
    const uintptr_t huge = (uintptr_t)1 << 21;
    uintptr_t from = ((uintptr_t)p + huge - 1) & ~(huge - 1), to = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (to > from)
        (void)madvise((void *)from, to - from, MADV_HUGEPAGE);
#else
    (void)p, (void)bytes;
#endif
}
