"""Zero knowledge for late stacks (issue 15; docs/zero-knowledge.md §5.1 "Late stacks"):
a late lookup's multiplicities (`ctx.require_lookup`: committed in a stack of their
own, after the ops) and a mid-proof range check's limbs (`ctx.range`: committed in a
stack of their own, before the check's point) are masked like everything of the
witness's stack.

Their masked reveals T̃(z) + ν take a ν of the first mask group (the witness's stack),
so the blinded claim's head and its blind are on two stacks; the opening's masked
reduction carries such a foreign term through its sumcheck as an unknown
(`stack._reduce_masked`, `Committer.blinds_across`) and it ends in the reduction's sum
claim.  Tested on a graph with a static lookup, two late lookups (one of a witness
column, one of a mid-proof range check's limbs) under hiding ligero:

* it verifies; the late m, the late columns and the late limbs' range values are sent
  masked: two proofs of one witness differ in every such element, and none equals the
  value sent in the clear with the feature off (control: the same challenges, the
  plain values, identical in two runs);
* programmed challenges, two witnesses of one statement: no element of the lookup
  argument's or the range check's messages tells them apart (control: without the
  feature the late m, columns and range values do);
* each new masked message changed, a late limb that does not recompose, a late
  multiplicity moved: rejected;
* outside a session (ZK off) the proof is byte-identical to the one made without the
  feature's code paths (`blinds_across` forced off), and pinned by its SHA-256.
"""

from __future__ import annotations

import hashlib
import sys
from functools import lru_cache
from unittest import mock

import numpy as np
import pytest
import torch

from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.zkcore import graph as graphlib
from zklora.zkcore import selfcheck, zk
from zklora.zkcore.committer import Committer
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.graph import Backend, Graph
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.lookup import LookupRequest
from zklora.zkcore.op import Op
from zklora.zkcore.plugins import registry_with
from zklora.zkcore.range import range_table
from zklora.zkcore.testing.tamper import changed_message
from zklora.zkcore.transcript import ProverChannel

from .test_zk import _distinguishable, _profile, programmed, recorded

REJECT = (VerificationError, ProofFormatError)
STATEMENT = {"suite": "zk-late"}
#: the mid-proof range check: X ∈ [0, 2^21) — 21 bits, limbs of 16 and 5 bits (no
#: direct lookup above `range.DIRECT_MAX_BITS`)
BITS = 21
N = 16


class LateProbe(Op):
    """Z = D (a fixed input); a static lookup of S into range(5) (`Op.lookups`), and,
    mid-proof (`relations`), a range check of X (limbs committed then) and a late
    lookup of C into range(3) (`ctx.require_lookup`)."""

    name = "zk_late_probe"

    def forward(self, node, inputs):
        return [inputs[0].clone()]

    def relations(self, ctx, node, out_claims):
        (c,) = out_claims.values()
        out = [ctx.claim(node.inputs[0], c.point, c.value)]
        bits, lb = node.params.get("bits", BITS), node.params.get("limb_bits")
        ctx.range(node.inputs[1], 0, (1 << bits) - 1, label=f"{node.name}/x",
                  **({"limb_bits": lb} if lb else {}))
        ctx.require_lookup(range_table(3), [node.inputs[2]], f"{node.name}/late3")
        return out

    def lookups(self, node, params, specs):
        return [LookupRequest(range_table(5), (node.inputs[3],), f"{node.name}/static5")]


@hookimpl
def zk_ops():
    return [LateProbe()]


@lru_cache(maxsize=1)
def _registry():
    return registry_with(sys.modules[__name__])


def _backend(scheme="ligero", field="goldilocks") -> Backend:
    reg = _registry()
    F = reg.field(field)
    return Backend(F, reg.commitment(scheme)(F), LogUpGKR(), reg)


def _graph(**params) -> Graph:
    g = Graph()
    for name in ("D", "X", "C", "S"):
        g.tensor(name, (N,), "committed")
    g.tensor("Z", (N,), "committed")
    g.op("zk_late_probe", "probe", ["D", "X", "C", "S"], ["Z"], **params)
    g.outputs = ["Z"]
    return g


def _witness(which: int, bits: int = BITS) -> dict:
    rng = np.random.default_rng(which)
    return {"D": torch.zeros(N, dtype=torch.int64),
            "X": torch.from_numpy(rng.integers(0, 1 << bits, N)),
            "C": torch.from_numpy(rng.integers(0, 8, N)),
            "S": torch.from_numpy(rng.integers(0, 32, N))}


