/* The kernels OpenBLAS runs on, and how the program's threads treat subnormal floats: see
 * include/cblascore.h. Both happen in one constructor, so they run after OpenBLAS's own (a
 * library's initialisers run before those of the program that loads it) and before main: before a
 * tool parses its arguments, opens a file or reads standard input, and before a test runner has
 * started a test. OpenBLAS reads OPENBLAS_CORETYPE only when it loads, hence a new process image
 * rather than a switch in place. */
#define _GNU_SOURCE /* RTLD_DEFAULT */
#include "cblascore.h"

#include <cblas.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

const char *scgrn_blas_feature_core(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    if (avx512 && __builtin_cpu_supports("avx512bf16")) return "Cooperlake";
    if (avx512) return "SkylakeX";
    /* Not Haswell or Zen for AVX2: their sgemm rounds a row of the product differently by where it
     * falls in the matrix, so a subset of rows, equal input rows or another thread count give other
     * bits. The AVX kernels do not (include/cblascore.h). */
    if (__builtin_cpu_supports("avx")) return "Sandybridge";
#endif
    return NULL;
}

int scgrn_blas_should_replace(const char *loaded, const char *requested, const char *feature) {
    return requested == NULL && loaded != NULL && feature != NULL && strcasecmp(loaded, feature) != 0;
}

int scgrn_subnormals_flushed(void) {
#if defined(__x86_64__)
    return _MM_GET_FLUSH_ZERO_MODE() == _MM_FLUSH_ZERO_ON && _MM_GET_DENORMALS_ZERO_MODE() == _MM_DENORMALS_ZERO_ON;
#else
    return 0;
#endif
}

/* Executes the same program with the same arguments once more, with OPENBLAS_CORETYPE set (so the
 * new process keeps what it loads). If exec fails the process goes on with the kernels it has. */
static void use_kernels_of_this_cpu(char **argv) {
    const char *core = scgrn_blas_feature_core();
    if (!scgrn_blas_should_replace(openblas_get_corename(), getenv("OPENBLAS_CORETYPE"), core)) return;
    if (argv == NULL || setenv("OPENBLAS_CORETYPE", core, 1) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE");
}

/* Sets flush-to-zero and denormals-are-zero for this thread, which the threads it starts inherit,
 * then stops OpenBLAS's worker threads (started when it loaded, before this, with the default
 * mode) so that its next parallel call starts them again from this thread. OpenBLAS builds without
 * that entry point (OpenMP, serial) start their threads later, from the program's, or none. */
static void flush_subnormals(void) {
#if defined(__x86_64__)
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
    int (*shutdown)(void) = (int (*)(void))dlsym(RTLD_DEFAULT, "blas_thread_shutdown_");
    if (shutdown != NULL) shutdown();
#endif
}

__attribute__((constructor)) static void scgrn_blas_start(int argc, char **argv) {
    (void)argc;
    use_kernels_of_this_cpu(argv);
    flush_subnormals();
}
