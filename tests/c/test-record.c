/* Structs by value and by pointer, and a struct that owns heap memory. */
#include "pyffi.h"
#include "check.h"

#include <math.h>

int main(void)
{
    pyffi_point a = {0.0, 0.0}, b = {3.0, 4.0};
    CHECK(pyffi_point_distance(a, b) == 5.0);
    CHECK(pyffi_point_distance_ptr(&a, &b) == 5.0);
    CHECK(isnan(pyffi_point_distance_ptr(NULL, &b)));

    pyffi_person *p = NULL;
    CHECK(pyffi_person_new(&p, "Ann Lee", 3, 30) == PYFFI_OK); /* only 3 bytes taken */
    CHECK_STR(p->name, "Ann");
    CHECK(p->age == 30);
    CHECK(pyffi_person_set_name(p, "Bob", 3) == PYFFI_OK);
    CHECK_STR(p->name, "Bob");
    CHECK(pyffi_person_set_name(p, "B\0b", 3) == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "Person.name: name contains a NUL character at byte 1");
    CHECK_STR(p->name, "Bob");
    CHECK(pyffi_person_set_name(NULL, "x", 1) == PYFFI_INVALID_ARGUMENT);
    CHECK(pyffi_person_set_name(p, "", 0) == PYFFI_OK);
    CHECK_STR(p->name, "");
    pyffi_person_free(p);
    pyffi_person_free(NULL);

    p = NULL;
    CHECK(pyffi_person_new(&p, "\0", 1, 1) == PYFFI_INVALID_ARGUMENT && p == NULL);

    pyffi_person_result r = pyffi_person_create("Cy", 2, 255);
    CHECK(r.status == PYFFI_OK && r.value.age == 255);
    CHECK_STR(r.value.name, "Cy");
    pyffi_person_clear(&r.value);
    CHECK(r.value.name == NULL);
    pyffi_person_clear(&r.value); /* twice is harmless */
    pyffi_person_clear(NULL);
    r = pyffi_person_create("a\0", 2, 1);
    CHECK(r.status == PYFFI_INVALID_ARGUMENT && r.value.name == NULL);
    return CHECK_DONE();
}
