"""Zero knowledge on a segmented proof: every fork's first mask group is committed on
the main transcript, in the witness's stack, before the fork (`zk.precommit`,
`zk.fork_pool`, docs/zero-knowledge.md §3 "Fork rule").

* the layout: the first stack holds the main group and one group per segment, named by
  the segment's index (``zk:masks/s{i}/k``); no fork commits a mask stack unless it
  needs more than `zk.FIRST_GROUP` slots, and then under its own prefix;
* the names depend on the segment's index only: segments proven in reverse order
  give a proof that verifies;
* tampering: a segment's mask sum, mask evaluations or a round changed, two segments'
  masks swapped, one segment's slots reused by another, a mask used with other
  coefficients than committed, proof bytes flipped: rejected;
* a fork whose masks were not committed before it is refused.
"""

from __future__ import annotations

from contextlib import contextmanager
from unittest import mock

import numpy as np
import pytest

from zklora.zkcore import graph as graphlib
from zklora.zkcore import selfcheck, zk
from zklora.zkcore.committer import Committer
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.testing.tamper import assert_flips_rejected
from zklora.zkcore.transcript import ProverChannel

from .conftest import backend_for
from .test_llama_train import micro

REJECT = (VerificationError, ProofFormatError)


@pytest.fixture(scope="module")
def step():
    return micro(1)


@pytest.fixture(scope="module", params=["plain", "ligero"])
def be(request, reg):
    return backend_for(reg, "goldilocks", request.param, "logup-gkr")


@contextmanager
def stacks_recorded():
    """Record the tensor names of every stack the prover commits, in order."""
    log: list[list[str]] = []
    orig = Committer.flush

    def flush(self, ch):
        if self.prover and self._pending:
            log.append([s.name for s, _ in self._pending])
        return orig(self, ch)

    with mock.patch.object(Committer, "flush", flush):
        yield log


@contextmanager
def in_segment():
    """``where[0]``: the index of the segment being proven (None outside)."""
    where: list = [None]
    orig = graphlib.prove_segment

    def wrapped(prover, ctx, graph, backend, seg, *a, **k):
        where[0] = seg.index if prover else None
        try:
            return orig(prover, ctx, graph, backend, seg, *a, **k)
        finally:
            where[0] = None

    with mock.patch.object(graphlib, "prove_segment", wrapped):
        yield where


def _prove(step, be, **kw):
    _, g, inputs, _, st = step
    return graphlib.prove(g, inputs, be, st, **kw)


def _verify(step, be, stream, sections):
    _, g, _, _, st = step
    graphlib.verify(g, stream, be, st, sections)


def test_fork_masks_committed_with_the_witness(step, be):
    _, g, _, _, _ = step
    nseg = len(g.segments())
    assert nseg > 1
    with zk.session(), stacks_recorded() as log, in_segment() as where:
        seen = []
        orig = Committer.flush

        def flush(self, ch):
            if self.prover and self._pending:
                seen.append(where[0])
            return orig(self, ch)

        with mock.patch.object(Committer, "flush", flush):
            stream, sections = _prove(step, be)
        _verify(step, be, stream, sections)
    # (the main pool's first group is larger when the lookups are hidden too: their
    # masked reveals take a slot each, graph._run)
    main = zk.HIDDEN_FORK_GROUP if graphlib.HIDE_FINALS and graphlib.HIDE_LOOKUPS else \
        zk.FIRST_GROUP
    want = {f"{zk.PREFIX}{k}" for k in range(main)}
    # (a fork hiding its evaluations has a larger first group, docs/zero-knowledge.md §5.1)
    fg = zk.HIDDEN_FORK_GROUP if graphlib.HIDE_FINALS and graphlib.HIDE_SEGMENTS else \
        zk.FIRST_GROUP
    for i in range(nseg):
        want |= {f"{zk.fork_prefix(i)}{k}" for k in range(fg)}
    with zk.session():
        opens = be.scheme.sum_claims
    if opens:   # hiding ligero: the final opening's masks too (§5.2)
        want |= {zk.open_slot(k) for k in range(zk.OPEN_SLOTS)}
    # the witness's stacks (flush_packed: one, or two where that pads less) hold them
    # all, before the first challenge; no fork (nor the main transcript) needed more
    first = [n for names in log[:2] for n in names]
    assert "embed" in first
    masks = [(w, n) for w, names in zip(seen, log) for n in names if n.startswith(zk.PREFIX)]
    assert {n for _, n in masks} == want and len(masks) == len(want)
    assert want <= set(first)
    with stacks_recorded() as off:     # without ZK: no masks at all
        _prove(step, be)
    assert not any(n.startswith(zk.PREFIX) for names in off for n in names)


