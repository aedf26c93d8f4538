/* An independent STREAM triad (a = b + s*c) with ordinary stores, outside the product, to check
 * the product's stream_triad probe. Usage: stream_triad [elements per array] [repeats].
 * Prints the best and median GB/s over the repeats, counting 3 arrays of 4-byte floats (STREAM's
 * convention for triad). Build: gcc -O3 -march=native -fopenmp -fno-tree-loop-distribute-patterns */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static int cmp(const void *x, const void *y) {
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 64L << 20;
    int reps = argc > 2 ? atoi(argv[2]) : 20;
    float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    double *t = malloc(reps * sizeof *t);
    const float s = 3.0f;
#pragma omp parallel for schedule(static)
    for (long j = 0; j < n; j++) { a[j] = 0.0f; b[j] = 1.0f; c[j] = 2.0f; }
    for (int r = 0; r < reps; r++) {
        double t0 = omp_get_wtime();
#pragma omp parallel for schedule(static)
        for (long j = 0; j < n; j++) a[j] = b[j] + s * c[j];
        t[r] = omp_get_wtime() - t0;
    }
    for (long j = 0; j < n; j += 4099)
        if (a[j] != 7.0f) { fprintf(stderr, "wrong result at %ld\n", j); return 1; }
    qsort(t + 1, reps - 1, sizeof *t, cmp); /* the first repeat warms up */
    double bytes = 3.0 * 4.0 * (double)n;
    printf("threads=%d n=%ld triad_best_gbps=%.2f triad_median_gbps=%.2f\n", omp_get_max_threads(), n,
           bytes / t[1] / 1e9, bytes / t[1 + (reps - 1) / 2] / 1e9);
    return 0;
}
