/* gemm_profile.c: how much of a run is matrix products, and how fast OpenBLAS does them at the
 * shapes the run uses. Preloaded into any of our tools (LD_PRELOAD), it wraps cblas_sgemm, times
 * every call in the calling thread's CPU time (so other jobs on a shared machine do not inflate
 * it) and, at exit, writes one line per distinct call shape to $GEMM_PROFILE_OUT (default
 * gemm_profile.tsv):
 *     transA  transB  m  n  k  calls  cpu_seconds  gflops
 * With -t 1 every product runs on the calling thread, so the sum of cpu_seconds is the run's time
 * in sgemm, and (sum of flops) / (sum of seconds) the rate OpenBLAS reaches on the run's shapes —
 * the ceiling of a run whose every other operation took no time at all.
 *   cc -O2 -shared -fPIC bench/gemm_profile.c -o gemm_profile.so -ldl
 *   LD_PRELOAD=./gemm_profile.so pretrain … -t 1
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef void (*sgemm_fn)(int, int, int, int, int, int, float, const float *, int, const float *, int, float,
                         float *, int);

enum { MAX_SHAPES = 4096 };
static struct shape { int ta, tb, m, n, k; long calls; double seconds; } shapes[MAX_SHAPES];
static int shape_count, overflow;
static sgemm_fn real_sgemm;

static double thread_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

void cblas_sgemm(int order, int ta, int tb, int m, int n, int k, float alpha, const float *a, int lda,
                 const float *b, int ldb, float beta, float *c, int ldc) {
    if (!real_sgemm) real_sgemm = (sgemm_fn)dlsym(RTLD_NEXT, "cblas_sgemm");
    double t0 = thread_seconds();
    real_sgemm(order, ta, tb, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
    double t = thread_seconds() - t0;
    /* A linear search: a run uses a few dozen shapes. Calls from several threads race on the
     * table; profile with one thread. */
    int i = 0;
    while (i < shape_count && !(shapes[i].ta == ta && shapes[i].tb == tb && shapes[i].m == m &&
                                shapes[i].n == n && shapes[i].k == k)) i++;
    if (i == shape_count) {
        if (shape_count == MAX_SHAPES) { overflow = 1; return; }
        shapes[i] = (struct shape){ta, tb, m, n, k, 0, 0};
        shape_count++;
    }
    shapes[i].calls++;
    shapes[i].seconds += t;
}

__attribute__((destructor)) static void write_profile(void) {
    /* A process that made no product writes nothing: LD_PRELOAD reaches every process of the
     * command line (e.g. /usr/bin/time), which would otherwise overwrite the profile on exit. */
    if (shape_count == 0) return;
    const char *path = getenv("GEMM_PROFILE_OUT");
    FILE *f = fopen(path ? path : "gemm_profile.tsv", "w");
    if (!f) { perror("gemm_profile"); return; }
    fprintf(f, "transA\ttransB\tm\tn\tk\tcalls\tcpu_seconds\tgflops\n");
    for (int i = 0; i < shape_count; i++) {
        const struct shape *s = &shapes[i];
        double flops = 2.0 * s->m * s->n * s->k * s->calls;
        fprintf(f, "%c\t%c\t%d\t%d\t%d\t%ld\t%.4f\t%.2f\n", s->ta == 112 ? 'T' : 'N', s->tb == 112 ? 'T' : 'N',
                s->m, s->n, s->k, s->calls, s->seconds, s->seconds > 0 ? flops / s->seconds / 1e9 : 0);
    }
    if (overflow) fprintf(stderr, "gemm_profile: more than %d shapes; the rest were not counted\n", MAX_SHAPES);
    fclose(f);
}
