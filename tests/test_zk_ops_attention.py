"""Zero knowledge for the attention and loss ops (docs/zero-knowledge.md §5.1): softmax,
softmax_backward (the attention backward), cross_entropy and cross_entropy_backward
declare `Op.zk_blinds` (`ABSORB`: their outputs are committed, their claims opened),
so their zero-checks hide their finals (`relations.vanishes`), the softmax backward's
ū, R_u and the cross entropy's r_L are masked reveals whose blinds the values computed
from them carry on (the row sum u, the labels' value, the grid's loss sum), and g_L's
claim is derived from the masked r_L.

On small graphs of each op (and the segmented micro training step): every tensor may
carry blinds and the proof verifies; each newly masked message differs between two
runs on one witness and holds none of the values the unhidden proof sends at the same
(programmed) point; each of them changed, and a witness element changed, is rejected;
ZK off, the proof is the plain one.
"""

from __future__ import annotations

import re
from unittest import mock

import numpy as np
import pytest
import torch

from zklora.plugins.ops.cross_entropy import cross_entropy_value
from zklora.zkcore import graph as graphlib
from zklora.zkcore import zk
from zklora.zkcore.op import ABSORB
from zklora.zkcore.testing.tamper import assert_rejected
from zklora.zkcore.transcript import ProverChannel

from .conftest import backend_for
from .test_attention_backward_op import forward_p, inputs, sb_graph
from .test_cross_entropy_backward_op import P as CE
from .test_cross_entropy_backward_op import with_forward
from .test_softmax_op import attention_graph, attention_wit
from .test_zk import _distinguishable, _profile, programmed, recorded
from .test_zk_ops import REJECT


def _graph(kind: str):
    """(graph, witness) of each small graph."""
    if kind == "attention":    # qk → softmax (causal mask) → pv → rescale
        g, _ = attention_graph()
        return g, attention_wit()
    if kind in ("softmax_backward", "softmax_backward_w"):   # κ = 1; κ ≠ 1 with W
        g, w, _, _ = sb_graph(4 if kind == "softmax_backward" else 8)
        return g, w
    if kind == "softmax_backward_fused":
        g, w, _, _ = sb_graph(8, dp_bits=26, fused=True)
        return g, w
    return with_forward()      # cross entropy (its softmax) and its backward


#: the messages each graph's converted ops now send masked (the finals of hidden
#: zero-checks / einsums, masked reveals)
NEW = {
    "attention": ("attn/softmax/zerocheck/finals", "attn/softmax/rows/zerocheck/finals"),
    "softmax_backward": ("sb/ubar", "sb/einsum/finals", "sb/zerocheck/finals"),
    "softmax_backward_w": ("sb/ubar", "sb/einsum/finals", "sb/zerocheck/finals"),
    "softmax_backward_fused": ("sb/ubar", "sb/einsum/finals", "sb/zerocheck/finals"),
    "cross_entropy": ("ce/zerocheck/finals", "ce/labels/finals", "ce/rL", "ce/grid/finals",
                      "ce/softmax/zerocheck/finals", "ce/softmax/rows/zerocheck/finals",
                      "ceb/zerocheck/finals"),
}
#: the hidden sumchecks among them (no u_i sent)
HIDDEN = {k: tuple(lab[:-len("/finals")] for lab in v if lab.endswith("/finals"))
          for k, v in NEW.items()}


def _prove(g, w, be, spy=None):
    with zk.session(), recorded() as log:
        if spy is None:
            data, sec = graphlib.prove(g, w, be, {})
        else:
            with mock.patch.object(graphlib, "_hidden_tensors", spy):
                data, sec = graphlib.prove(g, w, be, {})
    return data, sec, log


def _by_label(E, log) -> dict[str, list]:
    out: dict[str, list] = {}
    for lab, field, vals in log:
        out.setdefault(lab, []).extend(
            np.asarray(v).tobytes() for v in np.asarray(vals).reshape((-1,) + field.elem_shape))
    return out


def test_ops_declare_blinds(reg):
    for op in ("softmax", "softmax_backward", "cross_entropy", "cross_entropy_backward"):
        assert reg.op(op).zk_blinds == ABSORB, op
        assert reg.op(op).masks_reveals(None)


