/* ckernels_body.h: the kernels of ckernels.h for one vector width, included once per variant by
 * ckernels.c with CK_W (lanes: 4, 8 or 16) and CK_SUFFIX (the variant's name) defined, inside a
 * region compiled for that variant's instruction set.
 *
 * The code uses the compiler's generic vector types, so the same source becomes SSE2, AVX2 or
 * AVX-512 code; a·b + c in one expression becomes one fused multiply-add where the target has
 * FMA (clang's default -ffp-contract=on). Tails shorter than a vector go through a small local
 * array padded with a neutral value, so no kernel reads or writes outside its rows.
 *
 * The math (the same as the float64 reference, PerformerReference.swift):
 *   exp: Cody–Waite reduction by ln 2 (n from the 1.5·2²³ rounding trick) and a degree-6
 *        polynomial on [−ln2/2, ln2/2], ≈ 1 ulp; inputs clamped to [−87.3, 88].
 *   erf: GELU(x) = x/2 · (1 + erf(x/√2)); 1 + erf(x/√2) = erfc(|x|/√2) for x < 0 (no
 *        cancellation) and 2 − erfc(x/√2) otherwise, with the Chebyshev fit of erfc
 *        erfc(z) = t·e^(−z² + P(t)), t = 1/(1 + z/2) (fractional error < 1.2e-7 for z ≥ 0);
 *        near zero 1 ± z·Q(z²) instead, Q a least-squares fit of erf(z)/z (see gelu).
 */

#define CK_CAT2(a, b) a##_##b
#define CK_CAT(a, b) CK_CAT2(a, b)
#define CK(name) CK_CAT(name, CK_SUFFIX)

/* MARK: - Types and helpers */

typedef float CK(vf) __attribute__((vector_size(4 * CK_W)));
typedef int CK(vi) __attribute__((vector_size(4 * CK_W)));
typedef float CK(vfh) __attribute__((vector_size(2 * CK_W)));  /* half the lanes, for float64 */
typedef double CK(vd) __attribute__((vector_size(4 * CK_W)));

#define VF CK(vf)
#define VI CK(vi)
#define VFH CK(vfh)
#define VD CK(vd)

static inline VF CK(splat)(float v) {
    VF r;
    for (int i = 0; i < CK_W; i++) r[i] = v;
    return r;
}

static inline VF CK(load)(const float *p) {
    VF v;
    __builtin_memcpy(&v, p, sizeof v);
    return v;
}

static inline void CK(store)(float *p, VF v) { __builtin_memcpy(p, &v, sizeof v); }

/* Loads n < CK_W values, the other lanes set to fill. */
static inline VF CK(load_part)(const float *p, long n, float fill) {
    float t[CK_W];
    for (long i = 0; i < CK_W; i++) t[i] = i < n ? p[i] : fill;
    return CK(load)(t);
}

static inline void CK(store_part)(float *p, VF v, long n) {
    float t[CK_W];
    CK(store)(t, v);
    for (long i = 0; i < n; i++) p[i] = t[i];
}

/* Lanes of b where mask is all ones, of a where it is zero. */
static inline VF CK(select)(VI mask, VF a, VF b) { return (VF)(((VI)a & ~mask) | ((VI)b & mask)); }

static inline VF CK(vmax)(VF a, VF b) { return CK(select)(a < b, a, b); }
static inline VF CK(vmin)(VF a, VF b) { return CK(select)(b < a, a, b); }

static inline float CK(hmax)(VF v) {
    float r = v[0];
    for (int i = 1; i < CK_W; i++) r = v[i] > r ? v[i] : r;
    return r;
}

static inline float CK(hsum)(VF v) {
    float r = 0;
    for (int i = 0; i < CK_W; i++) r += v[i];
    return r;
}

static inline double CK(hsumd)(VD v) {
    double r = 0;
    for (int i = 0; i < CK_W / 2; i++) r += v[i];
    return r;
}

