"""Segmented proofs (issue 14, DESIGN §3.9): segments declared in the graph, each proven
on its own transcript fork, the segmentation recorded in the proof and checked by the
verifier; a segment's proof presented for another, reordered or dropped is rejected."""

from __future__ import annotations

import struct

import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import segments as segmentlib
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.graph import Graph
from zklora.zkcore.testing.tamper import assert_rejected

from .conftest import backend_for
from .test_llama_train import micro

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

REJECT = (VerificationError, ProofFormatError)


@pytest.fixture(scope="module")
def be(reg):
    return backend_for(reg, "goldilocks", "plain", "logup-gkr")


@pytest.fixture(scope="module")
def step():
    return micro(1)


@pytest.fixture(scope="module")
def proof(step, be):
    spec, g, inputs, res, st = step
    return graphlib.prove(g, inputs, be, st)


def _segments(sections):
    """(index, id, start, end) of every segment section (start: its length prefix)."""
    out = []
    for name, a, b in sections:
        if name.startswith("segment:"):
            _, i, sid = name.split(":", 2)
            out.append((int(i), sid, a, b))
    return out


# -- the graph ------------------------------------------------------------------------


def _chain(seg_of_second: str | None = "b", commit_mid: bool = True) -> Graph:
    g = Graph()
    g.tensor("x", (4,), "committed")
    g.tensor("c", (4,), "public", value=torch.arange(4))
    g.tensor("y", (4,), "committed" if commit_mid else "virtual")
    g.tensor("z", (4,), "committed")
    with g.segment("a"):
        g.op("add", "f", ["x", "c"], ["y"])
    if seg_of_second is None:
        g.op("add", "h", ["y", "c"], ["z"])
    else:
        with g.segment(seg_of_second):
            g.op("add", "h", ["y", "c"], ["z"])
    g.outputs.append("z")
    return g


def test_segments_declared_and_planned():
    g = _chain()
    segs = g.segments()
    assert [(s.index, s.id, s.start, s.stop, s.outputs) for s in segs] == \
        [(0, "a", 0, 1, ("y",)), (1, "b", 1, 2, ())]
    assert g.describe()["segments"] == [["a", 0, 1], ["b", 1, 2]]
    assert "segments" not in Graph().describe()          # unsegmented: as before
    one = Graph()
    one.tensor("x", (4,), "committed")
    assert [s.id for s in one.segments()] == [segmentlib.UNSEGMENTED]


def test_boundary_must_be_committed():
    g = _chain(commit_mid=False)
    assert segmentlib.crossing(g) == ["y"]
    with pytest.raises(ValueError, match="tensor y crosses from segment 'a' to segment 'b'"):
        g.check()
    g.commit_boundary("y")
    g.check()
    assert segmentlib.crossing(g) == []


def test_malformed_segmentations_refused():
    with pytest.raises(ValueError, match="op 'h' .* is in no segment"):
        _chain(seg_of_second=None).check()
    g = _chain()
    g.tensor("w", (4,), "committed")
    with g.segment("a"):
        g.op("add", "k", ["z", "c"], ["w"])
    g.outputs.append("w")
    with pytest.raises(ValueError, match="segment 'a' is not contiguous"):
        g.check()
    with pytest.raises(ValueError, match="inside segment"):
        with g.segment("p"), g.segment("q"):
            pass


def test_small_segmented_graph_proves(reg):
    be = backend_for(reg, "goldilocks", "plain")
    g = _chain()
    stream, sections = graphlib.prove(g, {"x": torch.tensor([1, 2, 3, 4])}, be, {"t": 1})
    graphlib.verify(g, stream, be, {"t": 1}, sections)
    assert [s[:2] for s in _segments(sections)] == [(0, "a"), (1, "b")]
    # y's producer (segment a) must answer the claim drawn on y in a's fork: a wrong y
    # (consistent with z in segment b) is caught in segment a
    bad = {"x": torch.tensor([1, 2, 3, 4])}
    vals = graphlib.forward(g, bad, be.registry)
    vals["y"] = vals["y"] + 1
    vals["z"] = vals["z"] + 1
    from zklora.zkcore import selfcheck
    with selfcheck.disabled():
        s2, sec2 = graphlib.prove(g, bad, be, {"t": 1}, values=vals)
    with pytest.raises(REJECT):
        graphlib.verify(g, s2, be, {"t": 1}, sec2)


