/* Private: sorting networks in AVX-512 registers for the radix sort's
 * small buckets (lib/sort.c); never installed. */
#ifndef PYFFI_LIB_SORT_SIMD_H
#define PYFFI_LIB_SORT_SIMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pyffi.h"

/* The most keys pyffi__sort32_net() sorts at once. */
enum { PYFFI__NET32_MAX = 256 };

/* Whether this build and this CPU have pyffi__sort32_net(). */
__attribute__((visibility("hidden"))) bool pyffi__sort32_net_ok(void);

/*
 * Sort the m keys (1 <= m <= PYFFI__NET32_MAX) at in, compared as
 * unsigned after XOR with flip, into out (which may be in). Only call it
 * when pyffi__sort32_net_ok().
 */
__attribute__((visibility("hidden"))) void pyffi__sort32_net(uint32_t *out, const uint32_t *in,
                                                              size_t m, uint32_t flip);

/* One digit's scatter buffer: two cache lines of keys (pyffi__scatter32
 * fills the first; pyffi__scatter32_cd both, in turn). */
typedef struct pyffi__line {
    _Alignas(64) uint32_t key[32];
} pyffi__line;

/*
 * Count the m keys at src by digit ((key ^ flip) >> shift) & mask into
 * count[], and store the smallest and largest key ^ flip in range. Only
 * call it when pyffi__sort32_net_ok().
 */
__attribute__((visibility("hidden"))) void pyffi__count32(const uint32_t *src, size_t m,
                                                           uint32_t flip, unsigned shift,
                                                           uint32_t mask, size_t *count,
                                                           uint32_t range[2]);

/*
 * The smallest and largest of the m keys at src (m >= 1), XOR flip, into
 * range. Only call it when pyffi__sort32_net_ok().
 */
__attribute__((visibility("hidden"))) void pyffi__range32(const uint32_t *src, size_t m,
                                                           uint32_t flip, uint32_t range[2]);

/*
 * Move the m keys at src to dst by one bit of key ^ flip: those where it
 * is 0 to the start of dst, in order, those where it is 1 to the end (in
 * no particular order). Returns how many have it 0. Only call it when
 * pyffi__sort32_net_ok().
 */
__attribute__((visibility("hidden"))) size_t pyffi__partition32(uint32_t *dst,
                                                                 const uint32_t *src, size_t m,
                                                                 uint32_t flip, unsigned bit);

/*
 * Move the m keys at src to dst by digit ((key ^ flip) >> shift) & mask:
 * digit v's next key goes to dst[offset[v]++] (for arrays in cache). Only
 * call it when pyffi__sort32_net_ok().
 */
__attribute__((visibility("hidden"))) void pyffi__split32(uint32_t *dst, const uint32_t *src,
                                                           size_t m, uint32_t flip,
                                                           unsigned shift, uint32_t mask,
                                                           size_t *offset);

/*
 * Move the m keys at src to dst by digit ((key ^ flip) >> shift) & mask,
 * through a cache line of buffer per digit: digit v's next key goes to
 * dst[offset[v]++]. dst is 64-byte aligned;
 * lines[] and first[] are scratch of mask + 1 entries. Places of dst this
 * call does not fill are never written, so threads may scatter slices into
 * one dst. Only call it when pyffi__sort32_net_ok().
 */
__attribute__((visibility("hidden"))) void
pyffi__scatter32(uint32_t *dst, const uint32_t *src, size_t m, uint32_t flip, unsigned shift,
                 uint32_t mask, size_t *offset, pyffi__line *lines, size_t *first);

/* Whether this build and this CPU have pyffi__scatter32_cd() (AVX-512
 * with conflict detection and vector popcount: Ice Lake and later). */
__attribute__((visibility("hidden"))) bool pyffi__scatter32_cd_ok(void);

/*
 * pyffi__scatter32, 16 keys at a time: their places come from one gather
 * of offsets, plus each key's rank among the keys of its digit in the 16
 * (conflict detection). Every place it fills must be below 2^32. Only call
 * it when pyffi__scatter32_cd_ok().
 */
__attribute__((visibility("hidden"))) void
pyffi__scatter32_cd(uint32_t *dst, const uint32_t *src, size_t m, uint32_t flip, unsigned shift,
                    uint32_t mask, size_t *offset, pyffi__line *lines, size_t *first);

/*
 * Sort n keys compared as unsigned after XOR with flip, in place; with
 * networks (net: only when pyffi__sort32_net_ok()) or without (lib/sort.c,
 * exposed so tests run both on any machine). func names the caller in
 * errors.
 */
__attribute__((visibility("hidden"))) pyffi_status pyffi__sort32(uint32_t *a, size_t n,
                                                                  uint32_t flip, bool net,
                                                                  const char *func);

#endif
