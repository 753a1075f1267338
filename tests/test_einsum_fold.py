"""`einsum._fold` of a base table whose letters are reordered, computed over blocks of
its first axis (`_vecmat_blocked`, `FOLD_BLOCK_BYTES`) instead of one transposed copy
of the whole table: the same field elements for every letter order (first letter folded
or kept), every block size."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import einsum as ES
from zklora.zkcore import mle

F = GOLDILOCKS
E = F.ext


def _whole(table, term, fixed, bits):
    """The unblocked fold: one transposed copy, one vecmat."""
    fold = [ch for ch in term if ch in fixed]
    rest = "".join(ch for ch in term if ch not in fixed)
    dims = tuple(1 << bits[ch] for ch in term)
    perm = [term.index(ch) for ch in fold] + [term.index(ch) for ch in rest]
    m = np.ascontiguousarray(np.asarray(table).reshape(dims).transpose(perm))
    fpt = ES.join(E, "".join(fold), fixed)
    return E.vecmat(mle.eq_table(E, fpt), m.reshape(1 << len(fpt), -1)), rest


@pytest.mark.parametrize("term,folded", [("nk", "k"), ("nk", "n"), ("abc", "b"),
                                         ("abc", "ac"), ("abc", "a"), ("abc", "c"),
                                         ("abcd", "bd"), ("abcd", "ad")])
@pytest.mark.parametrize("block", [1, 8 * 4, 8 * 64, 1 << 30])
def test_blocked_fold_matches_whole(monkeypatch, term, folded, block):
    monkeypatch.setattr(ES, "FOLD_BLOCK_BYTES", block)
    rng = np.random.default_rng(len(term) * 10 + len(folded))
    bits = {ch: b for ch, b in zip("abcdnk", (3, 2, 4, 1, 5, 3))}
    size = 1 << sum(bits[ch] for ch in term)
    table = F.random(rng, size)
    fixed = {ch: E.random(rng, bits[ch]) for ch in folded}
    got, rest = ES._fold(E, table, term, fixed, bits, True)
    want, rest2 = _whole(table, term, fixed, bits)
    assert rest == rest2 and np.array_equal(got, want)
