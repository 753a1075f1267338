"""s29h6: `claims._w_table` W = Σ_k ρ^k eq(r_k, ·) from `W_BLOCKS_MIN` variables by
`whir_eq.eq_acc_blocks` (all claims a tile at a time, W written once into an
uninitialised table) against the claim-by-claim `sumcheck.eq_acc` into zeros (the path
below the threshold, forced by raising it) and the field-API twin (one `mle.eq_table`
per claim, multiplied and added): the same field elements.  Points and coefficients
with 0, 1, p − 1, p − 2 coordinates; one to six claims; equal points."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import claims, mle
from zklora.zkcore.claims import Claim

E = GOLDILOCKS.ext
P = K.P_INT
EDGE = np.array([[0, 0], [1, 0], [P - 1, 0], [P - 2, 1], [0, P - 1], [P - 1, P - 2]],
                np.uint64)


def _twin(n, coefs, cl):
    w = E.zeros(1 << n)
    for cf, c in zip(coefs, cl):
        w = E.add(w, E.mul(mle.eq_table(E, c.point), cf))
    return w


def _case(rng, n, C, edge):
    pts = E.random(rng, C * n).reshape(C, n, 2)
    coefs = E.random(rng, C)
    if edge:
        for k in range(C):
            pts[k, :min(n, len(EDGE))] = np.roll(EDGE, k, axis=0)[:n]
        coefs[0] = [P - 1, P - 2]
        if C > 1:
            coefs[1] = [1, 0]
            pts[1] = pts[0]       # two claims at one point
    cl = [Claim("t", pts[k], E.scalar(0)) for k in range(C)]
    return coefs, cl


@pytest.mark.parametrize("n", [13, 14, 15, 16])
@pytest.mark.parametrize("C", [1, 2, 3, 6])
@pytest.mark.parametrize("edge", [False, True])
def test_w_table_blocks_match_claim_by_claim_and_twin(n, C, edge, monkeypatch):
    rng = np.random.default_rng(n * 10 + C + edge)
    coefs, cl = _case(rng, n, C, edge)
    got = claims._w_table(E, n, coefs, cl)
    monkeypatch.setattr(claims, "W_BLOCKS_MIN", 99)   # the claim-by-claim kernel
    old = claims._w_table(E, n, coefs, cl)
    assert got.shape == (1 << n, 2) and got.dtype == np.uint64
    assert np.array_equal(got, old)
    assert np.array_equal(got, _twin(n, coefs, cl))
    assert int(got.max()) < P   # canonical


def test_w_table_small_paths(monkeypatch):
    """Below the threshold, at it (forced low) and n = 0: the twin's values."""
    rng = np.random.default_rng(4)
    for n in (0, 1, 3, 8):
        coefs, cl = _case(rng, n, 2, False)
        want = _twin(n, coefs, cl)
        assert np.array_equal(claims._w_table(E, n, coefs, cl), want)
        monkeypatch.setattr(claims, "W_BLOCKS_MIN", 0)
        assert np.array_equal(claims._w_table(E, n, coefs, cl), want)
        monkeypatch.undo()


def test_w_table_depends_on_every_claim():
    """A changed coordinate of the last claim changes W (the pass reads every claim)."""
    rng = np.random.default_rng(6)
    coefs, cl = _case(rng, 15, 3, False)
    a = claims._w_table(E, 15, coefs, cl)
    p2 = cl[2].point.copy()
    p2[14, 0] = (int(p2[14, 0]) + 1) % P
    b = claims._w_table(E, 15, coefs, [cl[0], cl[1], Claim("t", p2, E.scalar(0))])
    assert not np.array_equal(a, b)
