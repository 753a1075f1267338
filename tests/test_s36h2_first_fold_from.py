"""WHIR's ``first_fold_from`` (s36h2): ``first_fold`` applies to committed tables of at
least 2^first_fold_from elements only; smaller ones fold ``folding_factor`` in their
first round (leaves of 2^folding_factor values, as without ``first_fold``).  The batch
statement records it (its head's shrink byte bit 2 and one byte after the head, read
strictly: `ProofFormatError`), a commitment binds its own k₀ (`_params_bytes`), the
default (0: every size) keeps today's bytes, soundness ≥ 100 bits, proofs verify under
their own setting only, a tampered proof byte or statement field is rejected."""

from __future__ import annotations

import hashlib
import itertools

import attrs
import pytest

from tests.test_whir import PROTO, E, F, flip, prove, rejects, scheme, verify
from zklora.plugins.commitments import whir as W
from zklora.zkcore import pyapi, security
from zklora.zkcore.errors import ConfigError, ProofFormatError, ZkLoraError
from zklora.zkcore.transcript import Transcript, VerifierChannel

TINY = "baf4528a9d24614999ecd7b5ada1d12199069c1358b6ced577cb8532a61f9021"
V3 = {"regime": "conjectured", "first_fold": 5, "first_shrink": 4, "later_shrink": 2}


def test_schedule_first_fold_only_from_its_size():
    for k, e, ff, fs in itertools.product((2, 4), (1, 2), (2, 13, 17, 22, 26), (1, 3)):
        p = W.WhirParams.parse({"folding_factor": k, "first_fold": k + e,
                                "first_fold_from": ff, "first_shrink": fs})
        base = W.WhirParams.parse({"folding_factor": k, "first_fold": k + e,
                                   "first_shrink": fs})
        for n in range(1, 29):
            rounds = W.plan(n, p, 128.0).rounds
            want = min(k + e if n >= ff else k, n)
            assert rounds[0].k == want and p.fold0_at(n) == (k + e if n >= ff else k)
            assert all(rd.k == min(k, rd.m) for rd in rounds[1:])
            for a, b in zip(rounds, rounds[1:]):
                assert b.m == a.m - a.k and a.d > b.d > b.m
            if n >= ff:   # the sizes it covers: first_fold's own schedule
                assert rounds == W.plan(n, base, 128.0).rounds
    # the default (0) is every size: `fold0` everywhere
    p = W.WhirParams.parse({"first_fold": 5})
    assert p.first_fold_from == 0 and all(p.fold0_at(n) == 5 for n in range(1, 29))
    assert W.WhirParams.parse({}).fold0_at(20) == 4


def test_the_25m_continuation_keeps_its_smaller_size():
    """25m's batch (the sizes a 25m prove opens, s36h2): one 2^26 table and smaller
    ones; folding 5 only on the 2^26 table gives ĥ the size first_fold 5 everywhere
    gives (m22 on 2^23)."""
    ns = [26, 22, 17, 16, 14]   # one folded polynomial per size
    for par in (V3, {**V3, "first_fold_from": 23}):
        s = W.Whir(F, par)
        plans = [s.plan(n) for n in ns]
        lay = W._layout([pl.rounds[0].m - pl.rounds[0].k for pl in plans])
        tp = s._tail(plans, lay)
        assert (tp.m, tp.d) == (22, 23)
    s = W.Whir(F, {**V3, "first_fold_from": 23})
    assert [s.plan(n).rounds[0].k for n in ns] == [5, 4, 4, 4, 4]


@pytest.mark.parametrize("params", [{**V3, "first_fold_from": 22},
                                    {**V3, "first_fold_from": 22, "query_pow": 22},
                                    {"first_fold": 5, "first_fold_from": 12},
                                    {"regime": "conjectured", "rate_log": 2,
                                     "folding_factor": 2, "first_fold": 5,
                                     "first_fold_from": 9}])
def test_soundness_at_least_100_bits_and_enforced(params):
    report = security.Report(tuple(W.Whir(F, params).soundness(E, 1 << 20)))
    assert report.bits >= 100, report.summary()
    report.enforce()


def test_params_parse_strictly():
    assert "first_fold_from" in W.Whir.param_names()
    assert W.WhirParams.parse({**V3, "first_fold_from": 23}).first_fold_from == 23
    for bad in ({**V3, "first_fold_from": 1}, {**V3, "first_fold_from": 29},
                {**V3, "first_fold_from": -1}, {**V3, "first_fold_from": "23"},
                {**V3, "first_fold_from": True}, {**V3, "first_fold_from": 23.0},
                {"first_fold_from": 23}, {"first_fold": 4, "first_fold_from": 23}):
        with pytest.raises(ConfigError):
            W.Whir(F, bad)


