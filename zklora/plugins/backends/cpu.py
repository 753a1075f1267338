"""The ``cpu`` compute backend: the numba kernels of `zklora.kernels`.

Every operation of `zklora.zkcore.backend.ComputeBackend` is a thin call into the
existing numba kernels (Goldilocks and its extension, the product-sumcheck kernels, the
NTT/Reed–Solomon encoder, the numba BLAKE3 and the LogUp-GKR kernels), with the same
serial/parallel choice the field classes make (`zklora.kernels.goldilocks.SMALL`).
Device arrays are host numpy arrays, so `to_device`/`to_host` are copies.  Always
available: numba is a dependency of the package.
"""

from __future__ import annotations

import blake3
import numpy as np

from zklora.kernels import blake3_numba, merkle
from zklora.kernels import goldilocks as K
from zklora.kernels import lookup_gkr as KL
from zklora.kernels import ntt as KN
from zklora.kernels import sumcheck as KS
from zklora.zkcore import scratch
from zklora.zkcore.backend import Availability, ComputeBackend
from zklora.zkcore.hookspecs import hookimpl

#: fewer rows than this are hashed by the blake3 package row by row, not by the numba
#: kernel (a parallel region costs more than the work; the threshold of kernels.merkle)
NUMBA_ROWS = 64


def _u(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.uint64)


def _e(a) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.uint64).reshape(-1, 2)


#: a matrix in a read-only scratch map (`zklora.zkcore.scratch`) larger than this is
#: multiplied a slab of rows of about this many bytes at a time, each slab's pages given
#: back once read (`scratch.drop_pages`): the product never holds the whole mapped
#: matrix resident (issue 14: Ligero's openings read their message matrices this way)
MAPPED_SLAB_BYTES = 32 << 20


