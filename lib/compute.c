/*
 * Heavy computation on C threads: sum of tan(cos(sin(x))).
 *
 * The data is cut into fixed blocks of BLOCK values. Workers (the calling
 * thread plus threads-1 pthreads) take blocks from a shared counter and
 * store each block's sum in its own slot; the slots are added in block order
 * at the end. Which thread summed a block never changes its sum, so the
 * result is identical for every thread count.
 *
 * With glibc's libmvec on x86-64 the inner loops call the vector variants of
 * sin and cos (AVX-512, AVX2 or SSE, chosen at load time by target_clones),
 * and of tan where this glibc has them (2.35 and later: looked up when a call
 * starts, see find_vector_tan), else tan(y) = sin(y) / cos(y) with the vector
 * sin and cos every libmvec has (2.22 and later). Naming libmvec's tan at
 * link time would make the library need glibc 2.35 (manylinux_2_35).
 */
#define _GNU_SOURCE /* RTLD_NOLOAD */

#include "pyffi.h"
#include "common/error.h"
#include "common/glibc.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(PYFFI_HAVE_LIBMVEC)
#include <dlfcn.h>
/* glibc declares these SIMD variants only under -ffast-math; ask for them
 * without its other effects (see meson.build: -fno-math-errno, -fopenmp-simd). */
__attribute__((simd("notinbranch"))) double sin(double);
__attribute__((simd("notinbranch"))) double cos(double);
#define PYFFI_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
typedef double v4d __attribute__((vector_size(32)));
typedef double v8d __attribute__((vector_size(64)));
#else
#define PYFFI_CLONES
#endif

/* libmvec's vector tan for this CPU, if this glibc has it: at most one is set. */
typedef struct vector_tan {
    void (*by8)(void); /* _ZGVeN8v_tan: v8d -> v8d, AVX-512 */
    void (*by4)(void); /* _ZGVdN4v_tan: v4d -> v4d, AVX2 */
} vector_tan;

enum {
    BLOCK = 1 << 14, /* values per block: the unit of work and of progress */
    CHUNK = 512,     /* values per vector pass, kept in a stack buffer */
    LANES = 8,       /* independent partial sums within a block */
    TICKS = 100      /* most progress reports per call */
};

#if defined(PYFFI_HAVE_LIBMVEC)
static vector_tan find_vector_tan(void)
{
    vector_tan found = {NULL, NULL};
    /* libmvec is loaded already (the library links it for sin and cos) */
    void *mvec = dlopen("libmvec.so.1", RTLD_LAZY | RTLD_NOLOAD);
    if (mvec == NULL)
        return found;
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        *(void **)&found.by8 = dlsym(mvec, "_ZGVeN8v_tan");
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        *(void **)&found.by4 = dlsym(mvec, "_ZGVdN4v_tan");
    dlclose(mvec); /* its NOLOAD reference only: libmvec stays */
    return found;
}

/* ys[i] = cos(sin(x[i])) for i < m */
PYFFI_CLONES
static void sin_cos(const double *x, double *ys, size_t m)
{
#pragma omp simd
    for (size_t i = 0; i < m; i++)
        ys[i] = cos(sin(x[i]));
}

/* ys[i] = tan(ys[i]) with the vector sin and cos. Two loops: in one, GCC would
 * fuse sin(y) and cos(y) into one scalar sincos call (4.6x slower here). */
PYFFI_CLONES
static void tan_by_ratio(double *ys, size_t m)
{
    double sines[CHUNK];
#pragma omp simd
    for (size_t i = 0; i < m; i++)
        sines[i] = sin(ys[i]);
#pragma omp simd
    for (size_t i = 0; i < m; i++)
        ys[i] = sines[i] / cos(ys[i]);
}

__attribute__((target("avx512f")))
static void tan_by8(double *ys, size_t m, void (*fn)(void))
{
    v8d (*tan8)(v8d) = (v8d (*)(v8d))fn;
    size_t i = 0;
    for (; i + 8 <= m; i += 8) {
        v8d v;
        memcpy(&v, ys + i, sizeof v);
        v = tan8(v);
        memcpy(ys + i, &v, sizeof v);
    }
    for (; i < m; i++)
        ys[i] = tan(ys[i]);
}

__attribute__((target("avx2,fma")))
static void tan_by4(double *ys, size_t m, void (*fn)(void))
{
    v4d (*tan4)(v4d) = (v4d (*)(v4d))fn;
    size_t i = 0;
    for (; i + 4 <= m; i += 4) {
        v4d v;
        memcpy(&v, ys + i, sizeof v);
        v = tan4(v);
        memcpy(ys + i, &v, sizeof v);
    }
    for (; i < m; i++)
        ys[i] = tan(ys[i]);
}

/* ys[i] = tan(cos(sin(x[i]))) for i < m */
static void values(const double *x, double *ys, size_t m, const vector_tan *vt)
{
    sin_cos(x, ys, m);
    if (vt->by8 != NULL)
        tan_by8(ys, m, vt->by8);
    else if (vt->by4 != NULL)
        tan_by4(ys, m, vt->by4);
    else
        tan_by_ratio(ys, m);
}
#else
static vector_tan find_vector_tan(void)
{
    vector_tan none = {NULL, NULL};
    return none;
}

static void values(const double *x, double *ys, size_t m, const vector_tan *vt)
{
    (void)vt;
    for (size_t i = 0; i < m; i++)
        ys[i] = tan(cos(sin(x[i])));
}
#endif

/* The sum of tan(cos(sin(x))) over xs[0..n), n <= BLOCK, in a fixed order. */
PYFFI_CLONES
static double block_sum(const double *xs, size_t n, const vector_tan *vt)
{
    double ys[CHUNK];
    double acc[LANES] = {0};
    for (size_t start = 0; start < n; start += CHUNK) {
        size_t m = n - start < CHUNK ? n - start : CHUNK;
        values(xs + start, ys, m, vt);
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
    vector_tan tan;             /* libmvec's, when there is one */
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
        job->sums[b] = block_sum(job->xs + lo, len, &job->tan);
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
               .tan = find_vector_tan(), .progress = progress, .user = user};
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
