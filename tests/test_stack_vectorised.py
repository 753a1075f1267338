"""The stack reduction's vectorised helpers (`zklora.zkcore.stack`) equal their
one-claim-at-a-time references: the weights ρ^k and Σ ρ^k v_k (`_weights` vs
`_weights_ref`) and the claims' full points (`_full_points` vs `_full_point`), over
both fields, for claim counts around the doubling steps and mixed block sizes."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import stack


@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
def test_weights_and_points_match_the_references(reg, field):
    E = reg.field(field).ext
    rng = np.random.default_rng(11)
    K = 9
    for count in (1, 7, 8, 9, 16, 33):
        claims = []
        for _ in range(count):
            nv = int(rng.integers(0, K + 1))
            idx = int(rng.integers(0, 1 << (K - nv)))
            claims.append(stack.StackClaim(nv, idx, E.random(rng, nv), E.random(rng, 1)[0]))
        rho = E.random(rng, 1)[0]
        coefs, total = stack._weights(E, rho, claims)
        rc, rt = stack._weights_ref(E, rho, claims)
        assert np.array_equal(np.asarray(coefs), np.asarray(rc))
        assert E.equal(total, rt)
        P = stack._full_points(E, K, claims)
        ref = np.stack([stack._full_point(E, K, c) for c in claims])
        assert np.array_equal(np.asarray(P), np.asarray(ref))
