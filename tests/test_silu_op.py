"""SiLU / SwiGLU op: completeness, tamper rejection of every advice/output tensor,
proof-byte flips, out-of-domain errors and accuracy against torch's silu."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops.silu import add_swiglu, table_of
from zklora.zkcore import graph as graphlib
from zklora.zkcore import quant
from zklora.zkcore.errors import ConfigError, ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.quant import Bound, to_fixed
from zklora.zkcore.testing.tamper import assert_flips_rejected, assert_rejected

#: proof tests: scale 8 and a small table (input scale 2^4, 2^10 entries: |g| < 32)
S, S_IN, DOM = 8, 4, 10


def swiglu_graph(shape=(4, 16), scale=S, in_scale=S_IN, domain_bits=DOM, interp=False):
    """The SwiGLU graph; ``interp`` False: the table-only op ``silu`` (other test modules
    use this default), True: ``silu_lerp`` (`add_swiglu`'s default)."""
    g = Graph()
    g.tensor("G", shape, "committed", Bound.bits(scale + 9).as_tuple())
    g.tensor("U", shape, "committed", Bound.bits(scale + 6).as_tuple())
    y = add_swiglu(g, "m", "G", "U", scale=scale, in_scale=in_scale, domain_bits=domain_bits,
                   interp=interp)
    g.outputs = [y]
    return g, y


def wit(shape=(4, 16), seed=0, amp=3.0, scale=S):
    gen = torch.Generator().manual_seed(seed)
    gt = torch.randn(shape, generator=gen, dtype=torch.float64) * amp
    up = torch.randn(shape, generator=gen, dtype=torch.float64) * amp
    return {"G": to_fixed(gt, scale), "U": to_fixed(up, scale)}, gt, up




@pytest.mark.parametrize("interp", [True, False])
@pytest.mark.parametrize("shape", [(4, 16), (2, 2, 8)])
def test_swiglu_complete(be, shape, interp):
    g, _ = swiglu_graph(shape, interp=interp)
    inputs, _, _ = wit(shape)
    stream, sections = graphlib.prove(g, inputs, be, {})
    graphlib.verify(g, stream, be, {}, sections)


def test_swiglu_complete_default_table(gold):
    """The model's setting: scale 16, table input scale 2^8, 2^16 entries, interpolated."""
    g, _ = swiglu_graph((4, 16), scale=16, in_scale=8, domain_bits=16, interp=True)
    inputs, _, _ = wit((4, 16), scale=16)
    stream, sections = graphlib.prove(g, inputs, gold, {})
    graphlib.verify(g, stream, gold, {}, sections)


@pytest.mark.parametrize("which,interp", [
    *((w, True) for w in ["gq", "gq_R", "silu_t", "silu_d", "silu", "silu_R", "Y", "Y_R"]),
    *((w, False) for w in ["gq", "gq_R", "silu", "Y", "Y_R"])])
def test_swiglu_tampered_tensor_rejected(gold, which, interp):
    g, _ = swiglu_graph(interp=interp)
    inputs, _, _ = wit()

    def tamper(values):
        values[f"m/{which}"].reshape(-1)[5] += 1

    assert_rejected(g, inputs, gold, {}, tamper)


@pytest.mark.parametrize("interp", [True, False])
def test_swiglu_consistent_rescale_cheat_rejected(gold, interp):
    """(Gq + 1, Rq − 2^shift) satisfies the linear relation; Rq's range check rejects."""
    g, _ = swiglu_graph(interp=interp)
    inputs, _, _ = wit()

    def tamper(values):
        values["m/gq"].reshape(-1)[5] += 1
        values["m/gq_R"].reshape(-1)[5] -= 1 << (S - S_IN)

    assert_rejected(g, inputs, gold, {}, tamper)


@pytest.mark.parametrize("interp", [True, False])
def test_swiglu_proof_bytes_tampered(gold, interp):
    g, _ = swiglu_graph(interp=interp)
    inputs, _, _ = wit()
    stream, sections = graphlib.prove(g, inputs, gold, {})
    assert_flips_rejected(g, stream, sections, gold, count=12, start=5, bit=0x20)


def test_swiglu_lerp_table_input_quotient_rejected(gold):
    """Interpolated: (Gq + 1, Rq − 2^shift) keeps G's rescale identity; T, D are set to
    the table's row at Gq + 1 (so the (Gq, T, D) lookup holds) and Sg, Y recomputed
    from them.  Only Rq's range check can reject (the row is unique given G)."""
    g, _ = swiglu_graph(interp=True)
    inputs, _, _ = wit()
    node = next(n for n in g.nodes if n.op == "silu_lerp")
    t = table_of(node)
    shift = int(node.params["shift"])
    _, ty, td = (torch.from_numpy(c.copy()) for c in t.columns())
    k, c = S, 1 << (shift - 1)

    def tamper(v):
        i = 5
        gq = v["m/gq"].reshape(-1)
        gq[i] += 1
        v["m/gq_R"].reshape(-1)[i] -= 1 << shift
        v["m/silu_t"].reshape(-1)[i] = ty[int(gq[i]) - t.lo]
        v["m/silu_d"].reshape(-1)[i] = td[int(gq[i]) - t.lo]
        v["m/silu/dr"] = v["m/silu_d"] * v["m/gq_R"]
        v["m/silu/w"] = (v["m/silu_t"] << k) + v["m/silu/dr"] - c * v["m/silu_d"]
        v["m/silu"], v["m/silu_R"] = quant.rescale(v["m/silu/w"], k)
        v["m/su"] = v["m/silu"] * v["U"]
        v["m/Y"], v["m/Y_R"] = quant.rescale(v["m/su"], S)

    msg = assert_rejected(g, inputs, gold, {}, tamper)
    assert f"range{shift}" in msg or "LogUp" in msg, msg


def test_silu_out_of_domain(reg):
    g, _ = swiglu_graph(scale=16, in_scale=8, domain_bits=16, interp=True)
    inputs, _, _ = wit(scale=16)
    inputs["G"][2, 3] = to_fixed(torch.tensor(200.0), 16)
    with pytest.raises(ProverError, match=r"input G has value 13107200 .*"
                       r"silu_lerp\[in=8,out=16,slope=16,d=16\]"):
        graphlib.forward(g, inputs, reg)
    g, _ = swiglu_graph(scale=16, in_scale=8, domain_bits=16, interp=False)
    with pytest.raises(ProverError, match=r"input G has value 13107200 .*silu\[in=8,out=16,d=16\]"):
        graphlib.forward(g, inputs, reg)


def test_swiglu_config_errors():
    g = Graph()
    g.tensor("G", (4, 8), "committed", (-100, 100))
    g.tensor("U", (4, 4), "committed", (-100, 100))
    with pytest.raises(ConfigError, match="differ in shape"):
        add_swiglu(g, "m", "G", "U")
    g = Graph()
    g.tensor("G", (4, 8), "committed", (-100, 100))
    g.tensor("U", (4, 8), "virtual")
    with pytest.raises(ConfigError, match="U needs a declared bound"):
        add_swiglu(g, "m", "G", "U")


@pytest.mark.parametrize("interp", [True, False])
@pytest.mark.parametrize("f", [64, 128])
def test_swiglu_accuracy(reg, f, interp):
    """Integer forward (scale 16, table 2^8 / 2^16 entries) vs torch silu(g)·u; the
    interpolated table is ≈ 100× more accurate (silu alone: max error 2^−17 from
    the roundings plus ≤ 2^−20 from the interpolation, vs 2^−9·|silu'|)."""
    shape = (32, f)
    g, y = swiglu_graph(shape, scale=16, in_scale=8, domain_bits=16, interp=interp)
    inputs, gt, up = wit(shape, seed=f, scale=16)
    out = graphlib.forward(g, inputs, reg)[y].double() / 2 ** 16
    ref = torch.nn.functional.silu(gt) * up
    err = (out - ref).abs().max().item()
    rel = ((out - ref).norm() / ref.norm()).item()
    silu_err = (graphlib.forward(g, inputs, reg)["m/silu"].double() / 2 ** 16
                - torch.nn.functional.silu(gt)).abs().max().item()
    print(f"swiglu f={f}: max abs err {err:.3g} (silu alone {silu_err:.3g}), "
          f"relative (Frobenius) {rel:.3g}")
    if interp:
        assert rel < 2e-5 and silu_err < 2.5e-5
    else:
        assert rel < 2e-3 and silu_err < 2.5e-3
