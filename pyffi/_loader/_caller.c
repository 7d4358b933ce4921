/*
 * pyffi._loader._caller: the ABI-mode call of a pyffi.load function, in C.
 *
 * A Caller holds the cffi function (`raw`), the function's Python wrapper
 * (`slow`: the general path, every conversion, check and error message) and
 * one code per parameter saying which Python values go to `raw` as they are:
 *
 *   'i'  an exact int (cffi checks the range)       'f'  an exact float or int
 *   'b'  True or False                               'S'  any cdata (a struct by value)
 *   'T'  None, or a cdata of exactly this parameter's C type (`types[k]`)
 *   'Y'  None, bytes, or a bytearray (zero-copy, through `from_buffer`): a const
 *        byte pointer                              'W'  the same, without bytes: writable
 *
 * A call whose arguments all fit, with no keywords, on a Library that has made no
 * callback trampoline (`state` empty: no Python code can run during the call),
 * goes straight to `raw`. Anything else goes to `slow`, and so does a call that
 * `raw` refuses with a TypeError or OverflowError (raised by cffi before it calls C):
 * the Python wrapper then raises the documented error. So the Caller changes what a
 * call costs, never its result or its error.
 *
 * Plain CPython C API; no pyffi C library.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../_threads.h"

#include <stddef.h>
#include <string.h>

#if PY_VERSION_HEX < 0x030A0000 /* Python 3.9 */
static inline PyObject *Py_NewRef(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
#endif

typedef struct {
    PyObject_HEAD
    void *c_type;
    char *c_data;
} cdata_head; /* cffi's CDataObject's first fields: checked by check_layout() */

typedef struct {
    PyObject_HEAD
    vectorcallfunc vectorcall;
    PyObject *raw, *slow, *state, *cdata_type, *null, *from_buffer, *name;
    PyObject *types;  /* tuple: per parameter, its ctype ('T'), its array ctype ('Y', 'W') */
    Py_ssize_t nargs;
    char codes[32];
} Caller;

static int layout_ok;

static PyObject *call_slow(Caller *self, PyObject *const *args, size_t nargsf, PyObject *kwnames)
{
    return PyObject_Vectorcall(self->slow, args, nargsf, kwnames);
}

static PyObject *caller_call(PyObject *callable, PyObject *const *args, size_t nargsf,
                             PyObject *kwnames)
{
    Caller *self = (Caller *)callable;
    Py_ssize_t n = PyVectorcall_NARGS(nargsf);
    PyObject *pass[32];
    PyObject *made[32]; /* from_buffer results, released after the call */
    Py_ssize_t nmade = 0, k;
    PyObject *result;

    if (kwnames != NULL || n != self->nargs || PyDict_GET_SIZE(self->state) != 0)
        return call_slow(self, args, nargsf, kwnames);
    if (n == 0)
        return PyObject_Vectorcall(self->raw, args, 0, NULL);
    memset(pass, 0, sizeof pass[0] * (size_t)n);
    for (k = 0; k < n; k++) {
        PyObject *o = args[k];
        pass[k] = o;
        switch (self->codes[k]) {
        case 'i':
            if (!PyLong_CheckExact(o))
                goto slow;
            break;
        case 'f':
            if (!PyFloat_CheckExact(o) && !PyLong_CheckExact(o))
                goto slow;
            break;
        case 'b':
            if (o != Py_True && o != Py_False)
                goto slow;
            break;
        case 'S':
            if (!PyObject_TypeCheck(o, (PyTypeObject *)self->cdata_type))
                goto slow;
            break;
        case 'T':
            if (o == Py_None) {
                pass[k] = self->null;
                break;
            }
            if (!layout_ok || !PyObject_TypeCheck(o, (PyTypeObject *)self->cdata_type)
                || ((cdata_head *)o)->c_type != (void *)PyTuple_GET_ITEM(self->types, k))
                goto slow;
            break;
        case 'Y':
        case 'W':
            if (o == Py_None) {
                pass[k] = self->null;
                break;
            }
            if (self->codes[k] == 'Y' && PyBytes_CheckExact(o))
                break;
            if (PyByteArray_CheckExact(o)) {
                PyObject *fb[3] = {PyTuple_GET_ITEM(self->types, k), o,
                                   self->codes[k] == 'W' ? Py_True : Py_False};
                PyObject *view = PyObject_Vectorcall(self->from_buffer, fb, 3, NULL);
                if (view == NULL) {
                    PyErr_Clear();
                    goto slow;
                }
                made[nmade++] = view;
                pass[k] = view;
                break;
            }
            goto slow;
        default:
            goto slow;
        }
    }
    result = PyObject_Vectorcall(self->raw, pass, (size_t)n, NULL);
    while (nmade > 0)
        Py_DECREF(made[--nmade]);
    if (result == NULL
        && (PyErr_ExceptionMatches(PyExc_TypeError) || PyErr_ExceptionMatches(PyExc_OverflowError))) {
        PyErr_Clear(); /* cffi refused an argument before calling C: the wrapper says why */
        return call_slow(self, args, nargsf, kwnames);
    }
    return result;
slow:
    while (nmade > 0)
        Py_DECREF(made[--nmade]);
    return call_slow(self, args, nargsf, kwnames);
}

static void caller_dealloc(Caller *self)
{
    PyObject_GC_UnTrack(self);
    Py_CLEAR(self->raw);
    Py_CLEAR(self->slow);
    Py_CLEAR(self->state);
    Py_CLEAR(self->cdata_type);
    Py_CLEAR(self->null);
    Py_CLEAR(self->from_buffer);
    Py_CLEAR(self->name);
    Py_CLEAR(self->types);
    PyObject_GC_Del(self);
}

static int caller_traverse(Caller *self, visitproc visit, void *arg)
{
    Py_VISIT(self->raw);
    Py_VISIT(self->slow);
    Py_VISIT(self->state);
    Py_VISIT(self->cdata_type);
    Py_VISIT(self->null);
    Py_VISIT(self->from_buffer);
    Py_VISIT(self->name);
    Py_VISIT(self->types);
    return 0;
}

static PyObject *caller_repr(Caller *self)
{
    return PyUnicode_FromFormat("<pyffi function %U>", self->name);
}

static PyObject *caller_get_wrapped(Caller *self, void *closure)
{
    (void)closure;
    return Py_NewRef(self->slow);
}

static PyObject *caller_get_name(Caller *self, void *closure)
{
    (void)closure;
    return Py_NewRef(self->name);
}

static PyGetSetDef caller_getset[] = {
    {"__wrapped__", (getter)caller_get_wrapped, NULL, "the Python wrapper (every path)", NULL},
    {"__name__", (getter)caller_get_name, NULL, "the C function's name", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject CallerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyffi._loader._caller.Caller",
    .tp_basicsize = sizeof(Caller),
    .tp_dealloc = (destructor)caller_dealloc,
    .tp_vectorcall_offset = offsetof(Caller, vectorcall),
    .tp_call = PyVectorcall_Call,
    .tp_repr = (reprfunc)caller_repr,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC | Py_TPFLAGS_HAVE_VECTORCALL,
    .tp_traverse = (traverseproc)caller_traverse,
    .tp_getset = caller_getset,
    .tp_doc = "A pyffi.load function called in C where its arguments allow (see the module).",
};

/* make(name, raw, slow, state, codes, types, cdata_type, null, from_buffer) */
static PyObject *make(PyObject *module, PyObject *args)
{
    PyObject *name, *raw, *slow, *state, *types, *cdata_type, *null, *from_buffer;
    const char *codes;
    Py_ssize_t ncodes;
    Caller *self;
    (void)module;
    if (!PyArg_ParseTuple(args, "UOOO!s#O!O!OO", &name, &raw, &slow, &PyDict_Type, &state, &codes,
                          &ncodes, &PyTuple_Type, &types, &PyType_Type, &cdata_type, &null,
                          &from_buffer))
        return NULL;
    if (ncodes > 32 || PyTuple_GET_SIZE(types) != ncodes) {
        PyErr_SetString(PyExc_ValueError, "make(): at most 32 codes, one type each");
        return NULL;
    }
    self = PyObject_GC_New(Caller, &CallerType);
    if (self == NULL)
        return NULL;
    self->vectorcall = caller_call;
    self->raw = Py_NewRef(raw);
    self->slow = Py_NewRef(slow);
    self->state = Py_NewRef(state);
    self->cdata_type = Py_NewRef(cdata_type);
    self->null = Py_NewRef(null);
    self->from_buffer = Py_NewRef(from_buffer);
    self->name = Py_NewRef(name);
    self->types = Py_NewRef(types);
    self->nargs = ncodes;
    memset(self->codes, 0, sizeof self->codes);
    memcpy(self->codes, codes, (size_t)ncodes);
    PyObject_GC_Track(self);
    return (PyObject *)self;
}

/* check_layout(cdata, its ctype, its address): whether cffi's object layout is the
 * one 'T' reads (a pointer cdata's first fields: its ctype, its address). */
static PyObject *check_layout(PyObject *module, PyObject *args)
{
    PyObject *cdata, *ct;
    unsigned long long address;
    (void)module;
    if (!PyArg_ParseTuple(args, "OOK", &cdata, &ct, &address))
        return NULL;
    layout_ok = ((cdata_head *)cdata)->c_type == (void *)ct
                && (unsigned long long)(size_t)((cdata_head *)cdata)->c_data == address;
    return PyBool_FromLong(layout_ok);
}

static PyMethodDef methods[] = {
    {"make", make, METH_VARARGS, "make(name, raw, slow, state, codes, types, cdata_type, null, "
                                 "from_buffer) -> a Caller"},
    {"check_layout", check_layout, METH_VARARGS, "check cffi's cdata layout once"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT, "_caller", "ABI-mode calls of pyffi.load functions, in C.", -1,
    methods, NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__caller(void)
{
    PyObject *module;
    if (PyType_Ready(&CallerType) < 0)
        return NULL;
    module = declare_gil_not_used(PyModule_Create(&module_def));
    if (module == NULL)
        return NULL;
    Py_INCREF(&CallerType);
    if (PyModule_AddObject(module, "Caller", (PyObject *)&CallerType) < 0) {
        Py_DECREF(&CallerType);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
