/* json.dumps([1, "hé"]) from C through pyffi's embedding library, then a Python
 * exception caught with its type, message and traceback. A whole program:
 *
 *     cc embed_json.c $(python -m pyffi flags --cflags --libs) -o embed_json
 *     ./embed_json
 *
 * (tests/test_embed.py builds and runs this file against the installed wheel.) */
#include "pyffi_embed.h"

#include <stdio.h>

/* Every call returns a pyffi_status; the thread's message says why one failed. */
static int check(pyffi_status status, const char *what)
{
    if (status != PYFFI_OK)
        fprintf(stderr, "%s: %s\n", what, pyffi_error_last());
    return status != PYFFI_OK;
}

int main(void)
{
    pyffi_obj json = 0, dumps = 0, list = 0, one = 0, text = 0, out = 0;
    char *s = NULL;
    size_t n = 0;
    int failed = check(pyffi_embed_import(&json, "json", 4), "import json") ||
                 check(pyffi_embed_getattr(&dumps, json, "dumps", 5), "json.dumps") ||
                 check(pyffi_embed_list(&list), "list") ||
                 check(pyffi_embed_int64(&one, 1), "1") ||
                 /* UTF-8 is checked: bad bytes are PYFFI_UTF8, with the offset */
                 check(pyffi_embed_str(&text, "h\xc3\xa9", 3), "\"h\\u00e9\"") ||
                 check(pyffi_embed_list_append(list, one), "append") ||
                 check(pyffi_embed_list_append(list, text), "append") ||
                 /* the arguments, their count, the keyword arguments (a dict or 0) */
                 check(pyffi_embed_call(&out, dumps, &list, 1, 0), "json.dumps(...)") ||
                 check(pyffi_embed_to_str(&s, &n, out), "str");
    if (!failed)
        printf("%.*s\n", (int)n, s);  /* [1, "h\u00e9"] */
    pyffi_string_free(s);             /* the text is the caller's; NULL is a no-op */
    /* each handle released once (0 is "no object"); a second release is
     * PYFFI_INVALID_ARGUMENT, never a crash */
    pyffi_obj handles[] = {out, text, one, list, dumps, json};
    for (size_t k = 0; k < sizeof handles / sizeof handles[0]; k++)
        if (handles[k])
            pyffi_embed_release(handles[k]);

    if (pyffi_embed_run(NULL, "1 / 0", 5) == PYFFI_PYTHON)
        printf("%s: %s\n%s", pyffi_embed_error_type(), /* ZeroDivisionError */
               pyffi_embed_error_message(),            /* division by zero */
               pyffi_embed_error_traceback());         /* as traceback.format_exception */
    return failed;
}
