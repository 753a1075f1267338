"""The ``cuda`` compute backend: CUDA C kernels (`zklora.kernels.cuda`) loaded with
``cupy.RawModule``.

Device arrays are cupy arrays.  Every kernel is a grid-stride loop over an index, so a
launch only needs an element count (`_launch`).  Reductions (sums, dot products,
sumcheck round sums, GKR pair sums) run in two stages: each of G "partials" sums the
indices i ≡ g (mod G) into its own row, then ``gl_reduce_rows`` folds 64 rows into one
until a single row is left, which is copied to the host.  Goldilocks addition is exact
and commutative, so the result equals the CPU's sum bit for bit whatever the order.

The backend never decides what is proven, only where the arithmetic runs: every
operation is checked against the CPU references by
`zklora.zkcore.testing.backend_suite`.  The module object ``cp`` is injectable
(``CudaBackend(cp=...)``) so that the tests run this very glue, and the very same kernel
text compiled for the host, against a numpy stand-in where no GPU is present.
"""

from __future__ import annotations

import numpy as np

from zklora.kernels import ntt as KN
from zklora.kernels import reference as R
from zklora.kernels.cuda import module_source
from zklora.zkcore.backend import Availability, ComputeBackend
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.hookspecs import hookimpl

U = np.uint64
#: threads per block of every launch
THREADS = 256
#: at most this many blocks per launch (kernels loop over the rest)
MAX_BLOCKS = 1 << 16
#: partial rows of a reduction (strided first stage): enough threads to fill a large GPU
PARTIALS = 1 << 17
#: radix-2 NTT stages done per pass (in registers; 3 = radix 8)
NTT_STAGES_PER_PASS = 3
#: rows folded into one by each ``gl_reduce_rows`` pass
REDUCE_CHUNK = 64
#: elements per thread of the batched inversion (one exponentiation per chunk)
INV_CHUNK = 32
_NO_ZERO = (1 << 64) - 1
#: BLAKE3 chunk length: a longer row is hashed as a tree of chunks
B3_CHUNK = 1024


def _address(a) -> int:
    """Device (cupy) or host (numpy) address of an array's first element."""
    data = getattr(a, "data", None)
    ptr = getattr(data, "ptr", None)
    return int(ptr) if ptr is not None else int(a.ctypes.data)


