"""Compiled wrappers (mode="api"): the common calls converted and made in C.

For each function whose parameters and result are of the kinds below, the
extension gets a C function of its own (``METH_FASTCALL``): it takes exact
Python ints and floats in range, bytes, str (UTF-8, no NUL) and bytearrays for
byte pointers, None for pointers, and cdata of exactly the parameter's C type;
it calls the C function with the GIL released (``errno`` kept as cffi keeps it)
and boxes the result. Anything else (another type, a value out of range, a
keyword argument, a Library that has made callback trampolines, whose
exceptions must come out of the call) goes, untouched, to the function's Python
wrapper (``_wrapper``): the general path, with every rule and error message. So
the compiled wrapper changes what a call costs, never what it does.

The code is appended to cffi's generated source, after cffi's own helpers
(``_cffi_from_c_pointer``, ``_cffi_save_errno``...), and initialises a second
module in the same shared object (``<name>_native``). A cdata's pointer is read
from cffi's object layout, checked once at bind time (``check_layout``); if the
check fails, pointer arguments take the general path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cffi
from cffi import model

from .._core.slices import SLICES
from ._numbers import BYTES

__all__ = ["Native", "generate"]

_PRELUDE = r"""
/* ---- pyffi: compiled wrappers (pyffi/_loader/_native.py) ---- */
#include <limits.h>
#include <string.h>

typedef struct { PyObject_HEAD void *c_type; char *c_data; } _pyffi_cdata; /* cffi's first fields */
static PyTypeObject *_pyffi_cdata_type;
static int _pyffi_layout_ok;

#define _PYFFI_SMAX(T) ((long long)(((unsigned long long)1 << (8 * sizeof(T) - 1)) - 1))
#define _PYFFI_UMAX(T) (sizeof(T) >= sizeof(unsigned long long) ? ULLONG_MAX \
                        : ((1ULL << (8 * sizeof(T))) - 1))

