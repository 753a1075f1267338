"""`K.e_matvec_base` (M·e without transposing M) against its Python twin and against
`vecmat` of the transposed copy; `einsum._vecmat_blocked`'s copy-free paths
(`_fold_runs`: vecmat, matvec, a vecmat per plane) against one transposed copy and one
`vecmat`, for every letter order, axes of length 1, and the fallback."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import einsum as ES
from zklora.zkcore import mle
from zklora.zkcore.field import Field

F = GOLDILOCKS
E = F.ext


@pytest.mark.parametrize("P,Q", [(1, 1), (1, 17), (3, 5), (5, 16), (7, 33), (64, 64),
                                 (65, 31), (130, 4), (4096, 3)])
def test_matvec_kernel_twin(P, Q):
    rng = np.random.default_rng(P * 1000 + Q)
    M = F.random(rng, P * Q).reshape(P, Q)
    M[0, 0] = F.p - 1 if P * Q else 0
    e = E.random(rng, Q)
    out = np.empty((P, 2), np.uint64)
    K.e_matvec_base(e, M, out)
    assert np.array_equal(out, E.vecmat(e, np.ascontiguousarray(M.T)))
    if P * Q <= 4096:
        assert np.array_equal(out, K.matvec_ref(e, M))
    assert np.array_equal(E.matvec(e, M), out)
    # the generic field method (the transposed copy)
    assert np.array_equal(Field.matvec(E, e, M), out)


@pytest.mark.parametrize("shape,fold,want", [
    ((4, 8), [1], (4, 8, 1)), ((4, 8), [0], (1, 4, 8)), ((4, 8), [0, 1], (1, 32, 1)),
    ((1, 1, 32, 4), [0, 1, 3], (32, 4, 1)), ((1, 4, 1, 16, 16), [4], (64, 16, 1)),
    ((4, 1, 16, 16), [1, 2], (4, 16, 16)), ((4, 16, 16), [1], (4, 16, 16)),
    ((4, 16, 16), [0, 2], None), ((4, 16, 16), [2, 1], None), ((4, 1, 2), [1], None)])
def test_fold_runs(shape, fold, want):
    assert ES._fold_runs(shape, fold) == want


def _whole(table, term, fixed, bits):
    fold = [ch for ch in term if ch in fixed]
    dims = tuple(1 << bits[ch] for ch in term)
    perm = [term.index(ch) for ch in fold] + [term.index(ch) for ch in term
                                              if ch not in fixed]
    m = np.ascontiguousarray(np.asarray(table).reshape(dims).transpose(perm))
    fpt = ES.join(E, "".join(fold), fixed)
    return E.vecmat(mle.eq_table(E, fpt), m.reshape(1 << len(fpt), -1))


def _cases():
    for term in ("nk", "abc", "abcd"):
        for r in range(1, len(term) + 1):
            for folded in itertools.combinations(term, r):
                yield term, "".join(folded)


@pytest.mark.parametrize("split", [0, 2, 256])
@pytest.mark.parametrize("ones", ["", "b", "ad"])
@pytest.mark.parametrize("term,folded", list(_cases()))
def test_fold_copy_free(monkeypatch, term, folded, ones, split):
    monkeypatch.setattr(ES, "SPLIT_ROWS", split)
    monkeypatch.setattr(ES, "COPY_FREE_MIN", 0 if split != 256 else 1 << 12)
    monkeypatch.setattr(ES, "SPLIT_MIN", 0 if split != 2 else 1 << 30)
    monkeypatch.setattr(ES, "MATVEC_MIN", 1 if split != 2 else 16)
    rng = np.random.default_rng(len(term) * 100 + len(folded) * 10 + len(ones))
    bits = {ch: b for ch, b in zip("abcdnk", (3, 2, 4, 1, 5, 3))}
    bits.update({ch: 0 for ch in ones})
    size = 1 << sum(bits[ch] for ch in term)
    table = F.random(rng, size)
    fixed = {ch: E.random(rng, bits[ch]) for ch in folded}
    if not any(bits[ch] for ch in folded):
        return      # nothing to fold: `_fold` keeps the table
    got, rest = ES._fold(E, table, term, fixed, bits, True)
    assert rest == "".join(ch for ch in term if ch not in fixed)
    assert np.array_equal(got, _whole(table, term, fixed, bits))


@pytest.mark.parametrize("R,C", [(1, 1), (3, 13), (5, 40), (17, 2050), (64, 512),
                                 (130, 1025), (1024, 64)])
@pytest.mark.parametrize("nchunks", [1, 2, 3, 8])
def test_vecmat_rows_kernel(R, C, nchunks):
    rng = np.random.default_rng(R * 7919 + C + nchunks)
    M = F.random(rng, R * C).reshape(R, C)
    M.flat[0] = F.p - 1
    e = E.random(rng, R)
    out = np.empty((C, 2), np.uint64)
    K.e_vecmat_rows(e, M, out, min(nchunks, R))
    base = np.empty((C, 2), np.uint64)
    K.e_vecmat_base(e, M, base)
    assert np.array_equal(out, base)
    if R * C <= 4096:
        assert np.array_equal(out, K.vecmat_ref(e, M))


@pytest.mark.parametrize("R,C", [(64, 512), (512, 64), (256, 1024), (8, 1 << 13)])
def test_field_vecmat_paths(monkeypatch, R, C):
    from zklora.plugins.fields import goldilocks as G
    rng = np.random.default_rng(R + C)
    M = F.random(rng, R * C).reshape(R, C)
    e = E.random(rng, R)
    monkeypatch.setattr(G, "VECMAT_ROWS", 1 << 40)
    a = E.vecmat(e, M)
    monkeypatch.setattr(G, "VECMAT_ROWS", 0)
    monkeypatch.setattr(G, "VECMAT_MIN_ROWS", 0)
    assert np.array_equal(E.vecmat(e, M), a)
