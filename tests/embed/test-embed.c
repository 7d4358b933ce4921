/*
 * A native program calling Python through libpyffi_embed.so: run code,
 * import json and call json.dumps on values built in C, call a user module
 * found on an added path, Python exceptions with their parts, the value
 * checks (2**70 into an int64 is PYFFI_OVERFLOW), handles released twice,
 * and native functions Python calls back, raising into Python.
 *   test-embed DIR [--installed]    (DIR holds embedmod.py)
 * --installed (pytest, against the wheel): the site-packages holding pyffi
 * is on the embedded sys.path, so `import pyffi` works from a venv.
 */
#include "check.h"
#include "pyffi_embed.h"

#include <pthread.h>

#include <stdint.h>
#include <stdlib.h>

/* A call that must succeed: on failure, show its status and message. */
#define OK(call)                                                                     \
    do {                                                                             \
        pyffi_status s_ = (call);                                                    \
        if (s_ != PYFFI_OK) {                                                        \
            fprintf(stderr, "%s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #call,      \
                    pyffi_status_name(s_), pyffi_error_last());                      \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

/* A call that must fail with @p status and a message holding @p text. */
#define FAILS(call, status, text)                                                    \
    do {                                                                             \
        pyffi_status s_ = (call);                                                    \
        if (s_ != (status)) {                                                        \
            fprintf(stderr, "%s:%d: %s -> %s, want %s\n", __FILE__, __LINE__, #call, \
                    pyffi_status_name(s_), #status);                                 \
            check_failures++;                                                        \
        } else if (!strstr(pyffi_error_last(), (text))) {                            \
            fprintf(stderr, "%s:%d: %s: message \"%s\" lacks \"%s\"\n", __FILE__,     \
                    __LINE__, #call, pyffi_error_last(), (text));                    \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

#define CONTAINS(haystack, needle)                                                   \
    do {                                                                             \
        const char *h_ = (haystack);                                                 \
        if (!h_ || !strstr(h_, (needle))) {                                          \
            fprintf(stderr, "%s:%d: \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,       \
                    h_ ? h_ : "(null)",                                              \
                    (needle));                                                       \
            check_failures++;                                                        \
        }                                                                            \
    } while (0)

/* A string literal and its length, for the (text, len) parameters. */
#define S(lit) lit, sizeof lit - 1

/* str(obj) as C text, compared with @p want; releases nothing. */
static void check_text(pyffi_obj obj, const char *want, int line)
{
    char *text = NULL;
    size_t len = 0;
    pyffi_status s = pyffi_embed_to_str(&text, &len, obj);
    if (s != PYFFI_OK) {
        fprintf(stderr, "line %d: to_str -> %s: %s\n", line, pyffi_status_name(s),
                pyffi_error_last());
        check_failures++;
        return;
    }
    if (len != strlen(want) || strcmp(text, want) != 0) {
        fprintf(stderr, "line %d: got \"%s\", want \"%s\"\n", line, text, want);
        check_failures++;
    }
    pyffi_string_free(text);
}
#define CHECK_TEXT(obj, want) check_text((obj), (want), __LINE__)

static pyffi_obj attr(const char *module, const char *name)
{
    pyffi_obj mod = 0, a = 0;
    OK(pyffi_embed_import(&mod, module, strlen(module)));
    OK(pyffi_embed_getattr(&a, mod, name, strlen(name)));
    OK(pyffi_embed_release(mod));
    return a;
}

static void test_run_and_eval(void)
{
    pyffi_obj v = 0;
    int64_t n = 0;
    OK(pyffi_embed_run(NULL, S("x = 6 * 7\ndef add(a, b):\n    return a + b\n")));
    OK(pyffi_embed_eval(&v, "__main__", S("x")));
    OK(pyffi_embed_to_int64(&n, v));
    CHECK(n == 42);
    OK(pyffi_embed_release(v));
    /* A module of its own, created by the first run. */
    OK(pyffi_embed_run("settings", S("name = 'pyffi'\ncount = len(name)\n")));
    OK(pyffi_embed_eval(&v, "settings", S("name.upper() * count")));
    CHECK_TEXT(v, "PYFFIPYFFIPYFFIPYFFIPYFFI");
    OK(pyffi_embed_release(v));
    FAILS(pyffi_embed_eval(&v, "__main__", S("name")), PYFFI_PYTHON,
          "pyffi_embed_eval: NameError: name 'name' is not defined");
    /* The source's explicit length: what follows it is not read. */
    OK(pyffi_embed_eval(&v, NULL, "x + 1; garbage", 5));
    OK(pyffi_embed_to_int64(&n, v));
    CHECK(n == 43);
    OK(pyffi_embed_release(v));
    FAILS(pyffi_embed_run(NULL, "x = 1\0 + 2", 10), PYFFI_INVALID_ARGUMENT,
          "NUL byte at offset 5");
    FAILS(pyffi_embed_run(NULL, NULL, 3), PYFFI_INVALID_ARGUMENT, "src is NULL");
    FAILS(pyffi_embed_eval(NULL, NULL, S("1")), PYFFI_INVALID_ARGUMENT, "out is NULL");
    FAILS(pyffi_embed_run(NULL, S("def f(:\n")), PYFFI_PYTHON, "SyntaxError");
    CHECK_STR(pyffi_embed_error_type(), "SyntaxError");
}

/* json.dumps([1, "hé", 2.5, True, None, {"k": [-7, 2**64 - 1]}, b"\0"[:0] ...]) */
static void test_json_dumps(void)
{
    pyffi_obj dumps = attr("json", "dumps");
    pyffi_obj list = 0, inner = 0, d = 0, v[8] = {0}, out = 0, kwargs = 0, yes = 0;
    OK(pyffi_embed_list(&list));
    OK(pyffi_embed_int64(&v[0], 1));
    OK(pyffi_embed_str(&v[1], S("h\xc3\xa9")));
    OK(pyffi_embed_double(&v[2], 2.5));
    OK(pyffi_embed_bool(&v[3], true));
    OK(pyffi_embed_none(&v[4]));
    for (int k = 0; k < 5; k++)
        OK(pyffi_embed_list_append(list, v[k]));
    OK(pyffi_embed_dict(&d));
    OK(pyffi_embed_list(&inner));
    OK(pyffi_embed_int64(&v[5], -7));
    OK(pyffi_embed_uint64(&v[6], UINT64_MAX));
    OK(pyffi_embed_list_append(inner, v[5]));
    OK(pyffi_embed_list_append(inner, v[6]));
    OK(pyffi_embed_dict_set(d, S("k"), inner));
    OK(pyffi_embed_dict_set(d, S("\xe5\x90\x8d"), v[1]));
    OK(pyffi_embed_list_append(list, d));
    OK(pyffi_embed_call(&out, dumps, &list, 1, 0));
    CHECK_TEXT(out, "[1, \"h\\u00e9\", 2.5, true, null, "
                    "{\"k\": [-7, 18446744073709551615], \"\\u540d\": \"h\\u00e9\"}]");
    OK(pyffi_embed_release(out));
    /* Keyword arguments. */
    OK(pyffi_embed_dict(&kwargs));
    OK(pyffi_embed_bool(&yes, true));
    OK(pyffi_embed_dict_set(kwargs, S("sort_keys"), yes));
    OK(pyffi_embed_bool(&v[7], false));
    OK(pyffi_embed_dict_set(kwargs, S("ensure_ascii"), v[7]));
    OK(pyffi_embed_call(&out, dumps, &d, 1, kwargs));
    CHECK_TEXT(out, "{\"k\": [-7, 18446744073709551615], \"\xe5\x90\x8d\": \"h\xc3\xa9\"}");
    OK(pyffi_embed_release(out));
    /* Wrong containers and a kwargs that is not a dict. */
    FAILS(pyffi_embed_list_append(d, v[0]), PYFFI_INVALID_ARGUMENT, "expected list, got dict");
    FAILS(pyffi_embed_dict_set(list, S("k"), v[0]), PYFFI_INVALID_ARGUMENT,
          "expected dict, got list");
    FAILS(pyffi_embed_call(&out, dumps, &d, 1, list), PYFFI_INVALID_ARGUMENT,
          "kwargs: expected dict, got list");
    FAILS(pyffi_embed_dict_set(d, S("bad\xff"), v[0]), PYFFI_UTF8, "invalid UTF-8 at byte offset 3");
    FAILS(pyffi_embed_call(&out, dumps, NULL, 1, 0), PYFFI_INVALID_ARGUMENT, "args is NULL");
    OK(pyffi_embed_release(yes));
    OK(pyffi_embed_release(kwargs));
    for (int k = 0; k < 8; k++)
        OK(pyffi_embed_release(v[k]));
    OK(pyffi_embed_release(inner));
    OK(pyffi_embed_release(d));
    OK(pyffi_embed_release(list));
    OK(pyffi_embed_release(dumps));
}

/* embedmod.py, found on the path main() added. */
static void test_user_module(void)
{
    pyffi_obj greet = attr("embedmod", "greet"), name = 0, out = 0, kwargs = 0, q = 0;
    OK(pyffi_embed_str(&name, S("C")));
    OK(pyffi_embed_call(&out, greet, &name, 1, 0));
    CHECK_TEXT(out, "hello, C!");
    OK(pyffi_embed_release(out));
    OK(pyffi_embed_dict(&kwargs));
    OK(pyffi_embed_str(&q, S("?")));
    OK(pyffi_embed_dict_set(kwargs, S("punctuation"), q));
    OK(pyffi_embed_call(&out, greet, &name, 1, kwargs));
    CHECK_TEXT(out, "hello, C?");
    OK(pyffi_embed_release(out));
    FAILS(pyffi_embed_call(&out, greet, NULL, 0, 0), PYFFI_PYTHON,
          "TypeError: greet() missing 1 required positional argument: 'name'");
    OK(pyffi_embed_release(q));
    OK(pyffi_embed_release(kwargs));
    OK(pyffi_embed_release(name));
    OK(pyffi_embed_release(greet));
    pyffi_obj mod = 0;
    FAILS(pyffi_embed_import(&mod, S("no_such_module_here")), PYFFI_PYTHON,
          "ModuleNotFoundError: No module named 'no_such_module_here'");
    CHECK_STR(pyffi_embed_error_type(), "ModuleNotFoundError");
    FAILS(pyffi_embed_import(&mod, S("bad\xc3")), PYFFI_UTF8, "invalid UTF-8 at byte offset 3");
}

static void test_exceptions(void)
{
    pyffi_obj divide = attr("embedmod", "divide"), args[2] = {0}, out = 0;
    OK(pyffi_embed_int64(&args[0], 1));
    OK(pyffi_embed_int64(&args[1], 0));
    FAILS(pyffi_embed_call(&out, divide, args, 2, 0), PYFFI_PYTHON,
          "pyffi_embed_call: ZeroDivisionError: division by zero");
    CHECK(out == 0); /* outputs are written only on success */
    CHECK_STR(pyffi_embed_error_type(), "ZeroDivisionError");
    CHECK_STR(pyffi_embed_error_message(), "division by zero");
    const char *tb = pyffi_embed_error_traceback();
    CONTAINS(tb, "Traceback (most recent call last):");
    CONTAINS(tb, "embedmod.py\", line");
    CONTAINS(tb, "in divide");
    CONTAINS(tb, "return a / b");
    CONTAINS(tb, "ZeroDivisionError: division by zero\n");
    /* Raised by run code: the traceback names the source and shows its lines. */
    FAILS(pyffi_embed_run(NULL, S("def f():\n    raise KeyError('gone')\nf()\n")), PYFFI_PYTHON,
          "pyffi_embed_run: KeyError: 'gone'");
    CONTAINS(pyffi_embed_error_traceback(), "\", line 2, in f\n    raise KeyError('gone')\n");
    CONTAINS(pyffi_embed_error_traceback(), "File \"<pyffi_embed ");
    /* linecache keeps the lines of the last 256 sources only: memory stays bounded. */
    pyffi_obj n_cached = 0, v = 0;
    for (int k = 0; k < 600; k++) {
        OK(pyffi_embed_eval(&v, NULL, S("1")));
        OK(pyffi_embed_release(v));
    }
    OK(pyffi_embed_eval(&n_cached, NULL, S("sum(k.startswith('<pyffi_embed ') for k in "
                                           "__import__('linecache').cache)")));
    int64_t cached = 0;
    OK(pyffi_embed_to_int64(&cached, n_cached));
    CHECK(cached == 256);
    OK(pyffi_embed_release(n_cached));
    /* A qualified name for a nested class; the message of a custom exception. */
    FAILS(pyffi_embed_run(NULL, S("class Outer:\n    class Inner(Exception): pass\n"
                                  "raise Outer.Inner('deep')\n")),
          PYFFI_PYTHON, "Outer.Inner: deep");
    CHECK_STR(pyffi_embed_error_type(), "Outer.Inner");
    OK(pyffi_embed_release(args[0]));
    OK(pyffi_embed_release(args[1]));
    OK(pyffi_embed_release(divide));
}

static void test_conversions(void)
{
    pyffi_obj v = 0;
    int64_t i = 0;
    uint64_t u = 0;
    double d = 0;
    bool b = false;
    char *text = NULL;
    size_t len = 0;

    OK(pyffi_embed_eval(&v, NULL, S("2**70")));
    FAILS(pyffi_embed_to_int64(&i, v), PYFFI_OVERFLOW,
          "pyffi_embed_to_int64: 1180591620717411303424 does not fit int64_t");
    FAILS(pyffi_embed_to_uint64(&u, v), PYFFI_OVERFLOW, "1180591620717411303424 does not fit uint64_t");
    OK(pyffi_embed_to_double(&d, v));
    CHECK(d == 1180591620717411303424.0);
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("-2**63")));
    OK(pyffi_embed_to_int64(&i, v));
    CHECK(i == INT64_MIN);
    FAILS(pyffi_embed_to_uint64(&u, v), PYFFI_OVERFLOW, "-9223372036854775808 does not fit uint64_t");
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("2**64 - 1")));
    OK(pyffi_embed_to_uint64(&u, v));
    CHECK(u == UINT64_MAX);
    FAILS(pyffi_embed_to_int64(&i, v), PYFFI_OVERFLOW, "18446744073709551615 does not fit int64_t");
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("2**53 + 1")));
    FAILS(pyffi_embed_to_double(&d, v), PYFFI_OVERFLOW, "is not exactly a double");
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("10**400")));
    FAILS(pyffi_embed_to_double(&d, v), PYFFI_OVERFLOW, "does not fit double");
    CONTAINS(pyffi_error_last(), "00000...");  /* a long value is cut */
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("3")));
    OK(pyffi_embed_to_double(&d, v));
    CHECK(d == 3.0);
    FAILS(pyffi_embed_to_bool(&b, v), PYFFI_INVALID_ARGUMENT, "expected bool, got int");
    FAILS(pyffi_embed_to_str(&text, &len, v), PYFFI_INVALID_ARGUMENT, "expected str, got int");
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("0.1")));
    OK(pyffi_embed_to_double(&d, v));
    CHECK(d == 0.1);
    FAILS(pyffi_embed_to_int64(&i, v), PYFFI_INVALID_ARGUMENT,
          "pyffi_embed_to_int64: expected int, got float");
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("True")));
    OK(pyffi_embed_to_bool(&b, v));
    CHECK(b);
    FAILS(pyffi_embed_to_int64(&i, v), PYFFI_INVALID_ARGUMENT, "expected int, got bool");
    FAILS(pyffi_embed_to_double(&d, v), PYFFI_INVALID_ARGUMENT, "expected float, got bool");
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("'x'")));
    FAILS(pyffi_embed_to_int64(&i, v), PYFFI_INVALID_ARGUMENT, "expected int, got str");
    FAILS(pyffi_embed_to_bytes(&text, &len, v), PYFFI_INVALID_ARGUMENT,
          "expected a bytes-like object, got str");
    OK(pyffi_embed_release(v));
    /* Text both ways: NUL inside, UTF-8 checked, lone surrogates refused. */
    OK(pyffi_embed_str(&v, S("a\0b\xe2\x82\xac")));
    OK(pyffi_embed_to_str(&text, &len, v));
    CHECK(len == 6 && memcmp(text, "a\0b\xe2\x82\xac", 7) == 0);
    pyffi_string_free(text);
    OK(pyffi_embed_release(v));
    FAILS(pyffi_embed_str(&v, S("ab\xff")), PYFFI_UTF8, "pyffi_embed_str: invalid UTF-8 at byte offset 2");
    FAILS(pyffi_embed_str(&v, S("\xed\xa0\x80")), PYFFI_UTF8, "invalid UTF-8 at byte offset 0");
    OK(pyffi_embed_eval(&v, NULL, S("'ok\\ud800'")));
    FAILS(pyffi_embed_to_str(&text, &len, v), PYFFI_UTF8, "U+D800 at index 2 is a lone surrogate");
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_str(&v, NULL, 0));
    CHECK_TEXT(v, "");
    OK(pyffi_embed_release(v));
    /* Bytes: bytes, bytearray, memoryview; a non-contiguous view refused. */
    OK(pyffi_embed_bytes(&v, S("\0\xff\x01")));
    OK(pyffi_embed_to_bytes(&text, &len, v));
    CHECK(len == 3 && memcmp(text, "\0\xff\x01", 4) == 0);
    pyffi_string_free(text);
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("bytearray(b'xyz')")));
    OK(pyffi_embed_to_bytes(&text, NULL, v));
    CHECK_STR(text, "xyz");
    pyffi_string_free(text);
    OK(pyffi_embed_release(v));
    OK(pyffi_embed_eval(&v, NULL, S("memoryview(b'abcdef')[::2]")));
    FAILS(pyffi_embed_to_bytes(&text, &len, v), PYFFI_INVALID_ARGUMENT,
          "the memoryview's buffer is not contiguous bytes");
    OK(pyffi_embed_release(v));
    FAILS(pyffi_embed_to_int64(NULL, v), PYFFI_INVALID_ARGUMENT, "out is NULL");
    FAILS(pyffi_embed_bytes(&v, NULL, 2), PYFFI_INVALID_ARGUMENT, "p is NULL");
}