def test_fork_overflow_groups_on_the_fork(step, gold, monkeypatch):
    """A fork needing more than FIRST_GROUP slots commits its next group on its own
    transcript, under its own prefix; the proof verifies."""
    monkeypatch.setattr(zk, "FIRST_GROUP", 2)
    # (the overflow mechanics: with hidden evaluations a blind must come from the first
    # group, which is sized for it instead)
    monkeypatch.setattr(graphlib, "HIDE_SEGMENTS", False)
    with zk.session(), stacks_recorded() as log, in_segment() as where:
        seen = []
        orig = Committer.flush

        def flush(self, ch):
            if self.prover and self._pending:
                seen.append(where[0])
            return orig(self, ch)

        with mock.patch.object(Committer, "flush", flush):
            stream, sections = _prove(step, gold)
        _verify(step, gold, stream, sections)
    over = [(w, names) for w, names in zip(seen, log)
            if w is not None and any(n.startswith(zk.PREFIX) for n in names)]
    assert over
    for w, names in over:
        assert all(n.startswith(zk.fork_prefix(w)) for n in names)
        assert min(int(n.rsplit("/", 1)[1]) for n in names) >= 2   # after the first group


class ReverseExecutor:
    """Proves the segments last to first (as a concurrent executor might finish them)."""

    def prove_segments(self, ctx, graph, backend, segs, base_state, claims, err, clock,
                       progress):
        out = {}
        for s in reversed(list(segs)):
            out[s.index] = graphlib.prove_segment(True, ctx, graph, backend, s, base_state,
                                                  claims[s.index], err)
        return [out[s.index] for s in segs]


def test_segments_proven_in_any_order_agree(step, gold):
    with zk.session():
        stream, sections = _prove(step, gold, executor=ReverseExecutor())
        _verify(step, gold, stream, sections)


# (segment 2 sends no `/zk/mask` any more: every sumcheck of its ops is hidden, so
# its final check is a claim on the masks and the hidden finals are tampered instead)
@pytest.mark.parametrize("kind", ["/zk/sum", "/finals", "/round0"])
def test_segment_mask_message_changed_rejected(step, gold, kind):
    hit = []
    orig = ProverChannel.send_field
    with in_segment() as where:
        def send_field(self, label, field, a):
            if where[0] == 2 and kind in label and not hit:
                hit.append(label)
                a = np.array(a, copy=True)
                a.reshape(-1)[0] ^= 1
            return orig(self, label, field, a)

        with zk.session(), mock.patch.object(ProverChannel, "send_field", send_field):
            stream, sections = _prove(step, gold)
    assert hit
    with zk.session(), pytest.raises(REJECT):
        _verify(step, gold, stream, sections)


def _patched_pools(mapping):
    """The prover's fork pools drawn under another segment's prefix."""
    orig = zk.fork_pool

    def fork_pool(ctx, index, first=None):
        pool = orig(ctx, mapping(index), first)
        return pool

    return mock.patch.object(zk, "fork_pool", fork_pool)


@pytest.mark.parametrize("how", ["swap", "reuse"])
def test_segment_masks_swapped_or_reused_rejected(step, be, how):
    """Segments 0 and 1 swap their mask groups, or every segment draws segment 0's
    slots (one mask reused across forks): the masks the verifier opens are the ones the
    graph assigns, so the proof is rejected."""
    if how == "swap":
        def mapping(i):
            return {0: 1, 1: 0}.get(i, i)
    else:
        def mapping(i):
            return 0
    with zk.session(), _patched_pools(mapping):
        stream, sections = _prove(step, be)
    with zk.session(), pytest.raises(REJECT):
        _verify(step, be, stream, sections)


