"""SwiGLU backward (`add_swiglu_backward`, op ``silu_grad``): completeness under both
fields, tamper rejection of every advice/output tensor, a SiLU' taken at the wrong
input, proof-byte flips, out-of-domain and config errors, and accuracy against torch
autograd in float64 on the same quantised forward."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.lookups.tables import silu_grad_lerp_table, silu_grad_table
from zklora.plugins.ops.silu import add_swiglu
from zklora.plugins.ops.silu_backward import add_swiglu_backward
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.quant import Bound, to_fixed
from zklora.zkcore.testing.tamper import assert_flips_rejected, assert_rejected

#: proof tests: scale 8, gradients 12, a small table (input scale 2^4, 2^10 entries)
S, SG, S_IN, DOM = 8, 12, 4, 10


def bwd_graph(shape=(4, 16), scale=S, grad_scale=SG, in_scale=S_IN, domain_bits=DOM,
              interp=False, **kw):
    g = Graph()
    g.tensor("G", shape, "committed", Bound.bits(scale + 9).as_tuple())
    g.tensor("U", shape, "committed", Bound.bits(scale + 6).as_tuple())
    g.tensor("dY", shape, "committed", Bound.bits(grad_scale + 4).as_tuple())
    y = add_swiglu(g, "m", "G", "U", scale=scale, in_scale=in_scale, domain_bits=domain_bits,
                   interp=interp)
    dG, dU = add_swiglu_backward(g, "mb", "m", "dY", **kw)
    g.outputs = [y, dG, dU]
    return g, dG, dU


def wit(shape=(4, 16), seed=0, scale=S, grad_scale=SG, amp=3.0):
    gen = torch.Generator().manual_seed(seed)
    gt = torch.randn(shape, generator=gen, dtype=torch.float64) * amp
    up = torch.randn(shape, generator=gen, dtype=torch.float64) * amp
    dy = torch.randn(shape, generator=gen, dtype=torch.float64)
    return {"G": to_fixed(gt, scale), "U": to_fixed(up, scale), "dY": to_fixed(dy, grad_scale)}




@pytest.mark.parametrize("shape", [(4, 16), (2, 2, 8)])
def test_swiglu_backward_complete(be, shape):
    if be.field.name != "goldilocks" and shape != (4, 16):
        pytest.skip("one shape is enough for the slow field")
    g, _, _ = bwd_graph(shape)
    inputs = wit(shape, seed=len(shape))
    stream, sections = graphlib.prove(g, inputs, be, {})
    graphlib.verify(g, stream, be, {}, sections)


def test_swiglu_backward_complete_model_scale(gold):
    """The model's setting: scale 16, gradients 2^24, table input 2^8 with 2^16 entries."""
    g, _, _ = bwd_graph((4, 16), scale=16, grad_scale=24, in_scale=8, domain_bits=16)
    inputs = wit((4, 16), scale=16, grad_scale=24)
    stream, sections = graphlib.prove(g, inputs, gold, {})
    graphlib.verify(g, stream, gold, {}, sections)


def test_swiglu_backward_grad_table_scale(gold):
    """A SiLU' table at its own output scale (12 ≠ s_out) still proves and verifies."""
    g, _, _ = bwd_graph(grad_table_scale=12)
    assert g.tensors["mb/sd"].bound[1] == silu_grad_table(S_IN, 12, DOM).columns()[1].max()
    inputs = wit()
    stream, sections = graphlib.prove(g, inputs, gold, {})
    graphlib.verify(g, stream, gold, {}, sections)


@pytest.mark.parametrize("which,interp", [
    *((w, False) for w in ["sd", "dU", "dU_R", "t", "t_R", "dG", "dG_R"]),
    *((w, True) for w in ["sd_t", "sd_d", "sd", "sd_R", "dU", "t", "dG"])])
def test_swiglu_backward_tampered_tensor_rejected(gold, which, interp):
    """Every advice/output tensor of the backward one element off by one ⇒ rejected
    (table-only and interpolated forward)."""
    g, _, _ = bwd_graph(interp=interp)
    inputs = wit()

    def tamper(values):
        values[f"mb/{which}"].reshape(-1)[5] += 1

    assert_rejected(g, inputs, gold, {}, tamper)


def test_swiglu_backward_silu_grad_at_wrong_input_rejected(gold):
    """SiLU' taken at Gq + 1 (a real table row) with every tensor after it (committed
    and virtual) recomputed consistently: only the lookup pairing (Gq, Sd) catches it."""
    g, _, _ = bwd_graph()
    inputs = wit()
    t = silu_grad_table(S_IN, S, DOM)
    ys = torch.from_numpy(t.columns()[1].copy())

    def tamper(values):
        i = 5
        gq = int(values["m/gq"].reshape(-1)[i])
        new = int(ys[gq + 1 - t.lo])
        assert new != int(values["mb/sd"].reshape(-1)[i])
        values["mb/sd"].reshape(-1)[i] = new
        t2 = values["mb/t2"] = values["dY"] * values["mb/sd"]
        values["mb/t"] = (t2 + (1 << (S - 1))) >> S
        values["mb/t_R"] = t2 + (1 << (S - 1)) - (values["mb/t"] << S)
        dg2 = values["mb/dg2"] = values["mb/t"] * values["U"]
        values["mb/dG"] = (dg2 + (1 << (S - 1))) >> S
        values["mb/dG_R"] = dg2 + (1 << (S - 1)) - (values["mb/dG"] << S)

    msg = assert_rejected(g, inputs, gold, {}, tamper)
    assert "silu_grad" in msg or "LogUp" in msg, msg  # batched lookups: no table name


