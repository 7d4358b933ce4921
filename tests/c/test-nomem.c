/* Allocation failure: linked with -Wl,--wrap=malloc so that the Nth malloc
 * from now can be made to fail. Nothing may leak or be half-built. */
#include "pyffi.h"
#include "check.h"

#include <stddef.h>

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);

static int fail_countdown; /* 0: never fail; n: the nth malloc from now fails */

void *__wrap_malloc(size_t size)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return NULL;
    return __real_malloc(size);
}

static void test_sum_string(void)
{
    char *s = (char *)"untouched";
    size_t n = 99;
    fail_countdown = 1;
    CHECK(pyffi_scalar_sum_string(&s, &n, 5, 3) == PYFFI_NOMEM);
    fail_countdown = 0;
    CHECK_STR(s, "untouched");
    CHECK(n == 99);
    CHECK_STR(pyffi_error_last(), "sum_as_string: out of memory allocating 2 bytes");
}

static void test_person(void)
{
    for (int nth = 1; nth <= 2; nth++) { /* the name copy, then the struct */
        pyffi_person *p = NULL;
        fail_countdown = nth;
        CHECK(pyffi_person_new(&p, "Ann", 3, 30) == PYFFI_NOMEM);
        fail_countdown = 0;
        CHECK(p == NULL);
    }
    fail_countdown = 1;
    pyffi_person_result r = pyffi_person_create("Ann", 3, 30);
    fail_countdown = 0;
    CHECK(r.status == PYFFI_NOMEM && r.value.name == NULL);

    pyffi_person *p = NULL;
    CHECK(pyffi_person_new(&p, "Ann", 3, 30) == PYFFI_OK);
    fail_countdown = 1;
    CHECK(pyffi_person_set_name(p, "Bob", 3) == PYFFI_NOMEM);
    fail_countdown = 0;
    CHECK_STR(p->name, "Ann"); /* the old name is kept */
    pyffi_person_free(p);
}

int main(void)
{
    test_sum_string();
    test_person();
    return CHECK_DONE();
}
