"""s35h6: `e_multi_fold` / `e_multi_fold_at` on IFMA52 lanes (`_mfold_block_i`,
`_mfold_w`, `_mfold_a`) against the Python twin `ref_multi_fold` and the 32-bit limb
kernel `_mfold_block` (taken for stacks whose rows are not in place: strides (·, 24, 8)
here), on edge values (0, 1, p − 1, p − 2) and edge / random extension challenges, for
every shape class of the prove's fold passes (j = 1 … 3, pair counts with and without a
tail of < 8 pairs a level, row-strided views, the component-major ``soa`` output at even
and the interleaved output at any ``at``)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P
from zklora.kernels.whir_eq import IFMA

EDGE = np.array([0, 1, P - 1, P - 2], np.uint64)
RHOS = [(P - 1, P - 2), (P - 2, P - 1), (0, 1), (1, 0), (0, 0), (1, 1)]


def _stack(k: int, n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    W = rng.choice(EDGE, size=(k, n, 2))
    W[:, ::3] = rng.integers(0, P, size=W[:, ::3].shape, dtype=np.uint64)
    return W


def _rhos(j: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = rng.integers(0, P, size=(j, 2), dtype=np.uint64)
    for lv in range(j):
        if (seed + lv) % 3:
            r[lv] = RHOS[(seed + lv) % len(RHOS)]
    return np.ascontiguousarray(r)


def _limb_path(W: np.ndarray) -> np.ndarray:
    """W's values in a stack whose rows are not in place (the `_mfold_block` path)."""
    S = np.zeros(W.shape[:2] + (3,), np.uint64)
    S[..., :2] = W
    return S[..., :2]


def _soa(f: np.ndarray) -> np.ndarray:
    k, m, _ = f.shape
    out = np.empty((k, 4, m // 2), np.uint64)
    out[:, 0:2] = f[:, 0::2].transpose(0, 2, 1)
    out[:, 2:4] = f[:, 1::2].transpose(0, 2, 1)
    return out


def test_host_takes_ifma():
    """The twins below compare two different kernels only where the host has IFMA52."""
    if not IFMA:
        pytest.skip("no AVX-512 IFMA52 here: both paths are `_mfold_block`")
    W = _stack(2, 64, 1)
    assert KL._mfold_fast(W) and not KL._mfold_fast(_limb_path(W))


@pytest.mark.parametrize("k,m,j", [(1, 8, 1), (2, 5, 1), (3, 12, 2), (2, 7, 3), (4, 64, 3),
                                   (2, 1 << 11, 1), (5, 1000, 2), (2, 1 << 9, 3),
                                   (3, 4097, 1)])
def test_ref_twin(k, m, j):
    W = _stack(k, m << j, k * m + j)
    rr = _rhos(j, m + j)
    want = KL.ref_multi_fold(W, [tuple(r) for r in rr])
    out = np.full((k, m, 2), 7, np.uint64)
    KL.e_multi_fold(W, rr, out)
    assert np.array_equal(out, want)
    at = 5
    big = np.full((k, at + m + 3, 2), 9, np.uint64)
    KL.e_multi_fold_at(W, rr, big, at)
    assert np.array_equal(big[:, at:at + m], want)
    assert (big[:, :at] == 9).all() and (big[:, at + m:] == 9).all()
    if m % 2 == 0:
        at = 6
        soa = np.full((k, 4, (at + m) // 2 + 2), 11, np.uint64)
        KL.e_multi_fold_at(W, rr, soa, at, True)
        assert np.array_equal(soa[:, :, at // 2:(at + m) // 2], _soa(want))
        assert (soa[:, :, :at // 2] == 11).all() and (soa[:, :, (at + m) // 2:] == 11).all()


@pytest.mark.parametrize("k,n,j", [(2, 1 << 15, 2), (20, 1 << 12, 1), (6, 1 << 13, 3),
                                   (10, 3 << 11, 3), (14, 1 << 12, 2), (3, (1 << 14) + 48, 3)])
def test_limb_twin(k, n, j):
    """The prove's call shapes (scaled down) against `_mfold_block`, all output forms."""
    W = _stack(k, n, n + j)
    rr = _rhos(j, k + j)
    m = n >> j
    a = np.empty((k, m, 2), np.uint64)
    b = np.empty_like(a)
    KL.e_multi_fold(W, rr, a)
    KL.e_multi_fold(_limb_path(W), rr, b)
    assert np.array_equal(a, b)
    sa = np.zeros((k, 4, m // 2 + 4), np.uint64)
    sb = np.zeros_like(sa)
    KL.e_multi_fold_at(W, rr, sa, 8, True)
    KL.e_multi_fold_at(_limb_path(W), rr, sb, 8, True)
    assert np.array_equal(sa, sb)
    assert np.array_equal(sa[:, :, 4:], _soa(a))


def test_row_strided_view():
    """Rows of a bigger stack (a tree layer's tables, `_prove_layer`'s round 0 views)."""
    big = _stack(5, 1 << 12, 3)
    W = big[1:5:2, 512:512 + 2048]
    assert not W.flags.c_contiguous and KL._mfold_fast(W)
    rr = _rhos(1, 4)
    want = KL.ref_multi_fold(W, [tuple(r) for r in rr])
    stack = np.zeros((4, 4, 1024 // 2), np.uint64)
    KL.multi_fold(W, [tuple(r) for r in rr], stack[1:3], 0, True)
    assert np.array_equal(stack[1:3], _soa(want))
    assert (stack[0] == 0).all() and (stack[3] == 0).all()


def test_all_edge_pairs():
    """Every (lo, hi) pair of edge components, both components, under edge challenges."""
    e = [int(x) for x in EDGE]
    rows = [(a, b, c, d) for a in e for b in e for c in e for d in e]
    W = np.array([[(a, b), (c, d)] for a, b, c, d in rows], np.uint64).reshape(1, -1, 2)
    for r in RHOS:
        rr = np.array([r], np.uint64)
        out = np.empty((1, W.shape[1] // 2, 2), np.uint64)
        KL.e_multi_fold(W, rr, out)
        assert np.array_equal(out, KL.ref_multi_fold(W, [r]))
