/* Element-wise arithmetic on the OpenMP team (parallel.py's team mode).
 *
 * Once oneDNN multiplies whole batches on an OpenMP team, each product leaves its output
 * spread over both cores' caches, and a one-thread pass over it pays for the transfers: in
 * the MLP step of bench_autograd.py the update `p -= lr * p.grad` took 0.24 ms on one thread
 * and 0.1 ms on the team. So big float32 passes run here, split over the same team, as PyTorch
 * runs its element-wise ops on its one pool. */
#include <fenv.h>
#include <stdint.h>

#include "sj_team.h"

int sj_team_size = 1;

void sj_set_team(int n) { sj_team_size = n > 0 ? n : 1; }

int sj_team_min(void) { return SJ_TEAM_MIN; }

int sj_openmp(void) {
#ifdef _OPENMP
    return 1;
#else
    return 0;
#endif
}

/* How many threads a loop of SJ_TEAM_MIN elements runs on now (tests: the clause works). */
int sj_team_threads(void) {
    int used = 1;
#pragma omp parallel SJ_TEAM(SJ_TEAM_MIN)
    {
        if (SJ_THREAD() == 0)
            used = SJ_THREADS();
    }
    return used;
}

/* out = a (op) b, op 0 add, 1 sub, 2 mul, 3 div; b NULL: the scalar s in its place, and
 * op 4 s - a, 5 s / a. Each result is the one IEEE operation NumPy computes. Returns the
 * floating-point exceptions NumPy reports that any element raised (1 divide by zero,
 * 2 overflow, 4 invalid, 8 underflow), so that the caller warns or raises as NumPy's errstate
 * says. */
int sj_arith(int op, int64_t n, const float *a, const float *b, float s, float *out) {
    int raised = 0;
#pragma omp parallel SJ_TEAM(n) reduction(| : raised)
    {
        SJ_SHARE(n, lo, hi);
        feclearexcept(FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID | FE_UNDERFLOW);
#define SJ_LOOP(expr) for (int64_t i = lo; i < hi; i++) out[i] = (expr); break;
        switch (b ? op : op + 8) {
        case 0: SJ_LOOP(a[i] + b[i])
        case 1: SJ_LOOP(a[i] - b[i])
        case 2: SJ_LOOP(a[i] * b[i])
        case 3: SJ_LOOP(a[i] / b[i])
        case 8: SJ_LOOP(a[i] + s)
        case 9: SJ_LOOP(a[i] - s)
        case 10: SJ_LOOP(a[i] * s)
        case 11: SJ_LOOP(a[i] / s)
        case 12: SJ_LOOP(s - a[i])
        case 13: SJ_LOOP(s / a[i])
        }
#undef SJ_LOOP
        int flags = fetestexcept(FE_DIVBYZERO | FE_OVERFLOW | FE_INVALID | FE_UNDERFLOW);
        raised |= (flags & FE_DIVBYZERO ? 1 : 0) | (flags & FE_OVERFLOW ? 2 : 0) |
                  (flags & FE_INVALID ? 4 : 0) | (flags & FE_UNDERFLOW ? 8 : 0);
    }
    return raised;
}
