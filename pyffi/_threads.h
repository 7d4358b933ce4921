/*
 * What pyffi's extension modules need to run with the GIL off (free-threaded
 * CPython, 3.13t and later) and to say so, spelled for every CPython >= 3.9.
 *
 *  - Py_BEGIN_CRITICAL_SECTION(op) / Py_END_CRITICAL_SECTION(): the object's
 *    own lock on a free-threaded build (3.13+), nothing where the GIL already
 *    serializes (the fallback below, for 3.9-3.12);
 *  - declare_gil_not_used(module): the module is safe without the GIL, so
 *    importing it does not turn the GIL back on (PEP 703). Single-phase init
 *    declares it with PyUnstable_Module_SetGIL, which exists only on
 *    free-threaded builds.
 */
#ifndef PYFFI_THREADS_H
#define PYFFI_THREADS_H

#include <Python.h>

#ifndef Py_BEGIN_CRITICAL_SECTION
#define Py_BEGIN_CRITICAL_SECTION(op) {
#define Py_END_CRITICAL_SECTION() }
#endif

static inline PyObject *declare_gil_not_used(PyObject *module)
{
#ifdef Py_GIL_DISABLED
    if (module != NULL && PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(module);
        return NULL;
    }
#endif
    return module;
}

#endif
