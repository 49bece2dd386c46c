// octet's CUDA kernels: block-wise 8-bit quantization and the fused 8-bit optimizer updates
// (SPEC sections 3 and 4), with the same arithmetic as the CPU kernels in dev.octet.kernels.
//
// Bit-for-bit agreement with the CPU (Java) kernels rests on:
//  - every float operation in the order the Java rules write it, IEEE single precision, round to
//    nearest: built with --fmad=false (Java never contracts a*b+c into a fused multiply-add) and the
//    default IEEE division and square root (no --use_fast_math), denormals kept (no -ftz);
//  - the same nearest-code search: decision midpoints kept as the largest float not above the exact
//    midpoint, ties to the lower code, the sign fix folded into the tables (CudaTables.java builds them
//    from QuantizationMap's public values and checks them against the exact search);
//  - the same NaN rule: a non-finite gradient element zeroes every statistic of that element and leaves
//    its parameter untouched; a non-finite statistic is stored as BlockCodec does (NaN -> zero code,
//    +-Inf -> largest code of its sign, absmax over the finite values).
//
// Layout of the work: a "group" of G = B / 8 threads owns one quantization block of B elements, each
// thread 8 elements in two chunks of 4 (chunk k of thread l holds elements k * 4G + 4l .. + 3), so a
// warp's float4 loads cover contiguous memory and its 4-code loads are one 32-bit word per thread.
// The block's new absmax comes from shuffles within the group (plus shared memory when G > 32): the
// new statistics stay in registers between the update and the re-quantization, one pass over memory.
// Many tensors are one launch: a table of tensor descriptors, blocks numbered across all tensors, a
// persistent grid striding over them.

#include <stdint.h>

#define OCTET_MB 7                       // mantissa bits of the bucket index
#define OCTET_E0 95                      // lowest binade with its own buckets: [2^-32, 2^-31)
#define OCTET_NB 33                      // binades E0 .. 127 ([1, 2) is the last)
#define OCTET_BUCKETS (2 * OCTET_NB << OCTET_MB)

// One quantization table in device memory (built by CudaTables.java; 10496 bytes).
struct QTable {
    float values[256];      // the map
    float midFloor[256];    // largest float <= exact midpoint of values[c], values[c+1]; [255] = FLT_MAX
    uint8_t bucket[OCTET_BUCKETS];  // codes below each bucket's smallest value
};

// One tensor of a launch (64 bytes; TensorTable.java writes these).
struct Tensor {
    float* p;            // parameters (quantize/dequantize: the float values)
    float* g;            // gradient (and the update, when written to the gradient)
    uint8_t* c0;         // codes of statistic 0
    uint8_t* c1;         // codes of statistic 1 (unused by one-statistic rules)
    float* a0;           // absmax of statistic 0
    float* a1;           // absmax of statistic 1
    long long n;         // elements
    long long firstBlock;  // index of this tensor's first block across the launch
};

// The rule and step options, all 4-byte fields in this order (CudaRule.java writes them).
struct Rule {
    float beta1;          // Adam, Lion
    float beta2;          // Adam, Lion
    float eps;            // Adam, squared average
    float stepScale;      // the step's scale (learning rate and corrections)
    float decayBefore;
    float decayAfter;
    float momentum;       // momentum
    float dampening;      // momentum
    float l2;             // momentum, squared average
    float decay;          // squared average
    float weight;         // squared average
    float gradScale;
    float gradClip;
    float maxUpdateNormRatio;  // > 0: LAMB / LARS trust ratio (norms from the measuring launch)
    int nesterov;
    int firstStep;
    int l2InDirection;
    int writeUpdate;      // 1: write the update into the gradient, leave the parameters
};

#define OP_ADAM 0
#define OP_MOMENTUM 1
#define OP_SQAVG 2
#define OP_LION 3

__device__ __forceinline__ void loadTable(QTable* dst, const QTable* src) {
    const int4* s = reinterpret_cast<const int4*>(src);
    int4* d = reinterpret_cast<int4*>(dst);
    for (int i = threadIdx.x; i < (int) (sizeof(QTable) / 16); i += blockDim.x) {
        d[i] = s[i];
    }
}

