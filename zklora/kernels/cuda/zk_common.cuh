// Common definitions of the zkLoRA CUDA kernels.
//
// Every kernel is written once as a loop body over an index (`ZK_FOR`), so the same
// source builds three ways:
//   * device code (nvcc, or NVRTC through cupy.RawModule): `ZK_KERNEL` is an
//     `extern "C" __global__` function and `ZK_FOR` a grid-stride loop;
//   * host emulation (any C++ compiler with -DZK_HOST_EMU): `ZK_KERNEL` is an
//     `extern "C"` host function and `ZK_FOR` a serial loop -- the tests run the very
//     same arithmetic, hashing and indexing on the CPU against the Python references.
// No kernel depends on which thread runs an index, only on the index.
#ifndef ZK_COMMON_CUH
#define ZK_COMMON_CUH

typedef unsigned long long u64;
typedef long long i64;
typedef unsigned int u32;
typedef unsigned char u8;

#if defined(ZK_HOST_EMU)
#define ZK_HD static inline
#define ZK_UNROLL
#define ZK_KERNEL(name) extern "C" void name
#define ZK_FOR(i, n) for (u64 i = 0; i < (u64)(n); ++i)
ZK_HD void zk_atomic_min(u64* p, u64 v) { if (v < *p) *p = v; }
ZK_HD u64 zk_mulhi(u64 a, u64 b) { return (u64)(((unsigned __int128)a * b) >> 64); }
ZK_HD u32 zk_brev32(u32 x) {
  u32 r = 0;
  for (int i = 0; i < 32; ++i) { r = (r << 1) | (x & 1u); x >>= 1; }
  return r;
}
#else
#define ZK_HD __device__ __forceinline__
#define ZK_UNROLL _Pragma("unroll")
#define ZK_KERNEL(name) extern "C" __global__ void name
#define ZK_FOR(i, n)                                                        \
  for (u64 i = (u64)blockIdx.x * blockDim.x + threadIdx.x; i < (u64)(n); \
       i += (u64)blockDim.x * gridDim.x)
ZK_HD void zk_atomic_min(u64* p, u64 v) { atomicMin(p, v); }
ZK_HD u64 zk_mulhi(u64 a, u64 b) { return __umul64hi(a, b); }
ZK_HD u32 zk_brev32(u32 x) { return __brev(x); }
#endif

#endif  // ZK_COMMON_CUH