/* MARK: - exp */

/* e^x for x in [−87.3, 88] (the caller clamps). */
static inline VF CK(exp_core)(VF x) {
    const VF magic = CK(splat)(12582912.0f);
    VF t = x * 1.44269504f + magic;
    VF n = t - magic;
    VF r = x - n * 0.693359375f;
    r = r - n * -2.12194440e-4f;
    VF p = r * 1.98756915e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    VF y = p * (r * r) + r + 1.0f;
    VI scale = (((VI)t - 0x4B400000) + 127) << 23;
    return y * (VF)scale;
}

static inline VF CK(vexp)(VF x) {
    return CK(exp_core)(CK(vmax)(CK(vmin)(x, CK(splat)(88.0f)), CK(splat)(-87.3f)));
}

/* e^x for x ≤ 88: only the lower clamp. */
static inline VF CK(vexp_low)(VF x) { return CK(exp_core)(CK(vmax)(x, CK(splat)(-87.3f))); }

static void CK(exp)(const float *x, float *out, long n) {
    long i = 0;
    for (; i + CK_W <= n; i += CK_W) CK(store)(out + i, CK(vexp)(CK(load)(x + i)));
    if (i < n) CK(store_part)(out + i, CK(vexp)(CK(load_part)(x + i, n - i, 0)), n - i);
}

/* MARK: - Maximum and norms */

static float CK(maximum)(const float *x, long rows, long cols, long ld) {
    const float lowest = -__FLT_MAX__;
    VF m0 = CK(splat)(lowest), m1 = m0;
    if (ld == cols) { cols *= rows; rows = 1; }
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * ld;
        long j = 0;
        for (; j + 2 * CK_W <= cols; j += 2 * CK_W) {
            m0 = CK(vmax)(m0, CK(load)(row + j));
            m1 = CK(vmax)(m1, CK(load)(row + j + CK_W));
        }
        for (; j + CK_W <= cols; j += CK_W) m0 = CK(vmax)(m0, CK(load)(row + j));
        if (j < cols) m1 = CK(vmax)(m1, CK(load_part)(row + j, cols - j, lowest));
    }
    return CK(hmax)(CK(vmax)(m0, m1));
}

static void CK(half_squared_norms)(const float *x, long rows, long width, long ld, float scale, float *diag) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * ld;
        VF a0 = CK(splat)(0), a1 = a0;
        long j = 0;
        for (; j + 2 * CK_W <= width; j += 2 * CK_W) {
            VF v0 = CK(load)(row + j), v1 = CK(load)(row + j + CK_W);
            a0 = v0 * v0 + a0;
            a1 = v1 * v1 + a1;
        }
        for (; j + CK_W <= width; j += CK_W) { VF v = CK(load)(row + j); a0 = v * v + a0; }
        if (j < width) { VF v = CK(load_part)(row + j, width - j, 0); a1 = v * v + a1; }
        diag[r] = (CK(hsum)(a0 + a1) / 2) * scale;
    }
}

/* MARK: - FAVOR+ feature maps */

/* Also a kernel of its own (the table's column_sums). */
static void CK(column_sums)(const float *x, long rows, long cols, long ld, double *sums) {
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * ld;
        long j = 0;
        for (; j + CK_W / 2 <= cols; j += CK_W / 2) {
            VFH h;
            VD s;
            __builtin_memcpy(&h, row + j, sizeof h);
            __builtin_memcpy(&s, sums + j, sizeof s);
            s += __builtin_convertvector(h, VD);
            __builtin_memcpy(sums + j, &s, sizeof s);
        }
        for (; j < cols; j++) sums[j] += (double)row[j];
    }
}