def _slabs(M: np.ndarray):
    """Row ranges of M of about `MAPPED_SLAB_BYTES` each (one range when M is small or
    not a scratch map)."""
    R = M.shape[0]
    if M.nbytes <= MAPPED_SLAB_BYTES or not scratch.is_mapped(M):
        return [(0, R)]
    per = max(1, MAPPED_SLAB_BYTES // max(1, M.strides[0] if M.ndim == 2 else 8))
    return [(a, min(R, a + per)) for a in range(0, R, per)]


def _pick(n: int, par, ser):
    return par if n >= K.SMALL else ser


class CpuBackend(ComputeBackend):
    """Numba CPU kernels (`zklora.kernels`)."""

    name = "cpu"

    @classmethod
    def available(cls) -> Availability:
        return Availability(True)

    def to_device(self, a):
        return np.array(a, copy=True)

    def to_host(self, a):
        return np.array(a, copy=True)

    def borrow(self, a):
        return _u(a)  # host memory is device memory: no copy when already contiguous

    def fetch(self, a):
        return np.asarray(a)  # the caller gives ``a`` up: no copy

    # -- base -------------------------------------------------------------------------
    def _bin(self, par, ser, a, b):
        a, b = _u(a).reshape(-1), _u(b).reshape(-1)
        if a.shape != b.shape:
            raise ValueError(f"{par.__name__}: shapes {a.shape} and {b.shape}")
        out = np.empty_like(a)
        _pick(a.shape[0], par, ser)(a, b, out)
        return out

    def add(self, a, b):
        return self._bin(K.vadd, K.vadd_s, a, b)

    def sub(self, a, b):
        return self._bin(K.vsub, K.vsub_s, a, b)

    def mul(self, a, b):
        return self._bin(K.vmul, K.vmul_s, a, b)

    def neg(self, a):
        a = _u(a).reshape(-1)
        out = np.empty_like(a)
        _pick(a.shape[0], K.vneg, K.vneg_s)(a, out)
        return out

    def reduce(self, a):
        a = _u(a).reshape(-1)
        out = np.empty_like(a)
        K.vreduce(a, out)
        return out

    def sum(self, a):
        a = _u(a).reshape(-1)
        if a.shape[0] < K.SMALL:
            return int(K.vsum_s(a))
        return int(K.vsum(a, K.nchunks_for(a.shape[0])))

    def dot(self, a, b):
        a, b = _u(a).reshape(-1), _u(b).reshape(-1)
        if a.shape[0] < K.SMALL:
            return int(K.vdot_s(a, b))
        return int(K.vdot(a, b, K.nchunks_for(a.shape[0])))

    def inv(self, a):
        a = _u(a).reshape(-1)
        out = np.empty_like(a)
        bad = K.vinv(a, out)
        if bad >= 0:
            raise ZeroDivisionError(f"inverse of zero in goldilocks (index {bad})")
        return out

    # -- extension ----------------------------------------------------------------------
    def _ebin(self, par, ser, a, b):
        a, b = _e(a), _e(b)
        if a.shape != b.shape:
            raise ValueError(f"{par.__name__}: shapes {a.shape} and {b.shape}")
        out = np.empty_like(a)
        _pick(a.shape[0], par, ser)(a, b, out)
        return out

    def eadd(self, a, b):
        return self._ebin(K.eadd, K.eadd_s, a, b)

    def esub(self, a, b):
        return self._ebin(K.esub, K.esub_s, a, b)

    def emul(self, a, b):
        return self._ebin(K.emul, K.emul_s, a, b)

    def emul_scalar(self, a, s):
        a = _e(a)
        s = _u(s).reshape(2)
        out = np.empty_like(a)
        _pick(a.shape[0], K.emul_scalar, K.emul_scalar_s)(a, s[0], s[1], out)
        return out

    def emul_base(self, a, b):
        a, b = _e(a), _u(b).reshape(-1)
        out = np.empty_like(a)
        _pick(a.shape[0], K.emul_base, K.emul_base_s)(a, b, out)
        return out

    def esum(self, a):
        a = _e(a)
        if a.shape[0] < K.SMALL:
            return K.esum_s(a)
        return K.esum(a, K.nchunks_for(a.shape[0]))

    def edot(self, a, b):
        a, b = _e(a), _e(b)
        if a.shape[0] < K.SMALL:
            return K.edot_s(a, b)
        return K.edot(a, b, K.nchunks_for(a.shape[0]))

    def einv(self, a):
        a = _e(a)
        out = np.empty_like(a)
        bad = K.einv(a, out)
        if bad >= 0:
            raise ZeroDivisionError(f"inverse of zero in goldilocks-ext2 (index {bad})")
        return out

    # -- tables and sumcheck --------------------------------------------------------------
    def eq_table(self, r):
        r = _e(r)
        out = np.zeros((1 << r.shape[0], 2), dtype=np.uint64)
        _pick(out.shape[0], K.eq_expand, K.eq_expand_s)(r, out)
        return out

    def sc_fold(self, stack, r):
        stack = _u(stack)
        r = _u(r).reshape(2)
        out = np.empty((stack.shape[0], stack.shape[1] // 2, 2), dtype=np.uint64)
        _pick(stack.shape[0] * stack.shape[1], K.e_sc_fold, K.e_sc_fold_s)(stack, r[0], r[1],
                                                                           out)
        return out

    def fold_base(self, table, r):
        table = _u(table).reshape(-1)
        r = _u(r).reshape(2)
        out = np.empty((table.shape[0] // 2, 2), dtype=np.uint64)
        K.e_fold_base(table, r[0], r[1], out)
        return out

    def evec_mat(self, e, M):
        """eᵀ·M; a large mapped M is summed slab by slab (the same field elements: the
        slabs' partial products added)."""
        e = _e(e)
        parts = _slabs(M)
        if len(parts) == 1:
            return KN.evec_mat(e, _u(M))
        out = None
        for a, b in parts:
            blk = M[a:b]
            y = KN.evec_mat(e[a:b], _u(blk)).reshape(-1)
            scratch.drop_pages(blk)
            if out is None:
                out = y
            else:
                _pick(out.size, K.vadd, K.vadd_s)(out, y, out)
        return out.reshape(-1, 2)

    def mat_evec(self, M, e):
        """M·e; a large mapped M row slab by row slab."""
        e = _e(e)
        parts = _slabs(M)
        if len(parts) == 1:
            return KN.mat_evec(_u(M), e)
        out = np.empty((M.shape[0], 2), dtype=np.uint64)
        for a, b in parts:
            blk = M[a:b]
            out[a:b] = KN.mat_evec(_u(blk), e)
            scratch.drop_pages(blk)
        return out

    def sc_round(self, stack, starts, factors, coeffs, degree):
        stack = _u(stack)
        starts = np.ascontiguousarray(starts, np.int64)
        factors = np.ascontiguousarray(factors, np.int64)
        coeffs = _e(coeffs)
        work = stack.shape[1] // 2 * max(1, stack.shape[0])
        if work < K.SMALL:
            return K.e_sc_round_s(stack, starts, factors, coeffs, int(degree))
        return K.e_sc_round(stack, starts, factors, coeffs, int(degree),
                            K.nchunks_for(work * (degree + 1) // 4))

    def p2_sums(self, stack, fa, fb):
        return KS.p2_sums(_u(stack), np.ascontiguousarray(fa, np.int64),
                          np.ascontiguousarray(fb, np.int64))

    def p2_fold_sums(self, stack, r, fa, fb):
        return KS.p2_fold_sums(_u(stack), _u(r).reshape(2), np.ascontiguousarray(fa, np.int64),
                               np.ascontiguousarray(fb, np.int64))

    def pair_sums(self, a, b):
        return KS.pair_sums(_u(a), _u(b))

    def fold_tables(self, tables, r):
        r = _u(r).reshape(2)
        m = int(tables[0].shape[0]) // 2
        out = np.empty((len(tables), m, 2), dtype=np.uint64)
        for i, t in enumerate(tables):
            KS.fold_into(_u(t), r, out[i])
        return out

    # -- encoding and hashing ------------------------------------------------------------
    def rs_encode(self, M, rate_log):
        return KN.rs_encode(_u(M), int(rate_log))

    def blake3_rows(self, data):
        data = np.ascontiguousarray(data, np.uint8)
        n, L = data.shape
        if L <= blake3_numba.MAX_LEN and n >= NUMBA_ROWS:
            return blake3_numba.hash_many(data)
        # few rows, or rows of several chunks: the blake3 package (C, SIMD across chunks)
        # row by row, as kernels.merkle hashes such leaves
        out = bytearray(32 * n)
        mv = memoryview(data.reshape(-1))
        for i in range(n):
            out[32 * i:32 * (i + 1)] = blake3.blake3(mv[i * L:(i + 1) * L]).digest()
        return np.frombuffer(out, dtype=np.uint8).reshape(n, 32)

    def merkle_parents(self, level):
        level = np.ascontiguousarray(level, np.uint8)
        if level.shape[1] != merkle.DIGEST:
            raise ValueError(f"merkle_parents: digests of {level.shape[1]} bytes")
        return merkle.hash_nodes(level, "blake3")

    def merkle_levels(self, leaves):
        return merkle.build(np.ascontiguousarray(leaves, np.uint8), "blake3")

    # -- LogUp-GKR ------------------------------------------------------------------------
    def leaf_denoms(self, cols, apow, beta):
        cols = _u(cols)
        out = np.empty((cols.shape[1], 2), dtype=np.uint64)
        KL.e_leaf_denoms(cols, _e(apow), _u(beta).reshape(2), out)
        return out

    def frac_up(self, p, q):
        q = _e(q)
        h = q.shape[0] // 2
        pout = np.empty((h, 2), dtype=np.uint64)
        qout = np.empty((h, 2), dtype=np.uint64)
        if p is None:
            KL.e_frac_up_unit(q, pout, qout)
        else:
            KL.e_frac_up(_e(p), q, pout, qout)
        return pout, qout

    def gkr_sums(self, WP, WQ, slots, E, want1):
        return KL.gkr_sums(_u(WP), _u(WQ), np.ascontiguousarray(slots, np.int64), _e(E),
                           bool(want1))


@hookimpl
def zk_backends():
    return [CpuBackend]
