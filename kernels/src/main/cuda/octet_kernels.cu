// octet's CUDA kernels: block-wise 8-bit quantization and the fused 8-bit optimizer updates
// (docs/technique.md sections 3 and 4), with the same arithmetic as the CPU kernels in dev.octet.kernels.
//
// Bit-for-bit agreement with the CPU (Java) kernels rests on:
//  - every float operation in the order the Java rules write it, IEEE single precision, round to
//    nearest: built with --fmad=false (Java never contracts a*b+c into a fused multiply-add) and the
//    default IEEE division and square root (no --use_fast_math), denormals kept (no -ftz);
//  - the same nearest-code search: decision midpoints kept as the largest float not above the exact
//    midpoint, ties to the lower code, the sign fix folded into the tables (CudaTables.java builds them
//    from QuantizationMap's public values and checks them against the exact search);
//  - the same NaN rule: a non-finite gradient element zeroes every statistic of that element and leaves
//    its parameter untouched, and so does a new statistic that is not finite (8 bits cannot hold the
//    infinity a float32 state would); the stand-alone quantizer stores a non-finite value as BlockCodec
//    does (NaN -> zero code, +-Inf -> largest code of its sign, absmax over the finite values);
//  - the same guards that keep an 8-bit step within the exact rule's bound (StatisticFloor.java): the
//    rule's floor on the decoded second statistic (Rule.floor), and search tables that never round a
//    positive value of a statistic the rule divides by to the zero code (chosen per statistic by the host).
//
// Layout of the work: a "group" of G = B / 8 threads owns one quantization block of B elements, each
// thread 8 elements in two chunks of 4 (chunk k of thread l holds elements k * 4G + 4l .. + 3), so a
// warp's float4 loads cover contiguous memory and its 4-code loads are one 32-bit word per thread.
// The block's new absmax comes from shuffles within the group (plus shared memory when G > 32): the
// new statistics stay in registers between the update and the re-quantization, one pass over memory.
// Many tensors are one launch: a table of tensor descriptors, blocks numbered across all tensors, a
// persistent grid striding over them. Every rule has a kernel for any block size ("octet_adam") and one
// for blocks of 256 ("octet_adam_b256": one warp a block, and each warp's next block copied into shared
// memory with cp.async while it computes the current one). Measured history: docs/cuda-notes.md.

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

// One tensor of a launch (80 bytes; CudaTensorGroup.java writes these). In the float32-state kernels
// ("..._f32") c0..c2 point to float32 statistics and a0..a2 are unused.
struct __align__(16) Tensor {
    float* p;            // parameters (quantize/dequantize: the float values)
    float* g;            // gradient (and the update, when written to the gradient)
    uint8_t* c0;         // codes of statistic 0
    uint8_t* c1;         // codes of statistic 1 (unused by one-statistic rules)
    float* a0;           // absmax of statistic 0
    float* a1;           // absmax of statistic 1
    long long n;         // elements
    long long firstBlock;  // index of this tensor's first block across the launch
    uint8_t* c2;         // codes of statistic 2 (AMSGrad's running maximum; same map as statistic 1)
    float* a2;           // absmax of statistic 2
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
    float learningRate;   // Nadam, velocity Nesterov (rules with the learning rate inside the direction)
    float correction;     // Nadam's 1 - beta1^t
    int nesterov;
    int firstStep;
    int l2InDirection;
    int output;           // 0: move the parameters; 1: write the update into the gradient, leave the
                          // parameters; 2: move the parameters and zero the gradient (StepOptions.Output)
    float floor;          // the decoded second statistic's floor (StatisticFloor; 8-bit kernels only)
    // The MXNet-convention operators (OP_MX_*, dev.octet.kernels.rules.MxRules) prepare the gradient
    // themselves: rescale, clip (two-sided, or upper only), coupled weight decay.
    float prepRescale;
    float prepClip;       // < 0: no clip
    int prepOneSided;
    float weightDecay;
    float lambda;         // MX Adam: lr sqrt(1 - b2^t) / (1 - b1^t), inside the step
    float decoupledLr;    // MX AdamW: w - (w lr) wd before the step
    float decoupledWd;
};

#define OP_ADAM 0
#define OP_MOMENTUM 1
#define OP_SQAVG 2
#define OP_LION 3
#define OP_NADAM 4
#define OP_ADAMAX 5
#define OP_AMSGRAD 6
#define OP_ADABELIEF 7
#define OP_ADADELTA 8          // rho in r.decay
#define OP_VELOCITY_NESTEROV 9
#define OP_ADAM_SQUARE_FIRST 10  // Adam with DL4J's rounding of the squared gradient, (g g)(1 - b2)
// The MXNet convention's operators (MxRules): the learning rate inside the statistics or the direction,
// the parameter moved by the direction itself (stepScale 1).
#define OP_MX_ADAM 11
#define OP_MX_SGD 12
#define OP_MX_NAG 13
#define OP_MX_RMSPROP 14
#define OP_MX_RMSPROP_CENTERED 15
#define OP_MX_ADAGRAD 16
#define OP_MX_ADADELTA 17

// The search tables of the launch's statistics (one or two), and reduction scratch, per CTA.
__shared__ QTable s_tab[2];
__shared__ uint32_t s_redU[32];
__shared__ double s_redD[32];

__device__ __forceinline__ void loadTable(int k, const QTable* src) {
    const int4* from = reinterpret_cast<const int4*>(src);
    int4* to = reinterpret_cast<int4*>(&s_tab[k]);
    for (int i = threadIdx.x; i < (int) (sizeof(QTable) / 16); i += blockDim.x) {
        to[i] = from[i];
    }
}

// Nearest code of a finite float (in practice |x| <= 1), exactly as QuantizationMap's search.
template <int K>
__device__ __forceinline__ uint32_t nearestCode(float x) {
    uint32_t u = __float_as_uint(x);
    // Magnitudes below 2^-32 (zeros, denormals) go to the first bucket, 2 and more to the last.
    uint32_t mag = min(max(u & 0x7FFFFFFFu, (uint32_t) OCTET_E0 << 23), 0x3FFFFFFFu);
    uint32_t idx = (u >> 31) * (OCTET_NB << OCTET_MB) + (mag >> (23 - OCTET_MB)) - (OCTET_E0 << OCTET_MB);
    uint32_t code = s_tab[K].bucket[idx];
    return code + (x > s_tab[K].midFloor[code] ? 1u : 0u);
}

template <int K>
__device__ __forceinline__ float decode(uint32_t word, int q, float absmax) {
    return __fmul_rn(s_tab[K].values[(word >> (8 * q)) & 0xFFu], absmax);
}

// The group of this thread: G = B / 8 threads own a block; lane; shuffle mask.
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
    gr.mask = gr.G >= 32 ? 0xFFFFFFFFu : ((1u << gr.G) - 1u) << ((threadIdx.x & 31) & ~(gr.G - 1));
    return gr;
}

