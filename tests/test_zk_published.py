"""Zero knowledge for published tensors (issue 15; docs/zero-knowledge.md §5.1
"Published tensors"): a tensor of the statement's published groups (the token batch,
the adapters, the optimiser state: `zklora.zkcore.published`, committed with the
hiding scheme) may carry blinds in a ZK session whose scheme opens sum claims — its
blinded claim T̃_pub(p) + c·ν̃_0(q) = v has its head on the published group and its
blind on the witness's stack, a foreign term the opening's masked reduction carries
(`Committer.published_blinds`, `stack.ForeignTerm`), as for late stacks.

Tested on a matmul Y = X·W with W published (a group of its own) and X, Y witness:

* it verifies (hiding ligero, hyrax); W may carry blinds; the matmul's finals, sent
  with W's final in the clear before, are masked: fresh in two proofs of one witness,
  and never the plain value of the control (feature off, same challenges);
* programmed challenges, two witnesses (W differs): no element distinguishes them
  (control: without the feature W's final does);
* a masked final changed, the published commitment of another W, a W that does not
  match its commitment: rejected;
* ZK off: byte-identical to the tree before (pinned SHA-256) and to the feature forced
  off.
"""

from __future__ import annotations

import contextlib
import hashlib
from unittest import mock

import numpy as np
import pytest
import torch

from zklora.zkcore import graph as graphlib
from zklora.zkcore import published as publib
from zklora.zkcore import selfcheck, zk
from zklora.zkcore.committer import Committer
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.graph import Backend, Graph
from zklora.zkcore.testing.tamper import changed_message
from zklora.zkcore.transcript import ProverChannel

from .test_zk import _distinguishable, _profile, programmed, recorded

REJECT = (VerificationError, ProofFormatError)
STATEMENT = {"suite": "zk-published"}


def _backend(scheme="ligero", field="goldilocks") -> Backend:
    from zklora.plugins.lookups.logup_gkr import LogUpGKR
    from zklora.zkcore.plugins import registry

    reg = registry()
    F = reg.field(field)
    return Backend(F, reg.commitment(scheme)(F), LogUpGKR(), reg)


