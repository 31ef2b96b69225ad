/* embed_sgemm.c: the machine's single-precision GEMM rate through OpenBLAS, the yardstick for
 * embed's GFLOP/s. Times C[m,n] = A[m,k]·B[k,n] (row-major) for a square 2048 product and for
 * the largest product shape of an scBERT forward pass (the q/k/v projection, 16907 × 1920 × 200),
 * and prints the best of several repetitions in GFLOP/s.
 *   cc -O2 embed_sgemm.c ../Sources/CBLASCore/core.c -I../Sources/CBLASCore/include \
 *      -I/usr/include/x86_64-linux-gnu/openblas-pthread -lopenblas -o embed_sgemm
 * (core.c: the kernels the tools run on, docs/ENGINE.md "Determinism").
 *   ./embed_sgemm THREADS
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double rate(int m, int n, int k, int reps) {
    float *a = malloc(sizeof(float) * (size_t)m * k), *b = malloc(sizeof(float) * (size_t)k * n);
    float *c = malloc(sizeof(float) * (size_t)m * n);
    for (size_t i = 0; i < (size_t)m * k; i++) a[i] = (float)(i % 7) * 0.25f - 0.5f;
    for (size_t i = 0; i < (size_t)k * n; i++) b[i] = (float)(i % 5) * 0.125f - 0.25f;
    double best = 1e30;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, k, b, n, 0.0f, c, n);
        double t = now() - t0;
        if (t < best) best = t;
    }
    free(a); free(b); free(c);
    return 2.0 * m * n * k / best / 1e9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    openblas_set_num_threads(threads);
    printf("threads\t%d\nsquare_2048_gflops\t%.1f\nqkv_16907x1920x200_gflops\t%.1f\n", threads,
           rate(2048, 2048, 2048, 5), rate(16907, 1920, 200, 5));
    return 0;
}