// Nearest code of a finite float (in practice |x| <= 1), exactly as QuantizationMap's search.
__device__ __forceinline__ uint32_t nearestCode(const QTable* t, float x) {
    uint32_t u = __float_as_uint(x);
    int e = (int) ((u >> 23) & 0xFF);
    uint32_t m = (u >> (23 - OCTET_MB)) & ((1u << OCTET_MB) - 1);
    if (e < OCTET_E0) {          // below 2^-32 (and zeros, denormals): the first bucket
        e = OCTET_E0;
        m = 0;
    } else if (e > 127) {        // 2 and more: the last bucket
        e = 127;
        m = (1u << OCTET_MB) - 1;
    }
    uint32_t idx = (((u >> 31) * OCTET_NB + (uint32_t) (e - OCTET_E0)) << OCTET_MB) | m;
    uint32_t code = t->bucket[idx];
    return code + (x > t->midFloor[code] ? 1u : 0u);
}

// Largest of v over the group (G threads; one group per CTA when G > 32).
__device__ __forceinline__ uint32_t groupMax(uint32_t v, int G, unsigned mask, uint32_t* red) {
    int w = G < 32 ? G : 32;
    for (int off = w >> 1; off > 0; off >>= 1) {
        v = max(v, __shfl_xor_sync(mask, v, off));
    }
    if (G > 32) {
        __syncthreads();
        if ((threadIdx.x & 31) == 0) {
            red[threadIdx.x >> 5] = v;
        }
        __syncthreads();
        v = 0;
        for (int i = 0; i < (G >> 5); i++) {
            v = max(v, red[i]);
        }
    }
    return v;
}

__device__ __forceinline__ double groupSum(double v, int G, unsigned mask, double* red) {
    int w = G < 32 ? G : 32;
    for (int off = w >> 1; off > 0; off >>= 1) {
        v += __shfl_xor_sync(mask, v, off);
    }
    if (G > 32) {
        __syncthreads();
        if ((threadIdx.x & 31) == 0) {
            red[threadIdx.x >> 5] = v;
        }
        __syncthreads();
        v = 0;
        for (int i = 0; i < (G >> 5); i++) {
            v += red[i];
        }
    }
    return v;
}

// Quantizes this thread's 8 values of a block (x[j] valid where valid bit j is set) and returns the
// block's absmax (identical in every thread of the group). As BlockCodec.encode.
__device__ __forceinline__ float encode8(const float* x, uint32_t valid, const QTable* t, uint32_t zeroCode,
        int G, unsigned mask, uint32_t* red, uint32_t* codes) {
    uint32_t mx = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        uint32_t b = (valid >> j) & 1u ? (__float_as_uint(x[j]) & 0x7FFFFFFFu) : 0u;
        mx = max(mx, b);
    }
    mx = groupMax(mx, G, mask, red);
    if (mx == 0) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            codes[j] = zeroCode;
        }
        return 0.0f;
    }
    if (mx < 0x7F800000u) {
        float absmax = __uint_as_float(mx);
        float r = __fdiv_rn(1.0f, absmax);
        if (isinf(r)) {        // denormal absmax: divide instead
#pragma unroll
            for (int j = 0; j < 8; j++) {
                codes[j] = nearestCode(t, __fdiv_rn(x[j], absmax));
            }
        } else {
#pragma unroll
            for (int j = 0; j < 8; j++) {
                codes[j] = nearestCode(t, __fmul_rn(x[j], r));
            }
        }
        return absmax;
    }
    // Some value is NaN or infinite: absmax over the finite values.
    uint32_t fm = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        uint32_t b = (valid >> j) & 1u ? (__float_as_uint(x[j]) & 0x7FFFFFFFu) : 0u;
        fm = max(fm, b < 0x7F800000u ? b : 0u);
    }
    fm = groupMax(fm, G, mask, red);
    float absmax = __uint_as_float(fm);
#pragma unroll
    for (int j = 0; j < 8; j++) {
        float v = x[j];
        uint32_t c;
        if (isnan(v)) {
            c = zeroCode;
        } else if (isinf(v)) {
            c = v > 0.0f ? 255u : 0u;
        } else if (fm == 0) {
            c = zeroCode;
        } else {
            c = nearestCode(t, __fdiv_rn(v, absmax));
        }
        codes[j] = c;
    }
    return absmax;
}

// Per-thread view of one block: loads and stores of 2 chunks of 4 elements.
struct BlockSlice {
    long long start;   // first element of the block in the tensor
    int n;             // elements in the block
    int e[2];          // offset of chunk k in the block
    bool vec;          // tensor pointers aligned for vector access
    uint32_t valid;    // bit j: element j exists
};

