/* Matrix products on the team, one whole product per thread at a time: a stack of them, or a
 * list of independent ones.
 *
 * oneDNN splits one product over the team; a stack of small ones (attention's scores: 128
 * products of 128 x 64 x 128) then pays the team's fork and join per product and keeps each
 * thread on a sliver: 2.5 ms on a team of two where NumPy's one thread takes 3.8. Here each
 * thread takes whole products of the stack, in which oneDNN runs on that thread alone (it does
 * not nest a team inside a parallel region). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sj_team.h"

/* dnnl_sgemm: row-major c = alpha op(a) op(b) + beta c, 'N' or 'T' for op; 0 on success. */
typedef int (*sgemm_fn)(char, char, int64_t, int64_t, int64_t, float, const float *, int64_t,
                        const float *, int64_t, float, float *, int64_t);

/* c[i] = op(a[i]) @ op(b[i]) for i < count, matrices sa, sb, sc floats apart, each product
 * (m, k) x (k, n) with leading dimensions lda, ldb, ldc: the rows of sj_gemm_list's table.
 * Returns the first nonzero status of a product (0 when all succeeded), -1 out of memory. */
int sj_gemm_list(void *fn, int64_t count, const int64_t *desc);

int sj_gemm_stack(void *fn, int64_t count, char ta, char tb, int64_t m, int64_t n, int64_t k,
                  const float *a, int64_t lda, int64_t sa, const float *b, int64_t ldb,
                  int64_t sb, float *c, int64_t ldc, int64_t sc) {
    int64_t *desc = malloc(sizeof(int64_t) * 11 * (size_t)(count > 0 ? count : 1));
    if (desc == NULL)
        return -1;
    for (int64_t i = 0; i < count; i++) {
        int64_t row[11] = {ta, tb, m, n, k, (int64_t)(intptr_t)(a + i * sa), lda,
                           (int64_t)(intptr_t)(b + i * sb), ldb, (int64_t)(intptr_t)(c + i * sc),
                           ldc};
        memcpy(desc + 11 * i, row, sizeof(row));
    }
    int status = sj_gemm_list(fn, count, desc);
    free(desc);
    return status;
}

/* Independent products of any shapes: c = op(a) @ op(b) for each of `count` rows of `desc`
 * (ta, tb, m, n, k, a, lda, b, ldb, c, ldc; the operands as addresses), each thread of the
 * team taking whole products. The two gradients of a layer's product (as many multiply-adds
 * each) run one per thread of a team of two, each product alone on its core: ~10% faster than
 * one after the other with the team splitting each. Returns the first nonzero status. */
int sj_gemm_list(void *fn, int64_t count, const int64_t *desc) {
    sgemm_fn sgemm = (sgemm_fn)fn;
    int failed = 0;
#pragma omp parallel SJ_TEAM(count * SJ_TEAM_MIN)
    {
#ifdef _OPENMP
        omp_set_num_threads(1);
#endif
        SJ_SHARE(count, lo, hi);
        for (int64_t i = lo; i < hi; i++) {
            const int64_t *d = desc + 11 * i;
            int status = sgemm((char)d[0], (char)d[1], d[2], d[3], d[4], 1.0f,
                               (const float *)(intptr_t)d[5], d[6],
                               (const float *)(intptr_t)d[7], d[8], 0.0f,
                               (float *)(intptr_t)d[9], d[10]);
            if (status != 0) {
#pragma omp critical
                if (!failed)
                    failed = status;
            }
        }
    }
    return failed;
}
