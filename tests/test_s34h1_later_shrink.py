"""WHIR's ``later_shrink`` (s34h1): every round after the first commits its next codeword
on a domain 2^later_shrink times smaller (rate kept below 1), the shared continuation's
rounds too; the statement's shrink byte records it without changing the default's
bytes; the soundness terms still reach the target; proofs under one setting verify
under it only; the tiny model's proof under the default is today's."""

from __future__ import annotations

import hashlib
import itertools
import struct

import pytest

from tests.test_whir import E, F, prove, rejects, scheme, verify
from zklora.plugins.commitments import whir as W
from zklora.zkcore import pyapi, security
from zklora.zkcore.errors import ConfigError, VerificationError, ZkLoraError

TINY = "baf4528a9d24614999ecd7b5ada1d12199069c1358b6ced577cb8532a61f9021"
COMBOS = [{"regime": r, "rate_log": rl, "folding_factor": k, "first_shrink": fs}
          for r, rl, k, fs in itertools.product(W.REGIMES, (1, 2, 4), (1, 3, 4), (1, 3))]


def _shrinks(rounds) -> list[int]:
    return [a.d - b.d for a, b in zip(rounds, rounds[1:])]


def _want(rounds, ls: int) -> list[int]:
    """The later rounds' expected shrinks: ``ls`` clamped so that the next codeword's
    rate stays below 1 (2^(d − s) > 2^(m − k))."""
    return [min(ls, a.d - a.m + a.k - 1) for a in rounds[:-1]]


@pytest.mark.parametrize("ls", [1, 2, 3])
def test_schedule_shrinks_later_domains_rates_below_one(ls):
    for base in COMBOS:
        s = W.Whir(F, {**base, "later_shrink": ls})
        p, B = s.cfg, s._B
        for n in range(1, W.MAX_VARS + 1):
            rs = s.plan(n).rounds
            assert all(r.d > r.m for r in rs), (base, n)
            assert all(b.m == a.m - a.k for a, b in zip(rs, rs[1:]))
            if len(rs) > 1:   # first round: first_shrink, as before
                assert rs[1].d == rs[0].d - min(p.first_shrink,
                                                rs[0].d - rs[0].m + rs[0].k - 1)
            assert _shrinks(rs[1:]) == _want(rs[1:], ls), (base, n)
            if ls == 1:      # today's schedule: later rounds halve the domain
                assert all(x == 1 for x in _shrinks(rs[1:]))
            r0 = rs[0]
            for e in (0, 1):   # the shared continuation: ĥ's rounds all later rounds
                tp = W.tail_plan(r0.d, r0.m - r0.k + e, W._first_round_queries(s.plan(n)),
                                 W._list_bits(p.regime, r0.d, r0.m), p, B)
                if not tp.final:
                    assert tp.rounds[0].d == tp.d and all(r.d > r.m for r in tp.rounds)
                    assert _shrinks(tp.rounds) == _want(tp.rounds, ls)
    # the setting takes effect: the 25m tail (ĥ of 2^23 on 2^24) at 1, 2, 3
    for ls, ds in ((1, [24, 23, 22, 21]), (2, [24, 22, 20, 18]), (3, [24, 21, 18, 15])):
        s = W.Whir(F, {"regime": "conjectured", "first_shrink": 3, "later_shrink": ls})
        tp = W.tail_plan(27, 23, 85, W._list_bits("conjectured", 27, 26), s.cfg, s._B)
        assert [r.d for r in tp.rounds] == ds


@pytest.mark.parametrize("ls", [2, 3])
def test_security_terms_reach_the_target(ls):
    """Query counts and every other term come from the same formulas (rate-dependent):
    ≥ 100 bits for the default and the combinations the scheme tests, and a
    weakened one still refused."""
    for base in ({}, {"regime": "conjectured"}, {"regime": "conjectured", "first_shrink": 3},
                 {"rate_log": 2}, {"folding_factor": 2}, {"regime": "conjectured",
                                                         "rate_log": 4}):
        s = W.Whir(F, {**base, "later_shrink": ls})
        report = security.Report(tuple(s.soundness(E, 1 << 20)))
        assert report.bits >= 100, (base, report.summary())
        report.enforce()
        for n in range(11, W.MAX_VARS + 1):
            assert min(b for _, b in s.plan(n).terms) >= 100
    report = security.Report(tuple(W.Whir(F, {"security_bits": 80, "later_shrink": ls})
                                   .soundness(E, 1 << 20)))
    with pytest.raises(VerificationError, match="whir security_bits"):
        report.enforce()
    # a higher-rate later codeword needs more queries than the default's
    lo = W.Whir(F, {"regime": "conjectured", "first_shrink": 3}).plan(26).rounds
    hi = W.Whir(F, {"regime": "conjectured", "first_shrink": 3,
                    "later_shrink": ls}).plan(26).rounds
    assert lo[:2] == hi[:2] and all(b.queries > a.queries for a, b in zip(lo[2:], hi[2:]))


