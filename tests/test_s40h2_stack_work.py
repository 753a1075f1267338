"""The commitment phase's stacks share WHIR's work arrays (s40h2): `Committer.flush_packed`
committing two stacks hands one `WorkArrays` set to both stacks' `Whir.commit` (the
largest stack first, so the second one's encoder arrays are the first one's pages, not
fresh ones), none to a single stack (`flush`), and none after the call.  The proof bytes
are those of each stack committed with fresh arrays, in RAM and streamed, and the
verifier reads them as before."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch
from zklora.zkcore.committer import Committer
from zklora.zkcore.op import TensorSpec
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

F = registry().field("goldilocks")
FAST = {"regime": "conjectured", "first_fold": 5, "first_shrink": 4, "later_shrink": 2,
        "first_fold_from": 15}


def _prove(scheme, sizes, spy=None, packed=True):
    specs = [TensorSpec(f"t{i}", (s,), "committed") for i, s in enumerate(sizes)]
    rng = np.random.default_rng(7)
    ch = ProverChannel(Transcript(b"s40h2"))
    pc = Committer(scheme, True)
    for sp in specs:
        pc.commit(ch, sp, F.from_ints(rng.integers(0, 1 << 40, size=sp.size)))
    (pc.flush_packed if packed else pc.flush)(ch)
    assert pc._work is None      # not kept past the call
    return specs, pc, ch.proof_bytes()


def _spy(monkeypatch):
    used = []
    orig = W.Whir.commit

    def commit(self, values, work=None):
        used.append(work)
        return orig(self, values, work)

    monkeypatch.setattr(W.Whir, "commit", commit)
    return used


@pytest.mark.parametrize("streamed", [False, True])
def test_two_stacks_one_work_set_same_bytes(streamed, monkeypatch):
    """2^14 + 2^12 + 2^11 entries: two stacks (2^14, then 2^12 + 2^11 in 2^13: less
    padding than one stack of 2^15), both committed with one set; the
    proof equals the one made with fresh arrays a stack (`work_arrays` hidden) and
    verifies."""
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)   # several tiles and blocks a table
    scheme = W.Whir(F, FAST)
    sizes = [1 << 14, 1 << 12, 1 << 11]
    with scratch.session(threshold=0 if streamed else 1 << 40):
        used = _spy(monkeypatch)
        specs, pc, got = _prove(scheme, sizes)
        assert len(pc.stacks) == 2 and len(used) == 2
        assert used[0] is not None and used[1] is used[0]
        if streamed:
            assert used[0].nbytes() > 0     # the streamed encoder took its arrays there
        used.clear()
        monkeypatch.delattr(W.Whir, "work_arrays")
        _, pc2, want = _prove(scheme, sizes)
        assert used == [None, None] and len(pc2.stacks) == 2
    assert got == want
    vch = VerifierChannel(Transcript(b"s40h2"), got)
    vc = Committer(scheme, False)
    for sp in specs:
        vc.commit(vch, sp)
    vc.flush_packed(vch)
    vch.finish()
    assert vc.where == pc.where


def test_one_stack_no_work_set(monkeypatch):
    """One stack (`flush`, or `flush_packed` deciding on one): no set is made."""
    scheme = W.Whir(F, FAST)
    used = _spy(monkeypatch)
    with scratch.session(threshold=0):
        _prove(scheme, [1 << 12, 1 << 12], packed=True)
        _prove(scheme, [1 << 13, 1 << 12], packed=False)
    assert used == [None, None]


def test_scheme_without_work_arrays():
    """A scheme without `work_arrays` (Ligero) commits two stacks as before."""
    from zklora.plugins.commitments.ligero import Ligero
    scheme = Ligero(F, {})
    _, pc, _ = _prove(scheme, [1 << 10, 1 << 8, 1 << 7])
    assert len(pc.stacks) == 2