# -- the training step ----------------------------------------------------------------


def test_training_step_segments(step):
    spec, g, inputs, res, st = step
    ids = [s.id for s in g.segments()]
    assert ids == ["s0/embed", "s0/l0.fwd", "s0/loss", "s0/l0.bwd", "s0/opt"]
    # the residual stream and its gradient cross segments: committed
    assert g.tensors["s0/embed/lookup/H"].kind == "committed"
    assert g.tensors["s0/l0.res2"].kind == "committed"
    assert segmentlib.crossing(g) == []


def test_segmented_step_verifies_and_records_segments(step, proof, be):
    spec, g, inputs, res, st = step
    stream, sections = proof
    graphlib.verify(g, stream, be, st, sections)
    segs = _segments(sections)
    assert [(i, sid) for i, sid, _, _ in segs] == [(s.index, s.id) for s in g.segments()]
    for _, _, a, b in segs:    # each segment: its byte length, then its proof
        assert struct.unpack("<Q", stream[a:a + 8])[0] == b - a - 8


def test_phase1_drops_virtual_witness(step, be):
    spec, g, inputs, res, st = step
    full = graphlib.forward(g, inputs, be.registry)
    kept = graphlib.forward(g, inputs, be.registry, drop=True)
    virtual = {t for t, s in g.tensors.items() if s.kind == "virtual"}
    assert virtual & set(full) and len(virtual & set(kept)) < len(virtual & set(full)) // 4
    for t in kept:
        assert torch.equal(kept[t], full[t])
    # a segment's dropped witness is recomputed exactly
    seg = g.segments()[1]
    local = graphlib._recompute(g, be.registry, seg, kept)
    assert local and all(torch.equal(v, full[t]) for t, v in local.items())


def _splice(stream: bytes, segs, order) -> bytes:
    head, tail = stream[:segs[0][2]], stream[segs[-1][3]:]
    return head + b"".join(stream[segs[k][2]:segs[k][3]] for k in order) + tail


def test_segments_reordered_rejected(step, proof, be):
    spec, g, inputs, res, st = step
    stream, sections = proof
    segs = _segments(sections)
    n = len(segs)
    for order in ([1, 0] + list(range(2, n)), list(range(n))[::-1]):
        with pytest.raises(REJECT):
            graphlib.verify(g, _splice(stream, segs, order), be, st)


def test_segment_presented_for_another_rejected(step, proof, be):
    spec, g, inputs, res, st = step
    stream, sections = proof
    segs = _segments(sections)
    # segment 3's proof (with its length) in place of segment 1's
    order = [0, 3, 2, 3] + list(range(4, len(segs)))
    with pytest.raises(REJECT):
        graphlib.verify(g, _splice(stream, segs, order), be, st)
    # segment 1's proof in place of segment 2's
    order = [0, 1, 1] + list(range(3, len(segs)))
    with pytest.raises(REJECT):
        graphlib.verify(g, _splice(stream, segs, order), be, st)


def test_segment_dropped_rejected(step, proof, be):
    spec, g, inputs, res, st = step
    stream, sections = proof
    segs = _segments(sections)
    for k in range(len(segs)):
        order = [j for j in range(len(segs)) if j != k]
        with pytest.raises(REJECT):
            graphlib.verify(g, _splice(stream, segs, order), be, st)


