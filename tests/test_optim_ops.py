"""Optimiser ops (sgd, adam, adamw): integer forward against torch.optim, completeness
on both fields, tamper rejection per output/advice tensor, proof bytes, statement and
graph constants.  The full per-tensor tamper sweep is marked slow (each cheating proof
runs every range-check lookup, ~4 s)."""

from __future__ import annotations

import pytest
import torch

from zklora.plugins.ops.optim import (
    adam_plan,
    adam_roles,
    adam_state_bounds,
    add_adam,
    add_sgd,
    from_torch_state,
    to_torch_state,
)
from zklora.zkcore import graph as graphlib
from zklora.zkcore import quant
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.tamper import assert_rejected, bump

from .conftest import backend_for

SG = 24
GB = (-(1 << SG) + 1, (1 << SG) - 1)  # |g| < 1


def _data(seed, shape, steps):
    """θ ~ N(0, 1e-2); per step a gradient with log-uniform magnitude in [1e-3, 1e-1]."""
    gen = torch.Generator().manual_seed(seed)
    th = torch.randn(shape, generator=gen, dtype=torch.float64) * 1e-2
    gs = []
    for _ in range(steps):
        mag = 10 ** (torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 3)
        sgn = torch.where(torch.rand(shape, generator=gen) < 0.5, -1.0, 1.0).double()
        gs.append(mag * sgn)
    return th, gs


def chain(opt, shape, steps, *, st=16, lr=1e-3, wd=1e-2, seed=0):
    """Graph of ``steps`` chained optimiser steps and its inputs."""
    th, gs = _data(seed, shape, steps)
    g = Graph()
    tb = (-(1 << st), (1 << st) - 1)
    g.tensor("theta", shape, "committed", tb)
    inp = {"theta": quant.to_fixed(th, st)}
    if opt != "sgd":
        mb, vb = adam_state_bounds(GB, theta_bound=tb, weight_decay=wd,
                                   decoupled=opt == "adamw", theta_scale=st)
        g.tensor("m", shape, "committed", mb)
        g.tensor("v", shape, "committed", vb)
        inp["m"] = torch.zeros(shape, dtype=torch.int64)
        inp["v"] = torch.zeros(shape, dtype=torch.int64)
    t, m, v = "theta", "m", "v"
    for k in range(steps):
        g.tensor(f"g{k}", shape, "committed", GB)
        inp[f"g{k}"] = quant.to_fixed(gs[k], SG)
        if opt == "sgd":
            t = add_sgd(g, f"{opt}{k}", t, f"g{k}", lr=lr, weight_decay=wd, theta_scale=st)
        else:
            t, m, v = add_adam(g, f"{opt}{k}", t, f"g{k}", m, v, step=k + 1, lr=lr,
                               weight_decay=wd, decoupled=opt == "adamw", theta_scale=st)
    return g, inp, t


def fidelity(reg, opt, *, st, lr, wd, steps, shape=(32, 16), seed=0):
    """Relative Frobenius error of the update θ_T − θ_0 against torch.optim in float64,
    both fed the same (quantised) θ and gradients."""
    g, inp, t = chain(opt, shape, steps, st=st, lr=lr, wd=wd, seed=seed)
    vals = graphlib.forward(g, inp, reg)
    p = torch.nn.Parameter(inp["theta"].double() / 2 ** st)
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam, "adamw": torch.optim.AdamW}[opt]
    o = cls([p], lr=lr, weight_decay=wd)
    p0 = p.detach().clone()
    for k in range(steps):
        p.grad = inp[f"g{k}"].double() / 2 ** SG
        o.step()
    ref = p.detach() - p0
    got = (vals[t] - inp["theta"]).double() / 2 ** st
    return float((got - ref).norm() / ref.norm())


@pytest.mark.parametrize("opt,st,lr,wd,tol", [
    ("adamw", 16, 1e-3, 1e-2, 1e-2),
    ("adam", 16, 1e-3, 1e-2, 1e-2),
    ("adamw", 24, 1e-4, 1e-2, 1e-3),
    ("adam", 24, 1e-4, 1e-2, 1e-3),
    ("sgd", 24, 1e-3, 0.0, 1e-3),
    ("sgd", 32, 1e-4, 1e-2, 1e-3),
])
def test_fidelity_vs_torch(reg, opt, st, lr, wd, tol):
    for steps in (1, 3):
        err = fidelity(reg, opt, st=st, lr=lr, wd=wd, steps=steps)
        assert err <= tol, (opt, st, lr, steps, err)