static void test_handles(void)
{
    pyffi_obj a = 0, b = 0, c = 0;
    int64_t n = 0;
    OK(pyffi_embed_int64(&a, 5));
    OK(pyffi_embed_dup(&b, a));
    CHECK(a != b);
    OK(pyffi_embed_release(a));
    OK(pyffi_embed_to_int64(&n, b)); /* the second handle still holds the object */
    CHECK(n == 5);
    FAILS(pyffi_embed_release(a), PYFFI_INVALID_ARGUMENT,
          "pyffi_embed_release: handle 0x");
    CONTAINS(pyffi_error_last(), "is not a live Python object (released, or never made by pyffi)");
    FAILS(pyffi_embed_to_int64(&n, a), PYFFI_INVALID_ARGUMENT, "is not a live Python object");
    /* The freed slot is reused with a new generation: the old handle stays dead. */
    OK(pyffi_embed_int64(&c, 9));
    CHECK((c & 0xffffffffu) == (a & 0xffffffffu) && c != a);
    FAILS(pyffi_embed_to_int64(&n, a), PYFFI_INVALID_ARGUMENT, "is not a live Python object");
    OK(pyffi_embed_to_int64(&n, c));
    CHECK(n == 9);
    FAILS(pyffi_embed_release((pyffi_obj)0x123456789), PYFFI_INVALID_ARGUMENT, "0x123456789");
    FAILS(pyffi_embed_release(~(pyffi_obj)0), PYFFI_INVALID_ARGUMENT, "is not a live");
    OK(pyffi_embed_release(0));
    pyffi_obj args[2] = {b, a}, out = 0, fn = attr("embedmod", "greet");
    FAILS(pyffi_embed_call(&out, fn, args, 2, 0), PYFFI_INVALID_ARGUMENT, "pyffi_embed_call: args[1]: handle");
    OK(pyffi_embed_release(fn));
    OK(pyffi_embed_release(b));
    OK(pyffi_embed_release(c));
}

