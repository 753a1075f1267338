"""RMSNorm backward (`add_rmsnorm_backward`): completeness under both fields, tamper
rejection of every advice/output tensor, consistent cheats, proof-byte flips, bound
errors, extreme honest inputs within the declared bounds, and accuracy against torch
autograd in float64 on the same quantised forward."""

from __future__ import annotations

import attrs
import pytest
import torch

from zklora.plugins.ops.rmsnorm import ROW_TENSORS, add_rmsnorm, plan_of, rsqrt_forward
from zklora.plugins.ops.rmsnorm_backward import (
    MEAN_BITS,
    add_rmsnorm_backward,
    find_node,
    mant_shift,
    mean_constants,
    r_pinned_max,
)
from zklora.zkcore import graph as graphlib
from zklora.zkcore import quant
from zklora.zkcore.errors import ConfigError
from zklora.zkcore.graph import Graph
from zklora.zkcore.quant import Bound, to_fixed
from zklora.zkcore.testing.tamper import assert_flips_rejected, assert_rejected, bump

#: proof tests: activations at scale 8, gradients at 12, 8-bit limbs (small tables)
S, SG = 8, 12
EPS = 1e-6


def bwd_graph(shape=(4, 16), scale=S, grad_scale=SG, x_bits=None, dy_bits=None,
              dgamma=False, limb_bits=None):
    d = shape[-1]
    g = Graph()
    g.tensor("X", shape, "committed", Bound.bits(x_bits or scale + 5).as_tuple())
    g.tensor("g", (d,), "committed", Bound.bits(scale + 3).as_tuple())
    g.tensor("dY", shape, "committed", Bound.bits(dy_bits or grad_scale + 3).as_tuple())
    y = add_rmsnorm(g, "n", "X", "g", eps=EPS, scale=scale,
                    limb_bits=limb_bits or (8 if scale == S else 16))
    out = add_rmsnorm_backward(g, "nb", "n", "dY", dgamma=dgamma)
    outs = list(out) if dgamma else [out]
    g.outputs = [y, *outs]
    return g, outs


def wit(shape=(4, 16), seed=0, scale=S, grad_scale=SG, amp=3.0, dy_amp=1.0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=gen, dtype=torch.float64) * amp
    x.reshape(-1, shape[-1])[0] = 0.0  # zero row: r from ε alone (its largest value)
    x.reshape(-1, shape[-1])[1] *= 1e-2  # a small-rms row
    gm = 1 + 0.2 * torch.randn(shape[-1], generator=gen, dtype=torch.float64)
    dy = torch.randn(shape, generator=gen, dtype=torch.float64) * dy_amp
    return {"X": to_fixed(x, scale), "g": to_fixed(gm, scale), "dY": to_fixed(dy, grad_scale)}


def eps_eff(g: Graph, d: int, scale: int) -> float:
    """The ε the integer forward really uses: E0/(d·2^2s)."""
    return find_node(g, "n/rsqrt").params["e0"] / (d * 4.0 ** scale)


def autograd_ref(inputs, eps, scale, grad_scale):
    """dX, dγ of transformers' LlamaRMSNorm in float64 at the quantised inputs."""
    x = (inputs["X"].double() / 2 ** scale).requires_grad_(True)
    gm = (inputs["g"].double() / 2 ** scale).requires_grad_(True)
    y = gm * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))
    y.backward(inputs["dY"].double() / 2 ** grad_scale)
    return x.grad, gm.grad




@pytest.mark.parametrize("shape", [(4, 16), pytest.param((2, 2, 8), marks=pytest.mark.slow)])
def test_rmsnorm_backward_complete(be, shape):
    g, _ = bwd_graph(shape)
    inputs = wit(shape, seed=len(shape))
    stream, sections = graphlib.prove(g, inputs, be, {})
    graphlib.verify(g, stream, be, {}, sections)


def test_rmsnorm_backward_complete_dgamma(gold):
    g, _ = bwd_graph((2, 2, 8), dgamma=True)
    inputs = wit((2, 2, 8), seed=3)
    stream, sections = graphlib.prove(g, inputs, gold, {})
    graphlib.verify(g, stream, gold, {}, sections)


