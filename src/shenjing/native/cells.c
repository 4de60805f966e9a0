/* LSTM and GRU over whole sequences: the time loop, the recurrent GEMM, fused cells.
 *
 * NumPy runs each step of a cell (add, sigmoid, tanh, products) as its own call and its own
 * pass over (batch, units) blocks: about twenty per time step, each with Python in between.
 * Here one C call runs every time step of a share of the batch: the GEMM h @ U (or dz @ U^T)
 * (a blocked loop of our own for small kernels, else the cblas_sgemm NumPy uses), then the
 * cell in one loop that reads the step's inputs once and writes its outputs once. No Python
 * runs inside, so the GIL is free and the intra-op threads run their shares at once. The
 * weight gradients (one GEMM each over all steps) stay in recurrent.py.
 * shenjing/native/__init__.py compiles this file on first use; recurrent.py calls it through
 * ctypes. Layouts are the ones recurrent.py keeps (all C-contiguous float32, row r of a
 * (batch, gates * units) block holds the gates side by side):
 *   LSTM gates (i, f, g, o) (Keras's i, f, c, o); GRU gates (z, r, h).
 * Activations are Keras's defaults: sigmoid for the gates, tanh for the candidate and the
 * cell; other activations take the NumPy path.
 *
 * exp is our own (sj_math.h) so that the compiler vectorizes every loop; sigmoid and tanh
 * built on it are within ~2e-7 of the exact values.
 */
#include <stddef.h>
#include <stdint.h>

#include "sj_math.h"

static inline f32 sj_sigmoid(f32 x) { return 1.0f / (1.0f + sj_exp(-x)); }

/* tanh |x| = 1 - 2 / (e^{2|x|} + 1); below 0.25 its odd Taylor series instead, where the
 * subtraction would cancel away the relative precision. */
static inline f32 sj_tanh(f32 x) {
    f32 a = x < 0 ? -x : x;
    f32 big = 1.0f - 2.0f / (sj_exp(2.0f * a) + 1.0f);
    f32 a2 = a * a;
    f32 small = a * (1.0f + a2 * (-1.0f / 3 + a2 * (2.0f / 15 + a2 * (-17.0f / 315
                                                                     + a2 * (62.0f / 2835)))));
    f32 t = a < 0.25f ? small : big;
    return x < 0 ? -t : t;
}

/* LSTM forward step. In: z = h_{t-1} U (batch, 4k), xw = x_t W + b (batch, 4k), c_prev.
 * Out: z overwritten by the gate activations (i, f, g, o), c = f c_prev + i g, tc = tanh(c),
 * h = o tc. */
static void cell_lstm_forward(int64_t n, int64_t k, f32 *restrict z, const f32 *restrict xw,
                              const f32 *restrict c_prev, f32 *restrict c, f32 *restrict tc,
                              f32 *restrict h) {
    for (int64_t row = 0; row < n; row++) {
        f32 *zr = z + row * 4 * k;
        const f32 *xr = xw + row * 4 * k, *cp = c_prev + row * k;
        f32 *cr = c + row * k, *tr = tc + row * k, *hr = h + row * k;
        for (int64_t j = 0; j < k; j++) {
            f32 i = sj_sigmoid(zr[j] + xr[j]);
            f32 f = sj_sigmoid(zr[k + j] + xr[k + j]);
            f32 g = sj_tanh(zr[2 * k + j] + xr[2 * k + j]);
            f32 o = sj_sigmoid(zr[3 * k + j] + xr[3 * k + j]);
            zr[j] = i;
            zr[k + j] = f;
            zr[2 * k + j] = g;
            zr[3 * k + j] = o;
            f32 cc = f * cp[j] + i * g;
            f32 t = sj_tanh(cc);
            cr[j] = cc;
            tr[j] = t;
            hr[j] = o * t;
        }
    }
}

/* LSTM backward step. In: dh (gradient of h_t), dc (gradient of c_t from the step after),
 * mask (batch,) 1 at a real step, 0 at a padded one, or NULL; z (the gates), c_prev, tc.
 * Out: dz (batch, 4k), the pre-activation gradients; dc, overwritten by the gradient of
 * c_{t-1} (at a padded step the incoming dc passes straight through). */