static int _pyffi_s(PyObject *o, long long lo, long long hi, long long *out)
{
    int overflow;
    long long v;
    if (!PyLong_CheckExact(o))
        return 0;
    v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow || (v == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return 0;
    }
    if (v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static int _pyffi_u(PyObject *o, unsigned long long hi, unsigned long long *out)
{
    unsigned long long v;
    if (!PyLong_CheckExact(o))
        return 0;
    v = PyLong_AsUnsignedLongLong(o);
    if (v == (unsigned long long)-1 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (v > hi)
        return 0;
    *out = v;
    return 1;
}

static int _pyffi_f(PyObject *o, double *out)
{
    if (PyFloat_CheckExact(o)) {
        *out = PyFloat_AS_DOUBLE(o);
        return 1;
    }
    if (PyLong_CheckExact(o)) { /* as cffi converts an int to a double */
        *out = PyLong_AsDouble(o);
        if (*out == -1.0 && PyErr_Occurred()) {
            PyErr_Clear();
            return 0;
        }
        return 1;
    }
    return 0;
}

/* None, or a cdata whose C type is exactly ct: its pointer. */
static int _pyffi_p(PyObject *o, PyObject *ct, char **out)
{
    if (o == Py_None) {
        *out = NULL;
        return 1;
    }
    if (_pyffi_layout_ok && Py_TYPE(o) != NULL && PyObject_TypeCheck(o, _pyffi_cdata_type)
        && ((_pyffi_cdata *)o)->c_type == (void *)ct) {
        *out = ((_pyffi_cdata *)o)->c_data;
        return 1;
    }
    return 0;
}

/* A byte pointer: None, bytes and str (read-only; str as its UTF-8, no NUL), a
 * bytearray (its buffer held for the call). */
static int _pyffi_b(PyObject *o, int writable, int text, Py_buffer *view, int *held, char **out)
{
    if (o == Py_None) {
        *out = NULL;
        return 1;
    }
    if (!writable && PyBytes_CheckExact(o)) {
        *out = PyBytes_AS_STRING(o);
        return 1;
    }
    if (!writable && text && PyUnicode_CheckExact(o)) {
        Py_ssize_t n;
        const char *s = PyUnicode_AsUTF8AndSize(o, &n);
        if (s == NULL) {
            PyErr_Clear();
            return 0;
        }
        if (memchr(s, 0, (size_t)n) != NULL)
            return 0;
        *out = (char *)s;
        return 1;
    }
    if (PyByteArray_CheckExact(o)) {
        if (PyObject_GetBuffer(o, view, writable ? PyBUF_WRITABLE : PyBUF_SIMPLE) < 0) {
            PyErr_Clear();
            return 0;
        }
        *held = 1;
        *out = (char *)view->buf;
        return 1;
    }
    return 0;
}
"""

_EPILOGUE = r"""
static PyObject *_pyffi_bind(PyObject *module, PyObject *args)
{
    Py_ssize_t index;
    PyObject *self;
    (void)module;
    if (!PyArg_ParseTuple(args, "nO!", &index, &PyTuple_Type, &self))
        return NULL;
    if (index < 0 || index >= (Py_ssize_t)(sizeof _pyffi_defs / sizeof _pyffi_defs[0]) - 1) {
        PyErr_SetString(PyExc_IndexError, "no compiled wrapper of that index");
        return NULL;
    }
    return PyCFunction_NewEx(&_pyffi_defs[index], self, NULL);
}

static PyObject *_pyffi_check_layout(PyObject *module, PyObject *args)
{
    PyObject *cdata, *ct, *base;
    unsigned long long address;
    (void)module;
    if (!PyArg_ParseTuple(args, "OOKO!", &cdata, &ct, &address, &PyType_Type, &base))
        return NULL;
    _pyffi_cdata_type = (PyTypeObject *)base;
    Py_INCREF(base);
    _pyffi_layout_ok = PyObject_TypeCheck(cdata, _pyffi_cdata_type)
                       && ((_pyffi_cdata *)cdata)->c_type == (void *)ct
                       && (unsigned long long)(size_t)((_pyffi_cdata *)cdata)->c_data == address;
    return PyBool_FromLong(_pyffi_layout_ok);
}

static PyMethodDef _pyffi_module_methods[] = {
    {"bind", _pyffi_bind, METH_VARARGS, "bind(index, (slow, state, ctype...)) -> function"},
    {"check_layout", _pyffi_check_layout, METH_VARARGS, "check cffi's cdata layout once"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef _pyffi_native_def = {
    PyModuleDef_HEAD_INIT, "%(module)s", NULL, -1, _pyffi_module_methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit_%(module)s(void);
PyMODINIT_FUNC PyInit_%(module)s(void)
{
    PyObject *module = PyModule_Create(&_pyffi_native_def);
#ifdef Py_GIL_DISABLED
    /* The wrappers keep no state between calls: safe with the GIL off (PEP 703). */
    if (module != NULL && PyUnstable_Module_SetGIL(module, Py_MOD_GIL_NOT_USED) < 0) {
        Py_DECREF(module);
        return NULL;
    }
#endif
    return module;
}
"""


@dataclass
class Native:
    """The compiled wrappers of an extension: name -> (index, the C types they read)."""

    functions: dict[str, tuple[int, list[str]]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {n: [i, cts] for n, (i, cts) in self.functions.items()}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Native:
        return cls({n: (int(v[0]), list(v[1])) for n, v in data.items()})


class _Unsupported(Exception):
    """A parameter or result kind the compiled wrapper leaves to the Python one."""


@dataclass
class _Fn:
    """The C text of one wrapper as it is built."""

    name: str
    ctypes: list[str] = field(default_factory=list)  # the C types read from self[2:]
    decls: list[str] = field(default_factory=list)
    convert: list[str] = field(default_factory=list)
    release: list[str] = field(default_factory=list)
    after: list[str] = field(default_factory=list)  # write-backs after the call (goto fail)

    def ctype(self, cname: str) -> str:
        if cname not in self.ctypes:
            self.ctypes.append(cname)
        return f"s[{2 + self.ctypes.index(cname)}]"


def _int_kind(ffi: cffi.FFI, tp: Any) -> str | None:
    """ "s" or "u" for an integer (or enum) type, None for anything else."""
    if isinstance(tp, model.EnumType) or (
        isinstance(tp, model.PrimitiveType) and tp.is_integer_type() and tp.name != "_Bool"
    ):
        try:
            return "s" if int(ffi.cast(tp.get_c_name(), -1)) < 0 else "u"
        except (cffi.FFIError, cffi.CDefError, TypeError, ValueError):
            return None
    return None


def _param(ffi: cffi.FFI, fn: _Fn, k: int, tp: Any) -> str:
    """Declare and convert argument k into ``x{k}``; return the C expression to pass."""
    cname = tp.get_c_name()
    kind = _int_kind(ffi, tp)
    if kind == "s":
        fn.decls.append(f"long long x{k};")
        fn.convert.append(
            f"if (!_pyffi_s(args[{k}], -_PYFFI_SMAX({cname}) - 1, _PYFFI_SMAX({cname}), &x{k})) "
            "goto slow;"
        )
        return f"({cname})x{k}"
    if kind == "u":
        fn.decls.append(f"unsigned long long x{k};")
        fn.convert.append(f"if (!_pyffi_u(args[{k}], _PYFFI_UMAX({cname}), &x{k})) goto slow;")
        return f"({cname})x{k}"
    if isinstance(tp, model.PrimitiveType) and tp.name in ("double", "float"):
        fn.decls.append(f"double x{k};")
        fn.convert.append(f"if (!_pyffi_f(args[{k}], &x{k})) goto slow;")
        return f"({cname})x{k}"
    if isinstance(tp, model.PrimitiveType) and tp.name == "_Bool":
        fn.decls.append(f"int x{k};")
        fn.convert.append(
            f"if (args[{k}] == Py_True) x{k} = 1; else if (args[{k}] == Py_False) x{k} = 0; "
            "else goto slow;"
        )
        return f"(_Bool)x{k}"
    if isinstance(tp, model.PointerType):
        return _pointer(fn, k, tp)
    if isinstance(tp, model.FunctionPtrType):  # a callable makes a trampoline: the Python path
        fn.decls.append(f"char *x{k};")
        fn.convert.append(f"if (!_pyffi_p(args[{k}], {fn.ctype(cname)}, &x{k})) goto slow;")
        return f"({cname})x{k}"
    if isinstance(tp, model.StructType) and tp.fldnames is not None and tp.name not in SLICES:
        return _struct(ffi, fn, k, tp)
    if isinstance(tp, model.StructType) and tp.name in SLICES:
        fn.convert += _slice(fn, k, tp.name, True)
        return f"c{k}"
    raise _Unsupported(cname)


_VECS = {  # slice -> (item C type, the item's conversion, its boxing for the write-back)
    "pyffi_vec_i64": (
        "int64_t",
        "{{ long long t_; if (!_pyffi_s({o}, INT64_MIN, INT64_MAX, &t_)) goto slow; {t} = t_; }}",
        "PyLong_FromLongLong((long long){v})",
    ),
    "pyffi_vec_f64": (
        "double",
        "if (!_pyffi_f({o}, &{t})) goto slow;",
        "PyFloat_FromDouble({v})",
    ),
}


def _slice(fn: _Fn, k: int, kind: str, const: bool) -> list[str]:
    """Statements filling ``c{k}``, the slice ``kind`` of argument k (a str or bytes for a
    pyffi_str; an exact list, or tuple if const, of numbers for a vector: written back)."""
    fn.decls.append(f"{kind} c{k};")
    o = f"args[{k}]"
    if kind == "pyffi_str":
        return [
            f"if (PyUnicode_CheckExact({o})) {{",
            "    Py_ssize_t n_;",
            f"    c{k}.ptr = PyUnicode_AsUTF8AndSize({o}, &n_);",
            f"    if (c{k}.ptr == NULL) {{ PyErr_Clear(); goto slow; }}",
            f"    c{k}.len = (size_t)n_;",
            f"}} else if (PyBytes_CheckExact({o})) {{",
            f"    c{k}.ptr = PyBytes_AS_STRING({o}); c{k}.len = (size_t)PyBytes_GET_SIZE({o});",
            "} else goto slow;",
        ]
    if kind not in _VECS:
        raise _Unsupported(kind)
    item, convert, box = _VECS[kind]
    fn.decls += [f"{item} b{k}[64];", f"{item} *a{k} = NULL;", f"Py_ssize_t n{k} = 0;"]
    fn.release.append(f"if (a{k} != NULL && a{k} != b{k}) PyMem_Free(a{k});")
    exact = f"PyList_CheckExact({o})" + (f" || PyTuple_CheckExact({o})" if const else "")
    lines = [
        f"if (!({exact})) goto slow;",
        f"n{k} = PySequence_Fast_GET_SIZE({o});",
        f"a{k} = n{k} <= 64 ? b{k} : ({item} *)PyMem_Malloc((size_t)n{k} * sizeof({item}));",
        f"if (a{k} == NULL) goto slow;",
        f"for (Py_ssize_t i_ = 0; i_ < n{k}; i_++) {{",
        "    " + convert.format(o=f"PySequence_Fast_GET_ITEM({o}, i_)", t=f"a{k}[i_]"),
        "}",
        f"c{k}.ptr = a{k}; c{k}.len = (size_t)n{k};",
    ]
    if not const:  # the same list object gets C's values, as the Python wrapper writes back
        fn.after += [
            f"if (PyList_CheckExact({o})) {{",
            f"    PyObject *w_ = PyList_New(n{k});",
            "    if (w_ == NULL) goto fail;",
            f"    for (Py_ssize_t i_ = 0; i_ < n{k}; i_++) {{",
            f"        PyObject *v_ = {box.format(v=f'a{k}[i_]')};",
            "        if (v_ == NULL) { Py_DECREF(w_); goto fail; }",
            "        PyList_SET_ITEM(w_, i_, v_);",
            "    }",
            f"    int e_ = PyList_SetSlice({o}, 0, PY_SSIZE_T_MAX, w_);",
            "    Py_DECREF(w_);",
            "    if (e_ < 0) goto fail;",
            "}",
        ]
    return lines


def _scalar_into(ffi: cffi.FFI, tp: Any, source: str, target: str) -> str | None:
    """C statements storing Python object ``source`` into the C lvalue ``target`` of scalar
    type ``tp`` (``goto slow`` when it does not fit), or None for another type."""
    cname = tp.get_c_name()
    kind = _int_kind(ffi, tp)
    if kind == "s":
        return (
            f"{{ long long t_; if (!_pyffi_s({source}, -_PYFFI_SMAX({cname}) - 1, "
            f"_PYFFI_SMAX({cname}), &t_)) goto slow; {target} = ({cname})t_; }}"
        )
    if kind == "u":
        return (
            f"{{ unsigned long long t_; if (!_pyffi_u({source}, _PYFFI_UMAX({cname}), &t_)) "
            f"goto slow; {target} = ({cname})t_; }}"
        )
    if isinstance(tp, model.PrimitiveType) and tp.name in ("double", "float"):
        return f"{{ double t_; if (!_pyffi_f({source}, &t_)) goto slow; {target} = ({cname})t_; }}"
    return None


def _struct(ffi: cffi.FFI, fn: _Fn, k: int, tp: Any) -> str:
    """A struct by value: a cdata of its type, or a dict or tuple of all its scalar fields."""
    cname = tp.get_c_name()
    fn.decls += [f"char *x{k};", f"{tp.get_c_name(f' s{k}')};"]
    ct = fn.ctype(cname)
    whole = f"if (_pyffi_p(args[{k}], {ct}, &x{k}) && x{k} != NULL) s{k} = *({cname} *)x{k};"
    fields = list(zip(tp.fldnames, tp.fldtypes, tp.fldbitsize or [-1] * len(tp.fldnames)))
    by_name, by_place = [], []
    for place, (name, ftp, bits) in enumerate(fields):
        into = _scalar_into(ffi, ftp, "v_", f"s{k}.{name}") if bits < 0 and name else None
        if into is None:  # a nested struct, an array, a pointer, a bit-field: cdata only
            fn.convert.append(whole + " else goto slow;")
            return f"s{k}"
        by_name.append(
            f'v_ = PyDict_GetItemString(args[{k}], "{name}"); if (!v_) goto slow; {into}'
        )
        by_place.append(f"v_ = PyTuple_GET_ITEM(args[{k}], {place}); {into}")
    n = len(fields)
    fn.convert += [
        whole,
        f"else if (PyDict_CheckExact(args[{k}]) && PyDict_GET_SIZE(args[{k}]) == {n}) {{",
        "    PyObject *v_;",
        *(f"    {line}" for line in by_name),
        f"}} else if (PyTuple_CheckExact(args[{k}]) && PyTuple_GET_SIZE(args[{k}]) == {n}) {{",
        "    PyObject *v_;",
        *(f"    {line}" for line in by_place),
        "} else goto slow;",
    ]
    return f"s{k}"


def _pointer(fn: _Fn, k: int, tp: Any) -> str:
    item, const = tp.totype, bool(tp.quals & model.Q_CONST)
    cname = tp.get_c_name()
    if (isinstance(item, model.PrimitiveType) and item.name in BYTES) or isinstance(
        item, model.VoidType
    ):
        text = int(isinstance(item, model.PrimitiveType) and const)
        fn.decls += [f"char *x{k};", f"Py_buffer v{k};", f"int h{k} = 0;"]
        fn.convert.append(
            f"if (!_pyffi_b(args[{k}], {int(not const)}, {text}, &v{k}, &h{k}, &x{k})) goto slow;"
        )
        fn.release.append(f"if (h{k}) PyBuffer_Release(&v{k});")
        return f"({cname})x{k}"
    if isinstance(item, model.StructType) and item.name in SLICES:
        fn.decls.append(f"{item.name} *x{k} = NULL;")
        fn.convert.append(f"if (args[{k}] != Py_None) {{")
        fn.convert += [f"    {line}" for line in _slice(fn, k, item.name, const)]
        fn.convert.append(f"    x{k} = &c{k};")
        fn.convert.append("}")
        return f"x{k}"
    # None or a cdata of this very type; a list, a dict, a buffer: the Python wrapper
    fn.decls.append(f"char *x{k};")
    fn.convert.append(f"if (!_pyffi_p(args[{k}], {fn.ctype(cname)}, &x{k})) goto slow;")
    return f"({cname})x{k}"


def _result(ffi: cffi.FFI, fn: _Fn, tp: Any) -> tuple[str, str]:
    """(the declaration of ``result``, the statement returning it boxed)."""
    if isinstance(tp, model.VoidType):
        return "", "Py_RETURN_NONE;"
    cname = tp.get_c_name()
    kind = _int_kind(ffi, tp)
    decl = tp.get_c_name(" result") + ";"
    if kind == "s":
        return decl, "return PyLong_FromLongLong((long long)result);"
    if kind == "u":
        return decl, "return PyLong_FromUnsignedLongLong((unsigned long long)result);"
    if isinstance(tp, model.PrimitiveType) and tp.name in ("double", "float", "long double"):
        return decl, "return PyFloat_FromDouble((double)result);"
    if isinstance(tp, model.PrimitiveType) and tp.name == "_Bool":
        return decl, "return PyBool_FromLong(result);"
    if isinstance(tp, model.PointerType) and not (
        isinstance(tp.totype, model.PrimitiveType) and tp.totype.name in ("char", "wchar_t")
    ):  # a char * or wchar_t * result is text: the Python wrapper's converter
        return decl, (
            "return _cffi_from_c_pointer((char *)result, "
            f"(struct _cffi_ctypedescr *){fn.ctype(cname)});"
        )
    raise _Unsupported(cname)


def _function(ffi: cffi.FFI, name: str, tp: model.FunctionPtrType) -> _Fn:
    fn = _Fn(name)
    if tp.ellipsis:
        raise _Unsupported("...")
    passed = [_param(ffi, fn, k, a) for k, a in enumerate(tp.args)]
    result_decl, boxed = _result(ffi, fn, tp.result)
    call = f"{name}({', '.join(passed)})"
    body = [
        f"static PyObject *_pyffi_w_{name}(PyObject *self, PyObject *const *args,",
        "                                 Py_ssize_t nargs, PyObject *kwnames)",
        "{",
        "    PyObject *const *s = &PyTuple_GET_ITEM(self, 0);",
        *(f"    {d}" for d in fn.decls),
        *([f"    {result_decl}"] if result_decl else []),
        f"    if (kwnames != NULL || nargs != {len(tp.args)} || PyDict_GET_SIZE(s[1]) != 0)",
        "        goto slow;",
        *(f"    {c}" for c in fn.convert),
        "    Py_BEGIN_ALLOW_THREADS",
        "    _cffi_restore_errno();",
        f"    {{ {'result = ' if result_decl else ''}{call}; }}",
        "    _cffi_save_errno();",
        "    Py_END_ALLOW_THREADS",
        *(f"    {a}" for a in fn.after),
        *(f"    {r}" for r in fn.release),
        f"    {boxed}",
        *(["fail:", *(f"    {r}" for r in fn.release), "    return NULL;"] if fn.after else []),
        "slow:",
        *(f"    {r}" for r in fn.release),
        "    return PyObject_Vectorcall(s[0], args, (size_t)nargs, kwnames);",
        "}",
    ]
    fn.decls = body  # the finished text
    return fn


def generate(
    ffi: cffi.FFI, functions: dict[str, model.FunctionPtrType], module: str
) -> tuple[str, Native]:
    """The C text to append to the extension's source, and what it holds."""
    made: list[_Fn] = []
    for name, tp in functions.items():
        if not name.isidentifier():
            continue
        try:
            made.append(_function(ffi, name, tp))
        except _Unsupported:
            continue
    text = [_PRELUDE]
    for fn in made:
        text += fn.decls
        text.append("")
    text.append("static PyMethodDef _pyffi_defs[] = {")
    for fn in made:
        text.append(
            f'    {{"{fn.name}", (PyCFunction)(void (*)(void))_pyffi_w_{fn.name}, '
            "METH_FASTCALL | METH_KEYWORDS, NULL},"
        )
    text += ["    {NULL, NULL, 0, NULL},", "};", ""]
    text.append(_EPILOGUE.replace("%(module)s", module))
    native = Native({fn.name: (k, fn.ctypes) for k, fn in enumerate(made)})
    return "\n".join(text), native
