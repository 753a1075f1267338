// Goldilocks p = 2^64 - 2^32 + 1 and its quadratic extension F_p[x]/(x^2 - 7).
//
// Inputs and outputs are canonical residues (< p).  The identities used:
//   2^64 = 2^32 - 1 = EPS (mod p),   2^96 = -1 (mod p).
// add: a + b < 2p; on a carry out of 64 bits the dropped 2^64 is EPS mod p, and
//      (a + b - 2^64) + EPS < p cannot carry again; one conditional subtraction of p.
// sub: on a borrow the wrapped value is a - b + 2^64; subtracting EPS leaves a - b + p.
// mul: the 128-bit product hi*2^64 + lo with hi = hh*2^32 + hl is lo - hh + hl*EPS
//      (mod p); hl*EPS < 2^64; each carry/borrow is corrected by +/-EPS, as in
//      zklora/kernels/goldilocks.py (gl_reduce128).
// Extension: (a0 + a1 x)(b0 + b1 x) = a0 b0 + 7 a1 b1 + ((a0+a1)(b0+b1) - a0 b0 - a1 b1) x.
#ifndef ZK_GL_CUH
#define ZK_GL_CUH
#include "zk_common.cuh"

#define GL_P 0xFFFFFFFF00000001ULL
#define GL_EPS 0xFFFFFFFFULL

ZK_HD u64 gl_add(u64 a, u64 b) {
  u64 s = a + b;
  if (s < a) s += GL_EPS;
  if (s >= GL_P) s -= GL_P;
  return s;
}

ZK_HD u64 gl_sub(u64 a, u64 b) {
  u64 d = a - b;
  if (a < b) d -= GL_EPS;
  return d;
}

ZK_HD u64 gl_neg(u64 a) { return a == 0 ? 0 : GL_P - a; }

ZK_HD u64 gl_canon(u64 a) { return a >= GL_P ? a - GL_P : a; }

ZK_HD u64 gl_reduce128(u64 hi, u64 lo) {
  u64 hh = hi >> 32;
  u64 hl = hi & GL_EPS;
  u64 t0 = lo - hh;
  if (lo < hh) t0 -= GL_EPS;
  u64 t1 = hl * GL_EPS;
  u64 r = t0 + t1;
  if (r < t1) r += GL_EPS;
  if (r >= GL_P) r -= GL_P;
  return r;
}

ZK_HD u64 gl_mul(u64 a, u64 b) { return gl_reduce128(zk_mulhi(a, b), a * b); }

ZK_HD u64 gl_mul7(u64 a) {
  u64 a2 = gl_add(a, a);
  u64 a4 = gl_add(a2, a2);
  u64 a8 = gl_add(a4, a4);
  return gl_sub(a8, a);
}

ZK_HD u64 gl_pow(u64 a, u64 e) {
  u64 r = 1, b = a;
  while (e) {
    if (e & 1ULL) r = gl_mul(r, b);
    b = gl_mul(b, b);
    e >>= 1;
  }
  return r;
}

// 1/a for a != 0 (0 maps to 0; callers check for zeros).
ZK_HD u64 gl_inv(u64 a) { return gl_pow(a, GL_P - 2); }

struct e2 {
  u64 c0, c1;
};

ZK_HD e2 e2_make(u64 c0, u64 c1) {
  e2 r;
  r.c0 = c0;
  r.c1 = c1;
  return r;
}

ZK_HD e2 e2_load(const u64* a, u64 i) { return e2_make(a[2 * i], a[2 * i + 1]); }

ZK_HD void e2_store(u64* a, u64 i, e2 v) {
  a[2 * i] = v.c0;
  a[2 * i + 1] = v.c1;
}

ZK_HD e2 e2_add(e2 a, e2 b) { return e2_make(gl_add(a.c0, b.c0), gl_add(a.c1, b.c1)); }
ZK_HD e2 e2_sub(e2 a, e2 b) { return e2_make(gl_sub(a.c0, b.c0), gl_sub(a.c1, b.c1)); }
ZK_HD e2 e2_neg(e2 a) { return e2_make(gl_neg(a.c0), gl_neg(a.c1)); }
ZK_HD e2 e2_scale(e2 a, u64 s) { return e2_make(gl_mul(a.c0, s), gl_mul(a.c1, s)); }

ZK_HD e2 e2_mul(e2 a, e2 b) {
  u64 m0 = gl_mul(a.c0, b.c0);
  u64 m1 = gl_mul(a.c1, b.c1);
  u64 m2 = gl_mul(gl_add(a.c0, a.c1), gl_add(b.c0, b.c1));
  return e2_make(gl_add(m0, gl_mul7(m1)), gl_sub(gl_sub(m2, m0), m1));
}

// a0^2 - 7 a1^2: zero exactly when a is zero (7 is a non-residue mod p).
ZK_HD u64 e2_norm(e2 a) { return gl_sub(gl_mul(a.c0, a.c0), gl_mul7(gl_mul(a.c1, a.c1))); }

#endif  // ZK_GL_CUH
