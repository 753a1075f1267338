"""One-element extension arithmetic of the Goldilocks plugin (Python integers) gives the
kernels' results, and non-canonical input still goes to the kernels."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.plugins.fields.goldilocks import GOLDILOCKS, P
from zklora.zkcore.errors import ProofFormatError

E = GOLDILOCKS.ext
EDGE = [0, 1, 2, 7, P - 1, P - 2, (P - 1) // 2, 1 << 32, (1 << 32) - 1, 1 << 63]


def _kernel(kern, a, b):
    out = np.empty((1, 2), np.uint64)
    kern(a.reshape(1, 2), b.reshape(1, 2), out)
    return out.reshape(2)


def _elems(rng, n):
    out = [np.array([x, y], np.uint64) for x in EDGE for y in EDGE[:4]]
    out += list(E.random(rng, n))
    return out


def test_one_element_ops_match_kernels():
    rng = np.random.default_rng(5)
    xs = _elems(rng, 40)
    ys = _elems(rng, 40)[::-1]
    for a, b in zip(xs, ys, strict=True):
        for op, kern in ((E.add, K.eadd_s), (E.sub, K.esub_s), (E.mul, K.emul_s)):
            got = op(a, b)
            assert got.dtype == np.uint64 and got.shape == (2,)
            assert np.array_equal(got, _kernel(kern, a, b)), (op.__name__, a, b)
            # the same result through the vector path (two copies of the element)
            both = op(np.stack([a, a]), np.stack([b, b]))
            assert np.array_equal(both[0], got)


def test_non_canonical_limbs_take_the_kernel_path():
    a = np.array([P + 3, 5], np.uint64)  # not a field element: the kernel's result
    b = np.array([2, 1], np.uint64)
    for op, kern in ((E.add, K.eadd_s), (E.sub, K.esub_s), (E.mul, K.emul_s)):
        assert np.array_equal(op(a, b), _kernel(kern, a, b))
        assert np.array_equal(op(b, a), _kernel(kern, b, a))


def test_from_int_matches_the_array_path():
    for v in [0, 1, -1, 5, -5, P - 1, P, P + 1, -P, 1 << 63, -(1 << 63), (1 << 64) - 1,
              1 << 70, -(1 << 70), 2**63 - 1]:
        got = E.from_ints(v)
        ref = E.embed(np.array(int(v) % P, dtype=np.uint64))
        assert got.shape == (2,) and got.dtype == np.uint64
        assert np.array_equal(got, ref), v
    for v in [3, -3, 2**62]:  # numpy integers and arrays keep the array path
        assert np.array_equal(E.from_ints(np.int64(v)), E.from_ints(v))
    assert np.array_equal(E.from_ints(True), E.from_ints(1))


def test_decode_rejects_a_limb_at_or_above_p_short_and_long():
    for F, width in ((GOLDILOCKS, 1), (E, 2)):
        for n in (1, 3, 8, 9, 100):  # the short (Python) and the long (numpy) check
            vals = np.arange(n * width, dtype=np.uint64)
            assert np.array_equal(F.decode(vals.astype("<u8").tobytes()).reshape(-1), vals)
            for bad in (P, P + 1, (1 << 64) - 1):
                for pos in (0, n * width - 1):
                    v = vals.copy()
                    v[pos] = bad
                    with pytest.raises(ProofFormatError, match="non-canonical"):
                        F.decode(v.astype("<u8").tobytes())
        assert F.decode(b"").size == 0