/* row ← ratio · (e^(row − shift) + eps) over m values; row − shift ≤ 88 assumed. */
static inline void CK(exp_features)(float *row, long m, float shift, float ratio, float eps) {
    const VF s = CK(splat)(shift), ra = CK(splat)(ratio), ep = CK(splat)(eps);
    long j = 0;
    for (; j + CK_W <= m; j += CK_W) CK(store)(row + j, ra * (CK(vexp_low)(CK(load)(row + j) - s) + ep));
    if (j < m) CK(store_part)(row + j, ra * (CK(vexp_low)(CK(load_part)(row + j, m - j, shift) - s) + ep), m - j);
}

static void CK(query_features)(float *u, long rows, long m, long ld, const float *diag, float ratio, float eps) {
    for (long r = 0; r < rows; r++) {
        float *row = u + r * ld;
        float mx = CK(maximum)(row, 1, m, m);
        CK(exp_features)(row, m, diag[r] + mx, ratio, eps);
    }
}

static void CK(key_features)(float *u, long rows, long m, long ld, const float *diag, float stabiliser,
                             float ratio, float eps, double *sums) {
    for (long r = 0; r < rows; r++) {
        float *row = u + r * ld;
        CK(exp_features)(row, m, diag[r] + stabiliser, ratio, eps);
        CK(column_sums)(row, 1, m, m, sums);
    }
}

/* MARK: - GELU */

static inline VF CK(gelu)(VF x) {
    const VI sign = (VI)x >> 31;  /* all ones where the sign bit is set */
    const VF z = (VF)((VI)x & 0x7FFFFFFF) * 0.70710678118654752f;
    const VF one = CK(splat)(1.0f);
    VF t = one / (z * 0.5f + one);
    VF p = t * 0.17087277f + -0.82215223f;
    p = p * t + 1.48851587f;
    p = p * t + -1.13520398f;
    p = p * t + 0.27886807f;
    p = p * t + -0.18628806f;
    p = p * t + 0.09678418f;
    p = p * t + 0.37409196f;
    p = p * t + 1.00002368f;
    p = p * t + -1.26551223f;
    VF erfc = t * CK(vexp)(p - z * z);
    VF onePlusErf = CK(select)(sign, 2.0f - erfc, erfc);
    /* Near zero, erf itself: erf(z) = z·Q(z²), a degree-6 fit in z² with relative error 3e-10 on
     * [0, 0.9]; used where 1 ± erf does not cancel much (z < 0.9 for x ≥ 0, z < 0.5 for x < 0),
     * as the erfc fit's 1.2e-7 would be several ulps of 1 + erf there. */
    const VF z2 = z * z;
    VF q = z2 * 8.505044388584793e-05f + -0.0008173712412826717f;
    q = q * z2 + 0.0052036866545677185f;
    q = q * z2 + -0.026860438287258148f;
    q = q * z2 + 0.11283713579177856f;
    q = q * z2 + -0.37612634897232056f;
    q = q * z2 + 1.128379225730896f;
    const VF erf = z * q;
    const VF nearZero = CK(select)(sign, CK(splat)(0.9f), CK(splat)(0.5f));
    const VI small = z < nearZero;
    const VF onePlusSmall = CK(select)(sign, 1.0f + erf, 1.0f - erf);
    onePlusErf = CK(select)(small, onePlusErf, onePlusSmall);
    return (x * 0.5f) * onePlusErf;
}

static void CK(bias_gelu)(float *x, long rows, long cols, long ld, const float *bias) {
    for (long r = 0; r < rows; r++) {
        float *row = x + r * ld;
        long j = 0;
        for (; j + CK_W <= cols; j += CK_W) CK(store)(row + j, CK(gelu)(CK(load)(row + j) + CK(load)(bias + j)));
        if (j < cols) {
            long n = cols - j;
            CK(store_part)(row + j, CK(gelu)(CK(load_part)(row + j, n, 0) + CK(load_part)(bias + j, n, 0)), n);
        }
    }
}

/* MARK: - LayerNorm */

