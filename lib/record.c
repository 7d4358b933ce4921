/* Structs: a plain value struct and one that owns heap memory. */
#include "pyffi.h"
#include "common/glibc.h"
#include "common/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double pyffi_point_distance(pyffi_point a, pyffi_point b)
{
    return hypot(a.x - b.x, a.y - b.y);
}

double pyffi_point_distance_ptr(const pyffi_point *a, const pyffi_point *b)
{
    if (a == NULL || b == NULL)
        return NAN;
    return pyffi_point_distance(*a, *b);
}

/* A NUL-terminated heap copy of name, or a failure status. */
static pyffi_status copy_name(char **out, const char *name, size_t len, const char *who)
{
    if (len > 0 && memchr(name, '\0', len) != NULL)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                           "%s: name contains a NUL character at byte %zu", who,
                           (size_t)((const char *)memchr(name, '\0', len) - name));
    if (len == SIZE_MAX)
        return pyffi__fail(PYFFI_NOMEM, "%s: name too long", who);
    char *copy = malloc(len + 1);
    if (copy == NULL)
        return pyffi__fail(PYFFI_NOMEM, "%s: out of memory copying a %zu-byte name", who, len);
    if (len > 0)
        memcpy(copy, name, len);
    copy[len] = '\0';
    *out = copy;
    return PYFFI_OK;
}

pyffi_status pyffi_person_new(pyffi_person **out, const char *name, size_t name_len,
                              uint8_t age)
{
    char *copy = NULL;
    pyffi_status st = copy_name(&copy, name, name_len, "Person");
    if (st != PYFFI_OK)
        return st;
    pyffi_person *person = malloc(sizeof *person);
    if (person == NULL) {
        free(copy);
        return pyffi__fail(PYFFI_NOMEM, "Person: out of memory");
    }
    person->name = copy;
    person->age = age;
    *out = person;
    return PYFFI_OK;
}

void pyffi_person_free(pyffi_person *person)
{
    if (person == NULL)
        return;
    free(person->name);
    free(person);
}

pyffi_person_result pyffi_person_create(const char *name, size_t name_len, uint8_t age)
{
    pyffi_person_result r = {PYFFI_OK, {NULL, 0}};
    r.status = copy_name(&r.value.name, name, name_len, "create_struct");
    if (r.status == PYFFI_OK)
        r.value.age = age;
    return r;
}

void pyffi_person_clear(pyffi_person *person)
{
    if (person == NULL)
        return;
    free(person->name);
    person->name = NULL;
}

pyffi_status pyffi_person_set_name(pyffi_person *person, const char *name, size_t name_len)
{
    if (person == NULL)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "Person.name: no person (NULL)");
    char *copy = NULL;
    pyffi_status st = copy_name(&copy, name, name_len, "Person.name");
    if (st != PYFFI_OK)
        return st;
    free(person->name);
    person->name = copy;
    return PYFFI_OK;
}