#: the messages that were sent in the clear before (labels)
LATE_M = "lookups/m"
LATE_COLS = ["lookup:range2/late/columns", "lookup:range3/late/columns",
             "lookup:range16/late/columns"]
RANGE_VALUES = "probe/x/range/values"


def _watched(log):
    return [x for x in log if x[0].startswith("lookup") or "/range/" in x[0]]


def _prove(be, witness, across=True, on=True, graph=None):
    """(graph, proof, sections, log) of one proof (ZK ``on``; ``across``: masks across
    stacks allowed, the feature; off: the old behaviour; ``graph``: the op's params)."""
    g = _graph(**(graph or {}))
    orig = Committer.blinds_across
    with mock.patch.object(Committer, "blinds_across",
                           orig if across else lambda self, ctx: False), \
            zk.session(on), recorded() as log:
        data, sec = graphlib.prove(g, witness, be, STATEMENT)
    return g, data, sec, log


def _verify(be, g, data, sec, across=True, on=True):
    orig = Committer.blinds_across
    with mock.patch.object(Committer, "blinds_across",
                           orig if across else lambda self, ctx: False), zk.session(on):
        graphlib.verify(g, data, be, STATEMENT, sec)


def _values(log) -> dict:
    return {lab: v for lab, _, v in log}


SMALL = {"bits": 7, "limb_bits": 4}   # limbs of 4 + 3 bits (hyrax over BLS12-381 is slow)


@pytest.mark.parametrize("scheme,field", [("ligero", "goldilocks"),
                                          ("hyrax", "bls12-381-fr")])
def test_late_messages_masked(scheme, field):
    """The late m, the late columns and the late limbs' range values are masked: fresh
    in every proof of one witness, and never the plain value (the same challenges,
    sent with the feature off: identical in two runs, i.e. the raw evaluations).  Under
    hiding ligero and hyrax (the sum-claim schemes of the fast and paper profiles)."""
    be = _backend(scheme, field)
    E = be.field.ext
    params, bits = ({}, BITS) if scheme == "ligero" else (SMALL, SMALL["bits"])
    cols = LATE_COLS if scheme == "ligero" else ["lookup:range3/late/columns",
                                                 "lookup:range4/late/columns"]
    runs, ctrl = [], []
    with programmed(b"zk-late"):
        for across, out in ((True, runs), (True, runs), (False, ctrl), (False, ctrl)):
            g, data, sec, log = _prove(be, _witness(1, bits), across, graph=params)
            _verify(be, g, data, sec, across)
            out.append(_values(log))
    for lab in [LATE_M, RANGE_VALUES, *cols]:
        assert lab in runs[0], lab
        a, b, c0, c1 = (np.asarray(r[lab]).reshape((-1,) + E.elem_shape)
                        for r in (*runs, *ctrl))
        # the control sends the late elements in the clear (the same in two proofs;
        # the static ones were masked already)
        plain = [k for k in range(c0.shape[0]) if np.array_equal(c0[k], c1[k])]
        assert plain, lab
        for k in range(a.shape[0]):
            assert not np.array_equal(a[k], b[k]), (lab, k)
        for k in plain:
            assert not np.array_equal(a[k], c0[k]) and not np.array_equal(b[k], c0[k])


def test_two_witnesses_indistinguishable():
    """Programmed challenges, two witnesses of one statement: no element of the lookup
    argument's or the range check's messages tells them apart; without the feature
    the late m, the late columns and the limbs' range values do (control)."""
    be = _backend()
    E = be.field.ext
    fams: dict = {1: [], 2: []}
    with programmed(b"zk-late-2"):
        for _ in range(6):
            for w in fams:
                g, data, sec, log = _prove(be, _witness(w))
                fams[w].append(_profile(E, _watched(log), skip=()))
    assert (LATE_M, 0) in fams[1][0] and (RANGE_VALUES, 0) in fams[1][0]
    assert _distinguishable(fams[1], fams[2]) == []
    ctrl: dict = {1: [], 2: []}
    with programmed(b"zk-late-2"):
        for _ in range(3):
            for w in ctrl:
                g, data, sec, log = _prove(be, _witness(w), across=False)
                ctrl[w].append(_profile(E, _watched(log), skip=()))
    shown = {k[0] for k, _ in _distinguishable(ctrl[1], ctrl[2])}
    assert {LATE_M, RANGE_VALUES, *LATE_COLS} <= shown