static void cell_lstm_backward(int64_t n, int64_t k, const f32 *restrict dh, f32 *restrict dc,
                               const uint8_t *restrict mask, const f32 *restrict z,
                               const f32 *restrict c_prev, const f32 *restrict tc,
                               f32 *restrict dz) {
    for (int64_t row = 0; row < n; row++) {
        const f32 m = mask ? (f32)mask[row] : 1.0f;
        const f32 *zr = z + row * 4 * k, *dhr = dh + row * k, *cp = c_prev + row * k;
        const f32 *tr = tc + row * k;
        f32 *dcr = dc + row * k, *dzr = dz + row * 4 * k;
        for (int64_t j = 0; j < k; j++) {
            f32 i = zr[j], f = zr[k + j], g = zr[2 * k + j], o = zr[3 * k + j], t = tr[j];
            f32 dc_in = dcr[j];
            f32 d = dhr[j] * o * (1.0f - t * t) + dc_in * m;
            dzr[j] = d * g * i * (1.0f - i);
            dzr[k + j] = d * cp[j] * f * (1.0f - f);
            dzr[2 * k + j] = d * i * (1.0f - g * g);
            dzr[3 * k + j] = dhr[j] * t * o * (1.0f - o);
            dcr[j] = d * f + dc_in * (1.0f - m);
        }
    }
}

/* GRU forward step (reset_after). In: q = h_{t-1} U (batch, 3k), xw = x_t W + b_in,
 * b_rec (3k), h_prev. Out: q overwritten by (z, r, q_h + b_rec_h), hh = tanh(xw_h + r q_h),
 * h = hh + z (h_prev - hh). */
static void cell_gru_forward(int64_t n, int64_t k, f32 *restrict q, const f32 *restrict xw,
                             const f32 *restrict b_rec, const f32 *restrict h_prev,
                             f32 *restrict hh, f32 *restrict h) {
    for (int64_t row = 0; row < n; row++) {
        f32 *qr = q + row * 3 * k;
        const f32 *xr = xw + row * 3 * k, *hp = h_prev + row * k;
        f32 *hhr = hh + row * k, *hr = h + row * k;
        for (int64_t j = 0; j < k; j++) {
            f32 zg = sj_sigmoid(xr[j] + qr[j] + b_rec[j]);
            f32 r = sj_sigmoid(xr[k + j] + qr[k + j] + b_rec[k + j]);
            f32 qh = qr[2 * k + j] + b_rec[2 * k + j];
            f32 a = sj_tanh(xr[2 * k + j] + r * qh);
            qr[j] = zg;
            qr[k + j] = r;
            qr[2 * k + j] = qh;
            hhr[j] = a;
            hr[j] = a + zg * (hp[j] - a);
        }
    }
}

/* GRU backward step. In: dh, q (z, r, q_h) and hh as the forward left them, h_prev.
 * Out: dx (batch, 3k) the input-side pre-activation gradients, dq (batch, 3k) the
 * recurrent-side ones (they differ in the candidate block: da_h against r da_h), and
 * dh_direct = dh z, the part of the gradient of h_{t-1} that skips the GEMM. */
static void cell_gru_backward(int64_t n, int64_t k, const f32 *restrict dh, const f32 *restrict q,
                              const f32 *restrict hh, const f32 *restrict h_prev, f32 *restrict dx,
                              f32 *restrict dq, f32 *restrict dh_direct) {
    for (int64_t row = 0; row < n; row++) {
        const f32 *qr = q + row * 3 * k, *hhr = hh + row * k, *hp = h_prev + row * k;
        const f32 *dhr = dh + row * k;
        f32 *dxr = dx + row * 3 * k, *dqr = dq + row * 3 * k, *ddr = dh_direct + row * k;
        for (int64_t j = 0; j < k; j++) {
            f32 zg = qr[j], r = qr[k + j], qh = qr[2 * k + j], a = hhr[j], d = dhr[j];
            f32 da_h = d * (1.0f - zg) * (1.0f - a * a);
            f32 dz = (hp[j] - a) * d * zg * (1.0f - zg);
            f32 dr = da_h * qh * r * (1.0f - r);
            dxr[j] = dz;
            dxr[k + j] = dr;
            dxr[2 * k + j] = da_h;
            dqr[j] = dz;
            dqr[k + j] = dr;
            dqr[2 * k + j] = da_h * r;
            ddr[j] = d * zg;
        }
    }
}

/* ---- whole sequences: the time loop, the recurrent GEMM, the cells ---- */

/* cblas_sgemm as NumPy's BLAS exports it, found by shenjing/native/__init__.py: 64-bit
 * integers (ILP64, NumPy's own OpenBLAS) or 32-bit ones. Row-major, no transposes. */
