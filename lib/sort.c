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

#include "pyffi.h"
#include "common/glibc.h"
#include "common/error.h"
#include "pages.h"
#include "sort_simd.h"

#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum {
    SMALL = 48,          /* below this, insertion sort */
    DIGIT_BITS = 11,     /* 3 passes for 32-bit keys, 6 for 64-bit */
    BUCKETS = 1 << DIGIT_BITS,
    MAX_THREADS = 4,
    PER_THREAD = 1 << 17 /* fewest elements worth a thread */
};

/* A barrier whose party count is fixed once every thread has started.
 * Waiters spin for a while before they sleep: the phases of a sort are
 * balanced, so the others usually arrive within microseconds, and waking
 * a sleeping thread costs far more than that on a virtual machine. */
typedef struct gate {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    unsigned parties, waiting;
    atomic_ulong round;
} gate;

enum { GATE_SPINS = 1 << 14 };

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void gate_wait(gate *g)
{
    if (g->parties == 1)
        return;
    pthread_mutex_lock(&g->lock);
    unsigned long round = atomic_load_explicit(&g->round, memory_order_relaxed);
    if (++g->waiting == g->parties) {
        g->waiting = 0;
        atomic_store_explicit(&g->round, round + 1, memory_order_release);
        pthread_cond_broadcast(&g->cond);
        pthread_mutex_unlock(&g->lock);
        return;
    }
    pthread_mutex_unlock(&g->lock);
    for (unsigned i = 0; i < GATE_SPINS; i++) {
        if (atomic_load_explicit(&g->round, memory_order_acquire) != round)
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&g->lock);
    while (atomic_load_explicit(&g->round, memory_order_acquire) == round)
        pthread_cond_wait(&g->cond, &g->lock);
    pthread_mutex_unlock(&g->lock);
}

/* The threads of one sort: the caller runs work(job, 0), helpers 1.. */
typedef struct team {
    gate gate;
    unsigned next; /* the next helper's index */
    void (*work)(void *job, unsigned t);
    void *job;
} team;

/*
 * How helpers join a team, on the heap: a helper can start after the
 * caller has done all the work and returned (a virtual machine's host may
 * not run its vCPU for milliseconds), so the caller waits only for the
 * helpers that came in, and the last of the caller and its helpers to
 * leave frees the door. A helper that finds it closed goes home without
 * touching the team. (Work split by slices claimed from a counter gets
 * done without late helpers; work with a gate waits for every helper at
 * the gate anyway.)
 */
typedef struct door {
    pthread_mutex_t lock; /* held by the caller until gate.parties is final */
    pthread_cond_t left;  /* the last helper inside has left */
    unsigned refs;        /* the caller and the helpers not yet gone */
    unsigned inside;      /* helpers at work */
    bool closed;          /* the caller's work is done */
    team *tm;
} door;

static door *door_open(team *tm)
{
    door *d = malloc(sizeof *d);
    if (d == NULL)
        return NULL;
    if (pthread_mutex_init(&d->lock, NULL) != 0) {
        free(d);
        return NULL;
    }
    if (pthread_cond_init(&d->left, NULL) != 0) {
        pthread_mutex_destroy(&d->lock);
        free(d);
        return NULL;
    }
    d->refs = 1;
    d->inside = 0;
    d->closed = false;
    d->tm = tm;
    return d;
}

/* One of the caller and its helpers leaves, with d->lock held. */
static void door_leave(door *d)
{
    bool last = --d->refs == 0;
    pthread_mutex_unlock(&d->lock);
    if (last) {
        pthread_cond_destroy(&d->left);
        pthread_mutex_destroy(&d->lock);
        free(d);
    }
}

static void *team_helper(void *arg)
{
    door *d = arg;
    pthread_mutex_lock(&d->lock);
    team *tm = d->closed ? NULL : d->tm;
    if (tm != NULL) {
        unsigned t = tm->next++;
        d->inside++;
        pthread_mutex_unlock(&d->lock);
        tm->work(tm->job, t);
        pthread_mutex_lock(&d->lock);
        if (--d->inside == 0)
            pthread_cond_signal(&d->left);
    }
    door_leave(d);
    return NULL;
}

static bool gate_init(gate *g)
{
    if (pthread_mutex_init(&g->lock, NULL) != 0)
        return false;
    if (pthread_cond_init(&g->cond, NULL) != 0) {
        pthread_mutex_destroy(&g->lock);
        return false;
    }
    return true;
}

/* Run tm->work on up to `threads` threads (fewer if some cannot start). */
static void team_run(team *tm, unsigned threads)
{
    tm->gate.parties = 1;
    tm->next = 1;
    unsigned started = 0;
    door *d = NULL;
    pthread_attr_t detached;
    const bool gated = threads > 1 && gate_init(&tm->gate);
    if (gated) {
        d = door_open(tm);
        if (d != NULL && pthread_attr_init(&detached) == 0) {
            if (pthread_attr_setdetachstate(&detached, PTHREAD_CREATE_DETACHED) == 0) {
                pthread_t helper;
                pthread_mutex_lock(&d->lock); /* helpers wait for the party count */
                while (started + 1 < threads &&
                       pthread_create(&helper, &detached, team_helper, d) == 0) {
                    started++;
                    d->refs++;
                }
                tm->gate.parties = started + 1;
                pthread_mutex_unlock(&d->lock);
            }
            pthread_attr_destroy(&detached);
        }
    }
    tm->work(tm->job, 0);
    if (d != NULL) {
        pthread_mutex_lock(&d->lock);
        d->closed = true;
        while (d->inside > 0)
            pthread_cond_wait(&d->left, &d->lock);
        door_leave(d);
    }
    if (gated) {
        pthread_cond_destroy(&tm->gate.cond);
        pthread_mutex_destroy(&tm->gate.lock);
    }
}