/* ---- native functions Python calls ---------------------------------------------- */

/* sum(args) of ints, scaled by *data. */
static pyffi_status native_sum(pyffi_obj *out, const pyffi_obj *args, size_t nargs, void *data)
{
    int64_t total = 0;
    for (size_t k = 0; k < nargs; k++) {
        int64_t v;
        pyffi_status s = pyffi_embed_to_int64(&v, args[k]);
        if (s != PYFFI_OK)
            return s;
        total += v;
    }
    return pyffi_embed_int64(out, total * *(const int64_t *)data);
}

/* Raises the exception named by its first argument with the second as message. */
static pyffi_status native_raise(pyffi_obj *out, const pyffi_obj *args, size_t nargs, void *data)
{
    (void)out;
    (void)data;
    char *type = NULL, *message = NULL;
    pyffi_status s = nargs == 2 ? pyffi_embed_to_str(&type, NULL, args[0]) : PYFFI_INVALID_ARGUMENT;
    if (s == PYFFI_OK)
        s = pyffi_embed_to_str(&message, NULL, args[1]);
    if (s == PYFFI_OK)
        s = pyffi_embed_raise(type, message);
    pyffi_string_free(type);
    pyffi_string_free(message);
    /* The status returned does not matter once an exception is set. */
    return s == PYFFI_OK ? PYFFI_INVALID_ARGUMENT : s;
}

