/*
 * Symbols bound to versions every manylinux_2_28 system has (x86-64 glibc).
 *
 * Linked against a newer glibc, a call binds to the newest version of its
 * symbol: pthread_create and the dl* functions moved into libc.so.6 in glibc
 * 2.34 (new versions GLIBC_2.34), hypot got a new implementation in 2.35.
 * Their old versions, GLIBC_2.2.5, are still exported by every glibc (in
 * libpthread/libdl before 2.34, in libc since) and do the same job, so a
 * translation unit calling one of them includes this header first and the
 * library stays loadable on glibc 2.28 (RHEL 8, Debian 10 and later); the
 * libraries link libpthread.so.0 and libdl.so.2 explicitly (meson.build) so
 * an old glibc finds them. tools/check_wheel.py and auditwheel check the
 * resulting tag. PYFFI_GLIBC_UNPINNED (the C test that wraps pthread_create
 * with ld --wrap, which cannot reach a versioned reference) leaves them be.
 */
#ifndef PYFFI_GLIBC_H
#define PYFFI_GLIBC_H

#include <limits.h> /* the C library's own, which defines __GLIBC__ on glibc */

#if defined(__GLIBC__) && defined(__x86_64__) && !defined(PYFFI_GLIBC_UNPINNED)
__asm__(".symver pthread_create,pthread_create@GLIBC_2.2.5");
__asm__(".symver pthread_join,pthread_join@GLIBC_2.2.5");
__asm__(".symver hypot,hypot@GLIBC_2.2.5");
__asm__(".symver dladdr,dladdr@GLIBC_2.2.5");
__asm__(".symver dlopen,dlopen@GLIBC_2.2.5");
__asm__(".symver dlsym,dlsym@GLIBC_2.2.5");
__asm__(".symver dlclose,dlclose@GLIBC_2.2.5");
#endif

#endif
