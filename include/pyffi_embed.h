/**
 * @file pyffi_embed.h
 * @brief Native programs calling Python: pyffi's embedding library.
 *
 * A C or Rust program starts Python, runs source code, imports modules,
 * calls Python callables with native values and reads the results back,
 * through libpyffi_embed.so, installed in the pyffi package next to
 * libpyffi.so. `python -m pyffi --cflags --libs` prints what a build needs:
 *
 *     cc prog.c $(python -m pyffi --cflags --libs)
 *
 * The conventions are pyffi.h's (included below, and exported by the same
 * library): the pyffi_ prefix, ::pyffi_status results, out parameters first
 * and written only on success, an Ownership line per function, and error
 * detail per thread (pyffi_error_last(), plus a Python exception's parts).
 *
 * The model:
 *  - A Python object held by native code is a *handle* (::pyffi_obj), a
 *    64-bit slot number and generation, never a pointer. Each handle a
 *    function hands out is released exactly once with pyffi_embed_release().
 *    A handle released twice, used after release, or never made by pyffi is
 *    PYFFI_INVALID_ARGUMENT naming it: detected, never a crash. 0 is never a
 *    handle.
 *  - The handle table lives inside the interpreter; the library keeps no
 *    Python state of its own.
 *  - Every function takes and releases the GIL itself, so any native thread
 *    may call any function at any time. pyffi_embed_enter() holds the GIL
 *    across several calls (what PyO3's Python::attach does): the calls inside
 *    then cost no GIL hand-off.
 *  - A Python exception is PYFFI_PYTHON plus, on that thread, its type name,
 *    message and formatted traceback.
 *  - The interpreter starts on the first call (or pyffi_embed_start()), with
 *    the environment's PYTHONPATH and without Python's signal handlers (the
 *    program keeps SIGINT). Installed in a venv, this library starts Python
 *    as that venv's python3 would (its sys.prefix and packages); elsewhere
 *    the site-packages holding it is added to sys.path. It runs until the
 *    process exits. A program that already runs Python (or a Python process loading
 *    this library) uses that interpreter.
 */
#ifndef PYFFI_EMBED_H
#define PYFFI_EMBED_H

#include "pyffi_common.h"