__device__ __forceinline__ void loadF(const float* base, const BlockSlice& s, float* out) {
#pragma unroll
    for (int k = 0; k < 2; k++) {
        if (s.vec && s.e[k] + 4 <= s.n) {
            float4 v = __ldcs(reinterpret_cast<const float4*>(base + s.start + s.e[k]));
            out[4 * k] = v.x;
            out[4 * k + 1] = v.y;
            out[4 * k + 2] = v.z;
            out[4 * k + 3] = v.w;
        } else {
#pragma unroll
            for (int q = 0; q < 4; q++) {
                out[4 * k + q] = s.e[k] + q < s.n ? base[s.start + s.e[k] + q] : 0.0f;
            }
        }
    }
}

__device__ __forceinline__ void storeF(float* base, const BlockSlice& s, const float* v) {
#pragma unroll
    for (int k = 0; k < 2; k++) {
        if (s.vec && s.e[k] + 4 <= s.n) {
            __stcs(reinterpret_cast<float4*>(base + s.start + s.e[k]),
                    make_float4(v[4 * k], v[4 * k + 1], v[4 * k + 2], v[4 * k + 3]));
        } else {
#pragma unroll
            for (int q = 0; q < 4; q++) {
                if (s.e[k] + q < s.n) {
                    base[s.start + s.e[k] + q] = v[4 * k + q];
                }
            }
        }
    }
}

__device__ __forceinline__ void loadC(const uint8_t* base, const BlockSlice& s, uint32_t* out) {
#pragma unroll
    for (int k = 0; k < 2; k++) {
        if (s.vec && s.e[k] + 4 <= s.n) {
            uint32_t w = __ldcs(reinterpret_cast<const unsigned int*>(base + s.start + s.e[k]));
#pragma unroll
            for (int q = 0; q < 4; q++) {
                out[4 * k + q] = (w >> (8 * q)) & 0xFFu;
            }
        } else {
#pragma unroll
            for (int q = 0; q < 4; q++) {
                out[4 * k + q] = s.e[k] + q < s.n ? base[s.start + s.e[k] + q] : 0u;
            }
        }
    }
}

__device__ __forceinline__ void storeC(uint8_t* base, const BlockSlice& s, const uint32_t* c) {
#pragma unroll
    for (int k = 0; k < 2; k++) {
        if (s.vec && s.e[k] + 4 <= s.n) {
            uint32_t w = c[4 * k] | (c[4 * k + 1] << 8) | (c[4 * k + 2] << 16) | (c[4 * k + 3] << 24);
            __stcs(reinterpret_cast<unsigned int*>(base + s.start + s.e[k]), w);
        } else {
#pragma unroll
            for (int q = 0; q < 4; q++) {
                if (s.e[k] + q < s.n) {
                    base[s.start + s.e[k] + q] = (uint8_t) c[4 * k + q];
                }
            }
        }
    }
}

// The group of this thread: size, lane, shuffle mask.
struct Group {
    int G;
    int lane;
    int index;          // group within the CTA
    int perCta;
    unsigned mask;
};

__device__ __forceinline__ Group makeGroup(int blockSize) {
    Group gr;
    gr.G = blockSize >> 3;
    gr.lane = threadIdx.x % gr.G;
    gr.index = threadIdx.x / gr.G;
    gr.perCta = blockDim.x / gr.G;
    if (gr.G >= 32) {
        gr.mask = 0xFFFFFFFFu;
    } else {
        gr.mask = ((1u << gr.G) - 1u) << ((threadIdx.x & 31) & ~(gr.G - 1));
    }
    return gr;
}

__device__ __forceinline__ BlockSlice makeSlice(const Tensor& T, long long b, int blockSize, const Group& gr,
        bool aligned) {
    BlockSlice s;
    s.start = b * blockSize;
    long long left = T.n - s.start;
    s.n = left < blockSize ? (int) left : blockSize;
    s.e[0] = 4 * gr.lane;
    s.e[1] = 4 * gr.G + 4 * gr.lane;
    s.vec = aligned;
    s.valid = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        if (s.e[j >> 2] + (j & 3) < s.n) {
            s.valid |= 1u << j;
        }
    }
    return s;
}

