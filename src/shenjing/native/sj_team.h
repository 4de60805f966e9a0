/* The OpenMP team for the loops of the C kernels (see team.c).
 *
 * `#pragma omp parallel for SJ_TEAM(work)` splits a loop over the team when team mode set
 * one (parallel.py) and the loop has at least SJ_TEAM_MIN elements of work; otherwise, and
 * without OpenMP, the loop runs on the calling thread. */
#ifndef SJ_TEAM_H
#define SJ_TEAM_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

extern int sj_team_size;

/* Below this many elements a pass is cheaper on one thread than the team's fork and join
 * (parallel.TEAM_MIN is the same number; a test checks it through sj_team_min). */
#define SJ_TEAM_MIN (1 << 15)
#define SJ_TEAM(work) num_threads(sj_team_for(work)) if (sj_team_for(work) > 1)

#ifdef _OPENMP
#include <omp.h>
#define SJ_THREAD() omp_get_thread_num()
#define SJ_THREADS() omp_get_num_threads()
#else
#define SJ_THREAD() 0
#define SJ_THREADS() 1
#endif

/* The team for a pass of `work` elements: the set size from SJ_TEAM_MIN on, else 1. */
static inline int sj_team_for(int64_t work) {
    return sj_team_size > 1 && work >= SJ_TEAM_MIN ? sj_team_size : 1;
}

/* Column sums kept per thread (`used` blocks, `stride` doubles apart) added in thread order:
 * out[j] = the sum over the blocks of parts[j], j < n, as a float. */
static inline void sj_sum_parts(const double *parts, int used, size_t stride, int64_t n,
                                float *out) {
    for (int64_t j = 0; j < n; j++) {
        double total = parts[j];
        for (int t = 1; t < used; t++)
            total += parts[stride * t + j];
        out[j] = (float)total;
    }
}

/* This thread's share [lo, hi) of n items inside a parallel region (all of them outside). */
#define SJ_SHARE(n, lo, hi) \
    int64_t lo = (int64_t)(n) * SJ_THREAD() / SJ_THREADS(), \
            hi = (int64_t)(n) * (SJ_THREAD() + 1) / SJ_THREADS()

/* Column sums kept per thread: `team` zeroed blocks of `width` doubles, for sj_sum_parts to
 * add in thread order; NULL when not `wanted`, or when out of memory (wanted, then). */
static inline double *sj_parts(int wanted, int team, size_t width) {
    return wanted ? calloc(width * (size_t)team, sizeof(double)) : NULL;
}

/* Inside the region of a column reduction: this thread's rows [lo, hi) of m and its block
 * `part` of `parts` (NULL if none); thread 0 records in `used` how many threads ran. */
#define SJ_SHARE_PARTS(m, lo, hi, parts, width, part, used) \
    SJ_SHARE(m, lo, hi); \
    if (SJ_THREAD() == 0) \
        used = SJ_THREADS(); \
    double *part = (parts) ? (parts) + (width) * SJ_THREAD() : NULL

#endif
