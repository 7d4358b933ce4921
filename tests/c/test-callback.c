/* Callbacks through C function pointers, and compute_heavy on C threads. */
#define _POSIX_C_SOURCE 200809L

#include "pyffi.h"
#include "check.h"

#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

static pyffi_status add(void *user, int32_t a, int32_t b, int32_t *out)
{
    (void)user;
    *out = a + b;
    return PYFFI_OK;
}

static pyffi_status refuse(void *user, int32_t a, int32_t b, int32_t *out)
{
    *(int *)user += 1;
    (void)a, (void)b, (void)out;
    return PYFFI_CALLBACK;
}

static void test_calc(void)
{
    pyffi_i32_result r = pyffi_calc(10, 2, add, NULL);
    CHECK(r.status == PYFFI_OK && r.value == 12);
    int calls = 0;
    r = pyffi_calc(10, 2, refuse, &calls);
    CHECK(r.status == PYFFI_CALLBACK && r.value == 0 && calls == 1);
    r = pyffi_calc(1, 2, NULL, NULL);
    CHECK(r.status == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "calc: op is NULL");
}

typedef struct counted { size_t calls; size_t fail_at; } counted;

/* Values are key * KEY + original index; comparing keys only makes
 * stability observable. Fails on call number fail_at. */
enum { KEY = 10000 };

static pyffi_status by_key(void *user, int64_t a, int64_t b, int *out)
{
    counted *c = user;
    if (++c->calls == c->fail_at)
        return PYFFI_CALLBACK;
    *out = (a / KEY > b / KEY) - (a / KEY < b / KEY);
    return PYFFI_OK;
}

static int sum_check(const int64_t *xs, size_t n, int64_t want_sum, int64_t want_xor)
{
    int64_t s = 0, x = 0;
    for (size_t i = 0; i < n; i++) {
        s += xs[i];
        x ^= xs[i] * 2654435761;
    }
    return s == want_sum && x == want_xor;
}

static void test_sort_by(void)
{
    enum { N = 1000 };
    int64_t xs[N];
    uint64_t seed = 12345;
    int64_t want_sum = 0, want_xor = 0;
    for (size_t i = 0; i < N; i++) {
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        xs[i] = (int64_t)(seed >> 33) % 50 * KEY + (int64_t)i;
        want_sum += xs[i];
        want_xor ^= xs[i] * 2654435761;
    }
    int64_t keep[N];
    for (size_t i = 0; i < N; i++)
        keep[i] = xs[i];

    /* Failures at every stage: insertion runs, early and late merge passes. */
    size_t fail_points[] = {1, 7, 100, 3000, 8000};
    for (size_t k = 0; k < sizeof fail_points / sizeof *fail_points; k++) {
        counted c = {0, fail_points[k]};
        CHECK(pyffi_sort_i64_by(xs, N, by_key, &c) == PYFFI_CALLBACK);
        CHECK(c.calls == fail_points[k]);            /* stopped at once */
        CHECK(sum_check(xs, N, want_sum, want_xor)); /* still a permutation */
        for (size_t i = 0; i < N; i++)
            xs[i] = keep[i];
    }

    counted c = {0, 0};
    CHECK(pyffi_sort_i64_by(xs, N, by_key, &c) == PYFFI_OK);
    CHECK(sum_check(xs, N, want_sum, want_xor));
    /* Ordered by key; equal keys keep their original order (the index). */
    int ordered = 1;
    for (size_t i = 1; i < N; i++)
        if (xs[i - 1] / KEY > xs[i] / KEY ||
            (xs[i - 1] / KEY == xs[i] / KEY && xs[i - 1] % KEY > xs[i] % KEY))
            ordered = 0;
    CHECK(ordered);

    CHECK(pyffi_sort_i64_by(NULL, 0, by_key, &c) == PYFFI_OK);
    CHECK(pyffi_sort_i64_by(NULL, 3, by_key, &c) == PYFFI_INVALID_ARGUMENT);
    CHECK(pyffi_sort_i64_by(xs, 3, NULL, NULL) == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "sort_i64_by: compare is NULL");
}

static pyffi_status square_until_negative(void *user, double x, double *out)
{
    (void)user;
    if (x < 0)
        return PYFFI_DOMAIN;
    *out = x * x;
    return PYFFI_OK;
}

