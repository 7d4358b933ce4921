/* Allocation failure: linked with -Wl,--wrap=malloc (and calloc, realloc) so
 * that the Nth allocation from now can be made to fail. Nothing may leak or be half-built.
 * pthread_create is wrapped too: a sort whose helper threads cannot start still sorts. */
#define _GNU_SOURCE /* sched_getaffinity */
#include "pyffi.h"
#include "../../lib/sort_simd.h"
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg);
int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg);

/* pthread_create calls that fail from now on, and the calls seen */
static int threads_refused, threads_asked;
/* if true: threads start only once the test lets them go (held_go), as
 * a busy host can start them late; one that waits 10 s goes anyway and
 * counts in held_too_long */
static bool threads_held;
static atomic_int held_go, held_too_long;
/* held threads started, and those whose start routine has returned */
static atomic_int late_started, late_finished;

typedef struct late_start {
    void *(*start)(void *);
    void *arg;
} late_start;

static void *start_late(void *p)
{
    late_start how = *(late_start *)p;
    free(p);
    int waited = 0;
    for (; !atomic_load(&held_go) && waited < 10000; waited++) {
        struct timespec ms = {0, 1000000L};
        nanosleep(&ms, NULL);
    }
    if (!atomic_load(&held_go))
        atomic_fetch_add(&held_too_long, 1);
    void *result = how.start(how.arg);
    atomic_fetch_add(&late_finished, 1);
    return result;
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attr,
                          void *(*start)(void *), void *arg)
{
    threads_asked++;
    if (threads_refused > 0) {
        threads_refused--;
        return EAGAIN;
    }
    if (threads_held) {
        late_start *how = malloc(sizeof *how);
        if (how == NULL)
            return EAGAIN;
        *how = (late_start){start, arg};
        int err = __real_pthread_create(thread, attr, start_late, how);
        if (err != 0)
            free(how);
        else
            atomic_fetch_add(&late_started, 1);
        return err;
    }
    return __real_pthread_create(thread, attr, start, arg);
}

void *__real_malloc(size_t size);
void *__wrap_malloc(size_t size);
void *__real_calloc(size_t count, size_t size);
void *__wrap_calloc(size_t count, size_t size);
void *__real_realloc(void *p, size_t size);
void *__wrap_realloc(void *p, size_t size);

/* 0: never fail; n: the nth allocation (malloc, calloc or realloc) from now fails */
static int fail_countdown;

void *__wrap_malloc(size_t size)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return NULL;
    return __real_malloc(size);
}

