/* The library's version, from the header's enum values. */
#include "pyffi_common.h"

#define PYFFI_STR_(x) #x
#define PYFFI_XSTR_(x) PYFFI_STR_(x)

/* The enum values are repeated as literals by the preprocessor check below,
 * so the string cannot drift from the header. */
#define PYFFI_V_MAJOR 0
#define PYFFI_V_MINOR 1
#define PYFFI_V_PATCH 0

_Static_assert(PYFFI_V_MAJOR == PYFFI_VERSION_MAJOR &&
                   PYFFI_V_MINOR == PYFFI_VERSION_MINOR &&
                   PYFFI_V_PATCH == PYFFI_VERSION_PATCH,
               "lib/common/version.c disagrees with include/pyffi_common.h");

const char *pyffi_version_string(void)
{
    return PYFFI_XSTR_(PYFFI_V_MAJOR) "." PYFFI_XSTR_(PYFFI_V_MINOR) "." PYFFI_XSTR_(
        PYFFI_V_PATCH);
}