static void test_map_f64(void)
{
    double xs[4] = {1, 2, 3, 4}, out[4] = {0};
    CHECK(pyffi_map_f64(out, xs, 4, square_until_negative, NULL) == PYFFI_OK);
    CHECK(out[0] == 1 && out[3] == 16);
    CHECK(pyffi_map_f64(xs, xs, 4, square_until_negative, NULL) == PYFFI_OK); /* in place */
    CHECK(xs[1] == 4 && xs[3] == 16);
    double bad[3] = {1, -1, 2}, got[3] = {0, 0, 0};
    CHECK(pyffi_map_f64(got, bad, 3, square_until_negative, NULL) == PYFFI_DOMAIN);
    CHECK(got[0] == 1 && got[1] == 0 && got[2] == 0);
    CHECK(pyffi_map_f64(out, xs, 4, NULL, NULL) == PYFFI_INVALID_ARGUMENT);
    CHECK(pyffi_map_f64(NULL, xs, 1, square_until_negative, NULL) == PYFFI_INVALID_ARGUMENT);
    CHECK(pyffi_map_f64(NULL, NULL, 0, square_until_negative, NULL) == PYFFI_OK);
}

typedef struct progress_log {
    pthread_mutex_t lock;
    size_t calls, last, total, stop_at;
    int in_call, overlapped, backwards;
} progress_log;

static pyffi_status record(void *user, size_t done, size_t total)
{
    progress_log *log = user;
    pthread_mutex_lock(&log->lock);
    if (log->in_call)
        log->overlapped = 1;
    log->in_call = 1;
    if (done <= log->last)
        log->backwards = 1;
    log->last = done;
    log->total = total;
    log->calls++;
    int stop = log->stop_at && log->calls == log->stop_at;
    log->in_call = 0;
    pthread_mutex_unlock(&log->lock);
    return stop ? PYFFI_CALLBACK : PYFFI_OK;
}

static void test_compute_heavy(void)
{
    size_t n = 1000003;
    double *xs = malloc(n * sizeof *xs);
    CHECK(xs != NULL);
    if (xs == NULL)
        return;
    for (size_t i = 0; i < n; i++)
        xs[i] = (double)i * 0.001 - 500.0;

    pyffi_f64_result one = pyffi_compute_heavy(xs, n, 1, NULL, NULL);
    CHECK(one.status == PYFFI_OK);
    double naive = 0.0;
    for (size_t i = 0; i < n; i++)
        naive += tan(cos(sin(xs[i])));
    CHECK(fabs(one.value - naive) <= 1e-9 * fabs(naive));
    unsigned counts[] = {2, 3, 4, 16, PYFFI_COMPUTE_MAX_THREADS};
    for (size_t k = 0; k < sizeof counts / sizeof *counts; k++) {
        pyffi_f64_result r = pyffi_compute_heavy(xs, n, counts[k], NULL, NULL);
        CHECK(r.status == PYFFI_OK && r.value == one.value); /* bit for bit */
    }

    progress_log log = {.lock = PTHREAD_MUTEX_INITIALIZER};
    pyffi_f64_result r = pyffi_compute_heavy(xs, n, 4, record, &log);
    CHECK(r.status == PYFFI_OK && r.value == one.value);
    CHECK(log.calls >= 1 && log.calls <= 100);
    CHECK(log.last == n && log.total == n);
    CHECK(!log.overlapped && !log.backwards);

    progress_log stop = {.lock = PTHREAD_MUTEX_INITIALIZER, .stop_at = 3};
    r = pyffi_compute_heavy(xs, n, 4, record, &stop);
    CHECK(r.status == PYFFI_CALLBACK);
    CHECK(stop.calls == 3); /* nothing reported after the failure */

    r = pyffi_compute_heavy(xs, n, 0, NULL, NULL);
    CHECK(r.status == PYFFI_INVALID_ARGUMENT);
    CHECK_STR(pyffi_error_last(), "compute_heavy: threads must be in 1..256, not 0");
    r = pyffi_compute_heavy(xs, n, PYFFI_COMPUTE_MAX_THREADS + 1, NULL, NULL);
    CHECK(r.status == PYFFI_INVALID_ARGUMENT);
    r = pyffi_compute_heavy(NULL, 5, 1, NULL, NULL);
    CHECK(r.status == PYFFI_INVALID_ARGUMENT);
    r = pyffi_compute_heavy(NULL, 0, 1, record, &log);
    CHECK(r.status == PYFFI_OK && r.value == 0.0);
    free(xs);
}

int main(void)
{
    test_calc();
    test_sort_by();
    test_map_f64();
    test_compute_heavy();
    return CHECK_DONE();
}
