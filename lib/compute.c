/*
 * Heavy computation on C threads: sum of tan(cos(sin(x))).
 *
 * The data is cut into fixed blocks of BLOCK values. Workers (the calling
 * thread plus threads-1 pthreads) take blocks from a shared counter and
 * store each block's sum in its own slot; the slots are added in block order
 * at the end. Which thread summed a block never changes its sum, so the
 * result is identical for every thread count.
 *
 * With glibc's libmvec on x86-64 the inner loop calls the vector variants of
 * sin/cos/tan (AVX-512, AVX2 or SSE, chosen at load time by target_clones):
 * the same functions numpy's SIMD loops compete with.
 */
#define _POSIX_C_SOURCE 200809L

#include "pyffi.h"
#include "common/error.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

#if defined(PYFFI_HAVE_LIBMVEC)
/* glibc declares these SIMD variants only under -ffast-math; ask for them
 * without its other effects (see meson.build: -fno-math-errno, -fopenmp-simd). */
__attribute__((simd("notinbranch"))) double sin(double);
__attribute__((simd("notinbranch"))) double cos(double);
__attribute__((simd("notinbranch"))) double tan(double);
#define PYFFI_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PYFFI_CLONES
#endif

enum {
    BLOCK = 1 << 14, /* values per block: the unit of work and of progress */
    CHUNK = 512,     /* values per vector pass, kept in a stack buffer */
    LANES = 8,       /* independent partial sums within a block */
    TICKS = 100      /* most progress reports per call */
};

/* The sum of tan(cos(sin(x))) over xs[0..n), n <= BLOCK, in a fixed order. */
PYFFI_CLONES
static double block_sum(const double *xs, size_t n)
{
    double ys[CHUNK];
    double acc[LANES] = {0};
    for (size_t start = 0; start < n; start += CHUNK) {
        size_t m = n - start < CHUNK ? n - start : CHUNK;
        const double *x = xs + start;
#pragma omp simd
        for (size_t i = 0; i < m; i++)
            ys[i] = tan(cos(sin(x[i])));
        size_t i = 0;
        for (; i + LANES <= m; i += LANES)
            for (size_t k = 0; k < LANES; k++)
                acc[k] += ys[i + k];
        for (; i < m; i++)
            acc[i % LANES] += ys[i];
    }
    double total = 0.0;
    for (size_t k = 0; k < LANES; k++)
        total += acc[k];
    return total;
}

typedef struct job {
    const double *xs;
    size_t n;
    size_t blocks;
    double *sums;               /* one slot per block */
    atomic_size_t next;         /* next block to take */
    atomic_size_t done;         /* values summed so far */
    atomic_int stop;            /* first non-OK status from progress, or 0 */
    pyffi_progress progress;
    void *user;
    pthread_mutex_t report;     /* one progress call at a time, in order */
    size_t reported;            /* last tick reported; under `report` */
} job;

static void report_progress(job *job)
{
    pthread_mutex_lock(&job->report);
    if (atomic_load(&job->stop) == PYFFI_OK) {
        /* Read under the lock: successive reports never go backwards. */
        size_t done = atomic_load(&job->done);
        size_t tick = (size_t)((double)done / (double)job->n * TICKS);
        if (tick > job->reported) {
            job->reported = tick;
            pyffi_status status = job->progress(job->user, done, job->n);
            if (status != PYFFI_OK) {
                int expected = PYFFI_OK;
                atomic_compare_exchange_strong(&job->stop, &expected, (int)status);
            }
        }
    }
    pthread_mutex_unlock(&job->report);
}

static void *work(void *arg)
{
    job *job = arg;
    while (atomic_load(&job->stop) == PYFFI_OK) {
        size_t b = atomic_fetch_add(&job->next, 1);
        if (b >= job->blocks)
            break;
        size_t lo = b * BLOCK;
        size_t len = job->n - lo < BLOCK ? job->n - lo : BLOCK;
        job->sums[b] = block_sum(job->xs + lo, len);
        atomic_fetch_add(&job->done, len);
        if (job->progress != NULL)
            report_progress(job);
    }
    return NULL;
}

pyffi_f64_result pyffi_compute_heavy(const double *xs, size_t n, unsigned threads,
                                     pyffi_progress progress, void *user)
{
    pyffi_f64_result result = {PYFFI_OK, 0.0};
    if (threads < 1 || threads > PYFFI_COMPUTE_MAX_THREADS) {
        result.status = pyffi__fail(PYFFI_INVALID_ARGUMENT,
                                    "compute_heavy: threads must be in 1..%d, not %u",
                                    PYFFI_COMPUTE_MAX_THREADS, threads);
        return result;
    }
    if (xs == NULL && n > 0) {
        result.status = pyffi__fail(PYFFI_INVALID_ARGUMENT, "compute_heavy: xs is NULL");
        return result;
    }
    if (n == 0)
        return result;

    job job = {.xs = xs, .n = n, .blocks = n / BLOCK + (n % BLOCK != 0),
               .progress = progress, .user = user};
    atomic_init(&job.next, 0);
    atomic_init(&job.done, 0);
    atomic_init(&job.stop, PYFFI_OK);
    job.sums = malloc(job.blocks * sizeof *job.sums);
    if (job.sums == NULL) {
        result.status = pyffi__fail(PYFFI_NOMEM, "compute_heavy: no memory for %zu block sums",
                                    job.blocks);
        return result;
    }
    if (pthread_mutex_init(&job.report, NULL) != 0) {
        free(job.sums);
        result.status = pyffi__fail(PYFFI_NOMEM, "compute_heavy: cannot create a mutex");
        return result;
    }

    pthread_t helpers[PYFFI_COMPUTE_MAX_THREADS];
    size_t wanted = threads < job.blocks ? threads : job.blocks;
    size_t started = 0;
    while (started + 1 < wanted && pthread_create(&helpers[started], NULL, work, &job) == 0)
        started++;
    work(&job); /* the calling thread works too; a helper that failed to start is not missed */
    for (size_t i = 0; i < started; i++)
        pthread_join(helpers[i], NULL);
    pthread_mutex_destroy(&job.report);

    int stop = atomic_load(&job.stop);
    if (stop != PYFFI_OK) {
        result.status = (pyffi_status)stop;
    } else {
        double total = 0.0;
        for (size_t b = 0; b < job.blocks; b++)
            total += job.sums[b];
        result.value = total;
    }
    free(job.sums);
    return result;
}