static void CK(layer_norm)(float *x, float *out, long rows, long d, const float *weight, const float *bias,
                           float eps, const float *add) {
    const long h = CK_W / 2;
    for (long r = 0; r < rows; r++) {
        float *xr = x + r * d, *o = out + r * d;
        VD s = {0};
        double st = 0;
        long j = 0;
        for (; j + h <= d; j += h) {
            VFH v;
            __builtin_memcpy(&v, xr + j, sizeof v);
            s += __builtin_convertvector(v, VD);
        }
        for (; j < d; j++) st += (double)xr[j];
        const double mean = (CK(hsumd)(s) + st) / (double)d;
        VD q = {0};
        double qt = 0;
        for (j = 0; j + h <= d; j += h) {
            VFH v;
            __builtin_memcpy(&v, xr + j, sizeof v);
            VD c = __builtin_convertvector(v, VD) - mean;
            q = c * c + q;
        }
        for (; j < d; j++) { double c = (double)xr[j] - mean; qt += c * c; }
        const double var = (CK(hsumd)(q) + qt) / (double)d;
        const float fm = (float)mean, fr = (float)(1 / __builtin_sqrt(var + (double)eps));
        for (j = 0; j + CK_W <= d; j += CK_W) {
            VF v = CK(load)(xr + j);
            CK(store)(o + j, (v - fm) * fr * CK(load)(weight + j) + CK(load)(bias + j));
            if (add) CK(store)(xr + j, v + CK(load)(add + j));
        }
        for (; j < d; j++) {
            float v = xr[j];
            o[j] = (v - fm) * fr * weight[j] + bias[j];
            if (add) xr[j] = v + add[j];
        }
    }
}

/* MARK: - Attention normalisation */


static void CK(divide_by_last)(const float *src, long rows, long cols, long lds, float *dst, long ldd) {
    for (long r = 0; r < rows; r++) {
        const float *s = src + r * lds;
        float *o = dst + r * ldd;
        const VF inv = CK(splat)(1.0f / s[cols]);
        long j = 0;
        for (; j + CK_W <= cols; j += CK_W) CK(store)(o + j, CK(load)(s + j) * inv);
        for (; j < cols; j++) o[j] = s[j] * inv[0];
    }
}

/* MARK: - Graph attention over CSR neighbour lists */

/* Σ x[j]·y[j]: lanes accumulated in index order, summed, then the tail. */
static inline float CK(dot)(const float *x, const float *y, long n) {
    VF acc = CK(splat)(0.0f);
    long j = 0;
    for (; j + CK_W <= n; j += CK_W) acc += CK(load)(x + j) * CK(load)(y + j);
    float s = CK(hsum)(acc);
    for (; j < n; j++) s += x[j] * y[j];
    return s;
}

/* s[t] = CK(dot)(x[t], y[t], n) for t = 0, 1, interleaved (two independent chains). */
static inline void CK(dot2)(const float *const *x, const float *const *y, long n, float *s) {
    VF a0 = CK(splat)(0.0f), a1 = a0;
    long j = 0;
    for (; j + CK_W <= n; j += CK_W) {
        a0 += CK(load)(x[0] + j) * CK(load)(y[0] + j);
        a1 += CK(load)(x[1] + j) * CK(load)(y[1] + j);
    }
    float s0 = 0, s1 = 0;
    for (int i = 0; i < CK_W; i++) { s0 += a0[i]; s1 += a1[i]; }
    for (; j < n; j++) { s0 += x[0][j] * y[0][j]; s1 += x[1][j] * y[1][j]; }
    s[0] = s0; s[1] = s1;
}

/* The neighbour kernels run per node and head over the edges whose weight is nonzero (dropped-out
 * edges add nothing; the weight gradient skips them too, see ckernels.h), listed first without
 * branches (a branch per edge is mispredicted half the time at dropout 0.5). Aggregation keeps a
 * row block of up to CK_NB vectors in registers over that list: one load and one store per
 * element instead of one per edge. Each element still sees the same operations in the same order
 * as an edge-by-edge axpy: its start value, then + w·x (one fused multiply-add) per edge, in
 * edge order. */
