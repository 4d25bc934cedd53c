/* memcpy, memmove, memcmp and bcmp for the x86_64 musl release binary (see build.rs).
 *
 * musl's x86_64 memcpy is `rep movsq` for every length, and its memcmp compares a byte at a
 * time. A render makes millions of short copies and comparisons (keys, labels, YAML
 * fragments), where `rep movs` costs dozens of cycles to start: those two were a fifth of a
 * batch render's time. These versions copy short lengths with two overlapping loads and
 * stores, medium ones 32 bytes at a time and long ones with `rep movsb`; memcmp compares 8
 * bytes at a time. tests/it/string_c.rs checks them against the C library's, byte for byte,
 * for every length up to 2 KiB at every alignment and overlap.
 *
 * Built with -ffreestanding (and, for GCC, -fno-tree-loop-distribute-patterns) so the
 * compiler cannot turn these loops back into calls to themselves. */

#include <stddef.h>
#include <stdint.h>

typedef uint64_t u64 __attribute__((aligned(1), may_alias));
typedef uint32_t u32 __attribute__((aligned(1), may_alias));
typedef uint16_t u16 __attribute__((aligned(1), may_alias));
typedef long long v16 __attribute__((vector_size(16), aligned(1), may_alias));

/* Up to 32 bytes. Every load comes before every store, so the ranges may overlap. */
static inline void copy_short(unsigned char *d, const unsigned char *s, size_t n) {
    if (n >= 16) {
        v16 head = *(const v16 *)s, tail = *(const v16 *)(s + n - 16);
        *(v16 *)d = head;
        *(v16 *)(d + n - 16) = tail;
    } else if (n >= 8) {
        uint64_t head = *(const u64 *)s, tail = *(const u64 *)(s + n - 8);
        *(u64 *)d = head;
        *(u64 *)(d + n - 8) = tail;
    } else if (n >= 4) {
        uint32_t head = *(const u32 *)s, tail = *(const u32 *)(s + n - 4);
        *(u32 *)d = head;
        *(u32 *)(d + n - 4) = tail;
    } else if (n >= 2) {
        uint16_t head = *(const u16 *)s, tail = *(const u16 *)(s + n - 2);
        *(u16 *)d = head;
        *(u16 *)(d + n - 2) = tail;
    } else if (n == 1) {
        *d = *s;
    }
}

/* Below this, 32-byte moves; from it on, `rep movsb` (fast on CPUs with ERMSB/FSRM). */
#define LONG_COPY 2048

void *memcpy(void *restrict dst, const void *restrict src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n <= 32) {
        copy_short(d, s, n);
    } else if (n < LONG_COPY) {
        v16 last0 = *(const v16 *)(s + n - 32), last1 = *(const v16 *)(s + n - 16);
        for (size_t i = 0; i + 32 <= n; i += 32) {
            v16 a = *(const v16 *)(s + i), b = *(const v16 *)(s + i + 16);
            *(v16 *)(d + i) = a;
            *(v16 *)(d + i + 16) = b;
        }
        *(v16 *)(d + n - 32) = last0;
        *(v16 *)(d + n - 16) = last1;
    } else {
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    }
    return dst;
}

void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (n <= 32) {
        copy_short(d, s, n);
    } else if ((uintptr_t)d - (uintptr_t)s >= n && (uintptr_t)s - (uintptr_t)d >= n) {
        memcpy(dst, src, n); /* no overlap */
    } else if (d < s) {
        /* Forward: each store lands below the next chunk still to be loaded. */
        for (; n > 16; n -= 16, d += 16, s += 16) {
            v16 a = *(const v16 *)s;
            *(v16 *)d = a;
        }
        copy_short(d, s, n);
    } else {
        /* Backward: each store lands above the chunks still to be loaded. */
        while (n > 16) {
            n -= 16;
            v16 a = *(const v16 *)(s + n);
            *(v16 *)(d + n) = a;
        }
        copy_short(d, s, n);
    }
    return dst;
}

int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *l = a, *r = b;
    for (; n >= 8; n -= 8, l += 8, r += 8) {
        uint64_t x = *(const u64 *)l, y = *(const u64 *)r;
        if (x != y) {
            /* The first differing byte decides: compare as big-endian numbers. */
            x = __builtin_bswap64(x);
            y = __builtin_bswap64(y);
            return x < y ? -1 : 1;
        }
    }
    for (; n; n--, l++, r++) {
        if (*l != *r) return *l - *r;
    }
    return 0;
}

/* What Rust's `==` on slices and strings calls: only equality matters. */
int bcmp(const void *a, const void *b, size_t n) {
    const unsigned char *l = a, *r = b;
    for (; n >= 8; n -= 8, l += 8, r += 8) {
        if (*(const u64 *)l != *(const u64 *)r) return 1;
    }
    for (; n; n--, l++, r++) {
        if (*l != *r) return 1;
    }
    return 0;
}