def test_segment_mask_other_coefficients_rejected(step, gold):
    """A prover that masks a segment's sumcheck with coefficients other than the
    committed slot's (one coefficient changed): the slot's claims fail at the opening."""
    orig = zk.coefficients
    hit = []
    with in_segment() as where:
        def coefficients(E, F, reg, table):
            c = orig(E, F, reg, table)
            if where[0] == 1 and not hit:
                hit.append(reg.name)
                c = np.array(c, copy=True)
                c[0, 1] = E.add(c[0, 1], E.scalar(1))
            return c

        with zk.session(), mock.patch.object(zk, "coefficients", coefficients), \
                selfcheck.disabled():
            stream, sections = _prove(step, gold)
    assert hit and hit[0].startswith(zk.fork_prefix(1))
    with zk.session(), pytest.raises(REJECT):
        _verify(step, gold, stream, sections)


def test_segmented_zk_proof_bytes_flipped_rejected(step, reg):
    be = backend_for(reg, "goldilocks", "ligero", "logup-gkr")
    _, g, _, _, st = step
    with zk.session():
        stream, sections = _prove(step, be)
        assert_flips_rejected(g, stream, sections, be, st, count=10)


def test_fork_without_committed_masks_refused(step, gold):
    """`fork_pool` refuses a fork whose group was not committed before it (the masks
    of a remote worker's context, or a graph that skipped `precommit`)."""
    with zk.session(), mock.patch.object(zk, "precommit", lambda ctx, segs=(), fg=None: None):
        with pytest.raises(ProverError, match="not committed before the fork"):
            _prove(step, gold)


def test_segments_hide_evaluations(step, gold):
    """Hidden evaluations in a segmented graph (docs/zero-knowledge.md §5.1,
    "Segments"): some tensors may carry blinds, every hidden einsum sends a last round of
    higher degree and no u_i, the proof verifies; a hidden einsum's final, a masked
    segment-output value or a masked einsum's last round changed before it is sent:
    rejected."""
    from .test_zk import recorded

    seen = {}
    orig = graphlib._hidden_tensors

    def spy(graph, com, pub):
        seen["hide"] = out = orig(graph, com, pub)
        return out

    with zk.session(), recorded() as log, \
            mock.patch.object(graphlib, "_hidden_tensors", spy):
        stream, sections = _prove(step, gold)
        _verify(step, gold, stream, sections)
    assert seen["hide"]
    hidden_ops = {lab.rsplit("/round", 1)[0] for lab, _, v in log
                  if "/einsum/round" in lab and v.shape[0] > 3}
    assert hidden_ops
    labels = {lab for lab, _, _ in log}
    for op in hidden_ops:
        assert f"{op}/zk/mask" not in labels and f"{op}/finals" in labels
    seg_out = sorted(lab for lab in labels if lab.startswith("seg-out:")
                     and lab[len("seg-out:"):-len("/value")] in seen["hide"])
    targets = [f"{sorted(hidden_ops)[0]}/finals", *seg_out[:1]]
    last = max((lab for lab in labels if lab.startswith(sorted(hidden_ops)[0] + "/round")),
               key=lambda x: int(x.rsplit("round", 1)[1]))
    targets.append(last)
    assert len(targets) == 3     # a hidden final, a masked segment output, a last round
    for kind in targets:
        orig_send = ProverChannel.send_field
        hit = []

        def send_field(self, label, field, a, kind=kind, hit=hit, orig_send=orig_send):
            if label == kind and not hit:
                hit.append(label)
                a = np.array(a, copy=True)
                a.reshape(-1)[-1] ^= 1
            return orig_send(self, label, field, a)

        with zk.session(), mock.patch.object(ProverChannel, "send_field", send_field), \
                selfcheck.disabled():
            bad, secs = _prove(step, gold)
        assert hit, kind
        with zk.session(), pytest.raises((VerificationError, ProofFormatError)):
            _verify(step, gold, bad, secs)