#define CK_NB 8

/* o[c0 ..< c0 + nb·CK_W] = start (or 0) + Σ_t a[t] · src_t over the listed sources. */
static inline __attribute__((always_inline)) void CK(weighted_block)(int nb, const float *a, const float *const *src,
                                                                     long count, long c0, const float *start, float *o) {
    VF acc[CK_NB];
    for (int q = 0; q < nb; q++) acc[q] = start ? CK(load)(start + c0 + q * CK_W) : CK(splat)(0.0f);
    for (long t = 0; t < count; t++) {
        const VF av = CK(splat)(a[t]);
        const float *x = src[t] + c0;
        for (int q = 0; q < nb; q++) acc[q] = acc[q] + av * CK(load)(x + q * CK_W);
    }
    for (int q = 0; q < nb; q++) CK(store)(o + c0 + q * CK_W, acc[q]);
}

/* o[c] = start[c] (or 0) + Σ_t a[t] · src[t][c] for c in 0..<d. */
static void CK(weighted_rows)(const float *a, const float *const *src, long count, long d, const float *start, float *o) {
    long c0 = 0;
    for (; c0 + CK_NB * CK_W <= d; c0 += CK_NB * CK_W) CK(weighted_block)(CK_NB, a, src, count, c0, start, o);
    if (c0 + 4 * CK_W <= d) { CK(weighted_block)(4, a, src, count, c0, start, o); c0 += 4 * CK_W; }
    if (c0 + 2 * CK_W <= d) { CK(weighted_block)(2, a, src, count, c0, start, o); c0 += 2 * CK_W; }
    if (c0 + CK_W <= d) { CK(weighted_block)(1, a, src, count, c0, start, o); c0 += CK_W; }
    for (; c0 < d; c0++) {
        float acc = start ? start[c0] : 0.0f;
        for (long t = 0; t < count; t++) acc += a[t] * src[t][c0];
        o[c0] = acc;
    }
}

/* Sources listed per call; longer lists go in pieces (the sums continue from the piece before). */
#define CK_LIST 256

static void CK(neighbour_aggregate)(const float *w, const float *v, const long *offsets, const int *nb,
                                    long lo, long hi, long h, long d, float *out) {
    const long width = h * d;
    float a[CK_LIST];
    const float *src[CK_LIST];
    for (long i = lo; i < hi; i++)
        for (long k = 0; k < h; k++) {
            float *o = out + i * width + k * d;
            const float *start = 0;   /* the first piece starts from zero (a node without edges: one empty piece) */
            for (long e0 = offsets[i]; e0 < offsets[i + 1] || !start; e0 += CK_LIST) {
                const long e1 = offsets[i + 1] - e0 < CK_LIST ? offsets[i + 1] : e0 + CK_LIST;
                long count = 0;
                for (long e = e0; e < e1; e++) {
                    a[count] = w[e * h + k];
                    src[count] = v + (long)nb[e] * width + k * d;
                    count += a[count] != 0;
                }
                CK(weighted_rows)(a, src, count, d, start, o);
                start = o;
            }
        }
}

