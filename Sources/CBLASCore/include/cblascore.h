#ifndef SCGRN_CBLASCORE_H
#define SCGRN_CBLASCORE_H

/* OpenBLAS picks its kernels by CPU model number when it loads. Two of its choices break what the
 * engine relies on: a model newer than the library (Emerald Rapids under Debian 12's OpenBLAS
 * 0.3.21, say) gets the generic SSE3 kernels, "Prescott", several times slower; and on AVX2 CPUs
 * (Haswell and Zen kernels) a row of a product is rounded differently by where it falls in the
 * matrix, so the rows of a subset differ in the last bits from the same rows of the whole product,
 * equal input rows give unequal output rows and OpenBLAS's threads change the result. Every program
 * that links this target restarts itself, before main, on the kernel family of the CPU's instruction
 * sets when OpenBLAS loaded another (core.c). */

/* The OpenBLAS family of this CPU's instruction sets, by the names OPENBLAS_CORETYPE takes:
 * "Cooperlake" (AVX-512 with BF16), "SkylakeX" (AVX-512), "Sandybridge" (AVX, AVX2), or NULL.
 * Each computes a row of a product the same wherever it falls (docs/ENGINE.md, "Determinism"). */
const char *scgrn_blas_feature_core(void);

/* 1 if the program should restart on `feature`: OpenBLAS loaded another family (`loaded`), the
 * user set no OPENBLAS_CORETYPE (`requested` NULL) and the CPU's family is known. */
int scgrn_blas_should_replace(const char *loaded, const char *requested, const char *feature);

/* 1 if this thread flushes subnormal floats to zero, as results and as inputs (x86-64's FTZ and
 * DAZ). Every program that links this target sets both before main, for its own threads and
 * OpenBLAS's (core.c): an sgemm with 1–10 % subnormal entries ran 15–60 times slower without, and
 * a value below 1.2e-38 changes no sum of the sizes these models add. */
int scgrn_subnormals_flushed(void);

#endif
