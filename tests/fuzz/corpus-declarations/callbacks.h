#include <stdarg.h>
typedef void (*log_fn)(int level, const char *fmt, va_list ap);
typedef int compare_fn(const void *, const void *);
void set_logger(log_fn fn);
void sort_with(void *base, size_t n, size_t size, compare_fn *cmp);
void apply(int (cb)(void *), void *data);
void (*signal_like(int sig, void (*handler)(int)))(int);
int vlog(int level, const char *fmt, va_list ap);