/* Calls embedmod.divide(1, 0) and passes its failure on. */
static pyffi_status native_divides(pyffi_obj *out, const pyffi_obj *args, size_t nargs, void *data)
{
    (void)args;
    (void)nargs;
    pyffi_obj divide = *(const pyffi_obj *)data, n[2] = {0};
    pyffi_status s = pyffi_embed_int64(&n[0], 1);
    if (s == PYFFI_OK)
        s = pyffi_embed_int64(&n[1], 0);
    if (s == PYFFI_OK)
        s = pyffi_embed_call(out, divide, n, 2, 0);
    pyffi_embed_release(n[0]);
    pyffi_embed_release(n[1]);
    return s;
}

/* Fails with a pyffi status and no Python exception. */
static pyffi_status native_overflows(pyffi_obj *out, const pyffi_obj *args, size_t nargs, void *data)
{
    (void)out;
    (void)data;
    int64_t v;
    return nargs == 1 ? pyffi_embed_to_int64(&v, args[0]) : PYFFI_INVALID_ARGUMENT;
}

/* Breaks the rule: releases a borrowed argument. */
static pyffi_status native_releases_arg(pyffi_obj *out, const pyffi_obj *args, size_t nargs,
                                        void *data)
{
    (void)out;
    (void)data;
    return nargs ? pyffi_embed_release(args[0]) : PYFFI_OK;
}

