/*
 * Native programs calling Python: include/pyffi_embed.h on the CPython C API.
 *
 * Built into libpyffi_embed.so (with the whole core, so pyffi.h's functions
 * are there too). The library does not link libpython: its Python symbols
 * come from the process, as an extension module's do, so the same file
 * serves a native program linked with -lpython3.X and a Python process that
 * opens it (pyffi.embed).
 *
 * State:
 *  - the handle table is a C array owned by a capsule in the interpreter's
 *    own dict (PyInterpreterState_GetDict), behind its own mutex: with the
 *    GIL off (free-threaded CPython) threads use it at once. The mutex is
 *    held for a few loads and stores, never while Python code may run; an
 *    object read through a handle is a new reference, so another thread
 *    releasing that handle meanwhile cannot free it under the reader;
 *  - per thread: a cache of that table's address, the running native
 *    function's frame, and the last Python exception's three texts;
 *  - process-wide: only whether pyffi started Python (Python's runtime is
 *    process-wide itself), behind a mutex, as pthread_once would be.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <dlfcn.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/glibc.h"
#include "pyffi_embed.h"

#if PY_VERSION_HEX < 0x030A0000
static inline PyObject *Py_NewRef(PyObject *o)
{
    Py_INCREF(o);
    return o;
}
#endif

/* ---- per-thread state -------------------------------------------------------- */

/* The native function (pyffi_embed_function) running on this thread. */
typedef struct frame {
    struct frame *up;
    PyObject *pending; /* set by pyffi_embed_raise: raised when the function returns */
    PyObject *last;    /* the exception behind the last PYFFI_PYTHON in this frame */
} frame;

typedef struct table table;

static _Thread_local struct {
    PyInterpreterState *interp; /* the interpreter `table` belongs to */
    table *table;
    frame *frame;
    unsigned scopes; /* pyffi_embed_enter scopes open on this thread */
    char type[256];
    char message[4096];
    char traceback[16384];
} tls;

/* ---- start-up ----------------------------------------------------------------- */

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int started; /* 1 once Python ran for pyffi: never started again after finalization */

/* Copy UTF-8 text into a fixed buffer, cut at a character boundary. */
static void copy_text(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)src[n] & 0xC0) == 0x80)
            n--; /* src[n] starts a character: cut before it */
    }
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* The current exception, normalized, with its traceback attached (a new reference). */
static PyObject *fetch_exception(void)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyErr_GetRaisedException();
#else
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    if (!type)
        return NULL;
    PyErr_NormalizeException(&type, &value, &tb);
    if (tb && value)
        PyException_SetTraceback(value, tb);
    Py_XDECREF(type);
    Py_XDECREF(tb);
    return value;
#endif
}

/* Make @p exc (stolen) the current exception. */
static void restore_exception(PyObject *exc)
{
#if PY_VERSION_HEX >= 0x030C0000
    PyErr_SetRaisedException(exc);
#else
    PyErr_Restore(Py_NewRef((PyObject *)Py_TYPE(exc)), exc, PyException_GetTraceback(exc));
#endif
}

/* str(o) into a fixed buffer ("<unprintable ...>" if that raises). */
static void copy_str(char *dst, size_t cap, PyObject *o)
{
    PyObject *s = o ? PyObject_Str(o) : NULL;
    const char *u = s ? PyUnicode_AsUTF8(s) : NULL;
    if (!u) {
        PyErr_Clear();
        u = "<unprintable>";
    }
    copy_text(dst, cap, u);
    Py_XDECREF(s);
}

/*
 * The current Python exception as PYFFI_PYTHON: its type, message and
 * traceback in this thread's buffers; kept in the running native function's
 * frame (to re-raise it there). GIL held.
 */
static pyffi_status python_failed(const char *who)
{
    PyObject *exc = fetch_exception();
    if (!exc) /* a C API call failed without setting one: never expected */
        return pyffi__fail(PYFFI_PYTHON, "%s: failed without a Python exception", who);
    PyObject *qualname = PyObject_GetAttrString((PyObject *)Py_TYPE(exc), "__qualname__");
    copy_str(tls.type, sizeof tls.type, qualname);
    Py_XDECREF(qualname);
    copy_str(tls.message, sizeof tls.message, exc);
    tls.traceback[0] = 0;
    PyObject *tb = PyException_GetTraceback(exc);
    PyObject *mod = PyImport_ImportModule("traceback");
    PyObject *lines = mod ? PyObject_CallMethod(mod, "format_exception", "OOO", (PyObject *)Py_TYPE(exc), exc,
                                      tb ? tb : Py_None)
                : NULL;
    PyObject *empty = lines ? PyUnicode_FromString("") : NULL;
    PyObject *text = empty ? PyUnicode_Join(empty, lines) : NULL;
    copy_str(tls.traceback, sizeof tls.traceback, text);
    Py_XDECREF(text);
    Py_XDECREF(empty);
    Py_XDECREF(lines);
    Py_XDECREF(mod);
    Py_XDECREF(tb);
    PyErr_Clear();
    if (tls.frame)
        Py_XSETREF(tls.frame->last, exc);
    else
        Py_DECREF(exc);
    return pyffi__fail(PYFFI_PYTHON, "%s: %s: %s", who, tls.type, tls.message);
}

const char *pyffi_embed_error_type(void) { return tls.type; }
const char *pyffi_embed_error_message(void) { return tls.message; }
const char *pyffi_embed_error_traceback(void) { return tls.traceback; }

/*
 * The site-packages directory holding the pyffi package this library lives
 * in, into @p dir (a C string); 0 if the library is not inside one (a build
 * tree, say).
 */
static int package_parent(char *dir, size_t cap)
{
    Dl_info info;
    if (!dladdr(&start_lock, &info) || !info.dli_fname) /* any address inside this library */
        return 0;
    copy_text(dir, cap, info.dli_fname);
    char *slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = 0; /* .../site-packages/pyffi */
    char init[4200];
    snprintf(init, sizeof init, "%s/__init__.py", dir);
    slash = strrchr(dir, '/');
    if (access(init, F_OK) != 0 || !slash)
        return 0;
    *slash = 0; /* .../site-packages */
    return 1;
}

/*
 * The venv whose site-packages is @p site (ROOT/lib/pythonX.Y/site-packages
 * with ROOT/pyvenv.cfg): its ROOT/bin/python3 into @p exe, so Python starts
 * as that venv's interpreter would (sys.prefix, its packages, not the
 * system's). 0 if @p site is in no venv.
 */
