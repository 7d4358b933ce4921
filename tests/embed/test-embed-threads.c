/*
 * 8 native threads call Python at once through libpyffi_embed.so: every
 * result is checked, half the threads hold a scope (pyffi_embed_enter) per
 * batch, and each thread's Python exception detail stays its own while the
 * others run.
 */
#include "check.h"
#include "pyffi_embed.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

enum { THREADS = 8, CALLS = 2000 };

typedef struct job {
    long id;
    pyffi_obj add;  /* shared by the threads: a handle is usable from any thread */
    long wrong;     /* results that were not a + b, or failed calls */
} job;

static int add_once(pyffi_obj add, int64_t a, int64_t b, int64_t *sum)
{
    pyffi_obj args[2] = {0, 0}, r = 0;
    int failed = pyffi_embed_int64(&args[0], a) || pyffi_embed_int64(&args[1], b) ||
                 pyffi_embed_call(&r, add, args, 2, 0) || pyffi_embed_to_int64(sum, r);
    failed |= pyffi_embed_release(args[0]) || pyffi_embed_release(args[1]) ||
              pyffi_embed_release(r);
    return failed;
}

static void *worker(void *arg)
{
    job *j = arg;
    /* This thread's own exception, checked again after all the calls. */
    char src[64], want[64];
    snprintf(src, sizeof src, "int('thread %ld')", j->id);
    snprintf(want, sizeof want, "'thread %ld'", j->id);
    pyffi_obj ignored = 0;
    if (pyffi_embed_eval(&ignored, NULL, src, strlen(src)) != PYFFI_PYTHON)
        j->wrong++;
    /* Odd threads hold the GIL for each batch of 100 calls; even ones take it per call. */
    for (int64_t batch = 0; batch < CALLS / 100; batch++) {
        pyffi_embed_scope scope;
        int scoped = j->id % 2 == 1;
        if (scoped && pyffi_embed_enter(&scope) != PYFFI_OK)
            j->wrong++;
        for (int64_t k = batch * 100; k < (batch + 1) * 100; k++) {
            int64_t sum = 0, a = j->id * 1000000 + k;
            if (add_once(j->add, a, k, &sum) || sum != a + k)
                j->wrong++;
        }
        if (scoped && pyffi_embed_leave(scope) != PYFFI_OK)
            j->wrong++;
    }
    if (strcmp(pyffi_embed_error_type(), "ValueError") != 0 ||
        !strstr(pyffi_embed_error_message(), want)) {
        fprintf(stderr, "thread %ld: its exception detail changed: %s: %s\n", j->id,
                pyffi_embed_error_type(), pyffi_embed_error_message());
        j->wrong++;
    }
    return NULL;
}

int main(void)
{
    const char src[] = "def add(a, b):\n    return a + b\n";
    pyffi_obj add = 0;
    CHECK(pyffi_embed_run(NULL, src, sizeof src - 1) == PYFFI_OK);
    CHECK(pyffi_embed_eval(&add, NULL, "add", 3) == PYFFI_OK);
    job jobs[THREADS];
    pthread_t threads[THREADS];
    for (long i = 0; i < THREADS; i++) {
        jobs[i] = (job){i, add, 0};
        CHECK(pthread_create(&threads[i], NULL, worker, &jobs[i]) == 0);
    }
    long wrong = 0;
    for (int i = 0; i < THREADS; i++) {
        CHECK(pthread_join(threads[i], NULL) == 0);
        wrong += jobs[i].wrong;
    }
    CHECK(wrong == 0);
    CHECK(pyffi_embed_release(add) == PYFFI_OK);
    printf("test-embed-threads: %d threads x %d calls, %ld wrong\n", THREADS, CALLS, wrong);
    return CHECK_DONE();
}
