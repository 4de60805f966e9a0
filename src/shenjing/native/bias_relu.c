/* The passes around a layer's GEMM (linear and conv2d): bias and fused ReLU, forward and back.
 *
 * NumPy spends two passes on y += b then max(y, 0), and three on the way back (the mask y > 0,
 * the product with g, the bias gradient as a GEMV); here each is one pass. An MLP step of
 * batch 128 spends ~0.23 ms of its ~1.4 ms there in NumPy. */
#include <stdint.h>
#include <stdlib.h>

#include "sj_team.h"

/* y (m, n) += b (n, or NULL), then y = max(y, 0) if relu, NumPy's maximum bit for bit (a NaN
 * stays NaN, so that it is caught downstream; -0.0 becomes 0.0). */
void sj_bias_relu(int64_t m, int64_t n, float *restrict y, const float *restrict b, int relu) {
#pragma omp parallel for SJ_TEAM(m * n) schedule(static)
    for (int64_t i = 0; i < m; i++) {
        float *row = y + i * n;
        if (b)
            for (int64_t j = 0; j < n; j++)
                row[j] += b[j];
        if (relu)
            for (int64_t j = 0; j < n; j++)
                row[j] = row[j] > 0.0f || row[j] != row[j] ? row[j] : 0.0f;
    }
}

/* The gradients before a fused ReLU and of the bias, from g (m, n): gs = g * (y > 0), a
 * product as in NumPy, so a NaN in g survives (y and gs NULL: no ReLU, gs is g itself); gb
 * (n, or NULL) = the column sums of gs, added in double so that long columns (a convolution's
 * batch x pixels) lose nothing. On a team each thread sums its rows, then the partial sums are
 * added in thread order. Returns -1 if the accumulator could not be allocated, else 0. */
int sj_relu_bias_grad(int64_t m, int64_t n, const float *restrict g, const float *restrict y,
                      float *restrict gs, float *restrict gb) {
    int team = sj_team_for(m * n);
    double *sums = sj_parts(gb != NULL, team, (size_t)n);
    if (gb && !sums)
        return -1;
    int used = 1;
#pragma omp parallel num_threads(team) if (team > 1)
    {
        SJ_SHARE_PARTS(m, lo, hi, sums, (size_t)n, part, used);
        for (int64_t i = lo; i < hi; i++) {
            const float *gr = g + i * n;
            if (y) {
                const float *yr = y + i * n;
                float *sr = gs + i * n;
                for (int64_t j = 0; j < n; j++)
                    sr[j] = gr[j] * (float)(yr[j] > 0.0f);
                gr = sr;
            }
            if (part)
                for (int64_t j = 0; j < n; j++)
                    part[j] += gr[j];
        }
    }
    if (sums) {
        sj_sum_parts(sums, used, (size_t)n, n, gb);
        free(sums);
    }
    return 0;
}

/* ReLU, y = max(x, 0) as NumPy's maximum gives it (a NaN stays NaN, -0.0 becomes 0.0), and
 * its gradient gx = g * (y > 0). */
void sj_relu(int64_t n, const float *restrict x, float *restrict y) {
#pragma omp parallel for SJ_TEAM(n) schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f || x[i] != x[i] ? x[i] : 0.0f;
}

void sj_relu_grad(int64_t n, const float *restrict g, const float *restrict y,
                  float *restrict gx) {
#pragma omp parallel for SJ_TEAM(n) schedule(static)
    for (int64_t i = 0; i < n; i++)
        gx[i] = g[i] * (float)(y[i] > 0.0f);
}

/* Leaky ReLU, y = x > 0 ? x : slope x, and its gradient gx = x > 0 ? g : slope g: one pass
 * each, where NumPy needs a mask, a product and a where (three). A NaN in x stays NaN. */
void sj_leaky_relu(int64_t n, const float *restrict x, float *restrict y, float slope) {
#pragma omp parallel for SJ_TEAM(n) schedule(static)
    for (int64_t i = 0; i < n; i++)
        y[i] = x[i] > 0.0f ? x[i] : slope * x[i];
}

void sj_leaky_relu_grad(int64_t n, const float *restrict g, const float *restrict x,
                        float *restrict gx, float slope) {
#pragma omp parallel for SJ_TEAM(n) schedule(static)
    for (int64_t i = 0; i < n; i++)
        gx[i] = x[i] > 0.0f ? g[i] : slope * g[i];
}
