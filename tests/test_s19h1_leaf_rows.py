"""`_BlockLeaves.read_rows` of an opening's few leaves (`whir._read_rows_paged`: the
pages holding them read with direct I/O where taken, several reads in flight) against
the rows themselves and the memory-map read."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch


@pytest.mark.parametrize("shape,S,per,offset", [((4096, 16), 1024, 256, 0),
                                                ((2048, 8, 2), 512, 64, 0),
                                                ((3000, 3), 1000, 200, 40),
                                                ((512, 1024), 128, 32, 4096)])
@pytest.mark.parametrize("direct", [True, False])
def test_rows(tmp_path, monkeypatch, shape, S, per, offset, direct):
    monkeypatch.setattr(W, "DIRECT_IO", direct)
    rng = np.random.default_rng(shape[0] + offset)
    X = rng.integers(0, 2**63, size=shape, dtype=np.uint64)
    h = W._BlockLeaves(str(tmp_path / "leaves"), offset, shape, np.dtype(np.uint64).str,
                       S, per)
    Fl = np.empty_like(X)
    Fl[h._rows(np.arange(shape[0]))] = X
    with open(h.path, "wb") as f:
        f.write(b"\x07" * offset)
        f.write(Fl.tobytes())
    L = shape[0]
    for idx in [np.arange(0, L, 7), np.sort(rng.choice(L, 60, replace=False)),
                rng.integers(0, L, 50), np.array([L - 1, 0, L - 1]), np.array([3]),
                np.zeros(0, dtype=np.int64)]:
        got = h.read_rows(idx)
        assert got.shape == (len(idx),) + shape[1:]
        assert (got == X[idx]).all()
        assert (got == scratch.Spilled.read_rows(h, h._rows(idx))).all()
    assert (h.read_range(5, 5 + per + 3) == X[5:5 + per + 3]).all()
    assert (h.load() == X).all()


def test_truncated(tmp_path):
    h = W._BlockLeaves(str(tmp_path / "leaves"), 0, (1024, 4), np.dtype(np.uint64).str,
                       256, 64)
    with open(h.path, "wb") as f:
        f.write(b"\0" * 8192)
    with pytest.raises(W.ProverError):
        h.read_rows(np.array([1000]))