NEW = [LATE_M, RANGE_VALUES, *LATE_COLS]


@pytest.mark.parametrize("label", NEW)
@pytest.mark.parametrize("index", [0, -1])
def test_new_masked_message_changed(label, index):
    """One element of a newly masked message changed (and absorbed): rejected."""
    send_field, hit = changed_message(label, index)
    be = _backend()
    g = _graph()
    with zk.session(), mock.patch.object(ProverChannel, "send_field", send_field), \
            selfcheck.disabled():
        data, sec = graphlib.prove(g, _witness(1), be, STATEMENT)
    assert hit, label
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)


def test_late_limb_and_multiplicity_tampered():
    """A late limb that does not recompose (its value shifted by one, its bounds
    kept), and a late multiplicity moved to another row: rejected."""
    from zklora.zkcore import range as rangelib

    be = _backend()
    orig = rangelib._limb

    def limb(ctx, tensor, lo, hi, side, offset, bits):
        v = orig(ctx, tensor, lo, hi, side, offset, bits).clone()
        if offset == 0:
            v[3] = (v[3] + 1) % (1 << bits)
        return v

    with mock.patch.object(rangelib, "_limb", limb), selfcheck.disabled():
        g, data, sec, _ = _prove(be, _witness(1))
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)

    def shift(m):
        a = int(np.argmax(m))
        m[a] -= 1
        m[(a + 1) % len(m)] += 1
        return m

    seen = []
    orig_w = LogUpGKR.witness

    def witness(self, ctx, table, requests):
        w = orig_w(self, ctx, table, requests)
        if table.name == "range3":   # the late lookup's
            seen.append(table.name)
            w.multiplicities = shift(w.multiplicities)
        return w

    with mock.patch.object(LogUpGKR, "witness", witness), selfcheck.disabled():
        g, data, sec, _ = _prove(be, _witness(1))
    assert seen
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)


#: SHA-256 of the ZK-off proofs of witness 1, made by the tree before this change
#: (f2e0fa4: late values in the clear, no foreign terms)
ZK_OFF_SHA256 = {
    "ligero": "790138e7d7e5591f656fe44e3169af6250e1a4443aee79ab4d60cee0ad0a90bd",
    "plain": "2a4444dbde77a6ea01ab6bf1eed39ddb7f0e1cfa1097e487240d7af913e8076a",
}


@pytest.mark.parametrize("scheme", sorted(ZK_OFF_SHA256))
def test_zk_off_unchanged(scheme):
    """ZK off: the proof is byte-identical to the one the tree before this change made
    (pinned), and to the one made with masks across stacks forced off."""
    be = _backend(scheme)
    _, a, _, _ = _prove(be, _witness(1), on=False)
    assert hashlib.sha256(a).hexdigest() == ZK_OFF_SHA256[scheme]
    _, b, _, _ = _prove(be, _witness(1), across=False, on=False)
    assert a == b


@pytest.mark.parametrize("chunk", [3, 5])
def test_streamed_reduction_carries_the_same(monkeypatch, chunk):
    """The streaming prover of the stack reduction (`stack._prove_streaming`, forced on
    every stack here) carries the foreign terms' unknown like the in-RAM one: the same
    bytes with the same seeded masks, and the proof verifies."""
    from zklora.zkcore import stack

    be = _backend()
    g = _graph()
    proofs = []
    for stream in (False, True):
        with monkeypatch.context() as mp:
            if stream:
                mp.setattr(stack, "STREAM_VARS", 4)
                mp.setattr(stack, "CHUNK_VARS", chunk)
            with zk.session(rng=zk.MaskRng.seeded(b"zk-late-stream")):
                data, sec = graphlib.prove(g, _witness(1), be, STATEMENT)
        proofs.append(data)
    assert proofs[0] == proofs[1]
    _verify(be, g, proofs[1], sec)


def test_foreign_terms_need_the_masked_reduction():
    """A blind on another stack reaching an unmasked reduction (plain: no sum claims;
    `blinds_across` forced on) is refused, not opened as a plain claim."""
    from zklora.zkcore.errors import ProverError

    be = _backend("plain")
    with mock.patch.object(Committer, "blinds_across", lambda self, ctx: True), \
            zk.session(), pytest.raises(ProverError, match="masked reduction"):
        graphlib.prove(_graph(), _witness(1), be, STATEMENT)