/* Breaks the rule: fails without a message (the caller must not show an older one). */
static pyffi_status native_silent(pyffi_obj *out, const pyffi_obj *args, size_t nargs, void *data)
{
    (void)out;
    (void)args;
    (void)nargs;
    (void)data;
    return PYFFI_OVERFLOW;
}

/* Breaks the rule: returns a handle it released. */
static pyffi_status native_dead(pyffi_obj *out, const pyffi_obj *args, size_t nargs, void *data)
{
    (void)args;
    (void)nargs;
    (void)data;
    pyffi_status s = pyffi_embed_int64(out, 7);
    return s == PYFFI_OK ? pyffi_embed_release(*out) : s;
}

static pyffi_obj call_py(pyffi_obj fn, pyffi_obj *args, size_t nargs)
{
    pyffi_obj out = 0;
    OK(pyffi_embed_call(&out, fn, args, nargs, 0));
    return out;
}

static void test_native_functions(void)
{
    static const int64_t ten = 10;
    pyffi_obj apply = attr("embedmod", "apply"), describe = attr("embedmod", "describe_failure");
    pyffi_obj divide = attr("embedmod", "divide");
    pyffi_obj sum = 0, raiser = 0, divides = 0, overflows = 0, releases = 0;
    OK(pyffi_embed_function(&sum, "native_sum", native_sum, (void *)&ten));
    OK(pyffi_embed_function(&raiser, "native_raise", native_raise, NULL));
    OK(pyffi_embed_function(&divides, "native_divides", native_divides, &divide));
    OK(pyffi_embed_function(&overflows, "native_overflows", native_overflows, NULL));
    OK(pyffi_embed_function(&releases, "native_releases_arg", native_releases_arg, NULL));

    /* Python calling C: embedmod.apply(native_sum, 1, 2, 3) == 60. */
    pyffi_obj args[4] = {sum, 0, 0, 0};
    for (int k = 1; k < 4; k++)
        OK(pyffi_embed_int64(&args[k], k));
    pyffi_obj r = call_py(apply, args, 4);
    int64_t n = 0;
    OK(pyffi_embed_to_int64(&n, r));
    CHECK(n == 60);
    OK(pyffi_embed_release(r));
    /* And from C through Python's own call. */
    r = call_py(sum, &args[1], 3);
    OK(pyffi_embed_to_int64(&n, r));
    CHECK(n == 60);
    OK(pyffi_embed_release(r));
    OK(pyffi_embed_run("embedmod", S("import sys\nNAME = apply.__name__\n")));

    /* C raising into Python: a builtin class and a user class by dotted name. */
    pyffi_obj d[3] = {raiser, 0, 0};
    OK(pyffi_embed_str(&d[1], S("ValueError")));
    OK(pyffi_embed_str(&d[2], S("bad input from C")));
    r = call_py(describe, d, 3);
    CHECK_TEXT(r, "ValueError: bad input from C");
    OK(pyffi_embed_release(r));
    OK(pyffi_embed_release(d[1]));
    OK(pyffi_embed_str(&d[1], S("embedmod.AppError")));
    r = call_py(describe, d, 3);
    CHECK_TEXT(r, "AppError: bad input from C");
    OK(pyffi_embed_release(r));
    /* Not an exception class: pyffi_embed_raise fails, and that status is raised. */
    OK(pyffi_embed_release(d[1]));
    OK(pyffi_embed_str(&d[1], S("len")));
    r = call_py(describe, d, 3);
    CHECK_TEXT(r, "RuntimeError: native_raise: PYFFI_INVALID_ARGUMENT: pyffi_embed_raise: "
                  "'len' is not an exception class");
    OK(pyffi_embed_release(r));
    /* Raised from C, through C's caller: pyffi_embed_call sees it as PYFFI_PYTHON. */
    pyffi_obj out = 0;
    OK(pyffi_embed_release(d[1]));
    OK(pyffi_embed_str(&d[1], S("KeyError")));
    FAILS(pyffi_embed_call(&out, raiser, &d[1], 2, 0), PYFFI_PYTHON,
          "pyffi_embed_call: KeyError: 'bad input from C'");

    /* A Python exception inside the native function reaches Python unchanged. */
    r = call_py(describe, &divides, 1);
    CHECK_TEXT(r, "ZeroDivisionError: division by zero");
    OK(pyffi_embed_release(r));
    FAILS(pyffi_embed_call(&out, divides, NULL, 0, 0), PYFFI_PYTHON, "ZeroDivisionError");
    CONTAINS(pyffi_embed_error_traceback(), "in divide");

    /* A pyffi status without an exception: RuntimeError/OverflowError text with its message. */
    pyffi_obj o[2] = {overflows, 0};
    OK(pyffi_embed_eval(&o[1], NULL, S("2**70")));
    r = call_py(describe, o, 2);
    CHECK_TEXT(r, "RuntimeError: native_overflows: PYFFI_OVERFLOW: pyffi_embed_to_int64: "
                  "1180591620717411303424 does not fit int64_t");
    OK(pyffi_embed_release(r));
    OK(pyffi_embed_release(o[1]));
    /* A failure without a message says so; it never shows an earlier call's message. */
    pyffi_obj silent = 0, dead = 0;
    OK(pyffi_embed_function(&silent, "native_silent", native_silent, NULL));
    OK(pyffi_embed_function(&dead, "native_dead", native_dead, NULL));
    FAILS(pyffi_embed_raise("ValueError", "x"), PYFFI_INVALID_ARGUMENT, "no native function");
    r = call_py(describe, &silent, 1);
    CHECK_TEXT(r, "RuntimeError: native_silent: PYFFI_OVERFLOW: value out of range");
    OK(pyffi_embed_release(r));
    /* A dead result handle is named, in hex (PyErr_Format before 3.12 has no %llx). */
    r = call_py(describe, &dead, 1);
    char *text = NULL;
    OK(pyffi_embed_to_str(&text, NULL, r));
    CONTAINS(text, "RuntimeError: native_dead returned handle 0x");
    CONTAINS(text, ", which is not live: ");
    CHECK(text && !strstr(text, "%"));
    pyffi_string_free(text);
    OK(pyffi_embed_release(r));
    OK(pyffi_embed_release(silent));
    OK(pyffi_embed_release(dead));
    /* A released borrowed argument is reported, not a double release. */
    pyffi_obj rel[2] = {releases, 0};
    OK(pyffi_embed_int64(&rel[1], 1));
    r = call_py(describe, rel, 2);
    CHECK_TEXT(r, "RuntimeError: native_releases_arg released an argument handle; arguments "
                  "are borrowed (pyffi_embed_dup keeps one)");
    OK(pyffi_embed_release(r));
    OK(pyffi_embed_release(rel[1]));

    /* Outside a native function there is no Python caller to raise into. */
    FAILS(pyffi_embed_raise("ValueError", "x"), PYFFI_INVALID_ARGUMENT,
          "no native function called by Python runs on this thread");
    FAILS(pyffi_embed_function(&out, "f", NULL, NULL), PYFFI_INVALID_ARGUMENT, "fn is NULL");

    for (int k = 1; k < 4; k++)
        OK(pyffi_embed_release(args[k]));
    OK(pyffi_embed_release(d[1]));
    OK(pyffi_embed_release(d[2]));
    pyffi_obj all[] = {sum, raiser, divides, overflows, releases, apply, describe, divide};
    for (size_t k = 0; k < sizeof all / sizeof *all; k++)
        OK(pyffi_embed_release(all[k]));
}