static int venv_python(char *exe, size_t cap, const char *site)
{
    char root[4096], cfg[4200];
    copy_text(root, sizeof root, site);
    for (int up = 0; up < 3; up++) {
        char *slash = strrchr(root, '/');
        if (!slash)
            return 0;
        *slash = 0;
    }
    snprintf(cfg, sizeof cfg, "%s/pyvenv.cfg", root);
    if (access(cfg, F_OK) != 0)
        return 0;
    return snprintf(exe, cap, "%s/bin/python3", root) < (int)cap;
}

/* Prepend @p options' paths to sys.path. GIL held. */
static pyffi_status add_paths(const pyffi_embed_options *options)
{
    if (!options || options->npaths == 0)
        return PYFFI_OK;
    if (!options->paths)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "pyffi_embed_start: paths is NULL, npaths %zu",
                           options->npaths);
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    if (!path || !PyList_Check(path))
        return pyffi__fail(PYFFI_PYTHON, "pyffi_embed_start: sys.path is not a list");
    for (size_t k = 0; k < options->npaths; k++) {
        if (!options->paths[k])
            return pyffi__fail(PYFFI_INVALID_ARGUMENT, "pyffi_embed_start: paths[%zu] is NULL", k);
        PyObject *p = PyUnicode_DecodeFSDefault(options->paths[k]);
        int rc = p ? PyList_Insert(path, (Py_ssize_t)k, p) : -1;
        Py_XDECREF(p);
        if (rc < 0)
            return python_failed("pyffi_embed_start");
    }
    return PYFFI_OK;
}

/* Python starts here, with the start lock held. */
static pyffi_status initialize(const pyffi_embed_options *options)
{
    char site_dir[4096], exe[4096];
    int in_package = package_parent(site_dir, sizeof site_dir);
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.use_environment = options ? options->use_environment != 0 : 1;
    config.parse_argv = 0;
    config.install_signal_handlers = 0; /* SIGINT stays the program's */
    PyStatus st = PyStatus_Ok();
    if (in_package && venv_python(exe, sizeof exe, site_dir))
        st = PyConfig_SetBytesString(&config, &config.program_name, exe);
    if (!PyStatus_Exception(st))
        st = Py_InitializeFromConfig(&config);
    PyConfig_Clear(&config);
    if (PyStatus_Exception(st))
        return pyffi__fail(PYFFI_PYTHON, "pyffi_embed_start: Python did not start: %s%s%s",
                           st.func ? st.func : "", st.func ? ": " : "",
                           st.err_msg ? st.err_msg : "unknown error");
    /* Outside a venv, the site-packages holding pyffi (a --target one, say) still imports. */
    pyffi_status status = PYFFI_OK;
    PyObject *dir = in_package ? PyUnicode_DecodeFSDefault(site_dir) : NULL;
    PyObject *path = PySys_GetObject("path"); /* borrowed */
    if (dir && path && PySequence_Contains(path, dir) == 0) {
        PyObject *site = PyImport_ImportModule("site");
        PyObject *r = site ? PyObject_CallMethod(site, "addsitedir", "O", dir) : NULL;
        if (!r)
            status = python_failed("pyffi_embed_start: site.addsitedir");
        Py_XDECREF(r);
        Py_XDECREF(site);
    }
    Py_XDECREF(dir);
    PyErr_Clear();
    PyEval_SaveThread(); /* every call takes the GIL with PyGILState_Ensure */
    return status;
}

static pyffi_status start(const pyffi_embed_options *options)
{
    pyffi_status status = PYFFI_OK;
    pthread_mutex_lock(&start_lock);
    if (!Py_IsInitialized()) {
        if (atomic_load(&started))
            status = pyffi__fail(PYFFI_PYTHON, "pyffi_embed: Python has been finalized; "
                                               "pyffi does not start it again");
        else
            status = initialize(options);
    }
    if (status == PYFFI_OK)
        atomic_store(&started, 1);
    pthread_mutex_unlock(&start_lock);
    return status;
}

pyffi_status pyffi_embed_start(const pyffi_embed_options *options)
{
    pyffi_status status = start(options);
    if (status != PYFFI_OK || !options || options->npaths == 0)
        return status;
    PyGILState_STATE gil = PyGILState_Ensure();
    status = add_paths(options);
    PyGILState_Release(gil);
    return status;
}

static inline pyffi_status running(void)
{
    if (atomic_load_explicit(&started, memory_order_relaxed) && Py_IsInitialized())
        return PYFFI_OK;
    return start(NULL);
}

pyffi_status pyffi_embed_enter(pyffi_embed_scope *out)
{
    if (!out)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "pyffi_embed_enter: out is NULL");
    *out = (pyffi_embed_scope){0, 0, NULL};
    pyffi_status status = running();
    if (status != PYFFI_OK)
        return status;
    out->gil = (int)PyGILState_Ensure();
    out->depth = ++tls.scopes;
    out->thread = &tls; /* this thread's own state: its address names the thread */
    return PYFFI_OK;
}

pyffi_status pyffi_embed_leave(pyffi_embed_scope scope)
{
    static const char who[] = "pyffi_embed_leave";
    if (scope.thread == NULL)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                           "%s: not a scope (its pyffi_embed_enter failed, or was not called)",
                           who);
    if (scope.thread != (const void *)&tls)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                           "%s: the scope was entered on another thread (or is made up); "
                           "leave it on the thread that entered it", who);
    if (scope.depth == 0 || scope.depth > tls.scopes ||
        (scope.gil != (int)PyGILState_LOCKED && scope.gil != (int)PyGILState_UNLOCKED))
        return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                           "%s: the scope is not open (left already, or made up); this "
                           "thread has %u open", who, tls.scopes);
    if (scope.depth < tls.scopes)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                           "%s: scope %u of %u: the scopes entered after it are still open; "
                           "leave them first", who, scope.depth, tls.scopes);
    tls.scopes--;
    PyGILState_Release((PyGILState_STATE)scope.gil);
    return PYFFI_OK;
}

/*
 * Whether the calling thread holds the GIL already (inside a scope, a native
 * function Python called, or any C code Python is running): then an entry
 * point skips PyGILState_Ensure/Release. Checked, not remembered: code that
 * released the GIL meanwhile (a cffi call from Python inside a scope, say)
 * takes the slow path.
 */
static inline int gil_held(void)
{
#if PY_VERSION_HEX >= 0x030D0000
    PyThreadState *t = PyThreadState_GetUnchecked();
#else
    PyThreadState *t = _PyThreadState_UncheckedGet();
#endif
    /*
     * Compared, never read: before 3.12 `t` is whichever thread holds the
     * GIL, and that thread may free its state at any moment (ASan caught
     * reading t->thread_id). This thread's own state is live, so equal
     * pointers mean this thread holds the GIL.
     */
    return t != NULL && t == PyGILState_GetThisThreadState();
}

