// tensorbench CUDA kernels, compiled at run time with NVRTC (no fast-math: expf/tanhf are the
// accurate versions). Elementwise ops and sums use 16-byte float4 loads and grid-stride loops;
// row ops use one 256-thread block per row; reductions go through warp shuffles.

typedef unsigned long long u64;

__device__ __forceinline__ float op_add(float x, float y) { return x + y; }
__device__ __forceinline__ float op_mul(float x, float y) { return x * y; }
__device__ __forceinline__ float op_relu(float x) { return fmaxf(x, 0.0f); }
__device__ __forceinline__ float op_exp(float x) { return expf(x); }
__device__ __forceinline__ float op_gelu(float x) {
    return 0.5f * x * (1.0f + tanhf(0.7978845608028654f * (x + 0.044715f * x * x * x)));
}

#define BINARY_KERNEL(NAME, OP)                                                            \
    extern "C" __global__ void NAME(const float4* __restrict__ a, const float4* __restrict__ b, \
                                    float4* __restrict__ out, u64 n4) {                    \
        for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < n4;                   \
             i += (u64)gridDim.x * blockDim.x) {                                           \
            float4 x = a[i], y = b[i];                                                     \
            out[i] = make_float4(OP(x.x, y.x), OP(x.y, y.y), OP(x.z, y.z), OP(x.w, y.w));  \
        }                                                                                  \
    }

#define UNARY_KERNEL(NAME, OP)                                                             \
    extern "C" __global__ void NAME(const float4* __restrict__ a, float4* __restrict__ out, \
                                    u64 n4) {                                              \
        for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < n4;                   \
             i += (u64)gridDim.x * blockDim.x) {                                           \
            float4 x = a[i];                                                               \
            out[i] = make_float4(OP(x.x), OP(x.y), OP(x.z), OP(x.w));                      \
        }                                                                                  \
    }

BINARY_KERNEL(add_f32, op_add)
BINARY_KERNEL(mul_f32, op_mul)
UNARY_KERNEL(relu_f32, op_relu)
UNARY_KERNEL(gelu_f32, op_gelu)
UNARY_KERNEL(exp_f32, op_exp)

__device__ __forceinline__ float warp_sum(float v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_down_sync(0xffffffffu, v, o));
    return v;
}

// Sum over a block of up to 1024 threads; every thread gets the result.
__device__ float block_sum(float v) {
    __shared__ float warps[32];
    __shared__ float result;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_sum(v);
    if (lane == 0) warps[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < (int)((blockDim.x + 31) >> 5) ? warps[lane] : 0.0f;
        v = warp_sum(v);
        if (lane == 0) result = v;
    }
    __syncthreads();
    float r = result;
    __syncthreads();
    return r;
}

__device__ float block_max(float v) {
    __shared__ float warps[32];
    __shared__ float result;
    int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
    v = warp_max(v);
    if (lane == 0) warps[warp] = v;
    __syncthreads();
    if (warp == 0) {
        v = lane < (int)((blockDim.x + 31) >> 5) ? warps[lane] : -3.402823466e38f;
        v = warp_max(v);
        if (lane == 0) result = v;
    }
    __syncthreads();
    float r = result;
    __syncthreads();
    return r;
}

