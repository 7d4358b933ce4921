/*
 * pyffi._rows: Python lists of str from a parsed CSV table, in C.
 *
 * The C core parses (lib/csv.c) into one data buffer plus end offsets; this
 * extension turns that into list[list[str]] with one PyUnicode per field and
 * nothing else, as csv.reader does. It takes the table's addresses as ints,
 * so it serves both backends (cffi API and ABI mode) the same way. The text
 * was validated as UTF-8 by the core; the decoder checks again regardless.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <stdint.h>

static PyObject *rows(PyObject *self, PyObject *args)
{
    (void)self;
    unsigned long long data_addr, fields_addr, rows_addr;
    Py_ssize_t n_rows;
    if (!PyArg_ParseTuple(args, "KKKn:rows", &data_addr, &fields_addr, &rows_addr, &n_rows))
        return NULL;
    const char *data = (const char *)(uintptr_t)data_addr;
    const size_t *field_ends = (const size_t *)(uintptr_t)fields_addr;
    const size_t *row_ends = (const size_t *)(uintptr_t)rows_addr;
    if (n_rows < 0 || (n_rows > 0 && (row_ends == NULL))) {
        PyErr_SetString(PyExc_ValueError, "rows: bad table");
        return NULL;
    }
    PyObject *result = PyList_New(n_rows);
    if (result == NULL)
        return NULL;
    /* Millions of new lists would make the cyclic GC run over and over (the
     * cost csv.reader pays too); none of them can be in a cycle yet. */
    int gc_was_enabled = PyGC_Disable();
    size_t field = 0, start = 0;
    for (Py_ssize_t r = 0; r < n_rows; r++) {
        size_t end_field = row_ends[r];
        PyObject *row = PyList_New((Py_ssize_t)(end_field - field));
        if (row == NULL)
            goto fail;
        PyList_SET_ITEM(result, r, row);
        for (Py_ssize_t k = 0; field < end_field; field++, k++) {
            size_t end = field_ends[field];
            PyObject *s = PyUnicode_DecodeUTF8(data + start, (Py_ssize_t)(end - start), NULL);
            if (s == NULL)
                goto fail;
            PyList_SET_ITEM(row, k, s);
            start = end;
        }
    }
    if (gc_was_enabled)
        PyGC_Enable();
    return result;
fail:
    if (gc_was_enabled)
        PyGC_Enable();
    Py_DECREF(result);
    return NULL;
}

static PyMethodDef methods[] = {
    {"rows", rows, METH_VARARGS,
     "rows(data, field_ends, row_ends, n_rows) -> list[list[str]] from a pyffi_csv_table's "
     "addresses."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "pyffi._rows", "Lists of str from a parsed CSV table.", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__rows(void)
{
    return PyModule_Create(&module);
}