// A group of exactly one warp (B = 256, the default): constant lanes and mask, unrolled shuffles.
__device__ __forceinline__ Group warpGroup() {
    Group gr;
    gr.G = 32;
    gr.lane = threadIdx.x & 31;
    gr.index = threadIdx.x >> 5;
    gr.perCta = blockDim.x >> 5;
    gr.mask = 0xFFFFFFFFu;
    return gr;
}

// Largest of v over the group (one group per CTA when G > 32). WARP: the group is one warp.
template <bool WARP>
__device__ __forceinline__ uint32_t groupMax(uint32_t v, const Group& gr) {
    if (WARP) {
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) {
            v = max(v, __shfl_xor_sync(0xFFFFFFFFu, v, off));
        }
        return v;
    }
    int w = gr.G < 32 ? gr.G : 32;
    for (int off = w >> 1; off > 0; off >>= 1) {
        v = max(v, __shfl_xor_sync(gr.mask, v, off));
    }
    if (gr.G > 32) {
        __syncthreads();
        if ((threadIdx.x & 31) == 0) {
            s_redU[threadIdx.x >> 5] = v;
        }
        __syncthreads();
        v = 0;
        for (int i = 0; i < (gr.G >> 5); i++) {
            v = max(v, s_redU[i]);
        }
    }
    return v;
}

template <bool WARP>
__device__ __forceinline__ double groupSum(double v, const Group& gr) {
    if (WARP) {
#pragma unroll
        for (int off = 16; off > 0; off >>= 1) {
            v += __shfl_xor_sync(0xFFFFFFFFu, v, off);
        }
        return v;
    }
    int w = gr.G < 32 ? gr.G : 32;
    for (int off = w >> 1; off > 0; off >>= 1) {
        v += __shfl_xor_sync(gr.mask, v, off);
    }
    if (gr.G > 32) {
        __syncthreads();
        if ((threadIdx.x & 31) == 0) {
            s_redD[threadIdx.x >> 5] = v;
        }
        __syncthreads();
        v = 0;
        for (int i = 0; i < (gr.G >> 5); i++) {
            v += s_redD[i];
        }
    }
    return v;
}

__device__ __forceinline__ uint32_t pack4(const uint32_t* c) {
    return c[0] | (c[1] << 8) | (c[2] << 16) | (c[3] << 24);
}

// The largest magnitude's bits of this thread's valid values (NaN and infinities compare above every
// finite value, as BlockCodec.largestMagnitude's result).
__device__ __forceinline__ uint32_t threadMax(const float* x, uint32_t valid) {
    uint32_t mx = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        uint32_t b = (valid >> j) & 1u ? (__float_as_uint(x[j]) & 0x7FFFFFFFu) : 0u;
        mx = max(mx, b);
    }
    return mx;
}

// Quantizes this thread's 8 values of a block with table K (x[j] counts where valid bit j is set) into
// two words of codes, and returns the block's absmax (the same in every thread of the group); mine is
// threadMax(x, valid). As BlockCodec.encode, including zeros, denormal absmax, NaN and infinities.
template <int K, bool WARP>
__device__ __forceinline__ float encode8(const float* x, uint32_t valid, uint32_t mine, uint32_t zeroCode,
        const Group& gr, uint32_t* words) {
    uint32_t mx = groupMax<WARP>(mine, gr);
    uint32_t c[8];
    float absmax;
    if (mx == 0) {
        absmax = 0.0f;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            c[j] = zeroCode;
        }
    } else if (mx < 0x7F800000u) {
        absmax = __uint_as_float(mx);
        float r = __fdiv_rn(1.0f, absmax);
        if (!isinf(r)) {
#pragma unroll
            for (int j = 0; j < 8; j++) {
                c[j] = nearestCode<K>(__fmul_rn(x[j], r));
            }
        } else {       // denormal absmax: divide instead
#pragma unroll
            for (int j = 0; j < 8; j++) {
                c[j] = nearestCode<K>(__fdiv_rn(x[j], absmax));
            }
        }
    } else {
        // Some value is NaN or infinite: absmax over the finite values.
        uint32_t fm = 0;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            uint32_t b = (valid >> j) & 1u ? (__float_as_uint(x[j]) & 0x7FFFFFFFu) : 0u;
            fm = max(fm, b < 0x7F800000u ? b : 0u);
        }
        fm = groupMax<WARP>(fm, gr);
        absmax = __uint_as_float(fm);
#pragma unroll
        for (int j = 0; j < 8; j++) {
            float v = x[j];
            if (isnan(v)) {
                c[j] = zeroCode;
            } else if (isinf(v)) {
                c[j] = v > 0.0f ? 255u : 0u;
            } else if (fm == 0) {
                c[j] = zeroCode;
            } else {
                c[j] = nearestCode<K>(__fdiv_rn(v, absmax));
            }
        }
    }
    words[0] = pack4(c);
    words[1] = pack4(c + 4);
    return absmax;
}

// This thread's part of a block: elements e[k] .. e[k] + 3 of the block for chunks k = 0, 1.
// FULL: the block is whole and the tensor aligned, so every access is one vector access.
struct Slice {
    long long start;   // first element of the block in its tensor
    int n;             // elements in the block
    int e0;            // offset of chunk 0 (chunk 1 is 4G further)
    int e1;
    uint32_t valid;    // bit j: element j exists
    bool vec;          // tensor pointers aligned for vector access
};

__device__ __forceinline__ Slice makeSlice(long long length, long long blk, int blockSize, const Group& gr,
        bool aligned) {
    Slice s;
    s.start = blk * blockSize;
    long long left = length - s.start;
    s.n = left < blockSize ? (int) left : blockSize;
    s.e0 = 4 * gr.lane;
    s.e1 = 4 * gr.G + 4 * gr.lane;
    s.vec = aligned;
    s.valid = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        if ((j < 4 ? s.e0 : s.e1) + (j & 3) < s.n) {
            s.valid |= 1u << j;
        }
    }
    return s;
}

template <bool FULL>
__device__ __forceinline__ void load4(const float* base, const Slice& s, int e, float* out) {
    if (FULL || (s.vec && e + 4 <= s.n)) {
        float4 v = __ldcs(reinterpret_cast<const float4*>(base + s.start + e));
        out[0] = v.x;
        out[1] = v.y;
        out[2] = v.z;
        out[3] = v.w;
    } else {
#pragma unroll
        for (int q = 0; q < 4; q++) {
            out[q] = e + q < s.n ? base[s.start + e + q] : 0.0f;
        }
    }
}

template <bool FULL>
__device__ __forceinline__ void store4(float* base, const Slice& s, int e, const float* v) {
    if (FULL || (s.vec && e + 4 <= s.n)) {
        __stcs(reinterpret_cast<float4*>(base + s.start + e), make_float4(v[0], v[1], v[2], v[3]));
    } else {
#pragma unroll
        for (int q = 0; q < 4; q++) {
            if (e + q < s.n) {
                base[s.start + e + q] = v[q];
            }
        }
    }
}