class CudaBackend(ComputeBackend):
    """Goldilocks kernels on an NVIDIA GPU through cupy (see module doc)."""

    name = "cuda"

    @classmethod
    def available(cls) -> Availability:
        try:
            import cupy
        except ImportError:
            return Availability(False, "cupy not installed (pip install 'zklora[gpu]')")
        except Exception as e:  # a broken CUDA install raises at import
            return Availability(False, f"cupy failed to import: {e}")
        try:
            ok = bool(cupy.cuda.is_available())
        except Exception as e:
            return Availability(False, f"cupy cannot query CUDA: {e}")
        if not ok:
            return Availability(False, "no CUDA device (cupy.cuda.is_available() is False)")
        return Availability(True)

    def __init__(self, cp=None, partials: int = PARTIALS) -> None:
        if cp is None:
            av = self.available()
            if not av.ok:
                raise ConfigError(f"backend 'cuda' is unavailable on this machine: {av.reason}")
            import cupy as cp
        self.cp = cp
        self.partials = int(partials)
        self._mod = cp.RawModule(code=module_source())
        self._fns: dict[str, object] = {}
        self._ntt_tables: dict[tuple[int, int], tuple] = {}

    # -- plumbing ---------------------------------------------------------------------------
    def _launch(self, name: str, n: int, *args) -> None:
        n = int(n)
        if n <= 0:
            return
        fn = self._fns.get(name)
        if fn is None:
            fn = self._fns[name] = self._mod.get_function(name)
        blocks = min((n + THREADS - 1) // THREADS, MAX_BLOCKS)
        fn((blocks,), (THREADS,), args)

    def _u(self, a):
        return self.cp.ascontiguousarray(self.cp.asarray(a, dtype=self.cp.uint64))

    def _e(self, a):
        return self._u(a).reshape(-1, 2)

    def _i(self, a):
        return self.cp.ascontiguousarray(self.cp.asarray(a, dtype=self.cp.int64))

    def _empty(self, shape, dtype=None):
        return self.cp.empty(shape, dtype=self.cp.uint64 if dtype is None else dtype)

    def _reduce_rows_dev(self, part, G: int, W: int):
        """Σ over the G ≥ 1 rows of ``part`` (G·W words): a device (W,) array."""
        part = part.reshape(-1)
        while G > 1:
            nc = (G + REDUCE_CHUNK - 1) // REDUCE_CHUNK
            out = self._empty(nc * W)
            self._launch("gl_reduce_rows", nc * W, part, U(G), U(W), U(REDUCE_CHUNK), out)
            part, G = out, nc
        return part

    def _reduce_rows(self, part, G: int, W: int) -> np.ndarray:
        """Σ over the G rows of ``part`` (G·W words): a host (W,) uint64 array."""
        if G == 0:
            return np.zeros(W, dtype=np.uint64)
        return np.asarray(self.cp.asnumpy(self._reduce_rows_dev(part, G, W)),
                          dtype=np.uint64).reshape(W)

    def _partials(self, m: int) -> int:
        return max(1, min(int(m), self.partials))

    def _h(self, a, dtype) -> np.ndarray:
        """A small host-side argument (challenge, coefficients, indices) as numpy."""
        if isinstance(a, getattr(self.cp, "ndarray", ())) and not isinstance(a, np.ndarray):
            a = self.cp.asnumpy(a)
        return np.asarray(a, dtype=dtype)

    def to_device(self, a):
        if isinstance(a, getattr(self.cp, "ndarray", ())) and not isinstance(a, np.ndarray):
            return a.copy()
        return self.cp.asarray(np.ascontiguousarray(a))

    def to_host(self, a):
        return self.cp.asnumpy(a)

    # -- base ----------------------------------------------------------------------------------
    def _bin(self, kern, a, b):
        a, b = self._u(a).reshape(-1), self._u(b).reshape(-1)
        if a.shape != b.shape:
            raise ValueError(f"{kern}: shapes {a.shape} and {b.shape}")
        out = self._empty(a.shape[0])
        self._launch(kern, a.shape[0], a, b, out, U(a.shape[0]))
        return out

    def add(self, a, b):
        return self._bin("gl_vadd", a, b)

    def sub(self, a, b):
        return self._bin("gl_vsub", a, b)

    def mul(self, a, b):
        return self._bin("gl_vmul", a, b)

    def neg(self, a):
        a = self._u(a).reshape(-1)
        out = self._empty(a.shape[0])
        self._launch("gl_vneg", a.shape[0], a, out, U(a.shape[0]))
        return out

    def reduce(self, a):
        a = self._u(a).reshape(-1)
        out = self._empty(a.shape[0])
        self._launch("gl_vreduce", a.shape[0], a, out, U(a.shape[0]))
        return out

    def sum(self, a):
        a = self._u(a).reshape(-1)
        return int(self._reduce_rows(a, a.shape[0], 1)[0])

    def dot(self, a, b):
        a, b = self._u(a).reshape(-1), self._u(b).reshape(-1)
        n = a.shape[0]
        G = self._partials(n)
        part = self._empty(G)
        self._launch("gl_vdot_part", G, a, b, U(n), U(G), part)
        return int(self._reduce_rows(part, G, 1)[0])

    def _inv_into(self, a, out, what: str) -> None:
        n = a.shape[0]
        bad = self.cp.asarray(np.array([_NO_ZERO], dtype=np.uint64))
        self._launch("gl_vinv_chunks", (n + INV_CHUNK - 1) // INV_CHUNK, a, out, U(n),
                     U(INV_CHUNK), bad)
        first = int(self.cp.asnumpy(bad)[0])
        if first != _NO_ZERO:
            raise ZeroDivisionError(f"inverse of zero in {what} (index {first})")

    def inv(self, a):
        a = self._u(a).reshape(-1)
        out = self._empty(a.shape[0])
        self._inv_into(a, out, "goldilocks")
        return out

    # -- extension -------------------------------------------------------------------------------
    def _ebin(self, kern, a, b):
        a, b = self._e(a), self._e(b)
        if a.shape != b.shape:
            raise ValueError(f"{kern}: shapes {a.shape} and {b.shape}")
        out = self._empty(a.shape)
        n = a.shape[0] if kern.startswith("e2_") else 2 * a.shape[0]
        self._launch(kern, n, a, b, out, U(n))
        return out

    def eadd(self, a, b):
        return self._ebin("gl_vadd", a, b)  # component-wise

    def esub(self, a, b):
        return self._ebin("gl_vsub", a, b)

    def emul(self, a, b):
        return self._ebin("e2_vmul", a, b)

    def emul_scalar(self, a, s):
        a = self._e(a)
        s = self._h(s, np.uint64).reshape(2)
        out = self._empty(a.shape)
        self._launch("e2_vmul_scalar", a.shape[0], a, U(s[0]), U(s[1]), out, U(a.shape[0]))
        return out

    def emul_base(self, a, b):
        a, b = self._e(a), self._u(b).reshape(-1)
        if a.shape[0] != b.shape[0]:
            raise ValueError(f"emul_base: {a.shape[0]} and {b.shape[0]} elements")
        out = self._empty(a.shape)
        self._launch("e2_vmul_base", a.shape[0], a, b, out, U(a.shape[0]))
        return out

    def esum(self, a):
        a = self._e(a)
        return self._reduce_rows(a, a.shape[0], 2)

    def edot(self, a, b):
        a, b = self._e(a), self._e(b)
        n = a.shape[0]
        G = self._partials(n)
        part = self._empty((G, 2))
        self._launch("e2_vdot_part", G, a, b, U(n), U(G), part)
        return self._reduce_rows(part, G, 2)

    def einv(self, a):
        a = self._e(a)
        n = a.shape[0]
        norms = self._empty(n)
        self._launch("e2_vnorm", n, a, norms, U(n))
        inv_norms = self._empty(n)
        self._inv_into(norms, inv_norms, "goldilocks-ext2")
        out = self._empty((n, 2))
        self._launch("e2_vinv_finish", n, a, inv_norms, out, U(n))
        return out

    # -- tables and sumcheck ---------------------------------------------------------------------
    def eq_table(self, r):
        r = self._h(r, np.uint64).reshape(-1, 2)
        out = self.cp.zeros((1 << r.shape[0], 2), dtype=self.cp.uint64)
        out[0, 0] = 1
        size = 1
        for j in range(r.shape[0]):
            self._launch("e2_eq_layer", size, out, U(size), U(r[j, 0]), U(r[j, 1]))
            size *= 2
        return out

    def sc_fold(self, stack, r):
        st = self._u(stack)
        k, m = st.shape[0], st.shape[1] // 2
        r = self._h(r, np.uint64).reshape(2)
        out = self._empty((k, m, 2))
        self._launch("e2_sc_fold", k * m, st, U(k), U(m), U(r[0]), U(r[1]), out)
        return out

    def fold_base(self, table, r):
        t = self._u(table).reshape(-1)
        m = t.shape[0] // 2
        r = self._h(r, np.uint64).reshape(2)
        out = self._empty((m, 2))
        self._launch("e2_fold_base", m, t, U(m), U(r[0]), U(r[1]), out)
        return out

    def evec_mat(self, e, M):
        e, M = self._e(e), self._u(M)
        Rr, C = M.shape
        if e.shape[0] != Rr:
            raise ValueError(f"evec_mat: {e.shape[0]} times {M.shape}")
        out = self._empty((C, 2))
        self._launch("e2_evec_mat", C, e, M, U(Rr), U(C), out)
        return out

    def mat_evec(self, M, e):
        M, e = self._u(M), self._e(e)
        Rr, C = M.shape
        if e.shape[0] != C:
            raise ValueError(f"mat_evec: {M.shape} times {e.shape[0]}")
        # few long rows: G column classes per row, so that the launch has ~`partials`
        # threads reading rows coalesced, then a device-side sum of the G partial rows
        G = min(C, self.partials // Rr) if Rr else 1
        if G <= 1:
            out = self._empty((Rr, 2))
            self._launch("e2_mat_evec", Rr, M, e, U(Rr), U(C), out)
            return out
        part = self._empty(G * Rr * 2)
        self._launch("e2_mat_evec_part", G * Rr, M, e, U(Rr), U(C), U(G), part)
        return self._reduce_rows_dev(part, G, 2 * Rr).reshape(Rr, 2)

    def p2_sums(self, stack, fa, fb):
        st = self._u(stack)
        m = st.shape[1] // 2
        fa, fb = self._i(fa), self._i(fb)
        T = fa.shape[0]
        G = self._partials(m)
        part = self._empty(G * T * 4)
        self._launch("e2_p2_sums_part", G, st, U(m), fa, fb, U(T), U(G), part)
        return self._reduce_rows(part, G, T * 4).reshape(T, 2, 2)

    def p2_fold_sums(self, stack, r, fa, fb):
        folded = self.sc_fold(stack, r)
        return folded, self.p2_sums(folded, fa, fb)

    def pair_sums(self, a, b):
        a, b = self._u(a), self._u(b)
        if a.shape[0] != b.shape[0]:
            raise ValueError(f"pair_sums: tables of {a.shape[0]} and {b.shape[0]} entries")
        st = self.cp.zeros((2, a.shape[0], 2), dtype=self.cp.uint64)
        for i, t in enumerate((a, b)):  # a base table is its extension lift (t, 0)
            if t.ndim == 1:
                st[i, :, 0] = t
            else:
                st[i] = t
        return self.p2_sums(st, np.zeros(1, np.int64), np.ones(1, np.int64)).reshape(2, 2)

    def fold_tables(self, tables, r):
        m = int(tables[0].shape[0]) // 2
        out = self._empty((len(tables), m, 2))
        for i, t in enumerate(tables):
            t = self._u(t)
            out[i] = (self.fold_base(t, r) if t.ndim == 1
                      else self.sc_fold(t.reshape(1, -1, 2), r)[0])
        return out

    def sc_round(self, stack, starts, factors, coeffs, degree):
        st = self._u(stack)
        m = st.shape[1] // 2
        starts_h = self._h(starts, np.int64).reshape(-1)
        nterms = starts_h.shape[0] - 1
        npts = int(degree) + 1
        coeffs = self._h(coeffs, np.uint64).reshape(-1, 2)
        G = self._partials(m)
        part = self._empty(G * nterms * npts * 2)
        self._launch("e2_sc_round_part", G, st, U(m), self._i(starts_h), self._i(factors),
                     U(nterms), U(npts), U(G), part)
        S = self._reduce_rows(part, G, nterms * npts * 2).reshape(nterms, npts, 2)
        out = []
        for t in range(npts):  # coefficients applied once, on the host (nterms·npts products)
            acc = (0, 0)
            for j in range(nterms):
                c = R.e2_mul(coeffs[j, 0], coeffs[j, 1], S[j, t, 0], S[j, t, 1])
                acc = (R.gl_add(acc[0], c[0]), R.gl_add(acc[1], c[1]))
            out.append(acc)
        return np.array(out, dtype=np.uint64).reshape(npts, 2)

    # -- encoding and hashing --------------------------------------------------------------------
    def _tables(self, log_k: int, rate_log: int):
        key = (log_k, rate_log)
        if key not in self._ntt_tables:
            k, Rr = 1 << log_k, 1 << rate_log
            tw = KN.powers(KN.root_of_unity(log_k), max(1, k // 2))
            wl = KN.root_of_unity(log_k + rate_log)
            twist = np.stack([KN.powers(pow(wl, s, R.P), k) for s in range(Rr)])
            self._ntt_tables[key] = (self.cp.asarray(tw), self.cp.asarray(twist))
        return self._ntt_tables[key]

    def rs_encode(self, M, rate_log):
        M = self._u(M)
        rows, k = M.shape
        log_k = k.bit_length() - 1
        if k < 1 or (1 << log_k) != k:
            raise ValueError(f"message length {k} is not a power of two")
        Rr = 1 << int(rate_log)
        tw, twist = self._tables(log_k, int(rate_log))
        out = self._empty((k * Rr, rows))
        if rows == 0:
            return out
        buf = self._empty(rows * Rr * k)
        self._launch("gl_rs_twist", rows * Rr * k, M, U(rows), U(k), twist, U(Rr), buf)
        half, stride = k >> 1, 1
        while half >= 1:
            S = min(NTT_STAGES_PER_PASS, half.bit_length())  # stages left: log2(half) + 1
            self._launch("gl_ntt_dif_stages", rows * Rr * (k >> S), buf, U(rows * Rr), U(k),
                         U(half), U(stride), tw, U(S))
            half >>= S
            stride <<= S
        self._launch("gl_rs_scatter", rows * Rr * k, buf, U(rows), U(Rr), U(k), U(log_k), out)
        return out

    def blake3_rows(self, data):
        data = self.cp.ascontiguousarray(self.cp.asarray(data, dtype=self.cp.uint8))
        n, L = data.shape
        out = self._empty((n, 32), self.cp.uint8)
        words = U(int(L % 4 == 0 and _address(data) % 4 == 0))  # word loads
        if L <= B3_CHUNK:
            self._launch("b3_hash_rows", n, data, U(n), U(L), words, out)
            return out
        # several chunks: their chaining values, then the chunk tree a level at a time
        C = (L + B3_CHUNK - 1) // B3_CHUNK
        cvs = self._empty((n * C, 32), self.cp.uint8)
        self._launch("b3_chunk_cvs", n * C, data, U(n), U(L), U(C), words, cvs)
        while C > 1:
            Cn = (C + 1) // 2
            nxt = out if Cn == 1 else self._empty((n * Cn, 32), self.cp.uint8)
            self._launch("b3_parent_cvs", n * Cn, cvs, U(n), U(C), U(Cn), U(int(Cn == 1)),
                         nxt)
            cvs, C = nxt, Cn
        return out

    def merkle_parents(self, level):
        level = self.cp.ascontiguousarray(self.cp.asarray(level, dtype=self.cp.uint8))
        if _address(level) % 4:  # the kernel loads words
            level = level.copy()
        n = level.shape[0] // 2
        out = self._empty((n, 32), self.cp.uint8)
        self._launch("b3_merkle_parents", n, level, U(n), out)
        return out

    # -- LogUp-GKR -------------------------------------------------------------------------------
    def leaf_denoms(self, cols, apow, beta):
        cols = self._u(cols)
        w, N = cols.shape
        apow = self._e(apow)
        beta = self._h(beta, np.uint64).reshape(2)
        out = self._empty((N, 2))
        self._launch("e2_leaf_denoms", N, cols, U(w), U(N), apow, U(beta[0]), U(beta[1]), out)
        return out

    def frac_up(self, p, q):
        q = self._e(q)
        h = q.shape[0] // 2
        pout, qout = self._empty((h, 2)), self._empty((h, 2))
        if p is None:
            self._launch("e2_frac_up_unit", h, q, U(h), pout, qout)
        else:
            self._launch("e2_frac_up", h, self._e(p), q, U(h), pout, qout)
        return pout, qout

    def gkr_sums(self, WP, WQ, slots, E, want1):
        WP, WQ, E = self._u(WP), self._u(WQ), self._e(E)
        slots = self._i(slots).reshape(-1, 4)
        T, m = slots.shape[0], E.shape[0]
        G = self._partials(m)
        part = self._empty(G * T * 12)
        self._launch("e2_gkr_sums_part", G, WP, WQ, slots, U(T), E, U(m), U(int(bool(want1))),
                     U(G), part)
        En = self._empty((m // 2, 2))
        self._launch("e2_gkr_next_eq", m // 2, E, U(m // 2), En)
        return self._reduce_rows(part, G, T * 12).reshape(T, 3, 2, 2), En


@hookimpl
def zk_backends():
    return [CudaBackend]
