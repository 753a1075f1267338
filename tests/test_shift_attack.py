"""Issue 9.1: the softmax row shift c is the row maximum, and nothing else is accepted.

The attack: a cheating prover raises c_i above the row maximum (by less than
logsumexp − max, so S ≥ 2^s still holds) and recomputes every downstream value from the
raised shift — P, the cross-entropy loss (public), the backward's gradients, the
trained adapter — a witness that satisfies every relation but the selector's
(J) sel·(c − κX) = 0.  The tests patch the integer softmax forward (the graph's forward
and `cross_entropy_value` then compute the cheating witness and statement), prove with
the self-checks off, and check that the verifier rejects.  ``pinned=False`` drops (J)
on both sides (the design before the fix): the same proof is then accepted, so each
test would have failed before the fix.

The selector's own relations: (I) booleanity and zero on masked entries, (K) one 1 per
row, each tampered on its own (the other relations still hold).
"""

from __future__ import annotations

import math

import pytest
import torch

from zklora.plugins.ops import softmax as sm_mod
from zklora.plugins.ops.attention_backward import add_attention_backward
from zklora.plugins.ops.cross_entropy import add_cross_entropy, cross_entropy_value
from zklora.plugins.ops.cross_entropy_backward import (
    add_cross_entropy_backward,
    cross_entropy_saved,
)
from zklora.plugins.ops.softmax import Softmax, add_attention, low_bits
from zklora.zkcore import graph as graphlib
from zklora.zkcore.errors import ProverError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.tamper import assert_rejected, prove_tampered

from .test_softmax_op import softmax_graph, softmax_wit

_HONEST = sm_mod.softmax_forward


