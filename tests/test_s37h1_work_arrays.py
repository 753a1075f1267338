"""WHIR's reused work arrays (`Whir.work_arrays` / `WorkArrays`, s37h1): the streamed
commitments of one batch (`published.commit_groups`, the model commitment) take their
encoder arrays from one set kept across the tables instead of fresh ones a table.  The
commitments, prover states and opening proofs are the same as with fresh arrays — for
tables of different sizes in any order, with the codewords held in RAM or spilled to the
tiled file, and whatever a previous table left in the arrays."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.commitments import whir as W
from zklora.zkcore import mle, scratch
from zklora.zkcore import published as publib
from zklora.zkcore.commit import Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript

F = registry().field("goldilocks")
E = F.ext
PROTO = b"test_s37h1_work_arrays"
FAST = {"regime": "conjectured", "first_fold": 5, "first_shrink": 4, "later_shrink": 2,
        "first_fold_from": 15}


def _table(n: int, seed: int) -> np.ndarray:
    t = F.random(np.random.default_rng(seed), 1 << n)
    t.flags.writeable = False
    return t


def _open(s, st, t, seed: int) -> bytes:
    rng = np.random.default_rng(100 + seed)
    n = t.shape[0].bit_length() - 1
    evs = [Evaluation(r, mle.evaluate(E, t, r, base=True)) for r in [E.random(rng, n)]]
    ch = ProverChannel(Transcript(PROTO))
    s.open(ch, [OpenItem(st, evs)])
    return ch.proof_bytes()


def _fingerprint(st) -> tuple:
    """What a streamed state holds: commitment, root, OOD points / values, every leaf."""
    tree = st.tree
    leaves = tree.leaves.load() if isinstance(tree.leaves, scratch.Spilled) else tree.leaves
    levels = [h.load() if isinstance(h, scratch.Spilled) else h for h in tree.levels]
    return (st.commitment, st.root, np.asarray(st.ood_points).tobytes(),
            np.asarray(st.ood_values).tobytes(),
            np.asarray(leaves).tobytes(), b"".join(np.asarray(v).tobytes() for v in levels))


def _dirty(work: W.WorkArrays) -> None:
    """Every array of ``work`` filled with junk (what a previous table could leave)."""
    for a in work._arrays.values():
        a[:] = np.uint64(0xFFFF_FFFF_FFFF_FFF7)


def test_take_aligned_reused_and_grown():
    w = W.WorkArrays()
    a = w.take("x", 1000)
    assert a.shape == (1000,) and a.dtype == np.uint64
    assert a.ctypes.data % W._DIO_ALIGN == 0
    b = w.take("x", 600)                        # smaller: the same memory
    assert b.ctypes.data == a.ctypes.data and b.shape == (600,)
    c = w.take("x", 5000)                       # larger: a new array, aligned
    assert c.shape == (5000,) and c.ctypes.data % W._DIO_ALIGN == 0
    assert w.take("x", 10).ctypes.data == c.ctypes.data
    assert w.take("y", 0).shape == (0,)
    assert w.take("y", 0).reshape(0, 4, 8).shape == (0, 4, 8)
    assert w.nbytes() >= 8 * 5000
    d = W._work(None, "x", 77)                  # without a set: fresh every call
    assert d.shape == (77,) and d.ctypes.data % W._DIO_ALIGN == 0
    assert W._work(None, "x", 77).ctypes.data != c.ctypes.data


@pytest.mark.parametrize("enc_ram", ["held", "file", "some"])
def test_same_states_and_proofs_across_sizes(enc_ram, monkeypatch):
    """Tables of 2^14, 2^16, 2^13, 2^16, 2^15 committed with one `WorkArrays` (junk left
    in it before each) give the states and opening proofs of fresh arrays; the
    codewords all in RAM, all in the tiled file (two codeword buffers, two piece sets)
    or some of each."""
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)   # several tiles and blocks a table
    if enc_ram == "file":
        monkeypatch.setattr(W, "ENC_RAM_BYTES", 8)     # no tile held
    elif enc_ram == "some":
        monkeypatch.setattr(W, "ENC_RAM_BYTES", 1 << 15)
    s = W.Whir(F, FAST)
    sizes = [14, 16, 13, 16, 15]
    tables = [_table(n, i) for i, n in enumerate(sizes)]
    with scratch.session(threshold=0):
        fresh = []
        for i, t in enumerate(tables):
            com, st = s.commit(t)
            assert isinstance(st.tree.leaves, scratch.Spilled)   # the streamed path
            fresh.append((com, _fingerprint(st), _open(s, st, t, i)))
        work = s.work_arrays()
        takes = []
        orig = work.take

        def take(tag, count):
            takes.append((tag, count))
            return orig(tag, count)

        work.take = take
        for i, t in enumerate(tables):
            _dirty(work)
            com, st = s.commit(t, work=work)
            assert (com, _fingerprint(st), _open(s, st, t, i)) == fresh[i], i
    tags = {tag for tag, _ in takes}
    assert "leaves0" in tags and "tile" in tags
    if enc_ram == "held":
        assert "ram" in tags and not any(t.startswith("pieces") for t in tags)
    else:
        assert {"pieces0", "pieces1", "codewords"} <= tags
    # one array a tag, kept at the largest size asked for
    assert set(work._arrays) == tags
    for tag in tags:
        assert work._arrays[tag].shape[0] >= max(c for t, c in takes if t == tag)


def test_hiding_and_in_ram_commit_take_work():
    """`commit(values, work=)` outside a scratch session (in RAM) ignores the arrays and
    gives the same commitment."""
    s = W.Whir(F, FAST)
    t = _table(13, 9)
    com, _ = s.commit(t)
    work = s.work_arrays()
    com2, _ = s.commit(t, work=work)
    assert com2 == com and work.nbytes() == 0


def test_commit_groups_one_set_for_the_call(monkeypatch):
    """`published.commit_groups` makes one `WorkArrays` for a call of several groups
    (none for a single group) and commits as without it: the same group commitments as
    each group committed alone with fresh arrays."""
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)
    monkeypatch.setattr(publib, "MAX_SHARED", 1 << 14)
    s = W.Whir(F, FAST)
    rng = np.random.default_rng(3)
    members = [("a", 15), ("b", 14), ("c", 12), ("d", 12), ("e", 13), ("f", 16)]
    vals = {n: rng.integers(-(1 << 20), 1 << 20, size=1 << v, dtype=np.int64)
            for n, v in members}
    groups = publib.plan("frozen", members)
    assert len(groups) >= 4
    made, used = [], []
    orig_make = W.Whir.__dict__["work_arrays"].__func__
    orig_commit = W.Whir.commit

    def make():
        made.append(orig_make())
        return made[-1]

    def commit(self, values, work=None):
        used.append(work)
        return orig_commit(self, values, work)

    monkeypatch.setattr(W.Whir, "work_arrays", staticmethod(make))
    monkeypatch.setattr(W.Whir, "commit", commit)
    with scratch.session(threshold=0):
        states: dict = {}
        got = publib.commit_groups(s, F, groups, lambda n: vals[n], states)
        assert len(made) == 1 and all(w is made[0] for w in used)
        assert made[0].nbytes() > 0
        used.clear()
        alone = [publib.commit_groups(s, F, [g], lambda n: vals[n])[0] for g in groups]
        assert used == [None] * len(groups) and len(made) == 1
    assert [g.commitment for g in got] == [g.commitment for g in alone]
    assert set(states) == {n for n, _ in members}


def test_slow_writes_same_leaves(monkeypatch):
    """The two leaves' buffers (and two codeword buffers) are distinct arrays of the set:
    with every positioned write slowed down (a block's write still in flight while the
    next block is made) the leaves are those of fresh arrays."""
    import time
    monkeypatch.setattr(W, "STREAM_BYTES", 1 << 15)
    monkeypatch.setattr(W, "ENC_RAM_BYTES", 8)
    s = W.Whir(F, FAST)
    t = _table(14, 4)
    with scratch.session(threshold=0):
        _, st = s.commit(t)
        want = _fingerprint(st)
        orig = W._pwrite

        def slow(fd, a, offset):
            time.sleep(0.004)
            orig(fd, a, offset)

        monkeypatch.setattr(W, "_pwrite", slow)
        work = s.work_arrays()
        _dirty(work)
        _, st = s.commit(t, work=work)
        assert _fingerprint(st) == want
