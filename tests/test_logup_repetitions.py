"""Large lookups at ≥ 100 bits (issue 14): independent combiners, the verifier's count of
the rows the prover chooses, and repeated challenge sets (`LogUpGKR`, one extra GKR
variable over the set index) chosen by the verifier from the sizes.

The repetition mechanics are exercised on small graphs by forcing the number of sets
(`LogUpGKR.test_repetitions`, read by whichever side holds the object); the sizes at
which the verifier asks for them are unit tests of `zklora.zkcore.security`."""

from __future__ import annotations

import math

import numpy as np
import pytest

from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore import security, selfcheck
from zklora.zkcore.errors import ConfigError, ProofFormatError, VerificationError
from zklora.zkcore.plugins import registry
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S

FIELD = "goldilocks"
P = 2**64 - 2**32 + 1


def _reps(k: int) -> type[LogUpGKR]:
    return type(f"LogUpGKR{k}", (LogUpGKR,), {"test_repetitions": k})


def _lookups(seed=0):
    return S._many([range_table(3), range_table(5), silu_table(4, 6, 6), range_table(8)],
                   [(8, 2), (32,), (16, 4), (256, 64)], seed)


def _rejects(arg, g, proof, sections):
    be = S.backend(arg, FIELD)
    with pytest.raises((VerificationError, ProofFormatError)):
        S.verify(g, proof, be, S.STATEMENT, sections)


# -- the verifier's accounting ------------------------------------------------------------


def _E():
    return registry().field(FIELD).ext


def test_acceptance_shape_passes_without_repetition():
    """The 4 × 128 training step (hidden 256, FFN 512, 4 layers, vocab 1024) looks up
    165 742 082 rows (233 403 904 with the layouts' pinned padding, 2^27.8 leaves in
    three trees) into 29 tables of 496 222 rows.  The old count, (w − 1)·(2^K + 2^t)
    with K the padded leaves' variables and w = 4 (width 3 + tag), refused it at
    98.4 bits; the new one (rows the prover chooses + table rows, independent
    combiners) gives ≥ 100 with one challenge set."""
    E = _E()
    old = security.schwartz_zippel(E, 3 * ((1 << 28) + (1 << 19)), "old")
    assert 98.3 < old.bits < 98.5
    rows, trows = 165_742_082, 496_222
    assert security.check_lookup(E, rows, trows, "acceptance 1", most=16) == 1
    t = security.lookup_term(E, rows, trows, "acceptance 1")
    assert 100 <= t.bits < 101
    # even every padded leaf counted, with one set
    assert security.lookup_term(E, 1 << 28, 1 << 19, "padded").bits < 100
    assert security.lookup_term(E, 233_403_904, trows, "layouts").bits >= 100


@pytest.mark.parametrize("log_rows,want", [(10, 1), (27, 1), (28, 2), (40, 2), (60, 2),
                                           (80, 4), (100, 4), (110, 8)])