template <bool FULL>
__device__ __forceinline__ uint32_t loadWord(const uint8_t* base, const Slice& s, int e) {
    if (FULL || (s.vec && e + 4 <= s.n)) {
        return __ldcs(reinterpret_cast<const unsigned int*>(base + s.start + e));
    }
    uint32_t w = 0;
#pragma unroll
    for (int q = 0; q < 4; q++) {
        if (e + q < s.n) {
            w |= (uint32_t) base[s.start + e + q] << (8 * q);
        }
    }
    return w;
}

template <bool FULL>
__device__ __forceinline__ void storeWord(uint8_t* base, const Slice& s, int e, uint32_t w) {
    if (FULL || (s.vec && e + 4 <= s.n)) {
        __stcs(reinterpret_cast<unsigned int*>(base + s.start + e), w);
    } else {
#pragma unroll
        for (int q = 0; q < 4; q++) {
            if (e + q < s.n) {
                base[s.start + e + q] = (uint8_t) (w >> (8 * q));
            }
        }
    }
}

// A tensor's field read from the (read-only, cached) descriptor table at the point of use: volatile,
// so that the compiler reads it again where it is needed rather than holding it in registers across
// the block's arithmetic.
template <typename P>
__device__ __forceinline__ P field(const P* address) {
    unsigned long long v;
    asm volatile("ld.global.nc.u64 %0, [%1];" : "=l"(v) : "l"(address));
    return (P) v;
}

// Advances ti to the tensor holding global block gb (blocks only grow along a group's loop).
__device__ __forceinline__ int findTensor(const Tensor* __restrict__ tensors, int numTensors, int ti, long long gb) {
    while (ti + 1 < numTensors && tensors[ti + 1].firstBlock <= gb) {
        ti++;
    }
    return ti;
}

template <int OP>
struct Stats {
    static const int count = (OP == OP_AMSGRAD || OP == OP_MX_RMSPROP_CENTERED) ? 3
            : (OP == OP_ADAM || OP == OP_ADAM_SQUARE_FIRST || OP == OP_NADAM || OP == OP_ADAMAX || OP == OP_ADABELIEF
                    || OP == OP_ADADELTA || OP == OP_MX_ADAM || OP == OP_MX_ADADELTA) ? 2 : 1;
};

// MxRules.Prep: the gradient times the rescale (when not 1), then clipped when prepClip >= 0. Java's
// Math.min and max: the gradient is finite here (non-finite ones are skipped), so fminf and fmaxf agree.
__device__ __forceinline__ float mxRescale(const Rule& r, float g) {
    return r.prepRescale != 1.0f ? __fmul_rn(g, r.prepRescale) : g;
}

__device__ __forceinline__ float mxClip(const Rule& r, bool oneSided, float g) {
    if (r.prepClip >= 0.0f) {
        g = oneSided ? fminf(g, r.prepClip) : fmaxf(-r.prepClip, fminf(r.prepClip, g));
    }
    return g;
}

// The MXNet convention's operators, in MxRules' operation order.
template <int OP>
__device__ __forceinline__ float mxUpdate(const Rule& r, float p, float g, float& s0, float& s1, float& s2) {
    if (OP == OP_MX_ADAM) {
        g = mxClip(r, r.prepOneSided, mxRescale(r, g));
        if (r.weightDecay != 0.0f) {
            g = __fadd_rn(g, __fmul_rn(r.weightDecay, p));
        }
        float m = __fadd_rn(__fmul_rn(s0, r.beta1), __fmul_rn(1.0f - r.beta1, g));
        float v = __fadd_rn(__fmul_rn(s1, r.beta2), __fmul_rn(__fmul_rn(1.0f - r.beta2, g), g));
        s0 = m;
        s1 = v;
        float step = __fdiv_rn(__fmul_rn(m, r.lambda), __fadd_rn(__fsqrt_rn(v), r.eps));
        if (r.decoupledWd != 0.0f) {
            float decayed = __fsub_rn(p, __fmul_rn(__fmul_rn(p, r.decoupledLr), r.decoupledWd));
            return __fsub_rn(p, __fsub_rn(decayed, step));
        }
        return step;
    } else if (OP == OP_MX_SGD) {
        g = __fmul_rn(__fadd_rn(mxClip(r, r.prepOneSided, mxRescale(r, g)), __fmul_rn(r.weightDecay, p)),
                r.learningRate);
        s0 = __fadd_rn(__fmul_rn(s0, r.momentum), g);
        return s0;
    } else if (OP == OP_MX_NAG) {
        g = __fadd_rn(mxClip(r, r.prepOneSided, mxRescale(r, g)), __fmul_rn(r.weightDecay, p));
        s0 = __fsub_rn(__fmul_rn(r.momentum, s0), __fmul_rn(r.learningRate, g));
        return -__fsub_rn(__fmul_rn(r.momentum, s0), __fmul_rn(r.learningRate, g));
    } else if (OP == OP_MX_RMSPROP || OP == OP_MX_RMSPROP_CENTERED) {
        // Weight decay before the clip, which is two-sided.
        g = mxClip(r, false, __fadd_rn(mxRescale(r, g), __fmul_rn(r.weightDecay, p)));
        float rho = r.decay;
        float n = __fadd_rn(__fmul_rn(__fmul_rn(1.0f - rho, g), g), __fmul_rn(rho, s0));
        s0 = n;
        if (OP == OP_MX_RMSPROP) {
            return __fmul_rn(r.learningRate, __fdiv_rn(g, __fsqrt_rn(__fadd_rn(n, r.eps))));
        }
        float gbar = __fadd_rn(__fmul_rn(1.0f - rho, g), __fmul_rn(rho, s1));
        s1 = gbar;
        float x = __fsub_rn(n, __fmul_rn(gbar, gbar));
        float variance = isnan(x) ? x : fmaxf(0.0f, x);  // Math.max(0f, x) keeps a NaN
        s2 = __fsub_rn(__fmul_rn(r.momentum, s2),
                __fmul_rn(r.learningRate, __fdiv_rn(g, __fsqrt_rn(__fadd_rn(variance, r.eps)))));
        return -s2;
    } else if (OP == OP_MX_ADAGRAD) {
        g = __fadd_rn(mxClip(r, r.prepOneSided, mxRescale(r, g)), __fmul_rn(r.weightDecay, p));
        s0 = __fadd_rn(s0, __fmul_rn(g, g));
        return __fmul_rn(__fdiv_rn(g, __fsqrt_rn(__fadd_rn(s0, r.eps))), r.learningRate);
    } else {  // OP_MX_ADADELTA
        g = __fadd_rn(mxClip(r, r.prepOneSided, mxRescale(r, g)), __fmul_rn(p, r.weightDecay));
        float rho = r.decay;
        float sq = __fadd_rn(__fmul_rn(rho, s0), __fmul_rn(__fmul_rn(1.0f - rho, g), g));
        float dw = __fmul_rn(__fdiv_rn(__fsqrt_rn(__fadd_rn(s1, r.eps)), __fsqrt_rn(__fadd_rn(sq, r.eps))), g);
        s0 = sq;
        s1 = __fadd_rn(__fmul_rn(rho, s1), __fmul_rn(__fmul_rn(1.0f - rho, dw), dw));
        return dw;
    }
}