// Advances ti to the tensor holding global block gb (blocks only grow along a thread's loop).
__device__ __forceinline__ int findTensor(const Tensor* tensors, int numTensors, int ti, long long gb) {
    while (ti + 1 < numTensors && tensors[ti + 1].firstBlock <= gb) {
        ti++;
    }
    return ti;
}

template <int OP>
struct Stats {
    static const int count = OP == OP_ADAM ? 2 : 1;
};

// The rule's arithmetic for one element, in the Java rules' operation order.
template <int OP>
__device__ __forceinline__ float ruleUpdate(const Rule& r, float p, float g, float& s0, float& s1) {
    if (OP == OP_ADAM) {
        float m = __fadd_rn(__fmul_rn(s0, r.beta1), __fmul_rn(1.0f - r.beta1, g));
        float v = __fadd_rn(__fmul_rn(s1, r.beta2), __fmul_rn(__fmul_rn(1.0f - r.beta2, g), g));
        s0 = m;
        s1 = v;
        return __fdiv_rn(m, __fadd_rn(__fsqrt_rn(v), r.eps));
    } else if (OP == OP_MOMENTUM) {
        float gg = r.l2 > 0.0f ? __fadd_rn(g, __fmul_rn(p, r.l2)) : g;
        float m = r.firstStep ? gg : __fadd_rn(__fmul_rn(s0, r.momentum), __fmul_rn(1.0f - r.dampening, gg));
        s0 = m;
        return r.nesterov ? __fadd_rn(gg, __fmul_rn(r.momentum, m)) : m;
    } else if (OP == OP_SQAVG) {
        float gg = r.l2 > 0.0f ? __fadd_rn(g, __fmul_rn(p, r.l2)) : g;
        float s = __fadd_rn(__fmul_rn(s0, r.decay), __fmul_rn(r.weight, __fmul_rn(gg, gg)));
        s0 = s;
        return __fdiv_rn(r.l2InDirection ? gg : g, __fadd_rn(__fsqrt_rn(s), r.eps));
    } else {  // OP_LION
        float u = __fadd_rn(__fmul_rn(s0, r.beta1), __fmul_rn(1.0f - r.beta1, g));
        float d = (u > 0.0f) ? 1.0f : (u < 0.0f ? -1.0f : u);  // Math.signum: zeros and NaN as they are
        s0 = __fadd_rn(__fmul_rn(s0, r.beta2), __fmul_rn(1.0f - r.beta2, g));
        return d;
    }
}

