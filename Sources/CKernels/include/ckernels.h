/* ckernels.h: the element-wise and row-wise hot loops of the Performer forward and of the
 * training engine (graph attention's neighbour aggregation and scores, ELU, LeakyReLU, row L2
 * normalisation, Adam), in C with run-time CPU dispatch.
 *
 * Each kernel is compiled three times — plain C (the baseline x86-64 target, SSE2), AVX2+FMA and
 * AVX-512 (F, BW, DQ, VL) — from one source (ckernels_body.h), and the best variant this CPU
 * supports is chosen once, by `__builtin_cpu_supports`, so the binary stays portable.
 * `ck_table(variant)` gives the table of one variant explicitly (tests compare every variant the
 * CPU can run against the float64 reference); the plain `ck_*` functions use the best one.
 *
 * Matrices are row-major float32 with an explicit row stride (ld, in values). Sizes are `long`.
 * The Performer's Swift wrapper is Sources/Shared/Models/PerformerKernels.swift (reference:
 * PerformerReference.swift); the training engine calls its kernels from Shared/Train/Ops and
 * Optim (tests: TrainKernelVariantTests).
 */
#ifndef SCGRN_CKERNELS_H
#define SCGRN_CKERNELS_H

#ifdef __cplusplus
extern "C" {
#endif

/* Variants, in increasing order of preference. */
enum {
    CK_VARIANT_BEST = 0,    /* the best variant this CPU supports */
    CK_VARIANT_GENERIC = 1, /* plain C, 4 lanes, baseline x86-64 (or any other architecture) */
    CK_VARIANT_AVX2 = 2,    /* 8 lanes, AVX2 + FMA */
    CK_VARIANT_AVX512 = 3   /* 16 lanes, AVX-512 F/BW/DQ/VL */
};

/* One variant's kernels. */
typedef struct ck_kernels {
    /* The variant's number (CK_VARIANT_*) and name ("generic", "avx2", "avx512"). */
    int variant;
    const char *name;

    /* out[i] = e^x[i] for n values (in place allowed). Inputs are clamped to [-87.3, 88]. */
    void (*exp)(const float *x, float *out, long n);

    /* The largest value of a [rows, cols] block with row stride ld (finite values). */
    float (*maximum)(const float *x, long rows, long cols, long ld);

    /* diag[r] = scale · (Σ_e x[r,e]²) / 2 for rows of `width` values at stride ld. */
    void (*half_squared_norms)(const float *x, long rows, long width, long ld, float scale, float *diag);

    /* The FAVOR+ query feature map in place, per row of m values at stride ld:
     * u ← ratio · (e^(u − diag[r] − max_j u[r,j]) + eps). */
    void (*query_features)(float *u, long rows, long m, long ld, const float *diag, float ratio, float eps);

    /* The FAVOR+ key feature map in place with one stabiliser for all rows:
     * u ← ratio · (e^(u − diag[r] − stabiliser) + eps); adds each column's sum into sums[m]
     * (float64). Requires u − diag − stabiliser ≤ 88 (true when stabiliser is the maximum of u
     * and diag ≥ 0). */
    void (*key_features)(float *u, long rows, long m, long ld, const float *diag, float stabiliser,
                         float ratio, float eps, double *sums);

    /* x[r,j] = GELU(x[r,j] + bias[j]) (the exact-erf GELU) over a [rows, cols] block at stride ld. */
    void (*bias_gelu)(float *x, long rows, long cols, long ld, const float *bias);

    /* out[r,:] = (x[r,:] − mean) / sqrt(var + eps) · weight + bias per row of d values (contiguous,
     * mean and biased variance accumulated in float64); then, if add is not NULL,
     * x[r,:] += add[:] (the next residual's bias, folded into this pass over x). */
    void (*layer_norm)(float *x, float *out, long rows, long d, const float *weight, const float *bias,
                       float eps, const float *add);

    /* sums[j] += Σ_r x[r, j] (in float64) over a [rows, cols] block at stride ld. */
    void (*column_sums)(const float *x, long rows, long cols, long ld, double *sums);

    /* dst[r, j] = src[r, j] / src[r, cols] for j < cols: rows of a [rows, cols+1] block at stride
     * lds whose last column is the divisor, written to stride ldd. */
    void (*divide_by_last)(const float *src, long rows, long cols, long lds, float *dst, long ldd);

    /* Graph attention over CSR neighbour lists (Shared/Train/Ops/Graph.swift): nodes lo..<hi, rows of
     * h heads × d values; node i's edges are offsets[i]..<offsets[i+1], edge e's neighbour nb[e].
     * out[i,k,:] = Σ_e w[e,k] · v[nb[e],k,:] (written, not accumulated: zero without edges).
     * Here and in neighbour_value_grad a zero weight (a dropped-out edge) is skipped, not multiplied. */
    void (*neighbour_aggregate)(const float *w, const float *v, const long *offsets, const int *nb,
                                long lo, long hi, long h, long d, float *out);

    /* gw[e,k] = g[i,k,:] · v[nb[e],k,:] for the edges e of nodes i in lo..<hi (added to gw unless
     * fresh is nonzero) where w[e,k] ≠ 0; where w[e,k] = 0 the gradient is taken as 0 (set when
     * fresh, else left unchanged). The weights are dropout of a softmax, where a zero weight's
     * gradient is multiplied by zero on the way back in any case (dropout's mask, or the softmax's
     * own output in its Jacobian), so skipping it changes nothing and halves the work. */
    void (*neighbour_weight_grad)(const float *w, const float *g, const float *v, const long *offsets,
                                  const int *nb, long lo, long hi, long h, long d, int fresh, float *gw);

    /* gv[j,k,:] += Σ_r w[e,k] · g[rows[e],k,:] with e = reverse_edges[r] over node j's reverse list
     * reverse_offsets[j]..<reverse_offsets[j+1] (edges in increasing order), for j in lo..<hi. */
    void (*neighbour_value_grad)(const float *w, const float *g, const long *reverse_offsets,
                                 const int *reverse_edges, const int *rows, long lo, long hi, long h,
                                 long d, float *gv);

    /* y[i] = x[i] for x[i] > 0, alpha · (e^x[i] − 1) otherwise (ELU, with an accurate e^x − 1). */
    void (*elu)(const float *x, float *y, long n, float alpha);

    /* gx[i] = g[i] · (1 for x[i] > 0, y[i] + alpha otherwise), y the ELU's output; added to gx unless
     * fresh is nonzero. */
    void (*elu_backward)(const float *x, const float *y, const float *g, float *gx, long n, float alpha, int fresh);

    /* Adam (Optim/Adam.swift) over n values: m += (1−β1)(g − m); v = β2·v + (1−β2)·g·g;
     * x −= step_size · (m / (√v / bc2_sqrt + eps)); each operation rounded on its own. */
    void (*adam)(float *x, const float *g, float *m, float *v, long n, float b1, float b2,
                 float step_size, float bc2_sqrt, float eps);

    /* y[i] = x[i] for x[i] > 0, slope · x[i] otherwise; backward gx[i] = g[i] or slope · g[i] (the
     * left derivative at 0, as PyTorch), added to gx unless fresh is nonzero. */
    void (*leaky_relu)(const float *x, float *y, long n, float slope);
    void (*leaky_relu_backward)(const float *x, const float *g, float *gx, long n, float slope, int fresh);

    /* Rows of d values scaled to unit L2 norm: norms[r] = ‖x[r,:]‖, y[r,:] = x[r,:] / max(norms[r], eps)
     * (the norm summed as the engine's Swift dot; no fused multiply-add anywhere, so the floats
     * are the plain formulas'). Backward: gx[r,:] = (g − y·(y·g)) / norms[r], or g / eps where the
     * clamp is active; added to gx unless fresh is nonzero. */
    void (*l2_normalize)(const float *x, float *y, float *norms, long rows, long d, float eps);
    void (*l2_normalize_backward)(const float *y, const float *g, const float *norms, float *gx, long rows,
                                  long d, float eps, int fresh);

    /* Graph attention's score halves (Train/Ops/Graph.swift edgeScores), rows of h heads × d:
     * s1[i,k] = x[i,k,:]·a1[k,:] and s2[i,k] = x[i,k,:]·a2[k,:] (summed as l2_normalize's dot) for
     * i in lo..<hi. Backward, without fused multiply-adds: gx[i,k,:] = (gx[i,k,:] unless fresh) +
     * g2[i,k]·a2[k,:] + g1[i,k]·a1[k,:] for i in lo..<hi, in that order; ga1[k,:] += Σ_i g1[i,k]·x[i,k,:]
     * and ga2 likewise over all n rows in order (a NULL ga is skipped). */
    void (*head_dots)(const float *x, const float *a1, const float *a2, long lo, long hi, long h, long d,
                      float *s1, float *s2);
    void (*head_dots_backward_x)(const float *g1, const float *g2, const float *a1, const float *a2, long lo,
                                 long hi, long h, long d, int fresh, float *gx);
    void (*head_dots_backward_a)(const float *x, const float *g1, const float *g2, long n, long h, long d,
                                 float *ga1, float *ga2);
} ck_kernels;

/* The kernels of `variant` (CK_VARIANT_*), or NULL if this CPU cannot run it.
 * CK_VARIANT_BEST gives the best supported variant (chosen once). */
const ck_kernels *ck_table(int variant);

#ifdef __cplusplus
}
#endif

#endif
