"""Hidden ``tlookup`` (issue 15; docs/zero-knowledge.md §5.1, the paper profile's lookup
argument): in a ZK session with hidden lookups (`graph.HIDE_LOOKUPS`, the condition
LogUp-GKR's hidden mode uses) tlookup sends nothing in the clear.

* the sums go as s + ν_s (`…/zk/sum`; both sumchecks carry γ·ν_s as a blind), both
  sumchecks are hidden (`zk.run_hidden`: `…/A/zk/sum`, rounds, finals f + Z·ν), the
  claims on A, B and m are blinded (under hyrax no coordinate message at all), the
  looked-up columns are masked reveals (`…/columns`);
* the graph of `tests/test_zk_lookups.py` (three tables, a two-column function table)
  proved with the paper stack (bls12-381-fr, hyrax, tlookup) and ZK on verifies; two
  proofs of one witness (programmed challenges) share no element of any tlookup message
  and none of the values the argument sends without the hidden mode appears;
* two witnesses of one statement: no element of any tlookup message tells them apart
  (control: without the hidden mode the sums, finals and columns do);
* tamper: each new message (one element changed and absorbed), a multiplicity moved, a
  looked-up value outside its table: rejected;
* non-ZK proofs are byte-identical to those of the tree before the hidden mode (pinned).
"""

from __future__ import annotations

import hashlib
from unittest import mock

import numpy as np
import pytest

from zklora.plugins.lookups.tables import silu_table
from zklora.plugins.lookups.tlookup import TLookup
from zklora.zkcore import graph as graphlib
from zklora.zkcore import selfcheck, zk
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.graph import Backend
from zklora.zkcore.range import range_table
from zklora.zkcore.testing.tamper import changed_message
from zklora.zkcore.transcript import ProverChannel

from . import test_zk_lookups as zk_lookups
from .test_zk import _distinguishable, _profile, programmed, recorded
from .test_zk_lookups import STATEMENT, _graph, _registry, _witness

REJECT = (VerificationError, ProofFormatError)
PAPER = ("bls12-381-fr", "hyrax")
R3, R5, SILU = "lookup:range3", "lookup:range5", "lookup:silu[in=4,out=6,d=6]"


def _backend(field="bls12-381-fr", scheme="hyrax") -> Backend:
    reg = _registry()
    F = reg.field(field)
    return Backend(F, reg.commitment(scheme)(F), TLookup(), reg)


def _lookup_messages(log):
    return [x for x in log if x[0].startswith("lookup:")]


def _prove(be, witness, hide=True, send_field=None):
    g = _graph()
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", hide), zk.session(), \
            recorded() as log:
        if send_field is not None:
            with mock.patch.object(ProverChannel, "send_field", send_field), \
                    selfcheck.disabled():
                data, sec = graphlib.prove(g, witness, be, STATEMENT)
        else:
            data, sec = graphlib.prove(g, witness, be, STATEMENT)
    return g, data, sec, _lookup_messages(log)


def _verify(be, g, data, sec, hide=True):
    with mock.patch.object(graphlib, "HIDE_LOOKUPS", hide), zk.session():
        graphlib.verify(g, data, be, STATEMENT, sec)


def _run(be, which, hide=True):
    """Prove and verify once (ZK on); the tlookup messages' profile, each element as its
    canonical encoding (uint8: bls12-381-fr elements are Python ints, whose array bytes
    are pointers — `_distinguishable` compares bytes and counts bits)."""
    g, data, sec, log = _prove(be, _witness(which), hide)
    _verify(be, g, data, sec, hide)
    return {k: (F, np.frombuffer(F.encode(np.asarray(v)[None]), np.uint8))
            for k, (F, v) in _profile(be.field.ext, log, skip=()).items()}


# -- non-ZK bytes -------------------------------------------------------------------------

#: sha256 of the ZK-off proofs of `_graph` / `_witness(1)`, taken on the tree before the
#: hidden mode (commit ebede42 + the working tree of 3 Dec 2026)
PINNED = {("bls12-381-fr", "hyrax"):
          "a0493964021b27c7c7324a129a3516e6cd228bc5d02514e8ddfff55866afc1ea",
          ("goldilocks", "plain"):
          "f3a0e02926c97b5499efff48b6b5507a6c0b5c4538171d2cefcd1641079ed7f5"}