def test_adam_step1_is_lr_sign(reg):
    """Step 1 from a zero state: m̂ = g, v̂ = g², update exactly ⌊lr·2^s_θ⌉·sign(g)
    up to the constant's rounding (torch: lr·g/(|g|+ε))."""
    g, inp, t = chain("adamw", (8, 8), 1, wd=0.0, st=24)
    vals = graphlib.forward(g, inp, reg)
    gq = inp["g0"]
    assert torch.equal(vals["adamw0/m"], gq)
    assert torch.equal(vals["adamw0/v"], gq * gq)
    upd = inp["theta"] - vals[t]
    want = round(1e-3 * 2 ** 24)
    assert torch.all((upd - want * torch.sign(gq)).abs() <= 1)


def test_torch_state_roundtrip():
    gen = torch.Generator().manual_seed(0)
    ea = torch.randn(4, 4, dtype=torch.float64, generator=gen) * 1e-3
    eas = torch.rand(4, 4, dtype=torch.float64, generator=gen) * 1e-5
    m, v = from_torch_state(ea, eas, 5, (0.9, 0.999), SG)
    ea2, eas2 = to_torch_state(m, v, 5, (0.9, 0.999), SG)
    assert torch.allclose(ea, ea2, rtol=0, atol=2 ** -SG)  # half a unit of m̂, times bc1 < 1
    assert torch.allclose(eas, eas2, rtol=0, atol=2 ** -(2 * SG))


def test_plan_is_deterministic_and_fits():
    bounds = {"theta": (-(1 << 16), 1 << 16), "grad": GB, "m": GB, "v": (0, 1 << 48),
              "theta_new": (-(1 << 16), 1 << 16), "m_new": GB, "v_new": (0, (1 << 48) - 1),
              "q": (-4096, 4095)}
    params = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 1e-2, "step": 7,
              "theta_scale": 16, "grad_scale": SG}
    a = adam_plan(params, bounds, True)
    b = adam_plan(dict(params), dict(bounds), True)
    assert a == b
    assert set(a["bounds"]) == set(adam_roles(True, 1e-2)[3:]) - {"q"}
    assert a["A1"] + a["C1"] == 1 << a["k1"] and a["A2"] + a["C2"] == 1 << a["k2"]


# -- proofs -------------------------------------------------------------------------------



@pytest.fixture
def gl(reg):
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


def _prove_verify(g, inp, be):
    stream, sections = graphlib.prove(g, inp, be, {"opt": 1})
    graphlib.verify(g, stream, be, {"opt": 1}, sections)
    return stream, sections


def test_adamw_complete(be):
    g, inp, _ = chain("adamw", (4, 8), 1, seed=1)
    _prove_verify(g, inp, be)


@pytest.mark.parametrize("opt,shape,steps", [
    pytest.param("adam", (2, 8), 2, marks=pytest.mark.slow), ("sgd", (8, 4), 1)])
def test_complete_goldilocks(gl, opt, shape, steps):
    g, inp, _ = chain(opt, shape, steps, seed=2, st=24)
    _prove_verify(g, inp, gl)


@pytest.mark.slow
@pytest.mark.parametrize("opt,shape,steps", [("adam", (4, 4), 1), ("sgd", (2, 16), 2),
                                             ("adamw", (16, 2), 2)])
def test_complete_slow(be, opt, shape, steps):
    g, inp, _ = chain(opt, shape, steps, seed=3)
    _prove_verify(g, inp, be)


@pytest.mark.parametrize("tensor", [
    "adamw0/q", pytest.param("adamw0/theta", marks=pytest.mark.slow),
    pytest.param("adamw0/rq1", marks=pytest.mark.slow)])
def test_tamper_quick(gl, tensor):
    g, inp, _ = chain("adamw", (2, 4), 1, seed=4)
    assert_rejected(g, inp, gl, {"opt": 1}, bump(tensor, 3))


def _all_cases():
    cases = []
    for opt, wd in (("adamw", 1e-2), ("adam", 1e-2), ("sgd", 1e-2)):
        g, _, _ = chain(opt, (2, 4), 1, wd=wd)
        cases += [(opt, t) for t in g.nodes[0].outputs]
    return cases


