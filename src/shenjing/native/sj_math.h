/* What the C kernels share: float32 and a vectorizable exp.
 *
 * exp is our own (range reduction and a polynomial, no branches) so that the compiler
 * vectorizes the loops that call it: libm's expf is a call per element. */
#ifndef SJ_MATH_H
#define SJ_MATH_H
#include <stdint.h>

typedef float f32;
typedef union { f32 f; int32_t i; } bits32;

/* e^x for x in [-87, 88] (clamped): x = n ln2 + r with |r| <= ln2 / 2, e^r by its degree-6
 * Taylor polynomial (relative error < 2e-7), 2^n put straight into the exponent bits. n is
 * rounded by adding 1.5 * 2^23, which leaves it in the low mantissa bits. */
static inline f32 sj_exp(f32 x) {
    const f32 shift = 12582912.0f; /* 1.5 * 2^23, bits 0x4B400000 */
    x = x < -87.0f ? -87.0f : (x > 88.0f ? 88.0f : x);
    bits32 nf, scale;
    nf.f = x * 1.44269504089f + shift;
    f32 n = nf.f - shift;
    f32 r = x - n * 0.693145751953125f - n * 1.428606765330187e-06f; /* ln2 in two parts */
    f32 p = 1.0f / 720;
    p = p * r + 1.0f / 120;
    p = p * r + 1.0f / 24;
    p = p * r + 1.0f / 6;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    scale.i = (nf.i - 0x4B400000 + 127) << 23;
    return p * scale.f;
}

/* Row reductions in double, with SJ_LANES partial sums: a single running sum is a chain of
 * dependent adds (one per 4 cycles) that the compiler may not reorder into vectors; 16
 * independent lanes it vectorizes as they are. sj_sum: the sum of a; sj_dot: of a b. */
#define SJ_LANES 16

static inline double sj_sum(int64_t n, const f32 *restrict a) {
    double lanes[SJ_LANES] = {0}, sum = 0.0;
    int64_t j = 0;
    for (; j + SJ_LANES <= n; j += SJ_LANES)
        for (int k = 0; k < SJ_LANES; k++)
            lanes[k] += a[j + k];
    for (int k = 0; k < SJ_LANES; k++)
        sum += lanes[k];
    for (; j < n; j++)
        sum += a[j];
    return sum;
}

static inline double sj_dot(int64_t n, const f32 *restrict a, const f32 *restrict b) {
    double lanes[SJ_LANES] = {0}, sum = 0.0;
    int64_t j = 0;
    for (; j + SJ_LANES <= n; j += SJ_LANES)
        for (int k = 0; k < SJ_LANES; k++)
            lanes[k] += (double)a[j + k] * b[j + k];
    for (int k = 0; k < SJ_LANES; k++)
        sum += lanes[k];
    for (; j < n; j++)
        sum += (double)a[j] * b[j];
    return sum;
}

#endif