/* pyffi_embed_call_values: native values in, a native value out, one step. */
static void test_call_values(void)
{
    pyffi_obj add = 0, greet = attr("embedmod", "greet"), divide = attr("embedmod", "divide");
    OK(pyffi_embed_eval(&add, NULL, S("add")));
    pyffi_embed_value r, args[17];
    memset(args, 0, sizeof args);
    args[0].kind = PYFFI_EMBED_INT64;
    args[0].as.i64 = 40;
    args[1].kind = PYFFI_EMBED_UINT64;
    args[1].as.u64 = 2;
    OK(pyffi_embed_call_values(&r, PYFFI_EMBED_INT64, add, args, 2));
    CHECK(r.kind == PYFFI_EMBED_INT64 && r.as.i64 == 42);
    args[1].kind = PYFFI_EMBED_DOUBLE;
    args[1].as.f64 = 0.5;
    OK(pyffi_embed_call_values(&r, PYFFI_EMBED_DOUBLE, add, args, 2));
    CHECK(r.kind == PYFFI_EMBED_DOUBLE && r.as.f64 == 40.5);
    args[0].kind = PYFFI_EMBED_BOOL; /* True + True == 2 */
    args[0].as.b = true;
    args[1] = args[0];
    OK(pyffi_embed_call_values(&r, PYFFI_EMBED_UINT64, add, args, 2));
    CHECK(r.as.u64 == 2);
    /* Text in and out: the result's text is the caller's. */
    args[0].kind = PYFFI_EMBED_STR;
    args[0].as.text.ptr = "h\xc3\xa9";
    args[0].as.text.len = 3;
    OK(pyffi_embed_call_values(&r, PYFFI_EMBED_STR, greet, args, 1));
    CHECK(r.kind == PYFFI_EMBED_STR && r.as.text.len == 11);
    CHECK_STR(r.as.text.ptr, "hello, h\xc3\xa9!");
    pyffi_string_free((char *)r.as.text.ptr);
    args[1].kind = PYFFI_EMBED_BYTES;
    args[1].as.text.ptr = "\0\x01";
    args[1].as.text.len = 2;
    args[0] = args[1];
    OK(pyffi_embed_call_values(&r, PYFFI_EMBED_BYTES, add, args, 2));
    CHECK(r.as.text.len == 4 && memcmp(r.as.text.ptr, "\0\x01\0\x01", 5) == 0);
    pyffi_string_free((char *)r.as.text.ptr);
    /* A handle in, a handle out. */
    pyffi_obj list = 0;
    OK(pyffi_embed_list(&list));
    args[0].kind = args[1].kind = PYFFI_EMBED_OBJECT;
    args[0].as.obj = args[1].as.obj = list;
    OK(pyffi_embed_call_values(&r, PYFFI_EMBED_OBJECT, add, args, 2));
    CHECK(r.kind == PYFFI_EMBED_OBJECT && r.as.obj != list);
    OK(pyffi_embed_release(r.as.obj));
    pyffi_obj nothing = 0;
    OK(pyffi_embed_eval(&nothing, NULL, S("lambda x: None")));
    args[0].kind = PYFFI_EMBED_NONE;
    OK(pyffi_embed_call_values(&r, PYFFI_EMBED_NONE, nothing, args, 1));
    CHECK(r.kind == PYFFI_EMBED_NONE);
    OK(pyffi_embed_release(nothing));
    /* Failures: the call raised, the result is not what was asked, bad values. */
    args[0].kind = args[1].kind = PYFFI_EMBED_INT64;
    args[0].as.i64 = 1;
    args[1].as.i64 = 0;
    r.kind = PYFFI_EMBED_NONE;
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_DOUBLE, divide, args, 2), PYFFI_PYTHON,
          "pyffi_embed_call_values: ZeroDivisionError: division by zero");
    CHECK(r.kind == PYFFI_EMBED_NONE); /* untouched on failure */
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_NONE, add, args, 2), PYFFI_INVALID_ARGUMENT,
          "expected None, got int");
    args[1].as.i64 = INT64_MAX;
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_INT64, add, args, 2), PYFFI_OVERFLOW,
          "9223372036854775808 does not fit int64_t");
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_STR, add, args, 2), PYFFI_INVALID_ARGUMENT,
          "expected str, got int");
    FAILS(pyffi_embed_call_values(&r, (pyffi_embed_kind)99, add, args, 2), PYFFI_INVALID_ARGUMENT,
          "99 is not a pyffi_embed_kind");
    args[1].kind = (pyffi_embed_kind)0;
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_INT64, add, args, 2), PYFFI_INVALID_ARGUMENT,
          "0 is not a pyffi_embed_kind");
    args[1].kind = PYFFI_EMBED_STR;
    args[1].as.text.ptr = "x\xff";
    args[1].as.text.len = 2;
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_INT64, add, args, 2), PYFFI_UTF8,
          "invalid UTF-8 at byte offset 1");
    args[1].as.text.ptr = NULL;
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_INT64, add, args, 2), PYFFI_INVALID_ARGUMENT,
          "text.ptr is NULL, len 2");
    OK(pyffi_embed_release(list));
    args[1].kind = PYFFI_EMBED_OBJECT;
    args[1].as.obj = list;
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_INT64, add, args, 2), PYFFI_INVALID_ARGUMENT,
          "is not a live Python object");
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_INT64, add, args, 17), PYFFI_INVALID_ARGUMENT,
          "17 arguments, more than 16");
    FAILS(pyffi_embed_call_values(&r, PYFFI_EMBED_INT64, add, NULL, 1), PYFFI_INVALID_ARGUMENT,
          "args is NULL");
    FAILS(pyffi_embed_call_values(NULL, PYFFI_EMBED_INT64, add, args, 0), PYFFI_INVALID_ARGUMENT,
          "out is NULL");
    OK(pyffi_embed_release(add));
    OK(pyffi_embed_release(greet));
    OK(pyffi_embed_release(divide));
}