// The fused update over every block of every tensor. MEASURE: only accumulate per tensor the squared
// norms of the parameters and of the direction (LAMB / LARS), writing nothing else.
template <int OP, bool MEASURE>
__device__ __forceinline__ void fusedUpdate(const Tensor* __restrict__ tensors, int numTensors,
        long long totalBlocks, int blockSize, const QTable* tab0, const QTable* tab1, uint32_t zero0,
        uint32_t zero1, Rule r, double* norms) {
    __shared__ QTable t[2];
    __shared__ uint32_t redU[16];
    __shared__ double redD[16];
    const int NS = Stats<OP>::count;
    loadTable(&t[0], tab0);
    if (NS > 1) {
        loadTable(&t[1], tab1);
    }
    __syncthreads();
    Group gr = makeGroup(blockSize);
    const float oneMinusBeta1 = 1.0f - r.beta1;
    (void) oneMinusBeta1;
    int ti = 0;
    long long stride = (long long) gridDim.x * gr.perCta;
    // Every thread of a CTA runs the same number of rounds (group reductions may need the whole CTA).
    for (long long base = (long long) blockIdx.x * gr.perCta; base < totalBlocks; base += stride) {
        long long gb = base + gr.index;
        bool active = gb < totalBlocks;
        if (!active) {
            if (gr.G > 32) {
                continue;   // one group per CTA: the whole CTA skips together
            }
            break;          // groups within a warp shuffle with their own mask
        }
        ti = findTensor(tensors, numTensors, ti, gb);
        const Tensor T = tensors[ti];
        bool aligned = ((((uintptr_t) T.p) | ((uintptr_t) T.g)) & 15) == 0
                && ((((uintptr_t) T.c0) | (NS > 1 ? (uintptr_t) T.c1 : 0)) & 3) == 0;
        BlockSlice s = makeSlice(T, gb - T.firstBlock, blockSize, gr, aligned);
        long long blk = gb - T.firstBlock;

        float p[8], g[8], st0[8], st1[8];
        uint32_t code0[8], code1[8];
        loadF(T.p, s, p);
        loadF(T.g, s, g);
        loadC(T.c0, s, code0);
        if (NS > 1) {
            loadC(T.c1, s, code1);
        }
        float abs0 = T.a0[blk];
        float abs1 = NS > 1 ? T.a1[blk] : 0.0f;
        uint32_t nonFinite = 0;
        float d[8];
#pragma unroll
        for (int j = 0; j < 8; j++) {
            float gj = g[j];
            if (r.gradScale != 1.0f) {
                gj = __fmul_rn(gj, r.gradScale);
            }
            if ((__float_as_uint(gj) & 0x7F800000u) == 0x7F800000u) {
                nonFinite |= 1u << j;
                gj = 0.0f;
            }
            if (r.gradClip > 0.0f) {
                gj = fmaxf(-r.gradClip, fminf(r.gradClip, gj));
            }
            st0[j] = __fmul_rn(t[0].values[code0[j]], abs0);
            st1[j] = NS > 1 ? __fmul_rn(t[1].values[code1[j]], abs1) : 0.0f;
            d[j] = ruleUpdate<OP>(r, p[j], gj, st0[j], st1[j]);
            if ((nonFinite >> j) & 1u) {
                st0[j] = 0.0f;
                st1[j] = 0.0f;
                d[j] = 0.0f;
            }
        }
        if (MEASURE) {
            double ps = 0.0, ds = 0.0;
#pragma unroll
            for (int j = 0; j < 8; j++) {
                if ((s.valid >> j) & 1u) {
                    ps += (double) p[j] * (double) p[j];
                    ds += (double) d[j] * (double) d[j];
                }
            }
            ps = groupSum(ps, gr.G, gr.mask, redD);
            ds = groupSum(ds, gr.G, gr.mask, redD);
            if (gr.lane == 0) {
                atomicAdd(&norms[2 * ti], ps);
                atomicAdd(&norms[2 * ti + 1], ds);
            }
            continue;
        }
        float stepScale = r.stepScale;
        if (r.maxUpdateNormRatio > 0.0f) {
            double limit = (double) r.maxUpdateNormRatio * sqrt(norms[2 * ti]);
            double norm = sqrt(norms[2 * ti + 1]);
            float trust = norm > limit ? (float) (limit / norm) : 1.0f;
            stepScale = __fmul_rn(stepScale, trust);
        }
        float out[8];
        if (!r.writeUpdate) {
#pragma unroll
            for (int j = 0; j < 8; j++) {
                float moved = __fmul_rn(__fsub_rn(__fmul_rn(p[j], r.decayBefore), __fmul_rn(stepScale, d[j])),
                        r.decayAfter);
                out[j] = ((nonFinite >> j) & 1u) ? p[j] : moved;
            }
            storeF(T.p, s, out);
        } else {
            bool plain = r.decayBefore == 1.0f && r.decayAfter == 1.0f;
#pragma unroll
            for (int j = 0; j < 8; j++) {
                float u = plain ? __fmul_rn(stepScale, d[j])
                        : __fsub_rn(p[j], __fmul_rn(__fsub_rn(__fmul_rn(p[j], r.decayBefore),
                                __fmul_rn(stepScale, d[j])), r.decayAfter));
                out[j] = ((nonFinite >> j) & 1u) ? 0.0f : u;
            }
            storeF(T.g, s, out);
        }
        float na0 = encode8(st0, s.valid, &t[0], zero0, gr.G, gr.mask, redU, code0);
        storeC(T.c0, s, code0);
        if (gr.lane == 0) {
            T.a0[blk] = na0;
        }
        if (NS > 1) {
            float na1 = encode8(st1, s.valid, &t[1], zero1, gr.G, gr.mask, redU, code1);
            storeC(T.c1, s, code1);
            if (gr.lane == 0) {
                T.a1[blk] = na1;
            }
        }
    }
}

#define OCTET_ENTRY(name, OP, MEASURE)                                                                  \
    extern "C" __global__ void name(const Tensor* tensors, int numTensors, long long totalBlocks,       \
            int blockSize, const QTable* tab0, const QTable* tab1, unsigned int zero0, unsigned int zero1, \
            Rule r, double* norms) {                                                                    \
        fusedUpdate<OP, MEASURE>(tensors, numTensors, totalBlocks, blockSize, tab0, tab1, zero0, zero1, r, \
                norms);                                                                                 \
    }