def _raised_shifts(x, mask, *, scale, shift, kappa, exp_scale, frac, **kw):
    """c + δ per row with δ ≈ frac·(logsumexp − max) at the score scale, lowered (to 0 at
    worst) until S ≥ 2^s: the largest shifts the proof admitted before the fix."""
    p = dict(scale=scale, shift=shift, kappa=kappa, exp_scale=exp_scale, **kw)
    honest = _HONEST(x, mask, **p)
    y = x.to(torch.float64) * kappa / 2.0 ** (scale + shift)
    allowed = torch.ones_like(y, dtype=torch.bool) if mask is None else \
        mask.to(torch.bool).expand_as(y)
    y = y.masked_fill(~allowed, -math.inf)
    gap = torch.logsumexp(y, -1) - y.amax(-1)
    unit = 1 << low_bits(scale, shift, exp_scale)      # keep δ on the digits' grid
    delta = (gap * frac * 2.0 ** (scale + shift) / unit).floor().to(torch.int64) * unit
    for _ in range(12):
        out = _HONEST(x, mask, **p, shifts=honest["c"] + delta)
        low = out["S"] < 1 << scale
        if not bool(low.any()):
            return out
        delta = torch.where(low, delta // 2 // unit * unit, delta)
    return _HONEST(x, mask, **p, shifts=honest["c"] + torch.where(low, 0, delta))


def cheat(monkeypatch, which: str = "both", frac: float = 0.9, pinned: bool = True):
    """Make every softmax forward of kind ``which`` ("ce": unmasked, "attn": masked,
    "both") use raised shifts; ``pinned=False`` also drops (J) from the op."""
    raised = []

    def forward(x, mask, *, shifts=None, **kw):
        hit = which == "both" or (which == "ce") == (mask is None)
        if shifts is not None or not hit:
            return _HONEST(x, mask, shifts=shifts, **kw)
        out = _raised_shifts(x, mask, frac=frac, **kw)
        raised.append(int((out["c"] != _HONEST(x, mask, **kw)["c"]).sum()))
        return out

    # the cross-entropy reaches it through the builder "softmax.forward"
    monkeypatch.setattr(sm_mod, "softmax_forward", forward)
    if not pinned:
        keep_i = Softmax._selector_terms
        monkeypatch.setattr(Softmax, "_selector_terms",
                            staticmethod(lambda k, m: keep_i(k, m)[:1]))
    return raised


def _attack(monkeypatch, build, which, pinned, gold, changed):
    """Honest values; the cheating graph, statement and witness; then the verdict."""
    g0, inputs = build()
    honest = graphlib.forward(g0, inputs, gold.registry)
    raised = cheat(monkeypatch, which, pinned=pinned)
    g, inputs = build()                      # the cheating statement (e.g. its loss)
    forged = graphlib.forward(g, inputs, gold.registry)
    assert sum(raised) > 0, "no row admits a raised shift: the test exercises nothing"
    for n in changed:                        # the cheat really changes the results
        assert not torch.equal(forged[n], honest[n]), n
    if pinned:
        with pytest.raises(ProverError, match="softmax"):    # the self-checking prover
            graphlib.prove(g, inputs, gold, {})
        msg = assert_rejected(g, inputs, gold, {}, lambda values: None)
        assert "softmax" in msg
    else:
        stream, sections = prove_tampered(g, inputs, gold, {}, lambda values: None)
        graphlib.verify(g, stream, gold, {}, sections)      # accepted without (J)


# -- cross-entropy: forward (public loss) and backward (dlogits from the cheating P) -------

CE = dict(scale=8, exp_scale=10, digit_bits=8, mantissa_bits=6, limb_bits=8)


def ce_train_graph(T=8, V=16, seed=7):     # seed 7: the raised shifts move the loss
    gen = torch.Generator().manual_seed(seed)
    z = (torch.randn(T, V, generator=gen) * 2 * (1 << CE["scale"])).round().to(torch.int64)
    lab = torch.randint(0, V, (T,), generator=gen)
    lab[2] = -100
    loss, n = cross_entropy_value(z, lab, **CE)
    g = Graph()
    g.tensor("Z", (T, V), "committed", (-(1 << 20), 1 << 20))
    g.tensor("lab", (T,), "committed")
    out = add_cross_entropy(g, "ce", "Z", "lab", loss=loss, num_tokens=n, **CE)
    dz = add_cross_entropy_backward(g, "ceb", *cross_entropy_saved("ce"),
                                    scale=CE["scale"], limb_bits=8)
    g.outputs = [out, dz]
    return g, {"Z": z, "lab": lab}


@pytest.mark.parametrize("pinned", [True, False])
def test_cross_entropy_raised_shift_rejected(gold, monkeypatch, pinned):
    _attack(monkeypatch, ce_train_graph, "ce", pinned, gold,
            ["ce/softmax/c", "ce/softmax/P", "ce/loss", "ceb/dZ"])


# -- attention: forward (O = P·V) and backward (dQ, dK, dV from the cheating P) ------------


def attention_train_graph(B=1, H=4, Hkv=2, T=8, dh=4, seed=0):
    gen = torch.Generator().manual_seed(seed)
    w = {n: (torch.randn((B, h, T, dh), generator=gen) * 1.5 * (1 << 16)).round()
         .to(torch.int64) for n, h in (("Q", H), ("K", Hkv), ("V", Hkv))}
    w["dO"] = (torch.randn((B, H, T, dh), generator=gen) * 0.5 * (1 << 24)).round() \
        .to(torch.int64)
    g = Graph()
    for n, h in (("Q", H), ("K", Hkv), ("V", Hkv)):
        g.tensor(n, (B, h, T, dh), "committed", (-(1 << 20), 1 << 20))
    g.tensor("dO", (B, H, T, dh), "committed", (-(1 << 26), 1 << 26))
    O = add_attention(g, "attn", "Q", "K", "V")
    grads = add_attention_backward(g, "ab", "Q", "K", "V", "attn/softmax/P", "dO")
    g.outputs = [O, *grads]
    return g, w


@pytest.mark.parametrize("pinned", [True, False])
def test_attention_raised_shift_rejected(gold, monkeypatch, pinned):
    _attack(monkeypatch, attention_train_graph, "attn", pinned, gold,
            ["attn/softmax/c", "attn/softmax/P", "attn/out", "ab/dQ", "ab/dK", "ab/dV"])


# -- a LoRA training step: both softmaxes, loss, gradients and the trained adapter ---------


@pytest.mark.parametrize("which", ["ce", "attn"])
def test_training_step_raised_shift_rejected(gold, monkeypatch, which):
    from .test_llama_train import micro

    _, g0, inputs, res0, _ = micro(1)
    raised = cheat(monkeypatch, which)
    spec, g, inputs, res, st = micro(1)      # the cheating run and statement (losses)
    assert sum(raised) > 0
    # the LoRA gradients and the optimiser's published outputs (adapter / AdamW state)
    # follow the cheating P (the micro batch's rounded loss happens not to move)
    grads = [n for n in g.tensors if n.endswith(("bwd/dA/Y", "bwd/dB/Y"))]
    opt = [n for n in g.outputs if n.startswith("s0/opt/")]
    for names in (grads, opt):
        assert names and any(not torch.equal(res.values[n], res0.values[n]) for n in names)
    msg = assert_rejected(g, inputs, gold, st, lambda values: None)
    assert "softmax" in msg


# -- the selector itself: each of (I), (K) tampered alone -----------------------------------

ROW = 3        # row 3 of the (8, 8) causal mask: columns 0..3 allowed


def _sel_case(case):
    """(witness, tamper) where only the named relation fails: the other ones still hold
    (ties and masked values are arranged so that (J) does)."""
    w = softmax_wit()
    x = w["X"]
    g, names = softmax_graph()
    j = int(x[0, 0, ROW, :ROW + 1].argmax())
    other = (j + 1) % (ROW + 1)
    sel = names["sel"]

    def at(values, col, v):
        values[sel][0, 0, ROW, col] = v

    if case == "two_ones":            # a tie: both maxima selected, row sum 2 → (K)
        x[0, 0, ROW, other] = x[0, 0, ROW, j]
        return g, w, lambda v: at(v, other, 1), "K"
    if case == "no_one":              # an all-zero row → (K)
        return g, w, lambda v: at(v, j, 0), "K"
    if case == "not_boolean":         # 2 and −1 on tied maxima: sum 1, (J) holds → (I)
        x[0, 0, ROW, other] = x[0, 0, ROW, j]
        return g, w, lambda v: (at(v, j, 2), at(v, other, -1)), "I"
    if case == "masked":              # the 1 moved to a masked entry equal to c → (I)
        x[0, 0, ROW, ROW + 2] = x[0, 0, ROW, j]
        return g, w, lambda v: (at(v, j, 0), at(v, ROW + 2, 1)), "I"
    if case == "not_max":             # the 1 moved to a smaller allowed entry → (J)
        assert x[0, 0, ROW, other] < x[0, 0, ROW, j]
        return g, w, lambda v: (at(v, j, 0), at(v, other, 1)), "J"
    raise AssertionError(case)


CASES = ["two_ones", "no_one", "not_boolean", "masked", "not_max"]


@pytest.mark.parametrize("case", CASES)
def test_selector_tampered_rejected(gold, case):
    g, w, tamper, _ = _sel_case(case)
    assert_rejected(g, w, gold, {}, tamper)


@pytest.mark.parametrize("case", ["not_boolean", "masked", "not_max"])
def test_selector_tamper_needs_its_relation(gold, monkeypatch, case):
    """Control: with the relation a case targets dropped ((I) or (J); (K) is a claim, its
    cases keep (I) and (J) by construction), the tampered proof is accepted: each case
    exercises exactly its relation."""
    g, w, tamper, rel = _sel_case(case)
    keep = Softmax._selector_terms
    part = slice(1, None) if rel == "I" else slice(0, 1)
    monkeypatch.setattr(Softmax, "_selector_terms",
                        staticmethod(lambda k, m: keep(k, m)[part]))
    stream, sections = prove_tampered(g, w, gold, {}, tamper)
    graphlib.verify(g, stream, gold, {}, sections)


def test_tied_maxima_either_selection_accepted(gold):
    """Under ties sel is not unique (either maximal entry verifies) but c and every
    other output are: the second tied entry selected instead of the first."""
    w = softmax_wit()
    x = w["X"]
    g, names = softmax_graph()
    j = int(x[0, 0, ROW, :ROW + 1].argmax())
    other = (j + 1) % (ROW + 1)
    x[0, 0, ROW, other] = x[0, 0, ROW, j]

    def swap(values):
        values[names["sel"]][0, 0, ROW, j] = 0
        values[names["sel"]][0, 0, ROW, other] = 1

    stream, sections = prove_tampered(g, w, gold, {}, swap)
    graphlib.verify(g, stream, gold, {}, sections)
    assert torch.equal(graphlib.forward(g, w, gold.registry)[names["c"]].reshape(-1)[ROW],
                       x[0, 0, ROW, :ROW + 1].max())
