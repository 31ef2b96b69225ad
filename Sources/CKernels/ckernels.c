/* ckernels.c: builds the variants of the C kernels (ckernels_body.h) and chooses one at run
 * time.
 *
 * The generic variant is compiled for the target the package is built for (baseline x86-64:
 * SSE2). On x86-64 the AVX2+FMA and AVX-512 variants are compiled into the same object with
 * per-function target attributes; `ck_table` hands out a variant only if
 * `__builtin_cpu_supports` says the CPU (and the OS) can run it. No build flag makes the binary
 * CPU-specific.
 */
#include "ckernels.h"

#include <stddef.h>

/* MARK: - Generic (the build target's own instruction set) */

#define CK_W 4
#define CK_SUFFIX generic
#define CK_VARIANT_ID CK_VARIANT_GENERIC
#define CK_NAME "generic"
#include "ckernels_body.h"
#undef CK_W
#undef CK_SUFFIX
#undef CK_VARIANT_ID
#undef CK_NAME

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define CK_HAVE_X86_VARIANTS 1

/* MARK: - AVX2 + FMA */

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx2,fma"))), apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#endif
#define CK_W 8
#define CK_SUFFIX avx2
#define CK_VARIANT_ID CK_VARIANT_AVX2
#define CK_NAME "avx2"
#include "ckernels_body.h"
#undef CK_W
#undef CK_SUFFIX
#undef CK_VARIANT_ID
#undef CK_NAME
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

/* MARK: - AVX-512 */

#if defined(__clang__)
#pragma clang attribute push(__attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"))), \
                             apply_to = function)
#else
#pragma GCC push_options
#pragma GCC target("avx512f,avx512bw,avx512dq,avx512vl,avx2,fma")
#endif
#define CK_W 16
#define CK_SUFFIX avx512
#define CK_VARIANT_ID CK_VARIANT_AVX512
#define CK_NAME "avx512"
#include "ckernels_body.h"
#undef CK_W
#undef CK_SUFFIX
#undef CK_VARIANT_ID
#undef CK_NAME
#if defined(__clang__)
#pragma clang attribute pop
#else
#pragma GCC pop_options
#endif

#endif

/* MARK: - Dispatch */

/* Whether this CPU can run `variant`. */
static int ck_supported(int variant) {
    switch (variant) {
    case CK_VARIANT_GENERIC:
        return 1;
#ifdef CK_HAVE_X86_VARIANTS
    case CK_VARIANT_AVX2:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case CK_VARIANT_AVX512:
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
               __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
               __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#endif
    default:
        return 0;
    }
}

static const ck_kernels *ck_variant_table(int variant) {
    switch (variant) {
    case CK_VARIANT_GENERIC:
        return &table_generic;
#ifdef CK_HAVE_X86_VARIANTS
    case CK_VARIANT_AVX2:
        return &table_avx2;
    case CK_VARIANT_AVX512:
        return &table_avx512;
#endif
    default:
        return NULL;
    }
}

const ck_kernels *ck_table(int variant) {
    if (variant == CK_VARIANT_BEST) {
        /* Chosen once; a race between threads only repeats the same choice. */
        static const ck_kernels *volatile best = NULL;
        const ck_kernels *b = best;
        if (b == NULL) {
            for (int v = CK_VARIANT_AVX512; v >= CK_VARIANT_GENERIC; v--) {
                if (ck_supported(v)) { b = ck_variant_table(v); break; }
            }
            best = b;
        }
        return b;
    }
    return ck_supported(variant) ? ck_variant_table(variant) : NULL;
}
