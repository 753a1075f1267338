"""`whir_eq.eq_acc_blocks` (a chunk's claims by tiles, numba) against its Python twin
`eq_acc_blocks_ref` and against `sumcheck.eq_acc` (claim by claim)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import sumcheck as KS
from zklora.kernels import whir_eq as QE

P = (1 << 64) - (1 << 32) + 1


def _rand(rng, shape):
    return rng.integers(0, P, size=tuple(shape) + (2,), dtype=np.uint64)


def _claims(rng, m, q, share=0.5, top=None):
    """q claims on aligned blocks of a 2^m vector, about ``share`` of them on the block
    of the previous claim (several claims on one block, as in a stack)."""
    nvs, offs = [], []
    for k in range(q):
        if k and rng.random() < share:
            nvs.append(nvs[-1])
            offs.append(offs[-1])
            continue
        n = int(rng.integers(0, (m if top is None else top) + 1))
        nvs.append(n)
        offs.append(int(rng.integers(0, 1 << (m - n))) << n)
    return nvs, offs


@pytest.mark.parametrize("m,q,tile", [(0, 3, 8), (3, 5, 0), (6, 9, 2), (7, 12, 3),
                                      (8, 20, 8), (9, 6, 4)])
@pytest.mark.parametrize("overwrite", [False, True])
def test_eq_acc_blocks_matches_reference(m, q, tile, overwrite):
    rng = np.random.default_rng(100 * m + q + tile + overwrite)
    nvs, offs = _claims(rng, m, q)
    pts = _rand(rng, (q, max(1, max(nvs))))
    coefs = _rand(rng, (q,))
    coefs[0] = [P - 1, 0]
    coefs[-1] = [0, 0]
    out = _rand(rng, (1 << m,))
    got = out.copy()
    QE.eq_acc_blocks(pts, nvs, offs, coefs, got, tile_vars=tile, overwrite=overwrite)
    assert np.array_equal(got, QE.eq_acc_blocks_ref(pts, nvs, offs, coefs, out, overwrite))


@pytest.mark.parametrize("m,q,tile,top", [(14, 40, 8, None), (14, 300, 8, 9),
                                          (13, 30, 5, None), (12, 64, 12, None),
                                          (15, 8, 8, None)])
def test_eq_acc_blocks_matches_eq_acc(m, q, tile, top):
    """Larger vectors (the tiles' threaded path, claims over many tiles, many small
    claims in one tile) against `sumcheck.eq_acc`, with and without overwrite."""
    rng = np.random.default_rng(m * q + tile)
    nvs, offs = _claims(rng, m, q, top=top)
    pts = _rand(rng, (q, m + 2))
    coefs = _rand(rng, (q,))
    out = _rand(rng, (1 << m,))
    want = out.copy()
    KS.eq_acc(pts, nvs, offs, coefs, want)
    got = out.copy()
    QE.eq_acc_blocks(pts, nvs, offs, coefs, got, tile_vars=tile)
    assert np.array_equal(got, want)
    zero = np.zeros_like(out)
    KS.eq_acc(pts, nvs, offs, coefs, zero)
    got = np.full_like(out, 12345)
    QE.eq_acc_blocks(pts, nvs, offs, coefs, got, tile_vars=tile, overwrite=True)
    assert np.array_equal(got, zero)


def test_eq_acc_blocks_unaligned_and_empty():
    """An unaligned block falls back to `sumcheck.eq_acc` (same values); no claims
    leaves out alone (zeroes it with overwrite); a claim outside out is refused."""
    rng = np.random.default_rng(5)
    pts = _rand(rng, (2, 4))
    coefs = _rand(rng, (2,))
    out = _rand(rng, (64,))
    got = out.copy()
    QE.eq_acc_blocks(pts, [3, 4], [4, 32], coefs, got, tile_vars=3)
    assert np.array_equal(got, QE.eq_acc_blocks_ref(pts, [3, 4], [4, 32], coefs, out))
    got = out.copy()
    QE.eq_acc_blocks(pts, [3, 4], [4, 32], coefs, got, tile_vars=3, overwrite=True)
    assert np.array_equal(got, QE.eq_acc_blocks_ref(pts, [3, 4], [4, 32], coefs, out, True))
    got = out.copy()
    QE.eq_acc_blocks(pts[:0], [], [], coefs[:0], got)
    assert np.array_equal(got, out)
    QE.eq_acc_blocks(pts[:0], [], [], coefs[:0], got, overwrite=True)
    assert not got.any()
    with pytest.raises(ValueError):
        QE.eq_acc_blocks(pts, [3, 4], [0, 64], coefs, got)