typedef void (*sgemm64_fn)(int, int, int, int64_t, int64_t, int64_t, f32, const f32 *, int64_t,
                           const f32 *, int64_t, f32, f32 *, int64_t);
typedef void (*sgemm32_fn)(int, int, int, int, int, int, f32, const f32 *, int, const f32 *, int,
                           f32, f32 *, int);
static void *sgemm_ptr;
static int sgemm_ilp64;

void sj_set_sgemm(void *fn, int ilp64) {
    sgemm_ptr = fn;
    sgemm_ilp64 = ilp64;
}

/* The recurrent products are small: (a thread's rows, units) @ (units, gates * units), b
 * (the recurrent kernel) a few hundred KiB that stays in L2. For them a plain blocked loop
 * beats a BLAS call, which packs b again at every step: MR rows of c x 32 columns held in
 * registers, b's row segment loaded once for the MR rows. With AVX-512's 32 vector registers
 * 8 rows (16 accumulators), else 4. One core, hot, 32 x 128 @ 128 x 512 (AMD EPYC Zen 4,
 * 2026-11-27): 107-111 GFLOP/s, where 4 rows x 64 columns gave 54 and NumPy's OpenBLAS or
 * oneDNN ~90 (with the call from Python); on an Intel AVX-512 core 4 x 64 gave 151 against
 * OpenBLAS's 118. No better once b passes ~1 MiB (256 units): larger kernels go to the BLAS. */
#ifdef __AVX512F__
enum { MR = 8 };
#else
enum { MR = 4 };
#endif
enum { NR = 32, SMALL_B = 1 << 17 };

/* c[r][j0 ..] for r < rows (rows <= MR), columns j0 .. j0 + NR - 1 of c (m, n) = a @ b; a, c
 * start at the tile's first row. Called with rows = MR the bounds are constant: acc stays in
 * registers. */
static inline __attribute__((always_inline)) void tile(int64_t rows, int64_t n, int64_t k,
                                                       const f32 *restrict a,
                                                       const f32 *restrict b, f32 *restrict c) {
    f32 acc[MR][NR] = {{0}};
    for (int64_t p = 0; p < k; p++) {
        const f32 *br = b + p * n;
        for (int64_t r = 0; r < rows; r++) {
            f32 av = a[r * k + p];
            for (int j = 0; j < NR; j++)
                acc[r][j] += av * br[j];
        }
    }
    for (int64_t r = 0; r < rows; r++)
        for (int j = 0; j < NR; j++)
            c[r * n + j] = acc[r][j];
}

static void block_matmul(int64_t m, int64_t n, int64_t k, const f32 *restrict a,
                         const f32 *restrict b, f32 *restrict c) {
    for (int64_t i0 = 0; i0 < m; i0 += MR) {
        int64_t mr = m - i0 < MR ? m - i0 : MR;
        for (int64_t j0 = 0; j0 < n; j0 += NR) {
            int64_t nr = n - j0 < NR ? n - j0 : NR;
            if (nr == NR) {
                if (mr == MR)
                    tile(MR, n, k, a + i0 * k, b + j0, c + i0 * n + j0);
                else
                    tile(mr, n, k, a + i0 * k, b + j0, c + i0 * n + j0);
                continue;
            }
            for (int64_t r = i0; r < i0 + mr; r++) {  /* the last columns: one row at a time */
                f32 *cr = c + r * n + j0;
                for (int64_t j = 0; j < nr; j++)
                    cr[j] = 0.0f;
                for (int64_t p = 0; p < k; p++) {
                    f32 av = a[r * k + p];
                    const f32 *br = b + p * n + j0;
                    for (int64_t j = 0; j < nr; j++)
                        cr[j] += av * br[j];
                }
            }
        }
    }
}

/* c (m, n) = a (m, k) @ b (k, n), all C-contiguous. */
static void matmul(int64_t m, int64_t n, int64_t k, const f32 *a, const f32 *b, f32 *c) {
    enum { ROW_MAJOR = 101, NO_TRANS = 111 };
    if (k * n <= SMALL_B)
        block_matmul(m, n, k, a, b, c);
    else if (sgemm_ilp64)
        ((sgemm64_fn)sgemm_ptr)(ROW_MAJOR, NO_TRANS, NO_TRANS, m, n, k, 1.0f, a, k, b, n, 0.0f, c,
                                n);
    else
        ((sgemm32_fn)sgemm_ptr)(ROW_MAJOR, NO_TRANS, NO_TRANS, (int)m, (int)n, (int)k, 1.0f, a,
                                (int)k, b, (int)n, 0.0f, c, (int)n);
}

