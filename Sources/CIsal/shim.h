/* ISA-L's igzip: a faster inflate than zlib's, used to read gzip inputs. */
#include <isa-l/igzip_lib.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

/* isal_inflate, then `vzeroupper` when the CPU has AVX. ISA-L's AVX/AVX-512 decoder returns with
   the upper halves of the vector registers in use; on many Intel cores every later SSE or VEX
   instruction of the caller then pays a state-transition penalty (libm's log2 ran 5x slower in
   tokenize after reading a gzipped barcode file). */
static inline int scgrn_isal_inflate(struct inflate_state *state) {
    int rc = isal_inflate(state);
#if defined(__x86_64__)
    static int hasAVX = -1;
    if (hasAVX < 0) {
        unsigned a = 0, b = 0, c = 0, d = 0;
        hasAVX = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AVX) && (c & bit_OSXSAVE);
    }
    if (hasAVX) __asm__ volatile("vzeroupper");
#endif
    return rc;
}
