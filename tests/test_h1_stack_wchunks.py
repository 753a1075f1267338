"""`stack._WChunks` (the streamed reduction's W chunks, per-claim work vectorised)
against the per-claim reference `stack._w_chunk`: every chunk of a stack with blocks
larger than the chunk, smaller than the pass's 2^j, in between, and of one entry, at
every pass j < c (the same field elements)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import stack


@pytest.mark.parametrize("seed,c", [(1, 3), (2, 4), (3, 5)])
def test_wchunks_equal_reference(reg, seed, c):
    E = reg.field("goldilocks").ext
    rng = np.random.default_rng(seed)
    sizes = [1 << s for s in (9, 8, 6, 5, 4, 3, 3, 2, 1, 0, 0, 5, 7)]
    lay = stack.StackLayout(sizes)
    K = lay.num_vars
    claims = []
    for i in range(len(sizes)):
        for _ in range(int(rng.integers(1, 4))):
            b = lay.block(i)
            claims.append(stack.StackClaim(b.num_vars, b.index,
                                           E.random(rng, b.num_vars), E.random(rng, ())))
    rng.shuffle(claims)
    coefs = E.random(rng, len(claims))
    offs = np.array([cl.index << cl.num_vars for cl in claims], dtype=np.int64)
    ends = offs + np.array([1 << cl.num_vars for cl in claims], dtype=np.int64)
    wc = stack._WChunks(E, c, coefs, claims, offs, ends)
    for j in range(c):
        rs = E.random(rng, j) if j else None
        wc.coefficients(rs)
        for lo in range(0, 1 << K, 1 << c):
            ref = stack._w_chunk(E, c, lo, coefs, claims, offs, ends, rs=rs)
            assert np.array_equal(wc.chunk(lo), ref), (j, lo)