static void CK(neighbour_weight_grad)(const float *w, const float *g, const float *v, const long *offsets,
                                      const int *nb, long lo, long hi, long h, long d, int fresh, float *gw) {
    const long width = h * d;
    const float *x[CK_LIST], *y[CK_LIST];
    long at[CK_LIST];
    for (long i = lo; i < hi; i++) {
        const float *gi = g + i * width;
        if (fresh) for (long p = offsets[i] * h; p < offsets[i + 1] * h; p++) gw[p] = 0;
        if (h > CK_LIST) {   /* more heads than a list holds: one pair at a time */
            for (long p = offsets[i] * h; p < offsets[i + 1] * h; p++)
                if (w[p] != 0) gw[p] += CK(dot)(gi + p % h * d, v + (long)nb[p / h] * width + p % h * d, d);
            continue;
        }
        for (long e0 = offsets[i]; e0 < offsets[i + 1]; e0 += CK_LIST / h) {
            const long e1 = offsets[i + 1] - e0 < CK_LIST / h ? offsets[i + 1] : e0 + CK_LIST / h;
            long count = 0;
            for (long e = e0; e < e1; e++)
                for (long k = 0; k < h; k++) {
                    at[count] = e * h + k;
                    x[count] = gi + k * d;
                    y[count] = v + (long)nb[e] * width + k * d;
                    count += w[e * h + k] != 0;
                }
            long t = 0;
            for (; t + 2 <= count; t += 2) {
                float s[2];
                CK(dot2)(x + t, y + t, d, s);
                gw[at[t]] += s[0];
                gw[at[t + 1]] += s[1];
            }
            if (t < count) gw[at[t]] += CK(dot)(x[t], y[t], d);
        }
    }
}

static void CK(neighbour_value_grad)(const float *w, const float *g, const long *reverse_offsets,
                                     const int *reverse_edges, const int *rows, long lo, long hi, long h,
                                     long d, float *gv) {
    const long width = h * d;
    float a[CK_LIST];
    const float *src[CK_LIST];
    for (long j = lo; j < hi; j++)
        for (long k = 0; k < h; k++) {
            float *dst = gv + j * width + k * d;
            for (long r0 = reverse_offsets[j]; r0 < reverse_offsets[j + 1]; r0 += CK_LIST) {
                const long r1 = reverse_offsets[j + 1] - r0 < CK_LIST ? reverse_offsets[j + 1] : r0 + CK_LIST;
                long count = 0;
                for (long r = r0; r < r1; r++) {
                    const long e = reverse_edges[r];
                    a[count] = w[e * h + k];
                    src[count] = g + (long)rows[e] * width + k * d;
                    count += a[count] != 0;
                }
                CK(weighted_rows)(a, src, count, d, dst, dst);
            }
        }
}

/* MARK: - Leaky ReLU */

static void CK(leaky_relu)(const float *x, float *y, long n, float slope) {
    for (long i = 0; i < n; i++) y[i] = x[i] > 0 ? x[i] : x[i] * slope;
}

static void CK(leaky_relu_backward)(const float *x, const float *g, float *gx, long n, float slope, int fresh) {
    if (fresh) for (long i = 0; i < n; i++) gx[i] = x[i] > 0 ? g[i] : g[i] * slope;
    else for (long i = 0; i < n; i++) gx[i] = gx[i] + (x[i] > 0 ? g[i] : g[i] * slope);
}

/* MARK: - Row L2 normalisation */

/* Σ a[j]·b[j] over n values as the engine's Swift dot (Train/Ops/Vector.swift) sums it: eight
 * lanes of products accumulated in index order, the lanes added in order, then the tail; no fused
 * multiply-add. The same floats on every variant. */
typedef float CK(v8) __attribute__((vector_size(32)));
static inline float CK(dot8)(const float *a, const float *b, long n) {
#pragma STDC FP_CONTRACT OFF
    CK(v8) acc = {0, 0, 0, 0, 0, 0, 0, 0};
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        CK(v8) x, y;
        __builtin_memcpy(&x, a + i, sizeof x);
        __builtin_memcpy(&y, b + i, sizeof y);
        acc += x * y;
    }
    float s = 0;
    for (int l = 0; l < 8; l++) s += acc[l];
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static void CK(l2_normalize)(const float *x, float *y, float *norms, long rows, long d, float eps) {
#pragma STDC FP_CONTRACT OFF
    for (long r = 0; r < rows; r++) {
        const float *row = x + r * d;
        const float norm = __builtin_sqrtf(CK(dot8)(row, row, d));
        norms[r] = norm;
        const float inv = 1 / (norm > eps ? norm : eps);
        for (long j = 0; j < d; j++) y[r * d + j] = row[j] * inv;
    }
}

