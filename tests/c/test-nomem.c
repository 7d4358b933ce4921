/* Allocation failure: linked with -Wl,--wrap=malloc so malloc can be made to fail. */
#include "pyffi.h"
#include "check.h"

#include <stdbool.h>
#include <stddef.h>

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);

static bool fail_malloc;

void *__wrap_malloc(size_t size)
{
    return fail_malloc ? NULL : __real_malloc(size);
}

int main(void)
{
    char *s = (char *)"untouched";
    size_t n = 99;
    fail_malloc = true;
    pyffi_status st = pyffi_scalar_sum_string(&s, &n, 5, 3);
    fail_malloc = false;
    CHECK(st == PYFFI_NOMEM);
    CHECK_STR(s, "untouched");
    CHECK(n == 99);
    CHECK_STR(pyffi_error_last(), "sum_as_string: out of memory allocating 2 bytes");
    return CHECK_DONE();
}
