"""Zero knowledge for more ops (docs/zero-knowledge.md §5.1): the ops declare how they
treat blinded claims (`Op.zk_blinds`, read by the scheduler: the kernel names no op),
zero-checks (`relations.vanishes`) hide their finals inside a blind-aware op, range
checks send masked values (their recompositions a claim on the masks), and the
embedding, lincomb (add), transpose, Hadamard and rescale-with-limbs ops carry blinds.

On a small graph with every one of those ops: the layout (every tensor may carry
blinds), the proof verifies, with programmed challenges no element of the new
messages distinguishes two witnesses of one statement (with `graph.HIDE_FINALS` off
they do: control), and each new message changed is rejected.
"""

from __future__ import annotations

from unittest import mock

import numpy as np
import pytest
import torch

from zklora.plugins.ops.embedding import add_embedding
from zklora.plugins.ops.layout import add_transpose
from zklora.zkcore import graph as graphlib
from zklora.zkcore import zk
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.op import ABSORB, PASS, Op
from zklora.zkcore.transcript import ProverChannel

from .test_zk import _distinguishable, _profile, programmed, recorded

REJECT = (VerificationError, ProofFormatError)
S = 20   # the rescale's shift: R ∈ [0, 2^20) is checked by committed limbs (range points)


def ops_graph() -> Graph:
    g = Graph()
    g.tensor("ids", (4,), "committed", (0, 7))
    g.tensor("table", (8, 4), "committed", (-255, 255))
    for t in ("W", "B", "C"):
        g.tensor(t, (4, 4), "committed", (-255, 255))
    h = add_embedding(g, "emb", "ids", "table")
    g.tensor("T", (4, 4), "virtual")
    g.op("matmul", "mm", [h, "W"], ["T"])
    g.tensor("A", (4, 4), "virtual")
    g.op("add", "add", ["T", "B"], ["A"])
    at = add_transpose(g, "tr", "A", [1, 0])
    g.tensor("P", (4, 4), "virtual")
    g.op("hadamard", "had", [at, "C"], ["P"])
    g.tensor("Y", (4, 4), "committed", (-128, 127))
    g.tensor("R", (4, 4), "committed", (0, (1 << S) - 1))
    g.op("rescale", "rs", ["P"], ["Y", "R"], shift=S)
    g.outputs = ["Y"]
    return g


def wit(seed: int = 0, flip: bool = False) -> dict:
    gen = torch.Generator().manual_seed(seed)
    w = {"ids": torch.randint(0, 8, (4,), generator=gen),
         "table": torch.randint(-255, 256, (8, 4), generator=gen)}
    for t in ("W", "B", "C"):
        w[t] = torch.randint(-255, 256, (4, 4), generator=gen)
    if flip:   # another witness of the same statement (the graph states nothing else)
        w["table"][w["ids"][0], 0] = -w["table"][w["ids"][0], 0] + 1
        w["B"][1, 2] = -w["B"][1, 2] + 1
    return w


#: the new hidden messages: the zero-check's finals (embedding booleanity), the masked
#: reveal of ids, the add's masked values, the range check's masked values
NEW = ("emb/zerocheck/finals", "emb/rows/ids", "add/lincomb", "rs/R/range/values")


def _runs(be, inputs, n):
    g = ops_graph()
    E = be.field.ext
    runs = []
    for _ in range(n):
        with zk.session(), recorded() as log:
            data, sec = graphlib.prove(g, inputs, be, {})
        with zk.session():
            graphlib.verify(g, data, be, {}, sec)
        runs.append(_profile(E, log, skip=()))
    return runs


def test_ops_declare_blinds(reg):
    """The built-in ops declare their handling themselves (registered like a third
    party's); an op that declares nothing is not blind-aware."""
    assert reg.op("matmul").zk_blinds == ABSORB and reg.op("rescale").zk_blinds == PASS
    assert reg.op("add").zk_blinds == PASS and reg.op("transpose").zk_blinds == PASS
    assert reg.op("embedding").zk_blinds == ABSORB
    assert Op.zk_blinds is None
    assert not hasattr(graphlib, "BLIND_AWARE")


def test_ops_graph_layout_and_verifies(gold):
    """Every tensor of the graph may carry blinds; the new messages are sent; ZK off
    the proof is the plain one (no λ, no masked values)."""
    seen = {}
    orig = graphlib._hidden_tensors

    def spy(graph, com, pub):
        seen["hide"] = out = orig(graph, com, pub)
        return out

    g = ops_graph()
    with zk.session(), recorded() as log, mock.patch.object(graphlib, "_hidden_tensors", spy):
        data, sec = graphlib.prove(g, wit(), gold, {})
    with zk.session():
        graphlib.verify(g, data, gold, {}, sec)
    elig = {t for t, s in g.tensors.items() if s.kind in ("committed", "virtual")}
    assert seen["hide"] == elig   # (and the range check's limbs: advice, no producer)
    labels = {lab for lab, _, _ in log}
    assert set(NEW) <= labels
    # the zero-check's last round has the hidden degree (OH·OH·eq: 1 + 2 + 2)
    rounds = {lab: v.shape[0] for lab, _, v in log if lab.startswith("emb/zerocheck/round")}
    last = max(rounds, key=lambda x: int(x.rsplit("round", 1)[1]))
    assert rounds[last] == 5
    with recorded() as plain:
        d2, s2 = graphlib.prove(g, wit(), gold, {})
    graphlib.verify(g, d2, gold, {}, s2)
    assert not any("/range/lambda" in lab or "/zk/" in lab for lab, _, _ in plain)


