/* The calling thread's OpenMP team, for the loops of the C kernels (see team.c).
 *
 * `#pragma omp parallel for SJ_TEAM(work)` splits a loop over the team when the thread has
 * one (parallel.py's team mode sets it) and the loop has at least SJ_TEAM_MIN elements of
 * work; otherwise, and without OpenMP, the loop runs on the calling thread. */
#ifndef SJ_TEAM_H
#define SJ_TEAM_H

extern _Thread_local int sj_team_size;

/* Below this many elements a pass is cheaper on one thread than the team's fork and join
 * (parallel.TEAM_MIN is the same number). */
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

#endif
