"""RMSNorm op (``rmsnorm_rsqrt`` + hadamards + rescales): completeness, tamper
rejection of every advice/output tensor, consistent cheating certificates, proof-byte
flips, bound errors and accuracy against a float64 LlamaRMSNorm."""

from __future__ import annotations

import math

import attrs
import pytest
import torch

from zklora.plugins.ops.rmsnorm import (
    ROW_TENSORS,
    RsqrtPlan,
    add_rmsnorm,
    plan_of,
    rsqrt_forward,
    rsqrt_reference,
)
from zklora.zkcore import graph as graphlib
from zklora.zkcore import quant
from zklora.zkcore.build import find_node
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.quant import Bound, to_fixed
from zklora.zkcore.testing.tamper import assert_flips_rejected, assert_rejected, bump

#: proof tests run at scale 8 with 8-bit range limbs (small range tables: fast); the
#: accuracy tests use the model's scale 16 (forward only)
S = 8
EPS = 1e-6


def rms_graph(T=4, d=16, x_bits=None, scale=S, **kw):
    g = Graph()
    x_bits = scale + 5 if x_bits is None else x_bits
    g.tensor("X", (T, d), "committed", Bound.bits(x_bits).as_tuple())
    g.tensor("g", (d,), "committed", Bound.bits(scale + 3).as_tuple())
    kw.setdefault("limb_bits", 8 if scale == S else 16)
    y = add_rmsnorm(g, "n", "X", "g", eps=EPS, scale=scale, **kw)
    g.outputs = [y]
    return g, y


def wit(T=4, d=16, seed=0, amp=3.0, scale=S):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(T, d, generator=gen, dtype=torch.float64) * amp
    x[0] = 0.0  # a zero row: r comes from ε alone
    x[1] *= 1e-2  # a small-rms row (exponent 0)
    gm = 1 + 0.2 * torch.randn(d, generator=gen, dtype=torch.float64)
    return {"X": to_fixed(x, scale), "g": to_fixed(gm, scale)}, x, gm


def llama_rmsnorm(x, gm, eps=EPS):
    """transformers' LlamaRMSNorm, in float64."""
    return gm * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps))




@pytest.mark.parametrize("d", [16, 32])
def test_rmsnorm_complete(be, d):
    if be.field.name != "goldilocks" and d == 32:
        pytest.skip("one shape is enough for the slow field")
    g, _ = rms_graph(d=d)
    inputs, _, _ = wit(d=d)
    stream, sections = graphlib.prove(g, inputs, be, {})
    graphlib.verify(g, stream, be, {}, sections)


def test_rsqrt_forward_matches_reference():
    gen = torch.Generator().manual_seed(1)
    for d in (16, 32, 64, 128):
        pl = RsqrtPlan(d, 1 << 22, max(1, round(EPS * d * 2 ** 32)), 16, 16 + 4).check("t")
        x = torch.randint(-(1 << 22), (1 << 22) + 1, (12, d), generator=gen)
        x[0] = 0
        x[1] = 1 << 22
        x[2] = torch.randint(-3, 4, (d,), generator=gen)
        x[3] >>= 12
        outs = dict(zip(ROW_TENSORS, rsqrt_forward(x, pl)))
        ref = [rsqrt_reference(row.tolist(), pl) for row in x]
        assert outs["r"].reshape(-1).tolist() == ref
        for k in ("Rm", "G1", "G2", "Glo", "Ghi", "M", "rM"):
            assert int(outs[k].min()) >= 0, k
        assert int(outs["M"].max()) <= pl.m_max


#: a representative subset runs by default; the rest (same code path) under -m slow
_FAST = {"r", "M", "rM", "Ghi", "xr", "Y"}


@pytest.mark.parametrize("which", [pytest.param(w, marks=() if w in _FAST else pytest.mark.slow)
                                   for w in [*ROW_TENSORS, "xr", "xr_R", "Y", "Y_R"]])
def test_rmsnorm_tampered_tensor_rejected(gold, which):
    """Every advice/output tensor one element off by one ⇒ the verifier rejects."""
    g, _ = rms_graph()
    inputs, _, _ = wit()

    def tamper(values):
        values[f"n/{which}"].reshape(-1)[2] += 1

    assert_rejected(g, inputs, gold, {}, tamper)


def _recompute(values, row, e, rm, pl):
    """Set row ``row`` of every certificate tensor for a chosen (e, rM), consistently."""
    x = values["X"][row]
    v = int((x * x).sum()) + pl.e0
    P, M = 4 ** e, v >> (2 * e)
    Rm, H, LB = v - (4 ** e) * M, 1 << (pl.shift - e), (1 << pl.mant_bits) if e else 0
    new = {"r": rm * H, "P": P, "H": H, "LB": LB, "M": M, "Rm": Rm, "G1": P - 1 - Rm,
           "G2": M - LB, "rM": rm, "Glo": pl.n_mant - rm * rm * M,
           "Ghi": (rm + 1) ** 2 * M - pl.n_mant - 1}
    for k, val in new.items():
        values[f"n/{k}"][row, 0] = val
    # keep the downstream products consistent with the new r
    r = values["n/r"]
    xr2 = values["X"] * r
    half = 1 << (pl.r_scale - 1)
    values["n/xr"] = (xr2 + half) >> pl.r_scale
    values["n/xr_R"] = xr2 + half - (values["n/xr"] << pl.r_scale)
    y2 = values["n/xr"] * values["g"]
    values["n/Y"] = (y2 + (1 << (pl.scale - 1))) >> pl.scale
    values["n/Y_R"] = y2 + (1 << (pl.scale - 1)) - (values["n/Y"] << pl.scale)


