#include "demo.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int frees; /* test library only: a plain counter */

int32_t demo_add(int32_t a, int32_t b) { return a + b; }
double demo_scale(double x, float factor) { return x * factor; }
bool demo_negate(bool flag) { return !flag; }
char demo_next_char(char c) { return (char)(c + 1); }
uint8_t demo_u8_inc(uint8_t x) { return (uint8_t)(x + 1); }
void demo_nothing(void) {}

size_t demo_strlen(const char *s) { return s ? strlen(s) : 0; }
size_t demo_upcase(char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] >= 'a' && s[i] <= 'z')
            s[i] = (char)(s[i] - 32);
    return n;
}
size_t demo_str_len(pyffi_str s) { return s.len; }
int64_t demo_str_count(const pyffi_str *s, char c)
{
    int64_t n = 0;
    for (size_t i = 0; i < s->len; i++)
        n += s->ptr[i] == c;
    return n;
}
const char *demo_version(void) { return "demo 1.0"; }

uint64_t demo_bytes_sum(pyffi_bytes b)
{
    uint64_t t = 0;
    for (size_t i = 0; i < b.len; i++)
        t += b.ptr[i];
    return t;
}
void demo_bytes_fill(pyffi_bytes *b, uint8_t value) { memset(b->ptr, value, b->len); }
uint64_t demo_bytes_sum_ptr(const pyffi_bytes *b) { return demo_bytes_sum(*b); }

int64_t demo_vec_sum(const pyffi_vec_i64 *v)
{
    int64_t t = 0;
    for (size_t i = 0; i < v->len; i++)
        t += v->ptr[i];
    return t;
}
int64_t demo_vec_sum_value(pyffi_vec_i64 v) { return demo_vec_sum(&v); }
void demo_vec_double(pyffi_vec_i64 *v)
{
    for (size_t i = 0; i < v->len; i++)
        v->ptr[i] *= 2;
}
void demo_vec_f64_scale(pyffi_vec_f64 *v, double k)
{
    for (size_t i = 0; i < v->len; i++)
        v->ptr[i] *= k;
}
size_t demo_vec_str_total(const pyffi_vec_str *v)
{
    size_t t = 0;
    for (size_t i = 0; i < v->len; i++)
        t += v->ptr[i].len;
    return t;
}
void demo_vec_vec_increment(pyffi_vec_vec_i64 *v)
{
    for (size_t i = 0; i < v->len; i++)
        for (size_t j = 0; j < v->ptr[i].len; j++)
            v->ptr[i].ptr[j] += (int64_t)i + 1;
}
int64_t demo_vec_vec_sum(const pyffi_vec_vec_i64 *v)
{
    int64_t t = 0;
    for (size_t i = 0; i < v->len; i++)
        t += demo_vec_sum(&v->ptr[i]);
    return t;
}
void demo_describe(const pyffi_str *name, pyffi_vec_i64 *values)
{
    for (size_t i = 0; i < values->len; i++)
        values->ptr[i] += (int64_t)name->len;
}

void demo_square(int64_t *xs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xs[i] *= xs[i];
}
double demo_array_sum(const double *xs, size_t n)
{
    double t = 0;
    for (size_t i = 0; i < n; i++)
        t += xs[i];
    return t;
}
void demo_i32_negate(int32_t *xs, size_t n)
{
    for (size_t i = 0; i < n; i++)
        xs[i] = -xs[i];
}

double demo_point_norm(demo_point p) { return sqrt(p.x * p.x + p.y * p.y); }
void demo_point_scale(demo_point *p, double k) { p->x *= k; p->y *= k; }
demo_point demo_point_make(double x, double y) { demo_point p = {x, y}; return p; }

int32_t demo_apply(int32_t (*op)(int32_t a, int32_t b), int32_t a, int32_t b)
{
    return op(a, b);
}
int64_t demo_fold(const pyffi_vec_i64 *v, int64_t (*f)(int64_t acc, int64_t x), int64_t init)
{
    for (size_t i = 0; i < v->len; i++)
        init = f(init, v->ptr[i]);
    return init;
}
void demo_each_name(const pyffi_vec_str *names, void (*visit)(const char *name))
{
    for (size_t i = 0; i < names->len; i++) {
        char buf[256];
        size_t n = names->ptr[i].len < 255 ? names->ptr[i].len : 255;
        memcpy(buf, names->ptr[i].ptr, n);
        buf[n] = 0;
        visit(buf);
    }
}

char *demo_greeting(const char *name)
{
    size_t n = strlen(name);
    char *s = malloc(n + 8);
    if (s) {
        memcpy(s, "Hello, ", 7);
        memcpy(s + 7, name, n + 1);
    }
    return s;
}
void demo_free_greeting(char *s) { frees++; free(s); }
int64_t *demo_range(size_t n)
{
    int64_t *p = malloc((n ? n : 1) * sizeof *p);
    for (size_t i = 0; p && i < n; i++)
        p[i] = (int64_t)i;
    return p;
}
void demo_free_range(int64_t *p) { frees++; free(p); }
demo_owned demo_owned_make(int32_t n)
{
    demo_owned o = {{NULL, 0}, {NULL, 0}, n};
    char *text = malloc(16);
    int64_t *values = malloc((size_t)(n > 0 ? n : 1) * sizeof *values);
    memcpy(text, "owned", 5);
    o.text.ptr = text;
    o.text.len = 5;
    for (int32_t i = 0; i < n; i++)
        values[i] = i * 10;
    o.values.ptr = values;
    o.values.len = (size_t)n;
    return o;
}
void demo_owned_free(demo_owned o) { frees++; free((void *)o.text.ptr); free(o.values.ptr); }
demo_point demo_point_borrowed(void) { demo_point p = {1.5, -2.0}; return p; }
int demo_free_count(void) { return frees; }

static demo_hook the_hook; /* test library only: the registered hook */
void demo_hook_set(demo_hook hook) { the_hook = hook; }
int32_t demo_hook_fire(int32_t x) { return the_hook ? the_hook(x) : -1; }

demo_girl demo_girl_make(const char *name, uint8_t age)
{
    demo_girl g = {NULL, age};
    size_t n = strlen(name);
    g.name = malloc(n + 1);
    if (g.name)
        memcpy(g.name, name, n + 1);
    return g;
}
void demo_free_cstring(char *s) { frees++; free(s); }
void demo_girl_free(demo_girl *g) { frees++; free(g->name); g->name = NULL; }
void demo_girl_bad_free(int32_t x) { (void)x; }

void *demo_opaque_new(int value)
{
    int *p = malloc(sizeof *p);
    if (p)
        *p = value;
    return p;
}
int demo_opaque_get(const void *p) { return *(const int *)p; }
void demo_opaque_free(void *p) { frees++; free(p); }
