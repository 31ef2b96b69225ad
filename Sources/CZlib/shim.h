#include <zlib.h>

/* inflateInit2 and deflateInit2 are macros, which Swift cannot import: wrap them. */
static inline int scgrn_inflateInit2(z_streamp strm, int windowBits) {
    return inflateInit2(strm, windowBits);
}
static inline int scgrn_deflateInit2(z_streamp strm, int level, int windowBits) {
    return deflateInit2(strm, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
