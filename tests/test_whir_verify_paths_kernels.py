"""The whir verifier's kernels in a cold process (`zklora.kernels.goldilocks.cold`):
each numpy / Python path against the compiled kernel it stands in for, on random
inputs of edge and ordinary sizes (the same bytes, or the same ValueError)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import blake3_numba, merkle, ntt
from zklora.kernels import goldilocks as G
from zklora.kernels import whir as K

P = G.P_INT


@pytest.fixture
def both(monkeypatch):
    """``both(f, *args)``: f's result with numba counted as started, then as cold."""

    def run(f, *args):
        monkeypatch.setattr(G, "numba_started", lambda: True)
        warm = f(*args)
        monkeypatch.setattr(G, "numba_started", lambda: False)
        try:
            return warm, f(*args)
        finally:
            monkeypatch.setattr(G, "numba_started", lambda: True)

    return run


def _rnd(rng, *shape):
    return rng.integers(0, P, size=shape, dtype=np.uint64)


def _eq(a, b):
    assert type(a) is type(b)
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    else:
        assert a == b


@pytest.mark.parametrize("m", [0, 1, 2, 5, 11])
def test_mobius(both, m):
    _eq(*both(K.mobius, _rnd(np.random.default_rng(m), 1 << m)))


@pytest.mark.parametrize("m,d,k,ext", [(0, 1, 0, False), (1, 2, 1, False), (3, 5, 2, True),
                                       (6, 8, 3, False), (6, 9, 4, True), (10, 12, 4, False)])
def test_encode_leaves(both, m, d, k, ext):
    rng = np.random.default_rng(m * 7 + d)
    c = _rnd(rng, 1 << m, 2) if ext else _rnd(rng, 1 << m)
    _eq(*both(K.encode_leaves, c, d, k))
    if m <= 3:
        _eq(K.encode_leaves(c, d, k), K.encode_leaves_ref(c, d, k))


@pytest.mark.parametrize("q,k,d", [(1, 0, 3), (1, 1, 4), (5, 2, 6), (40, 4, 10), (3, 5, 7)])
def test_fold_leaves(both, q, k, d):
    rng = np.random.default_rng(q * 3 + k)
    vals = _rnd(rng, q, 1 << k, 2)
    idx = np.sort(rng.choice((1 << d) >> k, size=q, replace=False)).astype(np.int64)
    alphas = _rnd(rng, k, 2)
    _eq(*both(K.fold_leaves, vals, idx, d, alphas))


@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 200, 2048])
@pytest.mark.parametrize("ext", [False, True])
def test_horner(both, n, ext):
    rng = np.random.default_rng(n + ext)
    c = _rnd(rng, n, 2) if ext else _rnd(rng, n)
    z = _rnd(rng, 2)
    _eq(*both(K.horner, c, z))
    if n <= 64:
        _eq(K.horner(c, z), K.horner_ref(c, z))


@pytest.mark.parametrize("n,q", [(1, 1), (2, 3), (5, 4), (256, 85), (64, 1)])
def test_horner_many(both, n, q):
    rng = np.random.default_rng(n * q)
    c, zs = _rnd(rng, n, 2), _rnd(rng, q, 2)
    zs[0, 1] = 0  # a base-field point, as the verifier's
    _eq(*both(K.horner_many, c, zs))


@pytest.mark.parametrize("start,count", [(0, 0), (0, 1), (1, 5), (7, 170), (123456789, 3)])
def test_epowers(both, start, count):
    x = _rnd(np.random.default_rng(count), 2)
    _eq(*both(K.epowers, x, start, count))


@pytest.mark.parametrize("q,m", [(0, 3), (1, 1), (3, 0), (85, 19), (200, 5)])
def test_esquares(both, q, m):
    _eq(*both(K.esquares, _rnd(np.random.default_rng(q + m), q, 2), m))