// The rule's arithmetic for one element, in the Java rules' operation order (dev.octet.kernels.rules).
template <int OP>
__device__ __forceinline__ float ruleUpdate(const Rule& r, float p, float g, float& s0, float& s1, float& s2) {
    if (OP >= OP_MX_ADAM) {
        return mxUpdate<OP>(r, p, g, s0, s1, s2);
    } else if (OP == OP_NADAM) {
        float k = __fmul_rn(g, 1.0f - r.beta1);
        float m = __fadd_rn(__fmul_rn(r.beta1, s0), k);
        float v = __fadd_rn(__fmul_rn(r.beta2, s1), __fmul_rn(__fmul_rn(g, g), 1.0f - r.beta2));
        s0 = m;
        s1 = v;
        float corrected = __fdiv_rn(__fadd_rn(__fmul_rn(m, r.beta1), k), r.correction);
        return __fdiv_rn(__fmul_rn(r.learningRate, corrected), __fadd_rn(__fsqrt_rn(v), r.eps));
    } else if (OP == OP_ADAMAX) {
        float m = __fadd_rn(__fmul_rn(r.beta1, s0), __fmul_rn(g, 1.0f - r.beta1));
        float u = __double2float_rn(__dadd_rn((double) fmaxf(__fmul_rn(r.beta2, s1), fabsf(g)), 1e-32));
        s0 = m;
        s1 = u;
        return __fdiv_rn(m, u);
    } else if (OP == OP_AMSGRAD) {
        float m = __fadd_rn(__fmul_rn(r.beta1, s0), __fmul_rn(g, 1.0f - r.beta1));
        float v = __fadd_rn(__fmul_rn(r.beta2, s1), __fmul_rn(__fmul_rn(g, g), 1.0f - r.beta2));
        float vMax = fmaxf(s2, v);
        s0 = m;
        s1 = v;
        s2 = vMax;
        return __fdiv_rn(m, __fadd_rn(__fsqrt_rn(vMax), r.eps));
    } else if (OP == OP_ADABELIEF) {
        float m = __fadd_rn(__fmul_rn(r.beta1, s0), __fmul_rn(g, 1.0f - r.beta1));
        float b = __fsub_rn(g, m);
        float sb = __fadd_rn(__fadd_rn(__fmul_rn(r.beta2, s1), __fmul_rn(__fmul_rn(b, b), 1.0f - r.beta2)), r.eps);
        s0 = m;
        s1 = sb;
        return __fdiv_rn(m, __fadd_rn(__fsqrt_rn(sb), r.eps));
    } else if (OP == OP_ADADELTA) {
        float msg = __fadd_rn(__fmul_rn(r.decay, s0), __fmul_rn(__fmul_rn(g, g), 1.0f - r.decay));
        float dx = __fmul_rn(g, __fdiv_rn(__fsqrt_rn(__fadd_rn(s1, r.eps)), __fsqrt_rn(__fadd_rn(msg, r.eps))));
        s0 = msg;
        s1 = __fadd_rn(__fmul_rn(r.decay, s1), __fmul_rn(__fmul_rn(dx, dx), 1.0f - r.decay));
        return dx;
    } else if (OP == OP_VELOCITY_NESTEROV) {
        float q = __fmul_rn(r.momentum, s0);
        float v = __fsub_rn(q, __fmul_rn(r.learningRate, g));
        s0 = v;
        return __fadd_rn(q, __fmul_rn(__fsub_rn(-r.momentum, 1.0f), v));
    } else if (OP == OP_ADAM || OP == OP_ADAM_SQUARE_FIRST) {
        float m = __fadd_rn(__fmul_rn(s0, r.beta1), __fmul_rn(1.0f - r.beta1, g));
        float v = __fadd_rn(__fmul_rn(s1, r.beta2), OP == OP_ADAM_SQUARE_FIRST ? __fmul_rn(__fmul_rn(g, g), 1.0f - r.beta2)
                : __fmul_rn(__fmul_rn(1.0f - r.beta2, g), g));
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

// The exact rule's bound on the decoded second statistic given the first (StatisticFloor.apply): Adam,
// Nadam and AMSGrad s1 >= (floor s0)^2, AdaMax s1 >= floor |s0|, AdaBelief s1 >= floor. fmaxf, as
// Java's !(s1 >= bound) ? bound : s1 (a NaN s1 becomes the bound).
template <int OP>
__device__ __forceinline__ void applyFloor(const Rule& r, float s0, float& s1) {
    if (OP == OP_ADAM || OP == OP_ADAM_SQUARE_FIRST || OP == OP_NADAM || OP == OP_AMSGRAD || OP == OP_MX_ADAM) {
        float q = __fmul_rn(s0, r.floor);
        s1 = fmaxf(s1, __fmul_rn(q, q));
    } else if (OP == OP_ADAMAX) {
        s1 = fmaxf(s1, __fmul_rn(fabsf(s0), r.floor));
    } else if (OP == OP_ADABELIEF) {
        s1 = fmaxf(s1, r.floor);
    }
}

// The parameter after the step: p - stepScale d, with decoupled decay (p b - stepScale d) a.
__device__ __forceinline__ float movedParameter(const Rule& r, bool plain, float stepScale, float p, float d) {
    return plain ? __fsub_rn(p, __fmul_rn(stepScale, d))
            : __fmul_rn(__fsub_rn(__fmul_rn(p, r.decayBefore), __fmul_rn(stepScale, d)), r.decayAfter);
}

// The update a framework subtracts itself: exactly stepScale d without decoupled decay, else p_old - p_new.
__device__ __forceinline__ float updateToSubtract(const Rule& r, bool plain, float stepScale, float p, float d) {
    return plain ? __fmul_rn(stepScale, d) : __fsub_rn(p, movedParameter(r, false, stepScale, p, d));
}

// Blocks of 256: a warp's next block is copied into shared memory (cp.async, no registers held) while
// it computes the current one, so that each warp keeps a block's loads in flight at all times.
// Thread l copies, and later reads, only its own elements: no barrier is needed between the two.
struct Stage {
    float4 p[64];
    float4 g[64];
    uint32_t c0[64];
    uint32_t c1[64];
    float a0[32];
    float a1[32];
};

__device__ __forceinline__ void copyAsync16(void* dst, const void* src) {
    unsigned d = (unsigned) __cvta_generic_to_shared(dst);
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16;" ::"r"(d), "l"(src) : "memory");
}

__device__ __forceinline__ void copyAsync4(void* dst, const void* src) {
    unsigned d = (unsigned) __cvta_generic_to_shared(dst);
    asm volatile("cp.async.ca.shared.global [%0], [%1], 4;" ::"r"(d), "l"(src) : "memory");
}

__device__ __forceinline__ void copyCommit() {
    asm volatile("cp.async.commit_group;" ::: "memory");
}

template <int N>
__device__ __forceinline__ void copyWait() {
    asm volatile("cp.async.wait_group %0;" ::"n"(N) : "memory");
}

template <int NS>
__device__ __forceinline__ void prefetch(Stage* st, const Tensor* __restrict__ tensors, int ti, long long blk,
        int lane) {
    const Tensor* T = tensors + ti;
    long long start = blk * 256;
    const float* tp = field(&T->p) + start;
    const float* tg = field(&T->g) + start;
    const uint8_t* tc0 = field(&T->c0) + start;
    copyAsync16(&st->p[lane], tp + 4 * lane);
    copyAsync16(&st->p[32 + lane], tp + 128 + 4 * lane);
    copyAsync16(&st->g[lane], tg + 4 * lane);
    copyAsync16(&st->g[32 + lane], tg + 128 + 4 * lane);
    copyAsync4(&st->c0[lane], tc0 + 4 * lane);
    copyAsync4(&st->c0[32 + lane], tc0 + 128 + 4 * lane);
    copyAsync4(&st->a0[lane], field(&T->a0) + blk);
    if (NS > 1) {
        const uint8_t* tc1 = field(&T->c1) + start;
        copyAsync4(&st->c1[lane], tc1 + 4 * lane);
        copyAsync4(&st->c1[32 + lane], tc1 + 128 + 4 * lane);
        copyAsync4(&st->a1[lane], field(&T->a1) + blk);
    }
}

// One block of one tensor: load, decode, rule, parameter (or update) store, re-quantize, store.
// MEASURE: only add the block's squared norms of parameters and direction to the tensor's (LAMB, LARS).
template <int OP, bool MEASURE, bool FULL, bool WARP, bool STAGED = false>
__device__ __forceinline__ void blockStep(const Tensor* __restrict__ tensors, int ti, long long length, long long blk,
        int blockSize, const Group& gr, bool aligned, uint32_t zero0, uint32_t zero1, const Rule& r, double* norms,
        const Stage* st = nullptr) {
    const int NS = Stats<OP>::count;
    Slice s = makeSlice(length, blk, blockSize, gr, aligned);
    const uint32_t valid = FULL ? 0xFFu : s.valid;
    float p[8], g[8];
    uint32_t w0[2], w1[2], w2[2];
    const Tensor* T = tensors + ti;
    float a0;
    float a1 = 0.0f;
    float a2 = 0.0f;
    if (STAGED) {
        const int l = gr.lane;
        float4 v = st->p[l];
        p[0] = v.x; p[1] = v.y; p[2] = v.z; p[3] = v.w;
        v = st->p[32 + l];
        p[4] = v.x; p[5] = v.y; p[6] = v.z; p[7] = v.w;
        v = st->g[l];
        g[0] = v.x; g[1] = v.y; g[2] = v.z; g[3] = v.w;
        v = st->g[32 + l];
        g[4] = v.x; g[5] = v.y; g[6] = v.z; g[7] = v.w;
        w0[0] = st->c0[l];
        w0[1] = st->c0[32 + l];
        a0 = st->a0[l];
        if (NS > 1) {
            w1[0] = st->c1[l];
            w1[1] = st->c1[32 + l];
            a1 = st->a1[l];
        }
    } else {
        const float* tp = field(&T->p);
        const float* tg = field(&T->g);
        const uint8_t* tc0 = field(&T->c0);
        load4<FULL>(tp, s, s.e0, p);
        load4<FULL>(tp, s, s.e1, p + 4);
        load4<FULL>(tg, s, s.e0, g);
        load4<FULL>(tg, s, s.e1, g + 4);
        w0[0] = loadWord<FULL>(tc0, s, s.e0);
        w0[1] = loadWord<FULL>(tc0, s, s.e1);
        a0 = field(&T->a0)[blk];
        if (NS > 1) {
            const uint8_t* tc1 = field(&T->c1);
            w1[0] = loadWord<FULL>(tc1, s, s.e0);
            w1[1] = loadWord<FULL>(tc1, s, s.e1);
            a1 = field(&T->a1)[blk];
        }
        if (NS > 2) {
            const uint8_t* tc2 = field(&T->c2);
            w2[0] = loadWord<FULL>(tc2, s, s.e0);
            w2[1] = loadWord<FULL>(tc2, s, s.e1);
            a2 = field(&T->a2)[blk];
        }
    }
    if (r.gradScale != 1.0f) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            g[j] = __fmul_rn(g[j], r.gradScale);
        }
    }
    // Non-finite gradients are rare: find out whether this thread has any (exponent bits all ones)
    // with one max, compute as if there were none, and patch the few elements afterwards.
    uint32_t exponents = 0;
#pragma unroll
    for (int j = 0; j < 8; j++) {
        exponents = max(exponents, __float_as_uint(g[j]) & 0x7F800000u);
    }
    uint32_t nonFinite = 0;
    if (exponents == 0x7F800000u) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            if ((__float_as_uint(g[j]) & 0x7F800000u) == 0x7F800000u) {
                nonFinite |= 1u << j;
                g[j] = 0.0f;
            }
        }
    }
    if (r.gradClip > 0.0f) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            g[j] = fmaxf(-r.gradClip, fminf(r.gradClip, g[j]));
        }
    }
    float st0[8], st1[8], st2[8], d[8];
