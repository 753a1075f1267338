"""s34h5: the RMSNorm backward's projected bounds of nc and u (switch
`rmsnorm_backward.TIGHT_BOUNDS`, off by default): the bounds hold for every admissible
(h, n) — checked here on the extremal constructions of the argument, which reach them —
and honest proofs at the extremes still verify."""

from __future__ import annotations

import math

import pytest
import torch

from tests.test_rmsnorm_backward_op import bwd_graph
from zklora.plugins.ops import rmsnorm_backward as rb
from zklora.plugins.ops.rmsnorm import plan_of
from zklora.zkcore import graph as graphlib
from zklora.zkcore.build import find_node
from zklora.zkcore.testing.tamper import assert_rejected, prove_and_verify


def _rs(x: int, k: int) -> int:
    """⌊(x + 2^(k−1))/2^k⌋ (quant.rescale)."""
    return (x + (1 << (k - 1))) >> k


def _spec(h: list[int], n: list[int], s: int, l: int) -> tuple[list[int], list[int]]:
    """nc and u of the backward's integer definition for one row (d = 2^l)."""
    t = sum(a * b for a, b in zip(h, n))
    c = _rs(t, s + l)
    nc = [_rs(x * c, s) for x in n]
    return nc, [a - b for a, b in zip(h, nc)]


def _extremal_row(D: int, norm: float, cos2: float, i: int = 0) -> list[int]:
    """n with n_i = norm·cos θ and the other D − 1 entries equal (norm·sin θ/√(D−1)),
    cos 2θ = ``cos2``: the maximisers of the argument (`projected_bounds`)."""
    c = math.sqrt((1 + cos2) / 2)
    s = math.sqrt((1 - cos2) / 2)
    a = int(norm * c)
    b = int(norm * s / math.sqrt(D - 1))
    return [a if j == i else b for j in range(D)]


@pytest.mark.parametrize("D,s", [(16, 8), (64, 10), (512, 16), (1024, 16)])
def test_projected_bounds_hold_and_are_reached(D, s):
    """On the extremal rows (‖n‖₂ at its bound, h at ±h_max with the worst signs) nc and u
    stay within `projected_bounds` and reach ≥ 0.97 of them (so a smaller formula would
    fail this test); random rows stay within too."""
    d = D
    l = d.bit_length() - 1
    h_max = (1 << (s + 9)) - 3
    n_norm = math.ceil((1 << s) * math.sqrt(d) * 1.02)      # κ ≈ 1.04, as at 25M
    n_max = n_norm
    nc_b, u_b = rb.projected_bounds(h_max, n_max, n_norm, D, d, s)
    # nc: all h_j = h_max·sign(n_j), cos 2θ = 1/√D
    n = _extremal_row(D, n_norm, 1 / math.sqrt(D))
    nc, _ = _spec([h_max] * D, n, s, l)
    assert abs(nc[0]) <= nc_b and abs(nc[0]) >= 0.97 * nc_b
    # u: h_i = h_max, h_j = −h_max (j ≠ i), cos 2θ = −1/√D
    n = _extremal_row(D, n_norm, -1 / math.sqrt(D))
    _, u = _spec([h_max] + [-h_max] * (D - 1), n, s, l)
    assert abs(u[0]) <= u_b and abs(u[0]) >= 0.97 * u_b
    # the old bound of nc is √D·h_max·κ: (1 + √D)/(2√D) of it
    old = h_max * math.sqrt(D) * n_norm ** 2 / (d << (2 * s))
    assert nc_b < ((1 + math.sqrt(D)) / (2 * math.sqrt(D)) + 0.01) * old
    gen = torch.Generator().manual_seed(D)
    for _ in range(200):
        v = torch.randn(D, generator=gen, dtype=torch.float64)
        v[int(torch.randint(D, (1,), generator=gen))] *= float(torch.rand(1, generator=gen)) * 30
        v = v / v.norm() * n_norm * 0.999999
        n = [int(x) for x in v]
        hh = [int(x) for x in torch.randint(-h_max, h_max + 1, (D,), generator=gen)]
        hh = [h_max if x > 0 else -h_max for x in hh] if _ % 2 else hh
        nc, u = _spec(hh, n, s, l)
        assert max(map(abs, nc)) <= nc_b and max(map(abs, u)) <= u_b


