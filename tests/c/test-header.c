/* The public header on its own, first, under -std=c99 -pedantic -Werror:
 * it must need nothing but itself and standard C. */
#include "pyffi.h"

int main(void)
{
    pyffi_status st = PYFFI_OK;
    return (int)st + PYFFI_VERSION_MAJOR * 0;
}