#pragma unroll
    for (int j = 0; j < 8; j++) {
        st0[j] = decode<0>(w0[j >> 2], j & 3, a0);
        st1[j] = NS > 1 ? decode<1>(w1[j >> 2], j & 3, a1) : 0.0f;
        st2[j] = NS > 2 ? decode<1>(w2[j >> 2], j & 3, a2) : 0.0f;
        applyFloor<OP>(r, st0[j], st1[j]);
        d[j] = ruleUpdate<OP>(r, p[j], g[j], st0[j], st1[j], st2[j]);
    }
    // Each statistic's largest magnitude in this thread (the block's absmax reduction starts from it). A
    // new statistic that overflowed (or is NaN) skips its element as a non-finite gradient does.
    uint32_t mx0 = threadMax(st0, valid);
    uint32_t mx1 = NS > 1 ? threadMax(st1, valid) : 0u;
    uint32_t mx2 = NS > 2 ? threadMax(st2, valid) : 0u;
    if (max(mx0, max(mx1, mx2)) >= 0x7F800000u) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            if (!isfinite(st0[j]) || (NS > 1 && !isfinite(st1[j])) || (NS > 2 && !isfinite(st2[j]))) {
                nonFinite |= 1u << j;
            }
        }
    }
    if (nonFinite) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            if ((nonFinite >> j) & 1u) {
                st0[j] = 0.0f;
                st1[j] = 0.0f;
                st2[j] = 0.0f;
                d[j] = 0.0f;
            }
        }
        mx0 = threadMax(st0, valid);
        mx1 = NS > 1 ? threadMax(st1, valid) : 0u;
        mx2 = NS > 2 ? threadMax(st2, valid) : 0u;
    }
    if (MEASURE) {
        double ps = 0.0, ds = 0.0;
#pragma unroll
        for (int j = 0; j < 8; j++) {
            if ((valid >> j) & 1u) {
                ps += (double) p[j] * (double) p[j];
                ds += (double) d[j] * (double) d[j];
            }
        }
        ps = groupSum<WARP>(ps, gr);
        ds = groupSum<WARP>(ds, gr);
        if (gr.lane == 0) {
            atomicAdd(&norms[2 * ti], ps);
            atomicAdd(&norms[2 * ti + 1], ds);
        }
        return;
    }
    float stepScale = r.stepScale;
    if (r.maxUpdateNormRatio > 0.0f) {
        double limit = (double) r.maxUpdateNormRatio * sqrt(norms[2 * ti]);
        double norm = sqrt(norms[2 * ti + 1]);
        float trust = norm > limit ? (float) (limit / norm) : 1.0f;
        stepScale = __fmul_rn(stepScale, trust);
    }
    // p * 1 and x * 1 are exact, so a step without decoupled decay skips both multiplications.
    const bool plain = r.decayBefore == 1.0f && r.decayAfter == 1.0f;
    float out[8];
    if (r.output != 1) {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            out[j] = movedParameter(r, plain, stepScale, p[j], d[j]);
        }
        if (nonFinite) {
#pragma unroll
            for (int j = 0; j < 8; j++) {
                if ((nonFinite >> j) & 1u) {
                    out[j] = p[j];
                }
            }
        }
        float* tp = field(&T->p);
        store4<FULL>(tp, s, s.e0, out);
        store4<FULL>(tp, s, s.e1, out + 4);
        if (r.output == 2) {
            const float zeros[8] = {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f};
            float* tg = field(&T->g);
            store4<FULL>(tg, s, s.e0, zeros);
            store4<FULL>(tg, s, s.e1, zeros + 4);
        }
    } else {
#pragma unroll
        for (int j = 0; j < 8; j++) {
            out[j] = updateToSubtract(r, plain, stepScale, p[j], d[j]);
            if ((nonFinite >> j) & 1u) {
                out[j] = 0.0f;
            }
        }
        float* tg = field(&T->g);
        store4<FULL>(tg, s, s.e0, out);
        store4<FULL>(tg, s, s.e1, out + 4);
    }
    uint32_t words[2];
    float na0 = encode8<0, WARP>(st0, valid, mx0, zero0, gr, words);
    uint8_t* tc0 = field(&T->c0);
    storeWord<FULL>(tc0, s, s.e0, words[0]);
    storeWord<FULL>(tc0, s, s.e1, words[1]);
    if (gr.lane == 0) {
        field(&T->a0)[blk] = na0;
    }
    if (NS > 1) {
        float na1 = encode8<1, WARP>(st1, valid, mx1, zero1, gr, words);
        uint8_t* tc1 = field(&T->c1);
        storeWord<FULL>(tc1, s, s.e0, words[0]);
        storeWord<FULL>(tc1, s, s.e1, words[1]);
        if (gr.lane == 0) {
            field(&T->a1)[blk] = na1;
        }
    }
    if (NS > 2) {
        float na2 = encode8<1, WARP>(st2, valid, mx2, zero1, gr, words);
        uint8_t* tc2 = field(&T->c2);
        storeWord<FULL>(tc2, s, s.e0, words[0]);
        storeWord<FULL>(tc2, s, s.e1, words[1]);
        if (gr.lane == 0) {
            field(&T->a2)[blk] = na2;
        }
    }
}

