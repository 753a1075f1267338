"""The fixed-point spec (zkcore/quant.py) against float math and at its edges."""

from __future__ import annotations

import math

import pytest
import torch

from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.quant import (
    GOLDILOCKS_P,
    SAFE_MAX,
    Bound,
    BoundError,
    QuantConfig,
    check_bound_fits,
    check_values,
    div_round,
    from_fixed,
    product_bound,
    rescale,
    rescale_unique,
    to_fixed,
)

BLS_R = 0x73EDA753299D7D483339D80809A1D80553BDA402FFFE5BFEFFFFFFFF00000001


def test_to_fixed_rounds_half_up():
    x = torch.tensor([0.5, -0.5, 1.5, -1.5, 2.4999, -2.5001, 0.0, -0.0]) / 2 ** 4
    assert to_fixed(x, 4).tolist() == [1, 0, 2, -1, 2, -3, 0, 0]
    assert to_fixed(1.0, 16).item() == 65536
    assert to_fixed(torch.tensor(-1.0), 16).item() == -65536


def test_to_fixed_against_float():
    x = torch.randn(10000, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 50
    for s in (0, 8, 16, 24):
        q = to_fixed(x, s)
        assert q.dtype == torch.int64
        err = (from_fixed(q, s) - x).abs().max().item()
        assert err <= 2.0 ** -(s + 1) + 1e-12
        assert torch.equal(q, torch.floor(x * 2 ** s + 0.5).to(torch.int64))


def test_to_fixed_errors_name_the_tensor():
    with pytest.raises(ProverError, match="embed: non-finite"):
        to_fixed(torch.tensor([1.0, float("nan")]), 16, name="embed")
    with pytest.raises(ProverError, match="w: value"):
        to_fixed(torch.tensor([2.0 ** 50]), 16, name="w")
    with pytest.raises(ConfigError):
        to_fixed(1.0, 99)


@pytest.mark.parametrize("s", [1, 2, 8, 16, 32])
def test_rescale_identity_and_rounding(s):
    g = torch.Generator().manual_seed(s)
    x = torch.randint(-(1 << 50), 1 << 50, (5000,), generator=g)
    x = torch.cat([x, torch.tensor([0, 1, -1, (1 << (s - 1)), -(1 << (s - 1)),
                                    (1 << (s - 1)) - 1, -(1 << (s - 1)) - 1, 3 << s])])
    y, r = rescale(x, s)
    half = 1 << (s - 1)
    assert torch.equal(x, (y << s) + r - half)           # X = 2^s·Y + R − 2^(s−1)
    assert int(r.min()) >= 0 and int(r.max()) < (1 << s)  # R ∈ [0, 2^s)
    # Y = X / 2^s rounded half up, computed exactly with Python ints
    want = [math.floor((int(v) + half) / (1 << s)) if abs(int(v)) < 2 ** 52 else
            (int(v) + half) // (1 << s) for v in x]
    assert y.tolist() == want
    assert torch.equal(div_round(x, s), y)


def test_rescale_ties_and_errors():
    y, r = rescale(torch.tensor([2, -2, 6, -6, 1, -1]), 2)  # x/4: .5, -.5, 1.5, -1.5, .25, -.25
    assert y.tolist() == [1, 0, 2, -1, 0, 0]
    assert r.tolist() == [0, 0, 0, 0, 3, 1]
    with pytest.raises(ConfigError):
        rescale(torch.tensor([1]), 0)
    with pytest.raises(TypeError):
        rescale(torch.tensor([1.0]), 4)
    with pytest.raises(ProverError, match="too large"):
        rescale(torch.tensor([SAFE_MAX]), 16)


def test_bound_arithmetic():
    a, b = Bound(-3, 5), Bound(2, 4)
    assert a + b == Bound(-1, 9)
    assert a - b == Bound(-7, 3)
    assert a * b == Bound(-12, 20)
    assert -a == Bound(-5, 3)
    assert a * -2 == Bound(-10, 6)
    assert a.dot(b, 10) == Bound(-120, 200)
    assert Bound.bits(8) == Bound(-128, 127) and Bound.bits(8, signed=False) == Bound(0, 255)
    assert Bound.of_real(1.0, 16) == Bound(-65536, 65536)
    assert Bound(-5, 11).rescaled(2) == Bound(-1, 3)
    assert Bound(0, 9).width == 10
    assert Bound(-2, 2).contains(torch.tensor([-2, 0, 2]))
    assert not Bound(-2, 2).contains(torch.tensor([3]))
    with pytest.raises(ConfigError):
        Bound(1, 0)
    # brute force: products/sums of values in the bounds stay inside
    xs = torch.arange(a.lo, a.hi + 1)
    ys = torch.arange(b.lo, b.hi + 1)
    assert (a * b).contains((xs[:, None] * ys[None, :]).reshape(-1))


def test_overflow_checks_name_the_tensor():
    act = Bound.of_real(64.0, 16)            # |x| ≤ 2^22
    w = Bound.of_real(4.0, 16)               # |w| ≤ 2^18
    assert product_bound("q_proj", act, w, 4096).max_abs < SAFE_MAX  # 2^52
    with pytest.raises(BoundError, match="tensor scores"):
        product_bound("scores", Bound.of_real(2.0 ** 20, 16), Bound.of_real(2.0 ** 20, 16), 64)
    assert SAFE_MAX < GOLDILOCKS_P // 2 and SAFE_MAX < 2 ** 63
    check_bound_fits("x", Bound.symmetric(SAFE_MAX))
    with pytest.raises(BoundError, match="tensor x"):
        check_bound_fits("x", Bound.symmetric(SAFE_MAX + 1))
    with pytest.raises(BoundError, match="tensor small"):
        check_bound_fits("small", Bound.symmetric(1 << 40), p=(1 << 61) - 1 >> 20)
    check_bound_fits("big", Bound.symmetric(SAFE_MAX), p=BLS_R)
    with pytest.raises(ProverError, match="tensor h: value 9"):
        check_values("h", torch.tensor([1, 9]), Bound(0, 8))


def test_rescale_uniqueness_condition():
    p = GOLDILOCKS_P
    rescale_unique("y", Bound.bits(40), 16, p)       # 2^16·2^40 < p
    with pytest.raises(BoundError, match="tensor y"):
        rescale_unique("y", Bound.bits(49), 16, p)   # 2^16·2^49 > p
    # brute force on a toy prime: the condition is exact
    q, s = 97, 3
    for width in (12, 13):
        box = [(yy, rr) for yy in range(width) for rr in range(1 << s)]
        images = {((1 << s) * yy + rr) % q for yy, rr in box}
        assert (len(images) == len(box)) == ((1 << s) * width <= q)


def test_quant_config():
    c = QuantConfig()
    assert (c.weight_scale, c.act_scale) == (20, 16)  # docs/fidelity.md: weights at 2^−20
    assert QuantConfig.from_dict({"grad_scale": 28}).grad_scale == 28
    assert QuantConfig.from_dict(c.to_dict()) == c
    with pytest.raises(ConfigError, match="grad_scale"):
        QuantConfig(grad_scale=0)
    with pytest.raises(ConfigError, match="unknown quant keys"):
        QuantConfig.from_dict({"weights": 16})
    with pytest.raises(ConfigError):
        QuantConfig(act_scale=True)