/* Counts per digit turned into where each digit starts; returns count. */
static size_t *starts(size_t *count, size_t digits)
{
    size_t sum = 0;
    for (size_t v = 0; v < digits; v++) {
        size_t c = count[v];
        count[v] = sum;
        sum += c;
    }
    return count;
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

/* Where thread t's slice scatters each of `buckets` digits: after every
 * element of a smaller digit, and after this digit's elements in the slices
 * before t. Thread u's histogram is count + u * stride. start, if not NULL,
 * gets each digit's first position. */
static void slice_offsets(const size_t *count, size_t stride, unsigned threads, unsigned t,
                          size_t buckets, size_t *offset, size_t *start)
{
    size_t sum = 0;
    for (size_t v = 0; v < buckets; v++) {
        size_t before = 0, all = 0;
        for (unsigned u = 0; u < threads; u++) {
            size_t c = count[u * stride + v];
            before += u < t ? c : 0;
            all += c;
        }
        if (start != NULL)
            start[v] = sum;
        offset[v] = sum + before;
        sum += all;
    }
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
        gate *gate;                                                             \
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
    static void NAME##_work(void *arg, unsigned t)                              \
    {                                                                           \
        NAME##_job *job = arg;                                                  \
        const unsigned threads = job->gate->parties;                             \
        const size_t n = job->n, lo = n / threads * t,                          \
                     hi = t + 1 == threads ? n : n / threads * (t + 1);         \
        const T flip = job->flip, mask = BUCKETS - 1;                           \
        size_t (*mine)[BUCKETS] = job->count[t];                                \
        NAME##_count(mine, job->a + lo, hi - lo, flip, 0, NAME##_PASSES);       \
        gate_wait(job->gate);                                                  \
        /* Totals per digit (the same whatever the order) decide the skips. */  \
        bool skip[NAME##_PASSES];                                               \
        T first = job->a[0] ^ flip;                                             \
        for (unsigned d = 0; d < NAME##_PASSES; d++) {                          \
            size_t same = 0, v = (first >> (DIGIT_BITS * d)) & mask;            \
            for (unsigned u = 0; u < threads; u++)                              \
                same += job->count[u][d][v];                                    \
            skip[d] = same == n;                                                \
        }                                                                       \
        gate_wait(job->gate); /* everyone read a[0] before it moves */         \
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
                gate_wait(job->gate);                                          \
            }                                                                   \
            counted = threads == 1; /* one slice: the first counts hold */      \
            slice_offsets(&job->count[0][d][0],                                 \
                          sizeof(NAME##_counts) / sizeof(size_t), threads, t,   \
                          BUCKETS, offset, NULL);                               \
            for (size_t i = lo; i < hi; i++) {                                  \
                T x = src[i];                                                   \
                dst[offset[((x ^ flip) >> shift) & mask]++] = x;                \
            }                                                                   \
            gate_wait(job->gate);                                              \
            T *swap = src;                                                      \
            src = dst;                                                          \
            dst = swap;                                                         \
        }                                                                       \
        if (src != job->a)                                                      \
            memcpy(job->a + lo, src + lo, (hi - lo) * sizeof(T));               \
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
        team tm = {.work = NAME##_work};                                        \
        NAME##_job job = {.a = a, .tmp = (T *)(void *)((char *)block + counts), \
                          .n = n, .flip = flip, .count = (NAME##_counts *)block,\
                          .gate = &tm.gate};                                    \
        tm.job = &job;                                                          \
        team_run(&tm, threads);                                                 \
        free(block);                                                            \
        return PYFFI_OK;                                                        \
    }

DEFINE_RADIX(radix_u64, uint64_t, 64)


/*
 * 32-bit keys: one MSD pass, then every bucket on its own in cache.
 *
 * One pass counts the MSD digit and finds the smallest and largest key:
 * the digit is the top 8..11 of the bits that vary between them (as few
 * as leave buckets of about SCRATCH keys: 8 up to 2^24 keys), guessed
 * from a sample and counted again if the guess was wrong. The digit's
 * pass scatters the array into tmp like an LSD pass (in parallel slices;
 * from 2^23 keys on, tmp is half the array's size: see msd32_job). Each
 * bucket then holds keys that differ only in the bits below the digit,
 * and is sorted in cache, back into the array; threads take buckets from
 * a shared counter.
 *
 * With AVX-512 (sort_simd.c) the scatter goes through write-combining
 * buffers and streams whole cache lines out (16 keys at a time, ranked by
 * conflict detection, on CPUs that have it); buckets of up to 256 keys are
 * sorted by a network in registers, bigger ones split again by their top
 * bits. Without it, each bucket is LSD-sorted with 8-bit digits.
 */
enum {
    MSD_MAX_BITS = 11,
    MSD_BUCKETS = 1 << MSD_MAX_BITS,
    BUCKET_SMALL = 64, /* without networks: below this, insertion sort */
    SAMPLE = 4096,     /* keys that guess which bits vary */
    SLICES_PER_THREAD = 2,
    SCRATCH = 1 << 16, /* keys: each thread's in-cache room for a bucket's split */
    /* Keys a bucket of the first pass aims at: as many as the scratch
     * holds, so that pass has as few digits as it can (at least 8 bits,
     * 256 buffers in L1 at 10^7 keys rather than 2048 in L2). Measured at
     * 10^7 keys on 2 threads: 55 -> 47 ms against 2048-key buckets; no
     * change at 10^6 (8 bits instead of 9), nor without networks. */
    MSD_TARGET = SCRATCH,
    SPLIT_FROM = 8192, /* keys: bigger buckets are split by a digit, not halved */
    /* keys: from here on the scratch array is half the array's size (see
     * msd32_job). A whole-size one is 32 MiB there, which glibc maps afresh
     * on every call; below, it keeps it and halves cost more than they
     * save (10^6 keys: 4% slower). */
    HALVES_FROM = 1 << 23,
    LINE = 64
};

/* A slice of the array, as one pass over it counted it. */
typedef struct msd32_slice {
    size_t count[MSD_BUCKETS]; /* its digits */
    uint32_t range[2];         /* its smallest and largest key */
    uint32_t again[2];         /* the same, from a second count (unread) */
} msd32_slice;

/* What each thread of a 32-bit sort keeps. */
typedef struct msd32_local {
    size_t offset[MSD_BUCKETS];     /* where a slice's digits go next */
    size_t first[MSD_BUCKETS];      /* where they went first */
    size_t start[MSD_BUCKETS + 1];  /* where each bucket starts (of the front: its run) */
    size_t second[MSD_BUCKETS + 1]; /* in halves: where each bucket's run in tmp starts */
} msd32_local;

/*
 * The scratch array is half the size of the array where it can be (in
 * "halves"): the back half a[front, n) is scattered into tmp, then the
 * front a[0, front) into the back, at a[n - front, n). Each bucket is then
 * in two runs, which are read into the thread's scratch and sorted from
 * there into the bucket's place. Those writes never reach a run not yet
 * read of a later bucket: bucket v's place ends where the buckets up to v
 * end, and the front's run of v + 1 starts that far plus the back's keys
 * of digits above v, which are at most n - front. They can reach the
 * front's runs of earlier buckets, so a bucket is written only once those
 * have been read (threads take buckets in order, so that wait is short).
 * Half the scratch memory means half the fresh pages, which the kernel
 * zeroes first (a fifth of a 10^7-key sort on one thread), and at 10^7
 * keys an array glibc keeps for the next call (it maps anything over
 * 32 MiB afresh every time). A bucket must then fit its thread's scratch,
 * so keys that fall into few buckets use a whole-size array instead.
 */
typedef struct msd32_job {
    uint32_t *a, *tmp;
    size_t n;
    uint32_t flip;
    unsigned guess_top;        /* where the keys' varying bits seem to end */
    unsigned slices;           /* taken by whichever thread is free */
    size_t front;              /* keys in the front half (0: no halves) */
    unsigned split;            /* the front's slices (the first ones; 0: no halves) */
    bool halves;               /* decided once counted: in halves */
    bool failed;               /* no memory for a whole-size tmp after all */
    void *whole;               /* its allocation */
    uint32_t *back;            /* halves: where the front's runs go, on a line */
    size_t skew;               /* keys from back to a + n - front */
    msd32_slice *slice;
    msd32_local *local;        /* one per thread */
    pyffi__line (*lines)[MSD_BUCKETS]; /* scatter buffers, one set per thread */
    uint32_t (*scratch)[SCRATCH];      /* and two arrays each to sort buckets in cache */
    atomic_uint claim[3];      /* the next slice to count, count again, scatter */
    atomic_uint done[4];       /* slices counted, counted again, scattered; back ones scattered */
    atomic_uint ready;         /* tmp is allocated (or failed) */
    atomic_size_t next_bucket;
    atomic_size_t read_below;  /* halves: every bucket below this one has been read */
    atomic_uchar read[MSD_BUCKETS];
    bool net; /* with sorting networks and buffered scatters */
    bool cd;  /* and scatters 16 keys at a time */
} msd32_job;

/* Without networks: sort the m keys at src (differing only in their low
 * `bits` bits) into out, which is src or dst; dst is scratch of m elements. */
static void msd32_bucket(uint32_t *src, uint32_t *dst, uint32_t *out, size_t m, uint32_t flip,
                         unsigned bits)
{
    if (m < BUCKET_SMALL) {
        if (src != out)
            memcpy(out, src, m * sizeof *out);
        for (size_t i = 1; i < m; i++) {
            uint32_t x = out[i];
            size_t j = i;
            for (; j > 0 && (out[j - 1] ^ flip) > (x ^ flip); j--)
                out[j] = out[j - 1];
            out[j] = x;
        }
        return;
    }
    unsigned passes = (bits + 7) / 8, width = passes ? (bits + passes - 1) / passes : 0;
    uint32_t mask = (UINT32_C(1) << width) - 1;
    size_t count[4][256];
    memset(count, 0, sizeof count);
    if (passes == 3) { /* the usual case, unrolled */
        for (size_t i = 0; i < m; i++) {
            uint32_t k = src[i] ^ flip;
            count[0][k & mask]++;
            count[1][(k >> width) & mask]++;
            count[2][(k >> (2 * width)) & mask]++;
        }
    } else {
        for (size_t i = 0; i < m; i++) {
            uint32_t k = src[i] ^ flip;
            for (unsigned d = 0; d < passes; d++)
                count[d][(k >> (width * d)) & mask]++;
        }
    }
    uint32_t first = src[0] ^ flip;
    for (unsigned d = 0; d < passes; d++) {
        unsigned shift = width * d;
        if (count[d][(first >> shift) & mask] == m)
            continue;
        size_t *offset = starts(count[d], (size_t)mask + 1);
        for (size_t i = 0; i < m; i++) {
            uint32_t x = src[i];
            dst[offset[((x ^ flip) >> shift) & mask]++] = x;
        }
        uint32_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != out)
        memcpy(out, src, m * sizeof *out);
}

/* ceil(log2(x)) for x >= 1 */
static unsigned log2_up(size_t x)
{
    return x <= 1 ? 0 : (unsigned)(64 - __builtin_clzll((unsigned long long)(x - 1)));
}

/* The highest bit that differs between two keys, plus one (0: equal). */
static unsigned top_bit(uint32_t least, uint32_t most)
{
    return least == most ? 0 : 32 - (unsigned)__builtin_clz(least ^ most);
}

static void net_bucket(uint32_t *src, uint32_t *alt, uint32_t *out, size_t m, uint32_t flip,
                       unsigned bits);

/* The digit a bucket of m keys (over SPLIT_FROM) is split by: its top
 * bits, as many as leave parts of network size, at most 8. */
static unsigned split_width(size_t m, unsigned bits)
{
    unsigned width = log2_up(m / PYFFI__NET32_MAX);
    return width > 8 ? 8 : width > bits ? bits : width;
}

/* After a split into src by the digit at shift (count[d]: d's end): each
 * part sorted into its place in out, alt being scratch of the same size. */
static void net_parts(uint32_t *src, uint32_t *alt, uint32_t *out, const size_t *count,
                      uint32_t mask, uint32_t flip, unsigned shift)
{
    for (uint32_t d = 0; d <= mask; d++) {
        size_t b = d ? count[d - 1] : 0, c = count[d] - b;
        if (c > 0)
            net_bucket(src + b, alt + b, out + b, c, flip, shift);
    }
}

/* With networks: sort the m keys at src (differing only in their low
 * `bits` bits) into out, which is src or alt (scratch of m elements).
 * Bigger buckets than a network takes are split: those over SPLIT_FROM
 * keys by an MSD pass on up to 8 of their top bits, smaller ones halved by
 * their top bit with AVX-512 compress (cheaper per bit, but one pass per
 * bit). A halving that leaves one side empty is followed by a pass that
 * finds the top bit that does vary, so runs of bits that do not vary (or
 * keys all equal) cost two passes, not one per bit, and random keys never
 * pay for it: tracking both sides' ranges in every halving instead made it
 * about 12% slower in L1 (0.29-0.32 against 0.25-0.29 ns a key). */
static void net_bucket(uint32_t *src, uint32_t *alt, uint32_t *out, size_t m, uint32_t flip,
                       unsigned bits)
{
    if (m <= PYFFI__NET32_MAX) {
        pyffi__sort32_net(out, src, m, flip);
        return;
    }
    if (bits == 0) { /* all equal */
        if (src != out)
            memcpy(out, src, m * sizeof *out);
        return;
    }
    if (m > SPLIT_FROM && bits > 1) {
        const unsigned shift = bits - split_width(m, bits);
        const uint32_t mask = (UINT32_C(1) << (bits - shift)) - 1;
        size_t count[257] = {0};
        uint32_t range[2];
        pyffi__count32(src, m, flip, shift, mask, count + 1, range);
        const unsigned top = top_bit(range[0], range[1]);
        if (top <= shift) { /* the digit does not vary */
            net_bucket(src, alt, out, m, flip, top);
            return;
        }
        for (unsigned v = 1; v <= mask + 1; v++)
            count[v] += count[v - 1];
        pyffi__split32(alt, src, m, flip, shift, mask, count); /* count[v]: now v's end */
        net_parts(alt, src, out, count, mask, flip, shift);
        return;
    }
    size_t low = pyffi__partition32(alt, src, m, flip, bits - 1);
    if (low == 0 || low == m) { /* that bit does not vary: go to the top one that does */
        uint32_t range[2];
        pyffi__range32(alt, m, flip, range);
        net_bucket(alt, src, out, m, flip, top_bit(range[0], range[1]));
        return;
    }
    net_bucket(alt, src, out, low, flip, bits - 1);
    net_bucket(alt + low, src + low, out + low, m - low, flip, bits - 1);
}

/* The MSD digit of n keys whose varying bits end at top: the top `bits`
 * of them (8..MSD_MAX_BITS: buckets of about MSD_TARGET keys where it
 * can), from bit *shift. */
static unsigned msd32_digit(size_t n, unsigned top, unsigned *shift)
{
    unsigned bits = log2_up((n + MSD_TARGET - 1) / MSD_TARGET);
    bits = bits < 8 ? 8 : bits > MSD_MAX_BITS ? MSD_MAX_BITS : bits;
    bits = bits > top ? top : bits;
    *shift = top - bits;
    return bits;
}

static void msd32_count(const msd32_job *job, msd32_slice *slice, size_t lo, size_t hi,
                        unsigned shift, uint32_t mask, uint32_t range[2])
{
    if (job->net) {
        pyffi__count32(job->a + lo, hi - lo, job->flip, shift, mask, slice->count, range);
        return;
    }
    uint32_t least = UINT32_MAX, most = 0;
    for (size_t i = lo; i < hi; i++) {
        uint32_t k = job->a[i] ^ job->flip;
        least = k < least ? k : least;
        most = k > most ? k : most;
        slice->count[(k >> shift) & mask]++;
    }
    range[0] = least;
    range[1] = most;
}

/* Until every slice of a phase is done (by whichever threads took them). */
static void await_slices(atomic_uint *done, unsigned slices)
{
    for (unsigned i = 0; atomic_load_explicit(done, memory_order_acquire) < slices; i++) {
        if (i < GATE_SPINS)
            cpu_relax();
        else
            sched_yield();
    }
}

/* Where slice s starts: the front's slices share a[0, front) and the
 * others the rest (without halves, all share the array). */
static size_t slice_lo(const msd32_job *job, unsigned s)
{
    if (s < job->split)
        return job->front / job->split * s;
    return job->front + (job->n - job->front) / (job->slices - job->split) * (s - job->split);
}

static size_t slice_hi(const msd32_job *job, unsigned s)
{
    return s + 1 == job->slices ? job->n : s + 1 == job->split ? job->front : slice_lo(job, s + 1);
}

/* Thread 0, once every slice is counted, where halves can be: whether
 * they are (every bucket fits a thread's scratch), else a whole-size tmp. */
static void msd32_prepare(msd32_job *job, size_t buckets)
{
    size_t most = 0;
    for (size_t v = 0; v < buckets; v++) {
        size_t all = 0;
        for (unsigned s = 0; s < job->slices; s++)
            all += job->slice[s].count[v];
        most = all > most ? all : most;
    }
    job->halves = most <= SCRATCH;
    if (job->halves) { /* the front's runs are streamed out in whole lines */
        uint32_t *at = job->a + (job->n - job->front);
        job->skew = ((uintptr_t)at & (LINE - 1)) / sizeof *at;
        job->back = at - job->skew;
    } else {
        job->whole = malloc(job->n * sizeof *job->tmp + LINE);
        if (job->whole == NULL) {
            job->failed = true;
        } else {
            job->tmp = (uint32_t *)(((uintptr_t)job->whole + LINE - 1) & ~(uintptr_t)(LINE - 1));
            pyffi__huge_pages(job->tmp, job->n * sizeof *job->tmp);
        }
    }
    atomic_store_explicit(&job->ready, 1, memory_order_release);
}

/* Halves: bucket v has been read (into a thread's scratch). */
static void msd32_read(msd32_job *job, size_t v, size_t buckets)
{
    atomic_store(&job->read[v], 1);
    size_t w = atomic_load(&job->read_below);
    while (w < buckets && atomic_load(&job->read[w]) != 0) {
        if (atomic_compare_exchange_weak(&job->read_below, &w, w + 1))
            w++;
    }
}

/* Halves: until every bucket below `need` has been read. */
static void msd32_await_read(msd32_job *job, size_t need)
{
    for (unsigned i = 0; atomic_load(&job->read_below) < need; i++) {
        if (i < GATE_SPINS)
            cpu_relax();
        else
            sched_yield();
    }
}

/* Halves: sort bucket v, in the runs r1 (m1 keys) and r2 (m2), into out
 * through the scratch arrays s1 and s2, once every bucket below `need`
 * has been read. A bucket split by a digit is read by that split, from
 * both runs; any other is copied into s1 first. */
static void msd32_halves_bucket(msd32_job *job, size_t v, size_t buckets, size_t need,
                                const uint32_t *r1, size_t m1, const uint32_t *r2, size_t m2,
                                uint32_t *s1, uint32_t *s2, uint32_t *out, unsigned bits)
{
    const size_t m = m1 + m2;
    const uint32_t flip = job->flip;
    if (m > SPLIT_FROM && bits > 1) {
        const unsigned shift = bits - split_width(m, bits);
        const uint32_t mask = (UINT32_C(1) << (bits - shift)) - 1;
        size_t count[257] = {0};
        uint32_t range[2], also[2];
        pyffi__count32(r1, m1, flip, shift, mask, count + 1, range);
        pyffi__count32(r2, m2, flip, shift, mask, count + 1, also);
        range[0] = also[0] < range[0] ? also[0] : range[0];
        range[1] = also[1] > range[1] ? also[1] : range[1];
        const unsigned top = top_bit(range[0], range[1]);
        if (top > shift) {
            for (unsigned d = 1; d <= mask + 1; d++)
                count[d] += count[d - 1];
            pyffi__split32(s1, r1, m1, flip, shift, mask, count);
            pyffi__split32(s1, r2, m2, flip, shift, mask, count); /* count[d]: d's end */
            msd32_read(job, v, buckets);
            msd32_await_read(job, need);
            net_parts(s1, s2, out, count, mask, flip, shift);
            return;
        }
        bits = top; /* the digit does not vary */
    }
    memcpy(s1, r1, m1 * sizeof *s1);
    memcpy(s1 + m1, r2, m2 * sizeof *s1);
    msd32_read(job, v, buckets);
    msd32_await_read(job, need);
    net_bucket(s1, s2, out, m, flip, bits);
}

/* The slices are claimed, not assigned, and no thread waits for another
 * to arrive: a helper thread can start milliseconds late on a virtual
 * machine (or not get a CPU at all for a while); the others go on
 * meanwhile, and it joins whatever work is left. A phase ends when all of
 * its slices are done. (Keys equal in order are indistinguishable, so
 * which thread moves which slice changes nothing in the result.) */
static void msd32_work(void *arg, unsigned t)
{
    msd32_job *job = arg;
    const size_t n = job->n;
    const unsigned slices = job->slices;
    const uint32_t flip = job->flip;
    uint32_t *a = job->a;
    msd32_local *mine = &job->local[t];
    /* One pass: the range of the keys, and the digit counts for the
     * varying bits guessed from a sample (counted again if wrong). */
    unsigned shift, bits = msd32_digit(n, job->guess_top, &shift);
    uint32_t mask = (UINT32_C(1) << bits) - 1;
    for (unsigned s; (s = atomic_fetch_add(&job->claim[0], 1)) < slices;) {
        msd32_count(job, &job->slice[s], slice_lo(job, s), slice_hi(job, s), shift, mask,
                    job->slice[s].range);
        atomic_fetch_add_explicit(&job->done[0], 1, memory_order_release);
    }
    await_slices(&job->done[0], slices);
    uint32_t least = UINT32_MAX, most = 0;
    for (unsigned s = 0; s < slices; s++) {
        least = job->slice[s].range[0] < least ? job->slice[s].range[0] : least;
        most = job->slice[s].range[1] > most ? job->slice[s].range[1] : most;
    }
    if (least == most)
        return; /* all equal */
    const unsigned top = top_bit(least, most);
    if (top != job->guess_top) {
        bits = msd32_digit(n, top, &shift);
        mask = (UINT32_C(1) << bits) - 1;
        for (unsigned s; (s = atomic_fetch_add(&job->claim[1], 1)) < slices;) {
            memset(job->slice[s].count, 0, sizeof job->slice[s].count);
            msd32_count(job, &job->slice[s], slice_lo(job, s), slice_hi(job, s), shift, mask,
                        job->slice[s].again);
            atomic_fetch_add_explicit(&job->done[1], 1, memory_order_release);
        }
        await_slices(&job->done[1], slices);
    }
    const size_t buckets = (size_t)mask + 1, stride = sizeof(msd32_slice) / sizeof(size_t);
    if (job->split > 0) {
        if (t == 0)
            msd32_prepare(job, buckets);
        await_slices(&job->ready, 1);
        if (job->failed)
            return;
    }
    uint32_t *tmp = job->tmp;
    /* Without halves every slice goes to tmp. With them the back's go
     * first, then the front's, into the back (so after the back's). */
    const bool halves = job->halves;
    const unsigned split = halves ? job->split : 0, backs = slices - split;
    for (unsigned c; (c = atomic_fetch_add(&job->claim[2], 1)) < slices;) {
        const unsigned s = c < backs ? split + c : c - backs;
        const size_t lo = slice_lo(job, s), hi = slice_hi(job, s);
        uint32_t *dst = tmp;
        if (s >= split) {
            slice_offsets(job->slice[split].count, stride, backs, s - split, buckets, mine->offset,
                          NULL);
        } else {
            await_slices(&job->done[3], backs);
            slice_offsets(job->slice[0].count, stride, split, s, buckets, mine->offset, NULL);
            for (size_t v = 0; v < buckets; v++)
                mine->offset[v] += job->skew;
            dst = job->back;
        }
        if (job->net) {
            (job->cd ? pyffi__scatter32_cd : pyffi__scatter32)(
                dst, a + lo, hi - lo, flip, shift, mask, mine->offset, job->lines[t], mine->first);
        } else {
            for (size_t i = lo; i < hi; i++) {
                uint32_t x = a[i];
                dst[mine->offset[((x ^ flip) >> shift) & mask]++] = x;
            }
        }
        if (s >= split)
            atomic_fetch_add_explicit(&job->done[3], 1, memory_order_release);
        atomic_fetch_add_explicit(&job->done[2], 1, memory_order_release);
    }
    if (halves) {
        slice_offsets(job->slice[0].count, stride, split, 0, buckets, mine->offset, mine->start);
        mine->start[buckets] = job->front;
        slice_offsets(job->slice[split].count, stride, backs, 0, buckets, mine->offset,
                      mine->second);
        mine->second[buckets] = n - job->front;
    } else {
        slice_offsets(job->slice[0].count, stride, slices, 0, buckets, mine->offset, mine->start);
        mine->start[buckets] = n;
    }
    await_slices(&job->done[2], slices);
    uint32_t *s1 = job->scratch[2 * t], *s2 = job->scratch[2 * t + 1];
    const uint32_t *runs = a + (n - job->front); /* halves: the front's runs */
    size_t below = 0; /* halves: buckets whose front run starts before this bucket's end */
    for (;;) { /* buckets, a few at a time, by whichever thread is free */
        size_t v = atomic_fetch_add(&job->next_bucket, 8);
        if (v >= buckets)
            break;
        for (size_t end = v + 8 < buckets ? v + 8 : buckets; v < end; v++) {
            size_t b = mine->start[v], m = mine->start[v + 1] - b;
            if (halves) {
                size_t b2 = mine->second[v], m2 = mine->second[v + 1] - b2, at = b + b2;
                while (below < buckets && (n - job->front) + mine->start[below] < at + m + m2)
                    below++;
                if (m + m2 == 0)
                    msd32_read(job, v, buckets);
                else
                    msd32_halves_bucket(job, v, buckets, below < v ? below : v, runs + b, m,
                                        tmp + b2, m2, s1, s2, a + at, shift);
            } else if (m > 0 && job->net) { /* split in cache, not in a's lines */
                net_bucket(tmp + b, m <= SCRATCH ? s1 : a + b, a + b, m, flip, shift);
            } else if (m > 0) {
                msd32_bucket(tmp + b, a + b, a + b, m, flip, shift);
            }
        }
    }
}

pyffi_status pyffi__sort32(uint32_t *a, size_t n, uint32_t flip, bool net, const char *func)
{
    if (n < 2)
        return PYFFI_OK;
    if (net && n <= PYFFI__NET32_MAX) {
        pyffi__sort32_net(a, a, n, flip);
        return PYFFI_OK;
    }
    unsigned threads = threads_for(n);
    if (net && n < 2 * (size_t)PER_THREAD) { /* in cache: halved by bits down to networks */
        if (n > SIZE_MAX / sizeof *a)
            return pyffi__fail(PYFFI_NOMEM, "%s: %zu elements cannot be buffered", func, n);
        uint32_t *tmp = malloc(n * sizeof *a), range[2];
        if (tmp == NULL)
            return pyffi__fail(PYFFI_NOMEM, "%s: out of memory for a %zu-element buffer", func, n);
        pyffi__range32(a, n, flip, range);
        net_bucket(a, tmp, a, n, flip, top_bit(range[0], range[1]));
        free(tmp);
        return PYFFI_OK;
    }
    if (n > (SIZE_MAX - LINE) / sizeof *a)
        return pyffi__fail(PYFFI_NOMEM, "%s: %zu elements cannot be buffered", func, n);
    /* Halves need networks (buckets sorted from scratch) and keys on
     * their own alignment (the front's runs go to whole lines). */
    const bool halves = net && n >= HALVES_FROM && ((uintptr_t)a & (sizeof *a - 1)) == 0;
    /* One block, on cache lines: the scatter buffers and bucket scratch,
     * each thread's offsets, the slices' counts, then the scratch array
     * (one allocation the same size every call, which glibc keeps for the
     * next call below 32 MiB; in two, it gave back the top one, whose pages
     * then faulted in again: 510 faults a call at 10^6 keys). */
    const unsigned split = halves ? (threads == 1 ? 1 : threads) : 0,
                   slices = halves ? 2 * split : threads == 1 ? 1 : SLICES_PER_THREAD * threads;
    const size_t lines =
        net ? (sizeof(pyffi__line[MSD_BUCKETS]) + 2 * sizeof(uint32_t[SCRATCH])) * threads : 0;
    const size_t locals = sizeof(msd32_local) * threads + sizeof(msd32_slice) * slices,
                 head = 2 * LINE + lines + locals, keys = halves ? n - n / 2 : n;
    if (keys > (SIZE_MAX - head) / sizeof *a)
        return pyffi__fail(PYFFI_NOMEM, "%s: %zu elements cannot be buffered", func, n);
    char *block = malloc(head + keys * sizeof *a);
    if (block == NULL)
        return pyffi__fail(PYFFI_NOMEM, "%s: out of memory for a %zu-element buffer", func, n);
    char *at = (char *)(((uintptr_t)block + LINE - 1) & ~(uintptr_t)(LINE - 1));
    msd32_job job = {.a = a, .n = n, .flip = flip, .net = net};
    job.cd = net && n <= UINT32_MAX && pyffi__scatter32_cd_ok();
    job.lines = (pyffi__line(*)[MSD_BUCKETS])(void *)at;
    job.scratch = (uint32_t(*)[SCRATCH])(void *)(at + sizeof(pyffi__line[MSD_BUCKETS]) * threads);
    job.local = (msd32_local *)(void *)(at + lines);
    job.slice = (msd32_slice *)(void *)(at + lines + sizeof(msd32_local) * threads);
    job.slices = slices;
    job.split = split;
    job.front = halves ? n / 2 : 0;
    memset(job.slice, 0, sizeof(msd32_slice) * slices);
    job.tmp = (uint32_t *)(void *)(((uintptr_t)(at + lines + locals) + LINE - 1) &
                                   ~(uintptr_t)(LINE - 1));
    pyffi__huge_pages(job.tmp, keys * sizeof *a);
    uint32_t least = UINT32_MAX, most = 0;
    for (size_t i = 0; i < n && i < SAMPLE; i++) {
        uint32_t k = a[i] ^ flip;
        least = k < least ? k : least;
        most = k > most ? k : most;
    }
    job.guess_top = top_bit(least, most);
    for (unsigned i = 0; i < 3; i++)
        atomic_init(&job.claim[i], 0);
    for (unsigned i = 0; i < 4; i++)
        atomic_init(&job.done[i], 0);
    atomic_init(&job.ready, 0);
    atomic_init(&job.next_bucket, 0);
    atomic_init(&job.read_below, 0);
    for (size_t v = 0; v < MSD_BUCKETS; v++)
        atomic_init(&job.read[v], 0);
    team tm = {.work = msd32_work, .job = &job};
    team_run(&tm, threads);
    free(job.whole);
    free(block);
    if (job.failed)
        return pyffi__fail(PYFFI_NOMEM, "%s: out of memory for a %zu-element buffer", func, n);
    return PYFFI_OK;
}

/*
 * 64-bit keys from MSD64_FROM on: one MSD pass on the top 8..11 of the
 * bits that vary (buckets of about MSD64_TARGET keys), then each bucket
 * LSD-sorted in cache, from tmp back into the array, by 8-bit digits
 * (those that do not vary in the bucket skipped). The whole-array LSD
 * passes scatter 80 MB to 2048 places each at 10^7 keys, which misses
 * the caches and the TLB on nearly every key; here only the MSD pass does.
 * Threads: the range, the count and the scatter in slices between gates
 * (as radix_u64), then buckets taken from a shared counter.
 */
enum {
    MSD64_FROM = 1 << 16,
    MSD64_TARGET = 4096, /* keys: 32 KiB, in L1 */
    MSD64_CACHED = 1 << 15, /* keys: bigger buckets are split again, not LSD-sorted */
    MSD64_MAX_BITS = 11,
    MSD64_BUCKETS = 1 << MSD64_MAX_BITS
};

typedef struct msd64_job {
    uint64_t *a, *tmp;
    size_t n;
    uint64_t flip;
    size_t (*count)[MSD64_BUCKETS]; /* one per thread */
    uint64_t (*range)[2];           /* each thread's smallest and largest key */
    gate *gate;
    atomic_size_t next_bucket;
} msd64_job;

/* Sort the m keys at src (differing only in their low `bits` bits) into
 * out, which is src or dst (scratch of m keys). A bucket too big for the
 * cache (keys that share their top bits, as floats share exponents) is
 * split again by the top 8 of its bits that vary, each part in turn. */
static void msd64_bucket(uint64_t *src, uint64_t *dst, uint64_t *out, size_t m, uint64_t flip,
                         unsigned bits)
{
    if (m < SMALL || bits == 0) {
        if (src != out)
            memcpy(out, src, m * sizeof *out);
        if (bits > 0)
            radix_u64_small(out, m, flip);
        return;
    }
    if (m > MSD64_CACHED) {
        uint64_t least = UINT64_MAX, most = 0;
        for (size_t i = 0; i < m; i++) {
            uint64_t k = src[i] ^ flip;
            least = k < least ? k : least;
            most = k > most ? k : most;
        }
        const unsigned top = least == most ? 0 : 64 - (unsigned)__builtin_clzll(least ^ most);
        if (top == 0) {
            msd64_bucket(src, dst, out, m, flip, 0);
            return;
        }
        const unsigned shift = top < 8 ? 0 : top - 8;
        const uint64_t mask = (UINT64_C(1) << (top - shift)) - 1;
        size_t count[257] = {0};
        for (size_t i = 0; i < m; i++)
            count[(((src[i] ^ flip) >> shift) & mask) + 1]++;
        size_t *offset = starts(count + 1, (size_t)mask + 1) - 1;
        for (size_t i = 0; i < m; i++) {
            uint64_t x = src[i];
            dst[offset[(((x ^ flip) >> shift) & mask) + 1]++] = x;
        }
        for (size_t v = 0; v <= mask; v++) { /* offset[v + 1]: now v's end */
            size_t b = v ? offset[v] : 0, c = offset[v + 1] - b;
            if (c > 0)
                msd64_bucket(dst + b, src + b, out + b, c, flip, shift);
        }
        return;
    }
    const unsigned passes = (bits + 7) / 8;
    size_t count[8][256];
    memset(count, 0, sizeof(count[0]) * passes);
    for (size_t i = 0; i < m; i++) {
        uint64_t k = src[i] ^ flip;
        for (unsigned d = 0; d < passes; d++)
            count[d][(k >> (8 * d)) & 255]++;
    }
    const uint64_t first = src[0] ^ flip;
    for (unsigned d = 0; d < passes; d++) {
        const unsigned shift = 8 * d;
        if (count[d][(first >> shift) & 255] == m)
            continue; /* every key has this digit */
        size_t *offset = starts(count[d], 256);
        for (size_t i = 0; i < m; i++) {
            uint64_t x = src[i];
            dst[offset[((x ^ flip) >> shift) & 255]++] = x;
        }
        uint64_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != out)
        memcpy(out, src, m * sizeof *out);
}

static void msd64_work(void *arg, unsigned t)
{
    msd64_job *job = arg;
    const unsigned threads = job->gate->parties;
    const size_t n = job->n, lo = n / threads * t,
                 hi = t + 1 == threads ? n : n / threads * (t + 1);
    const uint64_t flip = job->flip;
    uint64_t least = UINT64_MAX, most = 0;
    for (size_t i = lo; i < hi; i++) {
        uint64_t k = job->a[i] ^ flip;
        least = k < least ? k : least;
        most = k > most ? k : most;
    }
    job->range[t][0] = least;
    job->range[t][1] = most;
    gate_wait(job->gate);
    for (unsigned u = 0; u < threads; u++) {
        least = job->range[u][0] < least ? job->range[u][0] : least;
        most = job->range[u][1] > most ? job->range[u][1] : most;
    }
    if (least == most)
        return; /* all equal (every thread sees it) */
    const unsigned top = 64 - (unsigned)__builtin_clzll(least ^ most);
    unsigned bits = log2_up((n + MSD64_TARGET - 1) / MSD64_TARGET);
    bits = bits < 8 ? 8 : bits > MSD64_MAX_BITS ? MSD64_MAX_BITS : bits;
    bits = bits > top ? top : bits;
    const unsigned shift = top - bits;
    const uint64_t mask = (UINT64_C(1) << bits) - 1;
    const size_t buckets = (size_t)mask + 1;
    size_t *mine = job->count[t];
    for (size_t i = lo; i < hi; i++)
        mine[((job->a[i] ^ flip) >> shift) & mask]++;
    gate_wait(job->gate);
    size_t offset[MSD64_BUCKETS], start[MSD64_BUCKETS + 1];
    slice_offsets(job->count[0], MSD64_BUCKETS, threads, t, buckets, offset, start);
    start[buckets] = n;
    for (size_t i = lo; i < hi; i++) {
        uint64_t x = job->a[i];
        job->tmp[offset[((x ^ flip) >> shift) & mask]++] = x;
    }
    gate_wait(job->gate);
    for (;;) { /* buckets, a few at a time, by whichever thread is free */
        size_t v = atomic_fetch_add(&job->next_bucket, 8);
        if (v >= buckets)
            break;
        for (size_t end = v + 8 < buckets ? v + 8 : buckets; v < end; v++) {
            size_t b = start[v], m = start[v + 1] - b;
            if (m > 0)
                msd64_bucket(job->tmp + b, job->a + b, job->a + b, m, flip, shift);
        }
    }
}

static pyffi_status sort_u64(uint64_t *a, size_t n, uint64_t flip, const char *func)
{
    if (n < MSD64_FROM)
        return radix_u64_sort(a, n, flip, func);
    const unsigned threads = threads_for(n);
    const size_t head = 2 * LINE + (sizeof(size_t[MSD64_BUCKETS]) + sizeof(uint64_t[2])) * threads;
    if (n > (SIZE_MAX - head) / sizeof *a)
        return pyffi__fail(PYFFI_NOMEM, "%s: %zu elements cannot be buffered", func, n);
    /* One block: the counts, the ranges, then the scratch array. */
    char *block = calloc(1, head + n * sizeof *a);
    if (block == NULL)
        return pyffi__fail(PYFFI_NOMEM, "%s: out of memory for a %zu-element buffer", func, n);
    team tm = {.work = msd64_work};
    msd64_job job = {.a = a, .n = n, .flip = flip, .gate = &tm.gate};
    job.count = (size_t(*)[MSD64_BUCKETS])(void *)block;
    job.range = (uint64_t(*)[2])(void *)(block + sizeof(size_t[MSD64_BUCKETS]) * threads);
    job.tmp = (uint64_t *)(void *)(((uintptr_t)(block + head - LINE) + LINE - 1) &
                                   ~(uintptr_t)(LINE - 1));
    pyffi__huge_pages(job.tmp, n * sizeof *a);
    atomic_init(&job.next_bucket, 0);
    tm.job = &job;
    team_run(&tm, threads);
    free(block);
    return PYFFI_OK;
}

static pyffi_status sort_u32(uint32_t *a, size_t n, uint32_t flip, const char *func)
{
    return pyffi__sort32(a, n, flip, pyffi__sort32_net_ok(), func);
}

#define CHECK_ARRAY(func)                                                       \
    do {                                                                        \
        if (xs == NULL && n != 0)                                               \
            return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: NULL array of %zu elements", \
                               func, n);                                        \
    } while (0)

pyffi_status pyffi_sort_i32(int32_t *xs, size_t n)
{
    CHECK_ARRAY("sort_i32");
    return sort_u32((uint32_t *)xs, n, UINT32_C(1) << 31, "sort_i32");
}

pyffi_status pyffi_sort_u32(uint32_t *xs, size_t n)
{
    CHECK_ARRAY("sort_u32");
    return sort_u32(xs, n, 0, "sort_u32");
}

pyffi_status pyffi_sort_i64(int64_t *xs, size_t n)
{
    CHECK_ARRAY("sort_i64");
    return sort_u64((uint64_t *)xs, n, UINT64_C(1) << 63, "sort_i64");
}

pyffi_status pyffi_sort_u64(uint64_t *xs, size_t n)
{
    CHECK_ARRAY("sort_u64");
    return sort_u64(xs, n, 0, "sort_u64");
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

DEFINE_FLOAT_SORT(pyffi_sort_f32, float, uint32_t, UINT32_C(1) << 31, sort_u32, "sort_f32")
DEFINE_FLOAT_SORT(pyffi_sort_f64, double, uint64_t, UINT64_C(1) << 63, sort_u64, "sort_f64")
