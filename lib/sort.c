/* Sorting fixed-width numbers in place: LSD radix sort on unsigned keys.
 *
 * Every type becomes an unsigned key whose order is the type's order:
 * signed integers flip their sign bit (folded into the digit extraction),
 * floats are rewritten as keys and back (negative: all bits flipped;
 * positive: sign bit set), after NaNs are moved to the end as numpy puts
 * them. One pass counts all digits at once; a digit that is the same for
 * every element is skipped. Short arrays use insertion sort.
 *
 * Big arrays are sorted by several threads (the calling one plus pthreads,
 * as many as the process may run on, at most MAX_THREADS): each owns a
 * slice of the array, counts its digits, and scatters its slice to offsets
 * computed from every thread's counts, so each pass is one parallel step
 * between two barriers. Nothing is shared between calls. */
#define _GNU_SOURCE /* sched_getaffinity */

#include "error.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

enum {
    SMALL = 48,          /* below this, insertion sort */
    DIGIT_BITS = 11,     /* 3 passes for 32-bit keys, 6 for 64-bit */
    BUCKETS = 1 << DIGIT_BITS,
    MAX_THREADS = 4,
    PER_THREAD = 1 << 17 /* fewest elements worth a thread */
};

/* A barrier whose party count is fixed once every thread has started. */
typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned parties, waiting;
    unsigned long round;
} gate;

static void gate_wait(gate *g)
{
    if (g->parties == 1)
        return;
    pthread_mutex_lock(&g->lock);
    unsigned long round = g->round;
    if (++g->waiting == g->parties) {
        g->waiting = 0;
        g->round++;
        pthread_cond_broadcast(&g->cond);
    } else {
        while (round == g->round)
            pthread_cond_wait(&g->cond, &g->lock);
    }
    pthread_mutex_unlock(&g->lock);
}

static bool sync_init(gate *g, pthread_mutex_t *start)
{
    if (pthread_mutex_init(&g->lock, NULL) != 0)
        return false;
    if (pthread_cond_init(&g->cond, NULL) != 0) {
        pthread_mutex_destroy(&g->lock);
        return false;
    }
    if (pthread_mutex_init(start, NULL) != 0) {
        pthread_cond_destroy(&g->cond);
        pthread_mutex_destroy(&g->lock);
        return false;
    }
    return true;
}

static void sync_destroy(gate *g, pthread_mutex_t *start)
{
    pthread_mutex_destroy(start);
    pthread_cond_destroy(&g->cond);
    pthread_mutex_destroy(&g->lock);
}

/* Threads for n elements: those the process may run on, within limits. */
static unsigned threads_for(size_t n)
{
    if (n < 2 * (size_t)PER_THREAD)
        return 1;
    unsigned cpus = 1;
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0)
        cpus = (unsigned)CPU_COUNT(&set);
#endif
    size_t most = n / PER_THREAD;
    if (cpus > most)
        cpus = (unsigned)most;
    return cpus < 1 ? 1 : cpus > MAX_THREADS ? MAX_THREADS : cpus;
}

/* radix_u32 / radix_u64: sort a[0..n) of keys XOR flip, using tmp[0..n),
 * on `threads` threads (count holds [threads][PASSES][BUCKETS], zeroed).
 * Scattered stores dominate the cost on large arrays, so wider digits
 * (fewer passes) win over cache-sized 8-bit ones, measured on this
 * project's machines. */