/* The sequences' buffers are time-major, (time, batch, width); a call runs the rows
 * r0 .. r0 + nr - 1 of the batch (one thread's share), so row blocks are found at
 * (t * n + r0) * width. mask: (time, batch) bytes, 1 at a real step, or NULL; rec_mask:
 * (batch, k) recurrent-dropout multipliers of h_{t-1}, or NULL; scratch: nr * k floats. */

/* The GEMM's input at step t: h_{t-1}, or h_{t-1} * rec_mask in scratch. */
static const f32 *recurrent_input(const f32 *h_prev, const f32 *rec_mask, int64_t count,
                                  f32 *scratch) {
    if (!rec_mask)
        return h_prev;
    for (int64_t i = 0; i < count; i++)
        scratch[i] = h_prev[i] * rec_mask[i];
    return scratch;
}

/* At padded steps (mask 0) the state is carried over: dst row = src row. */
static void carry(int64_t nr, int64_t k, const uint8_t *mask, const f32 *src, f32 *dst) {
    for (int64_t row = 0; row < nr; row++)
        if (!mask[row])
            for (int64_t j = 0; j < k; j++)
                dst[row * k + j] = src[row * k + j];
}

/* dh_{t-1} = back * rec_mask + direct + dh_t * (1 - mask): the gradient that went through the
 * GEMM (back = dz U^T), the part that skipped it (GRU) and, at padded steps, dh_t itself. */
static void next_dh(int64_t nr, int64_t k, const f32 *back, const f32 *rec_mask,
                    const f32 *direct, const uint8_t *mask, f32 *dh) {
    for (int64_t row = 0; row < nr; row++) {
        const f32 keep = mask ? 1.0f - (f32)mask[row] : 0.0f;
        for (int64_t j = 0; j < k; j++) {
            int64_t i = row * k + j;
            f32 v = back[i] * (rec_mask ? rec_mask[i] : 1.0f) + dh[i] * keep;
            dh[i] = direct ? v + direct[i] : v;
        }
    }
}

/* dh += gs (the gradient of the step's output), then the cell's input gradient dh * mask. */
static const f32 *step_dh(int64_t nr, int64_t k, f32 *dh, const f32 *gs, const uint8_t *mask,
                          f32 *scratch) {
    if (gs)
        for (int64_t i = 0; i < nr * k; i++)
            dh[i] += gs[i];
    if (!mask)
        return dh;
    for (int64_t row = 0; row < nr; row++)
        for (int64_t j = 0; j < k; j++)
            scratch[row * k + j] = dh[row * k + j] * (f32)mask[row];
    return scratch;
}

/* LSTM forward over the sequence: hs (T + 1, n, k) with hs[0] = h0, z (T, n, 4k) the gates,
 * c (T + 1, n, k) with c[0] = c0, tc (T, n, k); xw (T, n, 4k) = x W + b; u (k, 4k). */
void sj_lstm_forward_seq(int64_t t_len, int64_t n, int64_t r0, int64_t nr, int64_t k,
                         const f32 *u, const f32 *xw, const uint8_t *mask, const f32 *rec_mask,
                         f32 *scratch, f32 *hs, f32 *z, f32 *c, f32 *tc) {
    const f32 *rm = rec_mask ? rec_mask + r0 * k : NULL;
    for (int64_t t = 0; t < t_len; t++) {
        f32 *h_prev = hs + (t * n + r0) * k, *h = hs + ((t + 1) * n + r0) * k;
        f32 *c_prev = c + (t * n + r0) * k, *c_t = c + ((t + 1) * n + r0) * k;
        f32 *zt = z + (t * n + r0) * 4 * k;
        matmul(nr, 4 * k, k, recurrent_input(h_prev, rm, nr * k, scratch), u, zt);
        cell_lstm_forward(nr, k, zt, xw + (t * n + r0) * 4 * k, c_prev, c_t,
                          tc + (t * n + r0) * k, h);
        if (mask) {
            carry(nr, k, mask + t * n + r0, h_prev, h);
            carry(nr, k, mask + t * n + r0, c_prev, c_t);
        }
    }
}

