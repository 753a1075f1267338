"""s35h5: `scratch.Spilled.nbytes` by `math.prod` (a positioned read asks for it) is the
byte count it was (`np.prod` of the shape times the item size), and reads still return
the rows written."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import scratch


@pytest.mark.parametrize("shape", [(), (0,), (1,), (7,), (3, 5), (4096, 128), (2, 0, 3),
                                   (1 << 20, 3, 2)])
@pytest.mark.parametrize("dtype", ["<i1", "<i2", "<i8", "<u8", "<f4"])
def test_nbytes(shape, dtype):
    h = scratch.Spilled("/nonexistent", 0, shape, dtype)
    want = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
    assert h.nbytes == want and type(h.nbytes) is int


def test_nbytes_numpy_dims():
    h = scratch.Spilled("/nonexistent", 0, (np.int64(6), np.int32(5)), "<i2")
    assert h.nbytes == 60 and type(h.nbytes) is int


def test_read_range_roundtrip(tmp_path):
    a = np.arange(-50, 50, dtype=np.int16).reshape(20, 5)
    p = tmp_path / "a.bin"
    a.tofile(p)
    h = scratch.Spilled(str(p), 0, a.shape, a.dtype.str)
    assert np.array_equal(h.read_range(3, 11), a[3:11])
    assert np.array_equal(h.read_range(0, 20), a)
    assert h.read_range(5, 5).shape == (0, 5)
