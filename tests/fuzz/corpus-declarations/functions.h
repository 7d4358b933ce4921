#include <stddef.h>
typedef struct handle handle;
handle *handle_open(const char *path, int flags);
int handle_read(handle *h, void *buf, size_t n);
void handle_close(handle *h);
extern int (*handle_hook)(int code, const char *message);
int handle_printf(handle *h, const char *fmt, ...);
