"""s24h2: `whir.horner` reads an (n, 2) table through strided views (no de-interleaving
copies), `whir.mobius` fuses a strided input's gather into the blocked passes
(`_mobius_blocks_from`), and `whir.mobius_pairs` transforms both components of an
interleaved (N, 2) table at once (flat bit 0 = component), in place or into a new array.
All against the Python twins `horner_ref` / `mobius_ref` and the per-column `mobius`,
with edge values (0, 1, p−1, p−2), random tables, serial and parallel sizes, even and
odd counts of high passes."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _tab(rng, shape, kind):
    if kind == "random":
        return rng.integers(0, P_INT, size=shape, dtype=np.uint64)
    if kind == "edge":
        return EDGE[rng.integers(0, 4, size=shape)]
    return np.full(shape, P_INT - 1, dtype=np.uint64)


@pytest.mark.parametrize("n", [5, 1000, whir.SERIAL_BELOW + 77, 3 * whir.SERIAL_BELOW])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1"])
def test_horner_views(n, kind):
    rng = np.random.default_rng(n + len(kind))
    c = _tab(rng, (n, 2), kind)
    wide = np.zeros((n, 5), dtype=np.uint64)   # a non-contiguous (n, 2) view
    wide[:, 1], wide[:, 3] = c[:, 0], c[:, 1]
    view = wide[:, 1::2]
    assert not view.flags.c_contiguous
    for z in (EDGE[[0, 0]], EDGE[[1, 0]], EDGE[[2, 3]], rng.integers(0, P_INT, 2, dtype=np.uint64)):
        want = whir.horner_ref(c, z)
        assert np.array_equal(whir.horner(c, z), want)
        assert np.array_equal(whir.horner(view, z), want)
        assert np.array_equal(whir.horner(c[:, 0], z), whir.horner_ref(c[:, 0], z))


@pytest.mark.parametrize("m", [14, 15])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1"])
def test_mobius_strided_matches_ref(m, kind):
    rng = np.random.default_rng(m * 3 + len(kind))
    h = _tab(rng, (1 << m, 2), kind)
    for comp in range(2):
        want = np.array(whir.mobius_ref(h[:, comp]), dtype=np.uint64)
        assert np.array_equal(whir.mobius(h[:, comp]), want)            # strided: fused
        assert np.array_equal(whir.mobius(h[:, comp].copy()), want)     # contiguous


@pytest.mark.parametrize("m", [3, 10, 13, 14, 15, 16, 17, 18])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1"])
def test_mobius_pairs(m, kind):
    rng = np.random.default_rng(m * 7 + len(kind))
    h = _tab(rng, (1 << m, 2), kind)
    want = np.empty_like(h)
    for comp in range(2):
        want[:, comp] = whir.mobius(h[:, comp].copy())
    keep = h.copy()
    got = whir.mobius_pairs(h)
    assert np.array_equal(got, want)
    assert np.array_equal(h, keep)                       # the input is left alone
    assert whir.mobius_pairs(h, out=h) is h              # in place
    assert np.array_equal(h, want)
    if m == 14:
        for comp in range(2):
            assert np.array_equal(want[:, comp], np.array(whir.mobius_ref(keep[:, comp]),
                                                          dtype=np.uint64))


def test_mobius_blocks_from_twin():
    """`_mobius_blocks_from` on both layouts against `_mobius_blocks` / per-column passes
    (every block size from below the register pass up)."""
    rng = np.random.default_rng(5)
    for lo in range(0, 8):
        a = _tab(rng, 1 << 10, "edge")
        x = a.copy()
        whir._mobius_blocks(x, lo)
        y = np.empty_like(a)
        whir._mobius_blocks_from(a, y, lo, 0)
        assert np.array_equal(x, y), lo
        p = _tab(rng, (1 << 10, 2), "random")
        q = np.empty_like(p)
        whir._mobius_blocks_from(p.reshape(-1), q.reshape(-1), lo + 1, 1)
        for comp in range(2):
            z = p[:, comp].copy()
            whir._mobius_blocks(z, lo)
            assert np.array_equal(q[:, comp], z), (lo, comp)


def test_mobius_pairs_bad_out():
    h = np.zeros((1 << 14, 2), dtype=np.uint64)
    with pytest.raises(ValueError):
        whir.mobius_pairs(h, out=np.zeros((1 << 14, 3), dtype=np.uint64)[:, :2])
