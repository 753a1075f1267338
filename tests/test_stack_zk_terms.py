"""The ZK verifier's batched helpers for multi-term stack claims (`zklora.zkcore.stack`)
equal their one-at-a-time forms: `_term_key`'s one-array bytes equal the generic
per-term encoding, `_expand` gives the coefficients and (num_vars, index, point) per
expanded entry of the per-term construction, and `mle.eq_eval` (pairwise products)
the coordinate-by-coordinate product; over both fields."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import mle, stack


def _claims(E, rng, K, count):
    out = []
    for k in range(count):
        nv = int(rng.integers(0, K + 1))
        terms = []
        for _ in range(int(rng.integers(0, 4)) if k % 3 else 0):
            tn = int(rng.integers(0, K + 1))
            terms.append(stack.StackTerm(tn, int(rng.integers(0, 1 << (K - tn))),
                                         E.random(rng, tn), E.random(rng, 1)[0]))
        out.append(stack.StackClaim(nv, int(rng.integers(0, 1 << (K - nv))),
                                    E.random(rng, nv), E.random(rng, 1)[0], tuple(terms)))
    return out


@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
def test_term_keys_and_expansion_match_the_references(reg, field, monkeypatch):
    E = reg.field(field).ext
    rng = np.random.default_rng(5)
    K = 8
    claims = _claims(E, rng, K, 40)
    fast = [stack._term_key(E, c) for c in claims]
    monkeypatch.setattr(stack, "_RAW_U64", frozenset())
    assert fast == [stack._term_key(E, c) for c in claims]
    coefs, _ = stack._weights(E, E.random(rng, 1)[0], claims)
    cf, out = stack._expand(E, coefs, claims)
    want_cf, want = [], []
    for k, c in enumerate(claims):
        want_cf.append(coefs[k])
        want.append((c.num_vars, c.index, c.point))
        for t in c.terms:
            want_cf.append(E.mul(coefs[k], t.coefficient))
            want.append((t.num_vars, t.index, t.point))
    assert np.array_equal(np.asarray(cf), np.asarray(np.stack(want_cf)))
    assert len(out) == len(want)
    for o, (nv, idx, pt) in zip(out, want):
        assert (o.num_vars, o.index) == (nv, idx)
        assert np.array_equal(np.asarray(o.point), np.asarray(pt))
    assert np.array_equal(np.asarray(stack._full_points(E, K, out)),
                          np.stack([stack._full_point(E, K, o) for o in out]))


@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
def test_eq_eval_matches_the_product(reg, field):
    E = reg.field(field).ext
    rng = np.random.default_rng(7)
    for n in (0, 1, 2, 3, 5, 8, 13):
        a, b = E.random(rng, n), E.random(rng, n)
        one = E.scalar(1)
        want = one
        for j in range(n):
            want = E.mul(want, E.add(E.mul(a[j], b[j]),
                                     E.mul(E.sub(one, a[j]), E.sub(one, b[j]))))
        assert E.equal(mle.eq_eval(E, a, b), want)
