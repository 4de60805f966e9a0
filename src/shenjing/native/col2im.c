/* im2col and col2im: a convolution's columns from its padded input, and its input gradient
 * from the columns' gradient.
 *
 * Entry (b, p, q, i, j, k) of cols (n, ho, wo, kh, kw, c) is pixel (b, p*sh + i*dh, q*sw + j*dw,
 * k) of the padded input (n, hp, wp, c). NumPy copies (and adds back) through strided views
 * whose innermost runs are only c long, 3 for an RGB image, at ~3 GB/s; here each is one pass
 * over cols in order (for wider c NumPy's copy is as fast, but one code path serves both). */
#include <stdint.h>
#include <string.h>

void sj_im2col(int64_t n, int64_t hp, int64_t wp, int64_t c, int64_t ho, int64_t wo,
               int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
               const float *restrict xpad, float *restrict cols) {
    float *dst = cols;
    for (int64_t b = 0; b < n; b++)
        for (int64_t p = 0; p < ho; p++)
            for (int64_t q = 0; q < wo; q++)
                for (int64_t i = 0; i < kh; i++) {
                    const float *row = xpad + ((b * hp + p * sh + i * dh) * wp + q * sw) * c;
                    if (dw == 1) {  /* the kw taps are one run of kw * c floats */
                        memcpy(dst, row, (size_t)(kw * c) * sizeof(float));
                        dst += kw * c;
                    } else {
                        for (int64_t j = 0; j < kw; j++, dst += c)
                            memcpy(dst, row + j * dw * c, (size_t)c * sizeof(float));
                    }
                }
}

void sj_col2im(int64_t n, int64_t hp, int64_t wp, int64_t c, int64_t ho, int64_t wo,
               int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t dh, int64_t dw,
               const float *restrict cols, float *restrict target) {
    const float *src = cols;
    for (int64_t b = 0; b < n; b++)
        for (int64_t p = 0; p < ho; p++)
            for (int64_t q = 0; q < wo; q++)
                for (int64_t i = 0; i < kh; i++) {
                    float *row = target + ((b * hp + p * sh + i * dh) * wp + q * sw) * c;
                    for (int64_t j = 0; j < kw; j++, src += c) {
                        float *dst = row + j * dw * c;
                        for (int64_t k = 0; k < c; k++)
                            dst[k] += src[k];
                    }
                }
}
