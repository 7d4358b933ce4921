/* The status table and the per-thread error message. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

/* Per-thread, so concurrent callers never see each other's messages. */
static _Thread_local char last_error[512] = "no error";
/* How many failures this thread recorded: tells a caller whether code it ran set one. */
static _Thread_local unsigned long failures;

const char *pyffi_status_name(pyffi_status status)
{
    switch (status) {
#define PYFFI_NAME_(name, value, message)                                     \
    case PYFFI_##name:                                                        \
        return "PYFFI_" #name;
        PYFFI_STATUS_MAP(PYFFI_NAME_)
#undef PYFFI_NAME_
    }
    return "PYFFI_UNKNOWN";
}

const char *pyffi_status_message(pyffi_status status)
{
    switch (status) {
#define PYFFI_MESSAGE_(name, value, message)                                  \
    case PYFFI_##name:                                                        \
        return message;
        PYFFI_STATUS_MAP(PYFFI_MESSAGE_)
#undef PYFFI_MESSAGE_
    }
    return "unknown status";
}

const char *pyffi_error_last(void)
{
    return last_error;
}

unsigned long pyffi__failures(void)
{
    return failures;
}

pyffi_status pyffi__fail(pyffi_status status, const char *fmt, ...)
{
    failures++;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n < 0) /* an encoding error in the format: keep the generic text */
        snprintf(last_error, sizeof last_error, "%s",
                 pyffi_status_message(status));
    return status;
}
