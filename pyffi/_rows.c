/*
 * pyffi._rows: Python lists of str from a parsed CSV table, in C.
 *
 * The C core parses (lib/csv.c) into positions in the text; this extension
 * turns rows of a table into list[list[str]] with one PyUnicode per field
 * and nothing else, as csv.reader does. It takes the table's address as an
 * int, so it serves both backends (cffi API and ABI mode) the same way, and
 * links the core for pyffi_csv_field(). The text was validated as UTF-8 by
 * the core; the decoder checks again regardless.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "pyffi.h"
#include "_threads.h"

#include <stdint.h>

#if PY_VERSION_HEX < 0x030A0000
/* PyGC_Disable/PyGC_Enable came with 3.10; on 3.9 the gc module does the
 * same. Failing to reach it only leaves the collector on (slower, not wrong). */
static int gc_method(const char *name)
{
    PyObject *type, *value, *traceback; /* an error being raised stays raised */
    PyErr_Fetch(&type, &value, &traceback);
    PyObject *gc = PyImport_ImportModule("gc");
    PyObject *result = gc ? PyObject_CallMethod(gc, name, NULL) : NULL;
    int truth = result ? PyObject_IsTrue(result) : 0;
    Py_XDECREF(result);
    Py_XDECREF(gc);
    PyErr_Clear();
    PyErr_Restore(type, value, traceback);
    return truth > 0;
}

static int PyGC_Disable(void)
{
    int was_enabled = gc_method("isenabled");
    gc_method("disable");
    return was_enabled;
}

static int PyGC_Enable(void)
{
    int was_enabled = gc_method("isenabled");
    gc_method("enable");
    return was_enabled;
}
#endif

static PyObject *rows(PyObject *self, PyObject *args)
{
    (void)self;
    unsigned long long table_addr;
    Py_ssize_t first, stop;
    if (!PyArg_ParseTuple(args, "Knn:rows", &table_addr, &first, &stop))
        return NULL;
    const pyffi_csv_table *t = (const pyffi_csv_table *)(uintptr_t)table_addr;
    if (t == NULL || first < 0 || stop < first || (size_t)stop > t->n_rows) {
        PyErr_SetString(PyExc_ValueError, "rows: bad table or row range");
        return NULL;
    }
    char *buf = PyMem_Malloc(t->longest + 1); /* for quoted fields */
    if (buf == NULL)
        return PyErr_NoMemory();
    PyObject *result = PyList_New(stop - first);
    if (result == NULL) {
        PyMem_Free(buf);
        return NULL;
    }
    /* Millions of new lists would make the cyclic GC run over and over (the
     * cost csv.reader pays too); none of them can be in a cycle yet. The switch
     * is process-wide: with the GIL, no other thread runs until it is switched
     * back (nothing below releases the GIL); with the GIL off, two threads would
     * undo each other, so the collector is left alone (its own threshold grows
     * with the heap there). */
#ifdef Py_GIL_DISABLED
    const int gc_was_enabled = 0;
#else
    const int gc_was_enabled = PyGC_Disable();
#endif
    const char quote = t->options.quotechar;
    const bool plain = !t->options.trim; /* a field not starting with a quote is as written */
    size_t field = first ? t->rows[first - 1].fields_end : 0;
    for (Py_ssize_t r = first; r < stop; r++) {
        size_t end_field = t->rows[r].fields_end;
        const char *text = t->text + t->rows[r].start;
        PyObject *row = PyList_New((Py_ssize_t)(end_field - field));
        if (row == NULL)
            goto fail;
        PyList_SET_ITEM(result, r - first, row);
        size_t start = 0;
        for (Py_ssize_t k = 0; field < end_field; field++, k++) {
            size_t end = t->field_ends[field], len;
            const char *value = text + start;
            if (plain && (end == start || *value != quote))
                len = end - start;
            else
                value = pyffi_csv_field(t, (size_t)r, field, buf, &len);
            start = end + 1;
            PyObject *s = PyUnicode_DecodeUTF8(value, (Py_ssize_t)len, NULL);
            if (s == NULL)
                goto fail;
            PyList_SET_ITEM(row, k, s);
        }
    }
    if (gc_was_enabled)
        PyGC_Enable();
    PyMem_Free(buf);
    return result;
fail:
    if (gc_was_enabled)
        PyGC_Enable();
    PyMem_Free(buf);
    Py_DECREF(result);
    return NULL;
}

static PyMethodDef methods[] = {
    {"rows", rows, METH_VARARGS,
     "rows(table, first, stop) -> list[list[str]]: rows first..stop-1 of the "
     "pyffi_csv_table at address table."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "pyffi._rows", "Lists of str from a parsed CSV table.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__rows(void)
{
    return declare_gil_not_used(PyModule_Create(&module));
}