/* Every entry point: Python running and the GIL taken, unless this thread holds it. */
#define ENTER(name)                                                        \
    static const char who_[] = name;                                       \
    const int held_ = gil_held();                                          \
    PyGILState_STATE gil_ = PyGILState_LOCKED;                             \
    if (!held_) {                                                          \
        pyffi_status st_ = running();                                      \
        if (st_ != PYFFI_OK)                                               \
            return st_;                                                    \
        gil_ = PyGILState_Ensure();                                        \
    }                                                                      \
    PyObject *refs_[2];                                                    \
    int nrefs_ = 0
/* The object of handle @p h, kept alive until LEAVE (at most two a function),
 * or NULL with the failure recorded. */
#define HANDLE(h) kept(refs_, &nrefs_, handle_ref((h), who_))
#define LEAVE(status)                                                      \
    do {                                                                   \
        pyffi_status s_ = (status);                                        \
        for (int r_ = 0; r_ < nrefs_; r_++)                                \
            Py_DECREF(refs_[r_]);                                          \
        if (!held_)                                                        \
            PyGILState_Release(gil_);                                      \
        return s_;                                                         \
    } while (0)
#define NEED(p)                                                            \
    do {                                                                   \
        if (!(p))                                                          \
            LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: " #p " is NULL", who_)); \
    } while (0)

/* ---- the handle table ----------------------------------------------------------- */

typedef struct slot {
    PyObject *obj;  /* NULL: free */
    uint32_t gen;   /* bumped on release: a stale handle fails the check */
    uint32_t next;  /* free list: index + 1, 0 ends it */
} slot;

struct table {
    pthread_mutex_t lock; /* every field below */
    slot *slots;
    uint32_t len, cap, free_head;
    uint64_t sources; /* sources run so far: each gets its own file name */
};

static const char TABLE_KEY[] = "pyffi.embed.table";

static void table_destroy(PyObject *capsule)
{
    table *t = PyCapsule_GetPointer(capsule, TABLE_KEY);
    if (!t)
        return;
    for (uint32_t i = 0; i < t->len; i++)
        Py_XDECREF(t->slots[i].obj);
    free(t->slots);
    pthread_mutex_destroy(&t->lock);
    free(t);
    if (tls.table == t)
        tls.table = NULL;
}

/* This interpreter's table, made on first use. GIL held. */
static table *get_table(void)
{
    PyInterpreterState *interp = PyInterpreterState_Get();
    if (tls.table && tls.interp == interp)
        return tls.table;
    PyObject *dict = PyInterpreterState_GetDict(interp); /* borrowed */
    if (!dict)
        return NULL;
    PyObject *cap = PyDict_GetItemString(dict, TABLE_KEY); /* borrowed */
    if (!cap) { /* two threads may get here at once: the dict keeps the first capsule */
        table *made = calloc(1, sizeof *made);
        if (made && pthread_mutex_init(&made->lock, NULL) != 0) {
            free(made);
            made = NULL;
        }
        PyObject *mine = made ? PyCapsule_New(made, TABLE_KEY, table_destroy) : NULL;
        if (!mine) {
            if (made) {
                pthread_mutex_destroy(&made->lock);
                free(made);
            }
            PyErr_Clear();
            return NULL;
        }
        PyObject *key = PyUnicode_FromString(TABLE_KEY);
        cap = key ? PyDict_SetDefault(dict, key, mine) : NULL; /* borrowed */
        Py_XDECREF(key);
        Py_DECREF(mine); /* frees `made` unless the dict holds it */
        if (!cap) {
            PyErr_Clear();
            return NULL;
        }
    }
    table *t = PyCapsule_GetPointer(cap, TABLE_KEY);
    if (!t) {
        PyErr_Clear();
        return NULL;
    }
    tls.interp = interp;
    tls.table = t;
    return t;
}

/* A new handle owning @p obj (a new reference, stolen even on failure). GIL held. */
static pyffi_status handle_new(pyffi_obj *out, PyObject *obj, const char *who)
{
    table *t = get_table();
    if (!t) {
        Py_DECREF(obj);
        return pyffi__fail(PYFFI_NOMEM, "%s: no memory for the handle table", who);
    }
    uint32_t i;
    pthread_mutex_lock(&t->lock);
    if (t->free_head) {
        i = t->free_head - 1;
        t->free_head = t->slots[i].next;
    } else {
        if (t->len == t->cap) {
            const int full = t->cap >= UINT32_MAX / 2;
            const uint32_t want = full ? t->cap : t->cap ? t->cap * 2 : 256, live = t->len;
            slot *s = full ? NULL : realloc(t->slots, want * sizeof *s);
            if (!s) { /* failures are recorded outside the lock, the object released too */
                pthread_mutex_unlock(&t->lock);
                Py_DECREF(obj);
                if (full)
                    return pyffi__fail(PYFFI_NOMEM, "%s: %u handles are live, the most there "
                                       "can be", who, live);
                return pyffi__fail(PYFFI_NOMEM, "%s: no memory for %u handles", who, want);
            }
            t->slots = s;
            t->cap = want;
        }
        i = t->len++;
        t->slots[i].gen = 1;
    }
    t->slots[i].obj = obj;
    t->slots[i].next = 0;
    *out = ((uint64_t)t->slots[i].gen << 32) | (uint64_t)(i + 1);
    pthread_mutex_unlock(&t->lock);
    return PYFFI_OK;
}

/* The live slot of @p h in @p t, or NULL. t->lock held. */
static slot *handle_find(table *t, pyffi_obj h)
{
    uint32_t i = (uint32_t)(h & 0xffffffffu), gen = (uint32_t)(h >> 32);
    if (i == 0 || i > t->len || t->slots[i - 1].gen != gen || !t->slots[i - 1].obj)
        return NULL;
    return &t->slots[i - 1];
}

static pyffi_status not_live(const char *who, const char *what, pyffi_obj h)
{
    return pyffi__fail(PYFFI_INVALID_ARGUMENT,
                       "%s: %shandle 0x%llx is not a live Python object (released, or never "
                       "made by pyffi)", who, what, (unsigned long long)h);
}

/*
 * The object of handle @p h as a new reference (or, with @p take, the handle's
 * own: the handle is released), or NULL with the failure recorded, naming
 * @p what (an argument's place, or ""). Attached to the interpreter.
 */
static PyObject *handle_object(pyffi_obj h, int take, const char *who, const char *what)
{
    table *t = get_table();
    if (!t) {
        pyffi__fail(PYFFI_NOMEM, "%s: no memory for the handle table", who);
        return NULL;
    }
    pthread_mutex_lock(&t->lock);
    slot *s = handle_find(t, h);
    PyObject *o = s ? s->obj : NULL;
    if (s && take) {
        s->obj = NULL;
        s->gen = s->gen == UINT32_MAX ? 1 : s->gen + 1;
        s->next = t->free_head;
        t->free_head = (uint32_t)(s - t->slots) + 1;
    } else if (s) {
        Py_INCREF(o);
    }
    pthread_mutex_unlock(&t->lock);
    if (!o)
        not_live(who, what, h);
    return o;
}

/* A new reference to the object of a live handle, or NULL with the failure recorded. */
static PyObject *handle_ref(pyffi_obj h, const char *who)
{
    return handle_object(h, 0, who, "");
}

/* Empty the slot of a live handle and return its reference (the caller's now). */
static PyObject *handle_take(pyffi_obj h, const char *who)
{
    return handle_object(h, 1, who, "");
}

/* @p o, remembered in refs[*n] for LEAVE to release (HANDLE). */
static inline PyObject *kept(PyObject **refs, int *n, PyObject *o)
{
    if (o)
        refs[(*n)++] = o;
    return o;
}

pyffi_status pyffi_embed_release(pyffi_obj obj)
{
    if (obj == 0)
        return PYFFI_OK;
    ENTER("pyffi_embed_release");
    PyObject *o = handle_take(obj, who_);
    if (!o)
        LEAVE(PYFFI_INVALID_ARGUMENT);
    Py_DECREF(o); /* may run __del__, which may use handles: the slot is free already */
    LEAVE(PYFFI_OK);
}

pyffi_status pyffi_embed_dup(pyffi_obj *out, pyffi_obj obj)
{
    ENTER("pyffi_embed_dup");
    NEED(out);
    PyObject *o = HANDLE(obj);
    LEAVE(o ? handle_new(out, Py_NewRef(o), who_) : PYFFI_INVALID_ARGUMENT);
}

/* ---- text in -------------------------------------------------------------------- */

/* str from UTF-8, or NULL with PYFFI_UTF8 naming the offset in *status. GIL held. */
static PyObject *decode(const char *s, size_t len, pyffi_status *status, const char *who)
{
    if (len > PY_SSIZE_T_MAX) {
        *status = pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: length %zu is too large", who, len);
        return NULL;
    }
    PyObject *u = PyUnicode_DecodeUTF8(s, (Py_ssize_t)len, "strict");
    if (u)
        return u;
    PyObject *exc = fetch_exception();
    Py_ssize_t at = -1;
    if (exc && PyObject_TypeCheck(exc, (PyTypeObject *)PyExc_UnicodeDecodeError) &&
        PyUnicodeDecodeError_GetStart(exc, &at) == 0) {
        *status = pyffi__fail(PYFFI_UTF8, "%s: invalid UTF-8 at byte offset %zd", who, at);
        Py_DECREF(exc);
        return NULL;
    }
    if (exc)
        restore_exception(exc);
    *status = python_failed(who);
    return NULL;
}

/* ---- running code --------------------------------------------------------------- */

/* The namespace of module @p module (borrowed), created if needed. GIL held. */
static PyObject *namespace(const char *module)
{
    PyObject *mod = PyImport_AddModule(module ? module : "__main__"); /* borrowed */
    if (!mod)
        return NULL;
    PyObject *d = PyModule_GetDict(mod);
    if (!PyDict_GetItemString(d, "__builtins__") &&
        PyDict_SetItemString(d, "__builtins__", PyEval_GetBuiltins()) < 0)
        return NULL;
    return d;
}

/* linecache keeps the lines of the last SOURCES_KEPT sources run: bounded memory. */
enum { SOURCES_KEPT = 256 };

/*
 * A file name for this source, "<pyffi_embed N>", and its lines in linecache
 * (as IPython does for cells): tracebacks then show the source lines. The
 * entry of source N - SOURCES_KEPT is dropped, so a program running code in
 * a loop does not grow linecache without end. GIL held.
 */
static int remember_source(char *filename, size_t cap, PyObject *source)
{
    table *t = get_table();
    if (!t) {
        PyErr_NoMemory();
        return -1;
    }
    pthread_mutex_lock(&t->lock);
    const uint64_t number = ++t->sources;
    pthread_mutex_unlock(&t->lock);
    snprintf(filename, cap, "<pyffi_embed %llu>", (unsigned long long)number);
    PyObject *text = PyUnicode_FromEncodedObject(source, "utf-8", "replace");
    PyObject *lines = text ? PyUnicode_Splitlines(text, 1) : NULL;
    PyObject *linecache = lines ? PyImport_ImportModule("linecache") : NULL;
    PyObject *cache = linecache ? PyObject_GetAttrString(linecache, "cache") : NULL;
    PyObject *entry = cache ? Py_BuildValue("(nOOs)", PyBytes_GET_SIZE(source), Py_None, lines,
                                            filename)
                            : NULL;
    int rc = entry ? PyObject_SetItem(cache, PyTuple_GET_ITEM(entry, 3), entry) : -1;
    if (rc == 0 && number > SOURCES_KEPT) {
        char old[64];
        snprintf(old, sizeof old, "<pyffi_embed %llu>",
                 (unsigned long long)(number - SOURCES_KEPT));
        PyObject *key = PyUnicode_FromString(old);
        if (key && PyObject_DelItem(cache, key) < 0)
            PyErr_Clear(); /* linecache.checkcache may have dropped it already */
        Py_XDECREF(key);
    }
    Py_XDECREF(entry);
    Py_XDECREF(cache);
    Py_XDECREF(linecache);
    Py_XDECREF(lines);
    Py_XDECREF(text);
    PyErr_Clear(); /* without the lines, tracebacks still name the file and line */
    (void)rc;
    return 0;
}

static pyffi_status run(pyffi_obj *out, const char *module, const char *src, size_t len, int mode,
                        const char *who)
{
    if (!src && len)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: src is NULL, len %zu", who, len);
    if (len && memchr(src, 0, len))
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: the source holds a NUL byte at offset %zu",
                           who, (size_t)((const char *)memchr(src, 0, len) - src));
    if (len > PY_SSIZE_T_MAX - 1)
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: length %zu is too large", who, len);
    PyObject *copy = PyBytes_FromStringAndSize(src, (Py_ssize_t)len); /* NUL-terminated */
    PyObject *d = copy ? namespace(module) : NULL;
    char filename[64];
    if (d && remember_source(filename, sizeof filename, copy) < 0)
        d = NULL;
    PyObject *code = d ? Py_CompileString(PyBytes_AS_STRING(copy), filename, mode) : NULL;
    PyObject *r = code ? PyEval_EvalCode(code, d, d) : NULL;
    Py_XDECREF(code);
    Py_XDECREF(copy);
    if (!r)
        return python_failed(who);
    if (out)
        return handle_new(out, r, who);
    Py_DECREF(r);
    return PYFFI_OK;
}