@pytest.mark.parametrize("kind", list(NEW))
def test_layout_and_verifies(gold, kind):
    """Every tensor may carry blinds; the ZK proof verifies; the new messages are sent,
    the hidden sumchecks send no u_i; ZK off the proof verifies and sends none of the
    ZK messages (r_L and g_L sent plain)."""
    g, w = _graph(kind)
    seen = {}
    orig = graphlib._hidden_tensors

    def spy(graph, com, pub):
        seen["hide"] = out = orig(graph, com, pub)
        return out

    data, sec, log = _prove(g, w, gold, spy)
    with zk.session():
        graphlib.verify(g, data, gold, {}, sec)
    elig = {t for t, s in g.tensors.items() if s.kind in ("committed", "virtual")}
    assert seen["hide"] == elig, sorted(elig - seen["hide"])
    labels = {lab for lab, _, _ in log}
    assert set(NEW[kind]) <= labels, set(NEW[kind]) - labels
    for h in HIDDEN[kind]:
        assert f"{h}/zk/sum" in labels and f"{h}/zk/mask" not in labels, h
    with recorded() as plain:
        d2, s2 = graphlib.prove(g, w, gold, {})
    graphlib.verify(g, d2, gold, {}, s2)
    assert not any("/zk/" in lab or "/range/lambda" in lab for lab, _, _ in plain)
    if kind == "cross_entropy":
        assert {lab: v.shape[0] for lab, _, v in plain}["ce/rL"] == 2   # r_L, g_L plain
        assert {lab: v.shape[0] for lab, _, v in log}["ce/rL"] == 1     # r̃_L + ν


@pytest.mark.parametrize("field, commitment", [("bls12-381-fr", "plain"),
                                               ("goldilocks", "ligero")])
@pytest.mark.parametrize("kind", ["softmax_backward_w", "cross_entropy"])
def test_other_backends_verify(reg, field, commitment, kind):
    """Over a prime field (one hidden table per ν slot element: another capacity) and
    under hiding ligero (blinded stack claims opened as sum claims): verifies, every
    tensor may carry blinds, r_L sent masked."""
    be = backend_for(reg, field, commitment, "logup-gkr")
    g, w = _graph(kind)
    seen = {}
    orig = graphlib._hidden_tensors

    def spy(graph, com, pub):
        seen["hide"] = out = orig(graph, com, pub)
        return out

    data, sec, log = _prove(g, w, be, spy)
    with zk.session():
        graphlib.verify(g, data, be, {}, sec)
    assert seen["hide"] == {t for t, s in g.tensors.items()
                            if s.kind in ("committed", "virtual")}
    assert set(NEW[kind]) <= {lab for lab, _, _ in log}


@pytest.mark.parametrize("kind", ["attention", "softmax_backward_w", "cross_entropy"])
def test_masked_messages_fresh_and_hide_the_values(gold, kind):
    """Programmed challenges (every run evaluates at the same points): two ZK runs on one
    witness send different values in every element of each new message, and none of
    them is a value the proof with the hiding off (`graph.HIDE_FINALS`, the same
    session) sends under that label — the evaluations revealed before."""
    g, w = _graph(kind)
    E = gold.field.ext
    with programmed():
        a = _by_label(E, _prove(g, w, gold)[2])
        b = _by_label(E, _prove(g, w, gold)[2])
        with mock.patch.object(graphlib, "HIDE_FINALS", False):
            c = _by_label(E, _prove(g, w, gold)[2])
            c2 = _by_label(E, _prove(g, w, gold)[2])
    for lab in NEW[kind]:
        # the control's values are the evaluations at the programmed points: the same
        # in every run (so the points are the ZK runs' too)
        assert c[lab] == c2[lab], lab
        assert len(a[lab]) == len(b[lab]) and a[lab], lab
        assert all(x != y for x, y in zip(a[lab], b[lab])), lab
        assert c[lab] and not set(c[lab]) & (set(a[lab]) | set(b[lab])), lab
        assert len(set(a[lab])) == len(a[lab]), lab


def _other_witness(kind: str, w: dict) -> dict:
    """Another witness of the same statement (graph, outputs' kinds, published loss)."""
    if kind == "attention":
        return attention_wit(seed=1)
    if kind == "softmax_backward_w":
        o = inputs(H=2, Hkv=1, dh=8, seed=5)
        gen = torch.Generator().manual_seed(11)
        return {"P": forward_p(o["Q"], o["K"]),
                "dP": torch.randint(-(1 << 30), 1 << 30, (1, 2, 4, 4), generator=gen)}
    # cross entropy: the vocabulary permuted (logit columns and labels alike) leaves the
    # row maxima, the row sums, the selected logits and so the loss unchanged
    perm = torch.randperm(w["Z"].shape[-1], generator=torch.Generator().manual_seed(3))
    inv = torch.argsort(perm)
    lab = torch.where(w["lab"] >= 0, inv[w["lab"].clamp(min=0)], w["lab"])
    out = {"Z": w["Z"][:, perm], "lab": lab}
    assert cross_entropy_value(out["Z"], lab, **CE) == cross_entropy_value(w["Z"], w["lab"],
                                                                           **CE)
    return out