@pytest.mark.parametrize("cheat", ["rM+1", "rM-1", "e+1"])
def test_rmsnorm_consistent_cheat_rejected(gold, cheat):
    """A wrong rsqrt with every relation but one inequality satisfied is rejected."""
    g, _ = rms_graph()
    inputs, _, _ = wit()
    node = next(n for n in g.nodes if n.op == "rmsnorm_rsqrt")
    pl = plan_of(node, 16)
    row = 3

    def tamper(values):
        e = int(values["n/P"][row, 0]).bit_length() // 2
        rm = int(values["n/rM"][row, 0])
        if cheat == "rM+1":
            _recompute(values, row, e, rm + 1, pl)
        elif cheat == "rM-1":
            _recompute(values, row, e, rm - 1, pl)
        else:
            x = values["X"][row]
            v = int((x * x).sum()) + pl.e0
            m = v >> (2 * (e + 1))
            _recompute(values, row, e + 1, math.isqrt(pl.n_mant // m), pl)

    assert_rejected(g, inputs, gold, {}, tamper)


def test_rmsnorm_proof_bytes_tampered(gold):
    g, _ = rms_graph()
    inputs, _, _ = wit()
    stream, sections = graphlib.prove(g, inputs, gold, {})
    assert_flips_rejected(g, stream, sections, gold, count=12, start=7, bit=0x04)


def test_rmsnorm_bounds(reg):
    with pytest.raises(ConfigError, match="2\\^62"):
        rms_graph(d=1024, x_bits=36, scale=16, pre_shift=0)
    g, _ = rms_graph(d=1024, x_bits=36, scale=16)  # the automatic pre-shift fits it
    assert find_node(g, "n/rsqrt").params["pre_shift"] > 0
    with pytest.raises(ConfigError, match="r_scale"):
        rms_graph(x_bits=28, r_scale=16, scale=16)
    g = Graph()
    g.tensor("X", (4, 16), "virtual")
    g.tensor("g", (16,), "committed")
    with pytest.raises(ConfigError, match="X"):
        add_rmsnorm(g, "n", "X", "g", eps=EPS)
    g, _ = rms_graph(x_bits=28, x_bound=Bound.bits(18), scale=16)
    inputs, _, _ = wit(amp=1.0, scale=16)
    inputs["X"][1, 3] = 1 << 20
    with pytest.raises(ProverError, match="rmsnorm.*X.*1048576"):
        graphlib.forward(g, inputs, reg)


@pytest.mark.parametrize("d", [64, 128])
def test_rmsnorm_accuracy(reg, d):
    """Integer forward vs float64 LlamaRMSNorm on x ~ N(0,1)·3 (and a zero row)."""
    T = 32
    g, y = rms_graph(T=T, d=d, x_bits=16 + 7, scale=16)
    inputs, x, gm = wit(T=T, d=d, seed=d, scale=16)
    out = graphlib.forward(g, inputs, reg)[y].double() / 2 ** 16
    ref = llama_rmsnorm(x, gm)
    err = (out - ref).abs().max().item()
    rel = ((out - ref).norm() / ref.norm()).item()
    print(f"rmsnorm d={d}: max abs err {err:.3g}, relative (Frobenius) {rel:.3g}")
    assert rel < 1e-3 and err < 2e-3


# -- reduced-precision sum of squares (pre-shift k) and padding (count) -------------------


def _spec_values(values, pl, g_name="g", x_name="X", name="n"):
    """Recompute, from ``{name}/xs`` (x'), every rsqrt row tensor and x·r, Y (the spec)."""
    outs = rsqrt_forward(values[f"{name}/xs"], pl)
    for k, v in zip(ROW_TENSORS, outs):
        values[f"{name}/{k}"] = v
    values[f"{name}/xr"], values[f"{name}/xr_R"] = quant.rescale(
        values[x_name] * values[f"{name}/r"], pl.r_scale)
    values[f"{name}/Y"], values[f"{name}/Y_R"] = quant.rescale(
        values[f"{name}/xr"] * values[g_name], pl.scale)


def test_rmsnorm_pre_shift_complete_and_advice_pinned(gold):
    """k = 2: x' = ⌊x/4⌉ committed with its remainder; the proof verifies, each new
    advice tensor one off is rejected, and the next admissible x' (x' + 1 with the
    remainder − 2^k, every rsqrt tensor and x·r, Y recomputed from it) is rejected by
    the remainder's range check."""
    g, _ = rms_graph(pre_shift=2)
    inputs, _, _ = wit()
    node = find_node(g, "n/rsqrt")
    pl = plan_of(node, 16)
    assert pl.pre_shift == 2 and list(node.inputs) == ["n/xs"]
    stream, sections = graphlib.prove(g, inputs, gold, {})
    graphlib.verify(g, stream, gold, {}, sections)
    for which in ("xs", "xs_R"):
        assert_rejected(g, inputs, gold, {}, bump(f"n/{which}", 5))

    def next_admissible(values):
        values["n/xs"].reshape(-1)[21] += 1
        values["n/xs_R"].reshape(-1)[21] -= 1 << pl.pre_shift
        _spec_values(values, pl)

    msg = assert_rejected(g, inputs, gold, {}, next_admissible)
    assert "range" in msg or "LogUp" in msg, msg  # batched lookups: no table name


def test_rmsnorm_auto_pre_shift():
    """The smallest k that fits: 0 while d·x_max² + E0 < 2^62 (no extra node), else the
    first k that fits; the real-width case: d = 4096, |x| < 2^25 at s = 16 → k = 1."""
    g, _ = rms_graph(d=16, x_bits=28, scale=16)
    assert find_node(g, "n/rsqrt").params["pre_shift"] == 0 and "n/xs" not in g.tensors
    g = Graph()
    g.tensor("X", (2, 4096), "committed", Bound.bits(16 + 10).as_tuple())
    g.tensor("g", (4096,), "committed", Bound.bits(16 + 7).as_tuple())
    add_rmsnorm(g, "n", "X", "g", eps=1e-5, scale=16)
    pl = plan_of(find_node(g, "n/rsqrt"), 4096)
    assert pl.pre_shift == 1 and pl.x_max == 1 << 24
    assert max(pl.worst().values()) < 1 << 62


@pytest.mark.parametrize("k", [0, 2, 4])
def test_rmsnorm_pre_shift_accuracy(reg, k):
    """The reduced-precision sum of squares costs nothing measurable at s = 16."""
    T, d = 32, 128
    g, y = rms_graph(T=T, d=d, x_bits=16 + 7, scale=16, pre_shift=k)
    inputs, x, gm = wit(T=T, d=d, seed=d, scale=16)
    out = graphlib.forward(g, inputs, reg)[y].double() / 2 ** 16
    ref = llama_rmsnorm(x, gm)
    rel = ((out - ref).norm() / ref.norm()).item()
    print(f"rmsnorm k={k}: relative (Frobenius) {rel:.3g}")
    assert rel < 1e-4


def _norm_reference(x, gm, pl):
    """Y of the integer spec for unpadded rows x (…, d) (pure Python rsqrt)."""
    r = torch.tensor([[rsqrt_reference(row.tolist(), pl)] for row in x], dtype=torch.int64)
    xr, _ = quant.rescale(x * r, pl.r_scale)
    return quant.rescale(xr * gm, pl.scale)[0]


def test_rmsnorm_count_padding(reg, gold):
    """D = 8 with d = 5 (zero-padded X, γ): Y equals the unpadded d = 5 spec on the real
    columns and is zero on the padding; close to float64 LlamaRMSNorm at d = 5; the
    padded graph proves and verifies."""
    d, D, T = 5, 8, 8
    for scale in (16, S):
        g = Graph()
        g.tensor("X", (T, D), "committed", Bound.bits(scale + 5).as_tuple())
        g.tensor("g", (D,), "committed", Bound.bits(scale + 3).as_tuple())
        y = add_rmsnorm(g, "n", "X", "g", eps=EPS, scale=scale, count=d,
                        limb_bits=16 if scale == 16 else 8)
        g.outputs = [y]
        inputs, x, gm = wit(T=T, d=d, seed=7, scale=scale)
        pad = {"X": torch.zeros(T, D, dtype=torch.int64), "g": torch.zeros(D, dtype=torch.int64)}
        pad["X"][:, :d], pad["g"][:d] = inputs["X"], inputs["g"]
        out = graphlib.forward(g, pad, reg)[y]
        pl = plan_of(find_node(g, "n/rsqrt"), D)
        assert pl.n_true == d and pl.e0 == max(1, round(EPS * d * 4.0 ** scale))
        ref = _norm_reference(inputs["X"], inputs["g"], attrs.evolve(pl, d=d, count=0))
        assert torch.equal(out[:, :d], ref) and not out[:, d:].any()
        if scale == 16:
            f = out[:, :d].double() / 2 ** 16
            want = llama_rmsnorm(x, gm)
            assert ((f - want).norm() / want.norm()).item() < 1e-3
        else:
            stream, sections = graphlib.prove(g, pad, gold, {})
            graphlib.verify(g, stream, gold, {}, sections)
    with pytest.raises(ConfigError, match="count 9"):
        add_rmsnorm(g, "m", "X", "g", eps=EPS, scale=S, count=9)
