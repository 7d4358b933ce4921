/* pyffi._buffer: Int64View, a read-only buffer exporter over int64 (or,
 * attached with format "d", float64) memory that C owns (the base class of
 * pyffi.Vector).
 *
 * Why C: a Python 3.11 class cannot export the buffer protocol (PEP 688's
 * __buffer__ arrived in 3.12), and cffi's ffi.buffer only exports bytes
 * (format "B"). This type exports format "q" with a shape, so memoryview()
 * and numpy.asarray() see the int64 data without a copy.
 *
 * It does not own the memory: `owner` (the ffi.gc cdata) does. The Python
 * side attaches the memory, and before releasing the owner it detaches,
 * which fails with BufferError while any view is exported. Every method
 * runs inside the object's critical section (per-object lock on free-threaded
 * CPython, the GIL elsewhere), so no read races with a detach and the export
 * count is exact with threads truly running at once. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "_threads.h"

#include <stdint.h>
#include <string.h>

typedef struct {
    PyObject_HEAD
    PyObject *owner;       /* keeps the memory alive; NULL when detached */
    const void *data;      /* meaningful only while owner != NULL */
    char format[2];        /* "q" (int64) or "d" (float64) */
    Py_ssize_t length;     /* number of int64 items */
    Py_ssize_t itemsize;   /* always 8: exported as the buffer's stride */
    Py_ssize_t exports;    /* live buffer exports */
} Int64View;

static int check_attached(Int64View *self)
{
    if (self->owner == NULL) {
        PyErr_Format(PyExc_ValueError, "%s has been closed", Py_TYPE(self)->tp_name);
        return -1;
    }
    return 0;
}

static PyObject *view_attach_locked(Int64View *self, PyObject *args)
{
    PyObject *owner, *address;
    Py_ssize_t length;
    const char *format = "q";
    if (!PyArg_ParseTuple(args, "OO!n|s:_attach", &owner, &PyLong_Type, &address, &length,
                          &format))
        return NULL;
    if (strcmp(format, "q") != 0 && strcmp(format, "d") != 0) {
        PyErr_SetString(PyExc_ValueError, "_attach: format must be 'q' or 'd'");
        return NULL;
    }
    if (self->owner != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "_attach: memory already attached");
        return NULL;
    }
    if (length < 0 || length > PY_SSIZE_T_MAX / (Py_ssize_t)sizeof(int64_t)) {
        PyErr_SetString(PyExc_ValueError, "_attach: bad length");
        return NULL;
    }
    void *data = PyLong_AsVoidPtr(address);
    if (data == NULL && PyErr_Occurred())
        return NULL;
    Py_INCREF(owner);
    self->owner = owner;
    self->data = data;
    self->length = length;
    self->itemsize = (Py_ssize_t)sizeof(int64_t); /* == sizeof(double) */
    self->format[0] = format[0];
    self->format[1] = 0;
    Py_RETURN_NONE;
}

static PyObject *view_detach_locked(Int64View *self, PyObject *Py_UNUSED(ignored))
{
    if (self->owner == NULL)
        Py_RETURN_NONE;
    if (self->exports > 0) {
        PyErr_Format(PyExc_BufferError,
                     "cannot close %s: %zd exported buffer(s) (memoryview, numpy array) "
                     "still use its memory; release them first",
                     Py_TYPE(self)->tp_name, self->exports);
        return NULL;
    }
    PyObject *owner = self->owner;
    self->owner = NULL;
    self->data = NULL;
    self->length = 0;
    return owner; /* the reference passes to the caller, who releases it */
}

static PyObject *view_closed_locked(Int64View *self, void *Py_UNUSED(closure))
{
    return PyBool_FromLong(self->owner == NULL);
}

/* Item i as a Python int or float; attached only. */
static PyObject *item_at(Int64View *self, Py_ssize_t i)
{
    if (self->format[0] == 'd')
        return PyFloat_FromDouble(((const double *)self->data)[i]);
    return PyLong_FromLongLong(((const int64_t *)self->data)[i]);
}

/* items start, start + step, ... (n of them) as a new list; attached only. */
static PyObject *items_list(Int64View *self, Py_ssize_t start, Py_ssize_t step, Py_ssize_t n)
{
    PyObject *list = PyList_New(n);
    if (list == NULL)
        return NULL;
    for (Py_ssize_t k = 0, i = start; k < n; k++, i += step) {
        PyObject *item = item_at(self, i);
        if (item == NULL) {
            Py_DECREF(list);
            return NULL;
        }
        PyList_SET_ITEM(list, k, item);
    }
    return list;
}

static PyObject *view_tolist_locked(Int64View *self, PyObject *Py_UNUSED(ignored))
{
    if (check_attached(self) < 0)
        return NULL;
    return items_list(self, 0, 1, self->length);
}

static Py_ssize_t view_length_locked(Int64View *self)
{
    if (check_attached(self) < 0)
        return -1;
    return self->length;
}