pyffi_status pyffi_embed_run(const char *module, const char *src, size_t len)
{
    ENTER("pyffi_embed_run");
    LEAVE(run(NULL, module, src, len, Py_file_input, who_));
}

pyffi_status pyffi_embed_eval(pyffi_obj *out, const char *module, const char *src, size_t len)
{
    ENTER("pyffi_embed_eval");
    NEED(out);
    LEAVE(run(out, module, src, len, Py_eval_input, who_));
}

pyffi_status pyffi_embed_import(pyffi_obj *out, const char *name, size_t len)
{
    ENTER("pyffi_embed_import");
    NEED(out);
    NEED(name);
    pyffi_status status;
    PyObject *n = decode(name, len, &status, who_);
    if (!n)
        LEAVE(status);
    PyObject *m = PyImport_Import(n);
    Py_DECREF(n);
    LEAVE(m ? handle_new(out, m, who_) : python_failed(who_));
}

pyffi_status pyffi_embed_getattr(pyffi_obj *out, pyffi_obj obj, const char *name, size_t len)
{
    ENTER("pyffi_embed_getattr");
    NEED(out);
    NEED(name);
    PyObject *o = HANDLE(obj);
    if (!o)
        LEAVE(PYFFI_INVALID_ARGUMENT);
    pyffi_status status;
    PyObject *n = decode(name, len, &status, who_);
    if (!n)
        LEAVE(status);
    PyObject *a = PyObject_GetAttr(o, n);
    Py_DECREF(n);
    LEAVE(a ? handle_new(out, a, who_) : python_failed(who_));
}

