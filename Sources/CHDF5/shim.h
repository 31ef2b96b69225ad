/* libhdf5 (the serial build; Debian's libhdf5-dev puts its headers under hdf5/serial, which
   pkg-config's hdf5.pc adds to the include path): tokenize reads AnnData .h5ad, loom and 10x
   .h5 files through it. HDF5's handles for its predefined types and property lists are macros
   that call into the library, which Swift cannot import; these inline functions name them. */
#include <hdf5.h>

static inline hid_t scgrn_h5_default(void) { return H5P_DEFAULT; }
static inline hid_t scgrn_h5_all(void) { return H5S_ALL; }
static inline hid_t scgrn_h5t_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t scgrn_h5t_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t scgrn_h5t_c_s1(void) { return H5T_C_S1; }
static inline size_t scgrn_h5t_variable(void) { return H5T_VARIABLE; }

/* Opens a file read-only, or returns a negative id. */
static inline hid_t scgrn_h5_open_readonly(const char *path) {
    return H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
}

/* Turns off the library's printing of its error stack: callers report errors themselves. */
static inline void scgrn_h5_silence(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

/* Frees the strings H5Dread/H5Aread allocated for variable-length string data. */
static inline herr_t scgrn_h5_reclaim(hid_t type, hid_t space, void *buffer) {
#if H5_VERSION_GE(1, 12, 0)
    return H5Treclaim(type, space, H5P_DEFAULT, buffer);
#else
    return H5Dvlen_reclaim(type, space, H5P_DEFAULT, buffer);
#endif
}