def test_kappa_over_two_refused():
    assert rb.projected_bounds(1 << 20, 1 << 12, 1 << 12, 16, 16, 8) is None


def _graph(monkeypatch, on: bool, **kw):
    monkeypatch.setattr(rb, "TIGHT_BOUNDS", on)
    return bwd_graph(**kw)


def test_switch(monkeypatch):
    """Off: the bounds of before; on: nc, u, w tighter, k and every other bound the same."""
    kw = dict(shape=(4, 16), scale=16, grad_scale=24, x_bits=23, dy_bits=26)
    off, _ = _graph(monkeypatch, False, **kw)
    on, _ = _graph(monkeypatch, True, **kw)
    for t in ("nb/nc", "nb/w"):
        lo0, hi0 = off.tensors[t].bound
        lo1, hi1 = on.tensors[t].bound
        assert lo0 < lo1 <= 0 <= hi1 < hi0
        assert hi1 < 0.7 * hi0       # (1 + √16)/(2·√16) = 0.625 for nc
    assert find_node(on, "nb/w/rescale").params["shift"] == \
        find_node(off, "nb/w/rescale").params["shift"]
    for t, spec in off.tensors.items():
        if t not in ("nb/nc", "nb/w"):
            assert on.tensors[t].bound == spec.bound, t


def _extreme_inputs(d: int, which: str) -> dict[str, torch.Tensor]:
    """Model scales (16 / 24), X rows shaped like the extremal n (one entry large, the
    rest equal), γ and dY at their bounds with the signs that maximise nc or u."""
    xm, gm, dm = (1 << 22) - 1, (1 << 18) - 1, (1 << 25) - 1
    cos2 = 1 / math.sqrt(d) if which == "nc" else -1 / math.sqrt(d)
    row = _extremal_row(d, xm, cos2)
    x = torch.tensor([row, [-v for v in row], row, row], dtype=torch.int64)
    x[3] = torch.roll(x[3], 5)
    dy = torch.full((4, d), dm, dtype=torch.int64)
    if which == "u":
        dy[:, 1:] = -dm
        dy[1] = -dy[1]
        dy[3] = torch.roll(dy[3], 5)
    return {"X": x, "g": torch.full((d,), gm, dtype=torch.int64), "dY": dy}


@pytest.mark.parametrize("which", ["nc", "u"])
@pytest.mark.parametrize("d", [16, 64])
def test_complete_at_extremes(gold, reg, monkeypatch, which, d):
    """Honest extremes: the forward (which checks every declared bound) passes, the
    maximised tensor uses most of its tightened bound, and the proof verifies."""
    g, _ = _graph(monkeypatch, True, shape=(4, d), scale=16, grad_scale=24, x_bits=23,
                  dy_bits=26)
    inputs = _extreme_inputs(d, which)
    vals = graphlib.forward(g, inputs, reg)
    pl = plan_of(find_node(g, "n/rsqrt"), d)
    nc_b, u_b = rb.projected_bounds(g.tensors["nb/h"].bound[1], pl.d << 20,
                                    rb.n_pinned_norm(pl), pl.d, pl.n_true, pl.scale)
    got = int(vals[f"nb/{which}"].abs().max())
    assert got <= (nc_b if which == "nc" else u_b)
    assert got > 0.8 * (nc_b if which == "nc" else u_b), (got, nc_b, u_b)
    prove_and_verify(g, inputs, gold)


@pytest.mark.parametrize("t,k", [("nc", 16), ("w", None)])
def test_next_pair_rejected(gold, monkeypatch, t, k):
    """With the tightened boxes the next admissible pairs (Y + 1, R − 2^k) are rejected."""
    g, _ = _graph(monkeypatch, True, shape=(4, 16), scale=16, grad_scale=24, x_bits=23,
                  dy_bits=26)
    k = k or int(find_node(g, "nb/w/rescale").params["shift"])
    inputs = _extreme_inputs(16, "u")

    def tamper(v):
        v[f"nb/{t}"].reshape(-1)[0] += 1
        v[f"nb/{t}_R"].reshape(-1)[0] -= 1 << k

    assert_rejected(g, inputs, gold, {}, tamper)