def test_ops_new_messages_indistinguishable(gold):
    """Programmed challenges, two witnesses of one statement: no element of the new
    messages (nor any other op-relation final) distinguishes them; with the hiding off
    (`graph.HIDE_FINALS`) they do (control)."""
    a, b = wit(), wit(flip=True)
    with programmed():
        ra, rb = _runs(gold, a, 8), _runs(gold, b, 8)
    for lab in NEW:
        assert (lab, 0) in ra[0]
    bad = {k[0] for k, _ in _distinguishable(ra, rb)}
    ops = ("emb/", "mm/", "add/", "tr/", "had/", "rs/", "out:", "reduce:")
    assert not {x for x in bad if x.startswith(ops) and not x.startswith("lookup")}, bad
    with programmed(), mock.patch.object(graphlib, "HIDE_FINALS", False):
        ca, cb = _runs(gold, a, 3), _runs(gold, b, 3)
    control = {k[0] for k, _ in _distinguishable(ca, cb)}
    assert {"emb/zerocheck/finals", "add/lincomb"} <= control, control


@pytest.mark.parametrize("kind", [*NEW, "emb/zerocheck/round2", "emb/zerocheck/zk/sum",
                                  "emb/rows/finals", "had/einsum/finals", "mm/einsum/finals"])
def test_ops_new_messages_tampered(gold, kind):
    """Each message of the hidden evaluations changed before it is sent (absorbed as
    changed): the verifier rejects."""
    g = ops_graph()
    orig = ProverChannel.send_field
    hit = []

    def send_field(self, label, field, a):
        if label == kind and not hit:
            hit.append(label)
            a = np.array(a, copy=True)
            a.reshape(-1)[-1] ^= 1
        return orig(self, label, field, a)

    with zk.session(), mock.patch.object(ProverChannel, "send_field", send_field), \
            mock.patch("zklora.zkcore.selfcheck.enabled", lambda: False):
        stream, sections = graphlib.prove(g, wit(), gold, {})
    assert hit
    with zk.session(), pytest.raises(REJECT):
        graphlib.verify(g, stream, gold, {}, sections)


def test_range_recomposition_false_limb_rejected(gold):
    """A committed limb of R's range check that does not recompose R (still in its
    lookup table): with the values masked the recomposition is a claim on the masks
    (`range._masked_residuals`), and the opening rejects it."""
    g = ops_graph()
    orig = graphlib.rangelib._limb
    seen = []

    def bad(ctx, tensor, lo, hi, side, offset, bits):
        out = orig(ctx, tensor, lo, hi, side, offset, bits)
        if tensor == "R" and offset == 0 and not seen:
            seen.append(1)
            out = out.clone()
            v = int(out.reshape(-1)[0])
            out.reshape(-1)[0] = v + 1 if v < (1 << bits) - 1 else v - 1
        return out

    with zk.session(), mock.patch.object(graphlib.rangelib, "_limb", bad), \
            mock.patch("zklora.zkcore.selfcheck.enabled", lambda: False):
        stream, sections = graphlib.prove(g, wit(), gold, {})
    assert seen
    with zk.session(), pytest.raises(REJECT):
        graphlib.verify(g, stream, gold, {}, sections)


# -- the converted ops in a training step ------------------------------------------------


@pytest.fixture(scope="module")
def micro_step():
    from .test_llama_train import micro

    return micro(1)


def _limbed_rescale(g) -> str:
    return next(n.name for n in g.nodes if n.op == "rescale" and n.params.get("limbs"))


@pytest.mark.parametrize("pattern", [r"/sumsq$", r"/opt/.*/zerocheck/finals$",
                                     r"/rows/ids$", r"/range/values$", r"/lincomb$",
                                     r"/silu/values$", "limbed"])
def test_micro_step_new_messages_tampered(micro_step, gold, pattern):
    """The segmented micro training step under ZK: the first message of each kind the
    converted ops send masked (the rmsnorm's V_a + ν, an optimiser's zero-check finals,
    the embedding's ĩds + ν, the range values, a lincomb's values, a SiLU's masked
    reveal, a limbed rescale's masked limbs) changed before it is sent: rejected."""
    import re

    _, g, inputs, _, st = micro_step
    rx = re.compile(re.escape(f"{_limbed_rescale(g)}/rescale/R") + "$"
                    if pattern == "limbed" else pattern)
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


def test_micro_step_verifies_with_blinds(micro_step, gold):
    """The micro step under ZK verifies, and every committed or virtual tensor may carry
    blinds (softmax, cross entropy and their backwards declare `zk_blinds` too now)."""
    _, g, inputs, _, st = micro_step
    seen = {}
    orig = graphlib._hidden_tensors

    def spy(graph, com, pub):
        seen["hide"] = out = orig(graph, com, pub)
        return out

    with zk.session(), mock.patch.object(graphlib, "_hidden_tensors", spy):
        stream, sections = graphlib.prove(g, inputs, gold, st)
    with zk.session():
        graphlib.verify(g, stream, gold, st, sections)
    prod = {o: n.op for n in reversed(g.nodes) for o in n.outputs}
    left = {prod.get(t) for t, s in g.tensors.items()
            if s.kind in ("committed", "virtual") and t not in seen["hide"]}
    assert left == set()
