// Goldilocks / extension vector kernels: element-wise arithmetic, strided partial
// sums and dot products with a chunked row reduction, batched inversion, eq tables.
// Extension vectors are interleaved pairs [c0, c1] (numpy (n, 2) uint64, row-major).
#include "zk_common.cuh"
#include "zk_gl.cuh"

ZK_KERNEL(gl_vadd)(const u64* a, const u64* b, u64* out, u64 n) {
  ZK_FOR(i, n) out[i] = gl_add(a[i], b[i]);
}

ZK_KERNEL(gl_vsub)(const u64* a, const u64* b, u64* out, u64 n) {
  ZK_FOR(i, n) out[i] = gl_sub(a[i], b[i]);
}

ZK_KERNEL(gl_vmul)(const u64* a, const u64* b, u64* out, u64 n) {
  ZK_FOR(i, n) out[i] = gl_mul(a[i], b[i]);
}

ZK_KERNEL(gl_vneg)(const u64* a, u64* out, u64 n) { ZK_FOR(i, n) out[i] = gl_neg(a[i]); }

ZK_KERNEL(gl_vreduce)(const u64* a, u64* out, u64 n) { ZK_FOR(i, n) out[i] = gl_canon(a[i]); }

ZK_KERNEL(e2_vmul)(const u64* a, const u64* b, u64* out, u64 n) {
  ZK_FOR(i, n) e2_store(out, i, e2_mul(e2_load(a, i), e2_load(b, i)));
}

ZK_KERNEL(e2_vmul_scalar)(const u64* a, u64 s0, u64 s1, u64* out, u64 n) {
  ZK_FOR(i, n) e2_store(out, i, e2_mul(e2_load(a, i), e2_make(s0, s1)));
}

ZK_KERNEL(e2_vmul_base)(const u64* a, const u64* b, u64* out, u64 n) {
  ZK_FOR(i, n) e2_store(out, i, e2_scale(e2_load(a, i), b[i]));
}

// Sum of rows: out[c, w] = sum_{chunk*c <= g < min(G, chunk*(c+1))} part[g, w] for
// part (G, W) words; applied repeatedly until one row is left.  Works on base words,
// so an extension value is two columns.
ZK_KERNEL(gl_reduce_rows)(const u64* part, u64 G, u64 W, u64 chunk, u64* out) {
  u64 nc = (G + chunk - 1) / chunk;
  ZK_FOR(t, nc * W) {
    u64 c = t / W, w = t % W;
    u64 end = (c + 1) * chunk < G ? (c + 1) * chunk : G;
    u64 acc = 0;
    for (u64 g = c * chunk; g < end; ++g) acc = gl_add(acc, part[g * W + w]);
    out[c * W + w] = acc;
  }
}

// part[g] = sum_{i = g mod G} a_i b_i (base field).
ZK_KERNEL(gl_vdot_part)(const u64* a, const u64* b, u64 n, u64 G, u64* part) {
  ZK_FOR(g, G) {
    u64 acc = 0;
    for (u64 i = g; i < n; i += G) acc = gl_add(acc, gl_mul(a[i], b[i]));
    part[g] = acc;
  }
}

// part[g] = sum_{i = g mod G} a_i b_i (extension), part (G, 2).
ZK_KERNEL(e2_vdot_part)(const u64* a, const u64* b, u64 n, u64 G, u64* part) {
  ZK_FOR(g, G) {
    e2 acc = e2_make(0, 0);
    for (u64 i = g; i < n; i += G) acc = e2_add(acc, e2_mul(e2_load(a, i), e2_load(b, i)));
    e2_store(part, g, acc);
  }
}

// Batched inversion, Montgomery's trick per chunk of C elements (one exponentiation per
// chunk).  A zero sets *bad to the smallest zero index seen (the caller starts it at
// 2^64 - 1 and raises); that chunk's outputs are then unspecified.
ZK_KERNEL(gl_vinv_chunks)(const u64* a, u64* out, u64 n, u64 C, u64* bad) {
  u64 nch = (n + C - 1) / C;
  ZK_FOR(c, nch) {
    u64 lo = c * C, hi = lo + C < n ? lo + C : n;
    u64 acc = 1;
    bool zero = false;
    for (u64 i = lo; i < hi; ++i) {
      if (a[i] == 0) {
        zk_atomic_min(bad, i);
        zero = true;
        break;
      }
      out[i] = acc;
      acc = gl_mul(acc, a[i]);
    }
    if (!zero) {
      u64 inv = gl_inv(acc);
      for (u64 i = hi; i-- > lo;) {
        out[i] = gl_mul(out[i], inv);
        inv = gl_mul(inv, a[i]);
      }
    }
  }
}

// norms[i] = a0^2 - 7 a1^2 (zero iff a_i = 0).
ZK_KERNEL(e2_vnorm)(const u64* a, u64* norms, u64 n) {
  ZK_FOR(i, n) norms[i] = e2_norm(e2_load(a, i));
}

// 1/a = (a0 - a1 x) / norm(a), given inv_norms.
ZK_KERNEL(e2_vinv_finish)(const u64* a, const u64* inv_norms, u64* out, u64 n) {
  ZK_FOR(i, n) {
    e2 v = e2_load(a, i);
    u64 s = inv_norms[i];
    e2_store(out, i, e2_make(gl_mul(v.c0, s), gl_neg(gl_mul(v.c1, s))));
  }
}

// One doubling step of the eq table over the extension (variable j = bit j):
// out[i + size] = out[i] * r, out[i] = out[i] - out[i + size], for i < size.
ZK_KERNEL(e2_eq_layer)(u64* out, u64 size, u64 r0, u64 r1) {
  ZK_FOR(i, size) {
    e2 v = e2_load(out, i);
    e2 h = e2_mul(v, e2_make(r0, r1));
    e2_store(out, i + size, h);
    e2_store(out, i, e2_sub(v, h));
  }
}
