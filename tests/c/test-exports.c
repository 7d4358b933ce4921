/* Opens a SHARED library (libpyffi.so, or libpyffi_embed.so with
 * PYFFI_EXPORTS_HEADER="pyffi_embed_exports.h"): every function its header
 * declares must be exported from it, and internal helpers must not be. */
#include "check.h"
#ifndef PYFFI_EXPORTS_HEADER
#define PYFFI_EXPORTS_HEADER "pyffi_exports.h"
#endif
#include PYFFI_EXPORTS_HEADER

#include <dlfcn.h>

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s path/to/libpyffi.so\n", argv[0]);
        return 2;
    }
    void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen: %s\n", dlerror());
        return 1;
    }
    size_t count = sizeof pyffi_exported_functions / sizeof *pyffi_exported_functions;
    CHECK(count > 0);
    for (size_t i = 0; i < count; i++) {
        if (dlsym(lib, pyffi_exported_functions[i]) == NULL) {
            fprintf(stderr, "not exported: %s\n", pyffi_exported_functions[i]);
            check_failures++;
        }
    }
    /* Hidden: the private error helper must not leak out. */
    CHECK(dlsym(lib, "pyffi__fail") == NULL);
    dlclose(lib);
    return CHECK_DONE();
}