extern "C" __global__ void partial_sums(const float4* __restrict__ x, float* __restrict__ partials,
                                        u64 n4) {
    float4 acc = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    for (u64 i = blockIdx.x * (u64)blockDim.x + threadIdx.x; i < n4;
         i += (u64)gridDim.x * blockDim.x) {
        float4 v = x[i];
        acc.x += v.x; acc.y += v.y; acc.z += v.z; acc.w += v.w;
    }
    float s = block_sum((acc.x + acc.y) + (acc.z + acc.w));
    if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

extern "C" __global__ void final_sum(const float* __restrict__ partials, float* __restrict__ out,
                                     unsigned int count) {
    float acc = 0.0f;
    for (unsigned int i = threadIdx.x; i < count; i += blockDim.x) acc += partials[i];
    float s = block_sum(acc);
    if (threadIdx.x == 0) out[0] = s;
}

extern "C" __global__ void row_sum(const float* __restrict__ x, float* __restrict__ out,
                                   unsigned int rows, unsigned int cols) {
    for (unsigned int row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* r = x + (u64)row * cols;
        float acc = 0.0f;
        for (unsigned int c = threadIdx.x; c < cols; c += blockDim.x) acc += r[c];
        float s = block_sum(acc);
        if (threadIdx.x == 0) out[row] = s;
    }
}

extern "C" __global__ void softmax(const float* __restrict__ x, float* __restrict__ out,
                                   unsigned int rows, unsigned int cols) {
    for (unsigned int row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* r = x + (u64)row * cols;
        float* o = out + (u64)row * cols;
        float m = -3.402823466e38f;
        for (unsigned int c = threadIdx.x; c < cols; c += blockDim.x) m = fmaxf(m, r[c]);
        m = block_max(m);
        float acc = 0.0f;
        for (unsigned int c = threadIdx.x; c < cols; c += blockDim.x) acc += expf(r[c] - m);
        float inv = 1.0f / block_sum(acc);
        for (unsigned int c = threadIdx.x; c < cols; c += blockDim.x) o[c] = expf(r[c] - m) * inv;
    }
}

extern "C" __global__ void layer_norm(const float* __restrict__ x, float* __restrict__ out,
                                      const float* __restrict__ gain,
                                      const float* __restrict__ bias, unsigned int rows,
                                      unsigned int cols, float eps) {
    float n = (float)cols;
    for (unsigned int row = blockIdx.x; row < rows; row += gridDim.x) {
        const float* r = x + (u64)row * cols;
        float* o = out + (u64)row * cols;
        float acc = 0.0f;
        for (unsigned int c = threadIdx.x; c < cols; c += blockDim.x) acc += r[c];
        float mean = block_sum(acc) / n;
        float sq = 0.0f;
        for (unsigned int c = threadIdx.x; c < cols; c += blockDim.x) {
            float d = r[c] - mean;
            sq += d * d;
        }
        float inv = rsqrtf(block_sum(sq) / n + eps);
        for (unsigned int c = threadIdx.x; c < cols; c += blockDim.x)
            o[c] = (r[c] - mean) * inv * gain[c] + bias[c];
    }
}

// 32×32 tiles through shared memory (one column of padding avoids bank conflicts); 32×8 threads.
extern "C" __global__ void transpose(const float* __restrict__ x, float* __restrict__ out,
                                     unsigned int rows, unsigned int cols) {
    __shared__ float tile[32][33];
    unsigned int c = blockIdx.x * 32 + threadIdx.x;
    unsigned int r0 = blockIdx.y * 32;
    for (unsigned int j = threadIdx.y; j < 32; j += 8) {
        unsigned int r = r0 + j;
        if (r < rows && c < cols) tile[j][threadIdx.x] = x[(u64)r * cols + c];
    }
    __syncthreads();
    unsigned int oc = blockIdx.y * 32 + threadIdx.x;
    unsigned int or0 = blockIdx.x * 32;
    for (unsigned int j = threadIdx.y; j < 32; j += 8) {
        unsigned int orow = or0 + j;
        if (orow < cols && oc < rows) out[(u64)orow * rows + oc] = tile[threadIdx.x][j];
    }
}

// C = A·B row-major: 64×64 tile of C per 16×16 block, 4×4 outputs per thread, K in slices of 16.
extern "C" __global__ void matmul(const float* __restrict__ a, const float* __restrict__ b,
                                  float* __restrict__ c, unsigned int m, unsigned int n,
                                  unsigned int k) {
    __shared__ float as[64][16];
    __shared__ float bs[16][64];
    unsigned int row0 = blockIdx.y * 64, col0 = blockIdx.x * 64;
    unsigned int tid = threadIdx.y * 16 + threadIdx.x;
    float acc[4][4] = {{0.0f}};
    for (unsigned int k0 = 0; k0 < k; k0 += 16) {
        for (unsigned int i = 0; i < 4; ++i) {
            unsigned int idx = tid + i * 256;
            unsigned int ar = row0 + idx / 16, ak = k0 + idx % 16;
            as[idx / 16][idx % 16] = (ar < m && ak < k) ? a[(u64)ar * k + ak] : 0.0f;
            unsigned int bk = k0 + idx / 64, bc = col0 + idx % 64;
            bs[idx / 64][idx % 64] = (bk < k && bc < n) ? b[(u64)bk * n + bc] : 0.0f;
        }
        __syncthreads();
#pragma unroll
        for (unsigned int kk = 0; kk < 16; ++kk) {
            float av[4], bv[4];
#pragma unroll
            for (int i = 0; i < 4; ++i) {
                av[i] = as[threadIdx.y * 4 + i][kk];
                bv[i] = bs[kk][threadIdx.x * 4 + i];
            }
#pragma unroll
            for (int i = 0; i < 4; ++i)
#pragma unroll
                for (int j = 0; j < 4; ++j) acc[i][j] += av[i] * bv[j];
        }
        __syncthreads();
    }
    for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j) {
            unsigned int r = row0 + threadIdx.y * 4 + i, col = col0 + threadIdx.x * 4 + j;
            if (r < m && col < n) c[(u64)r * n + col] = acc[i][j];
        }
}

// Launch overhead: does nothing.
extern "C" __global__ void empty() {}
