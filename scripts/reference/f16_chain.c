/* An independent AVX512-FP16 FMA peak, outside the product: on every OpenMP thread, 16
 * independent vfmadd231ph chains held in zmm0-zmm15 (GCC spills vectors of _Float16 to the stack
 * in such a loop, so the loop is written in assembly). Usage: f16_chain [iterations] [repeats].
 * Prints the best GFLOP/s (32 lanes, 2 flops per lane per FMA).
 * Build: gcc -O3 -march=native -fopenmp (needs a CPU with avx512fp16). */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>

static void chains(long iters) {
    __asm__ volatile(
        "mov $0x3C003C00, %%eax\n\t" /* two f16 1.0 */
        "vpbroadcastd %%eax, %%zmm16\n\t"
        "vmovaps %%zmm16, %%zmm17\n\t"
        "1:\n\t"
        "vfmadd231ph %%zmm16, %%zmm17, %%zmm0\n\t vfmadd231ph %%zmm16, %%zmm17, %%zmm1\n\t"
        "vfmadd231ph %%zmm16, %%zmm17, %%zmm2\n\t vfmadd231ph %%zmm16, %%zmm17, %%zmm3\n\t"
        "vfmadd231ph %%zmm16, %%zmm17, %%zmm4\n\t vfmadd231ph %%zmm16, %%zmm17, %%zmm5\n\t"
        "vfmadd231ph %%zmm16, %%zmm17, %%zmm6\n\t vfmadd231ph %%zmm16, %%zmm17, %%zmm7\n\t"
        "vfmadd231ph %%zmm16, %%zmm17, %%zmm8\n\t vfmadd231ph %%zmm16, %%zmm17, %%zmm9\n\t"
        "vfmadd231ph %%zmm16, %%zmm17, %%zmm10\n\t vfmadd231ph %%zmm16, %%zmm17, %%zmm11\n\t"
        "vfmadd231ph %%zmm16, %%zmm17, %%zmm12\n\t vfmadd231ph %%zmm16, %%zmm17, %%zmm13\n\t"
        "vfmadd231ph %%zmm16, %%zmm17, %%zmm14\n\t vfmadd231ph %%zmm16, %%zmm17, %%zmm15\n\t"
        "dec %0\n\t"
        "jnz 1b\n\t"
        "vzeroupper\n\t"
        : "+r"(iters)
        :
        : "eax", "cc", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8",
          "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17");
}

int main(int argc, char **argv) {
    long iters = argc > 1 ? atol(argv[1]) : 1000000;
    int reps = argc > 2 ? atoi(argv[2]) : 15;
    double best = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = omp_get_wtime();
#pragma omp parallel
        chains(iters);
        double t = omp_get_wtime() - t0;
        double gflops = 2.0 * 32 * 16 * (double)iters * omp_get_max_threads() / t / 1e9;
        if (gflops > best) best = gflops;
    }
    printf("threads=%d f16_best_gflops=%.1f\n", omp_get_max_threads(), best);
    return 0;
}
