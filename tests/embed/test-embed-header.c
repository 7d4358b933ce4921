/* pyffi_embed.h compiles alone, as C99 with -pedantic -Werror (and so does pyffi.h under it). */
#include "pyffi_embed.h"

int main(void)
{
    pyffi_embed_options options = PYFFI_EMBED_OPTIONS_INIT;
    pyffi_embed_value value;
    value.kind = PYFFI_EMBED_INT64;
    value.as.i64 = 1;
    pyffi_embed_native fn = 0;
    (void)fn;
    return options.npaths == 0 && options.use_environment == 1 && value.as.i64 == 1 ? 0 : 1;
}
