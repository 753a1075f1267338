"""MLE tables and coordinate views against brute-force evaluation, on both fields.

Brute force: X̃(r) = Σ_x X[x] · Π_j (r_j x_j + (1 − r_j)(1 − x_j)), variable j = bit j of
the row-major flat index; the views are checked by evaluating the permuted / broadcast /
rotated torch tensor itself.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zklora.plugins.fields.bls12_381 import BLS12_381_FR
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import mle

FIELDS = [GOLDILOCKS.ext, BLS12_381_FR]
IDS = ["goldilocks-ext2", "bls12-381-fr"]


@pytest.fixture(params=FIELDS, ids=IDS)
def E(request):
    return request.param


def brute_eq(E, r, x: int):
    one = E.scalar(1)
    acc = one
    for j in range(E.shape(r)[0]):
        f = r[j] if (x >> j) & 1 else E.sub(one, r[j])
        acc = E.mul(acc, f)
    return acc


def brute_eval(E, X: torch.Tensor, r):
    """Σ_x X[x] eq(r, x) from the definition (X: integer tensor)."""
    flat = E.from_ints(X.reshape(-1))
    acc = E.scalar(0)
    for x in range(X.numel()):
        acc = E.add(acc, E.mul(flat[x], brute_eq(E, r, x)))
    return acc


def ev(E, X: torch.Tensor, r):
    return mle.evaluate(E, E.base.from_ints(X), r, base=True)


@pytest.mark.parametrize("n", [0, 1, 3, 5])
def test_eq_table_and_evaluate(E, n):
    rng = np.random.default_rng(n)
    r = E.random(rng, n)
    tab = mle.eq_table(E, r)
    assert E.length(tab) == 1 << n
    for x in range(1 << n):
        assert E.equal(tab[x], brute_eq(E, r, x))
    assert E.equal(E.sum(tab), E.scalar(1))
    X = torch.randint(-1000, 1000, (1 << n,))
    assert E.equal(ev(E, X, r), brute_eval(E, X, r))
    # on boolean points the MLE is the table itself
    for x in range(1 << n):
        pt = E.from_ints(np.array([(x >> j) & 1 for j in range(n)], dtype=np.int64))
        assert E.equal(ev(E, X, pt.reshape((n,) + E.elem_shape)), E.from_ints(X[x:x + 1])[0])
    if n == 0:
        assert E.equal(mle.eq_eval(E, r, r), E.scalar(1))
    else:
        s = E.random(rng, n)
        assert E.equal(mle.eq_eval(E, r, s), mle.evaluate(E, mle.eq_table(E, r), s))


@pytest.mark.parametrize("n,k", [(1, 1), (4, 0), (4, 2), (5, 5)])
def test_bind(E, n, k):
    rng = np.random.default_rng(10 * n + k)
    r = E.random(rng, n)
    X = torch.randint(-50, 50, (1 << n,))
    bound = mle.bind(E, E.base.from_ints(X), r[:k], base=True)
    assert E.length(bound) == 1 << (n - k)
    assert E.equal(mle.evaluate(E, bound, r[k:]), brute_eval(E, X, r))


def test_evaluate_rejects_size_mismatch(E):
    with pytest.raises(ValueError):
        mle.evaluate(E, E.base.from_ints(np.arange(8)), E.random(np.random.default_rng(0), 2),
                     base=True)
    with pytest.raises(ValueError):
        mle.log2_exact(12)


SHAPES = [(2, 4), (4, 2, 8), (2, 2, 2, 4), (8, 1, 2), (1, 4)]


@pytest.mark.parametrize("shape", SHAPES)
def test_transpose_point(E, shape):
    rng = np.random.default_rng(len(shape))
    X = torch.randint(-99, 99, shape)
    n = mle.num_vars(shape)
    for _ in range(3):
        axes = [int(a) for a in rng.permutation(len(shape))]
        Y = X.permute(axes).contiguous()
        r = E.random(rng, n)
        assert E.equal(ev(E, Y, r), ev(E, X, mle.transpose_point(shape, axes, r)))


BCAST = [((4, 8), 0), ((4, 8), 1), ((2, 4, 8), 1), ((2, 4, 2), 2), ((8, 2, 2), 0)]


@pytest.mark.parametrize("shape,axis", BCAST)
def test_broadcast_point(E, shape, axis):
    rng = np.random.default_rng(axis + 7)
    small = list(shape)
    small[axis] = 1
    X = torch.randint(-99, 99, small)
    Y = X.expand(shape).contiguous()
    r = E.random(rng, mle.num_vars(shape))
    assert E.equal(ev(E, Y, r), ev(E, X, mle.broadcast_point(shape, axis, r)))


def torch_rotate_half(x: torch.Tensor) -> torch.Tensor:
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], dim=-1)


@pytest.mark.parametrize("shape", [(2,), (8,), (4, 8), (2, 2, 16)])
def test_rotate_half_terms(E, shape):
    rng = np.random.default_rng(shape[-1])
    X = torch.randint(-99, 99, shape)
    Y = torch_rotate_half(X)
    for _ in range(2):
        r = E.random(rng, mle.num_vars(shape))
        acc = E.scalar(0)
        for coeff, pt in mle.rotate_half_terms(E, shape, r):
            acc = E.add(acc, E.mul(coeff, ev(E, X, pt)))
        assert E.equal(ev(E, Y, r), acc)
    with pytest.raises(ValueError):
        mle.rotate_half_terms(E, (4, 1), E.random(rng, 2))


def test_axis_vars_convention():
    # the last axis owns the first coordinates
    assert [list(v) for v in mle.axis_vars((4, 2, 8))] == [[4, 5], [3], [0, 1, 2]]
    assert mle.num_vars((4, 2, 8)) == 6