OCTET_ENTRY(octet_adam, OP_ADAM, false)
OCTET_ENTRY(octet_adam_measure, OP_ADAM, true)
OCTET_ENTRY(octet_momentum, OP_MOMENTUM, false)
OCTET_ENTRY(octet_momentum_measure, OP_MOMENTUM, true)
OCTET_ENTRY(octet_sqavg, OP_SQAVG, false)
OCTET_ENTRY(octet_sqavg_measure, OP_SQAVG, true)
OCTET_ENTRY(octet_lion, OP_LION, false)
OCTET_ENTRY(octet_lion_measure, OP_LION, true)

// Block-wise quantization of each tensor's p into c0 / a0 (BlockwiseQuantizer.quantize).
extern "C" __global__ void octet_quantize(const Tensor* tensors, int numTensors, long long totalBlocks,
        int blockSize, const QTable* tab, unsigned int zeroCode) {
    __shared__ QTable t;
    __shared__ uint32_t redU[16];
    loadTable(&t, tab);
    __syncthreads();
    Group gr = makeGroup(blockSize);
    int ti = 0;
    long long stride = (long long) gridDim.x * gr.perCta;
    for (long long base = (long long) blockIdx.x * gr.perCta; base < totalBlocks; base += stride) {
        long long gb = base + gr.index;
        if (gb >= totalBlocks) {
            if (gr.G > 32) {
                continue;
            }
            break;
        }
        ti = findTensor(tensors, numTensors, ti, gb);
        const Tensor T = tensors[ti];
        bool aligned = ((((uintptr_t) T.p) & 15) == 0) && ((((uintptr_t) T.c0) & 3) == 0);
        long long blk = gb - T.firstBlock;
        BlockSlice s = makeSlice(T, blk, blockSize, gr, aligned);
        float x[8];
        uint32_t c[8];
        loadF(T.p, s, x);
        float a = encode8(x, s.valid, &t, zeroCode, gr.G, gr.mask, redU, c);
        storeC(T.c0, s, c);
        if (gr.lane == 0) {
            T.a0[blk] = a;
        }
    }
}

// Block-wise dequantization of each tensor's c0 / a0 into p (BlockwiseQuantizer.dequantize).
extern "C" __global__ void octet_dequantize(const Tensor* tensors, int numTensors, long long totalBlocks,
        int blockSize, const QTable* tab) {
    __shared__ float values[256];
    for (int i = threadIdx.x; i < 256; i += blockDim.x) {
        values[i] = tab->values[i];
    }
    __syncthreads();
    Group gr = makeGroup(blockSize);
    int ti = 0;
    long long stride = (long long) gridDim.x * gr.perCta;
    for (long long gb = (long long) blockIdx.x * gr.perCta + gr.index; gb < totalBlocks; gb += stride) {
        ti = findTensor(tensors, numTensors, ti, gb);
        const Tensor T = tensors[ti];
        bool aligned = ((((uintptr_t) T.p) & 15) == 0) && ((((uintptr_t) T.c0) & 3) == 0);
        long long blk = gb - T.firstBlock;
        BlockSlice s = makeSlice(T, blk, blockSize, gr, aligned);
        uint32_t c[8];
        float x[8];
        loadC(T.c0, s, c);
        float a = T.a0[blk];
#pragma unroll
        for (int j = 0; j < 8; j++) {
            x[j] = __fmul_rn(values[c[j]], a);
        }
        storeF(T.p, s, x);
    }
}

// Deterministic pseudo-random fill (benchmarks, tests): x[i] = scale * (uniform(-1, 1) from a hash of
// seed and i). Keeps data generation on the device so benchmarks never time zeros.
extern "C" __global__ void octet_fill_random(float* x, long long n, unsigned int seed, float scale) {
    for (long long i = (long long) blockIdx.x * blockDim.x + threadIdx.x; i < n;
            i += (long long) gridDim.x * blockDim.x) {
        unsigned long long h = (unsigned long long) i * 0x9E3779B97F4A7C15ull + seed * 0xD1B54A32D192ED03ull;
        h ^= h >> 31;
        h *= 0xBF58476D1CE4E5B9ull;
        h ^= h >> 29;
        float u = (float) (h >> 40) * (1.0f / 16777216.0f);  // [0, 1)
        x[i] = scale * (2.0f * u - 1.0f);
    }
}
