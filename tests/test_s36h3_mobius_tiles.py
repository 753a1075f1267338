"""s36h3: `whir.mobius_rows_tiles` (the streamed commitment's low Möbius passes read
from the source and written in tile order, with the source maximum) against its numpy
twin and against `mobius_low` + the tile transpose it replaces."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir as K
from zklora.kernels.goldilocks import P_INT


def _old(src: np.ndarray, lt: int, cb: int) -> tuple[np.ndarray, int]:
    """What `_commit_streamed` did before: copy, max, `mobius_low`, transpose."""
    T = 1 << lt
    rows = src.shape[0] >> lt
    x = np.array(src, copy=True)
    top = int(x.max())
    K.mobius_low(x, lt)
    return np.ascontiguousarray(x.reshape(rows, T // cb, cb).transpose(1, 0, 2)), top


def _table(rng, n: int, kind: str) -> np.ndarray:
    if kind == "random":
        return rng.integers(0, P_INT, size=n, dtype=np.uint64)
    if kind == "edge":
        e = np.array([0, 1, P_INT - 1, P_INT - 2, 2, 1 << 32, (1 << 32) - 1], np.uint64)
        return e[rng.integers(0, e.size, size=n)]
    return rng.integers(0, 1 << 20, size=n, dtype=np.uint64)


@pytest.mark.parametrize("lt,rows,cb", [(3, 4, 8), (3, 2048, 2), (9, 64, 512), (9, 64, 16),
                                        (10, 32, 256), (11, 40, 512), (11, 8, 2048),
                                        (12, 17, 512), (12, 5, 4096), (4, 1024, 16)])
@pytest.mark.parametrize("kind", ["random", "edge", "small"])
def test_matches_twin_and_old(lt, rows, cb, kind):
    rng = np.random.default_rng(lt * 1000 + rows + cb)
    src = _table(rng, rows << lt, kind)
    src.flags.writeable = False
    out = np.full(((1 << lt) // cb, rows, cb), 7, dtype=np.uint64)
    ref = np.empty_like(out)
    top = K.mobius_rows_tiles(src, out, lt, cb)
    rtop = K._mobius_rows_tiles_ref(src, ref, lt, cb)
    old, otop = _old(src, lt, cb)
    assert top == rtop == otop == int(src.max())
    assert np.array_equal(out, ref)
    assert np.array_equal(out, old)
    assert int(out.max()) < P_INT


def test_numba_path_at_every_chunk_split():
    """Row counts that do not divide into the kernel's chunks evenly, the maximum in the
    last row / first row."""
    rng = np.random.default_rng(5)
    for rows in (9, 63, 64, 65, 127):
        lt, cb = 11, 512
        src = _table(rng, rows << lt, "small")
        for pos in (0, src.size - 1):
            s = src.copy()
            s[pos] = P_INT + 5
            out = np.empty((4, rows, cb), dtype=np.uint64)
            assert K.mobius_rows_tiles(s, out, lt, cb) == P_INT + 5


def test_shape_errors():
    src = np.zeros(1 << 12, np.uint64)
    with pytest.raises(ValueError):
        K.mobius_rows_tiles(src, np.zeros((4, 3, 512), np.uint64), 11, 512)
    with pytest.raises(ValueError):
        K.mobius_rows_tiles(src, np.zeros((3, 2, 512), np.uint64), 11, 512)