def test_swiglu_backward_interp_at_wrong_input_rejected(gold):
    """Interpolated: the (SiLU', SiLU'') pair of the row Gq + 1 with the interpolation
    Sd recomputed consistently (and everything after it): the lookup pairing catches it."""
    g, _, _ = bwd_graph(interp=True)
    inputs = wit()
    t = silu_grad_lerp_table(S_IN, S, S, DOM)
    _, ty, td = (torch.from_numpy(c.copy()) for c in t.columns())
    k, c = S, 1 << (S - S_IN - 1)

    def rs(x, s):
        y = (x + (1 << (s - 1))) >> s
        return y, x + (1 << (s - 1)) - (y << s)

    def tamper(values):
        i = 5
        gq = int(values["m/gq"].reshape(-1)[i])
        values["mb/sd_t"].reshape(-1)[i] = int(ty[gq + 1 - t.lo])
        values["mb/sd_d"].reshape(-1)[i] = int(td[gq + 1 - t.lo])
        values["mb/sd/dr"] = values["mb/sd_d"] * values["m/gq_R"]
        w = values["mb/sd/w"] = (values["mb/sd_t"] << k) + values["mb/sd/dr"] \
            - c * values["mb/sd_d"]
        values["mb/sd"], values["mb/sd_R"] = rs(w, k)
        t2 = values["mb/t2"] = values["dY"] * values["mb/sd"]
        values["mb/t"], values["mb/t_R"] = rs(t2, S)
        dg2 = values["mb/dg2"] = values["mb/t"] * values["U"]
        values["mb/dG"], values["mb/dG_R"] = rs(dg2, S)

    msg = assert_rejected(g, inputs, gold, {}, tamper)
    assert "silu_grad" in msg or "LogUp" in msg, msg  # batched lookups: no table name


def test_swiglu_backward_proof_bytes_tampered(gold):
    g, _, _ = bwd_graph()
    inputs = wit()
    stream, sections = graphlib.prove(g, inputs, gold, {})
    assert_flips_rejected(g, stream, sections, gold, count=12, start=3, bit=0x10)


def test_silu_grad_out_of_domain(reg):
    """The op on its own (its input committed directly): a clear error naming Gq."""
    g = Graph()
    g.tensor("Gq", (4, 8), "committed")
    g.tensor("Sd", (4, 8), "committed")
    g.op("silu_grad", "sd", ["Gq"], ["Sd"], in_scale=S_IN, out_scale=S, domain_bits=DOM)
    gq = torch.zeros(4, 8, dtype=torch.int64)
    gq[1, 2] = 1 << (DOM - 1)
    with pytest.raises(ProverError, match=r"input Gq has value 512 at flat index 10.*"
                                          r"silu_grad\[in=4,out=8,d=10\]"):
        graphlib.forward(g, {"Gq": gq}, reg)


def test_swiglu_backward_config_errors():
    with pytest.raises(ConfigError, match="mb/"):
        bwd_graph(grad_scale=24 + 30)
    g = Graph()
    g.tensor("G", (4, 8), "committed", (-100, 100))
    g.tensor("U", (4, 8), "committed", (-100, 100))
    g.tensor("dY", (4, 8), "virtual")
    g.tensor("dY4", (4, 4), "committed", (-10, 10))
    add_swiglu(g, "m", "G", "U", scale=S, in_scale=S_IN, domain_bits=DOM)
    with pytest.raises(ConfigError, match="dY needs a declared bound"):
        add_swiglu_backward(g, "mb", "m", "dY")
    with pytest.raises(ConfigError, match="shape"):
        add_swiglu_backward(g, "mb", "m", "dY4")
    with pytest.raises(ConfigError, match="no node 'x/silu'"):
        add_swiglu_backward(g, "mb", "x", "dY4")


@pytest.mark.parametrize("interp", [False, True])
@pytest.mark.parametrize("f", [64, 128])
def test_swiglu_backward_accuracy(reg, f, interp):
    """Integer dG, dU (scale 16, gradients 2^24, default table; interpolated or not) vs
    float64 autograd of silu(g)·u at the quantised inputs."""
    shape = (32, f)
    g, dG, dU = bwd_graph(shape, scale=16, grad_scale=24, in_scale=8, domain_bits=16,
                          interp=interp)
    inputs = wit(shape, seed=f, scale=16, grad_scale=24)
    vals = graphlib.forward(g, inputs, reg)
    gq = (inputs["G"].double() / 2 ** 16).requires_grad_(True)
    uq = (inputs["U"].double() / 2 ** 16).requires_grad_(True)
    (torch.nn.functional.silu(gq) * uq).backward(inputs["dY"].double() / 2 ** 24)
    report = []
    for nm, ref in ((dG, gq.grad), (dU, uq.grad)):
        got = vals[nm].double() / 2 ** 24
        err = (got - ref).abs().max().item()
        rel = ((got - ref).norm() / ref.norm()).item()
        report.append(f"{nm}: max abs {err:.3g}, rel (Frobenius) {rel:.3g}")
        assert rel < (3e-5 if interp else 2e-3)
    print(f"swiglu backward f={f} interp={interp}: " + "; ".join(report))