#: the labels whose elements are compared (the ops of each graph, their outputs'
#: values and claim reductions; the commitment's and the lookup argument's messages are
#: tested on their own)
PREFIXES = {"attention": ("attn/", "out:", "reduce:"), "softmax_backward_w": ("sb/", "out:",
                                                                             "reduce:"),
            "cross_entropy": ("ce/", "ceb/", "out:", "reduce:")}


@pytest.mark.parametrize("kind", list(PREFIXES))
def test_two_witnesses_indistinguishable(gold, kind):
    """Programmed challenges, two witnesses of one statement: no element any of the
    graph's op relations send distinguishes them (`test_zk._distinguishable`: repeats or
    bit-count means), the new messages included; with the hiding off
    (`graph.HIDE_FINALS`) the new messages do (control)."""
    g, a = _graph(kind)
    b = _other_witness(kind, a)
    E = gold.field.ext

    def runs(w, n):
        out = []
        for _ in range(n):
            out.append(_profile(E, _prove(g, w, gold)[2], skip=()))
        return out

    with programmed():
        ra, rb = runs(a, 8), runs(b, 8)
    bad = {k[0] for k, _ in _distinguishable(ra, rb)}
    assert not {x for x in bad if x.startswith(PREFIXES[kind])}, bad
    with programmed(), mock.patch.object(graphlib, "HIDE_FINALS", False):
        ca, cb = runs(a, 3), runs(b, 3)
    control = {k[0] for k, _ in _distinguishable(ca, cb)}
    assert set(NEW[kind]) - {"ce/rL"} <= control, set(NEW[kind]) - control


def _tamper_cases():
    out = []
    for kind, labels in NEW.items():
        for lab in labels:
            out.append((kind, lab))
    out += [("cross_entropy", "ce/grid/zk/sum"), ("cross_entropy", "ce/grid/round"),
            ("softmax_backward", "sb/einsum/round"), ("attention", "attn/softmax/zerocheck/round")]
    return out


@pytest.mark.parametrize("kind, label", _tamper_cases())
def test_new_messages_tampered(gold, kind, label):
    """Each newly masked message (a hidden final, a masked reveal), a hidden sumcheck's
    G and its last round (of the hidden degree) changed before it is sent (absorbed as
    changed): the verifier rejects."""
    g, w = _graph(kind)
    last = {}
    if label.endswith("/round"):   # the last round: the hidden one
        _, _, log = _prove(g, w, gold)
        last["label"] = max((lab for lab, _, _ in log if re.fullmatch(
            re.escape(label) + r"\d+", lab)), key=lambda x: int(x.rsplit("round", 1)[1]))
        label = last["label"]
    orig = ProverChannel.send_field
    hit = []

    def send_field(self, lab, field, a):
        if lab == label and not hit:
            hit.append(lab)
            a = np.array(a, copy=True)
            a.reshape(-1)[-1] ^= 1
        return orig(self, lab, field, a)

    with zk.session(), mock.patch.object(ProverChannel, "send_field", send_field), \
            mock.patch("zklora.zkcore.selfcheck.enabled", lambda: False):
        stream, sections = graphlib.prove(g, w, gold, {})
    assert hit
    with zk.session(), pytest.raises(REJECT):
        graphlib.verify(g, stream, gold, {}, sections)


def _bump(*changes):
    def f(values):
        for name, index, delta in changes:
            values[name].reshape(-1)[index] += delta
    return f


