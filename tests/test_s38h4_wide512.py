"""s38h4: the opening's kernels in `whir_eq` / `whir_open` marked "prefer-vector-width"=
"512" (`jit_util._wide512`, first thing in every prange body): each marked kernel has
one mark a parallel loop, and an uncached compile of the marked kernels with the
measured gains (`_eq_acc_blocks`: `eq_rows` x0.77 CPU; `_combine_ext`:
`eq_combination` x0.82) carries the mark in its LLVM IR and gives the Python twins'
values through the public functions."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
from numba import njit

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as QO

MARK = '"prefer-vector-width"="512"'
P = (1 << 64) - (1 << 32) + 1

MARKED = [(QE, n) for n in ("_combine_ifma", "_combine_ext", "_eq_acc_blocks",
                            "_fold_pair_sums", "_fold_eq", "_fold_eq_ifma", "_seg_dots",
                            "_seg_rows_ifma", "_seg_fin")] + \
         [(QO, n) for n in ("_lincomb_fold", "_split_rows", "_split_rows_ifma")]


@pytest.mark.parametrize("mod,name", MARKED, ids=[n for _, n in MARKED])
def test_every_parallel_loop_marked(mod, name):
    src = inspect.getsource(getattr(mod, name).py_func)
    loops = re.findall(r"^( *)for \w+ in prange\(.*\n\1    _wide512\(\)", src, re.M)
    assert len(loops) == src.count("prange(") >= 1, name


def _fresh(f):
    return njit(cache=False, nogil=True, fastmath=False, parallel=True)(f.py_func)


def _ir(f):
    return "\n".join(f.inspect_llvm().values())


def _rand(rng, shape):
    return rng.integers(0, P, size=tuple(shape) + (2,), dtype=np.uint64)


def test_eq_acc_blocks_fresh_marked_and_twin(monkeypatch):
    rng = np.random.default_rng(38)
    m, q = 10, 14
    nvs = [int(x) for x in rng.integers(0, m + 1, q)]
    offs = [int(rng.integers(0, 1 << (m - n))) << n for n in nvs]
    pts = _rand(rng, (q, m))
    coefs = _rand(rng, (q,))
    out = _rand(rng, (1 << m,))
    want = QE.eq_acc_blocks_ref(pts, nvs, offs, coefs, out, False)
    fresh = _fresh(QE._eq_acc_blocks)
    monkeypatch.setattr(QE, "_eq_acc_blocks", fresh)
    got = out.copy()
    QE.eq_acc_blocks(pts, nvs, offs, coefs, got, tile_vars=4)
    assert np.array_equal(got, want)
    assert _ir(fresh).count(MARK) >= 2   # both parallel bodies


def test_combine_ext_fresh_marked_and_twin(monkeypatch):
    rng = np.random.default_rng(381)
    m, q = 9, 3
    pts = _rand(rng, (q, m))
    coefs = _rand(rng, (q,))
    out = _rand(rng, (1 << m,))
    want = QE.eq_combination_ref(out, pts, coefs)
    fresh = _fresh(QE._combine_ext)
    monkeypatch.setattr(QE, "_combine_ext", fresh)
    got = out.copy()
    QE.eq_combination(got, pts, coefs)
    assert np.array_equal(got, want)
    A, B, a = QE.eq_split(pts, coefs)
    assert np.array_equal(QE.eq_rows(A, B, a, 0, 1 << m),
                          QE.eq_combination_ref(np.zeros_like(out), pts, coefs))
    assert MARK in _ir(fresh)