@pytest.mark.parametrize("field,scheme", list(PINNED))
def test_non_zk_bytes_unchanged(field, scheme):
    be = _backend(field, scheme)
    g = _graph()
    data, sec = graphlib.prove(g, _witness(1), be, STATEMENT)
    assert hashlib.sha256(data).hexdigest() == PINNED[(field, scheme)]
    graphlib.verify(g, data, be, STATEMENT, sec)


# -- the hidden mode verifies -----------------------------------------------------------


@pytest.mark.parametrize("field,scheme", [PAPER, ("goldilocks", "ligero"),
                                          ("bls12-381-fr", "plain")])
def test_hidden_tlookup_verifies(field, scheme):
    """Paper stack (and hiding ligero over goldilocks, plain over bls12-381-fr) with ZK
    on: verifies; the sums are not sent, the sumchecks are hidden, the columns masked.
    Under hyrax the claims on A, B and m carry the blinds (A and B in their own stack:
    `Committer.blinds_across`): no coordinate message."""
    be = _backend(field, scheme)
    prof = _run(be, 1)
    labels = {k[0] for k in prof}
    for pre in (R3, R5, SILU):
        assert f"{pre}/sums" not in labels
        assert {f"{pre}/zk/sum", f"{pre}/A/zk/sum", f"{pre}/A/finals", f"{pre}/B/zk/sum",
                f"{pre}/B/finals", f"{pre}/columns"} <= labels
        if (field, scheme) == PAPER:
            assert not any("coords" in lab for lab in labels if lab.startswith(pre))
        elif field == "goldilocks":   # A, B over E = F[x]/(x² − 7): masked coordinates
            assert {f"{pre}/A/zk/coords", f"{pre}/B/zk/coords"} <= labels
    # A's sumcheck eq·A·C_k: degree 3, hidden degree 1 + 2 + 2 = 5 in its last round
    assert sum(1 for lab, _ in prof if lab == f"{R5}/A/round4") == 5


# -- nothing of the witness in the messages -----------------------------------------------

RUNS = 6


def test_same_witness_messages_differ():
    """Two proofs of one witness under programmed challenges: every element of every
    tlookup message differs between them, and none of the values the argument sends
    without the hidden mode (sums, finals, columns, coordinates) appears."""
    be = _backend(*PAPER)
    with programmed(b"zk-tlookup"):
        a = _run(be, 1)
        b = _run(be, 1)
        plain = _run(be, 1, hide=False)
    assert set(a) == set(b)
    same = [k for k in a if np.asarray(a[k][1]).tobytes() == np.asarray(b[k][1]).tobytes()]
    assert same == []
    old = {np.asarray(v).tobytes() for (lab, _), (_, v) in plain.items()
           if lab.endswith(("/sums", "/finals", "/columns", "/coords"))}
    assert len(old) > 20
    seen = {np.asarray(v).tobytes() for run in (a, b) for _, v in run.values()}
    assert not old & seen
    # the control sends them: two plain proofs repeat them
    assert {k[0] for k, _ in plain.items()} >= {f"{R5}/sums", f"{R5}/columns"}


def test_two_witnesses_indistinguishable():
    """Acceptance 1 for tlookup: programmed challenges, witnesses 1 and 2 of one
    statement; no element of any tlookup message tells them apart.  Without the hidden
    mode the sums, the finals and the columns do (control)."""
    be = _backend(*PAPER)
    fams: dict = {1: [], 2: []}
    with programmed(b"zk-tlookup-2"):
        for _ in range(RUNS):
            for which in fams:
                fams[which].append(_run(be, which))
    assert set(fams[1][0]) == set(fams[2][0])
    assert (f"{R5}/zk/sum", 0) in fams[1][0]
    assert _distinguishable(fams[1], fams[2]) == []
    with programmed(b"zk-tlookup-2"):
        ctrl = {w: [_run(be, w, hide=False) for _ in range(3)] for w in (1, 2)}
    shown = {k[0] for k, _ in _distinguishable(ctrl[1], ctrl[2])}
    assert {f"{R5}/sums", f"{R5}/columns", f"{R5}/A/finals", f"{R5}/B/finals"} <= shown


