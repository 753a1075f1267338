"""Security level of a proof, computed by the verifier from the statement (§ "Security
level" in docs/commitments.md).

The prover chooses nothing here: the floor `MIN_SECURITY_BITS` and the work budget
`MAX_STATEMENT_WORK` are the verifier's constants, never read from a statement.  A
statement names a protocol stack and its parameters; from them the verifier computes
one `Term` per source of soundness error and accepts only if every term reaches the
floor:

* the commitment scheme's terms (`CommitmentScheme.soundness`: ligero's column
  queries and Merkle hash, hyrax's discrete log, plain's hash, and each scheme's
  algebraic error in the challenge field);
* the Fiat–Shamir transcript hash (collision resistance of a 256-bit digest);
* the challenge field E: every sumcheck round and claim batching fails with
  probability ≤ D/|E| for a polynomial of degree D in the challenge (Schwartz–Zippel),
  so the term is log2|E| − log2 D with D bounded by the number of claims the statement's
  graph can make (`challenge_term`, `claim_bound`);
* each lookup argument, checked exactly at its own layout (`check_lookup`), on both
  sides, before its challenges are drawn: the verifier derives from the sizes how many
  independent challenge sets the argument must draw (`lookup_repetitions`).

Terms are *round-by-round* errors (the probability that one verifier challenge turns a
false claim into a true one), the measure that matters after Fiat–Shamir: a prover
making 2^t hash calls succeeds with probability ≤ 2^t·2^-bits.  The security level is
the smallest term; the overall error is at most the sum of the terms, i.e. within
log2(#terms) ≤ 3 bits of it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from .errors import ConfigError, VerificationError, ZkLoraError

if TYPE_CHECKING:
    from .field import Field

#: the verifier's floor (bits of soundness); never taken from a statement
MIN_SECURITY_BITS = 100
#: the most graph elements (all tensors, committed, virtual and public) a statement
#: may imply; larger statements are refused before the graph is built
MAX_STATEMENT_WORK = 1 << 32
#: collision resistance (bits) of the hashes a stack may name (256-bit digests)
HASH_BITS = {"blake3": 128.0, "sha256": 128.0}
#: largest degree of a sumcheck round polynomial or per-challenge identity in the
#: built-in ops (products of ≤ 4 tables times eq; the hidden LogUp layer top of three
#: trees, 2·3 + 5), used by `challenge_term`
MAX_ROUND_DEGREE = 11
#: largest width of a lookup table of the built-in plugins
MAX_TABLE_WIDTH = 3


@attrs.frozen
class Term:
    """One source of soundness error: ``bits`` = −log2 of its probability, ``parameter``
    names what sets it (e.g. ``"ligero num_queries = 1 (rate 1/2)"``)."""

    bits: float
    parameter: str
    note: str = ""

    def message(self) -> str:
        return (f"{self.parameter} gives {self.bits:.1f} bits of soundness "
                f"(< {MIN_SECURITY_BITS} required)")


@attrs.frozen
class Report:
    """Every term of a statement; its level is the smallest."""

    terms: tuple[Term, ...]

    @property
    def limiting(self) -> Term:
        return min(self.terms, key=lambda t: t.bits)

    @property
    def bits(self) -> float:
        return self.limiting.bits

    def merged(self, more: Iterable[Term]) -> Report:
        return Report(self.terms + tuple(more))

    def summary(self) -> str:
        lim = self.limiting
        return (f"{lim.bits:.1f} bits of soundness (floor {MIN_SECURITY_BITS}; "
                f"limited by {lim.parameter})")

    def enforce(self, err: type[ZkLoraError] = VerificationError) -> Report:
        """Raise ``err`` naming the weakest term if it is below the floor."""
        lim = self.limiting
        if not lim.bits >= MIN_SECURITY_BITS:  # also rejects NaN
            raise err(lim.message())
        return self


def check_statement_work(work: int, err: type[ZkLoraError] = ConfigError) -> int:
    """``work`` (graph elements a statement implies) within `MAX_STATEMENT_WORK`, else
    ``err`` naming both (the prover calls it before computing anything, the verifier
    before building anything)."""
    if work > MAX_STATEMENT_WORK:
        raise err(f"the statement implies 2^{log2_int(work):.1f} graph elements, above "
                  f"the verifier's budget of 2^{log2_int(MAX_STATEMENT_WORK):.0f}")
    return work


def log2_int(n: int) -> float:
    """log2 of a positive integer of any size (exact enough for bookkeeping)."""
    n = int(n)
    if n <= 0:
        return 0.0
    if n.bit_length() < 1000:
        return math.log2(n)
    shift = n.bit_length() - 64
    return math.log2(n >> shift) + shift


def field_bits(E: Field) -> float:
    """log2 |E| computed from the characteristic and degree (not trusting ``E.bits``)."""
    return E.degree * log2_int(E.p)


def hash_term(name: str, role: str) -> Term:
    """Collision resistance of ``name`` used as ``role``."""
    return Term(HASH_BITS.get(name, 0.0), f"{role} hash = {name}",
                "collision resistance of a 256-bit digest")


def schwartz_zippel(E: Field, degree: int, parameter: str, note: str = "") -> Term:
    """−log2(degree/|E|): a nonzero polynomial of ``degree`` vanishes at a uniform
    challenge with probability ≤ degree/|E|."""
    return Term(field_bits(E) - log2_int(max(1, degree)), parameter, note)


def challenge_term(E: Field, claims: int) -> Term:
    """The largest per-challenge error in the challenge field, outside the lookup
    arguments (each of those is checked exactly by `check_lookup`), for a graph whose
    proof makes at most ``claims`` claims (`claim_bound`; round-by-round, see the module
    doc):

    * claim batching: ≤ one coefficient per claim, so degree ≤ ``claims``;
    * sumcheck rounds: degree ≤ `MAX_ROUND_DEGREE`.
    """
    degree = max(int(claims), MAX_ROUND_DEGREE)
    return schwartz_zippel(E, degree, f"challenge field {E.name} "
                           f"(2^{field_bits(E):.0f} elements) for a graph of "
                           f"≤ 2^{log2_int(max(1, claims)):.1f} claims",
                           "claim batching and sumcheck rounds")


def claim_bound(graph) -> int:
    """An upper bound on the claims a proof of ``graph`` makes (and so on the claims or
    items any one batching challenge combines): every op hands at most a few claims to
    each of its inputs and outputs per sumcheck, every tensor gets at most a few from
    the scheduler; 8 per (node, tensor) incidence plus 8 per tensor is generous."""
    incidences = sum(len(n.inputs) + len(n.outputs) for n in graph.nodes)
    return 8 * (incidences + len(graph.tensors))


#: most repetitions of a lookup argument's challenges the verifier will ask for (a power
#: of two); a lookup that needs more is refused
MAX_LOOKUP_REPETITIONS = 16


def lookup_degree(rows: int, table_rows: int) -> int:
    """Degree of the LogUp identity a lookup argument checks at one challenge set, for
    ``rows`` looked-up rows the prover chooses (the verifier pins every padding row) and
    ``table_rows`` table rows, with independent combiners (docs/soundness.md §2.2):
    the identity Σ_d c_d/d(α, β) = 0 has at most rows + table_rows distinct denominators,
    each of total degree 1, so cleared of them its numerator has degree
    < rows + table_rows."""
    return max(1, int(rows) + int(table_rows))


def lookup_term(E: Field, rows: int, table_rows: int, what: str, reps: int = 1) -> Term:
    """Term of one lookup argument drawing ``reps`` independent challenge sets in one
    round: a false lookup passes each with probability ≤ degree/|E| (Schwartz–Zippel,
    `lookup_degree`), all of them with probability ≤ (degree/|E|)^reps."""
    one = schwartz_zippel(E, lookup_degree(rows, table_rows), "")
    reps = max(1, int(reps))
    return Term(reps * one.bits if one.bits > 0 else one.bits,
                f"lookup {what} ({int(rows)} rows into {int(table_rows)} table rows, "
                f"{reps} challenge set{'s' if reps > 1 else ''}) in {E.name}",
                "LogUp identity, independent combiners")


def lookup_repetitions(E: Field, rows: int, table_rows: int,
                       most: int = MAX_LOOKUP_REPETITIONS) -> int:
    """The fewest challenge sets (a power of two, ≤ ``most``) that bring the lookup
    term to `MIN_SECURITY_BITS`; ``most`` when none does (`check_lookup` then refuses).
    Computed by the verifier from the sizes alone."""
    k = 1
    while k < most and not lookup_term(E, rows, table_rows, "", k).bits >= MIN_SECURITY_BITS:
        k *= 2
    return k


def check_lookup(E: Field, rows: int, table_rows: int, what: str, prover: bool = False,
                 most: int = 1) -> int:
    """The number of challenge sets the verifier asks of a lookup argument of ``rows``
    looked-up rows into ``table_rows`` table rows (`lookup_repetitions`, at most
    ``most``: what the argument supports); refuses the argument if even that leaves the
    challenge-field error above the floor (both sides call this before drawing the
    argument's challenges)."""
    k = lookup_repetitions(E, rows, table_rows, most)
    t = lookup_term(E, rows, table_rows, what, k)
    if not t.bits >= MIN_SECURITY_BITS:
        raise (ConfigError if prover else VerificationError)(t.message())
    return k


def assess(backend, elements: int | None = None) -> Report:
    """Every term of a stack (``backend``: field, scheme, lookup, hash), with the
    size-dependent ones when ``elements`` (a bound on the graph's claims and opened
    items, `claim_bound`) is given.
    A scheme that does not state its soundness gets a 0-bit term."""
    F = backend.field
    E = F.ext
    terms = [hash_term(backend.hash, "Fiat–Shamir transcript"),
             schwartz_zippel(E, MAX_ROUND_DEGREE, f"challenge field {E.name}")]
    scheme_terms = backend.scheme.soundness(E, elements)
    if scheme_terms is None:
        terms.append(Term(0.0, f"commitment {backend.scheme.name} (states no soundness)"))
    else:
        terms += list(scheme_terms)
    if elements is not None:
        terms.append(challenge_term(E, elements))
    return Report(tuple(terms))
