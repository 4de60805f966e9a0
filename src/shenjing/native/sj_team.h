/* The OpenMP team for the loops of the C kernels (see team.c).
 *
 * `#pragma omp parallel for SJ_TEAM(work)` splits a loop over the team when team mode set
 * one (parallel.py) and the loop has at least SJ_TEAM_MIN elements of work; otherwise, and
 * without OpenMP, the loop runs on the calling thread. */
#ifndef SJ_TEAM_H
#define SJ_TEAM_H

extern int sj_team_size;

/* Below this many elements a pass is cheaper on one thread than the team's fork and join
 * (parallel.TEAM_MIN is the same number; a test checks it through sj_team_min). */
#define SJ_TEAM_MIN (1 << 15)
#define SJ_TEAM(work) num_threads(sj_team_size) if (sj_team_size > 1 && (work) >= SJ_TEAM_MIN)

#ifdef _OPENMP
#include <omp.h>
#define SJ_THREAD() omp_get_thread_num()
#define SJ_THREADS() omp_get_num_threads()
#else
#define SJ_THREAD() 0
#define SJ_THREADS() 1
#endif

/* This thread's share [lo, hi) of n items inside a parallel region (all of them outside). */
#define SJ_SHARE(n, lo, hi) \
    int64_t lo = (int64_t)(n) * SJ_THREAD() / SJ_THREADS(), \
            hi = (int64_t)(n) * (SJ_THREAD() + 1) / SJ_THREADS()

#endif