def test_rmsnorm_backward_complete_model_scale(gold):
    """The model's scales: activations 2^16, gradients 2^24, 16-bit limbs, d = 64."""
    g, _ = bwd_graph((8, 64), scale=16, grad_scale=24, x_bits=16 + 7)
    inputs = wit((8, 64), seed=5, scale=16, grad_scale=24)
    stream, sections = graphlib.prove(g, inputs, gold, {})
    graphlib.verify(g, stream, gold, {}, sections)


#: a representative subset runs by default; the rest (same code paths) under -m slow
_FAST = {"h", "c", "nc_R", "w", "dX", "dgamma"}


@pytest.mark.parametrize("which", [
    pytest.param(w, marks=() if w in _FAST else pytest.mark.slow)
    for w in ["h", "h_R", "c", "c_R", "nc", "nc_R", "w", "w_R", "dX", "dX_R", "dgamma",
              "dgamma_R"]])
def test_rmsnorm_backward_tampered_tensor_rejected(gold, which):
    """Every advice/output tensor of the backward one element off by one ⇒ rejected."""
    g, _ = bwd_graph(dgamma=True)
    inputs = wit()

    def tamper(values):
        values[f"nb/{which}"].reshape(-1)[2] += 1

    assert_rejected(g, inputs, gold, {}, tamper)


def _rescale(values, name, x, k):
    """Set ``name`` and ``name_R`` to the rescale of ``x`` by k (the spec)."""
    half = 1 << (k - 1)
    values[name] = (x + half) >> k
    values[f"{name}_R"] = x + half - (values[name] << k)


@pytest.mark.parametrize("which", ["c", "w", "dX"])
def test_rmsnorm_backward_consistent_rescale_cheat_rejected(gold, which):
    """(Y + 1, R − 2^shift) keeps the rescale's linear relation; R's range check rejects.
    Everything after Y (committed and virtual) is recomputed consistently."""
    g, _ = bwd_graph()
    inputs = wit()
    pl = plan_of(find_node(g, "n/rsqrt"), 16)
    k = mant_shift(pl)
    shift = {"c": S + 4, "w": k, "dX": pl.r_scale - k}[which]

    def tamper(values):
        values[f"nb/{which}"].reshape(-1)[1] += 1
        values[f"nb/{which}_R"].reshape(-1)[1] -= 1 << shift
        if which == "c":
            values["nb/nc2"] = values["n/xr"] * values["nb/c"]
            _rescale(values, "nb/nc", values["nb/nc2"], S)
            values["nb/u"] = values["nb/h"] - values["nb/nc"]
            values["nb/w2"] = values["n/rM"] * values["nb/u"]
            _rescale(values, "nb/w", values["nb/w2"], k)
        if which in ("c", "w"):
            values["nb/dx2"] = values["nb/w"] * values["n/H"]
            _rescale(values, "nb/dX", values["nb/dx2"], pl.r_scale - k)

    msg = assert_rejected(g, inputs, gold, {}, tamper)
    assert "range" in msg or "LogUp" in msg, msg  # R's range check (batched: no name)


def test_rmsnorm_backward_proof_bytes_tampered(gold):
    g, _ = bwd_graph()
    inputs = wit()
    stream, sections = graphlib.prove(g, inputs, gold, {})
    assert_flips_rejected(g, stream, sections, gold, count=12, start=11, bit=0x08)


def test_rmsnorm_backward_config_errors():
    # w·H would pass 2^63 at the default k: k is raised just enough (one bit here)
    g, _ = bwd_graph((4, 64), scale=16, grad_scale=24, x_bits=27, dy_bits=24 + 13)
    pl = plan_of(find_node(g, "n/rsqrt"), 64)
    assert find_node(g, "nb/w/rescale").params["shift"] == mant_shift(pl) + 1
    with pytest.raises(ConfigError, match=r"nb/t"):
        bwd_graph((4, 64), scale=16, grad_scale=24, x_bits=27, dy_bits=24 + 16)
    g = Graph()
    g.tensor("X", (4, 16), "committed", Bound.bits(13).as_tuple())
    g.tensor("g", (16,), "committed", Bound.bits(11).as_tuple())
    g.tensor("dY", (4, 16), "virtual")
    g.tensor("dY8", (4, 8), "committed", (-10, 10))
    add_rmsnorm(g, "n", "X", "g", eps=EPS, scale=S)
    with pytest.raises(ConfigError, match="dY needs a declared bound"):
        add_rmsnorm_backward(g, "nb", "n", "dY")
    with pytest.raises(ConfigError, match="shape"):
        add_rmsnorm_backward(g, "nb", "n", "dY8")
    with pytest.raises(ConfigError, match="no node 'm/rsqrt'"):
        add_rmsnorm_backward(g, "nb", "m", "dY8")