pyffi_status pyffi_embed_call(pyffi_obj *out, pyffi_obj fn, const pyffi_obj *args, size_t nargs,
                              pyffi_obj kwargs)
{
    ENTER("pyffi_embed_call");
    NEED(out);
    if (nargs && !args)
        LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: args is NULL, nargs %zu", who_, nargs));
    PyObject *f = HANDLE(fn);
    if (!f)
        LEAVE(PYFFI_INVALID_ARGUMENT);
    PyObject *kw = NULL;
    if (kwargs) {
        kw = HANDLE(kwargs);
        if (!kw)
            LEAVE(PYFFI_INVALID_ARGUMENT);
        if (!PyDict_Check(kw))
            LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: kwargs: expected dict, got %s", who_,
                              Py_TYPE(kw)->tp_name));
    }
    /* The arguments as a borrowed vector (vectorcall needs no tuple). */
    PyObject *small[8], **vec = small;
    if (nargs > 8) {
        if (nargs > PY_SSIZE_T_MAX / sizeof *vec)
            LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: nargs %zu is too large", who_, nargs));
        vec = PyMem_Malloc(nargs * sizeof *vec);
        if (!vec)
            LEAVE(pyffi__fail(PYFFI_NOMEM, "%s: no memory for %zu arguments", who_, nargs));
    }
    for (size_t k = 0; k < nargs; k++) { /* new references, released after the call */
        char what[48];
        snprintf(what, sizeof what, "args[%zu]: ", k);
        vec[k] = handle_object(args[k], 0, who_, what);
        if (!vec[k]) {
            while (k > 0)
                Py_DECREF(vec[--k]);
            if (vec != small)
                PyMem_Free(vec);
            LEAVE(PYFFI_INVALID_ARGUMENT);
        }
    }
    PyObject *r;
    if (kw && PyDict_GET_SIZE(kw)) {
        PyObject *tuple = PyTuple_New((Py_ssize_t)nargs);
        for (size_t k = 0; tuple && k < nargs; k++)
            PyTuple_SET_ITEM(tuple, (Py_ssize_t)k, Py_NewRef(vec[k]));
        r = tuple ? PyObject_Call(f, tuple, kw) : NULL;
        Py_XDECREF(tuple);
    } else {
        r = PyObject_Vectorcall(f, vec, nargs, NULL);
    }
    for (size_t k = 0; k < nargs; k++)
        Py_DECREF(vec[k]);
    if (vec != small)
        PyMem_Free(vec);
    LEAVE(r ? handle_new(out, r, who_) : python_failed(who_));
}

/* ---- values from C -------------------------------------------------------------- */

#define MAKE(name, expr)                                                   \
    {                                                                      \
        ENTER(name);                                                       \
        NEED(out);                                                         \
        PyObject *o_ = (expr);                                             \
        LEAVE(o_ ? handle_new(out, o_, who_) : python_failed(who_));       \
    }

pyffi_status pyffi_embed_int64(pyffi_obj *out, int64_t v)
    MAKE("pyffi_embed_int64", PyLong_FromLongLong(v))
pyffi_status pyffi_embed_uint64(pyffi_obj *out, uint64_t v)
    MAKE("pyffi_embed_uint64", PyLong_FromUnsignedLongLong(v))
pyffi_status pyffi_embed_double(pyffi_obj *out, double v)
    MAKE("pyffi_embed_double", PyFloat_FromDouble(v))
pyffi_status pyffi_embed_bool(pyffi_obj *out, bool v)
    MAKE("pyffi_embed_bool", PyBool_FromLong(v))
pyffi_status pyffi_embed_none(pyffi_obj *out)
    MAKE("pyffi_embed_none", Py_NewRef(Py_None))
pyffi_status pyffi_embed_list(pyffi_obj *out)
    MAKE("pyffi_embed_list", PyList_New(0))
pyffi_status pyffi_embed_dict(pyffi_obj *out)
    MAKE("pyffi_embed_dict", PyDict_New())

pyffi_status pyffi_embed_str(pyffi_obj *out, const char *s, size_t len)
{
    ENTER("pyffi_embed_str");
    NEED(out);
    if (!s && len)
        LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: s is NULL, len %zu", who_, len));
    pyffi_status status;
    PyObject *u = decode(s ? s : "", len, &status, who_);
    LEAVE(u ? handle_new(out, u, who_) : status);
}

