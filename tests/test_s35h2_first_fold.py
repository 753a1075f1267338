"""WHIR's ``first_fold`` (s35h2): the first round of a committed table folds k₀
variables (its codeword's leaves hold 2^k₀ values), later rounds — the shared
continuation's too — fold ``folding_factor``; with k₀ above it ``first_shrink`` may be 4.
The statement's shrink byte records both without changing the default's bytes and is
read strictly (`parse_shrink_fields`, `read_statement_head`: `ProofFormatError`); the
soundness terms still reach the target; proofs under one setting verify under it only;
the tiny model's proof under the default is today's."""

from __future__ import annotations

import hashlib
import itertools

import attrs
import pytest

from tests.test_whir import PROTO, E, F, prove, rejects, scheme, verify
from zklora.plugins.commitments import whir as W
from zklora.zkcore import pyapi, security
from zklora.zkcore.errors import ConfigError, ProofFormatError, VerificationError, ZkLoraError
from zklora.zkcore.transcript import Transcript, VerifierChannel

TINY = "baf4528a9d24614999ecd7b5ada1d12199069c1358b6ced577cb8532a61f9021"
COMBOS = [{"regime": r, "rate_log": rl, "folding_factor": k, "first_fold": k + e,
           "first_shrink": fs, "later_shrink": ls}
          for r, rl, k, e, fs, ls in itertools.product(W.REGIMES, (1, 2), (2, 4), (0, 1, 2),
                                                       (1, 3, 4), (1, 2))
          if fs <= 3 + e and k + e <= W.MAX_FIRST_FOLD]


def _check_rounds(rounds, k: int, k0: int | None) -> None:
    """Each round folds k (the first k0 when given), never more than m; every next
    codeword keeps a rate below 1."""
    for i, rd in enumerate(rounds):
        assert rd.k == min(k0 if (i == 0 and k0 is not None) else k, rd.m)
        assert rd.d > rd.m or (i == 0 and rd.d > rd.m - rd.k)
    for a, b in zip(rounds, rounds[1:]):
        assert b.m == a.m - a.k and a.d > b.d > b.m


def test_schedule_first_round_folds_first_fold_later_rounds_k():
    for base in COMBOS:
        s = W.Whir(F, base)
        p, B = s.cfg, s._B
        assert p.fold0 == base["first_fold"]
        for n in range(1, W.MAX_VARS + 1):
            pl = s.plan(n)
            _check_rounds(pl.rounds, p.folding_factor, p.fold0)
            r0 = pl.rounds[0]
            if len(pl.rounds) > 1:   # the first shrink: first_shrink, clamped (rate < 1)
                assert r0.d - pl.rounds[1].d == max(1, min(p.first_shrink,
                                                           r0.d - r0.m + r0.k - 1))
            for e in (0, 1):   # the shared continuation ĥ folds folding_factor throughout
                tp = W.tail_plan(r0.d, r0.m - r0.k + e, W._first_round_queries(pl),
                                 W._list_bits(p.regime, r0.d, r0.m), p, B)
                if tp.rounds:
                    assert tp.rounds[0].m == tp.m and tp.d > tp.m
                    _check_rounds(tp.rounds, p.folding_factor, None)
    # the default is today's schedule, named or not
    for base in ({}, {"regime": "conjectured", "first_shrink": 3}):
        a, b = W.Whir(F, base), W.Whir(F, {**base, "first_fold": 4})
        assert a.cfg == b.cfg and all(a.plan(n) == b.plan(n) for n in range(1, 29))
    # the 25m batch (largest table 2^26, rate 1/2): ĥ m23 on 2^24 today; k₀ = 5 with
    # first_shrink 4: m22 on 2^23
    for par, (m, d) in (({"first_shrink": 3}, (23, 24)),
                        ({"first_shrink": 3, "first_fold": 5}, (22, 24)),
                        ({"first_shrink": 4, "first_fold": 5}, (22, 23))):
        s = W.Whir(F, {"regime": "conjectured", **par})
        pl = s.plan(26)
        r0 = pl.rounds[0]
        tp = W.tail_plan(r0.d, r0.m - r0.k + 1, W._first_round_queries(pl),
                         W._list_bits("conjectured", r0.d, r0.m), s.cfg, s._B)
        assert (tp.m, tp.d) == (m, d)


@pytest.mark.parametrize("params", [{"first_fold": 5}, {"first_fold": 6},
                                    {"regime": "conjectured", "first_fold": 5,
                                     "first_shrink": 4},
                                    {"regime": "conjectured", "first_fold": 5,
                                     "first_shrink": 4, "later_shrink": 2},
                                    {"regime": "conjectured", "rate_log": 2,
                                     "folding_factor": 2, "first_fold": 5}])
def test_soundness_at_least_100_bits_and_enforced(params):
    report = security.Report(tuple(W.Whir(F, params).soundness(E, 1 << 20)))
    assert report.bits >= 100, report.summary()
    report.enforce()
    weak = security.Report(tuple(W.Whir(F, {**params, "security_bits": 80})
                                 .soundness(E, 1 << 20)))
    with pytest.raises(VerificationError, match="whir security_bits"):
        weak.enforce()


