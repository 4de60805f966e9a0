/* The CTC loss's two recursions, frame by frame within each sample (functional/ctc.py holds
 * the NumPy twin and the meaning of every array).
 *
 * In NumPy each frame is a dozen array operations on (batch, 2S + 1) blocks, each a call of a
 * few microseconds: 100 frames, forward and back, took ~9 ms for a batch of 32; here the
 * inner loop over the extended labels is a few adds and multiplies per state.
 *
 * All arrays are C-contiguous float64 (y, alpha, post, log_total) or int64 / uint8:
 *   y (n, frames, width): each frame's emission probabilities of the states of l', divided
 *     by the frame's largest (0 for states past the sample's 2 S_b + 1);
 *   skip (n, width): state s may be entered from s - 2;
 *   alpha (n, frames, width): the forward variables, rescaled to sum to 1 at each frame;
 *   log_total (n, frames): the log of each frame's sum before the rescaling;
 *   ends (n): 2 S_b, the last state; ext (n, width): each state's class;
 *   lost (n): set to 1 where a rescaled value fell into (0, SJ_CTC_WEAK), where later products
 *     may underflow: functional/ctc.py redoes those samples in log space. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#define SJ_CTC_WEAK 1e-200

void sj_ctc_alpha(int64_t n, int64_t frames, int64_t width, const double *restrict y,
                  const uint8_t *restrict skip, const int64_t *restrict lengths,
                  double *restrict alpha, double *restrict log_total, uint8_t *restrict lost) {
    for (int64_t b = 0; b < n; b++) {
        const double *yb = y + b * frames * width;
        const uint8_t *sk = skip + b * width;
        double *ab = alpha + b * frames * width;
        for (int64_t t = 0; t < lengths[b]; t++) {
            double *a = ab + t * width, total = 0.0;
            const double *yt = yb + t * width;
            for (int64_t s = 0; s < width; s++) {
                double v;
                if (t == 0) {
                    v = s < 2 ? yt[s] : 0.0;
                } else {
                    const double *prev = a - width;
                    v = (prev[s] + (s >= 1 ? prev[s - 1] : 0.0)
                         + (s >= 2 && sk[s] ? prev[s - 2] : 0.0)) * yt[s];
                }
                a[s] = v;
                total += v;
            }
            log_total[b * frames + t] = log(total);
            double inv = total > 0.0 ? 1.0 / total : 0.0;
            for (int64_t s = 0; s < width; s++) {
                a[s] *= inv;
                lost[b] |= a[s] > 0.0 && a[s] < SJ_CTC_WEAK;
            }
        }
    }
}

/* The gradient of the loss with respect to the log-probabilities, -posterior, into grad
 * (n, frames, classes), zero-filled by the caller: beta runs over the frames after t
 * (emissions from t + 1 on), rescaled each frame, from 1 at the two end states of the
 * sample's last frame; the posterior of state s is alpha beta / its sum over the states (NaN
 * where no path is left, as 0/0), and goes to class ext[s] (n, width). Returns -1 if the
 * scratch rows cannot be allocated. */
int sj_ctc_grad(int64_t n, int64_t frames, int64_t width, int64_t classes,
                const double *restrict y, const uint8_t *restrict skip,
                const int64_t *restrict lengths, const int64_t *restrict ends,
                const int64_t *restrict ext, const double *restrict alpha,
                double *restrict grad, uint8_t *restrict lost) {
    double *rows = malloc(3 * (size_t)width * sizeof(double));
    if (!rows)
        return -1;
    for (int64_t b = 0; b < n; b++) {
        const double *yb = y + b * frames * width, *ab = alpha + b * frames * width;
        const uint8_t *sk = skip + b * width;
        const int64_t *eb = ext + b * width;
        double *cur = rows, *nxt = rows + width, *post = rows + 2 * width;
        for (int64_t t = lengths[b] - 1; t >= 0; t--) {
            if (t == lengths[b] - 1) {
                for (int64_t s = 0; s < width; s++)
                    cur[s] = (s == ends[b] || (ends[b] > 0 && s == ends[b] - 1)) ? 1.0 : 0.0;
            } else {
                const double *yt = yb + (t + 1) * width;
                double total = 0.0;
                for (int64_t s = 0; s < width; s++) {
                    double v = nxt[s] * yt[s];
                    if (s + 1 < width)
                        v += nxt[s + 1] * yt[s + 1];
                    if (s + 2 < width && sk[s + 2])
                        v += nxt[s + 2] * yt[s + 2];
                    cur[s] = v;
                    total += v;
                }
                double inv = total > 0.0 ? 1.0 / total : 0.0;
                for (int64_t s = 0; s < width; s++) {
                    cur[s] *= inv;
                    lost[b] |= cur[s] > 0.0 && cur[s] < SJ_CTC_WEAK;
                }
            }
            const double *a = ab + t * width;
            double total = 0.0;
            for (int64_t s = 0; s < width; s++) {
                post[s] = a[s] * cur[s];
                total += post[s];
            }
            /* alpha and beta may each stay above SJ_CTC_WEAK while their product underflows
             * (1e-196 * 1e-153): the sample is then redone in log space too */
            lost[b] |= !(total > 0.0);
            double *g = grad + (b * frames + t) * classes;
            for (int64_t s = 0; s < width; s++)
                g[eb[s]] -= post[s] / total;
            double *swap = cur;
            cur = nxt;
            nxt = swap;
        }
    }
    free(rows);
    return 0;
}
