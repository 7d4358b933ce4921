/*
 * A Python add(a, b) called from C, per call, through pyffi's embedding API
 * and through the raw CPython C API, in the same program (the same
 * interpreter, interleaved rounds). benchmarks/bench_embed.py builds and
 * runs it and prints the table; by hand:
 *   cc -O2 bench_embed.c $(python -m pyffi flags --cflags --libs) $(python3-config --includes)
 *   ./a.out CALLS ROUNDS     -> one line per round and way: "<way> <ns per call>"
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pyffi_embed.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int64_t sink; /* results are summed so no call can be optimised away */

/* One call through pyffi: two ints, the call, the result back, three releases. */
static int pyffi_add(pyffi_obj add, int64_t a, int64_t b)
{
    pyffi_obj args[2], r;
    int64_t v;
    if (pyffi_embed_int64(&args[0], a) || pyffi_embed_int64(&args[1], b) ||
        pyffi_embed_call(&r, add, args, 2, 0) || pyffi_embed_to_int64(&v, r))
        return 1;
    sink += v;
    return pyffi_embed_release(args[0]) || pyffi_embed_release(args[1]) ||
           pyffi_embed_release(r);
}

int main(int argc, char **argv)
{
    long calls = argc > 1 ? atol(argv[1]) : 200000, rounds = argc > 2 ? atol(argv[2]) : 7;
    const char code[] = "def add(a, b):\n    return a + b\n";
    pyffi_obj add;
    if (pyffi_embed_run(NULL, code, sizeof code - 1) || pyffi_embed_eval(&add, NULL, "add", 3)) {
        fprintf(stderr, "bench_embed: %s\n", pyffi_error_last());
        return 1;
    }
    PyGILState_STATE g = PyGILState_Ensure();
    PyObject *f = PyObject_GetAttrString(PyImport_AddModule("__main__"), "add");
    PyGILState_Release(g);
    for (long round = 0; round < rounds; round++) {
        /* raw: what a C program writes by hand, one GIL round trip per call */
        double t = now();
        for (long k = 0; k < calls; k++) {
            g = PyGILState_Ensure();
            PyObject *r = PyObject_CallFunction(f, "LL", (long long)k, 1LL);
            sink += PyLong_AsLongLong(r);
            Py_DECREF(r);
            PyGILState_Release(g);
        }
        printf("raw %.1f\n", (now() - t) / (double)calls * 1e9);

        /* pyffi, one step: native values in and out, one GIL round trip */
        t = now();
        for (long k = 0; k < calls; k++) {
            pyffi_embed_value args[2] = {{PYFFI_EMBED_INT64, {.i64 = k}},
                                         {PYFFI_EMBED_INT64, {.i64 = 1}}}, r;
            if (pyffi_embed_call_values(&r, PYFFI_EMBED_INT64, add, args, 2))
                return 1;
            sink += r.as.i64;
        }
        printf("values %.1f\n", (now() - t) / (double)calls * 1e9);

        /* pyffi, a scope per call: the same single GIL round trip */
        t = now();
        for (long k = 0; k < calls; k++) {
            pyffi_embed_scope scope;
            if (pyffi_embed_enter(&scope) || pyffi_add(add, k, 1))
                return 1;
            pyffi_embed_leave(scope);
        }
        printf("scope %.1f\n", (now() - t) / (double)calls * 1e9);

        /* pyffi, no scope: each of the 7 functions takes the GIL itself */
        t = now();
        for (long k = 0; k < calls; k++)
            if (pyffi_add(add, k, 1))
                return 1;
        printf("plain %.1f\n", (now() - t) / (double)calls * 1e9);

        /* both with the GIL held across the whole loop: the calls' own cost */
        g = PyGILState_Ensure();
        t = now();
        for (long k = 0; k < calls; k++) {
            PyObject *r = PyObject_CallFunction(f, "LL", (long long)k, 1LL);
            sink += PyLong_AsLongLong(r);
            Py_DECREF(r);
        }
        printf("raw_held %.1f\n", (now() - t) / (double)calls * 1e9);
        t = now();
        for (long k = 0; k < calls; k++)
            if (pyffi_add(add, k, 1))
                return 1;
        printf("pyffi_held %.1f\n", (now() - t) / (double)calls * 1e9);
        PyGILState_Release(g);
        fflush(stdout);
    }
    g = PyGILState_Ensure();
    Py_DECREF(f);
    PyGILState_Release(g);
    pyffi_embed_release(add);
    return sink == 42; /* never: keeps sink alive */
}