void *__wrap_calloc(size_t count, size_t size)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return NULL;
    return __real_calloc(count, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    if (fail_countdown > 0 && --fail_countdown == 0)
        return NULL;
    return __real_realloc(p, size);
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

static void test_text(void)
{
    /* 64 x U+0390 (2 bytes -> 6): the first buffer, then a growth, fail. */
    char in[128];
    for (int k = 0; k < 64; k++)
        memcpy(in + 2 * k, "\xce\x90", 2);
    for (int nth = 1; nth <= 2; nth++) {
        char *out = (char *)"untouched";
        size_t n = 99;
        fail_countdown = nth;
        CHECK(pyffi_utf8_to_uppercase(&out, &n, in, sizeof in, 0) == PYFFI_NOMEM);
        fail_countdown = 0;
        CHECK_STR(out, "untouched");
        CHECK(n == 99);
        CHECK_STR(pyffi_error_last(), "to_uppercase: out of memory for a 128-byte text");
    }
    char *out = NULL;
    size_t n = 0;
    CHECK(pyffi_utf8_to_uppercase(&out, &n, in, sizeof in, 0) == PYFFI_OK && n == 384);
    pyffi_string_free(out);
}

static void test_arrays(void)
{
    int64_t xs[100];
    double ys[100];
    for (int i = 0; i < 100; i++) {
        xs[i] = 100 - i;
        ys[i] = i % 2 ? 0.5 * i : -(double)i;
    }
    fail_countdown = 1;
    CHECK(pyffi_sort_i64(xs, 100) == PYFFI_NOMEM);
    CHECK_STR(pyffi_error_last(), "sort_i64: out of memory for a 100-element buffer");
    CHECK(xs[0] == 100 && xs[99] == 1); /* untouched */
    size_t big = (size_t)1 << 17; /* sorted by an MSD pass and buckets */
    int64_t *bs = malloc(big * sizeof *bs);
    CHECK(bs != NULL);
    if (bs != NULL) {
        for (size_t i = 0; i < big; i++)
            bs[i] = (int64_t)(big - i);
        fail_countdown = 1;
        CHECK(pyffi_sort_i64(bs, big) == PYFFI_NOMEM);
        fail_countdown = 0;
        CHECK_STR(pyffi_error_last(), "sort_i64: out of memory for a 131072-element buffer");
        CHECK(bs[0] == (int64_t)big && bs[big - 1] == 1); /* untouched */
        free(bs);
    }
    int32_t zs[300]; /* more than a sorting network takes without a buffer */
    for (int i = 0; i < 300; i++)
        zs[i] = 300 - i;
    fail_countdown = 1;
    CHECK(pyffi_sort_i32(zs, 300) == PYFFI_NOMEM);
    CHECK_STR(pyffi_error_last(), "sort_i32: out of memory for a 300-element buffer");
    CHECK(zs[0] == 300 && zs[299] == 1); /* untouched */
    fail_countdown = 1;
    CHECK(pyffi_sort_f64(ys, 100) == PYFFI_NOMEM);
    fail_countdown = 0;
    CHECK(ys[1] == 0.5 && ys[2] == -2.0); /* the keys were turned back into values */

    int64_t *out = NULL;
    size_t n = 7;
    fail_countdown = 1;
    CHECK(pyffi_create_array(&out, &n, 3, 50) == PYFFI_NOMEM);
    fail_countdown = 0;
    CHECK(out == NULL && n == 7);
    CHECK_STR(pyffi_error_last(), "create_array: out of memory for 16 elements");
}

/* Big sorts run on helper threads; when none can start, the caller sorts alone. */
static void test_sort_without_threads(void)
{
    size_t n = (size_t)1 << 19;
    int32_t *a = malloc(n * sizeof *a);
    int64_t *b = malloc(n * sizeof *b);
    CHECK(a != NULL && b != NULL);
    if (a == NULL || b == NULL) {
        free(a);
        free(b);
        return;
    }
    uint64_t x = 88172645463325252u;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        a[i] = (int32_t)x;
        b[i] = (int64_t)x;
    }
    threads_refused = 1000;
    threads_asked = 0;
    CHECK(pyffi_sort_i32(a, n) == PYFFI_OK);
    CHECK(pyffi_sort_i64(b, n) == PYFFI_OK);
    threads_refused = 0;
    bool sorted = true;
    for (size_t i = 1; i < n; i++)
        sorted = sorted && a[i - 1] <= a[i] && b[i - 1] <= b[i];
    CHECK(sorted);
    cpu_set_t cpus; /* with one CPU no helper is asked for, and there is nothing to refuse */
    if (sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 1)
        CHECK(threads_asked >= 2); /* one refused helper per sort, at least */
    free(a);
    free(b);
}

/* A helper that starts after the caller has sorted everything alone is not
 * waited for: it finds the work done, and leaves without touching the
 * sort's memory (which is freed by then: the sanitizer build would see a
 * use after free). Here helpers are held until the sort has returned; a
 * caller that waited for them would return only after they gave up
 * waiting. A door that cannot be allocated means no helpers. */
static void test_sort_with_late_helpers(void)
{
    size_t n = (size_t)1 << 19;
    int32_t *a = malloc(n * sizeof *a);
    CHECK(a != NULL);
    if (a == NULL)
        return;
    cpu_set_t cpus; /* with one CPU there is no door (and no helper) */
    const bool door = sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 1;
    for (int round = 0; round < 2; round++) {
        uint64_t x = 88172645463325252u + (uint64_t)round;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a[i] = (int32_t)x;
        }
        if (round == 0)
            threads_held = true;
        else
            fail_countdown = door ? 2 : 0; /* the sort's block, then the door */
        threads_asked = 0;
        CHECK(pyffi_sort_i32(a, n) == PYFFI_OK);
        atomic_store(&held_go, 1);
        threads_held = false;
        fail_countdown = 0;
        if (round == 1)
            CHECK(threads_asked == 0); /* no door, no helpers */
        bool sorted = true;
        for (size_t i = 1; i < n; i++)
            sorted = sorted && a[i - 1] <= a[i];
        CHECK(sorted);
    }
    for (int i = 0; i < 1500 && atomic_load(&late_finished) < atomic_load(&late_started); i++) {
        struct timespec wait = {0, 10000000L};
        nanosleep(&wait, NULL);
    }
    CHECK(atomic_load(&late_finished) == atomic_load(&late_started));
    CHECK(atomic_load(&held_too_long) == 0); /* the sort returned while they were held */
    free(a);
}

/* A sort of 2^23 keys or more allocates a scratch array of half their
 * size with its block; when the keys fall into few buckets, it needs a
 * whole-size one after all, allocated once they are counted. If either
 * allocation fails, the keys are untouched. Before the second: the block,
 * and with more than one CPU the door for helpers. Halves need the
 * sorting networks (AVX-512): without them the block holds a whole-size
 * scratch array from the start, and nothing is allocated later. */