__device__ __forceinline__ bool alignedFor(const Tensor& T, int NS) {
    return ((((uintptr_t) T.p) | ((uintptr_t) T.g)) & 15) == 0
            && ((((uintptr_t) T.c0) | (NS > 1 ? (uintptr_t) T.c1 : 0) | (NS > 2 ? (uintptr_t) T.c2 : 0)) & 3) == 0;
}

// The blocks of one launch, for this thread's group: gb, gb + stride, ... over all tensors.
template <int OP, bool MEASURE, bool WARP>
__device__ __forceinline__ void blockLoop(const Tensor* __restrict__ tensors, int numTensors, long long totalBlocks,
        int blockSize, const Group& gr, uint32_t zero0, uint32_t zero1, const Rule& r, double* norms) {
    const int NS = Stats<OP>::count;
    long long stride = (long long) gridDim.x * gr.perCta;
    int ti = 0;
    int current = -1;          // the tensor whose length, first block and alignment are at hand
    long long length = 0;
    long long first = 0;
    bool aligned = false;
    for (long long gb = (long long) blockIdx.x * gr.perCta + gr.index; gb < totalBlocks; gb += stride) {
        ti = findTensor(tensors, numTensors, ti, gb);
        if (ti != current) {
            current = ti;
            length = tensors[ti].n;
            first = tensors[ti].firstBlock;
            aligned = alignedFor(tensors[ti], NS);
        }
        long long blk = gb - first;
        if (aligned && (blk + 1) * blockSize <= length) {
            blockStep<OP, MEASURE, true, WARP>(tensors, ti, length, blk, blockSize, gr, true, zero0, zero1, r, norms);
        } else {
            blockStep<OP, MEASURE, false, WARP>(tensors, ti, length, blk, blockSize, gr, aligned, zero0, zero1, r,
                    norms);
        }
    }
}

// Blocks of 256 with the next block of each warp staged in shared memory (two stages per warp, in
// dynamic shared memory: blockDim / 32 * 2 * sizeof(Stage) bytes). Blocks not whole or not aligned
// take the direct path.
template <int OP, bool MEASURE>
__device__ __forceinline__ void stagedLoop(const Tensor* __restrict__ tensors, int numTensors, long long totalBlocks,
        uint32_t zero0, uint32_t zero1, const Rule& r, double* norms) {
    const int NS = Stats<OP>::count;
    extern __shared__ __align__(16) unsigned char s_stages[];
    const Group gr = warpGroup();
    Stage* stages = reinterpret_cast<Stage*>(s_stages) + 2 * gr.index;
    const long long stride = (long long) gridDim.x * gr.perCta;
    int ti = 0;
    int current = -1;
    long long length = 0;
    long long first = 0;
    bool aligned = false;
    // Where block b is: its tensor, block within the tensor, and whether it can be staged.
    auto locate = [&](long long b, int& t, long long& blk, bool& full) {
        ti = findTensor(tensors, numTensors, ti, b);
        if (ti != current) {
            current = ti;
            length = tensors[ti].n;
            first = tensors[ti].firstBlock;
            aligned = alignedFor(tensors[ti], NS);
        }
        t = ti;
        blk = b - first;
        full = aligned && (blk + 1) * 256 <= length;
    };
    long long gb = (long long) blockIdx.x * gr.perCta + gr.index;
    int curT = 0;
    long long curBlk = 0;
    bool curFull = false;
    long long curLength = 0;
    bool curAligned = false;
    if (gb < totalBlocks) {
        locate(gb, curT, curBlk, curFull);
        curLength = length;
        curAligned = aligned;
        if (curFull) {
            prefetch<NS>(stages, tensors, curT, curBlk, gr.lane);
        }
    }
    copyCommit();
    int k = 0;
    while (gb < totalBlocks) {
        long long nb = gb + stride;
        int nextT = 0;
        long long nextBlk = 0;
        bool nextFull = false;
        long long nextLength = 0;
        bool nextAligned = false;
        if (nb < totalBlocks) {
            locate(nb, nextT, nextBlk, nextFull);
            nextLength = length;
            nextAligned = aligned;
            if (nextFull) {
                prefetch<NS>(stages + (k ^ 1), tensors, nextT, nextBlk, gr.lane);
            }
        }
        copyCommit();
        copyWait<1>();
        if (curFull) {
            blockStep<OP, MEASURE, true, true, true>(tensors, curT, curLength, curBlk, 256, gr, true, zero0, zero1, r,
                    norms, stages + k);
        } else {
            blockStep<OP, MEASURE, false, true>(tensors, curT, curLength, curBlk, 256, gr, curAligned, zero0, zero1, r,
                    norms);
        }
        gb = nb;
        curT = nextT;
        curBlk = nextBlk;
        curFull = nextFull;
        curLength = nextLength;
        curAligned = nextAligned;
        k ^= 1;
    }
    copyWait<0>();
}