/* A scope holds the GIL across calls; nested scopes and plain calls inside work. */
static void test_scope(void)
{
    pyffi_embed_scope outer, inner;
    OK(pyffi_embed_enter(&outer));
    OK(pyffi_embed_enter(&inner));
    pyffi_obj v = 0;
    int64_t n = 0;
    OK(pyffi_embed_eval(&v, NULL, S("add(40, 2)")));
    OK(pyffi_embed_to_int64(&n, v));
    CHECK(n == 42);
    OK(pyffi_embed_release(v));
    /* Left out of order: refused, nothing changed (the inner scope is still open). */
    FAILS(pyffi_embed_leave(outer), PYFFI_INVALID_ARGUMENT,
          "scope 1 of 2: the scopes entered after it are still open");
    OK(pyffi_embed_leave(inner));
    OK(pyffi_embed_leave(outer));
    FAILS(pyffi_embed_enter(NULL), PYFFI_INVALID_ARGUMENT, "out is NULL");
}

/* Misuse of a scope is an error with a message, never an abort. */
static void *leave_on_this_thread(void *scope)
{
    static pyffi_status status;
    status = pyffi_embed_leave(*(pyffi_embed_scope *)scope);
    CONTAINS(pyffi_error_last(), "the scope was entered on another thread");
    return &status;
}