def test_rmsnorm_backward_extreme_inputs_within_bounds(reg):
    """Honest extremes stay inside the declared (pinned) bounds of c, nc, dX: a zero row
    (largest r), one-hot rows (largest |n_j| = √d·2^s) with dY, γ at their bounds."""
    d = 16
    g, _ = bwd_graph((4, d), scale=16, grad_scale=24, x_bits=23, dy_bits=24 + 2)
    xm, gm, dm = (1 << 22) - 1, (1 << 18) - 1, (1 << 25) - 1
    x = torch.zeros(4, d, dtype=torch.int64)
    x[1, 3] = xm
    x[2, 5] = -xm
    x[3] = xm
    dy = torch.full((4, d), dm, dtype=torch.int64)
    dy[2] = -dm
    inputs = {"X": x, "g": torch.full((d,), gm, dtype=torch.int64), "dY": dy}
    vals = graphlib.forward(g, inputs, reg)  # raises if a declared bound is exceeded
    for t in ("c", "nc", "w", "dX"):
        lo, hi = g.tensors[f"nb/{t}"].bound
        used = int(vals[f"nb/{t}"].abs().max()) / hi
        print(f"{t}: {used:.3f} of its declared bound")
    assert int(vals["nb/c"].abs().max()) > 0.9 * g.tensors["nb/c"].bound[1]
    r_pin = r_pinned_max(plan_of(find_node(g, "n/rsqrt"), d))
    print(f"r: {int(vals['n/r'].max()) / r_pin:.4f} of its pinned bound")
    assert 0.99 * r_pin < int(vals["n/r"].max()) <= r_pin


@pytest.mark.parametrize("d", [64, 128])
def test_rmsnorm_backward_accuracy(reg, d):
    """Integer dX, dγ (scales 16 / 24) vs float64 autograd at the quantised inputs."""
    T = 32
    g, (dx, dg) = bwd_graph((T, d), scale=16, grad_scale=24, x_bits=23, dy_bits=24 + 3,
                           dgamma=True)
    inputs = wit((T, d), seed=d, scale=16, grad_scale=24, dy_amp=0.5)
    vals = graphlib.forward(g, inputs, reg)
    rx, rg = autograd_ref(inputs, eps_eff(g, d, 16), 16, 24)
    report = []
    for nm, ref in ((dx, rx), (dg, rg)):
        got = vals[nm].double() / 2 ** 24
        err = (got - ref).abs().max().item()
        rel = ((got - ref).norm() / ref.norm()).item()
        report.append(f"{nm}: max abs {err:.3g}, rel (Frobenius) {rel:.3g}")
        assert rel < 1e-3
    # the rows with typical rms (not the ε-dominated zero row, where |dx| ≈ 10^3·|γ·dy|)
    got = vals[dx].double()[2:] / 2 ** 24
    rel_typ = ((got - rx[2:]).abs().max() / rx[2:].abs().max()).item()
    print(f"rmsnorm backward d={d}: " + "; ".join(report) + f"; typical rows max rel {rel_typ:.3g}")
    assert rel_typ < 1e-3


# -- padding (count < D): the mean over the true hidden size ------------------------------


def pad_graph(T=8, D=8, d=5, scale=16, grad_scale=24, limb_bits=None):
    g = Graph()
    g.tensor("X", (T, D), "committed", Bound.bits(scale + 5).as_tuple())
    g.tensor("g", (D,), "committed", Bound.bits(scale + 3).as_tuple())
    g.tensor("dY", (T, D), "committed", Bound.bits(grad_scale + 3).as_tuple())
    y = add_rmsnorm(g, "n", "X", "g", eps=EPS, scale=scale, count=d,
                    limb_bits=limb_bits or (16 if scale == 16 else 8))
    dx, dg = add_rmsnorm_backward(g, "nb", "n", "dY", dgamma=True)
    g.outputs = [y, dx, dg]
    return g, dx, dg


def pad_wit(T, D, d, scale, grad_scale, seed=11):
    small = wit((T, d), seed=seed, scale=scale, grad_scale=grad_scale)
    out = {"X": torch.zeros(T, D, dtype=torch.int64), "g": torch.zeros(D, dtype=torch.int64),
           "dY": torch.zeros(T, D, dtype=torch.int64)}
    out["X"][:, :d], out["g"][:d], out["dY"][:, :d] = small["X"], small["g"], small["dY"]
    return small, out


