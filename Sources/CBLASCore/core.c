/* The kernels OpenBLAS runs on: see include/cblascore.h. The restart is a constructor, so it runs
 * after OpenBLAS's own (a library's initialisers run before those of the program that loads it)
 * and before main: before a tool parses its arguments, opens a file or reads standard input, and
 * before a test runner has started a test. OpenBLAS reads OPENBLAS_CORETYPE only when it loads,
 * hence a new process image rather than a switch in place. */
#include "cblascore.h"

#include <cblas.h>
#include <stdlib.h>
#include <strings.h>
#include <unistd.h>

const char *scgrn_blas_feature_core(void) {
#if defined(__x86_64__)
    __builtin_cpu_init();
    int avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                 __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl");
    if (avx512 && __builtin_cpu_supports("avx512bf16")) return "Cooperlake";
    if (avx512) return "SkylakeX";
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
#endif
    return NULL;
}

int scgrn_blas_should_replace(const char *loaded, const char *requested, const char *feature) {
    return requested == NULL && loaded != NULL && feature != NULL && strcasecmp(loaded, "Prescott") == 0;
}

/* Executes the same program with the same arguments once more, with OPENBLAS_CORETYPE set (so the
 * new process keeps what it loads). If exec fails the process goes on with the kernels it has. */
__attribute__((constructor)) static void scgrn_blas_use_kernels_of_this_cpu(int argc, char **argv) {
    (void)argc;
    const char *core = scgrn_blas_feature_core();
    if (!scgrn_blas_should_replace(openblas_get_corename(), getenv("OPENBLAS_CORETYPE"), core)) return;
    if (argv == NULL || setenv("OPENBLAS_CORETYPE", core, 1) != 0) return;
    execv("/proc/self/exe", argv);
    unsetenv("OPENBLAS_CORETYPE");
}
