/* Element-wise arithmetic on the calling thread's OpenMP team (parallel.py's team mode).
 *
 * Once oneDNN multiplies whole batches on an OpenMP team, each product leaves its output
 * spread over both cores' caches, and a one-thread pass over it pays for the transfers: in
 * the MLP step of bench_autograd.py the update `p -= lr * p.grad` took 0.24 ms on one thread
 * and 0.1 ms on the team. So big float32 passes run here, split over the same team, as PyTorch
 * runs its element-wise ops on its one pool. */
#include <stdint.h>

#include "sj_team.h"

_Thread_local int sj_team_size = 1;

void sj_set_team(int n) { sj_team_size = n > 0 ? n : 1; }

int sj_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

/* out = a (op) b, op 0 add, 1 sub, 2 mul, 3 div; b NULL: the scalar s in its place, and
 * op 4 s - a, 5 s / a. Each result is the one IEEE operation NumPy computes. */
void sj_arith(int op, int64_t n, const float *a, const float *b, float s, float *out) {
#define SJ_LOOP(expr) \
    _Pragma("omp parallel for SJ_TEAM(n) schedule(static)") \
    for (int64_t i = 0; i < n; i++) out[i] = (expr); \
    return;
    if (b) {
        switch (op) {
        case 0: SJ_LOOP(a[i] + b[i])
        case 1: SJ_LOOP(a[i] - b[i])
        case 2: SJ_LOOP(a[i] * b[i])
        case 3: SJ_LOOP(a[i] / b[i])
        }
    }
    switch (op) {
    case 0: SJ_LOOP(a[i] + s)
    case 1: SJ_LOOP(a[i] - s)
    case 2: SJ_LOOP(a[i] * s)
    case 3: SJ_LOOP(a[i] / s)
    case 4: SJ_LOOP(s - a[i])
    case 5: SJ_LOOP(s / a[i])
    }
#undef SJ_LOOP
}
