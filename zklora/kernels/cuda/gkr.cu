// LogUp-GKR kernels over the extension (zklora/kernels/lookup_gkr.py): fraction-tree
// leaves, one fraction-tree layer, and the pair sums of one layer-sumcheck round with the
// eq factor split off.  Tables are (k, 2m, 2) stacks; E is (m, 2).
#include "zk_common.cuh"
#include "zk_gl.cuh"

// out[i] = beta - sum_k apow[k] cols[k, i]; cols (w, N) base, apow (w, 2).
ZK_KERNEL(e2_leaf_denoms)(const u64* cols, u64 w, u64 N, const u64* apow, u64 b0, u64 b1,
                          u64* out) {
  ZK_FOR(i, N) {
    e2 s = e2_make(b0, b1);
    for (u64 k = 0; k < w; ++k) s = e2_sub(s, e2_scale(e2_load(apow, k), cols[k * N + i]));
    e2_store(out, i, s);
  }
}

// pout[i] = p[i] q[i+h] + p[i+h] q[i], qout[i] = q[i] q[i+h], i < h.
ZK_KERNEL(e2_frac_up)(const u64* p, const u64* q, u64 h, u64* pout, u64* qout) {
  ZK_FOR(i, h) {
    e2 q0 = e2_load(q, i), q1 = e2_load(q, i + h);
    e2_store(pout, i, e2_add(e2_mul(e2_load(p, i), q1), e2_mul(e2_load(p, i + h), q0)));
    e2_store(qout, i, e2_mul(q0, q1));
  }
}

// Numerators all 1: pout[i] = q[i] + q[i+h], qout[i] = q[i] q[i+h].
ZK_KERNEL(e2_frac_up_unit)(const u64* q, u64 h, u64* pout, u64* qout) {
  ZK_FOR(i, h) {
    e2 q0 = e2_load(q, i), q1 = e2_load(q, i + h);
    e2_store(pout, i, e2_add(q0, q1));
    e2_store(qout, i, e2_mul(q0, q1));
  }
}

// E_{j+1}[y] = E[2y] + E[2y + 1], y < m/2.
ZK_KERNEL(e2_gkr_next_eq)(const u64* E, u64 half, u64* En) {
  ZK_FOR(y, half) e2_store(En, y, e2_add(e2_load(E, 2 * y), e2_load(E, 2 * y + 1)));
}

ZK_HD void acc_add(u64* part, u64 idx, e2 e, e2 v) {
  e2_store(part, idx, e2_add(e2_load(part, idx), e2_mul(e, v)));
}

// Pair sums of a layer round, partial over i = g mod G: part (G, T, 3, 2, 2) where
// [t, kk, a]: kk = 0 value at 0, 1 X^2 coefficient, 2 value at 1 (only with want1);
// a = 0 the A part (p0 q1 + p1 q0, or q0 + q1 for unit numerators), a = 1 B = q0 q1.
// slots[t] = (p0, p1, q0, q1): table indices of tree t in WP / WQ (p0 < 0: unit).
ZK_KERNEL(e2_gkr_sums_part)(const u64* WP, const u64* WQ, const i64* slots, u64 T,
                            const u64* E, u64 m, u64 want1, u64 G, u64* part) {
  ZK_FOR(g, G) {
    u64* acc = part + g * T * 12;  // T x (3, 2) extension elements
    for (u64 z = 0; z < T * 12; ++z) acc[z] = 0;
    for (u64 i = g; i < m; i += G) {
      e2 e = e2_load(E, i);
      for (u64 t = 0; t < T; ++t) {
        u64 base = t * 6;  // (3, 2) elements per tree: index kk * 2 + a
        u64 sq0 = (u64)slots[t * 4 + 2], sq1 = (u64)slots[t * 4 + 3];
        e2 lq0 = e2_load(WQ, sq0 * 2 * m + 2 * i), hq0 = e2_load(WQ, sq0 * 2 * m + 2 * i + 1);
        e2 lq1 = e2_load(WQ, sq1 * 2 * m + 2 * i), hq1 = e2_load(WQ, sq1 * 2 * m + 2 * i + 1);
        e2 dq0 = e2_sub(hq0, lq0), dq1 = e2_sub(hq1, lq1);
        acc_add(acc, base + 0 * 2 + 1, e, e2_mul(lq0, lq1));
        acc_add(acc, base + 1 * 2 + 1, e, e2_mul(dq0, dq1));
        if (slots[t * 4] < 0) {
          acc_add(acc, base + 0 * 2 + 0, e, e2_add(lq0, lq1));
          if (want1) {
            acc_add(acc, base + 2 * 2 + 1, e, e2_mul(hq0, hq1));
            acc_add(acc, base + 2 * 2 + 0, e, e2_add(hq0, hq1));
          }
          continue;
        }
        u64 sp0 = (u64)slots[t * 4], sp1 = (u64)slots[t * 4 + 1];
        e2 lp0 = e2_load(WP, sp0 * 2 * m + 2 * i), hp0 = e2_load(WP, sp0 * 2 * m + 2 * i + 1);
        e2 lp1 = e2_load(WP, sp1 * 2 * m + 2 * i), hp1 = e2_load(WP, sp1 * 2 * m + 2 * i + 1);
        acc_add(acc, base + 0 * 2 + 0, e, e2_add(e2_mul(lp0, lq1), e2_mul(lp1, lq0)));
        acc_add(acc, base + 1 * 2 + 0, e,
                e2_add(e2_mul(e2_sub(hp0, lp0), dq1), e2_mul(e2_sub(hp1, lp1), dq0)));
        if (want1) {
          acc_add(acc, base + 2 * 2 + 1, e, e2_mul(hq0, hq1));
          acc_add(acc, base + 2 * 2 + 0, e, e2_add(e2_mul(hp0, hq1), e2_mul(hp1, hq0)));
        }
      }
    }
  }
}
