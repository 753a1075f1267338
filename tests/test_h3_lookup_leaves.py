"""The LogUp-GKR prover's lookup leaves (`_Trees._fill` / `_look_range` / `_look_into`),
written in place for every challenge set at once, against a direct computation: column
segments, a padding-row segment, and the stack's padding (leaves 1) after it, over any
sub-range (a padding row followed by stack padding once got the padding row's leaf)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.plugins.lookups import logup_gkr as L
from zklora.zkcore.plugins import registry

F = registry().field("goldilocks")
E = F.ext


def _trees(top: int, rng):
    k = 1 << top
    coefs = [E.random(rng, 2) for _ in range(k)]
    betas = [[E.random(rng, ()), E.random(rng, ())] for _ in range(k)]
    cs = [SimpleNamespace(table=SimpleNamespace(width=1)),
          SimpleNamespace(table=SimpleNamespace(width=2))]
    t = L._Trees.__new__(L._Trees)
    t.ctx, t.cs, t.coefs, t.betas, t.top = SimpleNamespace(E=E, F=F), cs, coefs, betas, top
    c0 = F.random(rng, 6)
    c1, c2 = F.random(rng, 4), F.random(rng, 4)
    # leaves of one set: 0-5 table 0's column, 6-7 its padding row 3, 8-11 table 1's two
    # columns, 12-13 table 1's padding row (5, 9), 14-31 the stack's padding (ones)
    segs = [(0, 6, [c0], 0), (6, 2, [3], 0), (8, 4, [c1, c2], 1), (12, 2, [5, 9], 1)]
    want = np.zeros((32, k, 2), np.uint64)
    want[:, :, 0] = 1
    for r in range(k):
        want[0:6, r] = KL.leaf_denoms(E, [c0], coefs[r][:1], betas[r][0])
        want[6:8, r] = KL.leaf_denoms(E, [F.from_ints(np.array([3]))], coefs[r][:1],
                                      betas[r][0])[0]
        want[8:12, r] = KL.leaf_denoms(E, [c1, c2], coefs[r][:2], betas[r][1])
        want[12:14, r] = KL.leaf_denoms(E, [F.from_ints(np.array([5])),
                                            F.from_ints(np.array([9]))], coefs[r][:2],
                                        betas[r][1])[0]
    return t, segs, want.reshape(32 * k, 2)


@pytest.mark.parametrize("top", [0, 1, 2])
def test_leaves_match_direct_computation_on_every_range(top):
    rng = np.random.default_rng(top)
    t, segs, want = _trees(top, rng)
    k = 1 << top
    n = 32 * k
    for lo, hi in [(0, n), (0, 7 * k), (7 * k, 13 * k), (13 * k, n), (12 * k, 14 * k),
                   (5 * k, 9 * k), (20 * k, n), (k, 2 * k)]:
        _, q = t._look_range(segs, lo, hi)
        assert np.array_equal(q, want[lo:hi]), (lo, hi)
        out = np.full((hi - lo, 2), 77, np.uint64)
        t._look_into(segs, lo, hi, out)
        assert np.array_equal(out, want[lo:hi]), (lo, hi)
    if top:   # a range not aligned to the challenge sets: copied, same leaves
        _, q = t._look_range(segs, 1, 6 * k + 1)
        assert np.array_equal(q, want[1:6 * k + 1])
        out = np.empty((6 * k, 2), np.uint64)
        t._look_into(segs, 1, 6 * k + 1, out)
        assert np.array_equal(out, want[1:6 * k + 1])