WITNESS = [
    ("attention", "softmax P", _bump(("attn/softmax/P", 5, 1))),
    ("attention", "softmax e", _bump(("attn/softmax/e", 5, 1))),
    ("softmax_backward", "ubar", _bump(("sb/ubar", 1, 1))),
    ("softmax_backward", "ubar_r", _bump(("sb/ubar_r", 1, 1))),
    ("softmax_backward", "dZ", _bump(("sb/dZ", 3, 1))),
    ("softmax_backward_w", "W", _bump(("sb/W", 3, 1))),
    ("cross_entropy", "r_L", _bump(("ce/rL", 0, 1))),
    ("cross_entropy", "r_L and g_L", _bump(("ce/rL", 0, 1), ("ce/gL", 0, -1))),
    ("cross_entropy", "g_L", _bump(("ce/gL", 0, -1))),
    ("cross_entropy", "m", _bump(("ce/m", 2, 1))),
    ("cross_entropy", "lmu", _bump(("ce/lmu", 1, 1))),
    ("cross_entropy", "ceb dZ", _bump(("ceb/dZ", 4, 1))),
]


@pytest.mark.parametrize("kind, what, tamper", WITNESS, ids=[f"{k}-{w}" for k, w, _ in WITNESS])
def test_witness_tampered_rejected(gold, kind, what, tamper):
    """A witness element changed (the commitments made of the changed witness, the
    prover's self-checks off), proven in ZK: the verifier rejects (the relations'
    final checks are claims on the masks, checked by the opening)."""
    g, w = _graph(kind)
    with zk.session():
        assert_rejected(g, w, gold, {}, tamper)


# -- the segmented micro training step -----------------------------------------------------


@pytest.fixture(scope="module")
def micro_step():
    from .test_llama_train import micro

    return micro(1)


MICRO = (r"\.attn/softmax/zerocheck/finals$", r"\.attn/softmax/rows/zerocheck/finals$",
         r"/softmax_backward/ubar$", r"/softmax_backward/einsum/finals$",
         r"/loss/rL$", r"/loss/grid/finals$", r"/loss/labels/finals$",
         r"/loss\.bwd/zerocheck/finals$")


def test_micro_step_every_tensor_carries_blinds(micro_step, gold):
    """The segmented micro training step under ZK verifies and every committed or
    virtual tensor may carry blinds (none left to softmax, cross entropy and their
    backwards); the new messages are sent."""
    _, g, inputs, _, st = micro_step
    seen = {}
    orig = graphlib._hidden_tensors

    def spy(graph, com, pub):
        seen["hide"] = out = orig(graph, com, pub)
        return out

    with zk.session(), recorded() as log, \
            mock.patch.object(graphlib, "_hidden_tensors", spy):
        stream, sections = graphlib.prove(g, inputs, gold, st)
    with zk.session():
        graphlib.verify(g, stream, gold, st, sections)
    left = {t for t, s in g.tensors.items()
            if s.kind in ("committed", "virtual") and t not in seen["hide"]}
    assert not left, sorted(left)
    labels = [lab for lab, _, _ in log]
    for p in MICRO:
        assert any(re.search(p, lab) for lab in labels), p


@pytest.mark.parametrize("pattern", MICRO)
def test_micro_step_new_messages_tampered(micro_step, gold, pattern):
    _, g, inputs, _, st = micro_step
    rx = re.compile(pattern)
    orig = ProverChannel.send_field
    hit = []

    def send_field(self, label, field, a):
        if not hit and rx.search(label):
            hit.append(label)
            a = np.array(a, copy=True)
            a.reshape(-1)[-1] ^= 1
        return orig(self, label, field, a)

    with zk.session(), mock.patch.object(ProverChannel, "send_field", send_field), \
            mock.patch("zklora.zkcore.selfcheck.enabled", lambda: False):
        stream, sections = graphlib.prove(g, inputs, gold, st)
    assert hit, pattern
    with zk.session(), pytest.raises(REJECT):
        graphlib.verify(g, stream, gold, st, sections)


def test_zk_off_unchanged(gold):
    """Without a ZK session the four ops send exactly what they sent before: r_L and g_L
    in one message, no masked value, no hidden sumcheck (the proof bytes themselves are
    pinned by the determinism of a non-ZK proof: two runs agree)."""
    g, w = _graph("cross_entropy")
    with recorded() as log:
        a, _ = graphlib.prove(g, w, gold, {})
    b, _ = graphlib.prove(g, w, gold, {})
    assert a == b
    got = {lab: v for lab, _, v in log}
    assert got["ce/rL"].shape[0] == 2
    vals = graphlib.forward(g, w, gold.registry)
    E = gold.field.ext
    want = E.from_ints(torch.cat([vals["ce/rL"].reshape(-1), vals["ce/gL"].reshape(-1)]))
    assert np.array_equal(got["ce/rL"], want)
