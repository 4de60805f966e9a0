/* Depthwise convolution, forward and backward, straight over NHWC memory.
 *
 * Output channel k * m + mm of pixel (b, p, q) is the sum over the taps (i, j) of padded-input
 * pixel (b, p*sh + i*dh, q*sw + j*dw, k) times w[i, j, k, mm]. Each channel is its own tiny
 * convolution, so the im2col + batched-GEMM path copied the input channel-major (a transposed
 * copy) and multiplied (C, N*Ho*Wo, kh*kw) by (C, kh*kw, M): 40x torch's time. Here each tap is
 * one multiply-add over the c contiguous channels of a pixel, which vectorizes. The callers
 * split the batch over threads (parallel.over_batch); gw is summed in double per slice. */
#include <stdint.h>
#include <string.h>

void sj_depthwise_fwd(int64_t n, int64_t hp, int64_t wp, int64_t c, int64_t m, int64_t ho,
                      int64_t wo, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh,
                      int64_t dw, const float *restrict xpad, const float *restrict w,
                      float *restrict y) {
    const int64_t cm = c * m;
    for (int64_t b = 0; b < n; b++)
        for (int64_t p = 0; p < ho; p++)
            for (int64_t q = 0; q < wo; q++) {
                float *out = y + ((b * ho + p) * wo + q) * cm;
                memset(out, 0, (size_t)cm * sizeof(float));
                for (int64_t i = 0; i < kh; i++)
                    for (int64_t j = 0; j < kw; j++) {
                        const float *px = xpad + ((b * hp + p * sh + i * dh) * wp + q * sw +
                                                  j * dw) * c;
                        const float *pw = w + (i * kw + j) * cm;
                        if (m == 1)
                            for (int64_t k = 0; k < c; k++)
                                out[k] += px[k] * pw[k];
                        else
                            for (int64_t k = 0; k < c; k++)
                                for (int64_t u = 0; u < m; u++)
                                    out[k * m + u] += px[k] * pw[k * m + u];
                    }
            }
}

/* gxpad (n, hp, wp, c) += sum over taps and multipliers of g * w (gxpad may be NULL);
 * gw (kh, kw, c, m), in double, += the padded input's pixels times g (gw may be NULL). */
void sj_depthwise_bwd(int64_t n, int64_t hp, int64_t wp, int64_t c, int64_t m, int64_t ho,
                      int64_t wo, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh,
                      int64_t dw, const float *restrict xpad, const float *restrict w,
                      const float *restrict g, float *restrict gxpad, double *restrict gw) {
    const int64_t cm = c * m;
    for (int64_t b = 0; b < n; b++)
        for (int64_t p = 0; p < ho; p++)
            for (int64_t q = 0; q < wo; q++) {
                const float *pg = g + ((b * ho + p) * wo + q) * cm;
                for (int64_t i = 0; i < kh; i++)
                    for (int64_t j = 0; j < kw; j++) {
                        int64_t at = ((b * hp + p * sh + i * dh) * wp + q * sw + j * dw) * c;
                        const float *pw = w + (i * kw + j) * cm;
                        if (gxpad) {
                            float *gx = gxpad + at;
                            if (m == 1)
                                for (int64_t k = 0; k < c; k++)
                                    gx[k] += pg[k] * pw[k];
                            else
                                for (int64_t k = 0; k < c; k++) {
                                    float s = 0.0f;
                                    for (int64_t u = 0; u < m; u++)
                                        s += pg[k * m + u] * pw[k * m + u];
                                    gx[k] += s;
                                }
                        }
                        if (gw) {
                            const float *px = xpad + at;
                            double *acc = gw + (i * kw + j) * cm;
                            for (int64_t k = 0; k < c; k++)
                                for (int64_t u = 0; u < m; u++)
                                    acc[k * m + u] += (double)px[k] * pg[k * m + u];
                        }
                    }
            }
}