pyffi_status pyffi_embed_bytes(pyffi_obj *out, const void *p, size_t len)
{
    ENTER("pyffi_embed_bytes");
    NEED(out);
    if (!p && len)
        LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: p is NULL, len %zu", who_, len));
    if (len > PY_SSIZE_T_MAX)
        LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: length %zu is too large", who_, len));
    PyObject *b = PyBytes_FromStringAndSize(p ? p : "", (Py_ssize_t)len);
    LEAVE(b ? handle_new(out, b, who_) : python_failed(who_));
}

static pyffi_status wrong_type(const char *who, const char *expected, PyObject *o)
{
    return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: expected %s, got %s", who, expected,
                       Py_TYPE(o)->tp_name);
}

pyffi_status pyffi_embed_list_append(pyffi_obj list, pyffi_obj item)
{
    ENTER("pyffi_embed_list_append");
    PyObject *l = HANDLE(list);
    PyObject *i = l ? HANDLE(item) : NULL;
    if (!i)
        LEAVE(PYFFI_INVALID_ARGUMENT);
    if (!PyList_Check(l))
        LEAVE(wrong_type(who_, "list", l));
    LEAVE(PyList_Append(l, i) < 0 ? python_failed(who_) : PYFFI_OK);
}

pyffi_status pyffi_embed_dict_set(pyffi_obj dict, const char *key, size_t len, pyffi_obj value)
{
    ENTER("pyffi_embed_dict_set");
    NEED(key);
    PyObject *d = HANDLE(dict);
    PyObject *v = d ? HANDLE(value) : NULL;
    if (!v)
        LEAVE(PYFFI_INVALID_ARGUMENT);
    if (!PyDict_Check(d))
        LEAVE(wrong_type(who_, "dict", d));
    pyffi_status status;
    PyObject *k = decode(key, len, &status, who_);
    if (!k)
        LEAVE(status);
    int rc = PyDict_SetItem(d, k, v);
    Py_DECREF(k);
    LEAVE(rc < 0 ? python_failed(who_) : PYFFI_OK);
}

/* ---- values back to C ----------------------------------------------------------- */

/* PYFFI_OVERFLOW naming the value (its repr, cut to 100 characters). */
static pyffi_status does_not_fit(const char *who, PyObject *o, const char *ctype)
{
    PyErr_Clear();
    PyObject *r = PyObject_Repr(o);
    const char *text = r ? PyUnicode_AsUTF8(r) : NULL;
    PyErr_Clear();
    char shown[128];
    copy_text(shown, 101, text ? text : "the value");
    if (text && strlen(text) > 100)
        strcat(shown, "...");
    Py_XDECREF(r);
    return pyffi__fail(PYFFI_OVERFLOW, "%s: %s does not fit %s", who, shown, ctype);
}

/* ---- the converters, on objects (GIL held) ---- */

static pyffi_status int64_of(int64_t *out, PyObject *o, const char *who)
{
    if (!PyLong_Check(o) || PyBool_Check(o))
        return wrong_type(who, "int", o);
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(o, &overflow);
    if (overflow)
        return does_not_fit(who, o, "int64_t");
    if (v == -1 && PyErr_Occurred())
        return python_failed(who);
    *out = v;
    return PYFFI_OK;
}

static pyffi_status uint64_of(uint64_t *out, PyObject *o, const char *who)
{
    if (!PyLong_Check(o) || PyBool_Check(o))
        return wrong_type(who, "int", o);
    unsigned long long v = PyLong_AsUnsignedLongLong(o);
    if (v == (unsigned long long)-1 && PyErr_Occurred())
        return PyErr_ExceptionMatches(PyExc_OverflowError) ? does_not_fit(who, o, "uint64_t")
                                                           : python_failed(who);
    *out = v;
    return PYFFI_OK;
}

static pyffi_status double_of(double *out, PyObject *o, const char *who)
{
    if (PyFloat_Check(o)) {
        *out = PyFloat_AS_DOUBLE(o);
        return PYFFI_OK;
    }
    if (!PyLong_Check(o) || PyBool_Check(o))
        return wrong_type(who, "float", o);
    double v = PyLong_AsDouble(o);
    if (v == -1.0 && PyErr_Occurred())
        return PyErr_ExceptionMatches(PyExc_OverflowError) ? does_not_fit(who, o, "double")
                                                           : python_failed(who);
    /* Exact only: 2**53 + 1 would silently become 2**53. */
    PyObject *back = PyLong_FromDouble(v);
    int same = back ? PyObject_RichCompareBool(back, o, Py_EQ) : -1;
    Py_XDECREF(back);
    if (same < 0)
        return python_failed(who);
    if (!same)
        return pyffi__fail(PYFFI_OVERFLOW, "%s: int %.17g... is not exactly a double", who, v);
    *out = v;
    return PYFFI_OK;
}

static pyffi_status bool_of(bool *out, PyObject *o, const char *who)
{
    if (!PyBool_Check(o))
        return wrong_type(who, "bool", o);
    *out = o == Py_True;
    return PYFFI_OK;
}

/* A malloc'd NUL-terminated copy (freed with pyffi_string_free). */
static pyffi_status give_copy(char **out, size_t *len, const char *p, size_t n, const char *who)
{
    char *copy = malloc(n + 1);
    if (!copy)
        return pyffi__fail(PYFFI_NOMEM, "%s: no memory for %zu bytes", who, n + 1);
    memcpy(copy, p, n);
    copy[n] = 0;
    *out = copy;
    if (len)
        *len = n;
    return PYFFI_OK;
}

static pyffi_status str_of(char **out, size_t *len, PyObject *o, const char *who)
{
    if (!PyUnicode_Check(o))
        return wrong_type(who, "str", o);
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(o, &n);
    if (u)
        return give_copy(out, len, u, (size_t)n, who);
    PyObject *exc = fetch_exception();
    Py_ssize_t at = -1;
    if (exc && PyObject_TypeCheck(exc, (PyTypeObject *)PyExc_UnicodeEncodeError) &&
        PyUnicodeEncodeError_GetStart(exc, &at) == 0) {
        Py_DECREF(exc);
        return pyffi__fail(PYFFI_UTF8, "%s: U+%04X at index %zd is a lone surrogate, "
                           "not encodable as UTF-8", who, (unsigned)PyUnicode_ReadChar(o, at), at);
    }
    if (exc)
        restore_exception(exc);
    return python_failed(who);
}