def test_repetitions_chosen_from_the_sizes(log_rows, want):
    E = _E()
    rows = 1 << log_rows
    k = security.check_lookup(E, rows, 1 << 16, "big", most=16)
    assert k == want
    assert security.lookup_term(E, rows, 1 << 16, "big", k).bits >= 100
    if k > 1:  # the fewest that reach the floor
        assert security.lookup_term(E, rows, 1 << 16, "big", k // 2).bits < 100


def test_large_rows_reach_100_bits_with_repetition():
    E = _E()
    rows = 3 << 30  # a 2^31.6-row lookup: one set gives 96.4 bits
    one = security.lookup_term(E, rows, 1 << 20, "big")
    assert one.bits < 100
    k = security.lookup_repetitions(E, rows, 1 << 20)
    assert k == 2
    two = security.lookup_term(E, rows, 1 << 20, "big", k)
    assert two.bits == pytest.approx(2 * one.bits) and two.bits >= 100
    assert "2 challenge sets" in two.parameter


def test_refused_when_repetition_cannot_help():
    E = _E()
    with pytest.raises(VerificationError, match="bits of soundness"):
        security.check_lookup(E, 1 << 28, 1 << 16, "one set only")  # most=1: tlookup
    with pytest.raises(ConfigError, match="bits of soundness"):
        security.check_lookup(E, 1 << 28, 1 << 16, "one set only", prover=True)
    with pytest.raises(VerificationError):
        security.check_lookup(E, 1 << 124, 1, "huge", most=16)   # 16 sets · 4 bits
    with pytest.raises(VerificationError):
        security.check_lookup(E, 1 << 130, 1, "more rows than |E|", most=1 << 20)


def test_degree_counts_rows_plus_table_rows():
    E = _E()
    assert security.lookup_degree(5, 3) == 8
    t = security.lookup_term(E, 1000, 24, "x")
    assert t.bits == pytest.approx(security.field_bits(E) - math.log2(1024))


# -- repetition: completeness and soundness -------------------------------------------------


@pytest.mark.parametrize("k", [2, 4])
@pytest.mark.parametrize("field", ["goldilocks", "bls12-381-fr"])
def test_suite_with_repetitions(k, field):
    """The conformance suite (completeness, a row outside the table, wrong
    multiplicities, flipped bytes, several tables) with k challenge sets."""
    S.check_all(_reps(k), field, range_bits=5,
                function_table=silu_table(4, 6, 6) if field == FIELD else None)


@pytest.mark.parametrize("k", [1, 2, 4])
def test_single_row_requests_and_tables(k):
    """Trees whose sent layer is their leaves (one-row lookups, one-row table)."""
    S.check_completeness(_reps(k), FIELD, range_table(0), sizes=(1,))
    S.check_many_tables(_reps(k), FIELD, [range_table(4), range_table(6), range_table(2),
                                          range_table(1)], [(64,), (16,), (4,), (1,)])


@pytest.mark.parametrize("prover_k,verifier_k", [(2, 1), (1, 2), (4, 2)])
def test_verifier_derives_the_number_of_sets(prover_k, verifier_k):
    """A proof made with another number of challenge sets than the verifier's is
    rejected (the verifier's count is absorbed and shapes what it reads)."""
    g, _, proof, sections = S.prove_tables(_reps(prover_k)(), FIELD, _lookups(1))
    S.verify(g, proof, S.backend(_reps(prover_k)(), FIELD), S.STATEMENT, sections)
    _rejects(_reps(verifier_k)(), g, proof, sections)


def test_number_of_sets_and_sizes_are_absorbed(monkeypatch):
    """The transcript absorbs k and the counts it was derived from, before α, β."""
    from zklora.zkcore import transcript

    seen = []
    orig = transcript.ProverChannel.observe_public

    def spy(self, label, data):
        seen.append((label, bytes(data)))
        return orig(self, label, data)

    monkeypatch.setattr(transcript.ProverChannel, "observe_public", spy)
    S.prove_tables(_reps(2)(), FIELD, _lookups(1))
    rows = 8 + 2 + 32 + 16 + 4 + 256 + 64
    trows = 8 + 32 + 64 + 256
    assert ("lookups/repetitions", f"2:{rows}:{trows}".encode()) in seen


@pytest.mark.parametrize("where", ["/roots", "/l2/round0", "/l3/finals", "/l5/round3",
                                   "/l9/finals"])
def test_one_gkr_message_element_changed_with_repetitions(where):
    """k = 4: a prover that adds 1 to one element of one GKR message (absorbed)."""
    hit = []

    def tamper(label, v):
        if where in label and not hit:
            hit.append(label)
            v = np.array(v, copy=True)
            v.reshape(-1)[0] = (int(v.reshape(-1)[0]) + 1) % P
        return v

    arg = _reps(4)()
    arg.test_tamper_message = tamper
    with selfcheck.disabled():
        g, _, proof, sections = S.prove_tables(arg, FIELD, _lookups(2))
    assert hit, f"no GKR message matched {where!r}"
    _rejects(_reps(4)(), g, proof, sections)


def test_independent_combiners():
    """draw_combiners gives [1, α_1, …, α_(w−1)] with independent α's (not powers)."""
    from zklora.zkcore.lookup import draw_combiners

    E = _E()

    class Ctx:
        def __init__(self):
            self.E = E
            self.n = 0

        def challenge(self, label):
            return self.challenges(label, 1)[0]

        def challenges(self, label, n):
            out = np.array([[self.n + i + 5, 7 * (self.n + i) + 3] for i in range(n)],
                           np.uint64)
            self.n += n
            return out

    coefs, beta = draw_combiners(Ctx(), 4, "x")
    assert coefs.shape[0] == 4
    assert E.equal(coefs[0], E.scalar(1))
    assert not E.equal(coefs[2], E.mul(coefs[1], coefs[1]))
    one, _ = draw_combiners(Ctx(), 1, "x")
    assert one.shape[0] == 1