#define DEFINE_RADIX(NAME, T, BITS)                                             \
    enum { NAME##_PASSES = (BITS + DIGIT_BITS - 1) / DIGIT_BITS };              \
    typedef size_t NAME##_counts[NAME##_PASSES][BUCKETS];                       \
    typedef struct NAME##_job {                                                 \
        T *a, *tmp;                                                             \
        size_t n;                                                               \
        T flip;                                                                 \
        NAME##_counts *count; /* one per thread */                              \
        gate gate;                                                              \
        pthread_mutex_t start_lock; /* held until parties is final */           \
        unsigned next;              /* the next helper's index */               \
    } NAME##_job;                                                               \
    static void NAME##_count(size_t (*count)[BUCKETS], const T *x, size_t m,    \
                             T flip, unsigned first, unsigned last)             \
    {                                                                           \
        const T mask = BUCKETS - 1;                                             \
        for (size_t i = 0; i < m; i++) {                                        \
            T k = x[i] ^ flip;                                                  \
            for (unsigned d = first; d < last; d++)                             \
                count[d][(k >> (DIGIT_BITS * d)) & mask]++;                     \
        }                                                                       \
    }                                                                           \
    static void NAME##_work(NAME##_job *job, unsigned t)                        \
    {                                                                           \
        const unsigned threads = job->gate.parties;                             \
        const size_t n = job->n, lo = n / threads * t,                          \
                     hi = t + 1 == threads ? n : n / threads * (t + 1);         \
        const T flip = job->flip, mask = BUCKETS - 1;                           \
        size_t (*mine)[BUCKETS] = job->count[t];                                \
        NAME##_count(mine, job->a + lo, hi - lo, flip, 0, NAME##_PASSES);       \
        gate_wait(&job->gate);                                                  \
        /* Totals per digit (the same whatever the order) decide the skips. */  \
        bool skip[NAME##_PASSES];                                               \
        T first = job->a[0] ^ flip;                                             \
        for (unsigned d = 0; d < NAME##_PASSES; d++) {                          \
            size_t same = 0, v = (first >> (DIGIT_BITS * d)) & mask;            \
            for (unsigned u = 0; u < threads; u++)                              \
                same += job->count[u][d][v];                                    \
            skip[d] = same == n;                                                \
        }                                                                       \
        gate_wait(&job->gate); /* everyone read a[0] before it moves */         \
        T *src = job->a, *dst = job->tmp;                                       \
        bool counted = true; /* mine holds this slice's counts of src */        \
        size_t offset[BUCKETS];                                                 \
        for (unsigned d = 0; d < NAME##_PASSES; d++) {                          \
            if (skip[d])                                                        \
                continue;                                                       \
            unsigned shift = DIGIT_BITS * d;                                    \
            if (!counted) { /* slices now hold other elements: count again */   \
                memset(mine[d], 0, sizeof mine[d]);                             \
                NAME##_count(mine, src + lo, hi - lo, flip, d, d + 1);          \
                gate_wait(&job->gate);                                          \
            }                                                                   \
            counted = threads == 1; /* one slice: the first counts hold */      \
            size_t sum = 0;                                                     \
            for (unsigned v = 0; v < BUCKETS; v++) {                            \
                size_t before = 0, all = 0;                                     \
                for (unsigned u = 0; u < threads; u++) {                        \
                    size_t c = job->count[u][d][v];                             \
                    before += u < t ? c : 0;                                    \
                    all += c;                                                   \
                }                                                               \
                offset[v] = sum + before;                                       \
                sum += all;                                                     \
            }                                                                   \
            for (size_t i = lo; i < hi; i++) {                                  \
                T x = src[i];                                                   \
                dst[offset[((x ^ flip) >> shift) & mask]++] = x;                \
            }                                                                   \
            gate_wait(&job->gate);                                              \
            T *swap = src;                                                      \
            src = dst;                                                          \
            dst = swap;                                                         \
        }                                                                       \
        if (src != job->a)                                                      \
            memcpy(job->a + lo, src + lo, (hi - lo) * sizeof(T));               \
    }                                                                           \
    static void *NAME##_helper(void *arg)                                       \
    {                                                                           \
        NAME##_job *job = arg;                                                  \
        pthread_mutex_lock(&job->start_lock);                                   \
        unsigned t = job->next++;                                               \
        pthread_mutex_unlock(&job->start_lock);                                 \
        NAME##_work(job, t);                                                    \
        return NULL;                                                            \
    }                                                                           \
    static void NAME##_small(T *a, size_t n, T flip)                            \
    {                                                                           \
        for (size_t i = 1; i < n; i++) {                                        \
            T x = a[i];                                                         \
            size_t j = i;                                                       \
            for (; j > 0 && (a[j - 1] ^ flip) > (x ^ flip); j--)                \
                a[j] = a[j - 1];                                                \
            a[j] = x;                                                           \
        }                                                                       \
    }                                                                           \
    static pyffi_status NAME##_sort(T *a, size_t n, T flip, const char *func)   \
    {                                                                           \
        if (n < SMALL) {                                                        \
            NAME##_small(a, n, flip);                                           \
            return PYFFI_OK;                                                    \
        }                                                                       \
        unsigned threads = threads_for(n);                                      \
        const size_t counts = sizeof(NAME##_counts) * threads;                  \
        if (n > (SIZE_MAX - counts) / sizeof(T))                                \
            return pyffi__fail(PYFFI_NOMEM, "%s: %zu elements cannot be buffered", \
                               func, n);                                        \
        /* One block: the histograms, then the scratch array. */               \
        void *block = calloc(1, counts + n * sizeof(T));                        \
        if (block == NULL)                                                      \
            return pyffi__fail(PYFFI_NOMEM,                                     \
                               "%s: out of memory for a %zu-element buffer",    \
                               func, n);                                        \
        NAME##_job job = {.a = a, .tmp = (T *)(void *)((char *)block + counts), \
                          .n = n, .flip = flip, .count = (NAME##_counts *)block,\
                          .gate = {.parties = 1}, .next = 1};                   \
        pthread_t helpers[MAX_THREADS];                                         \
        unsigned started = 0;                                                   \
        bool synced = threads > 1 && sync_init(&job.gate, &job.start_lock);     \
        if (synced) {                                                           \
            pthread_mutex_lock(&job.start_lock); /* helpers wait for parties */ \
            while (started + 1 < threads &&                                     \
                   pthread_create(&helpers[started], NULL, NAME##_helper, &job) == 0)\
                started++;                                                      \
            job.gate.parties = started + 1; /* whoever could start */           \
            pthread_mutex_unlock(&job.start_lock);                              \
        }                                                                       \
        NAME##_work(&job, 0);                                                   \
        for (unsigned i = 0; i < started; i++)                                  \
            pthread_join(helpers[i], NULL);                                     \
        if (synced)                                                             \
            sync_destroy(&job.gate, &job.start_lock);                           \
        free(block);                                                            \
        return PYFFI_OK;                                                        \
    }

DEFINE_RADIX(radix_u32, uint32_t, 32)
DEFINE_RADIX(radix_u64, uint64_t, 64)

#define CHECK_ARRAY(func)                                                       \
    do {                                                                        \
        if (xs == NULL && n != 0)                                               \
            return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: NULL array of %zu elements", \
                               func, n);                                        \
    } while (0)

pyffi_status pyffi_sort_i32(int32_t *xs, size_t n)
{
    CHECK_ARRAY("sort_i32");
    return radix_u32_sort((uint32_t *)xs, n, UINT32_C(1) << 31, "sort_i32");
}

pyffi_status pyffi_sort_u32(uint32_t *xs, size_t n)
{
    CHECK_ARRAY("sort_u32");
    return radix_u32_sort(xs, n, 0, "sort_u32");
}

pyffi_status pyffi_sort_i64(int64_t *xs, size_t n)
{
    CHECK_ARRAY("sort_i64");
    return radix_u64_sort((uint64_t *)xs, n, UINT64_C(1) << 63, "sort_i64");
}

pyffi_status pyffi_sort_u64(uint64_t *xs, size_t n)
{
    CHECK_ARRAY("sort_u64");
    return radix_u64_sort(xs, n, 0, "sort_u64");
}

/* Floats: NaNs to the end (their bits untouched), the rest through keys.
 * The array is only read and written through memcpy'd bit patterns, so no
 * float object is ever accessed as an integer. */
#define DEFINE_FLOAT_SORT(NAME, F, U, SIGN, RADIX, LABEL)                       \
    pyffi_status NAME(F *xs, size_t n)                                          \
    {                                                                           \
        CHECK_ARRAY(LABEL);                                                     \
        size_t m = n; /* xs[m..n) are the NaNs */                               \
        for (size_t i = 0; i < m;) {                                            \
            if (isnan(xs[i])) {                                                 \
                F t = xs[i];                                                    \
                xs[i] = xs[--m];                                                \
                xs[m] = t;                                                      \
            } else {                                                            \
                i++;                                                            \
            }                                                                   \
        }                                                                       \
        U *keys = (U *)(void *)xs;                                              \
        for (size_t i = 0; i < m; i++) {                                        \
            U u;                                                                \
            memcpy(&u, &xs[i], sizeof u);                                       \
            u = (u & (SIGN)) ? ~u : (u | (SIGN));                                   \
            memcpy(&keys[i], &u, sizeof u);                                     \
        }                                                                       \
        pyffi_status status = RADIX(keys, m, 0, LABEL);                         \
        for (size_t i = 0; i < m; i++) {                                        \
            U u;                                                                \
            memcpy(&u, &keys[i], sizeof u);                                     \
            u = (u & (SIGN)) ? (u & ~(SIGN)) : ~u;                                  \
            memcpy(&xs[i], &u, sizeof u);                                       \
        }                                                                       \
        return status;                                                          \
    }

DEFINE_FLOAT_SORT(pyffi_sort_f32, float, uint32_t, UINT32_C(1) << 31, radix_u32_sort, "sort_f32")
DEFINE_FLOAT_SORT(pyffi_sort_f64, double, uint64_t, UINT64_C(1) << 63, radix_u64_sort, "sort_f64")
