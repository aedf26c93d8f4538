/* An independent FMA-chain peak, outside the product: on every OpenMP thread, CHAINS independent
 * vector accumulators each run x = x*a + b. Usage: fma_chain [iterations] [repeats]. Prints the
 * best and median GFLOP/s (2 flops per lane per FMA). Build: gcc -O3 -march=native -fopenmp */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

#if defined(__AVX512F__)
#define LANES 16
#define CHAINS 16
#elif defined(__AVX2__)
#define LANES 8
#define CHAINS 12
#else
#define LANES 4
#define CHAINS 12
#endif
typedef float vec __attribute__((vector_size(LANES * 4)));

static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

/* Named accumulators, not an array: GCC keeps an array of vectors on the stack, every FMA then
 * loads and stores memory, and that measured a third of the register-only peak. */
#define EACH(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)
#define DECLARE(i) vec acc##i = va * (float)(i + 1);
#define STEP(i) if (i < CHAINS) acc##i = acc##i * va + vb; /* contracted to FMA */
#define SUM(i) if (i < CHAINS) for (int l = 0; l < LANES; l++) s += acc##i[l];

static float chains(long iters, float a, float b) {
    vec va, vb;
    for (int l = 0; l < LANES; l++) { va[l] = a; vb[l] = b; }
    EACH(DECLARE)
    for (long k = 0; k < iters; k++) {
        EACH(STEP)
        /* Keeps the loop from being folded, and a and b in registers (else each FMA loads b). */
        __asm__ volatile("" : "+v"(acc0), "+v"(va), "+v"(vb));
    }
    float s = 0;
    EACH(SUM)
    return s;
}

int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 2000000;
    int reps = argc > 2 ? atoi(argv[2]) : 15;
    double *t = malloc(reps * sizeof *t);
    volatile float sink = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = omp_get_wtime();
        float s = 0;
#pragma omp parallel reduction(+ : s)
        s += chains(iters, 0.9999f, 1e-4f);
        t[r] = omp_get_wtime() - t0;
        sink += s;
    }
    qsort(t + 1, reps - 1, sizeof *t, cmp);
    double flops = 2.0 * LANES * CHAINS * (double)iters * omp_get_max_threads();
    printf("threads=%d lanes=%d chains=%d fma_best_gflops=%.1f fma_median_gflops=%.1f\n",
           omp_get_max_threads(), LANES, CHAINS, flops / t[1] / 1e9, flops / t[1 + (reps - 1) / 2] / 1e9);
    return sink == 12345.0f;
}