static PyObject *view_subscript_locked(Int64View *self, PyObject *key)
{
    if (check_attached(self) < 0)
        return NULL;
    if (PySlice_Check(key)) {
        Py_ssize_t start, stop, step;
        if (PySlice_Unpack(key, &start, &stop, &step) < 0)
            return NULL;
        Py_ssize_t n = PySlice_AdjustIndices(self->length, &start, &stop, step);
        return items_list(self, start, step, n);
    }
    if (!PyIndex_Check(key)) {
        PyErr_Format(PyExc_TypeError, "%s indices must be integers or slices, not %.200s",
                     Py_TYPE(self)->tp_name, Py_TYPE(key)->tp_name);
        return NULL;
    }
    Py_ssize_t i = PyNumber_AsSsize_t(key, PyExc_IndexError);
    if (i == -1 && PyErr_Occurred())
        return NULL;
    if (i < 0)
        i += self->length;
    if (i < 0 || i >= self->length) {
        PyErr_Format(PyExc_IndexError, "%s index out of range", Py_TYPE(self)->tp_name);
        return NULL;
    }
    return item_at(self, i);
}

static int view_getbuffer_locked(Int64View *self, Py_buffer *view, int flags)
{
    if (check_attached(self) < 0)
        return -1;
    if (flags & PyBUF_WRITABLE) {
        PyErr_Format(PyExc_BufferError, "%s is read-only", Py_TYPE(self)->tp_name);
        return -1;
    }
    static const int64_t empty = 0;
    Py_INCREF(self);  /* Py_NewRef is 3.10+; requires-python is 3.9 */
    view->obj = (PyObject *)self;
    view->buf = self->length > 0 ? (void *)self->data : (void *)&empty;
    view->len = self->length * self->itemsize;
    view->itemsize = self->itemsize;
    view->readonly = 1;
    view->ndim = 1;
    view->format = (flags & PyBUF_FORMAT) ? self->format : NULL;
    view->shape = (flags & PyBUF_ND) ? &self->length : NULL;
    view->strides = (flags & PyBUF_STRIDES) == PyBUF_STRIDES ? &self->itemsize : NULL;
    view->suboffsets = NULL;
    view->internal = NULL;
    self->exports++;
    return 0;
}

static void view_releasebuffer(Int64View *self, Py_buffer *Py_UNUSED(view))
{
    Py_BEGIN_CRITICAL_SECTION(self);
    self->exports--;
    Py_END_CRITICAL_SECTION();
}

/* The methods as Python calls them: each inside the object's critical section. */
#define LOCKED(type, name, params, ...)                                    \
    static type name params                                                \
    {                                                                      \
        type result_;                                                      \
        Py_BEGIN_CRITICAL_SECTION(self);                                   \
        result_ = name##_locked(__VA_ARGS__);                              \
        Py_END_CRITICAL_SECTION();                                         \
        return result_;                                                    \
    }
LOCKED(PyObject *, view_attach, (Int64View *self, PyObject *args), self, args)
LOCKED(PyObject *, view_detach, (Int64View *self, PyObject *ignored), self, ignored)
LOCKED(PyObject *, view_closed, (Int64View *self, void *closure), self, closure)
LOCKED(PyObject *, view_tolist, (Int64View *self, PyObject *ignored), self, ignored)
LOCKED(Py_ssize_t, view_length, (Int64View *self), self)
LOCKED(PyObject *, view_subscript, (Int64View *self, PyObject *key), self, key)
LOCKED(int, view_getbuffer, (Int64View *self, Py_buffer *view, int flags), self, view, flags)

static void view_dealloc(Int64View *self)
{
    Py_CLEAR(self->owner);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef view_methods[] = {
    {"_attach", (PyCFunction)view_attach, METH_VARARGS,
     "_attach(owner, address, length): view length int64s at address, kept alive by owner."},
    {"_detach", (PyCFunction)view_detach, METH_NOARGS,
     "_detach() -> owner or None: stop viewing the memory; BufferError while exported."},
    {"tolist", (PyCFunction)view_tolist, METH_NOARGS, "The items as a list of ints."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef view_getset[] = {
    {"closed", (getter)view_closed, NULL, "True once the memory has been released.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyMappingMethods view_as_mapping = {
    .mp_length = (lenfunc)view_length,
    .mp_subscript = (binaryfunc)view_subscript,
};

static PySequenceMethods view_as_sequence = {
    .sq_length = (lenfunc)view_length,
};

static PyBufferProcs view_as_buffer = {
    .bf_getbuffer = (getbufferproc)view_getbuffer,
    .bf_releasebuffer = (releasebufferproc)view_releasebuffer,
};

static PyTypeObject Int64View_Type = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "pyffi._buffer.Int64View",
    .tp_basicsize = sizeof(Int64View),
    .tp_dealloc = (destructor)view_dealloc,
    .tp_as_sequence = &view_as_sequence,
    .tp_as_mapping = &view_as_mapping,
    .tp_as_buffer = &view_as_buffer,
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,
    .tp_doc = "Read-only int64 view of memory owned elsewhere (base of pyffi.Vector).",
    .tp_methods = view_methods,
    .tp_getset = view_getset,
    .tp_new = PyType_GenericNew,
};

static struct PyModuleDef buffer_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pyffi._buffer",
    .m_doc = "Buffer-protocol exporter for C-owned arrays.",
    .m_size = 0,
};

PyMODINIT_FUNC PyInit__buffer(void)
{
    if (PyType_Ready(&Int64View_Type) < 0)
        return NULL;
    PyObject *module = declare_gil_not_used(PyModule_Create(&buffer_module));
    if (module == NULL)
        return NULL;
    /* PyModule_AddObject steals the reference only on success (3.9 has no
       PyModule_AddObjectRef). */
    Py_INCREF(&Int64View_Type);
    if (PyModule_AddObject(module, "Int64View", (PyObject *)&Int64View_Type) < 0) {
        Py_DECREF(&Int64View_Type);
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