def test_statement_records_it_and_is_read_strictly():
    s0, s1 = W.Whir(F, V3), W.Whir(F, {**V3, "first_fold_from": 23})
    a, b = s0._statement([]), s1._statement([])
    at = len(W.TAG) + 5
    assert len(b) == len(a) + 1 and b[at] == a[at] | 0x04 and b[-1] == 23
    assert b[:at] + b[at + 1:-1] == a[:at] + a[at + 1:]
    assert W.read_statement_head(b)["first_fold_from"] == 23
    assert W.read_statement_head(a)["first_fold_from"] == 0
    # the default's statement is today's (no bit 2, no byte)
    assert W.Whir(F, {})._statement([])[at] & 0x04 == 0
    # the commitment binds its own k₀: the same as first_fold's from 23 on, as the
    # default's below
    s2 = W.Whir(F, {"first_shrink": 3, "later_shrink": 2, "regime": "conjectured"})
    assert s1._params_bytes(23) == s0._params_bytes(23)
    assert s1._params_bytes(22) == s2._params_bytes(22) != s0._params_bytes(22)
    # the byte without its bit is a well-formed head (the byte would belong to the
    # items; the verifier's own statement differs, so does the transcript)
    assert W.read_statement_head(b[:at] + bytes([b[at] & ~0x04]) + b[at + 1:])[
        "first_fold_from"] == 0
    for bad in (b[:-1] + bytes([1]), b[:-1] + bytes([29]), b[:-1] + bytes([0]),
                b[:-1]):                                          # bit without its byte
        with pytest.raises(ProofFormatError, match="first_fold_from"):
            W.read_statement_head(bad)
    # bit 2 without a first fold above folding_factor
    c = W.Whir(F, {})._statement([])
    with pytest.raises(ProofFormatError, match="first_fold_from"):
        W.read_statement_head(c[:at] + bytes([c[at] | 0x04]) + c[at + 1:] + bytes([23]))
    # the verifier reads the statement it binds that way: an odd setting is refused
    items, proof, _, _ = prove(scheme(), [12], claims=1)
    odd = scheme()
    odd.cfg = attrs.evolve(odd.cfg, first_fold_from=20)   # without first_fold
    with pytest.raises(ProofFormatError, match="first_fold_from"):
        odd.verify(VerifierChannel(Transcript(PROTO), proof), items)


@pytest.mark.parametrize("params", [{**V3, "first_fold_from": 17},
                                    {**V3, "first_fold_from": 18, "query_pow": 22},
                                    {"first_fold": 5, "first_fold_from": 14},
                                    {"folding_factor": 2, "first_fold": 4,
                                     "first_fold_from": 18}])
def test_whir_proves_and_verifies_only_under_its_setting(params):
    s = scheme(**params)
    for sizes in ([18], [17, 13, 18]):   # one size; several (the shared continuation)
        items, proof, _, _ = prove(s, sizes, claims=2, seed=7)
        verify(s, items, proof)
        ff = params["first_fold_from"]
        for other in ({**params, "first_fold_from": 0}, {**params, "first_fold_from": ff - 1},
                      {**params, "first_fold_from": ff + 1}):
            if W.Whir(F, other).cfg != s.cfg:
                rejects(scheme(**other), items, proof)
        for pos in (0, len(proof) // 3, len(proof) // 2, len(proof) - 1):   # one byte
            rejects(s, items, flip(proof, pos))


def _tiny(**config):
    return pyapi.prove(task="train", model="tiny", zero_knowledge=False,
                       config={"commitment": {"whir": config}} if config else None)


def test_tiny_model_default_bytes_and_first_fold_from():
    """The fast profile's ``first_fold_from 23`` (since session 36) is the pinned proof;
    ``first_fold_from 22`` (the tiny batch's largest
    size) is another proof that verifies (≥ 100 bits), records the setting in its
    statement, and is rejected once that setting or one proof byte is changed."""
    r0 = _tiny()
    assert hashlib.sha256(r0.data).hexdigest() == TINY
    assert r0.statement["commitment_params"]["first_fold_from"] == 23   # the fast profile's
    r1 = _tiny(first_fold=5, first_shrink=4, later_shrink=2, first_fold_from=22,
               query_pow=22)
    assert r1.statement["commitment_params"]["first_fold_from"] == 22
    v = pyapi.verify(r1.data)
    assert v.security_bits >= 100
    key = b'"first_fold_from":22'
    assert r1.data.count(key) >= 1
    for bad in (b'"first_fold_from":21', b'"first_fold_from":23', b'"first_fold_from":0'):
        with pytest.raises(ZkLoraError):
            pyapi.verify(r1.data.replace(key, bad))
    tail = len(r1.data) - 5000   # a byte of the stream's end: the batched opening
    with pytest.raises(ZkLoraError):
        pyapi.verify(r1.data[:tail] + bytes([r1.data[tail] ^ 1]) + r1.data[tail + 1:])


def test_a_smaller_size_may_set_the_continuation_and_soundness_covers_it():
    """With k₀ = k + 2 a size just below ``first_fold_from`` folds less than the largest
    one and sets ĥ's size (m = largest's m − k₀ + 2); the soundness report covers such
    tails, and such a batch proves and verifies."""
    par = {"regime": "conjectured", "first_fold": 6, "first_fold_from": 18,
           "first_shrink": 4}
    s = scheme(**par)
    plans = [s.plan(n) for n in (17, 18)]
    lay = W._layout([pl.rounds[0].m - pl.rounds[0].k for pl in plans])
    assert lay.m == 18 - 6 + 2
    report = security.Report(tuple(W.Whir(F, par).soundness(E, 1 << 20)))
    assert report.bits >= 100, report.summary()
    items, proof, _, _ = prove(s, [17, 18], claims=1, seed=3)
    verify(s, items, proof)
