/* ISA-L: igzip's inflate (about three times zlib's speed) reads gzip inputs; its CRC-32 (the
   zlib / gzip polynomial, same values as zlib's crc32) checks frames. */
#include <isa-l/igzip_lib.h>
#include <isa-l/crc.h>

#if defined(__x86_64__)
#include <cpuid.h>
#endif

/* ISA-L's AVX/AVX-512 code returns with the upper halves of the vector registers in use; on many
   Intel cores every later SSE or VEX instruction of the caller then pays a state-transition
   penalty (libm's log2 ran 5x slower in tokenize after reading a gzipped barcode file). This
   clears them (`vzeroupper`) when the CPU has AVX. */
static inline void scgrn_isal_clear_upper(void) {
#if defined(__x86_64__)
    static int hasAVX = -1;
    if (hasAVX < 0) {
        unsigned a = 0, b = 0, c = 0, d = 0;
        hasAVX = __get_cpuid(1, &a, &b, &c, &d) && (c & bit_AVX) && (c & bit_OSXSAVE);
    }
    if (hasAVX) __asm__ volatile("vzeroupper");
#endif
}

/* isal_inflate, then scgrn_isal_clear_upper. */
static inline int scgrn_isal_inflate(struct inflate_state *state) {
    int rc = isal_inflate(state);
    scgrn_isal_clear_upper();
    return rc;
}

/* CRC-32 of `len` bytes continuing from `crc` (0 to start), as zlib's crc32; then
   scgrn_isal_clear_upper. */
static inline uint32_t scgrn_isal_crc32(uint32_t crc, const unsigned char *buf, uint64_t len) {
    uint32_t c = crc32_gzip_refl(crc, buf, len);
    scgrn_isal_clear_upper();
    return c;
}