#if defined(__cplusplus) && !defined(PYFFI_CDEF)
extern "C" {
#endif

/** A Python object held by native code; 0 is "no object". */
typedef uint64_t pyffi_obj;

/** Options read once, before the interpreter starts (see pyffi_embed_start()). */
typedef struct pyffi_embed_options {
    /** Extra sys.path entries (UTF-8, NUL-terminated), searched first, in order. */
    const char *const *paths;
    /** The number of entries in @p paths. */
    size_t npaths;
    /** Nonzero: read PYTHONPATH and the other PYTHON* variables, as `python` does. */
    int use_environment;
} pyffi_embed_options;

/** The default options: no extra path, the environment read. */
#define PYFFI_EMBED_OPTIONS_INIT {NULL, 0, 1}

/* ------------------------------------------------------------------------ */
/* Start-up and the GIL                                                      */
/* ------------------------------------------------------------------------ */

/**
 * Start the interpreter, once per process. The first call decides; later
 * calls (and a process that runs Python already) only add @p options' paths
 * to sys.path. Every other function starts it with the default options.
 *
 * @param options NULL for the defaults.
 * @return PYFFI_OK; PYFFI_PYTHON if Python could not start or a path could
 *         not be added (the reason in pyffi_error_last()).
 * Ownership: nothing is kept from @p options after the call.
 */
PYFFI_API pyffi_status pyffi_embed_start(const pyffi_embed_options *options);

/** What pyffi_embed_enter() returns, to give back to pyffi_embed_leave(). The
 * fields are pyffi's: they let pyffi_embed_leave() tell a scope it made from any
 * other value. */
typedef struct pyffi_embed_scope {
    int gil;            /* what to give back to Python */
    unsigned depth;     /* its place among the thread's open scopes: 1 is the outermost */
    const void *thread; /* the thread that entered it; NULL: no scope */
} pyffi_embed_scope;

/**
 * Take the GIL for the calling thread until pyffi_embed_leave(): the pyffi
 * calls in between skip their own hand-off. Scopes nest. Other threads'
 * Python calls wait while a scope is held, so keep it short.
 *
 * @return PYFFI_OK, or the failure of starting Python (then *out is no scope:
 *         leaving it fails).
 * Ownership: *out is given back to pyffi_embed_leave() exactly once, on the
 * same thread, inner scopes before outer ones.
 */
PYFFI_API pyffi_status pyffi_embed_enter(pyffi_embed_scope *out);

/**
 * End a scope begun by pyffi_embed_enter() on this thread.
 *
 * @return PYFFI_OK; PYFFI_INVALID_ARGUMENT, with nothing changed, for what is
 *         not this thread's innermost open scope: a scope left already, one
 *         entered on another thread, one whose pyffi_embed_enter() failed, one
 *         made up, or an outer scope while an inner one is open.
 * Ownership: takes @p scope.
 */
PYFFI_API pyffi_status pyffi_embed_leave(pyffi_embed_scope scope);

/* ------------------------------------------------------------------------ */
/* Running code                                                              */
/* ------------------------------------------------------------------------ */

/**
 * Run @p len bytes of UTF-8 source in module @p module's namespace (the
 * module is created if no module of that name is imported; NULL is
 * "__main__").
 *
 * @return PYFFI_OK; PYFFI_PYTHON if the code raised; PYFFI_INVALID_ARGUMENT
 *         for a NUL byte in the source.
 * Ownership: the caller keeps @p module and @p src.
 */
PYFFI_API pyffi_status pyffi_embed_run(const char *module, const char *src, size_t len);

/**
 * Evaluate the expression in @p src (@p len bytes of UTF-8) in module
 * @p module's namespace (NULL: "__main__").
 * Ownership: *out is a new handle; the caller keeps @p module and @p src.
 */
PYFFI_API pyffi_status pyffi_embed_eval(pyffi_obj *out, const char *module, const char *src,
                                        size_t len);

/**
 * import @p name (@p len bytes of UTF-8, dotted names allowed).
 * Ownership: *out is a new handle to the module.
 */
PYFFI_API pyffi_status pyffi_embed_import(pyffi_obj *out, const char *name, size_t len);

/**
 * getattr(@p obj, @p name) (@p len bytes of UTF-8).
 * Ownership: *out is a new handle; @p obj stays the caller's.
 */
PYFFI_API pyffi_status pyffi_embed_getattr(pyffi_obj *out, pyffi_obj obj, const char *name,
                                           size_t len);

/**
 * @p fn(*args, **kwargs).
 *
 * @param args @p nargs handles (NULL when @p nargs is 0).
 * @param kwargs a dict handle with str keys, or 0 for none.
 * @return PYFFI_OK; PYFFI_PYTHON if the call raised; PYFFI_INVALID_ARGUMENT
 *         for a handle that is not live or a @p kwargs that is not a dict.
 * Ownership: *out is a new handle; @p fn, @p args and @p kwargs stay the
 * caller's.
 */
PYFFI_API pyffi_status pyffi_embed_call(pyffi_obj *out, pyffi_obj fn, const pyffi_obj *args,
                                        size_t nargs, pyffi_obj kwargs);

/* ------------------------------------------------------------------------ */
/* Values from C                                                             */
/* ------------------------------------------------------------------------ */

/** int from int64_t. Ownership: *out is a new handle. */
PYFFI_API pyffi_status pyffi_embed_int64(pyffi_obj *out, int64_t v);
/** int from uint64_t. Ownership: *out is a new handle. */
PYFFI_API pyffi_status pyffi_embed_uint64(pyffi_obj *out, uint64_t v);
/** float from double. Ownership: *out is a new handle. */
PYFFI_API pyffi_status pyffi_embed_double(pyffi_obj *out, double v);
/** True or False. Ownership: *out is a new handle. */
PYFFI_API pyffi_status pyffi_embed_bool(pyffi_obj *out, bool v);
/** None. Ownership: *out is a new handle. */
PYFFI_API pyffi_status pyffi_embed_none(pyffi_obj *out);

/**
 * str from @p len bytes of UTF-8 (NUL bytes allowed).
 * @return PYFFI_OK, or PYFFI_UTF8 naming the offset of the first invalid byte.
 * Ownership: *out is a new handle; the caller keeps @p s.
 */
PYFFI_API pyffi_status pyffi_embed_str(pyffi_obj *out, const char *s, size_t len);

/** bytes from @p len bytes. Ownership: *out is a new handle; the caller keeps @p p. */
PYFFI_API pyffi_status pyffi_embed_bytes(pyffi_obj *out, const void *p, size_t len);

/** A new empty list. Ownership: *out is a new handle. */
PYFFI_API pyffi_status pyffi_embed_list(pyffi_obj *out);

/**
 * list.append(@p item) (@p list must be a list: PYFFI_INVALID_ARGUMENT otherwise).
 * Ownership: both handles stay the caller's; the list holds its own reference.
 */
PYFFI_API pyffi_status pyffi_embed_list_append(pyffi_obj list, pyffi_obj item);

/** A new empty dict. Ownership: *out is a new handle. */
PYFFI_API pyffi_status pyffi_embed_dict(pyffi_obj *out);

/**
 * dict[@p key] = @p value, the key @p len bytes of UTF-8 (@p dict must be a
 * dict: PYFFI_INVALID_ARGUMENT otherwise).
 * Ownership: both handles stay the caller's; the dict holds its own reference.
 */
PYFFI_API pyffi_status pyffi_embed_dict_set(pyffi_obj dict, const char *key, size_t len,
                                            pyffi_obj value);

/**
 * A second handle to the object of @p obj (released on its own).
 * Ownership: *out is a new handle; @p obj stays the caller's.
 */
PYFFI_API pyffi_status pyffi_embed_dup(pyffi_obj *out, pyffi_obj obj);

/* ------------------------------------------------------------------------ */
/* Values back to C                                                          */
/* ------------------------------------------------------------------------ */

/*
 * With pyffi's checks: an int that does not fit is PYFFI_OVERFLOW naming the
 * value; a wrong type is PYFFI_INVALID_ARGUMENT naming the expected and the
 * given type (bool is not taken for an int, nor int for a bool).
 */

/** An int that fits int64_t. Ownership: none; @p obj stays the caller's. */
PYFFI_API pyffi_status pyffi_embed_to_int64(int64_t *out, pyffi_obj obj);
/** An int that fits uint64_t. Ownership: none; @p obj stays the caller's. */
PYFFI_API pyffi_status pyffi_embed_to_uint64(uint64_t *out, pyffi_obj obj);
/**
 * A float, or an int exactly representable as a double (else PYFFI_OVERFLOW).
 * Ownership: none; @p obj stays the caller's.
 */
PYFFI_API pyffi_status pyffi_embed_to_double(double *out, pyffi_obj obj);
/** True or False. Ownership: none; @p obj stays the caller's. */
PYFFI_API pyffi_status pyffi_embed_to_bool(bool *out, pyffi_obj obj);

/**
 * A str as UTF-8, NUL-terminated; *len (if @p len is not NULL) its length
 * without the NUL. A str holding a lone surrogate is PYFFI_UTF8.
 * Ownership: *out is the caller's, freed with pyffi_string_free().
 */
PYFFI_API pyffi_status pyffi_embed_to_str(char **out, size_t *len, pyffi_obj obj);

/**
 * The bytes of a bytes-like object (bytes, bytearray, memoryview...),
 * followed by a NUL not counted in *len.
 * Ownership: *out is the caller's, freed with pyffi_string_free().
 */
PYFFI_API pyffi_status pyffi_embed_to_bytes(char **out, size_t *len, pyffi_obj obj);

/* ------------------------------------------------------------------------ */
/* One-shot calls with native values                                         */
/* ------------------------------------------------------------------------ */

/** What a ::pyffi_embed_value holds. */
typedef enum pyffi_embed_kind {
    PYFFI_EMBED_INT64 = 1, /**< as.i64: an int */
    PYFFI_EMBED_UINT64,    /**< as.u64: an int */
    PYFFI_EMBED_DOUBLE,    /**< as.f64: a float */
    PYFFI_EMBED_BOOL,      /**< as.b: True or False */
    PYFFI_EMBED_NONE,      /**< nothing: None */
    PYFFI_EMBED_STR,       /**< as.text: UTF-8 text, a str */
    PYFFI_EMBED_BYTES,     /**< as.text: bytes */
    PYFFI_EMBED_OBJECT     /**< as.obj: a handle, any object */
} pyffi_embed_kind;

/** A native value passed to or returned from pyffi_embed_call_values(). */
typedef struct pyffi_embed_value {
    pyffi_embed_kind kind;
    union {
        int64_t i64;
        uint64_t u64;
        double f64;
        bool b;
        struct {
            const char *ptr;
            size_t len;
        } text;
        pyffi_obj obj;
    } as;
} pyffi_embed_value;

/**
 * @p fn(*args) in one step, the GIL taken once: each argument is made from
 * its native value, and the result is read back as kind @p want, with the
 * same checks as the pyffi_embed_to_*() readers (PYFFI_EMBED_NONE: the
 * result must be None). What PyObject_CallFunction(fn, "LL", a, b) plus a
 * conversion does with the raw C API, with no handle to release.
 *
 * @param args at most 16 values (more: use handles and pyffi_embed_call()).
 * @return PYFFI_OK; PYFFI_PYTHON if the call raised; PYFFI_OVERFLOW or
 *         PYFFI_INVALID_ARGUMENT if the result is not a @p want.
 * Ownership: the caller keeps @p args (their text and handles). For
 * PYFFI_EMBED_STR and PYFFI_EMBED_BYTES, out->as.text.ptr is the caller's,
 * NUL-terminated, freed with pyffi_string_free(); for PYFFI_EMBED_OBJECT,
 * out->as.obj is a new handle.
 */
PYFFI_API pyffi_status pyffi_embed_call_values(pyffi_embed_value *out, pyffi_embed_kind want,
                                               pyffi_obj fn, const pyffi_embed_value *args,
                                               size_t nargs);

/**
 * Release a handle. Releasing 0 is a no-op.
 * @return PYFFI_OK, or PYFFI_INVALID_ARGUMENT for a handle released already
 *         or never made by pyffi (nothing is touched then).
 * Ownership: takes @p obj.
 */
PYFFI_API pyffi_status pyffi_embed_release(pyffi_obj obj);

/* ------------------------------------------------------------------------ */
/* Python exceptions                                                         */
/* ------------------------------------------------------------------------ */

/*
 * The Python exception behind the last PYFFI_PYTHON on the calling thread:
 * its type's qualified name ("ZeroDivisionError", "json.decoder.JSONDecodeError"
 * has the name "JSONDecodeError"), str(exception), and the formatted traceback
 * (traceback.format_exception). Each "" before any PYFFI_PYTHON; long texts
 * are cut at 4 KiB (message) and 16 KiB (traceback).
 * Ownership: the library's, per thread; valid until the next pyffi call on
 * that thread.
 */
PYFFI_API const char *pyffi_embed_error_type(void);
PYFFI_API const char *pyffi_embed_error_message(void);
PYFFI_API const char *pyffi_embed_error_traceback(void);

/* ------------------------------------------------------------------------ */
/* Native functions called by Python                                         */
/* ------------------------------------------------------------------------ */

/**
 * A native function Python code can call (see pyffi_embed_function()).
 *
 * @param out the result: leave it 0 for None, or set a handle the function
 *        made (the result takes it: do not release it).
 * @param args the @p nargs positional arguments, borrowed for the call (do
 *        not release them; pyffi_embed_dup() one to keep it).
 * @param data the pointer given to pyffi_embed_function().
 * @return PYFFI_OK; any other status raises in the Python caller: the
 *         exception set by pyffi_embed_raise(), or else the Python exception
 *         behind a PYFFI_PYTHON this function got from a pyffi call, or else
 *         RuntimeError with the status name and pyffi_error_last().
 */
typedef pyffi_status (*pyffi_embed_native)(pyffi_obj *out, const pyffi_obj *args, size_t nargs,
                                           void *data);

/**
 * A Python callable named @p name calling @p fn(out, args, nargs, @p data).
 * Ownership: *out is a new handle; @p data stays the caller's and must stay
 * valid as long as Python may call the function.
 */
PYFFI_API pyffi_status pyffi_embed_function(pyffi_obj *out, const char *name,
                                            pyffi_embed_native fn, void *data);

/**
 * Raise @p type_name(@p message) in the Python code calling the native
 * function that runs on this thread, when that function returns (whatever
 * status it returns). @p type_name is a builtin exception ("ValueError") or
 * a dotted "module.Class" naming an exception class.
 *
 * @return PYFFI_OK; PYFFI_INVALID_ARGUMENT when no native function called
 *         by Python runs on this thread, or for a name that is not an
 *         exception class; PYFFI_UTF8 for a @p message that is not UTF-8.
 * Ownership: the caller keeps both strings.
 */
PYFFI_API pyffi_status pyffi_embed_raise(const char *type_name, const char *message);

#if defined(__cplusplus) && !defined(PYFFI_CDEF)
}
#endif

#endif /* PYFFI_EMBED_H */