def test_param_and_shrink_byte_round_trip_strictly():
    assert W.WhirParams.parse({}).first_fold == 0 and W.WhirParams.parse({}).fold0 == 4
    assert "first_fold" in W.Whir.param_names()
    seen = set()
    for k, e, fs, ls in itertools.product((1, 2, 3, 4), (0, 1, 2, 3), (1, 2, 3, 4), (1, 2, 3)):
        par = {"folding_factor": k, "first_fold": k + e, "first_shrink": fs,
               "later_shrink": ls}
        if k + e > W.MAX_FIRST_FOLD or fs > 3 + e:
            with pytest.raises(ConfigError):
                W.WhirParams.parse(par)
            continue
        p = W.WhirParams.parse(par)
        assert (p.fold0, p.first_shrink, p.later_shrink) == (k + e, fs, ls)
        b = p.shrink_byte
        assert W.parse_shrink_fields(b) == (fs, ls, e)
        assert W.parse_shrink_byte(b) == (fs, ls)
        if e == 0 and fs <= 3:   # the proofs before first_fold: the same byte
            assert b == fs | (ls - 1) << 4
        seen.add(b)
    # every byte the parser accepts is one of those, and only those
    ok = {b for b in range(256) if _accepts(b)}
    assert ok == seen
    for bad in (0x00, 0x04, 0x08, 0x0B, 0x0C, 0x30, 0x31, 0x40, 0x4C, 0x73, 0x80, 0x17,
                0x131, -1):
        with pytest.raises(ProofFormatError, match="shrink byte"):
            W.parse_shrink_fields(bad)
        with pytest.raises(VerificationError, match="shrink byte"):
            W.parse_shrink_byte(bad)
    for bad in ({"first_fold": 3}, {"first_fold": 7}, {"first_fold": "5"},
                {"first_fold": True}, {"folding_factor": 2, "first_fold": 6},
                {"first_shrink": 4}, {"first_fold": 4, "first_shrink": 4}):
        with pytest.raises(ConfigError):
            W.Whir(F, bad)


def _accepts(b: int) -> bool:
    try:
        W.parse_shrink_fields(b)
    except ProofFormatError:
        return False
    return True


def test_statement_records_first_fold_and_is_read_strictly():
    s0 = W.Whir(F, {"first_shrink": 3})
    s1 = W.Whir(F, {"first_shrink": 4, "first_fold": 5, "later_shrink": 2})
    a, b = s0._statement([]), s1._statement([])
    diff = [i for i in range(len(a)) if a[i] != b[i]]
    assert len(a) == len(b) and diff == [len(W.TAG) + 5] and b[diff[0]] == 0x5B
    head = W.read_statement_head(b)
    assert (head["first_fold"], head["first_shrink"], head["later_shrink"],
            head["folding_factor"]) == (5, 4, 2, 4)
    assert W.read_statement_head(a)["first_fold"] == 4
    # the commitment binds the leaf size (k₀) too; the default's is today's
    assert s0._params_bytes(12) == W.TAG + b"blake3" + bytes([1, 4, 0, 25, 12])
    assert s1._params_bytes(12) != s0._params_bytes(12)
    for pos, val in ((diff[0], 0x0B), (diff[0], 0x5F), (len(W.TAG) + 2, 7)):
        t = bytearray(b)
        t[pos] = val
        with pytest.raises(ProofFormatError):
            W.read_statement_head(bytes(t))
    with pytest.raises(ProofFormatError):
        W.read_statement_head(b"zklora/whir/v2" + b[len(W.TAG):])
    # the verifier reads the statement it binds the same way: parameters whose shrink
    # byte has an unknown bit (first_shrink 4 without a larger first fold) are refused
    # at read time
    items, proof, _, _ = prove(scheme(), [12], claims=1)
    odd = scheme()
    odd.cfg = attrs.evolve(odd.cfg, first_shrink=4)
    with pytest.raises(ProofFormatError, match="shrink byte"):
        odd.verify(VerifierChannel(Transcript(PROTO), proof), items)


@pytest.mark.parametrize("params", [{"first_fold": 5},
                                    {"regime": "conjectured", "first_shrink": 4,
                                     "first_fold": 5},
                                    {"regime": "conjectured", "first_shrink": 4,
                                     "first_fold": 5, "later_shrink": 2},
                                    {"folding_factor": 2, "first_fold": 4}])
def test_whir_proves_and_verifies_only_under_its_setting(params):
    s = scheme(**params)
    k = s.cfg.folding_factor
    # one size (its own chain) and several sizes (the shared continuation)
    for sizes in ([18], [17, 13, 18]):
        items, proof, _, _ = prove(s, sizes, claims=2, seed=5)
        verify(s, items, proof)
        for ff in {k, k + 1, k + 2} - {params["first_fold"]}:
            other = {**params, "first_fold": ff}
            if other.get("first_shrink", 2) > 3 + ff - k:
                other["first_shrink"] = 3
            rejects(scheme(**other), items, proof)


def _tiny(**config):
    return pyapi.prove(task="train", model="tiny", zero_knowledge=False,
                       config={"commitment": {"whir": config}} if config else None)


def test_tiny_model_default_bytes_and_first_fold_5():
    """The fast profile's first_fold 5 from 2^23 (since session 36) is the pinned proof;
    first_fold 5 at every size is another proof that verifies (≥ 100 bits), records the
    setting in its statement, and is rejected once the recorded setting is changed."""
    r1 = _tiny()
    assert hashlib.sha256(r1.data).hexdigest() == TINY
    assert r1.statement["commitment_params"]["first_fold_from"] == 23
    r5 = _tiny(first_fold=5, first_shrink=4, first_fold_from=0)
    assert r5.statement["commitment_params"]["first_fold"] == 5
    assert r5.data != r1.data
    v = pyapi.verify(r5.data)
    assert v.statement["commitment_params"]["first_fold"] == 5 and v.security_bits >= 100
    key = b'"first_fold":5'
    assert r5.data.count(key) >= 1
    for bad in (b'"first_fold":4', b'"first_fold":6', b'"first_fold":9'):
        with pytest.raises(ZkLoraError):
            pyapi.verify(r5.data.replace(key, bad))