static void test_sort_scratch(void)
{
    const size_t n = (size_t)1 << 23;
    int32_t *a = malloc(n * sizeof *a), *copy = malloc(n * sizeof *copy);
    CHECK(a != NULL && copy != NULL);
    if (a == NULL || copy == NULL) {
        free(a);
        free(copy);
        return;
    }
    cpu_set_t cpus;
    const bool door = sched_getaffinity(0, sizeof cpus, &cpus) == 0 && CPU_COUNT(&cpus) > 1;
    const bool halves = pyffi__sort32_net_ok();
    for (int skewed = 0; skewed < 2; skewed++) {
        uint64_t x = 88172645463325252u;
        for (size_t i = 0; i < n; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            a[i] = skewed ? (int32_t)(x & 3) : (int32_t)x;
        }
        memcpy(copy, a, n * sizeof *a);
        const int late = halves && skewed; /* a whole-size array after counting */
        for (int nth = 1; nth <= 1 + late; nth++) { /* the block, then the whole-size array */
            fail_countdown = nth == 1 ? 1 : door ? 3 : 2;
            CHECK(pyffi_sort_i32(a, n) == PYFFI_NOMEM);
            fail_countdown = 0;
            char want[80];
            snprintf(want, sizeof want, "sort_i32: out of memory for a %zu-element buffer", n);
            CHECK_STR(pyffi_error_last(), want);
            CHECK(memcmp(a, copy, n * sizeof *a) == 0);
        }
        /* no allocation after the door: in halves, nor without them */
        const int after = !halves || !skewed;
        fail_countdown = after ? (door ? 3 : 2) : 0;
        CHECK(pyffi_sort_i32(a, n) == PYFFI_OK);
        CHECK(fail_countdown == (after ? 1 : 0));
        fail_countdown = 0;
        bool sorted = true;
        for (size_t i = 1; i < n; i++)
            sorted = sorted && a[i - 1] <= a[i];
        CHECK(sorted);
    }
    free(a);
    free(copy);
}

static pyffi_status ascending(void *user, int64_t a, int64_t b, int *out)
{
    (void)user;
    *out = (a > b) - (a < b);
    return PYFFI_OK;
}

static void test_callbacks(void)
{
    int64_t xs[40];
    for (int i = 0; i < 40; i++)
        xs[i] = 40 - i;
    fail_countdown = 1;
    CHECK(pyffi_sort_i64_by(xs, 40, ascending, NULL) == PYFFI_NOMEM);
    fail_countdown = 0;
    CHECK(xs[0] == 40 && xs[39] == 1); /* untouched */
    CHECK_STR(pyffi_error_last(), "sort_i64_by: no memory for 40 values");

    double ys[3] = {1, 2, 3};
    fail_countdown = 1;
    pyffi_f64_result r = pyffi_compute_heavy(ys, 3, 2, NULL, NULL);
    fail_countdown = 0;
    CHECK(r.status == PYFFI_NOMEM && r.value == 0.0);
    CHECK_STR(pyffi_error_last(), "compute_heavy: no memory for 1 block sums");
}

static void test_csv(void)
{
    static const pyffi_csv_options options = {.delimiter = ',', .quotechar = '"', .strict = true};
    const char *text = "a,b\nc,d\n";
    /* the table, the field ends, the rows */
    for (int nth = 1; nth <= 3; nth++) {
        pyffi_csv_table *t = NULL;
        fail_countdown = nth;
        CHECK(pyffi_csv_parse(&t, text, strlen(text), &options, true, 1, 0) == PYFFI_NOMEM);
        fail_countdown = 0;
        CHECK(t == NULL);
    }
    pyffi_csv_table *t = NULL;
    CHECK(pyffi_csv_parse(&t, text, strlen(text), &options, true, 1, 0) == PYFFI_OK);
    int64_t *column = (int64_t *)&t;
    for (int nth = 1; nth <= 2; nth++) { /* the values, the buffer for quoted cells */
        fail_countdown = nth;
        CHECK(pyffi_csv_column_i64(&column, t, 0, 0, "a", 1) == PYFFI_NOMEM);
        fail_countdown = 0;
        CHECK(column == (int64_t *)&t); /* untouched */
    }
    pyffi_csv_table_free(t);
}

int main(void)
{
    test_sum_string();
    test_person();
    test_text();
    test_arrays();
    test_sort_without_threads();
    test_sort_with_late_helpers();
    test_sort_scratch();
    test_callbacks();
    test_csv();
    return CHECK_DONE();
}