def _int_backward(x, gm, dy, pl):
    """dX, dγ of the integer spec for unpadded rows (…, d) (module doc of the backward;
    rM, H from the rsqrt spec on the d real columns, ``pl`` the unpadded plan)."""
    rt = dict(zip(ROW_TENSORS, rsqrt_forward(x, pl)))
    rM, H = rt["rM"], rt["H"]
    n, _ = quant.rescale(x * (rM * H), pl.r_scale)
    h, _ = quant.rescale(dy * gm, pl.scale)
    t = (h * n).sum(-1, keepdim=True)
    l, m = mean_constants(pl.n_true)
    c, _ = quant.rescale(t, pl.scale + l)
    if m > 1:
        c, _ = quant.rescale(c * m, MEAN_BITS)
    u = h - quant.rescale(n * c, pl.scale)[0]
    k = mant_shift(pl)
    w, _ = quant.rescale(rM * u, k)
    dx, _ = quant.rescale(w * H, pl.r_scale - k)
    return dx, quant.rescale((dy * n).sum(0), pl.scale)[0]


def test_rmsnorm_backward_count_padding(reg):
    """D = 8, d = 5, zero-padded X, γ, dY: dX and dγ equal the unpadded d = 5 integer
    spec on the real columns, are zero on the padding, and match float64 autograd of
    LlamaRMSNorm at d = 5."""
    T, D, d = 8, 8, 5
    g, dx, dg = pad_graph(T, D, d)
    small, inputs = pad_wit(T, D, d, 16, 24)
    vals = graphlib.forward(g, inputs, reg)
    pl = plan_of(find_node(g, "n/rsqrt"), D)
    assert pl.n_true == d and "nb/c0" in g.tensors
    want_dx, want_dg = _int_backward(small["X"], small["g"], small["dY"],
                                     attrs.evolve(pl, d=d, count=0))
    assert torch.equal(vals[dx][:, :d], want_dx) and not vals[dx][:, d:].any()
    assert torch.equal(vals[dg][:d], want_dg) and not vals[dg][d:].any()
    rx, rg = autograd_ref(small, eps_eff(g, d, 16), 16, 24)
    for got, ref in ((vals[dx][2:, :d], rx[2:]), (vals[dg][:d], rg)):
        got = got.double() / 2 ** 24
        assert ((got - ref).norm() / ref.norm()).item() < 1e-3


def test_rmsnorm_backward_count_padding_proof(gold):
    """The padded graph (two-step mean c0 → c) proves; c0 one off is rejected, and so is
    the next admissible c0 (c0 + 1, remainder − 2^(s+l), everything after it recomputed:
    only the remainder's range check fails)."""
    g, _, _ = pad_graph(4, 8, 5, scale=S, grad_scale=SG)
    _, inputs = pad_wit(4, 8, 5, S, SG)
    stream, sections = graphlib.prove(g, inputs, gold, {})
    graphlib.verify(g, stream, gold, {}, sections)
    assert_rejected(g, inputs, gold, {}, bump("nb/c0", 1))
    pl = plan_of(find_node(g, "n/rsqrt"), 8)
    l, m = mean_constants(5)
    k = mant_shift(pl)

    def next_admissible(values):
        values["nb/c0"].reshape(-1)[1] += 1
        values["nb/c0_R"].reshape(-1)[1] -= 1 << (S + l)
        values["nb/c2"] = values["nb/c0"] * m
        _rescale(values, "nb/c", values["nb/c2"], MEAN_BITS)
        values["nb/nc2"] = values["n/xr"] * values["nb/c"]
        _rescale(values, "nb/nc", values["nb/nc2"], S)
        values["nb/u"] = values["nb/h"] - values["nb/nc"]
        values["nb/w2"] = values["n/rM"] * values["nb/u"]
        _rescale(values, "nb/w", values["nb/w2"], k)
        values["nb/dx2"] = values["nb/w"] * values["n/H"]
        _rescale(values, "nb/dX", values["nb/dx2"], pl.r_scale - k)

    msg = assert_rejected(g, inputs, gold, {}, next_admissible)
    assert "range" in msg or "LogUp" in msg, msg  # batched lookups: no table name