def test_segmentation_bound_to_the_graph(step, proof, be):
    """A verifier whose graph has another segmentation rejects (the description is
    absorbed, and the segment count and forks differ); a byte flip in a segment too."""
    spec, g, inputs, res, st = step
    stream, sections = proof
    other = micro(1)[1]
    segs = other.segments()
    # merge the loss segment into the last layer's forward
    for n in other.nodes[segs[2].start:segs[2].stop]:
        other.node_segments[n.name] = segs[1].id
    other.check()
    assert len(other.segments()) == len(segs) - 1
    with pytest.raises(REJECT):
        graphlib.verify(other, stream, be, st)
    i, sid, a, b = _segments(sections)[2]
    flipped = bytearray(stream)
    flipped[(a + b) // 2] ^= 1
    with pytest.raises(REJECT):
        graphlib.verify(g, bytes(flipped), be, st)


def test_segment_boundary_witness_tamper_rejected(step, be):
    """A wrong boundary tensor (the residual stream after layer 0, consistently fed to
    the next segment) is caught by its producer's segment."""
    spec, g, inputs, res, st = step

    def tamper(v):
        v["s0/l0.res2"] = v["s0/l0.res2"].clone()
        v["s0/l0.res2"].view(-1)[0] += 1

    assert_rejected(g, inputs, be, st, tamper)


# -- the executor choice ----------------------------------------------------------------


def test_executor_config():
    from zklora.zkcore import config, executors, pyapi
    from zklora.zkcore.errors import ConfigError

    assert config.from_dict({}).executor == {"name": "local"}
    cfg = config.from_dict({"executor": {"name": "ray", "address": "h:6379",
                                         "max_retries": 2}})
    assert cfg.executor == {"name": "ray", "address": "h:6379", "max_retries": 2}
    for bad, msg in (({"name": "spark"}, "not an executor"), ({"nodes": 3}, "unknown key"),
                     ({"max_retries": -1}, "max_retries"), ({"address": 7}, "address")):
        with pytest.raises(ConfigError, match=msg):
            config.from_dict({"executor": bad})
    cfg = pyapi.build_config(executor="ray", ray_address="a:1")
    assert cfg.executor["name"] == "ray" and cfg.executor["address"] == "a:1"
    assert isinstance(executors.make("local"), executors.LocalExecutor)
    with pytest.raises(ConfigError, match="recipe"):
        executors.make("ray", {})


def test_fork_binds_index_and_id(reg, monkeypatch):
    """Forks of different segments (index or id) differ; a prover that proves a segment
    on another segment's fork is rejected, even where the segments' proofs have the same
    shape (two identical chains here)."""
    base = b"\x01" * 32
    states = {segmentlib.fork("blake3", b"p", base, i, sid).state
              for i in (0, 1) for sid in ("a", "b")}
    assert len(states) == 4 and base not in states
    be = backend_for(reg, "goldilocks", "plain")
    g = Graph()
    g.tensor("c", (4,), "public", value=torch.arange(4))
    for k in ("a", "b"):
        g.tensor(f"x{k}", (4,), "committed")
        g.tensor(f"y{k}", (4,), "committed")
        with g.segment(k):
            g.op("add", f"f{k}", [f"x{k}", "c"], [f"y{k}"])
        g.outputs.append(f"y{k}")
    inputs = {"xa": torch.tensor([1, 2, 3, 4]), "xb": torch.tensor([1, 2, 3, 4])}
    stream, sections = graphlib.prove(g, inputs, be, {"t": 1})
    graphlib.verify(g, stream, be, {"t": 1}, sections)
    segs = _segments(sections)
    assert segs[0][3] - segs[0][2] == segs[1][3] - segs[1][2]    # same shape
    honest = segmentlib.fork
    monkeypatch.setattr(segmentlib, "fork", lambda h, p, s, i, sid: honest(h, p, s, 1 - i, sid))
    bad, _ = graphlib.prove(g, inputs, be, {"t": 1})
    monkeypatch.setattr(segmentlib, "fork", honest)
    assert len(bad) == len(stream)
    with pytest.raises(REJECT):
        graphlib.verify(g, bad, be, {"t": 1})
    with pytest.raises(REJECT):      # the two segments' proofs swapped
        graphlib.verify(g, _splice(stream, segs, [1, 0]), be, {"t": 1})
