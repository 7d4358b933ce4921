/* A small C library for the pyffi.load tests: one function per conversion. */
#ifndef DEMO_H
#define DEMO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h> /* system declarations (FILE, printf...) must not leak into load() */

#include "pyffi.h"

#define DEMO_API __attribute__((visibility("default")))

/* scalars */
DEMO_API int32_t demo_add(int32_t a, int32_t b);
DEMO_API double demo_scale(double x, float factor);
DEMO_API bool demo_negate(bool flag);
DEMO_API char demo_next_char(char c);
DEMO_API uint8_t demo_u8_inc(uint8_t x);
DEMO_API void demo_nothing(void);

/* only compiled code can call these two (pyffi.load mode="api"); constants */
static inline int32_t demo_twice(int32_t x) { return demo_add(x, x); }
#define demo_add_ten(x) demo_add((x), 10)
#define DEMO_LIMIT (1 << 20)
#define DEMO_RATIO 0.25
#define DEMO_NAME "demo"

/* strings */
DEMO_API size_t demo_strlen(const char *s);
DEMO_API size_t demo_upcase(char *s); /* writes into s, returns its length */
DEMO_API size_t demo_str_len(pyffi_str s);
DEMO_API int64_t demo_str_count(const pyffi_str *s, char c);
DEMO_API const char *demo_version(void);

/* bytes */
DEMO_API uint64_t demo_bytes_sum(pyffi_bytes b);
DEMO_API void demo_bytes_fill(pyffi_bytes *b, uint8_t value);
DEMO_API uint64_t demo_bytes_sum_ptr(const pyffi_bytes *b);

/* vectors */
DEMO_API int64_t demo_vec_sum(const pyffi_vec_i64 *v);
DEMO_API int64_t demo_vec_sum_value(pyffi_vec_i64 v);
DEMO_API void demo_vec_double(pyffi_vec_i64 *v);
DEMO_API void demo_vec_f64_scale(pyffi_vec_f64 *v, double k);
DEMO_API size_t demo_vec_str_total(const pyffi_vec_str *v);
DEMO_API void demo_vec_vec_increment(pyffi_vec_vec_i64 *v);
DEMO_API int64_t demo_vec_vec_sum(const pyffi_vec_vec_i64 *v);
DEMO_API void demo_describe(const pyffi_str *name, pyffi_vec_i64 *values); /* the benchmark's call */

/* plain arrays */
DEMO_API void demo_square(int64_t *xs, size_t n);
DEMO_API double demo_array_sum(const double *xs, size_t n);
DEMO_API void demo_i32_negate(int32_t *xs, size_t n);

/* structs */
typedef struct demo_point { double x; double y; } demo_point;
DEMO_API double demo_point_norm(demo_point p);
DEMO_API void demo_point_scale(demo_point *p, double k);
DEMO_API demo_point demo_point_make(double x, double y);

/* callbacks */
DEMO_API int32_t demo_apply(int32_t (*op)(int32_t a, int32_t b), int32_t a, int32_t b);
DEMO_API int64_t demo_fold(const pyffi_vec_i64 *v, int64_t (*f)(int64_t acc, int64_t x),
                           int64_t init);
DEMO_API void demo_each_name(const pyffi_vec_str *names, void (*visit)(const char *name));

/* owned results (every free is counted) */
DEMO_API char *demo_greeting(const char *name);
DEMO_API void demo_free_greeting(char *s);
DEMO_API int64_t *demo_range(size_t n);
DEMO_API void demo_free_range(int64_t *p);
typedef struct demo_owned { pyffi_str text; pyffi_vec_i64 values; int32_t id; } demo_owned;
DEMO_API demo_owned demo_owned_make(int32_t n);
DEMO_API void demo_owned_free(demo_owned o);
DEMO_API demo_point demo_point_borrowed(void);
DEMO_API int demo_free_count(void);

/* raw pointers */
DEMO_API void *demo_opaque_new(int value);
DEMO_API int demo_opaque_get(const void *p);
DEMO_API void demo_opaque_free(void *p);

/* a hook C keeps after the call (a registration API) */
typedef int32_t (*demo_hook)(int32_t x);
DEMO_API void demo_hook_set(demo_hook hook);
DEMO_API int32_t demo_hook_fire(int32_t x); /* -1 if no hook is set */

/* the seed's Rust example: a struct with an owned string, returned by value */
typedef struct demo_girl { char *name; uint8_t age; } demo_girl;
DEMO_API demo_girl demo_girl_make(const char *name, uint8_t age);
DEMO_API void demo_free_cstring(char *s);      /* frees one field */
DEMO_API void demo_girl_free(demo_girl *g);    /* frees the struct's fields, by address */
DEMO_API void demo_girl_bad_free(int32_t x);   /* fits neither rule */

/* declared, never defined: load() reports it */
DEMO_API int demo_not_there(int x);

#endif