static pyffi_status bytes_of(char **out, size_t *len, PyObject *o, const char *who)
{
    if (PyBytes_Check(o))
        return give_copy(out, len, PyBytes_AS_STRING(o), (size_t)PyBytes_GET_SIZE(o), who);
    if (!PyObject_CheckBuffer(o) || PyUnicode_Check(o))
        return wrong_type(who, "a bytes-like object", o);
    Py_buffer view;
    if (PyObject_GetBuffer(o, &view, PyBUF_SIMPLE) < 0) {
        PyErr_Clear();
        return pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: the %s's buffer is not contiguous bytes",
                           who, Py_TYPE(o)->tp_name);
    }
    pyffi_status status = give_copy(out, len, view.buf, (size_t)view.len, who);
    PyBuffer_Release(&view);
    return status;
}

/* The public readers: the handle's object through its converter. */
#define READER(name, type, conv)                                           \
    pyffi_status name(type *out, pyffi_obj obj)                            \
    {                                                                      \
        ENTER(#name);                                                      \
        NEED(out);                                                         \
        PyObject *o = HANDLE(obj);                               \
        LEAVE(o ? conv(out, o, who_) : PYFFI_INVALID_ARGUMENT);            \
    }
READER(pyffi_embed_to_int64, int64_t, int64_of)
READER(pyffi_embed_to_uint64, uint64_t, uint64_of)
READER(pyffi_embed_to_double, double, double_of)
READER(pyffi_embed_to_bool, bool, bool_of)

pyffi_status pyffi_embed_to_str(char **out, size_t *len, pyffi_obj obj)
{
    ENTER("pyffi_embed_to_str");
    NEED(out);
    PyObject *o = HANDLE(obj);
    LEAVE(o ? str_of(out, len, o, who_) : PYFFI_INVALID_ARGUMENT);
}

pyffi_status pyffi_embed_to_bytes(char **out, size_t *len, pyffi_obj obj)
{
    ENTER("pyffi_embed_to_bytes");
    NEED(out);
    PyObject *o = HANDLE(obj);
    LEAVE(o ? bytes_of(out, len, o, who_) : PYFFI_INVALID_ARGUMENT);
}

/* ---- one-shot calls with native values ------------------------------------------- */

/* A new reference for @p v, or NULL with the failure in *status. GIL held. */
static PyObject *object_of(const pyffi_embed_value *v, pyffi_status *status, const char *who)
{
    PyObject *o = NULL;
    switch (v->kind) {
    case PYFFI_EMBED_INT64: o = PyLong_FromLongLong(v->as.i64); break;
    case PYFFI_EMBED_UINT64: o = PyLong_FromUnsignedLongLong(v->as.u64); break;
    case PYFFI_EMBED_DOUBLE: o = PyFloat_FromDouble(v->as.f64); break;
    case PYFFI_EMBED_BOOL: o = PyBool_FromLong(v->as.b); break;
    case PYFFI_EMBED_NONE: o = Py_NewRef(Py_None); break;
    case PYFFI_EMBED_STR:
    case PYFFI_EMBED_BYTES:
        if (!v->as.text.ptr && v->as.text.len) {
            *status = pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: text.ptr is NULL, len %zu", who,
                                  v->as.text.len);
            return NULL;
        }
        if (v->as.text.len > PY_SSIZE_T_MAX) {
            *status = pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: length %zu is too large", who,
                                  v->as.text.len);
            return NULL;
        }
        if (v->kind == PYFFI_EMBED_STR)
            return decode(v->as.text.ptr ? v->as.text.ptr : "", v->as.text.len, status, who);
        o = PyBytes_FromStringAndSize(v->as.text.ptr ? v->as.text.ptr : "",
                                      (Py_ssize_t)v->as.text.len);
        break;
    case PYFFI_EMBED_OBJECT:
        o = handle_ref(v->as.obj, who);
        if (!o)
            *status = PYFFI_INVALID_ARGUMENT;
        return o;
    default:
        *status = pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: %d is not a pyffi_embed_kind", who,
                              (int)v->kind);
        return NULL;
    }
    if (!o)
        *status = python_failed(who);
    return o;
}

/* @p o (borrowed) as a value of kind @p want into *out. GIL held. */
static pyffi_status value_of(pyffi_embed_value *out, pyffi_embed_kind want, PyObject *o,
                             const char *who)
{
    pyffi_embed_value v;
    pyffi_status status;
    memset(&v, 0, sizeof v);
    v.kind = want;
    switch (want) {
    case PYFFI_EMBED_INT64: status = int64_of(&v.as.i64, o, who); break;
    case PYFFI_EMBED_UINT64: status = uint64_of(&v.as.u64, o, who); break;
    case PYFFI_EMBED_DOUBLE: status = double_of(&v.as.f64, o, who); break;
    case PYFFI_EMBED_BOOL: status = bool_of(&v.as.b, o, who); break;
    case PYFFI_EMBED_NONE:
        status = o == Py_None ? PYFFI_OK : wrong_type(who, "None", o);
        break;
    case PYFFI_EMBED_STR:
    case PYFFI_EMBED_BYTES: {
        char *p = NULL;
        status = want == PYFFI_EMBED_STR ? str_of(&p, &v.as.text.len, o, who)
                                         : bytes_of(&p, &v.as.text.len, o, who);
        v.as.text.ptr = p;
        break;
    }
    case PYFFI_EMBED_OBJECT: status = handle_new(&v.as.obj, Py_NewRef(o), who); break;
    default:
        status = pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: %d is not a pyffi_embed_kind", who,
                             (int)want);
    }
    if (status == PYFFI_OK)
        *out = v;
    return status;
}

pyffi_status pyffi_embed_call_values(pyffi_embed_value *out, pyffi_embed_kind want, pyffi_obj fn,
                                     const pyffi_embed_value *args, size_t nargs)
{
    ENTER("pyffi_embed_call_values");
    NEED(out);
    if (nargs && !args)
        LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: args is NULL, nargs %zu", who_, nargs));
    if (nargs > 16)
        LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: %zu arguments, more than 16 (build them "
                          "as handles and use pyffi_embed_call)", who_, nargs));
    PyObject *f = HANDLE(fn);
    if (!f)
        LEAVE(PYFFI_INVALID_ARGUMENT);
    PyObject *vec[16];
    pyffi_status status = PYFFI_OK;
    size_t made = 0;
    for (; made < nargs; made++) {
        vec[made] = object_of(&args[made], &status, who_);
        if (!vec[made])
            break;
    }
    PyObject *r = made == nargs ? PyObject_Vectorcall(f, vec, nargs, NULL) : NULL;
    for (size_t k = 0; k < made; k++)
        Py_DECREF(vec[k]);
    if (made < nargs)
        LEAVE(status);
    if (!r)
        LEAVE(python_failed(who_));
    status = value_of(out, want, r, who_);
    Py_DECREF(r);
    LEAVE(status);
}

