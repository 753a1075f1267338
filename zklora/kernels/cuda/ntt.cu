// Reed-Solomon encoding by radix-2 NTT, the convention of zklora/kernels/ntt.py:
// the codeword of a message (c_0..c_{k-1}) at rate 2^-rho is (f(w^i))_{i < L},
// f = sum_j c_j X^j, L = k 2^rho, w the primitive L-th root of unity of ntt.py.
// Position i = u 2^rho + s is coset s (twist c_j w^(s j)) at w_k^u, w_k = w^(2^rho).
// Steps over a work buffer (rows, R, k), R = 2^rho:
//   rs_twist:   buf[r, s, j] = M[r, j] * twist[s, j]     (twist[s, j] = w^(s j))
//   ntt_dif:    log2(k) in-place decimation-in-frequency stages (natural order in,
//               bit-reversed out), tw[j] = w_k^j for j < k/2, up to 3 stages per
//               pass in registers (gl_ntt_dif_stages)
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

// S = 1..3 consecutive DIF stages in registers, over nvec independent vectors of length
// k: the first stage has butterfly span `half` and twiddle stride `stride` (= k / (2 half)),
// each next one half the span and twice the stride.  With d = half >> (S - 1), the
// 2^S elements x_t = base + j + t d (t < 2^S, j < d, base a multiple of 2 half) are closed
// under these stages: stage q pairs local t and t + 2^(S-1-q) (bit S-1-q of t clear),
// at offset o = j + (t mod 2^(S-q)) d within its group, twiddle tw[o * (stride << q)]
// (none when o = 0) -- exactly the butterflies of kernels/ntt.py's _dif_inplace.
template <int S>
ZK_HD void ntt_stages_at(u64 t, u64* buf, u64 k, u64 half, u64 stride, const u64* tw) {
  const int cnt = 1 << S;
  u64 d = half >> (S - 1);
  u64 per = k >> S;  // threads per vector
  u64 v = t / per, b = t % per;
  u64 grp = b / d, j = b % d;
  u64 base = v * k + grp * 2 * half + j;
  u64 x[cnt];
  ZK_UNROLL
  for (int q = 0; q < cnt; ++q) x[q] = buf[base + q * d];
  ZK_UNROLL
  for (int q = 0; q < S; ++q) {
    const int span = 1 << (S - 1 - q);
    u64 st = stride << q;
  ZK_UNROLL
    for (int a = 0; a < cnt; ++a) {
      if (a & span) continue;
      u64 o = j + (u64)(a & (2 * span - 1)) * d;
      u64 y = x[a], z = x[a + span];
      x[a] = gl_add(y, z);
      u64 df = gl_sub(y, z);
      x[a + span] = o == 0 ? df : gl_mul(df, tw[o * st]);
    }
  }
  ZK_UNROLL
  for (int q = 0; q < cnt; ++q) buf[base + q * d] = x[q];
}

ZK_KERNEL(gl_ntt_dif_stages)(u64* buf, u64 nvec, u64 k, u64 half, u64 stride, const u64* tw,
                             u64 S) {
  ZK_FOR(t, nvec * (k >> S)) {
    if (S == 3) ntt_stages_at<3>(t, buf, k, half, stride, tw);
    else if (S == 2) ntt_stages_at<2>(t, buf, k, half, stride, tw);
    else ntt_stages_at<1>(t, buf, k, half, stride, tw);
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
