/* Softmax cross-entropy from logits against integer labels, the forward of every classifier's
 * loss (functional/loss.py, _SparseSoftmaxCrossEntropy), and softmax itself, both ways.
 *
 * NumPy needs five passes over the (rows, classes) logits: the row maxima, x - max, exp, the
 * row sums, the division. Here one row at a time is read once and stays in L1 for the rest:
 * 4096 x 1000 logits take ~3x less time. The row reductions keep 16 partial results so that
 * the compiler vectorizes them without reordering float sums on its own. */
#include <math.h>
#include <stdint.h>

#include "sj_math.h"
#include "sj_team.h"

/* p = softmax(xr) for one row of n values; returns the row's sum of e^(x - max) (in double)
 * and its max in *max_out. exp(x - max) below -87 is 0, as in NumPy (sj_exp alone would clamp
 * it to 1.6e-38). A NaN or infinite value makes the row NaN, as in NumPy (the NaN passes
 * through exp and the sum). */
static double softmax_row(int64_t n, const f32 *restrict xr, f32 *restrict pr, f32 *max_out) {
    /* A row shorter than the lanes (a classifier's ten classes) skips them: their set-up and
     * reductions cost more than its few elements (128 x 10 logits: 9.6 -> 5 us). */
    int wide = n >= SJ_LANES;
    f32 max = xr[0];
    int64_t j = 0;
    if (wide) {
        f32 lanes[SJ_LANES];
        for (int k = 0; k < SJ_LANES; k++)
            lanes[k] = xr[0];
        for (; j + SJ_LANES <= n; j += SJ_LANES)
            for (int k = 0; k < SJ_LANES; k++)
                lanes[k] = xr[j + k] > lanes[k] ? xr[j + k] : lanes[k];
        max = lanes[0];
        for (int k = 1; k < SJ_LANES; k++)
            max = lanes[k] > max ? lanes[k] : max;
    }
    for (; j < n; j++)
        max = xr[j] > max ? xr[j] : max;
    double sum = 0.0;
    j = 0;
    if (wide) {
        double sums[SJ_LANES] = {0};
        for (; j + SJ_LANES <= n; j += SJ_LANES)
            for (int k = 0; k < SJ_LANES; k++) {
                f32 d = xr[j + k] - max;
                f32 e = d < -87.0f ? 0.0f : sj_exp(d);
                pr[j + k] = e;
                sums[k] += e;
            }
        for (int k = 0; k < SJ_LANES; k++)
            sum += sums[k];
    }
    for (; j < n; j++) {
        f32 d = xr[j] - max;
        pr[j] = d < -87.0f ? 0.0f : sj_exp(d);
        sum += pr[j];
    }
    f32 inv = (f32)(1.0 / sum);
    for (j = 0; j < n; j++)
        pr[j] *= inv;
    *max_out = max;
    return sum;
}

/* For each row i of x (m, n): loss[i] = log(sum_j e^(x_ij - max_i)) - (x[i, labels[i]] -
 * max_i), and its gradient d[i] = softmax(x[i]) - onehot(labels[i]), in the same pass. */
void sj_softmax_xent(int64_t m, int64_t n, const f32 *restrict x, const int64_t *restrict labels,
                     f32 *restrict d, f32 *restrict loss) {
#pragma omp parallel for SJ_TEAM(m * n) schedule(static)
    for (int64_t i = 0; i < m; i++) {
        f32 max;
        double sum = softmax_row(n, x + i * n, d + i * n, &max);
        loss[i] = (f32)(log(sum) - (double)(x[i * n + labels[i]] - max));
        d[i * n + labels[i]] -= 1.0f;
    }
}

/* y = softmax over the last axis of x, total elements `total` in rows of n (F.softmax). */
void sj_softmax(int64_t total, int64_t n, const f32 *restrict x, f32 *restrict y) {
    int64_t m = n ? total / n : 0;
#pragma omp parallel for SJ_TEAM(total) schedule(static)
    for (int64_t i = 0; i < m; i++) {
        f32 max;
        softmax_row(n, x + i * n, y + i * n, &max);
    }
}

/* Its gradient, gx = y (g - sum(g y)) row by row (the sum in double). */
void sj_softmax_grad(int64_t total, int64_t n, const f32 *restrict g, const f32 *restrict y,
                     f32 *restrict gx) {
    int64_t m = n ? total / n : 0;
#pragma omp parallel for SJ_TEAM(total) schedule(static)
    for (int64_t i = 0; i < m; i++) {
        const f32 *gr = g + i * n, *yr = y + i * n;
        f32 s = (f32)sj_dot(n, gr, yr);
        for (int64_t j = 0; j < n; j++)
            gx[i * n + j] = yr[j] * (gr[j] - s);
    }
}