static void CK(l2_normalize_backward)(const float *y, const float *g, const float *norms, float *gx, long rows,
                                      long d, float eps, int fresh) {
#pragma STDC FP_CONTRACT OFF
    for (long r = 0; r < rows; r++) {
        const float *yr = y + r * d, *gr = g + r * d;
        float *o = gx + r * d;
        if (norms[r] > eps) {
            const float dot = CK(dot8)(yr, gr, d), inv = 1 / norms[r];
            if (fresh) for (long j = 0; j < d; j++) o[j] = (gr[j] - yr[j] * dot) * inv;
            else for (long j = 0; j < d; j++) o[j] = o[j] + (gr[j] - yr[j] * dot) * inv;
        } else {
            const float inv = 1 / eps;
            if (fresh) for (long j = 0; j < d; j++) o[j] = gr[j] * inv;
            else for (long j = 0; j < d; j++) o[j] = o[j] + gr[j] * inv;
        }
    }
}

/* MARK: - Attention scores */

static void CK(head_dots)(const float *x, const float *a1, const float *a2, long lo, long hi, long h, long d,
                          float *s1, float *s2) {
    for (long i = lo; i < hi; i++)
        for (long k = 0; k < h; k++) {
            const float *row = x + (i * h + k) * d;
            s1[i * h + k] = CK(dot8)(row, a1 + k * d, d);
            s2[i * h + k] = CK(dot8)(row, a2 + k * d, d);
        }
}

static void CK(head_dots_backward_x)(const float *g1, const float *g2, const float *a1, const float *a2, long lo,
                                     long hi, long h, long d, int fresh, float *gx) {
#pragma STDC FP_CONTRACT OFF
    for (long i = lo; i < hi; i++)
        for (long k = 0; k < h; k++) {
            const float c1 = g1[i * h + k], c2 = g2[i * h + k], *a1k = a1 + k * d, *a2k = a2 + k * d;
            float *o = gx + (i * h + k) * d;
            if (fresh) for (long j = 0; j < d; j++) o[j] = c2 * a2k[j] + c1 * a1k[j];
            else for (long j = 0; j < d; j++) o[j] = (o[j] + c2 * a2k[j]) + c1 * a1k[j];
        }
}

static void CK(head_dots_backward_a)(const float *x, const float *g1, const float *g2, long n, long h, long d,
                                     float *ga1, float *ga2) {
#pragma STDC FP_CONTRACT OFF
    for (long i = 0; i < n; i++)
        for (long k = 0; k < h; k++) {
            const float *row = x + (i * h + k) * d;
            if (ga1) { const float c = g1[i * h + k]; float *o = ga1 + k * d; for (long j = 0; j < d; j++) o[j] = o[j] + c * row[j]; }
            if (ga2) { const float c = g2[i * h + k]; float *o = ga2 + k * d; for (long j = 0; j < d; j++) o[j] = o[j] + c * row[j]; }
        }
}

/* MARK: - Adam */

/* Adam's update, each operation rounded separately in the order Optim/Adam.swift writes it (no
 * fused multiply-add, as PyTorch's own update): the same floats as the plain loop. */
