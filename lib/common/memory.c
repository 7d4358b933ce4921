/* Releasing what the library allocated: one allocator, one free. */
#include "error.h"

#include <stdlib.h>

void pyffi_string_free(char *s)
{
    free(s);
}