// The fused update over every block of every tensor: a persistent grid, each group taking blocks
// gb, gb + stride, ... When G > 32 a CTA is one group, so all its threads run the same rounds (its
// reductions synchronize the CTA); groups within a warp shuffle with their own mask. WARP: blocks of
// 256 elements, one warp each, compiled as such (a kernel of its own, with its own registers).
template <int OP, bool MEASURE, bool WARP>
__device__ __forceinline__ void fusedUpdate(const Tensor* __restrict__ tensors, int numTensors,
        long long totalBlocks, int blockSize, const QTable* tab0, const QTable* tab1, uint32_t zero0,
        uint32_t zero1, Rule r, double* norms) {
    const int NS = Stats<OP>::count;
    loadTable(0, tab0);
    if (NS > 1) {
        loadTable(1, tab1);
    }
    __syncthreads();
    if (WARP && NS <= 2) {
        stagedLoop<OP, MEASURE>(tensors, numTensors, totalBlocks, zero0, zero1, r, norms);
    } else if (WARP) {  // three statistics do not fit a stage: one warp a block, loads direct
        blockLoop<OP, MEASURE, true>(tensors, numTensors, totalBlocks, 256, warpGroup(), zero0, zero1, r, norms);
    } else {
        blockLoop<OP, MEASURE, false>(tensors, numTensors, totalBlocks, blockSize, makeGroup(blockSize), zero0, zero1,
                r, norms);
    }
}

// Two kernels per rule and mode: "<name>" for any block size, "<name>_b256" for blocks of 256. At most
// OCTET_MAX_CTA threads a CTA (blocks of 4096 take 512; CudaBackend never launches more), which caps the
// registers a thread may take so that such a CTA always fits an SM's register file.
#define OCTET_MAX_CTA 512
#define OCTET_ENTRY(name, OP, MEASURE)                                                                  \
    extern "C" __global__ void __launch_bounds__(OCTET_MAX_CTA) name(const Tensor* tensors, int numTensors, long long totalBlocks,       \
            int blockSize, const QTable* tab0, const QTable* tab1, unsigned int zero0, unsigned int zero1, \
            Rule r, double* norms) {                                                                    \
        fusedUpdate<OP, MEASURE, false>(tensors, numTensors, totalBlocks, blockSize, tab0, tab1, zero0, zero1, \
                r, norms);                                                                              \
    }                                                                                                   \
    extern "C" __global__ void __launch_bounds__(OCTET_MAX_CTA) name##_b256(const Tensor* tensors, int numTensors, \
            long long totalBlocks, \
            int blockSize, const QTable* tab0, const QTable* tab1, unsigned int zero0, unsigned int zero1, \
            Rule r, double* norms) {                                                                    \
        fusedUpdate<OP, MEASURE, true>(tensors, numTensors, totalBlocks, blockSize, tab0, tab1, zero0, zero1, \
                r, norms);                                                                              \
    }

OCTET_ENTRY(octet_adam, OP_ADAM, false)
OCTET_ENTRY(octet_adam_measure, OP_ADAM, true)
OCTET_ENTRY(octet_adam_square_first, OP_ADAM_SQUARE_FIRST, false)
OCTET_ENTRY(octet_adam_square_first_measure, OP_ADAM_SQUARE_FIRST, true)
OCTET_ENTRY(octet_momentum, OP_MOMENTUM, false)
OCTET_ENTRY(octet_momentum_measure, OP_MOMENTUM, true)
OCTET_ENTRY(octet_sqavg, OP_SQAVG, false)
OCTET_ENTRY(octet_sqavg_measure, OP_SQAVG, true)
OCTET_ENTRY(octet_lion, OP_LION, false)
OCTET_ENTRY(octet_lion_measure, OP_LION, true)
OCTET_ENTRY(octet_nadam, OP_NADAM, false)
OCTET_ENTRY(octet_adamax, OP_ADAMAX, false)
OCTET_ENTRY(octet_amsgrad, OP_AMSGRAD, false)
OCTET_ENTRY(octet_adabelief, OP_ADABELIEF, false)
OCTET_ENTRY(octet_adadelta, OP_ADADELTA, false)
OCTET_ENTRY(octet_velocity_nesterov, OP_VELOCITY_NESTEROV, false)
OCTET_ENTRY(octet_mx_adam, OP_MX_ADAM, false)
OCTET_ENTRY(octet_mx_sgd, OP_MX_SGD, false)
OCTET_ENTRY(octet_mx_nag, OP_MX_NAG, false)
OCTET_ENTRY(octet_mx_rmsprop, OP_MX_RMSPROP, false)
OCTET_ENTRY(octet_mx_rmsprop_centered, OP_MX_RMSPROP_CENTERED, false)
OCTET_ENTRY(octet_mx_adagrad, OP_MX_ADAGRAD, false)
OCTET_ENTRY(octet_mx_adadelta, OP_MX_ADADELTA, false)