@pytest.mark.slow
@pytest.mark.parametrize("opt,tensor", _all_cases())
@pytest.mark.parametrize("delta", [1, -1])
def test_tamper_every_tensor(gl, opt, tensor, delta):
    """One element of every output and advice tensor off by ±1 ⇒ the verifier rejects."""
    g, inp, _ = chain(opt, (2, 4), 1, seed=5)
    assert_rejected(g, inp, gl, {"opt": 1}, bump(tensor, 5, delta))


def _consistent(kind, plan):
    """A second witness satisfying the linear identities of one certificate, which only
    its range checks exclude: Q+1 with θ'−1, RQ1 −= 2D', RQ2 += 2D' (division); S+1 with
    D1 −= 2S+1, D2 += 2S+3 (square root)."""

    def f(values):
        i = 2
        s = values["adamw0/s"].reshape(-1)
        if kind == "div":
            dp = (int(s[i]) + plan["EPS"]) << plan["b"]
            values["adamw0/q"].reshape(-1)[i] += 1
            values["adamw0/theta"].reshape(-1)[i] -= 1
            values["adamw0/rq1"].reshape(-1)[i] -= 2 * dp
            values["adamw0/rq2"].reshape(-1)[i] += 2 * dp
        else:
            S = int(s[i])
            s[i] += 1
            values["adamw0/d1"].reshape(-1)[i] -= 2 * S + 1
            values["adamw0/d2"].reshape(-1)[i] += 2 * S + 3

    return f


@pytest.mark.parametrize("kind", ["div", pytest.param("sqrt", marks=pytest.mark.slow)])
def test_tamper_consistent_certificate(gl, kind):
    g, inp, _ = chain("adamw", (2, 4), 1, seed=6)
    msg = assert_rejected(g, inp, gl, {"opt": 1}, _consistent(kind, g.nodes[0].params["plan"]))
    if kind == "div":  # every identity holds: only a range check can catch it
        assert "range" in msg or "lookup" in msg, msg


def test_proof_bytes_statement_and_constants(gl):
    g, inp, _ = chain("adamw", (2, 4), 1, seed=7)
    stream, sections = _prove_verify(g, inp, gl)
    op_sec = [s for s in sections if s[0].startswith("op:adamw")][0]
    positions = list(range(op_sec[1], op_sec[2], max(1, (op_sec[2] - op_sec[1]) // 6)))
    positions += [len(stream) // 3, len(stream) - 1]
    for pos in positions:
        bad = bytearray(stream)
        bad[pos] ^= 0x04
        with pytest.raises((VerificationError, ProofFormatError)):
            graphlib.verify(g, bytes(bad), gl, {"opt": 1}, sections)
    with pytest.raises(VerificationError):
        graphlib.verify(g, stream, gl, {"opt": 2}, sections)
    # a node whose stored constants disagree with its hyper-parameters is refused
    g2, _, _ = chain("adamw", (2, 4), 1, seed=7)
    node = g2.nodes[0]
    node.params["lr"] = 2e-3
    with pytest.raises(VerificationError):
        graphlib.verify(g2, stream, gl, {"opt": 1}, sections)


def test_prover_errors_name_the_tensor(gl):
    g, inp, _ = chain("adamw", (2, 4), 1)
    inp = dict(inp)
    inp["g0"] = inp["g0"].clone()
    inp["g0"][0, 0] = 1 << 25
    with pytest.raises(ProverError, match="g0"):
        graphlib.forward(g, inp, gl.registry)
    # an update beyond the declared bound of q
    g = Graph()
    g.tensor("t", (2, 2), "committed", (-(1 << 16), 1 << 16))
    g.tensor("gr", (2, 2), "committed", GB)
    mb, vb = adam_state_bounds(GB)
    g.tensor("m", (2, 2), "committed", mb)
    g.tensor("v", (2, 2), "committed", vb)
    add_adam(g, "o", "t", "gr", "m", "v", step=1, update_bound=3)
    z = torch.zeros(2, 2, dtype=torch.int64)
    with pytest.raises(ProverError, match="o/q"):
        graphlib.forward(g, {"t": z, "gr": z + 1000, "m": z, "v": z}, gl.registry)