/* ---- native functions called by Python ----------------------------------------- */

typedef struct native {
    PyMethodDef def;
    pyffi_embed_native fn;
    void *data;
    char name[];
} native;

static const char NATIVE_KEY[] = "pyffi.embed.native";

static void native_destroy(PyObject *capsule)
{
    free(PyCapsule_GetPointer(capsule, NATIVE_KEY));
}

static PyObject *native_call(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    native *n = PyCapsule_GetPointer(self, NATIVE_KEY);
    if (!n)
        return NULL;
    pyffi_obj small[8], *handles = small;
    if (nargs > 8 && !(handles = PyMem_Malloc((size_t)nargs * sizeof *handles)))
        return PyErr_NoMemory();
    Py_ssize_t made = 0;
    for (; made < nargs; made++) {
        if (handle_new(&handles[made], Py_NewRef(args[made]), n->name) != PYFFI_OK)
            break;
    }
    frame f = {tls.frame, NULL, NULL};
    pyffi_obj out = 0;
    pyffi_status status = PYFFI_OK;
    unsigned long failures = pyffi__failures();
    if (made == nargs) {
        tls.frame = &f;
        status = n->fn(&out, handles, (size_t)nargs, n->data);
        tls.frame = f.up;
    } else {
        PyErr_NoMemory();
    }
    int released_arg = 0;
    for (Py_ssize_t k = 0; k < made; k++) {
        PyObject *o = handle_take(handles[k], n->name);
        if (o)
            Py_DECREF(o);
        else
            released_arg = 1;
    }
    if (handles != small)
        PyMem_Free(handles);
    PyObject *result = NULL;
    if (made < nargs) {
        /* MemoryError set above */
    } else if (f.pending) {
        restore_exception(f.pending);
        f.pending = NULL;
    } else if (status != PYFFI_OK) {
        if (status == PYFFI_PYTHON && f.last) {
            restore_exception(f.last);
            f.last = NULL;
        } else {
            /* the message of this call's failure, never one left by an earlier call */
            int said = pyffi__failures() != failures;
            PyErr_Format(status == PYFFI_NOMEM ? PyExc_MemoryError : PyExc_RuntimeError,
                         "%s: %s: %s", n->name, pyffi_status_name(status),
                         said ? pyffi_error_last() : pyffi_status_message(status));
        }
    } else if (released_arg) {
        PyErr_Format(PyExc_RuntimeError, "%s released an argument handle; arguments are "
                     "borrowed (pyffi_embed_dup keeps one)", n->name);
    } else if (out) {
        result = handle_take(out, n->name);
        if (!result) { /* PyErr_Format knows no %llx before Python 3.12: formatted here */
            char hex[32];
            snprintf(hex, sizeof hex, "0x%llx", (unsigned long long)out);
            PyErr_Format(PyExc_RuntimeError, "%s returned handle %s, which is not live: %s",
                         n->name, hex, pyffi_error_last());
        }
        out = 0;
    } else {
        result = Py_NewRef(Py_None);
    }
    if (out) { /* a result made on a failure path: not leaked */
        PyObject *o = handle_take(out, n->name);
        Py_XDECREF(o);
    }
    Py_XDECREF(f.pending);
    Py_XDECREF(f.last);
    return result;
}

pyffi_status pyffi_embed_function(pyffi_obj *out, const char *name, pyffi_embed_native fn,
                                  void *data)
{
    ENTER("pyffi_embed_function");
    NEED(out);
    NEED(name);
    NEED(fn);
    size_t len = strlen(name);
    native *n = malloc(sizeof *n + len + 1);
    if (!n)
        LEAVE(pyffi__fail(PYFFI_NOMEM, "%s: no memory", who_));
    memcpy(n->name, name, len + 1);
    n->def.ml_name = n->name;
    n->def.ml_meth = (PyCFunction)(void (*)(void))native_call;
    n->def.ml_flags = METH_FASTCALL;
    n->def.ml_doc = NULL;
    n->fn = fn;
    n->data = data;
    PyObject *cap = PyCapsule_New(n, NATIVE_KEY, native_destroy);
    if (!cap) {
        free(n);
        LEAVE(python_failed(who_));
    }
    PyObject *f = PyCFunction_NewEx(&n->def, cap, NULL);
    Py_DECREF(cap); /* the function holds it, and so the PyMethodDef */
    LEAVE(f ? handle_new(out, f, who_) : python_failed(who_));
}

/* builtins.NAME, or module.Class for a dotted name (a new reference), or NULL. */
static PyObject *exception_class(const char *type_name)
{
    const char *dot = strrchr(type_name, '.');
    PyObject *cls;
    if (dot) {
        PyObject *mod = PyImport_ImportModule("importlib");
        PyObject *modname = PyUnicode_FromStringAndSize(type_name, dot - type_name);
        PyObject *m = mod && modname ? PyObject_CallMethod(mod, "import_module", "O", modname) : NULL;
        cls = m ? PyObject_GetAttrString(m, dot + 1) : NULL;
        Py_XDECREF(m);
        Py_XDECREF(modname);
        Py_XDECREF(mod);
    } else {
        cls = PyDict_GetItemString(PyEval_GetBuiltins(), type_name);
        Py_XINCREF(cls);
    }
    PyErr_Clear();
    if (cls && !PyExceptionClass_Check(cls))
        Py_CLEAR(cls);
    return cls;
}

pyffi_status pyffi_embed_raise(const char *type_name, const char *message)
{
    ENTER("pyffi_embed_raise");
    NEED(type_name);
    NEED(message);
    if (!tls.frame)
        LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: no native function called by Python "
                          "runs on this thread", who_));
    PyObject *cls = exception_class(type_name);
    if (!cls)
        LEAVE(pyffi__fail(PYFFI_INVALID_ARGUMENT, "%s: '%s' is not an exception class", who_,
                          type_name));
    pyffi_status status;
    PyObject *msg = decode(message, strlen(message), &status, who_);
    PyObject *exc = msg ? PyObject_CallOneArg(cls, msg) : NULL;
    Py_DECREF(cls);
    Py_XDECREF(msg);
    if (!msg)
        LEAVE(status);
    if (!exc)
        LEAVE(python_failed(who_));
    Py_XSETREF(tls.frame->pending, exc);
    LEAVE(PYFFI_OK);
}