// The same rules over float32 statistics (the parameters a policy keeps 32-bit, e.g. the small ones
// that share a framework's update block with quantized ones): one element a thread, blocks of
// blockDim.x elements numbered across the tensors (CudaTensorGroup numbers them so), a CTA a block per
// round. Same gradient preparation, NaN rule and outputs as the 8-bit kernels; no trust ratio.
template <int OP>
__device__ __forceinline__ void float32Update(const Tensor* __restrict__ tensors, int numTensors, long long totalBlocks,
        const Rule& r) {
    const int NS = Stats<OP>::count;
    const bool plain = r.decayBefore == 1.0f && r.decayAfter == 1.0f;
    int ti = 0;
    for (long long gb = blockIdx.x; gb < totalBlocks; gb += gridDim.x) {
        ti = findTensor(tensors, numTensors, ti, gb);
        const Tensor* T = tensors + ti;
        long long i = (gb - T->firstBlock) * blockDim.x + threadIdx.x;
        if (i >= T->n) {
            continue;
        }
        float* s0p = reinterpret_cast<float*>(T->c0);
        float* s1p = reinterpret_cast<float*>(T->c1);
        float* s2p = reinterpret_cast<float*>(T->c2);
        float p = T->p[i];
        float g = T->g[i];
        if (r.gradScale != 1.0f) {
            g = __fmul_rn(g, r.gradScale);
        }
        bool nonFinite = (__float_as_uint(g) & 0x7F800000u) == 0x7F800000u;
        if (nonFinite) {
            g = 0.0f;
        }
        if (r.gradClip > 0.0f) {
            g = fmaxf(-r.gradClip, fminf(r.gradClip, g));
        }
        float s0 = s0p[i];
        float s1 = NS > 1 ? s1p[i] : 0.0f;
        float s2 = NS > 2 ? s2p[i] : 0.0f;
        float d = ruleUpdate<OP>(r, p, g, s0, s1, s2);
        if (nonFinite) {
            s0 = 0.0f;
            s1 = 0.0f;
            s2 = 0.0f;
        }
        if (r.output != 1) {
            T->p[i] = nonFinite ? p : movedParameter(r, plain, r.stepScale, p, d);
            if (r.output == 2) {
                T->g[i] = 0.0f;
            }
        } else {
            T->g[i] = nonFinite ? 0.0f : updateToSubtract(r, plain, r.stepScale, p, d);
        }
        s0p[i] = s0;
        if (NS > 1) {
            s1p[i] = s1;
        }
        if (NS > 2) {
            s2p[i] = s2;
        }
    }
}

#define OCTET_FLOAT32_ENTRY(name, OP)                                                                 \
    extern "C" __global__ void name##_f32(const Tensor* tensors, int numTensors, long long totalBlocks, Rule r) { \
        float32Update<OP>(tensors, numTensors, totalBlocks, r);                                        \
    }

OCTET_FLOAT32_ENTRY(octet_adam, OP_ADAM)
OCTET_FLOAT32_ENTRY(octet_adam_square_first, OP_ADAM_SQUARE_FIRST)
OCTET_FLOAT32_ENTRY(octet_momentum, OP_MOMENTUM)
OCTET_FLOAT32_ENTRY(octet_sqavg, OP_SQAVG)
OCTET_FLOAT32_ENTRY(octet_lion, OP_LION)
OCTET_FLOAT32_ENTRY(octet_nadam, OP_NADAM)
OCTET_FLOAT32_ENTRY(octet_adamax, OP_ADAMAX)
OCTET_FLOAT32_ENTRY(octet_amsgrad, OP_AMSGRAD)
OCTET_FLOAT32_ENTRY(octet_adabelief, OP_ADABELIEF)
OCTET_FLOAT32_ENTRY(octet_adadelta, OP_ADADELTA)
OCTET_FLOAT32_ENTRY(octet_velocity_nesterov, OP_VELOCITY_NESTEROV)
OCTET_FLOAT32_ENTRY(octet_mx_adam, OP_MX_ADAM)
OCTET_FLOAT32_ENTRY(octet_mx_sgd, OP_MX_SGD)
OCTET_FLOAT32_ENTRY(octet_mx_nag, OP_MX_NAG)
OCTET_FLOAT32_ENTRY(octet_mx_rmsprop, OP_MX_RMSPROP)
OCTET_FLOAT32_ENTRY(octet_mx_rmsprop_centered, OP_MX_RMSPROP_CENTERED)
OCTET_FLOAT32_ENTRY(octet_mx_adagrad, OP_MX_ADAGRAD)
OCTET_FLOAT32_ENTRY(octet_mx_adadelta, OP_MX_ADADELTA)

template <bool FULL>
__device__ __forceinline__ void quantizeBlock(const Tensor& T, long long blk, int blockSize, const Group& gr,
        bool aligned, uint32_t zeroCode) {
    Slice s = makeSlice(T.n, blk, blockSize, gr, aligned);
    float x[8];
    load4<FULL>(T.p, s, s.e0, x);
    load4<FULL>(T.p, s, s.e1, x + 4);
    uint32_t words[2];
    const uint32_t valid = FULL ? 0xFFu : s.valid;
    float a = encode8<0, false>(x, valid, threadMax(x, valid), zeroCode, gr, words);
    storeWord<FULL>(T.c0, s, s.e0, words[0]);
    storeWord<FULL>(T.c0, s, s.e1, words[1]);
    if (gr.lane == 0) {
        T.a0[blk] = a;
    }
}

// Block-wise quantization of each tensor's p into c0 / a0 (BlockwiseQuantizer.quantize).
extern "C" __global__ void octet_quantize(const Tensor* __restrict__ tensors, int numTensors, long long totalBlocks,
        int blockSize, const QTable* tab, unsigned int zeroCode) {
    loadTable(0, tab);
    __syncthreads();
    Group gr = makeGroup(blockSize);
    int ti = 0;
    long long stride = (long long) gridDim.x * gr.perCta;
    for (long long gb = (long long) blockIdx.x * gr.perCta + gr.index; gb < totalBlocks; gb += stride) {
        ti = findTensor(tensors, numTensors, ti, gb);
        const Tensor T = tensors[ti];
        long long blk = gb - T.firstBlock;
        bool aligned = ((((uintptr_t) T.p) & 15) == 0) && ((((uintptr_t) T.c0) & 3) == 0);
        if (aligned && (blk + 1) * blockSize <= T.n) {
            quantizeBlock<true>(T, blk, blockSize, gr, true, zeroCode);
        } else {
            quantizeBlock<false>(T, blk, blockSize, gr, aligned, zeroCode);
        }
    }
}

// Block-wise dequantization of each tensor's c0 / a0 into p (BlockwiseQuantizer.dequantize).
extern "C" __global__ void octet_dequantize(const Tensor* __restrict__ tensors, int numTensors,
        long long totalBlocks, int blockSize, const QTable* tab) {
    loadTable(0, tab);
    __syncthreads();
    Group gr = makeGroup(blockSize);
    int ti = 0;
    long long stride = (long long) gridDim.x * gr.perCta;
    for (long long gb = (long long) blockIdx.x * gr.perCta + gr.index; gb < totalBlocks; gb += stride) {
        ti = findTensor(tensors, numTensors, ti, gb);
        const Tensor T = tensors[ti];
        long long blk = gb - T.firstBlock;
        bool aligned = ((((uintptr_t) T.p) & 15) == 0) && ((((uintptr_t) T.c0) & 3) == 0);
        Slice s = makeSlice(T.n, blk, blockSize, gr, aligned);
        float a = T.a0[blk];
        uint32_t w0 = loadWord<false>(T.c0, s, s.e0);
        uint32_t w1 = loadWord<false>(T.c0, s, s.e1);
        float x[8];
#pragma unroll
        for (int q = 0; q < 4; q++) {
            x[q] = decode<0>(w0, q, a);
            x[4 + q] = decode<0>(w1, q, a);
        }
        store4<false>(T.p, s, s.e0, x);
        store4<false>(T.p, s, s.e1, x + 4);
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
