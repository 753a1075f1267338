"""The lane kernels of `blake3_numba` (LANES messages per vectorised compression)
against the ``blake3`` package (the reference twin) and the one-message kernels, for
every leaf width and Merkle digest width in use, with row counts that leave tails."""

from __future__ import annotations

import blake3
import numpy as np
import pytest

from zklora.kernels import blake3_numba as B


def _ref(rows: list[bytes], nout: int) -> np.ndarray:
    return np.array([list(blake3.blake3(r).digest()[:nout]) for r in rows],
                    dtype=np.uint8).reshape(len(rows), nout)


@pytest.mark.parametrize("nw", [1, 2, 7, 8, 9, 16, 17, 32, 64, 127, 128])
@pytest.mark.parametrize("nout", [16, 20, 25, 32])
def test_rows32_lanes(nw, nout):
    rng = np.random.default_rng(nw * 100 + nout)
    n = 3 * B.LANES + 5
    data = rng.integers(0, 2**64, size=(n, nw), dtype=np.uint64)
    out = np.zeros((n, nout), np.uint8)
    B._hash_rows32_lanes(data.view(np.uint32), out.reshape(-1), nout)
    k = n - n % B.LANES
    assert np.array_equal(out[:k], _ref([r.tobytes() for r in data[:k]], nout))
    assert not out[k:].any()  # rows past the last whole group untouched
    old = np.empty((k, nout), np.uint8)
    B._hash_rows64(data[:k], old)
    assert np.array_equal(out[:k], old)


@pytest.mark.parametrize("w", [2, 3, 16, 20, 25, 31, 32, 33, 100, 511])
def test_tagged_lanes(w):
    rng = np.random.default_rng(w)
    n = 2 * B.LANES + 3
    lvl = rng.integers(0, 256, size=(2 * n, w), dtype=np.uint8)
    nout = min(w, 32)
    out = np.zeros((n, nout), np.uint8)
    B._hash_tagged_lanes(lvl.reshape(-1), 2 * w, out.reshape(-1), nout)
    k = n - n % B.LANES
    rows = lvl.reshape(n, 2 * w)
    assert np.array_equal(out[:k], _ref([b"\x01" + r.tobytes() for r in rows[:k]], nout))
    assert not out[k:].any()
    old = np.empty((k, nout), np.uint8)
    B._hash_pairs(rows[:k], old)
    assert np.array_equal(out[:k], old)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 64, 1000, 4099])
def test_public_entry_points(n, monkeypatch):
    """hash_many / hash_pairs (lanes plus one-message tails) equal the package's digests
    with numba warm (the cold path hashes with the package itself)."""
    monkeypatch.setattr(B, "COLD_BYTES", -1)
    rng = np.random.default_rng(n)
    data = rng.integers(0, 256, size=(n, 128), dtype=np.uint8)
    assert np.array_equal(B.hash_many(data, 25), _ref([r.tobytes() for r in data], 25))
    for w in (1, 25, 32):
        lvl = rng.integers(0, 256, size=(2 * n, w), dtype=np.uint8)
        want = _ref([b"\x01" + lvl[2 * i].tobytes() + lvl[2 * i + 1].tobytes()
                     for i in range(n)], w)
        assert np.array_equal(B.hash_pairs(lvl), want)


def _buf(prefix: bytes) -> np.ndarray:
    buf = np.zeros(len(prefix) + 8, dtype=np.uint8)
    buf[:len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    return buf


@pytest.mark.parametrize("plen", [0, 1, 3, 4, 55, 56, 57, 60, 63, 64, 70, 78, 119, 120,
                                  127, 128, 200, 1016])
def test_grind_lanes(plen):
    """`grind_lanes` finds the nonce of `whir.grind_ref` (the blake3 package, nonce by
    nonce) and of `whir._grind_blake3` (one message at a time), from several starts."""
    from zklora.kernels import whir as W

    prefix = np.random.default_rng(plen).integers(0, 256, plen, dtype=np.uint8).tobytes()
    for bits in (0, 1, 4, 8):
        mask = np.uint64((1 << bits) - 1)
        got = int(B.grind_lanes(_buf(prefix), plen, mask, np.uint64(0)))
        assert got == W.grind_ref(prefix, bits, lambda b: blake3.blake3(b).digest())
        for start in (5, 2**32 - 3):
            assert (int(B.grind_lanes(_buf(prefix), plen, mask, np.uint64(start)))
                    == int(W._grind_blake3(_buf(prefix), plen, mask, np.uint64(start))))
