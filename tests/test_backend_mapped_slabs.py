"""The cpu backend's matrix–vector products over a matrix in a read-only scratch map
(issue 14): a large mapped matrix is multiplied a slab of rows at a time, each slab's
pages given back, and the products are the same field elements as the whole-matrix
kernels'."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt as KN
from zklora.plugins.backends import cpu
from zklora.zkcore import scratch

P = (1 << 64) - (1 << 32) + 1


def _file_mib() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[2]) * 4096 / 2**20


@pytest.mark.parametrize("rows,cols,slab", [(1, 5, 8), (7, 3, 8), (64, 33, 8 * 33 * 5),
                                            (100, 16, 1 << 20), (257, 129, 4096)])
def test_mapped_products_equal_in_ram(tmp_path, monkeypatch, rows, cols, slab):
    monkeypatch.setattr(cpu, "MAPPED_SLAB_BYTES", slab)
    rng = np.random.default_rng(rows * cols)
    M = np.asarray(rng.integers(0, P, size=(rows, cols), dtype=np.uint64))
    er = np.asarray(rng.integers(0, P, size=(rows, 2), dtype=np.uint64))
    ec = np.asarray(rng.integers(0, P, size=(cols, 2), dtype=np.uint64))
    be = cpu.CpuBackend()
    want_l, want_r = KN.evec_mat(er, M), KN.mat_evec(M, ec)
    with scratch.session(str(tmp_path)) as s:
        mm = s.build((rows, cols), np.uint64, [(0, M)])
        assert scratch.is_mapped(be.borrow(mm))
        got_l = be.evec_mat(er, be.borrow(mm))
        got_r = be.mat_evec(be.borrow(mm), ec)
    assert np.array_equal(np.asarray(got_l), want_l)
    assert np.array_equal(np.asarray(got_r), want_r)
    # the slab path really ran for the multi-slab cases: tamper one slab's entry and the
    # products change
    if rows * cols * 8 > slab and rows > 1:
        M2 = M.copy()
        M2[rows - 1, 0] ^= np.uint64(1)
        with scratch.session(str(tmp_path)) as s:
            mm = s.build((rows, cols), np.uint64, [(0, M2)])
            assert not np.array_equal(np.asarray(be.evec_mat(er, be.borrow(mm))), want_l)
            assert not np.array_equal(np.asarray(be.mat_evec(be.borrow(mm), ec)), want_r)


def test_mapped_products_give_pages_back(tmp_path, monkeypatch):
    monkeypatch.setattr(cpu, "MAPPED_SLAB_BYTES", 1 << 20)
    rows, cols = 1 << 12, 1 << 11                  # 64 MiB matrix
    M = np.arange(rows * cols, dtype=np.uint64).reshape(rows, cols)
    er = np.ones((rows, 2), np.uint64)
    ec = np.ones((cols, 2), np.uint64)
    be = cpu.CpuBackend()
    with scratch.session(str(tmp_path)) as s:
        mm = s.build((rows, cols), np.uint64, [(0, M)])
        scratch.drop(mm)
        for f, args in ((be.evec_mat, (er, be.borrow(mm))), (be.mat_evec, (be.borrow(mm), ec))):
            before = _file_mib()
            f(*args)
            assert _file_mib() - before < 8        # not the 64 MiB it read