static void test_scope_misuse(void)
{
    pyffi_embed_scope never = {0, 0, NULL}, scope;
    FAILS(pyffi_embed_leave(never), PYFFI_INVALID_ARGUMENT,
          "pyffi_embed_leave: not a scope (its pyffi_embed_enter failed, or was not called)");
    OK(pyffi_embed_enter(&scope));
    OK(pyffi_embed_leave(scope));
    FAILS(pyffi_embed_leave(scope), PYFFI_INVALID_ARGUMENT,
          "the scope is not open (left already, or made up); this thread has 0 open");
    pyffi_embed_scope made_up = scope;
    made_up.depth = 7;
    FAILS(pyffi_embed_leave(made_up), PYFFI_INVALID_ARGUMENT, "the scope is not open");
    made_up = (pyffi_embed_scope){1, 1, &made_up};
    FAILS(pyffi_embed_leave(made_up), PYFFI_INVALID_ARGUMENT, "entered on another thread");
    /* Entered here, left on another thread: refused there, left here after. */
    OK(pyffi_embed_enter(&scope));
    pthread_t other;
    void *status = NULL;
    OK(pyffi_embed_run(NULL, S("x = 1")));
    CHECK(pthread_create(&other, NULL, leave_on_this_thread, &scope) == 0);
    CHECK(pthread_join(other, &status) == 0);
    CHECK(status && *(pyffi_status *)status == PYFFI_INVALID_ARGUMENT);
    OK(pyffi_embed_leave(scope));
    /* Python still works for every thread after all that. */
    pyffi_obj v = 0;
    OK(pyffi_embed_eval(&v, NULL, S("x + 1")));
    OK(pyffi_embed_release(v));
}

int main(int argc, char **argv)
{
    if (argc != 2 && !(argc == 3 && strcmp(argv[2], "--installed") == 0)) {
        fprintf(stderr, "usage: %s DIR [--installed]  (DIR: that of embedmod.py)\n", argv[0]);
        return 2;
    }
    const char *paths[] = {argv[1]};
    pyffi_embed_options options = PYFFI_EMBED_OPTIONS_INIT;
    options.paths = paths;
    options.npaths = 1;
    OK(pyffi_embed_start(&options));
    OK(pyffi_embed_start(NULL)); /* started already: nothing changes */
    pyffi_embed_options bad = {NULL, 1, 1};
    FAILS(pyffi_embed_start(&bad), PYFFI_INVALID_ARGUMENT, "paths is NULL");
    CHECK_STR(pyffi_embed_error_type(), "");

    test_run_and_eval();
    test_json_dumps();
    test_user_module();
    test_exceptions();
    test_conversions();
    test_handles();
    test_native_functions();
    test_call_values();
    test_scope();
    test_scope_misuse();

    pyffi_obj sys_path = 0;
    OK(pyffi_embed_eval(&sys_path, NULL, S("__import__('sys').path[0]")));
    CHECK_TEXT(sys_path, argv[1]);
    OK(pyffi_embed_release(sys_path));
    if (argc == 3) {
        pyffi_obj where = 0;
        OK(pyffi_embed_eval(&where, NULL, S("__import__('pyffi.embed').embed.library_path()")));
        char *path = NULL;
        OK(pyffi_embed_to_str(&path, NULL, where));
        if (path)
            printf("test-embed: pyffi imports from the embedded Python: %s\n", path);
        pyffi_string_free(path);
        OK(pyffi_embed_release(where));
        /* Inside a scope, Python code calls the library through cffi, which releases the
         * GIL around the call: that call must take the GIL again, not assume it. */
        pyffi_embed_scope scope;
        OK(pyffi_embed_enter(&scope));
        OK(pyffi_embed_run(NULL, S("from pyffi.embed import ffi, lib\n"
                                   "h = ffi.new('pyffi_obj *')\n"
                                   "assert lib.pyffi_embed_eval(h, ffi.NULL, b'20 + 22', 7) == 0\n"
                                   "n = ffi.new('int64_t *')\n"
                                   "assert lib.pyffi_embed_to_int64(n, h[0]) == 0 and n[0] == 42\n"
                                   "assert lib.pyffi_embed_release(h[0]) == 0\n")));
        pyffi_embed_leave(scope);
    }
    if (!check_failures)
        printf("test-embed: all checks passed\n");
    return CHECK_DONE();
}
