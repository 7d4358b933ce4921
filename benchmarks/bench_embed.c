/* WIP (issue 18): a Python add(a, b) called from C, through pyffi's embedding API and through
 * the raw CPython C API, in the same program. Build by hand (see lib/embed.c). */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pyffi_embed.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(void)
{
    const char *code = "def add(a, b):\n    return a + b\n";
    pyffi_obj mod, add;
    if (pyffi_embed_run(NULL, code, strlen(code)) || pyffi_embed_import(&mod, "__main__", 8) ||
        pyffi_embed_getattr(&add, mod, "add", 3))
        return 1;
    enum { N = 200000 };
    double best_pyffi = 1e9, best_raw = 1e9;
    for (int round = 0; round < 7; round++) {
        double t = now();
        int64_t sum = 0;
        for (int64_t k = 0; k < N; k++) {
            pyffi_obj a, b, r;
            int64_t v;
            pyffi_embed_int64(&a, k);
            pyffi_embed_int64(&b, 1);
            pyffi_obj args[2] = {a, b};
            pyffi_embed_call(&r, add, args, 2, 0);
            pyffi_embed_to_int64(&v, r);
            sum += v;
            pyffi_embed_release(a);
            pyffi_embed_release(b);
            pyffi_embed_release(r);
        }
        double dt = (now() - t) / N;
        if (dt < best_pyffi)
            best_pyffi = dt;
        PyGILState_STATE g = PyGILState_Ensure();
        PyObject *m = PyImport_AddModule("__main__");
        PyObject *f = PyObject_GetAttrString(m, "add");
        PyGILState_Release(g);
        t = now();
        for (long long k = 0; k < N; k++) {
            g = PyGILState_Ensure();
            PyObject *r = PyObject_CallFunction(f, "LL", k, 1LL);
            sum += PyLong_AsLongLong(r);
            Py_DECREF(r);
            PyGILState_Release(g);
        }
        dt = (now() - t) / N;
        if (dt < best_raw)
            best_raw = dt;
        g = PyGILState_Ensure();
        Py_DECREF(f);
        PyGILState_Release(g);
        if (sum < 0)
            return 1;
    }
    printf("add(a, b) from C, best of 7 rounds of %d calls\n", N);
    printf("  pyffi embedding API (2 ints, call, to_int64, 3 releases): %7.0f ns  %.2fx\n",
           best_pyffi * 1e9, best_pyffi / best_raw);
    printf("  raw C API (PyGILState_Ensure + PyObject_CallFunction + PyLong_AsLongLong): %7.0f ns  1.00x\n",
           best_raw * 1e9);
    return 0;
}
