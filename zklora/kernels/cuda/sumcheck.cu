// Sumcheck kernels over the extension: folds (bind the lowest variable), the round sums
// of the product sumcheck (sum of pairwise products: value at 0 and X^2 coefficient,
// zklora/kernels/sumcheck.py) and of a general sum of products (values at t = 0..d,
// Field.sc_round).  A stack is (k, 2m, 2): k tables, pairs (2i, 2i+1) differ in the
// variable being bound.  Round sums are strided partials part[g] over i = g mod G,
// summed afterwards by gl_reduce_rows.
#include "zk_common.cuh"
#include "zk_gl.cuh"

// out[f, i] = lo + r (hi - lo), lo = st[f, 2i], hi = st[f, 2i + 1]; out (k, m, 2).
ZK_KERNEL(e2_sc_fold)(const u64* st, u64 k, u64 m, u64 r0, u64 r1, u64* out) {
  ZK_FOR(t, k * m) {
    u64 f = t / m, i = t % m;
    e2 lo = e2_load(st, f * 2 * m + 2 * i);
    e2 hi = e2_load(st, f * 2 * m + 2 * i + 1);
    e2_store(out, t, e2_add(lo, e2_mul(e2_sub(hi, lo), e2_make(r0, r1))));
  }
}

// part (G, T, 2, 2): for term j = (fa[j], fb[j]): [sum lo_a lo_b, sum da db].
ZK_KERNEL(e2_p2_sums_part)(const u64* st, u64 m, const i64* fa, const i64* fb, u64 T, u64 G,
                           u64* part) {
  ZK_FOR(g, G) {
    for (u64 j = 0; j < T; ++j) {
      u64 a = (u64)fa[j], b = (u64)fb[j];
      e2 s0 = e2_make(0, 0), s1 = e2_make(0, 0);
      for (u64 i = g; i < m; i += G) {
        e2 la = e2_load(st, a * 2 * m + 2 * i), ha = e2_load(st, a * 2 * m + 2 * i + 1);
        e2 lb = e2_load(st, b * 2 * m + 2 * i), hb = e2_load(st, b * 2 * m + 2 * i + 1);
        s0 = e2_add(s0, e2_mul(la, lb));
        s1 = e2_add(s1, e2_mul(e2_sub(ha, la), e2_sub(hb, lb)));
      }
      e2_store(part, (g * T + j) * 2, s0);
      e2_store(part, (g * T + j) * 2 + 1, s1);
    }
  }
}

// part (G, nterms, npts, 2): for term j and t < npts,
//   sum_i prod_{q in [starts[j], starts[j+1])} (lo_f + t (hi_f - lo_f)),  f = factors[q]
// (an empty product is 1); coefficients are applied after the reduction.
ZK_KERNEL(e2_sc_round_part)(const u64* st, u64 m, const i64* starts, const i64* factors,
                            u64 nterms, u64 npts, u64 G, u64* part) {
  ZK_FOR(g, G) {
    for (u64 j = 0; j < nterms; ++j) {
      u64 q0 = (u64)starts[j], q1 = (u64)starts[j + 1];
      for (u64 t = 0; t < npts; ++t) {
        e2 acc = e2_make(0, 0);
        for (u64 i = g; i < m; i += G) {
          e2 p = e2_make(1, 0);
          for (u64 q = q0; q < q1; ++q) {
            u64 f = (u64)factors[q];
            e2 lo = e2_load(st, f * 2 * m + 2 * i);
            e2 hi = e2_load(st, f * 2 * m + 2 * i + 1);
            e2 v = e2_add(lo, e2_scale(e2_sub(hi, lo), t));
            p = e2_mul(p, v);
          }
          acc = e2_add(acc, p);
        }
        e2_store(part, (g * nterms + j) * npts + t, acc);
      }
    }
  }
}

// Bind the lowest variable of a base table (2m,) to an extension r: lo + r (hi - lo).
ZK_KERNEL(e2_fold_base)(const u64* table, u64 m, u64 r0, u64 r1, u64* out) {
  ZK_FOR(i, m) {
    u64 lo = table[2 * i];
    u64 d = gl_sub(table[2 * i + 1], lo);
    e2_store(out, i, e2_make(gl_add(lo, gl_mul(d, r0)), gl_mul(d, r1)));
  }
}

// out[j] = sum_i e[i] M[i, j]: extension vector (R, 2) times base matrix (R, C); one
// column per index (adjacent indices read adjacent words of each row).
ZK_KERNEL(e2_evec_mat)(const u64* e, const u64* M, u64 R, u64 C, u64* out) {
  ZK_FOR(j, C) {
    e2 acc = e2_make(0, 0);
    for (u64 i = 0; i < R; ++i) acc = e2_add(acc, e2_scale(e2_load(e, i), M[i * C + j]));
    e2_store(out, j, acc);
  }
}

// out[i] = sum_j M[i, j] e[j]: base matrix (R, C) times extension vector (C, 2).
ZK_KERNEL(e2_mat_evec)(const u64* M, const u64* e, u64 R, u64 C, u64* out) {
  ZK_FOR(i, R) {
    e2 acc = e2_make(0, 0);
    for (u64 j = 0; j < C; ++j) acc = e2_add(acc, e2_scale(e2_load(e, j), M[i * C + j]));
    e2_store(out, i, acc);
  }
}

// The same split over G column classes, for few long rows (the ligero opening's y = M e:
// hundreds of rows of 2^15 entries): part (G, R, 2), part[g, i] = sum over j = g mod G
// of M[i, j] e[j], summed afterwards by gl_reduce_rows.  Index t = i G + g, so adjacent
// threads read adjacent entries of a row (coalesced), where e2_mat_evec's threads each
// walk their own row.
ZK_KERNEL(e2_mat_evec_part)(const u64* M, const u64* e, u64 R, u64 C, u64 G, u64* part) {
  ZK_FOR(t, R * G) {
    u64 i = t / G, g = t % G;
    e2 acc = e2_make(0, 0);
    for (u64 j = g; j < C; j += G) acc = e2_add(acc, e2_scale(e2_load(e, j), M[i * C + j]));
    e2_store(part, g * R + i, acc);
  }
}