static void CK(adam)(float *x, const float *g, float *m, float *v, long n, float b1, float b2,
                     float step_size, float bc2_sqrt, float eps) {
#pragma STDC FP_CONTRACT OFF
    const float c1 = 1 - b1, c2 = 1 - b2;
    long i = 0;
    for (; i + CK_W <= n; i += CK_W) {
        const VF gi = CK(load)(g + i);
        VF mi = CK(load)(m + i), vi = CK(load)(v + i);
        mi = mi + c1 * (gi - mi);
        vi = b2 * vi + c2 * gi * gi;
        const VF denom = __builtin_elementwise_sqrt(vi) / bc2_sqrt + eps;
        CK(store)(x + i, CK(load)(x + i) - step_size * (mi / denom));
        CK(store)(m + i, mi);
        CK(store)(v + i, vi);
    }
    for (; i < n; i++) {
        m[i] = m[i] + c1 * (g[i] - m[i]);
        v[i] = b2 * v[i] + c2 * g[i] * g[i];
        const float denom = __builtin_sqrtf(v[i]) / bc2_sqrt + eps;
        x[i] = x[i] - step_size * (m[i] / denom);
    }
}

/* MARK: - ELU */

/* e^x − 1 for x ≤ 0: e^x − 1 below −ln2/2 (no cancellation there: the result is at least 0.29 in
 * magnitude), the Taylor series to x⁸ above (truncation error < 1e-9 relative). */
static inline VF CK(expm1_nonpositive)(VF x) {
    VF p = x * (1.0f / 40320) + (1.0f / 5040);
    p = p * x + (1.0f / 720);
    p = p * x + (1.0f / 120);
    p = p * x + (1.0f / 24);
    p = p * x + (1.0f / 6);
    p = p * x + 0.5f;
    p = p * x + 1.0f;
    const VF series = p * x;
    const VF viaExp = CK(vexp)(x) - 1.0f;
    return CK(select)(x < -0.34657359f, series, viaExp);
}

static void CK(elu)(const float *x, float *y, long n, float alpha) {
    long i = 0;
    for (; i + CK_W <= n; i += CK_W) {
        const VF v = CK(load)(x + i);
        const VF neg = CK(vmin)(v, CK(splat)(0.0f));
        CK(store)(y + i, CK(select)(v > 0.0f, CK(expm1_nonpositive)(neg) * alpha, v));
    }
    if (i < n) {
        const VF v = CK(load_part)(x + i, n - i, 0.0f);
        const VF neg = CK(vmin)(v, CK(splat)(0.0f));
        CK(store_part)(y + i, CK(select)(v > 0.0f, CK(expm1_nonpositive)(neg) * alpha, v), n - i);
    }
}

static void CK(elu_backward)(const float *x, const float *y, const float *g, float *gx, long n, float alpha,
                             int fresh) {
    for (long i = 0; i < n; i++) {
        const float d = g[i] * (x[i] > 0 ? 1.0f : y[i] + alpha);
        gx[i] = fresh ? d : gx[i] + d;
    }
}

/* MARK: - Table */

static const ck_kernels CK(table) = {
    .variant = CK_VARIANT_ID,
    .name = CK_NAME,
    .exp = CK(exp),
    .maximum = CK(maximum),
    .half_squared_norms = CK(half_squared_norms),
    .query_features = CK(query_features),
    .key_features = CK(key_features),
    .bias_gelu = CK(bias_gelu),
    .layer_norm = CK(layer_norm),
    .column_sums = CK(column_sums),
    .divide_by_last = CK(divide_by_last),
    .neighbour_aggregate = CK(neighbour_aggregate),
    .neighbour_weight_grad = CK(neighbour_weight_grad),
    .neighbour_value_grad = CK(neighbour_value_grad),
    .elu = CK(elu),
    .adam = CK(adam),
    .head_dots = CK(head_dots),
    .head_dots_backward_x = CK(head_dots_backward_x),
    .head_dots_backward_a = CK(head_dots_backward_a),
    .leaky_relu = CK(leaky_relu),
    .leaky_relu_backward = CK(leaky_relu_backward),
    .l2_normalize = CK(l2_normalize),
    .l2_normalize_backward = CK(l2_normalize_backward),
    .elu_backward = CK(elu_backward),
};

#undef VF
#undef VI
#undef VFH
#undef VD
#undef CK
#undef CK_CAT
#undef CK_CAT2
