// Reed-Solomon encoding by radix-2 NTT, the convention of zklora/kernels/ntt.py:
// the codeword of a message (c_0..c_{k-1}) at rate 2^-rho is (f(w^i))_{i < L},
// f = sum_j c_j X^j, L = k 2^rho, w the primitive L-th root of unity of ntt.py.
// Position i = u 2^rho + s is coset s (twist c_j w^(s j)) at w_k^u, w_k = w^(2^rho).
// Steps over a work buffer (rows, R, k), R = 2^rho:
//   rs_twist:   buf[r, s, j] = M[r, j] * twist[s, j]     (twist[s, j] = w^(s j))
//   ntt_dif:    log2(k) in-place decimation-in-frequency stages (natural order in,
//               bit-reversed out), tw[j] = w_k^j for j < k/2
//   rs_scatter: out[u R + s, r] = buf[r, s, bitrev(u)]   (codewords as columns)
#include "zk_common.cuh"
#include "zk_gl.cuh"

ZK_KERNEL(gl_rs_twist)(const u64* M, u64 rows, u64 k, const u64* twist, u64 R, u64* buf) {
  ZK_FOR(t, rows * R * k) {
    u64 r = t / (R * k), s = (t / k) % R, j = t % k;
    u64 v = M[r * k + j];
    buf[t] = s == 0 ? v : gl_mul(v, twist[s * k + j]);
  }
}

// One DIF stage over nvec independent vectors of length k: butterflies of span `half`,
// twiddle tw[j * stride] with stride = k / (2 half).
ZK_KERNEL(gl_ntt_dif_stage)(u64* buf, u64 nvec, u64 k, u64 half, u64 stride, const u64* tw) {
  u64 hk = k >> 1;
  ZK_FOR(t, nvec * hk) {
    u64 v = t / hk, b = t % hk;
    u64 grp = b / half, j = b % half;
    u64 base = v * k + grp * 2 * half;
    u64 x = buf[base + j], y = buf[base + j + half];
    buf[base + j] = gl_add(x, y);
    u64 d = gl_sub(x, y);
    buf[base + j + half] = j == 0 ? d : gl_mul(d, tw[j * stride]);
  }
}

ZK_HD u64 zk_bitrev(u64 u, u32 logk) {
  return logk == 0 ? 0 : (u64)(zk_brev32((u32)u) >> (32 - logk));
}

ZK_KERNEL(gl_rs_scatter)(const u64* buf, u64 rows, u64 R, u64 k, u64 logk, u64* out) {
  ZK_FOR(t, rows * R * k) {
    u64 i = t / rows, r = t % rows;
    u64 u = i / R, s = i % R;
    out[t] = buf[(r * R + s) * k + zk_bitrev(u, (u32)logk)];
  }
}