/* LSTM backward over the sequence, last step first. dh, dc (n, k): in, the gradients of the
 * final h and c; out, those of h0 and c0. gs (T, n, k) the gradients of the outputs or NULL;
 * dz (T, n, 4k) out; u_t (4k, k) = U^T; scratch: 2 nr k floats. */
void sj_lstm_backward_seq(int64_t t_len, int64_t n, int64_t r0, int64_t nr, int64_t k,
                          const f32 *u_t, const f32 *gs, const uint8_t *mask,
                          const f32 *rec_mask, f32 *scratch, const f32 *z, const f32 *c,
                          const f32 *tc, f32 *dz, f32 *dh, f32 *dc) {
    const f32 *rm = rec_mask ? rec_mask + r0 * k : NULL;
    f32 *dh_r = dh + r0 * k, *dc_r = dc + r0 * k, *back = scratch + nr * k;
    for (int64_t t = t_len - 1; t >= 0; t--) {
        const uint8_t *m = mask ? mask + t * n + r0 : NULL;
        const f32 *dh_in = step_dh(nr, k, dh_r, gs ? gs + (t * n + r0) * k : NULL, m, scratch);
        f32 *dzt = dz + (t * n + r0) * 4 * k;
        cell_lstm_backward(nr, k, dh_in, dc_r, m, z + (t * n + r0) * 4 * k,
                           c + (t * n + r0) * k, tc + (t * n + r0) * k, dzt);
        matmul(nr, k, 4 * k, dzt, u_t, back);
        next_dh(nr, k, back, rm, NULL, m, dh_r);
    }
}

/* GRU forward over the sequence: hs (T + 1, n, k) with hs[0] = h0; q (T, n, 3k) keeps
 * (z, r, q_h), hh (T, n, k) the candidates; xw (T, n, 3k) = x W + b_in; b_rec (3k). */
void sj_gru_forward_seq(int64_t t_len, int64_t n, int64_t r0, int64_t nr, int64_t k,
                        const f32 *u, const f32 *xw, const f32 *b_rec, const uint8_t *mask,
                        const f32 *rec_mask, f32 *scratch, f32 *hs, f32 *q, f32 *hh) {
    const f32 *rm = rec_mask ? rec_mask + r0 * k : NULL;
    for (int64_t t = 0; t < t_len; t++) {
        f32 *h_prev = hs + (t * n + r0) * k, *h = hs + ((t + 1) * n + r0) * k;
        f32 *qt = q + (t * n + r0) * 3 * k;
        matmul(nr, 3 * k, k, recurrent_input(h_prev, rm, nr * k, scratch), u, qt);
        cell_gru_forward(nr, k, qt, xw + (t * n + r0) * 3 * k, b_rec, h_prev,
                         hh + (t * n + r0) * k, h);
        if (mask)
            carry(nr, k, mask + t * n + r0, h_prev, h);
    }
}

/* GRU backward over the sequence, last step first. dh (n, k): in, the final h's gradient;
 * out, h0's. dx, dq (T, n, 3k) out: the input- and recurrent-side pre-activation gradients;
 * u_t (3k, k) = U^T; scratch: 3 nr k floats. */
void sj_gru_backward_seq(int64_t t_len, int64_t n, int64_t r0, int64_t nr, int64_t k,
                         const f32 *u_t, const f32 *gs, const uint8_t *mask,
                         const f32 *rec_mask, f32 *scratch, const f32 *hs, const f32 *q,
                         const f32 *hh, f32 *dx, f32 *dq, f32 *dh) {
    const f32 *rm = rec_mask ? rec_mask + r0 * k : NULL;
    f32 *dh_r = dh + r0 * k, *back = scratch + nr * k, *direct = scratch + 2 * nr * k;
    for (int64_t t = t_len - 1; t >= 0; t--) {
        const uint8_t *m = mask ? mask + t * n + r0 : NULL;
        const f32 *dh_in = step_dh(nr, k, dh_r, gs ? gs + (t * n + r0) * k : NULL, m, scratch);
        f32 *dqt = dq + (t * n + r0) * 3 * k;
        cell_gru_backward(nr, k, dh_in, q + (t * n + r0) * 3 * k, hh + (t * n + r0) * k,
                          hs + (t * n + r0) * k, dx + (t * n + r0) * 3 * k, dqt, direct);
        matmul(nr, k, 3 * k, dqt, u_t, back);
        next_dh(nr, k, back, rm, direct, m, dh_r);
    }
}
