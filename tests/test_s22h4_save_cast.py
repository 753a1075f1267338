"""`scratch.Store.save` with `scratch.Cast` entries (stored as a narrower integer type a
block at a time) and the witness spill that uses it: same integers back, same layout as
converting first."""

import numpy as np
import pytest
import torch

from zklora.zkcore import graph, scratch


@pytest.mark.parametrize("n", [1, 7, scratch._SAVE_BLOCK, 2 * scratch._SAVE_BLOCK + 3])
def test_cast_entries_read_back_the_same_integers(n):
    rng = np.random.default_rng(n)
    arrays, want = [], []
    for dt in graph._NARROW:
        info = np.iinfo(dt)
        a = rng.integers(info.min, int(info.max) + 1, n, dtype=np.int64)
        a[: min(n, 2)] = [info.min, info.max][: min(n, 2)]
        arrays.append(scratch.Cast(a.reshape(n, 1), dt))
        want.append((a.reshape(n, 1), dt))
        plain = rng.integers(-(1 << 62), 1 << 62, n, dtype=np.int64)
        arrays.append(plain)
        want.append((plain, np.dtype(np.int64)))
    with scratch.session() as store:
        hs = store.save(arrays, tag="t")
        for h, (a, dt) in zip(hs, want):
            assert h.dtype == np.dtype(dt).str and h.shape == a.shape
            got = h.read_range(0, h.shape[0])
            assert got.dtype == dt
            assert np.array_equal(got.astype(np.int64), a)
        # the same bytes as converting first and writing the converted arrays
        ref = store.save([a.astype(dt) for a, dt in want], tag="r")
        assert open(hs[0].path, "rb").read() == open(ref[0].path, "rb").read()
        assert [(h.offset, h.shape, h.dtype) for h in hs] == \
            [(h.offset, h.shape, h.dtype) for h in ref]


def test_witness_spill_narrows_and_reads_back_int64():
    vals = {"u8": torch.tensor([0, 1, 255, 7]), "i8": torch.tensor([-128, 127, 0]),
            "u16": torch.tensor([0, 65535]), "i16": torch.tensor([-32768, 32767]),
            "u32": torch.tensor([0, (1 << 32) - 1]), "i32": torch.tensor([-(1 << 31), 5]),
            "i64": torch.tensor([-(1 << 63), (1 << 63) - 1, 0]),
            "m": torch.arange(12).reshape(3, 4).t()}     # not contiguous
    kinds = {"u8": "|u1", "i8": "|i1", "u16": "<u2", "i16": "<i2", "u32": "<u4",
             "i32": "<i4", "i64": "<i8", "m": "|u1"}
    with scratch.session():
        w = graph.Witness({k: v.clone() for k, v in vals.items()})
        assert sorted(w.spill(list(vals), force=True)) == sorted(vals)
        for k, v in vals.items():
            assert w._disk[k].dtype == kinds[k]
            got = w[k]
            assert got.dtype == torch.int64 and torch.equal(got, v)
