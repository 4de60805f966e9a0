/* col2im: the input gradient of a convolution (or pooling) from its column gradient.
 *
 * Every entry of cols (n, ho, wo, kh, kw, c) is added back to the pixel of the padded input
 * (n, hp, wp, c) it was read from: row p*sh + i*dh, column q*sw + j*dw. NumPy does this as kh*kw
 * strided "+=" of (n, ho, wo, c) views, whose innermost runs are only c long (3 for an RGB
 * image): here one pass over cols, reading it in order. */
#include <stdint.h>

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