# -- tamper -------------------------------------------------------------------------------

NEW = [f"{R5}/zk/sum", f"{R5}/A/zk/sum", f"{R5}/A/round0", f"{R5}/A/round4",
       f"{R5}/A/finals", f"{R5}/columns", f"{R5}/B/zk/sum", f"{R5}/B/round0",
       f"{R5}/B/finals", f"{SILU}/columns", f"{SILU}/A/finals", f"{R3}/B/finals"]


@pytest.mark.parametrize("label", NEW)
@pytest.mark.parametrize("index", [0, -1])
def test_new_message_element_changed(label, index):
    """One element of a new message (B/finals' last: m's hidden final) changed and
    absorbed: rejected."""
    be = _backend(*PAPER)
    send_field, hit = changed_message(label, index)
    g, data, sec, _ = _prove(be, _witness(1), send_field=send_field)
    assert hit, label
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)


@pytest.mark.parametrize("label", [f"{R5}/A/zk/coords", f"{R5}/B/zk/coords"])
def test_masked_coordinates_changed(label):
    """Over goldilocks (A, B in E = F[x]/(x² − 7)) under hiding ligero the coordinates go
    masked: one changed, rejected."""
    be = _backend("goldilocks", "ligero")
    send_field, hit = changed_message(label, -1)
    g, data, sec, _ = _prove(be, _witness(1), send_field=send_field)
    assert hit, label
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)


def test_advice_value_changed():
    """A multiplicity moved to another row (same total), and a looked-up value outside
    its table (the prover's self-checks off): rejected; the honest proof verifies."""
    be = _backend(*PAPER)
    g, data, sec, _ = _prove(be, _witness(1))
    _verify(be, g, data, sec)

    def shift(m):
        a = int(np.argmax(m))
        m[a] -= 1
        m[(a + 1) % len(m)] += 1
        return m

    be.lookup.test_tamper_multiplicities = shift
    with selfcheck.disabled():
        g, data, sec, _ = _prove(be, _witness(1))
    be.lookup.test_tamper_multiplicities = None
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)
    w = _witness(1)
    w["t1c0_0"][5] = 32          # range5 holds 0 … 31
    with selfcheck.disabled():
        g, data, sec, _ = _prove(be, w)
    with pytest.raises(REJECT):
        _verify(be, g, data, sec)


# -- small layouts, the paper profile's own stack ----------------------------------------


@pytest.mark.parametrize("spec", [[(range_table(3), (1,))],
                                  [(range_table(3), (1, 1)), (silu_table(4, 6, 6), (1,))]])
@pytest.mark.parametrize("field,scheme", [PAPER, ("goldilocks", "ligero")])
def test_one_row_lookups(monkeypatch, spec, field, scheme):
    """Requests of one row (the smallest layouts; a sumcheck over no variable runs over
    one dummy variable): the hidden argument verifies."""
    monkeypatch.setattr(zk_lookups, "SPEC", spec)
    prof = _run(_backend(field, scheme), 1)
    assert (f"{R3}/zk/sum", 0) in prof


def test_paper_profile_rescale_graph():
    """`config.PROFILES["paper"]` resolved, the rescale graph (range checks, one late
    table) with ZK on: the tlookup messages are the hidden ones, it verifies, and a
    bumped X, Y or R is rejected."""
    from zklora.zkcore import config
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.testing.tamper import assert_rejected, bump

    from .test_rescale_op import rescale_graph, wit

    be = config.resolve(config.PROFILES["paper"], registry())
    assert isinstance(be.lookup, TLookup)
    g = rescale_graph()
    with zk.session(), recorded() as log:
        data, sec = graphlib.prove(g, wit(), be, {})
    with zk.session():
        graphlib.verify(g, data, be, {}, sec)
    labels = {lab for lab, _, _ in _lookup_messages(log)}
    assert any(lab.endswith("/zk/sum") for lab in labels)
    assert not any(lab.endswith(("/sums", "/coords", "/zk/mask")) for lab in labels)
    with zk.session():
        for t in ("X", "Y", "R"):
            assert_rejected(g, wit(), be, {}, bump(t, 5))
