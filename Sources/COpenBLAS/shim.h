#include <cblas.h>

/* OpenBLAS's threaded builds export this (not in cblas.h): it stops the pool of worker threads,
   which OpenBLAS starts when it loads and which spin on sched_yield for about 0.1 s before they
   sleep. Declared weak, so a build without the pool (or another BLAS) links and skips it. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

static inline void scgrn_blas_stop_threads(void) {
    if (blas_thread_shutdown_) blas_thread_shutdown_();
}