@pytest.mark.parametrize("T,m,k", [(1, 1, 0), (1, 3, 3), (7, 5, 2), (100, 17, 4), (500, 9, 4)])
def test_eq_prefix(both, T, m, k):
    rng = np.random.default_rng(T + m + k)
    _eq(*both(K.eq_prefix, _rnd(rng, T, m, 2), _rnd(rng, k, 2)))


@pytest.mark.parametrize("T,m", [(1, 0), (1, 1), (3, 4), (85, 8)])
def test_mono_eval(both, T, m):
    rng = np.random.default_rng(T * 5 + m)
    pts, cf, c = _rnd(rng, T, m, 2), _rnd(rng, T, 2), _rnd(rng, 1 << m, 2)
    _eq(*both(K.mono_eval, pts, cf, c))
    if T <= 3:
        _eq(K.mono_eval(pts, cf, c), K.mono_eval_ref(pts, cf, c))


@pytest.mark.parametrize("T,N", [(1, 1), (2, 7), (5, 3000)])
def test_lincomb_base(both, T, N):
    rng = np.random.default_rng(T + N)
    _eq(*both(K.lincomb_base, _rnd(rng, T, N), _rnd(rng, T, 2)))


@pytest.mark.parametrize("width", [1, 2, 8, 32, 128])
def test_merkle_paths(both, width):
    """Leaf hashes, sibling counts and multi-proof roots (good and bad proofs)."""
    rng = np.random.default_rng(width)
    depth = 6
    rows = _rnd(rng, 1 << depth, width)
    levels = merkle.build(merkle.hash_leaves(rows, "blake3", 20), "blake3")
    idx = np.array([0, 1, 5, 17, 40, 63], dtype=np.int64)
    _eq(*both(K.hash_leaves_serial, rows[idx]))
    _eq(*both(K.num_siblings, idx, depth))
    proof = merkle.open_multi(levels, idx)
    dig = K.hash_leaves_serial(rows[idx])
    warm, cold = both(K.multi_root, idx, dig, depth, proof, 20)
    assert warm == cold == merkle.root(levels)
    bad = bytearray(proof)
    bad[3] ^= 1
    _eq(*both(K.multi_root, idx, dig, depth, bytes(bad), 20))
    for broken in (proof[:-20], proof + proof[:20]):
        for started in (True, False):
            both_fn = (lambda: True) if started else (lambda: False)
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(G, "numba_started", both_fn)
                with pytest.raises(ValueError):
                    K.multi_root(idx, dig, depth, broken, 20)


@pytest.mark.parametrize("L", [0, 1, 64, 65, 1024])
def test_hash_many(both, L):
    data = np.random.default_rng(L).integers(0, 256, size=(70, L), dtype=np.uint8)
    _eq(*both(blake3_numba.hash_many, data))


@pytest.mark.parametrize("n", [0, 1, 5, 64, 100])
def test_ntt_helpers(both, n):
    rng = np.random.default_rng(n)
    _eq(*both(ntt.powers, int(_rnd(rng, 1)[0]), n))
    e, M = _rnd(rng, n, 2), _rnd(rng, n, 37)
    _eq(*both(ntt.evec_mat, e, M))
    _eq(*both(ntt.edot, _rnd(rng, n, 2), _rnd(rng, n, 2)))


@pytest.mark.parametrize("nv", [0, 1, 3, 7, 12])
def test_ntt_eq_table(both, nv):
    _eq(*both(ntt.eq_table, _rnd(np.random.default_rng(nv), nv, 2)))


def test_np_ntt_matches_rs_encode():
    """The numpy NTT is the Reed–Solomon codeword of `ntt.rs_encode` (natural order)."""
    rng = np.random.default_rng(1)
    for log_k, rate in ((0, 1), (3, 1), (5, 2)):
        row = _rnd(rng, 1 << log_k)
        want = ntt.rs_encode(row[None, :], rate)[:, 0]
        assert np.array_equal(K.np_ntt(row, log_k + rate), want)