def _graph() -> Graph:
    g = Graph()
    g.tensor("X", (4, 8), "committed")
    g.tensor("W", (8, 4), "committed")
    g.tensor("Y", (4, 4), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    return g


def _witness(which: int) -> dict:
    gen = torch.Generator().manual_seed(which)
    return {"X": torch.randint(-99, 100, (4, 8), generator=gen),
            "W": torch.randint(-99, 100, (8, 4), generator=gen)}


def _groups(be, g, witness):
    values = graphlib.forward(g, witness, be.registry)
    plan = publib.plan_categories({"adapter": ["W"]}, lambda n: g.tensors[n].num_vars)
    states: dict = {}
    groups = publib.commit_groups(be.scheme, be.field, plan, lambda n: values[n], states)
    return groups, states


def _feature(on: bool):
    if on or not hasattr(Committer, "published_blinds"):
        return contextlib.nullcontext()
    return mock.patch.object(Committer, "published_blinds",
                             lambda self, name: False)


def _prove(be, witness, feature=True, on=True, groups_of=None):
    """(graph, proof, sections, log, groups) of one proof (ZK ``on``; ``feature``:
    published tensors may carry blinds; ``groups_of``: commit the groups of this
    witness instead)."""
    g = _graph()
    with _feature(feature), zk.session(on), recorded() as log:
        groups, states = _groups(be, g, groups_of or witness)
        data, sec = graphlib.prove(g, witness, be, STATEMENT,
                                   published=publib.members(groups),
                                   published_states=None if groups_of else states)
    return g, data, sec, log, groups


def _verify(be, g, data, sec, groups, feature=True, on=True):
    with _feature(feature), zk.session(on):
        graphlib.verify(g, data, be, STATEMENT, sec, published=publib.members(groups))


def _values(log) -> dict:
    return {lab: v for lab, _, v in log}


FINALS = "mm/einsum/finals"


def test_published_may_carry_blinds():
    """W, a published group's member, is in `ctx.hide` under hiding ligero; not under
    plain (no sum claims) nor with the feature off."""
    seen = {}
    orig = graphlib._hidden_tensors

    def hidden(graph, committer, published):
        out = orig(graph, committer, published)
        seen.setdefault("hide", []).append(out)
        return out

    with mock.patch.object(graphlib, "_hidden_tensors", hidden):
        _prove(_backend("ligero"), _witness(1))
        _prove(_backend("plain"), _witness(1))
        _prove(_backend("ligero"), _witness(1), feature=False)
    lig, pl, off = seen["hide"]
    assert {"X", "W", "Y"} <= lig
    assert "W" not in pl and "W" not in off and "X" in off


@pytest.mark.parametrize("scheme,field", [("ligero", "goldilocks"),
                                          ("hyrax", "bls12-381-fr")])
def test_published_finals_masked(scheme, field):
    """The matmul's finals (X's and W's) are fresh in two proofs of one witness, and
    neither is the plain value W's final has with the feature off (same programmed
    challenges: identical in two runs)."""
    be = _backend(scheme, field)
    E = be.field.ext
    runs, ctrl = [], []
    with programmed(b"zk-published"):
        for feature, out in ((True, runs), (True, runs), (False, ctrl), (False, ctrl)):
            g, data, sec, log, groups = _prove(be, _witness(1), feature)
            _verify(be, g, data, sec, groups, feature)
            out.append(_values(log))
    a, b, c0, c1 = (np.asarray(r[FINALS]).reshape((-1,) + E.elem_shape)
                    for r in (*runs, *ctrl))
    plain = [k for k in range(c0.shape[0]) if np.array_equal(c0[k], c1[k])]
    assert plain   # W's final, in the clear without the feature
    for k in range(a.shape[0]):
        assert not np.array_equal(a[k], b[k]), k
    for k in plain:
        assert all(not np.array_equal(x[j], c0[k]) for x in (a, b)
                   for j in range(x.shape[0]))


def test_two_witnesses_indistinguishable():
    """Programmed challenges, two witnesses (X and W differ): no element the prover
    sends outside the commitment's own messages tells them apart; without the feature
    W's final does (control)."""
    be = _backend()
    E = be.field.ext
    fams: dict = {1: [], 2: []}
    with programmed(b"zk-published-2"):
        for _ in range(6):
            for w in fams:
                log = _prove(be, _witness(w))[3]
                fams[w].append(_profile(E, log, skip=()))
    assert (FINALS, 1) in fams[1][0]
    assert _distinguishable(fams[1], fams[2]) == []
    ctrl: dict = {1: [], 2: []}
    with programmed(b"zk-published-2"):
        for _ in range(3):
            for w in ctrl:
                log = _prove(be, _witness(w), feature=False)[3]
                ctrl[w].append(_profile(E, log, skip=()))
    shown = {k for k, _ in _distinguishable(ctrl[1], ctrl[2])}
    assert (FINALS, 1) in shown


@pytest.mark.parametrize("label", [FINALS, "stack/reduce/across/5/round0"])
@pytest.mark.parametrize("index", [0, -1])
def test_masked_message_changed(label, index):
    """An element of a masked final or of the group's reduction changed: rejected."""
    send_field, hit = changed_message(label, index)
    be = _backend()
    with mock.patch.object(ProverChannel, "send_field", send_field), \
            selfcheck.disabled():
        g, data, sec, _, groups = _prove(be, _witness(1))
    assert hit, label
    with pytest.raises(REJECT):
        _verify(be, g, data, sec, groups)


def test_published_commitment_tampered():
    """The verifier given the commitment of another W (a valid group of witness 2):
    rejected; a prover whose W does not match its published commitment: refused."""
    be = _backend()
    g, data, sec, _, groups = _prove(be, _witness(1))
    _verify(be, g, data, sec, groups)
    other = _prove(be, _witness(2))[4]
    with pytest.raises(REJECT):
        _verify(be, g, data, sec, other)
    with pytest.raises(ProverError):
        _prove(be, _witness(1), groups_of=_witness(2))


def test_blinded_claim_refused_without_sum_claims():
    """A blinded claim on a published member where the feature does not apply (the
    opening would open it plain): refused by the opening, both sides."""
    be = _backend("plain")
    with mock.patch.object(Committer, "published_blinds", lambda self, name: True), \
            pytest.raises(ProverError, match="published tensor"):
        _prove(be, _witness(1))


#: SHA-256 of the ZK-off proofs of witness 1, made by the tree before this change
#: (473e10d: published tensors never blinded)
ZK_OFF_SHA256 = {
    "ligero": "015e29e34d79ca59c1ddc74f1b3e8fc9d20fd1a49ed1453e0a0083325986c49c",
    "plain": "f7a68b52066b04e8a9aab258a5d3fe6b2fae6838f16d9fa6bd2bebaeb26c5e60",
}


@pytest.mark.parametrize("scheme", sorted(ZK_OFF_SHA256))
def test_zk_off_unchanged(scheme):
    """ZK off: byte-identical to the tree before this change (pinned) and to the
    feature forced off."""
    be = _backend(scheme)
    a = _prove(be, _witness(1), on=False)[1]
    assert hashlib.sha256(a).hexdigest() == ZK_OFF_SHA256[scheme]
    assert _prove(be, _witness(1), feature=False, on=False)[1] == a


# -- through the API: the statement's published groups ----------------------------------

def _api_cfg(profile, **model):
    from zklora.zkcore import config

    return config.from_dict({"profile": profile, **model,
                             "proof": {"zero_knowledge": True}})


def _hide_spy(seen):
    orig = graphlib._hidden_tensors

    def spy(graph, committer, published, *a, **kw):
        out = orig(graph, committer, published, *a, **kw)
        seen.append((out, set(published)))
        return out

    return mock.patch.object(graphlib, "_hidden_tensors", spy)


@pytest.mark.parametrize("profile", ["fast", "paper"])
def test_api_matmul_example_published_hidden(profile):
    """`api.prove` of the matmul example with ZK on (X, W, Y published): every published
    tensor may carry blinds (before: `ctx.hide` empty), it verifies, and under
    programmed challenges no element of two proofs of one witness repeats
    (lookup columns on published tensors included: `Committer.stack_key`)."""
    from zklora.zkcore import api

    cfg = _api_cfg(profile, model={"m": 8, "k": 16, "n": 4, "bound": 100, "seed": 3})
    seen: list = []
    logs = []
    with programmed(b"zk-published-api"), _hide_spy(seen):
        for _ in range(2):
            with recorded() as log:
                res = api.prove(cfg)
            logs.append(log)
            api.verify(res.data)
    hide, pub = seen[-1]
    assert pub and pub <= hide
    same = set()
    for (la, f, a), (lb, _, b) in zip(*logs):
        assert la == lb
        a = np.asarray(a).reshape((-1,) + f.elem_shape)
        b = np.asarray(b).reshape((-1,) + f.elem_shape)
        same |= {la for k in range(len(a)) if np.array_equal(a[k], b[k])}
    assert not same, same


def test_api_tiny_step_published_hidden():
    """The tiny training step through `api.prove` with ZK on (fast profile, hiding
    ligero): all its published tensors (tokens, adapters, optimiser state before and
    after) may carry blinds, and the proof opens (hiding ligero's per-commitment bound:
    the early reductions, `Committer._early`) and verifies."""
    from zklora.zkcore import api, config

    cfg = config.from_dict({"task": {"model": "llama-train"},
                            "model": {"batch": 1, "seq": 4},
                            "proof": {"zero_knowledge": True}})
    seen: list = []
    with _hide_spy(seen):
        res = api.prove(cfg)
    api.verify(res.data)
    hide, pub = seen[-1]
    assert len(pub) > 20 and pub <= hide