def test_param_and_shrink_byte_round_trip_strictly():
    assert W.WhirParams.parse({}).later_shrink == 1
    assert "later_shrink" in W.Whir.param_names()
    for fs, ls in itertools.product((1, 2, 3), (1, 2, 3)):
        p = W.WhirParams.parse({"first_shrink": fs, "later_shrink": ls})
        assert (p.first_shrink, p.later_shrink) == (fs, ls)
        assert W.parse_shrink_byte(p.shrink_byte) == (fs, ls)
        if ls == 1:   # the default keeps the byte of the proofs before later_shrink
            assert p.shrink_byte == fs
    for bad in (0, 4, "2", True, 1.0):
        with pytest.raises(ConfigError, match="later_shrink"):
            W.Whir(F, {"later_shrink": bad})
    # bits outside the two fields, a zero first_shrink, a later_shrink of 4: refused
    for b in (0x00, 0x30, 0x31, 0x04, 0x08, 0x40, 0x73, 0x80, 0x17, 0x131, -1):
        with pytest.raises(VerificationError, match="shrink byte"):
            W.parse_shrink_byte(b)
    # the batch statement: byte 6 after the tag holds it; the rest as before
    s1, s2 = W.Whir(F, {"first_shrink": 3}), W.Whir(F, {"first_shrink": 3, "later_shrink": 2})
    a, b = s1._statement([]), s2._statement([])
    old = W.TAG + struct.pack("<BBBBbBBQ", 1, 4, 0, 100, -1, 3, 16, 0)
    assert a == old and len(b) == len(a)
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    assert diff == [len(W.TAG) + 5] and W.parse_shrink_byte(b[diff[0]]) == (3, 2)


@pytest.mark.parametrize("params", [{"later_shrink": 2}, {"later_shrink": 3},
                                    {"regime": "conjectured", "first_shrink": 3,
                                     "later_shrink": 2},
                                    {"regime": "conjectured", "folding_factor": 2,
                                     "later_shrink": 3}])
def test_whir_proves_and_verifies_only_under_its_setting(params):
    s = scheme(**params)
    # one size (its own chain) and several sizes (the shared continuation)
    for sizes in ([18], [17, 13, 18]):
        items, proof, _, _ = prove(s, sizes, claims=2, seed=5)
        verify(s, items, proof)
        for ls in {1, 2, 3} - {params["later_shrink"]}:
            rejects(scheme(**{**params, "later_shrink": ls}), items, proof)


def _tiny(**config):
    return pyapi.prove(task="train", model="tiny", zero_knowledge=False,
                       config={"commitment": {"whir": config}} if config else None)


def test_tiny_model_default_bytes_and_later_shrink_2():
    """later_shrink = 2 (the fast profile's, since session 36) is the pinned proof and is
    recorded in its statement; 1 is another proof that verifies; the recorded setting
    changed is rejected."""
    r2 = _tiny()
    assert hashlib.sha256(r2.data).hexdigest() == TINY
    r1 = _tiny(later_shrink=1)
    assert pyapi.verify(r1.data).statement["commitment_params"]["later_shrink"] == 1
    assert r2.statement["commitment_params"]["later_shrink"] == 2
    assert r2.data != r1.data
    v = pyapi.verify(r2.data)
    assert v.statement["commitment_params"]["later_shrink"] == 2 and v.security_bits >= 100
    key = b'"later_shrink":2'
    assert r2.data.count(key) >= 1   # the statement (and the model commitment it names)
    for bad in (b'"later_shrink":1', b'"later_shrink":3', b'"later_shrink":4'):
        with pytest.raises(ZkLoraError):
            pyapi.verify(r2.data.replace(key, bad))
