"""The ``whir`` commitment scheme: a succinct hash-based multilinear commitment over
Goldilocks in the style of WHIR (Arnon, Chiesa, Fenzi, Yogev 2024).

Relation proven by a batched opening: for every item (commitment C_t, claims
{(r_j, v_j)}), C_t commits to a table T_t of 2^n Goldilocks elements with
T̃_t(r_j) = v_j, r_j ∈ E^n, v_j ∈ E (E = goldilocks-ext2, ≈ 2^128 elements).

Construction (docs/commitments_whir.md has the full description and the soundness
analysis):

* **Commit.** T's multilinear extension f̂ is written in coefficient form c (Möbius
  transform); the univariate p(X) = Σ c_i X^i is Reed–Solomon encoded on a subgroup of
  size 2^(n+ρ) and the codeword is Merkle-hashed in leaves of 2^k₀ values (the k₀-fold
  cosets, `zklora.kernels.whir`; k₀ = ``first_fold``, by default the folding factor
  k).  Under the conjectured (list-decoding) regime, s₀ out-of-domain values p(z) at
  points z derived from the root are bound as well.  The
  commitment is ``H(tag ‖ hash ‖ ρ ‖ k₀ ‖ regime ‖ w ‖ n ‖ root ‖ OOD values)`` (32
  bytes).  Every Merkle digest (roots, nodes, leaves) is truncated to w = ⌈λ/4⌉ bytes
  (25 at λ = 100; collision resistance 4w ≥ λ bits), so a node is one BLAKE3 block.
* **Open** (all items in one proof, in a shared transcript; every table size gets its
  own first round, and when `merge_sizes` finds it smaller all sizes then share one
  continuation: their folded polynomials stacked into one committed ĥ — see
  `_prove_merged` and docs/whir.md — else each size continues its own chain).
  Per commitment, the claims (and the OOD values) are combined with powers
  of a challenge β (and, for several tables of one size, independent λ_t) into a
  weighted-sum claim.  One table: Σ_b f̂(b)·W(b) = σ with W = Σ β^j eq(r_j, ·).
  Several tables of the same size: a reduction sumcheck on Σ_t Σ_b f̂_t(b)·W_t(b)
  brings every claim to one point r* (the prover sends each f̂_t(r*)), independent μ_t
  are drawn and the WHIR rounds run on F̂ = Σ μ_t f̂_t with W = eq(r*, ·); its round-0
  codeword is the combination of the committed ones, so every tree is opened at the
  same positions and the verifier combines the leaves.  Each WHIR round: k (the first
  round k₀) sumcheck rounds on Σ f̂·W (binding k variables, α), a Merkle commitment to the folded
  polynomial's codeword on a smaller domain (2^first_shrink times smaller after the
  first round, ``first_shrink`` = 2 by default; 2^later_shrink times after the later
  ones, ``later_shrink`` = 1: half as large), OOD samples of it (conjectured
  regime), t shift queries on the current codeword (leaves + one multi-proof; the
  verifier folds each leaf at its point), and a challenge γ combining the new point
  constraints into W.  Once at most 8 variables remain the folded polynomial is sent in
  the clear and checked against the last queries and the sumcheck claim.
* **Small tables** are sent (entries as centred integers in the least byte width; one
  mode byte per table says which opening it gets); the verifier re-commits and
  evaluates.  By default (``direct_vars = "auto"``) the prover sends a table when that
  costs no more than WHIR-opening it would add (`Whir.table_bytes` in a batch,
  `opening_bytes` alone); an integer ``direct_vars`` fixes the rule instead.

Prover kernels: the weight tables W by split-table products (`kernels.whir_eq`), the
sumcheck rounds fused with the folds (`kernels.whir_sumcheck`).

Prover memory (docs/distributed.md): inside a `zklora.zkcore.scratch` session a large
table (`STREAM_MIN_VARS`, the store's spill threshold) is committed streamed — the
table is kept by reference when read-only (the kernel's mapped stack) and read a block
at a time, its coefficient form, the column codewords of the encoding, the leaves and
the Merkle levels go to scratch files through positioned I/O (`_commit_streamed`) —
and its first folding round is computed in passes over blocks (`_fold_streamed`), so
only the k-times folded tables (1/2^k of the table, in the challenge field) reach RAM;
a later round's large codeword is written the same way (`_commit_next`).  What stays
on disk between commit and opening is the codeword's leaves (2^ρ × the table's 8
bytes an element) and the Merkle levels from `MERKLE_SKIP` up (≈ 1/16 of the tree):
the coefficient and column-codeword files are deleted once the leaves are written
(an opening takes the folded polynomial's coefficients from the folded evaluations by
a Möbius transform), a multi-proof recomputes the lowest levels from the opened
leaves' blocks, the weight table's rows are recomputed per pass (`W_RECOMPUTE_TERMS`)
and a codeword the opening commits is deleted once queried.  Same bytes as the
in-RAM prover.

Soundness: per round, the query term t·(−log2 err) + grinding bits, err = (1+ρ)/2
(unique decoding, proven) or ρ + η, η = ρ/2^e per round (capacity-bound conjecture),
the folding terms (proximity gaps of the fold, sumcheck, list size), the OOD and
combination terms; a grinding nonce (proof of work) is asked before α or γ when the
field term alone is below the target, and ``query_pow`` bits before every query draw;
Merkle digests of ⌈λ/4⌉ bytes.  Every count is a function of n and the verifier's own
parameters (`plan`, `tail_plan`).  Binding, not hiding — outside a zero-knowledge
session, or with `HIDING` off.

Zero knowledge (inside a `zklora.zkcore.zk` session with `HIDING` on; all prover
randomness from the session's source, the OS; docs/zero-knowledge.md §5.3):

* **Commit.**  A table t of 2^n elements becomes T = (t ‖ pad) of 2^m elements, the pad
  2^m − 2^n uniform entries, committed as above (m = `Whir.hiding_vars`).  t occupies the
  hypercube points whose top m − n coordinates are 0, so t̃(r) = T̃(r ‖ 0); in coefficient
  form every monomial with a top variable carries pad entries, so the univariate
  p_T(X) = p_t(X) + Σ_{S≠0} X^{2^n·S}·q_S(X) with the q_S uniform: every evaluation of p_T
  the verifier sees (round-0 leaves, the commitment's OOD values) is masked.
* **Open.**  Claims are lifted to (r ‖ 0).  For every padded size m among the opened
  tables the prover commits a uniform mask table G_m (its commitment sent first), a
  point z is drawn and G̃_m(z) sent: G_m is a table of the batch with that claim.  So every
  size group has ≥ 2 tables and takes the batched path: the reduction sumcheck (its
  messages carry G_m's share), each table's value at r* (T̃(r*) masked by the pad,
  G̃_m(r*) uniform), then WHIR on Σ μ_t T_t + μ_G G_m — uniform, since G_m is — so the
  folding messages, later OOD values and leaves and the final polynomial are functions
  of a uniform table.  Tables are never sent directly (no mode byte).
* **Degrees of freedom.**  A linear functional of a uniform vector is uniform and
  independent of others as long as the revealed functionals stay linearly independent,
  which needs their number below the vector's length.  `Whir.revealed` counts, for a
  padded size m, the base-field functionals an opening reveals of the committed codeword
  (round-0 leaves: ≤ queries·2^k, each a distinct domain point, i.e. a Vandermonde row of
  the pad's q_S; commitment OOD values; T̃(r*); a virtual value per larger size) and of
  everything (adding the sumchecks, later OOD values and leaves, the final polynomial,
  extension values counted twice, the chain twice over for a merged continuation);
  `hiding_vars` picks the least m with 2^m − 2^n above the first and 2^m above the
  second, plus `HIDING_MARGIN`.  (2^23 → 2^24; anything up to 2^13 → 2^14.)
* **Sum claims** (`SumClaim`: Σ_l c_l·t̃_{i_l}(p_l) = v): absorbed with the statement;
  each is carried by the size group of its largest padded size M: a challenge θ_s (after
  λ) weights it, its terms join the reduction's weights (θ_s·c_l·eq(p_l ‖ 0, ·)) and v
  its claimed sum.  A term on a smaller table (padded size a < M) makes that table a
  *virtual member* of group M: zero-extended to 2^M entries (T̃'(x) = T̃(x_{<a})·
  Π_{i≥a}(1 − x_i)), it takes part in the reduction only; the prover sends
  w = T̃(r*_{<a}) (masked by the pad), the verifier uses w·Π_{i≥a}(1 − r*_i), and
  (r*_{<a}, w) becomes a claim of the table in its own group, processed later (groups run
  largest first).  No term and no partial sum is revealed: only v.
* Soundness: the binding WHIR's, plus θ_s in the batching (degree 1) and the claims of
  virtual members (each then opened by its own group).
"""

from __future__ import annotations

import contextlib
import math
import mmap
import os
import struct
import threading
from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

import attrs
import numpy as np

from zklora.kernels import merkle, ntt
from zklora.kernels import whir as K
from zklora.kernels.goldilocks import P_INT
from zklora.zkcore import scratch, zk
from zklora.zkcore import security as _security
from zklora.zkcore.commit import (
    CheckItem,
    CommitmentScheme,
    Evaluation,
    OpenItem,
    SumClaim,
    check_item,
    check_sum,
)
from zklora.zkcore.errors import ConfigError, ProofFormatError, ProverError, VerificationError
from zklora.zkcore.field import Field
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.published import IntTable
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

TAG = b"zklora/whir/v1"
#: largest table (number of variables) the scheme accepts (a larger one is a clear
#: error: prove such models with ligero); the soundness terms are the weakest over every
#: n ≤ MAX_VARS (list sizes grow with n), so this stays at 2^28 although a statement may
#: imply up to MAX_STATEMENT_WORK graph elements
MAX_VARS = min(28, _security.MAX_STATEMENT_WORK.bit_length() - 1)
#: a round whose folded polynomial has at most this many variables sends it in the clear
FINAL_VARS = 8
#: most grinding bits asked for one challenge (beyond that the term stays short)
MAX_POW = 22
#: most out-of-domain samples per codeword
MAX_OOD = 8
#: ``first_fold``: at most this many variables more than ``folding_factor`` (the shrink
#: byte's bits 6–7), and at most MAX_FIRST_FOLD (leaves of 2^6 values)
MAX_EXTRA_FOLD = 3
MAX_FIRST_FOLD = 6
#: capacity-bound regime: a round whose codeword has rate ρ = 2^-r tests proximity
#: δ = 1 − ρ − η with η = ρ / 2^e, e = max(ETA_MIN, ETA_TOP − r) (`_eta_log`; η is the
#: analysis' free parameter, chosen per round).  A smaller η makes each query worth
#: more, −log2(ρ + η), and the list |D|/η longer: the OOD, folding and combination
#: terms pay for the longer list with cheap grinding.  Chosen by opening size: at rate
#: 1/2 (e = 7) a 2^23 table needs 102 first-round queries instead of 121 at e = 3; at
#: low rates the gain is small and the longer list would need more than MAX_POW bits.
ETA_TOP = 8
ETA_MIN = 3
#: largest ``security_bits``
MAX_SECURITY = 160
REGIMES = ("unique", "conjectured")
#: RAM working set of one block of a streamed commitment or first folding round (bytes)
STREAM_BYTES = 32 << 20
#: a streamed encoding keeps its column codewords (8·2^d bytes a component) in RAM, a
#: tile at a time, up to `scratch.working_budget` with this cap (bytes); the rest go
#: through a scratch file (`Whir._encode_streamed`).  A prover-only knob: the same proof
ENC_RAM_BYTES = 256 << 20
#: a later round's in-RAM codeword at a rate below 2^-NEXT_SPLIT_RATE is encoded with
#: a split of 2^NEXT_SPLIT_LOG columns (`_next_split`); a prover-only knob
NEXT_SPLIT_RATE = 4
NEXT_SPLIT_LOG = 6
#: inside a `zklora.zkcore.scratch` session, a table of at least 2^STREAM_MIN_VARS
#: elements whose prover state (`state_bytes`) the store `wants` is committed streamed:
#: its coefficient form, codeword and Merkle levels go to scratch files, and its first
#: folding round reads it a block at a time (`_commit_streamed`, `_fold_streamed`);
#: the same for a later round's codeword (`_commit_next`)
STREAM_MIN_VARS = 12
#: a spilled Merkle tree stores its levels from this one up (level 0: the leaves'
#: digests); a multi-proof recomputes the lower levels of the blocks of 2^MERKLE_SKIP
#: leaves it opens (a few hundred leaves read and hashed per opening), so the stored
#: levels take 2^-MERKLE_SKIP of the whole tree's bytes
MERKLE_SKIP = 4
#: a streamed Merkle tree's level files keep about this many bytes of written pages
#: mapped a level before giving them back (`_MerkleBlocks.add`): a prover-only knob
MERKLE_HELD_BYTES = 4 << 20
#: a streamed first folding round recomputes its weight table's rows in every pass
#: (`whir_eq.eq_rows`) when W has at most this many terms (claims and OOD points); with
#: more it keeps them in a scratch file of 16 bytes an entry (`_fold_streamed`)
W_RECOMPUTE_TERMS = 8
#: a streamed first round (`_fold_streamed`) or batch reduction (`_reduce_streamed`)
#: whose weight tables have at most this many terms a table takes all its streamed round
#: messages from one pass (`whir_open.split_rows`: W's row sums of the table, then
#: `_SplitMessages`) instead of a pass over the table per round
SPLIT_MSG_TERMS = 64
#: RAM (bytes) a same-size batch's reduction sumcheck (`_reduce_pairs`) may hold: its
#: tables and weight tables folded, 2·T·16 bytes an entry.  A batch above it runs its
#: first rounds in passes over blocks (`_reduce_streamed`: the same messages) and its
#: combination's first folding round streams too (`_Stream` with ``mu``), so no
#: (2^n, 2) array of the batch is ever whole in RAM (a 30-layer SmolLM step: several
#: stacks of 2^28, 4 GiB each as extension elements).  ``ZKLORA_OPEN_BYTES`` overrides
#: it (`scratch.open_bytes`)
OPEN_BYTES = 512 << 20
_RATES = {Fraction(1, 1 << r): r for r in range(1, 5)}
#: hiding WHIR (module doc "Zero knowledge"; docs/zero-knowledge.md §5.3) inside a
#: zero-knowledge session.  Off: a session then uses the binding scheme as before (the
#: `fast` profile proves ZK with hiding ligero, `config.ZK_COMMITMENT`) until sum claims
#: across table sizes are designed (the masked stack reduction's claims can span sizes)
HIDING = False
ZK_TAG = b"zklora/whir/zk/v1"
#: base-field functionals of slack kept above the counted ones (`Whir.revealed`)
HIDING_MARGIN = 64


@attrs.frozen
class WhirParams:
    """Validated parameters (config ``[commitment.whir]``)."""

    rate_log: int = 1
    folding_factor: int = 4
    security_bits: int = 100
    regime: str = "unique"
    hash: str = "blake3"
    direct_vars: int = -1  # −1: "auto" (see `Whir.direct`)
    #: the first round's next codeword lives on a domain 2^first_shrink times smaller
    #: (later rounds halve it); clamped so that its rate stays below 1
    first_shrink: int = 2
    #: grinding bits asked before each round's query indices: t·(−log2 err) + bits ≥ λ,
    #: so each bit saves 1/(−log2 err) queries (≈ 1 in the first round at rate 1/2)
    query_pow: int = 16
    #: every later round's next codeword lives on a domain 2^later_shrink times smaller
    #: (clamped so that its rate stays below 1); 1 halves it (the proofs before it)
    later_shrink: int = 1
    #: variables the first round of a committed table folds (its codeword's leaves hold
    #: 2^first_fold values); 0: ``folding_factor`` (the proofs before it).  Later rounds,
    #: the shared continuation's included, fold ``folding_factor``
    first_fold: int = 0
    #: ``first_fold`` applies to tables of at least 2^first_fold_from elements only
    #: (smaller ones fold ``folding_factor`` in their first round too, their leaves stay
    #: 2^folding_factor values); 0: to every size (the proofs before it).  Only with
    #: ``first_fold`` above ``folding_factor``; recorded in the batch statement by the
    #: shrink byte's bit 2 and one byte after the head (`Whir._statement`)
    first_fold_from: int = 0

    @property
    def fold0(self) -> int:
        """The first round's folding factor k₀ (``first_fold``, or ``folding_factor``)."""
        return self.first_fold or self.folding_factor

    def fold0_at(self, n: int) -> int:
        """k₀ of a committed table of 2^n elements: `fold0`, or ``folding_factor`` below
        ``first_fold_from``."""
        return self.folding_factor if n < self.first_fold_from else self.fold0

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> WhirParams:
        params = dict(params)
        unknown = set(params) - set(Whir.param_names())
        if unknown:
            raise ConfigError(f"whir: unknown parameter(s) {sorted(unknown)}; allowed: "
                              f"{', '.join(Whir.param_names())}")

        def integer(key, lo, hi, default):
            v = params.get(key, default)
            if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
                raise ConfigError(f"whir: {key} must be an integer in {lo}..{hi}, got {v!r}")
            return v

        rate_log = integer("rate_log", 1, 4, 1)
        if "rate" in params:
            try:
                rate = Fraction(str(params["rate"]))
            except (ValueError, ZeroDivisionError):
                rate = None
            if rate not in _RATES:
                raise ConfigError(f"whir: rate {params['rate']!r} not allowed; "
                                  "use 1/2, 1/4, 1/8 or 1/16")
            if "rate_log" in params and _RATES[rate] != rate_log:
                raise ConfigError("whir: rate and rate_log disagree")
            rate_log = _RATES[rate]
        h = params.get("hash", "blake3")
        if h not in merkle.HASHES:
            raise ConfigError(f"whir: hash must be one of {sorted(merkle.HASHES)}, got {h!r}")
        regime = params.get("regime", "unique")
        if regime not in REGIMES:
            raise ConfigError(f"whir: regime must be one of {', '.join(REGIMES)}, "
                              f"got {regime!r}")
        direct = -1 if params.get("direct_vars", "auto") == "auto" else \
            integer("direct_vars", 0, MAX_VARS, 0)
        k = integer("folding_factor", 1, 4, 4)
        # a first round folding more variables leaves a smaller polynomial: its next
        # domain may shrink once more (first_shrink 4, the rate staying below 1)
        k0 = integer("first_fold", k, min(k + MAX_EXTRA_FOLD, MAX_FIRST_FOLD), k)
        # 0 (every size) or 2..MAX_VARS, and only with a first fold above k (one
        # encoding per schedule: 1 would mean every size too)
        ff = integer("first_fold_from", 0, MAX_VARS, 0)
        if ff == 1 or (ff and k0 == k):
            raise ConfigError("whir: first_fold_from must be 0 or 2.."
                              f"{MAX_VARS}, and only with first_fold above "
                              f"folding_factor; got {ff!r}")
        return cls(rate_log, k, integer("security_bits", 1, MAX_SECURITY, 100), regime, h,
                   direct, integer("first_shrink", 1, min(3 + k0 - k, 4), 2),
                   integer("query_pow", 0, MAX_POW, 16), integer("later_shrink", 1, 3, 1),
                   0 if k0 == k else k0, ff)

    @property
    def shrink_byte(self) -> int:
        """The statement's shrink byte: ``first_shrink`` in bits 0–1 (1..3; 4 as 3 with
        bit 3 set), ``later_shrink`` − 1 in bits 4–5, ``first_fold`` −
        ``folding_factor`` in bits 6–7 (every added field 0 under its default, so the
        byte — and every proof made before these knobs existed — is unchanged);
        `parse_shrink_fields` inverts it.  (Bit 2 is the batch statement's: a
        ``first_fold_from`` byte follows its head, `Whir._statement`.)"""
        fs = self.first_shrink
        return (min(fs, 3) | (fs > 3) << 3 | (self.later_shrink - 1) << 4
                | (self.fold0 - self.folding_factor) << 6)


def parse_shrink_fields(b: int) -> tuple[int, int, int]:
    """(first_shrink, later_shrink, first_fold − folding_factor) from a statement's
    shrink byte (`WhirParams.shrink_byte`); any bit outside the fields, a field value
    out of range (first_shrink 1..4, later_shrink 1..3), bit 3 without bits 0–1 = 3 or
    without first_fold above folding_factor (as `WhirParams.parse`) is refused
    (`ProofFormatError`).  Bit 2 is refused here: in a batch statement's head it says
    that a ``first_fold_from`` byte follows (`read_statement_head`)."""
    if not 0 <= b <= 0xFF or b & 0x04 or not 1 <= b & 0x3 <= 3 or b >> 4 & 0x3 > 2 \
            or (b & 0x08 and (b & 0x3 != 3 or not b >> 6)):
        raise ProofFormatError(f"whir: bad shrink byte {b:#04x}")
    return (b & 0x3) + (b >> 3 & 1), (b >> 4 & 0x3) + 1, b >> 6


def parse_shrink_byte(b: int) -> tuple[int, int]:
    """(first_shrink, later_shrink) from a statement's shrink byte, as strictly as
    `parse_shrink_fields` (refused: `VerificationError`)."""
    try:
        fs, ls, _ = parse_shrink_fields(b)
    except ProofFormatError as e:
        raise VerificationError(str(e)) from None
    return fs, ls


_HEAD = struct.Struct("<BBBBbBBQ")


def read_statement_head(data: bytes) -> dict[str, int | str]:
    """The parameters a batch statement (`Whir._statement`) records, read strictly: the
    tag, the regime index and the shrink byte (`parse_shrink_fields`); a malformed head
    is a `ProofFormatError`."""
    if len(data) < len(TAG) + _HEAD.size or not data.startswith(TAG):
        raise ProofFormatError("whir: batch statement without its head")
    rl, k, reg, lam, direct, sb, qp, count = _HEAD.unpack_from(data, len(TAG))
    if reg >= len(REGIMES):
        raise ProofFormatError(f"whir: batch statement: regime {reg} unknown")
    # bit 2 of the head's shrink byte: a first_fold_from byte (2..MAX_VARS) follows
    # the head, only with first_fold above folding_factor (as `WhirParams.parse`)
    fs, ls, extra = parse_shrink_fields(sb & ~0x04)
    ff = 0
    if sb & 0x04:
        at = len(TAG) + _HEAD.size
        if not extra or len(data) <= at or not 2 <= data[at] <= MAX_VARS:
            raise ProofFormatError(f"whir: batch statement: shrink byte {sb:#04x} with a "
                                   "bad or missing first_fold_from byte")
        ff = data[at]
    return {"rate_log": rl, "folding_factor": k, "regime": REGIMES[reg],
            "security_bits": lam, "direct_vars": direct, "first_shrink": fs,
            "later_shrink": ls, "first_fold": k + extra, "query_pow": qp, "items": count,
            "first_fold_from": ff}


# -- the round schedule and its soundness (a function of n and the parameters) ----------


@attrs.frozen
class Round:
    """One WHIR round on a polynomial of m variables whose codeword has 2^d entries."""

    m: int
    d: int
    k: int  # variables folded; leaves hold 2^k values
    queries: int  # query draws (deduplicated afterwards); all leaves if ≥ their number
    ood: int  # out-of-domain samples of the next codeword (0 in the final round)
    pow_fold: int  # grinding bits before each folding challenge α
    pow_comb: int  # grinding bits before the combination challenge γ
    final: bool
    pow_query: int = 0  # grinding bits before the query indices

    @property
    def leaves(self) -> int:
        return 1 << (self.d - self.k)

    @property
    def depth(self) -> int:
        return self.d - self.k


@attrs.frozen
class Plan:
    n: int
    ood0: int
    rounds: tuple[Round, ...]
    #: (category, bits) of every round-by-round term, grinding included
    terms: tuple[tuple[str, float], ...]
    #: grinding bits before the combination challenges μ of a batch of same-size tables
    pow_batch: int = 0
    #: bytes of every Merkle digest (roots, nodes, leaves)
    digest: int = 32


def digest_bytes(security_bits: int) -> int:
    """Merkle digest length w = ⌈λ/4⌉ in 16..32: a w-byte truncation of BLAKE3/SHA-256
    resists collisions up to 2^(4w) ≥ 2^λ work."""
    return max(16, min(merkle.DIGEST, -(-security_bits // 4)))


def _list_bits(regime: str, d: int, m: int) -> float:
    """log2 of the list size the analysis assumes (0 in the unique-decoding regime;
    |D|/η under the capacity conjecture, η = ρ/2^e, e = `_eta_log`)."""
    return 0.0 if regime == "unique" else float(d + (d - m) + _eta_log(d, m))


def _eta_log(d: int, m: int) -> int:
    """e with η = ρ/2^e for a codeword of 2^d entries and rate ρ = 2^(m−d)."""
    return max(ETA_MIN, ETA_TOP - (d - m))


def _query_bits(regime: str, d: int, m: int) -> float:
    """−log2 of the chance that one query misses a δ-far word: 1 − δ = (1 + ρ)/2
    (unique decoding, proven) or ρ + η = ρ·(1 + 2^-e) (capacity conjecture)."""
    rho = 2.0 ** (m - d)
    err = (1.0 + rho) / 2.0 if regime == "unique" else rho * (1.0 + 2.0 ** -_eta_log(d, m))
    return -math.log2(err)


def _ood_samples(regime: str, B: float, lam: int, d: int, m: int) -> tuple[int, float]:
    """Fewest OOD samples making C(ℓ, 2)·(2^m/|E|)^s ≤ 2^-λ, and their bits."""
    if regime == "unique":
        return 0, math.inf
    lb = _list_bits(regime, d, m)
    bits = 0.0
    for s in range(1, MAX_OOD + 1):
        bits = s * (B - m) - 2 * lb + 1
        if bits >= lam:
            return s, bits
    return MAX_OOD, bits


def _grind(lam: int, raw: float) -> int:
    return min(MAX_POW, max(0, math.ceil(lam - raw)))


@lru_cache(maxsize=1024)
def plan(n: int, p: WhirParams, B: float) -> Plan:
    """Round schedule for a table of 2^n elements under parameters ``p`` with a
    challenge field of 2^B elements (prover and verifier both call this)."""
    lam, reg = p.security_bits, p.regime
    terms: list[tuple[str, float]] = []
    d = n + p.rate_log
    ood0, b0 = _ood_samples(reg, B, lam, d, n)
    if reg != "unique":
        terms.append(("ood", b0))
    # batch of same-size tables: reduction sumcheck (degree 2 per round) and the
    # combination μ of the words (proximity gaps of a random linear combination, the
    # same bound as one fold, on the first domain)
    gap0 = B - d if reg == "unique" else B - _list_bits(reg, d, n)
    pb = _grind(lam, gap0)
    terms.append(("batch", min(B - 1, gap0 + pb)))
    rounds = _rounds(n, d, True, p, B, terms)
    return Plan(n, ood0, tuple(rounds), tuple(terms), pb, digest_bytes(lam))


def _rounds(m: int, d: int, first: bool, p: WhirParams, B: float,
            terms: list[tuple[str, float]]) -> list[Round]:
    """The WHIR rounds from a polynomial of m variables whose codeword has 2^d entries
    (``first``: a committed table's codeword, the next domain 2^first_shrink times
    smaller; otherwise 2^later_shrink times); appends each round's soundness terms to
    ``terms``."""
    lam, reg = p.security_bits, p.regime
    rounds: list[Round] = []
    while True:
        k = min(p.folding_factor if rounds or not first else p.fold0_at(m), m)
        # domain of the next codeword: 2^first_shrink times smaller after the first
        # round, 2^later_shrink times after the others; the next codeword (2^(d −
        # shrink) entries, m − k variables) keeps a rate below 1
        shrink = min(p.later_shrink if rounds or not first else p.first_shrink,
                     d - m + k - 1)
        final = m - k <= FINAL_VARS
        lb = _list_bits(reg, d, m)
        qb = _query_bits(reg, d, m)
        leaves = 1 << (d - k)
        # grinding before the query indices (none when every leaf is opened anyway)
        pq = min(p.query_pow, lam - 1) if math.ceil(lam / qb) < leaves else 0
        t = math.ceil((lam - pq) / qb)
        if t >= leaves:
            t, pq = leaves, 0
        terms.append(("queries", math.inf if t >= leaves else t * qb + pq))
        if k:
            gap = B - d if reg == "unique" else B - _list_bits(reg, d, m)
            raw = min(gap, B - 1 - lb)
            pf = _grind(lam, raw)
            terms.append(("folding", raw + pf))
        else:
            pf = 0
        s, pc = 0, 0
        if not final:
            s, ob = _ood_samples(reg, B, lam, d - max(1, shrink), m - k)
            if reg != "unique":
                terms.append(("ood", ob))
            raw = B - math.log2(t + s) - lb - 1
            pc = _grind(lam, raw)
            terms.append(("combination", raw + pc))
        rounds.append(Round(m, d, k, t, s, pf, pc, final, pq))
        if final:
            break
        m, d = m - k, d - max(1, shrink)
    return rounds


@attrs.frozen
class Tail:
    """The shared continuation of a batch of several table sizes (module doc): every
    size's first round folds its own codeword(s); the folded polynomials are stacked
    into one polynomial ĥ of ``m`` variables whose codeword (2^d entries) the prover
    commits (``ood`` OOD samples, ``pow_comb`` grinding before γ); ``rounds`` are ĥ's
    WHIR rounds.  ``final``: ĥ would be small enough to send in the clear — never
    chosen (`merge_sizes`), the sizes' own final polynomials are smaller."""

    m: int
    d: int
    ood: int
    pow_comb: int
    final: bool
    rounds: tuple[Round, ...]
    terms: tuple[tuple[str, float], ...]


def _first_round_queries(pl: Plan) -> int:
    return min(pl.rounds[0].queries, pl.rounds[0].leaves)


@lru_cache(maxsize=1024)
def tail_plan(d0: int, m: int, queries: int, lb0: float, p: WhirParams, B: float) -> Tail:
    """The shared continuation for stacked folded polynomials of m variables in all,
    the largest size's first codeword having 2^d0 entries, at most ``queries``
    first-round query constraints per size (each size's are combined by its own γ) and
    first-round list size 2^lb0 (the largest over the sizes).  ĥ's codeword:
    2^first_shrink times smaller than the largest first codeword, rate below 1; the OOD
    and combination terms as for one table's first round."""
    lam, reg = p.security_bits, p.regime
    terms: list[tuple[str, float]] = []
    if m <= FINAL_VARS:
        return Tail(m, 0, 0, 0, True, (), ())
    d = max(d0 - p.first_shrink, m + 1)
    s, ob = _ood_samples(reg, B, lam, d, m)
    if reg != "unique":
        terms.append(("ood", ob))
    raw = B - math.log2(queries + s) - lb0 - 1
    pc = _grind(lam, raw)
    terms.append(("combination", raw + pc))
    # the sizes' sumcheck claims combined by independent λ (one linear form)
    terms.append(("batch", B - 1))
    rounds = _rounds(m, d, False, p, B, terms)
    return Tail(m, d, s, pc, False, tuple(rounds), tuple(terms))


@attrs.frozen
class Layout:
    """Blocks (offset, variables) of the folded polynomials in the stacked ĥ (in the
    sizes' order) and ĥ's number of variables ``m``: largest first, each block aligned
    to its size, so block t is ĥ(x, bits of offset_t >> m_t) for x ∈ {0,1}^m_t."""

    m: int
    blocks: tuple[tuple[int, int], ...]


def _layout(ms: Sequence[int]) -> Layout:
    order = sorted(range(len(ms)), key=lambda t: -ms[t])
    blocks: list[tuple[int, int]] = [(0, 0)] * len(ms)
    off = 0
    for t in order:
        blocks[t] = (off, ms[t])
        off += 1 << ms[t]
    return Layout((off - 1).bit_length(), tuple(blocks))


def _selector_points(pts: np.ndarray, off: int, mt: int, m: int) -> np.ndarray:
    """Points (q, mt, 2) of a block's polynomial as points (q, m, 2) of ĥ: the block's
    selector bits (offset >> mt) as the coordinates mt … m−1."""
    q = pts.shape[0]
    out = np.zeros((q, m, 2), dtype=np.uint64)
    out[:, :mt] = pts.reshape(q, mt, 2)
    for j in range(mt, m):
        out[:, j, 0] = (off >> j) & 1
    return out


@lru_cache(maxsize=65536)
def _distinct(N: int, draws: int) -> Fraction:
    """Expected number of distinct values among ``draws`` uniform draws from N."""
    return N - Fraction((N - 1) ** draws, N ** (draws - 1)) if draws else Fraction(0)


@lru_cache(maxsize=1024)
def opening_bytes(pl: Plan) -> int:
    """Expected bytes of a one-claim WHIR opening under plan ``pl`` (exact rational
    expectation over uniform queries, so every platform makes the same choice): root and
    OOD values, per round the sumcheck messages, nonces, next root and OOD values or the
    final polynomial, the distinct opened leaves and the multi-proof siblings."""
    w = pl.digest
    total = Fraction(w + 16 * pl.ood0)
    for i, rd in enumerate(pl.rounds):
        total += _round_bytes(rd, i == 0, w) + _next_bytes(rd, w)
    return int(total)


@lru_cache(maxsize=4096)
def _round_bytes(rd: Round, base: bool, w: int) -> Fraction:
    """Expected bytes of a round without what it sends about the next codeword: its
    sumcheck messages, folding and query nonces, distinct opened leaves (base-field
    or extension values) and multi-proof siblings of w bytes."""
    total = Fraction(32 * rd.k + 8 * (rd.k if rd.pow_fold else 0) + 8 * (rd.pow_query > 0))
    leaf = (8 if base else 16) << rd.k
    if rd.queries >= rd.leaves:
        known = [Fraction(rd.leaves >> lvl) for lvl in range(rd.depth + 1)]
    else:
        known = [_distinct(rd.leaves >> lvl, rd.queries) for lvl in range(rd.depth + 1)]
    return total + leaf * known[0] + w * sum(2 * known[lvl + 1] - known[lvl]
                                             for lvl in range(rd.depth))


def _next_bytes(rd: Round, w: int) -> int:
    """The final polynomial, or the next root, OOD values and the γ nonce."""
    if rd.final:
        return 16 << (rd.m - rd.k)
    return w + 16 * rd.ood + 8 * (rd.pow_comb > 0)


def merge_sizes(plans: Sequence[Plan], tail: Tail) -> bool:
    """Whether a batch of several sizes takes the shared continuation (stacked ĥ)
    rather than one chain per size: when its expected bytes are smaller (exact
    rational expectations; prover and verifier derive it from the statement).  The
    first rounds are common to both; the stack may add a variable, and a size whose
    folded polynomial is small is cheaper sent in the clear on its own."""
    w = plans[0].digest
    apart = sum(sum((_round_bytes(rd, False, w) + _next_bytes(rd, w)
                     for rd in pl.rounds[1:]), Fraction(0)) + _next_bytes(pl.rounds[0], w)
                for pl in plans)
    if tail.final:  # ĥ in the clear costs more than the sizes' own final polynomials
        return False
    shared = Fraction(w + 16 * tail.ood + 8 * (tail.pow_comb > 0)) + sum(
        (_round_bytes(rd, False, w) + _next_bytes(rd, w) for rd in tail.rounds),
        Fraction(0))
    return shared < apart


# -- proof of work -------------------------------------------------------------------------


def _pow_prefix(state: bytes, label: str) -> bytes:
    return TAG + b"/pow" + state + label.encode()


def _pow_ok(hash_name: str, state: bytes, label: str, nonce: int, bits: int) -> bool:
    h = merkle.hasher(hash_name)(_pow_prefix(state, label) + struct.pack("<Q", nonce))
    return int.from_bytes(h[:8], "little") & ((1 << bits) - 1) == 0


def _grind_prove(ch: ProverChannel, label: str, bits: int) -> None:
    """Send the least nonce making H(tag ‖ state ‖ label ‖ nonce) start with ``bits``
    zero bits (little-endian), found by the compiled BLAKE3 search (`K.grind_blake3`)
    or, for other transcript hashes, in Python (`K.grind_ref`)."""
    if bits <= 0:
        return
    prefix = _pow_prefix(ch.transcript.state, label)
    if ch.transcript.hash_name == "blake3":
        nonce = K.grind_blake3(prefix, bits)
    else:
        nonce = K.grind_ref(prefix, bits, merkle.hasher(ch.transcript.hash_name))
    ch.send_u64(label, nonce)


def _grind_verify(ch: VerifierChannel, label: str, bits: int) -> None:
    if bits <= 0:
        return
    state = ch.transcript.state
    nonce = ch.recv_u64(label, (1 << 64) - 1)
    if not _pow_ok(ch.transcript.hash_name, state, label, nonce, bits):
        raise VerificationError(f"whir: grinding nonce for {label} is invalid")


# -- tables sent in the clear ------------------------------------------------------------
#
# A table opened directly is sent as its centred lift c ∈ [−(p−1)/2, (p−1)/2] in the
# fewest bytes w that hold every entry as a little-endian two's-complement integer
# (w ∈ 1..8, sent first).  The reading is strict: an entry outside the centred range or
# a width larger than needed is rejected, so every table has exactly one encoding.

_HALF = (P_INT - 1) // 2


def _centred(t: np.ndarray) -> np.ndarray:
    t = np.asarray(t, dtype=np.uint64)
    neg = t > np.uint64(_HALF)
    out = t.astype(np.int64)  # entries ≤ (p−1)/2 < 2^63 are exact
    out[neg] = -(np.uint64(P_INT) - t[neg]).astype(np.int64)
    return out


def _need(c: np.ndarray) -> int:
    """Fewest bytes holding every entry of c in two's complement."""
    if c.size == 0:
        return 1
    hi, lo = int(c.max()), int(c.min())
    w = 1
    while not (-(1 << (8 * w - 1)) <= lo and hi < 1 << (8 * w - 1)):
        w += 1
    return w


def _width(t: np.ndarray) -> int:
    return _need(_centred(t))


def _pack(t: np.ndarray) -> bytes:
    c = _centred(t)
    w = _need(c)
    return np.ascontiguousarray(c.astype("<i8").view(np.uint8).reshape(-1, 8)[:, :w]).tobytes()


def _unpack(data: bytes, w: int, t: int) -> np.ndarray:
    """The table from its packed entries (strict, see above): (2^n,) uint64."""
    raw = np.frombuffer(data, dtype=np.uint8).reshape(-1, w)
    full = np.zeros((raw.shape[0], 8), dtype=np.uint8)
    full[:, :w] = raw
    if w < 8:  # sign extension
        full[raw[:, w - 1] >= 0x80, w:] = 0xFF
    c = full.view("<i8").reshape(-1).astype(np.int64)
    if c.size and (int(c.max()) > _HALF or int(c.min()) < -_HALF):
        raise VerificationError(f"whir: tensor {t}: entry outside the centred range")
    if w > 1 and _need(c) != w:
        raise VerificationError(f"whir: tensor {t}: width {w} is not the least one")
    out = c.astype(np.uint64)
    neg = c < 0
    out[neg] = np.uint64(P_INT) - (-c[neg]).astype(np.uint64)
    return out


# -- states ----------------------------------------------------------------------------------


@attrs.define(eq=False)
class Tree:
    """A committed codeword's leaves ((2^(d−k), 2^k) base or (2^(d−k), 2^k, 2)
    extension values) and Merkle levels (leaves first): arrays in RAM, or handles of
    scratch files (`zklora.zkcore.scratch.Spilled`) read only where an opening needs
    them.  A spilled tree stores the levels from ``skip`` up only (``levels[0]`` is level
    ``skip``): a multi-proof recomputes the lower levels of the blocks of 2^skip leaves
    that hold its leaves (`MERKLE_SKIP`), hashing them with ``hash`` to ``digest``
    bytes."""

    leaves: np.ndarray | scratch.Spilled
    levels: list[np.ndarray] | list[scratch.Spilled]
    skip: int = 0
    hash: str = "blake3"
    digest: int = 0

    def rows(self, idx: np.ndarray) -> np.ndarray:
        """Leaves ``idx``, in RAM."""
        if isinstance(self.leaves, scratch.Spilled):
            return self.leaves.read_rows(idx)
        return self.leaves[idx]

    def paths(self, idx: np.ndarray) -> bytes:
        """The Merkle multi-proof of leaves ``idx``."""
        return self.open(idx, rows=False)[1]

    def open(self, idx: np.ndarray, rows: bool = True) -> tuple[np.ndarray | None, bytes]:
        """`rows` and `paths` of leaves ``idx`` (rows None with ``rows=False``).  A
        spilled tree with ``skip`` reads the blocks of 2^skip leaves holding them in one
        read (`_block_rows`; the rows are taken from those blocks) and hashes all the
        blocks' lower levels at once (`merkle.hash_leaves`, `merkle.hash_nodes` over the
        blocks side by side: an aligned level's pairs never cross a block) — the same
        nodes as a tree built block by block."""
        if not self.levels or not isinstance(self.levels[0], scratch.Spilled):
            return (self.rows(idx) if rows else None), merkle.open_multi(self.levels, idx)
        s = self.skip
        if not s:
            out = self.rows(idx) if rows else None
            with contextlib.ExitStack() as stack:
                maps = [stack.enter_context(h.mapped()) for h in self.levels]
                return out, merkle.open_multi_nodes(lambda lvl, need: maps[lvl][need],
                                                    len(self.levels) - 1, idx)
        ix = np.asarray(idx, dtype=np.int64).reshape(-1)
        if not ix.size:
            return (self.rows(ix) if rows else None), b""
        blocks = np.unique(ix >> s)   # sorted
        data = self._block_rows(blocks)   # (len(blocks) << s, …): block k's leaves at k << s
        out = None
        if rows:   # leaf i is row (position of its block) << s | i mod 2^s
            pos = (np.searchsorted(blocks, ix >> s) << s) | (ix & ((1 << s) - 1))
            out = data[pos]
        low = [merkle.hash_leaves(data.reshape(data.shape[0], -1), self.hash, self.digest)]
        for _ in range(1, s):
            low.append(merkle.hash_nodes(low[-1], self.hash))
        del data
        with contextlib.ExitStack() as stack:
            maps = [stack.enter_context(h.mapped()) for h in self.levels]

            def nodes(lvl: int, need: np.ndarray) -> np.ndarray:
                if lvl >= s:
                    return maps[lvl - s][need]
                sh = s - lvl   # a sibling lies in the block of the node it completes
                at = (np.searchsorted(blocks, need >> sh) << sh) | (need & ((1 << sh) - 1))
                return low[lvl][at]

            return out, merkle.open_multi_nodes(nodes, s + len(self.levels) - 1, ix)

    def _block_rows(self, blocks: np.ndarray) -> np.ndarray:
        """The leaves of the blocks ``blocks`` (sorted block numbers, 2^skip leaves
        each) side by side, in RAM: one `read_rows` of a `_BlockLeaves` file (its paged
        direct reads, several in flight), else a positioned read a block."""
        s = self.skip
        if isinstance(self.leaves, _BlockLeaves):
            ids = ((blocks[:, None] << s) + np.arange(1 << s, dtype=np.int64)).reshape(-1)
            return self.leaves.read_rows(ids)
        return np.concatenate([self.leaves.read_range(int(b) << s, (int(b) + 1) << s)
                               for b in blocks])

    def discard(self, store: scratch.Store | None) -> None:
        """Delete the files of a spilled tree (no opening reads it any more)."""
        if store is None:
            return
        for h in [self.leaves, *self.levels]:
            if isinstance(h, scratch.Spilled):
                store.discard(h)


@attrs.define(eq=False)
class WhirState:
    """Prover-only state of one commitment ("not to be shared with the verifier").

    In RAM, or (a large table committed inside a scratch session, `STREAM_MIN_VARS`)
    with the coefficient form, leaves and levels in scratch files and the table kept
    by reference when the caller gave it read-only (the kernel's stacked vector, a
    memory map): no per-element copy stays resident."""

    commitment: bytes
    n: int
    #: (2^n,) uint64: the caller's table if it was read-only, else an owned copy
    table: np.ndarray
    #: coefficient form (2^n,) uint64; None when committed streamed (an opening derives
    #: the folded coefficients from the folded evaluations, `_prove_chain`)
    coeffs: np.ndarray | None
    tree: Tree  # the first codeword's leaves and Merkle levels
    root: bytes
    ood_points: np.ndarray  # (s0, 2)
    ood_values: np.ndarray  # (s0, 2)
    params: WhirParams  # of the scheme that committed (the layout depends on them)


@attrs.define(eq=False)
class HidingState:
    """Prover state of a hiding commitment: the table of 2^n elements padded with
    uniform entries to 2^m (`Whir.hiding_vars`), committed as a binding one."""

    inner: WhirState
    n: int

    @property
    def commitment(self) -> bytes:
        return self.inner.commitment


@attrs.frozen(eq=False)
class _Stream:
    """A streamed first-round sumcheck input (`Whir._fold_streamed`): the table — base
    (2^n,) (a memory map, read a block at a time) or a scratch file (base or extension
    rows) — and W, given by points (q, n, 2) and coefficients (q, 2) as
    Σ_j coefs_j·eq(points_j, ·), or as a scratch file of its (2^n, 2) values."""

    table: np.ndarray | scratch.Spilled
    points: np.ndarray | None
    coefs: np.ndarray | None
    w: scratch.Spilled | None = None
    #: a batch's combination Σ_t mu_t·f_t (`_prove_head`): ``table`` is then the tuple
    #: of the base tables f_t, combined a block at a time (`lincomb_base`)
    mu: np.ndarray | None = None


#: ``madvise`` advice that maps a range's pages (read from the page cache or the file)
#: in one call: a kernel then reads a mapped block without a page fault per 64 KiB
#: (Linux ≥ 5.14; an older kernel refuses it and the faults happen as before)
MADV_POPULATE_READ = getattr(mmap, "MADV_POPULATE_READ", 22)


def _populate(src) -> None:
    """Map the pages of ``src`` (a view of a memory map, e.g. a block of a prover-cache
    table about to be read by a kernel) in one ``madvise`` call: the same pages the
    reads would fault in, without the faults.  Anything not in a map, or a kernel
    without the advice: nothing happens."""
    m = scratch._mmap_of(src)
    if m is None or not hasattr(m, "madvise") or not src.size:
        return
    try:
        base = np.frombuffer(m, dtype=np.uint8).ctypes.data
    except (ValueError, TypeError):   # closed
        return
    lo = src.ctypes.data - base
    hi = lo + src.nbytes
    if lo < 0 or hi > len(m) or not src.flags.c_contiguous:
        return
    lo -= lo % mmap.PAGESIZE
    try:
        m.madvise(MADV_POPULATE_READ, lo, hi - lo)
    except (OSError, ValueError):
        pass


def _read_base(table, lo: int, hi: int) -> np.ndarray:
    """Entries [lo, hi) of a table (a memory map, an array or a scratch file) copied
    into RAM, the pages read given back (`scratch.drop_pages`)."""
    if isinstance(table, scratch.Spilled):
        return table.read_range(lo, hi)
    if isinstance(table, IntTable):   # a fresh converted block
        return table[lo:hi]
    src = table[lo:hi]
    _populate(src)
    out = np.array(src, dtype=np.uint64)
    scratch.drop_pages(src)
    return out


def _base_view(table, lo: int, hi: int):
    """Entries [lo, hi) of a base table for a kernel that only reads them: (block, src).
    A memory map's (or array's) own pages, not copied — a read-only map's pages as a
    plain array over the same memory (``ctypes``; the kernels take it as they take any
    array, and never write it) — with ``src`` the slice to give back
    (`scratch.drop_pages`) once read and to keep alive until then; a scratch file's
    range (or a table that is not contiguous uint64) copied into RAM, ``src`` None."""
    if isinstance(table, scratch.Spilled):
        return table.read_range(lo, hi), None
    if isinstance(table, IntTable):   # converted into the store's buffer for this table
        store = scratch.current()     # (read by a kernel at once: one block at a time)
        if store is None:
            return table[lo:hi], None
        return table.read(lo, hi, store.buffer(f"whir-int-{id(table)}", hi - lo)), None
    src = table[lo:hi]
    if src.dtype != np.uint64 or src.ndim != 1 or not src.flags.c_contiguous or \
            not src.shape[0]:
        return _read_base(table, lo, hi), None
    _populate(src)
    if src.flags.writeable:
        return src.view(np.ndarray), src
    import ctypes
    buf = (ctypes.c_uint64 * src.shape[0]).from_address(src.ctypes.data)
    return np.ctypeslib.as_array(buf), src


def _kernel_block(table, lo: int, hi: int, rs: np.ndarray, msg: tuple | None,
                  out: np.ndarray | None = None):
    """Entries [lo, hi) of a base table read by a kernel only (`_base_view`: no block
    copy), the pages given back after: with ``msg`` = (A, B, a) the round message of
    Σ f·W from W's split tables (`whir_open.split_round`); with ``msg`` = (A, B, a, off)
    and ``rs`` both, the message of the block folded by ``rs`` in one pass, the folded
    block never written (`whir_open.fold_split_round`); else the block folded by ``rs``
    (len(rs) ≥ 1: into ``out`` when given, else a fresh array)."""
    from zklora.kernels import whir_open as WO  # prover only
    f, src = _base_view(table, lo, hi)
    try:
        if msg is not None and rs is not None:   # folded at rs: one fused pass
            return WO.fold_split_round(f, rs, *msg)
        return WO.split_round(f, *msg, lo) if msg is not None else _fold_seq(f, rs, out)
    finally:
        if src is not None:
            scratch.drop_pages(src)


def _w_split_folded(E: Field, points: np.ndarray, coefs: np.ndarray, rs: np.ndarray,
                    rows: int):
    """The split tables (`whir_eq.eq_split`) of W = Σ_l coefs_l·eq(points_l, ·) with its
    low j = len(rs) variables bound to rs (W folded by r_0, …, r_(j−1), as `fold`
    does): eq factors over the coordinates, so that is Σ_l c'_l·eq(points_l[j:], ·)
    with c'_l = coefs_l·Π_(i<j) eq(points_l,i, r_i) — 2^(n−j) entries computed
    directly instead of 2^n entries and j folds (the same values).  ``rows``: the
    folded rows a block holds (a power of two; `eq_rows` makes whole blocks of 2^a)."""
    from zklora.kernels import whir_eq as QE  # prover only
    pts = np.ascontiguousarray(points, dtype=np.uint64)
    cf = np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2)
    q = pts.shape[0]
    one = np.ascontiguousarray(np.broadcast_to(E.scalar(1), (q, 2)))
    for i in range(len(rs)):
        p = np.ascontiguousarray(pts[:, i])
        r = np.ascontiguousarray(np.broadcast_to(np.asarray(rs[i], dtype=np.uint64), (q, 2)))
        pr = E.mul(p, r)
        e = E.add(E.sub(E.sub(one, p), r), E.add(pr, pr))   # p·r + (1 − p)(1 − r)
        cf = E.mul(cf, e)
    return QE.eq_split(np.ascontiguousarray(pts[:, len(rs):]), cf,
                       max(0, rows.bit_length() - 1))


def _split_sums(E: Field, tables: Sequence, mu: np.ndarray | None, A: np.ndarray,
                B: np.ndarray, a: int, N: int, blk: int) -> np.ndarray:
    """G[l, x] = Σ_h B[l, h]·f(h·2^a + x) (q, 2^a, 2) for f = the base table
    ``tables[0]`` (``mu`` None) or Σ_t mu_t·tables[t]: one pass over the tables a block
    of ``blk`` entries (a multiple of 2^a) at a time, each read in place (`_base_view`,
    the pages given back once read) by `whir_open.split_rows`."""
    from zklora.kernels import whir_open as WO  # prover only
    q = A.shape[0]
    G = np.zeros((q, 1 << a, 2), dtype=np.uint64)
    for lo in range(0, N, blk):
        hi = min(N, lo + blk)
        Bb = np.ascontiguousarray(B[:, lo >> a:hi >> a])   # (q, H, 2)
        if mu is None:
            C = Bb[:, None]
        else:
            T, H = mu.shape[0], Bb.shape[1]
            C = E.mul(np.ascontiguousarray(np.broadcast_to(mu[None, :, None], (q, T, H, 2))),
                      np.ascontiguousarray(np.broadcast_to(Bb[:, None], (q, T, H, 2))))
        vs = [_base_view(t, lo, hi) for t in tables]
        WO.split_rows([v for v, _ in vs], C, a, G)
        for _, src in vs:
            if src is not None:
                scratch.drop_pages(src)
        del vs
    return G


class _SplitMessages:
    """The round messages [h(0), h(2)] of Σ_t Σ_i f_t(i)·W_t(i), W_t = Σ_l A_t[l, x]·
    B_t[l, h] at i = h·2^a_t + x (`whir_eq.eq_split`), from the row sums G_t[l, x] =
    Σ_h B_t[l, h]·f_t(h·2^a_t + x) (`_split_sums`): binding a low variable of f_t and
    W_t binds it in G_t and A_t (B_t weights whole rows), so round j's message is the
    product sumcheck's message on (G_t, A_t) folded j times, summed over t and l — one
    `whir_sumcheck.round_` / `fold_round` on the concatenated (Σ q_t·2^a_t, 2) tables
    (every pair inside one l-block while 2^(a_t − j) ≥ 2; exact field sums, the same
    values as the passes over the tables)."""

    def __init__(self, pairs: Sequence[tuple[np.ndarray, np.ndarray]]):
        self.g = np.ascontiguousarray(np.concatenate([g.reshape(-1, 2) for g, _ in pairs]))
        self.a = np.ascontiguousarray(np.concatenate([a.reshape(-1, 2) for _, a in pairs]))

    def first(self) -> np.ndarray:
        from zklora.kernels import whir_sumcheck as SC  # prover only
        return SC.round_(self.g, self.a)

    def next(self, r: np.ndarray) -> np.ndarray:
        """Bind the next variable to r; the next round's message."""
        from zklora.kernels import whir_sumcheck as SC  # prover only
        self.g, self.a, h = SC.fold_round(self.g, self.a, r)
        return h


def _put_block(dst: np.ndarray, pos: int, a: np.ndarray) -> None:
    """dst[pos : pos + len(a)] = a (dst (M, 2) extension; a base block into column 0,
    column 1 zeroed), unless a kernel already wrote ``a`` there."""
    n = a.shape[0]
    part = dst[pos:pos + n]
    if part.shape[0] != n:
        raise ValueError("_put_block: the block runs past its destination")
    if a.ndim == 1:
        part[:, 0] = a
        part[:, 1] = 0
    elif a.ctypes.data != part.ctypes.data:
        part[...] = a


def _aligned(lo: int, hi: int, a: int) -> bool:
    return lo % (1 << a) == 0 and hi % (1 << a) == 0


def _fold_seq(t: np.ndarray, rs: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Bind the low len(rs) variables of one table (base (n,) or extension (n, 2)) to
    r_0, r_1, … in turn (`sumcheck.fold_into`: the values `whir_sumcheck.fold` gives f;
    a base table and two or more folds: `whir_eq.fold_eq`, the same values); the last
    fold written into ``out`` when given (len(rs) ≥ 1)."""
    from zklora.kernels import sumcheck as KS  # prover only
    if t.ndim == 1 and len(rs) >= 2:   # j folds of a base block in one pass
        from zklora.kernels import whir_eq as QE  # prover only
        return QE.fold_eq(t, np.ascontiguousarray(rs, dtype=np.uint64), out)
    for i, r in enumerate(rs):
        o = out if out is not None and i + 1 == len(rs) else \
            np.empty((t.shape[0] // 2, 2), dtype=np.uint64)
        KS.fold_into(t, r, o)
        t = o
    return t


def _fold_then_round(f: np.ndarray, w: np.ndarray, rs: np.ndarray, rounds: bool):
    """A streamed pass's block: f and w folded by rs in turn (`whir_sumcheck.fold`), and
    with ``rounds`` the round message [h(0), h(2)] of the folded pair from the last
    fold's own pass (`whir_sumcheck.fold_round`: the same values as `round_` of the
    folded pair, without reading it again); (f', w', h or None)."""
    from zklora.kernels import whir_sumcheck as SC  # prover only
    j = len(rs)
    if rounds and j and f.shape[0] >> (j - 1) >= 4:
        for i in range(j - 1):
            f, w = SC.fold(f, w, rs[i])
        return SC.fold_round(f, w, rs[j - 1])
    for i in range(j):
        f, w = SC.fold(f, w, rs[i])
    return f, w, None


def _mobius_ext(f: np.ndarray) -> np.ndarray:
    """The coefficient form (2^m, 2) of an evaluation table, base (2^m,) or extension
    (2^m, 2) (the transform is applied to each component)."""
    f = np.asarray(f, dtype=np.uint64)
    if f.ndim == 2:
        return K.mobius_pairs(np.ascontiguousarray(f))
    out = np.zeros((f.shape[0], 2), dtype=np.uint64)
    out[:, 0] = K.mobius(f)
    return out


@attrs.frozen
class _Tiled:
    """A coefficient form c (2^n,) in a scratch file as tiles: the matrix
    C[v, t] = c[t + T·v] (R × T) cut into T / cb tiles of cb columns, tile j stored
    contiguously as (R, cb) (a streamed commitment writes and reads it a tile at a
    time)."""

    handle: scratch.Spilled
    R: int
    T: int
    cb: int
    #: written and read with direct I/O (`_dio`): every tile and block write aligned
    direct: bool = False

    def tile(self, fd: int, j: int, out: np.ndarray | None = None) -> np.ndarray:
        """Tile j as (R, cb), read into ``out`` (R·cb elements, reused across tiles: no
        fresh pages per tile) when given."""
        if out is None:
            y = np.empty((self.R, self.cb), dtype=np.uint64)
        else:
            y = out[:self.R * self.cb].reshape(self.R, self.cb)
        _pread(fd, y, 8 * self.R * self.cb * j)
        return y


def _next_split(m: int, d: int, k: int) -> int:
    """log T of the split of a later round's `K.encode_leaves` (2^m coefficients on a
    domain of 2^d): `K.split_log`'s half of the domain when the rate is at least
    2^-`NEXT_SPLIT_RATE`, else at most `NEXT_SPLIT_LOG` (between k and m).  At a low
    rate half the domain leaves the rows of the column encoding a coefficient or a few
    long, and its Reed–Solomon pass, not the size-T transforms, sets the time
    (m = 11, d = 22: ×0.37 with T = 2^6 instead of 2^11).  The leaves do not depend on
    the split."""
    if d - m < NEXT_SPLIT_RATE:
        return K.split_log(m, d, k)
    return max(k, min(m, NEXT_SPLIT_LOG))


def _tile_cols(T: int, R: int, S: int, ncomp: int, least: int) -> int:
    """Columns per tile of a streamed encoding: the largest power of two ≤ T whose tile
    and column codewords, (R + S)·ncomp·8 bytes a column, fit `STREAM_BYTES`, and at
    least ``least`` (2^k: the folds of the coefficients need whole groups)."""
    cb = T
    while cb > least and cb * ncomp * 8 * (R + S) > STREAM_BYTES:
        cb //= 2
    return max(cb, min(least, T))


@contextlib.contextmanager
def _pio(path: str):
    """A file descriptor for positioned reads and writes of a scratch file."""
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError as e:
        raise ProverError(f"whir: scratch file {path} is gone ({e}); was the state used "
                          "after its proof ended?") from None
    try:
        yield fd
    finally:
        os.close(fd)


def _pwrite(fd: int, a: np.ndarray, offset: int) -> None:
    mv = memoryview(np.ascontiguousarray(a)).cast("B")
    done = 0
    while done < len(mv):
        done += os.pwrite(fd, mv[done:], offset + done)


_FALLOCATE: list = []


def _punch(fd: int, offset: int, length: int) -> None:
    """Give the disk blocks of bytes [offset, offset + length) of a scratch file back
    (Linux ``fallocate`` with ``FALLOC_FL_PUNCH_HOLE``; the range then reads as zeros
    and the file keeps its size): a producer frees what it has consumed.  Where it is
    unsupported nothing happens (the file is deleted whole later)."""
    if not _FALLOCATE:
        fn = None
        try:
            import ctypes
            import ctypes.util

            lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            fn = getattr(lib, "fallocate", None)
            if fn is not None:
                fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
                fn.restype = ctypes.c_int
        except (OSError, AttributeError):
            fn = None
        _FALLOCATE.append(fn)
    if _FALLOCATE[0] is not None and length > 0:
        _FALLOCATE[0](fd, 0x03, offset, length)   # PUNCH_HOLE | KEEP_SIZE; errors: kept


def _reserve(fd: int, length: int) -> None:
    """Allocate a scratch file's disk blocks up front (Linux ``fallocate``, mode 0) before
    it is written in pieces out of order; where that is unsupported nothing happens (no
    emulation by writing zeros)."""
    _punch(-1, 0, 0)   # resolves the libc entry once
    if _FALLOCATE[0] is not None and length > 0:
        _FALLOCATE[0](fd, 0, 0, length)   # errors (no space, unsupported): written lazily


#: a streamed encoding writes and reads its tiled codeword file and its leaves' file with
#: direct I/O (``O_DIRECT``, `_dio`) where the file system takes it.  A prover-only knob:
#: the same proof either way
DIRECT_IO = True
#: direct I/O alignment: offsets, lengths and buffer addresses multiples of this (bytes)
_DIO_ALIGN = 4096


@contextlib.contextmanager
def _dio(path: str, direct: bool):
    """(fd, direct) for positioned I/O of a write-once scratch file: opened with
    ``O_DIRECT`` when ``direct`` and the file system takes it (not tmpfs), so its bytes
    go between the caller's (aligned, reused) buffers and the disk without page-cache
    pages — a streamed encoding's codewords and leaves are written once and read back
    once or hardly at all, and fresh page-cache pages for them were their largest cost
    (a VM reclaims freed pages, so every new page faults through the hypervisor).
    Where ``O_DIRECT`` is refused: a plain descriptor (direct False)."""
    flag = getattr(os, "O_DIRECT", 0)
    fd = -1
    if direct and flag:
        try:
            fd = os.open(path, os.O_RDWR | flag)
        except OSError:
            fd = -1
    if fd < 0:
        direct = False
        try:
            fd = os.open(path, os.O_RDWR)
        except OSError as e:
            raise ProverError(f"whir: scratch file {path} is gone ({e}); was the state used "
                              "after its proof ended?") from None
    try:
        yield fd, direct
    finally:
        os.close(fd)


def _dio_buffer(buf: np.ndarray, count: int) -> np.ndarray:
    """``count`` elements of the uint64 work array ``buf`` (at least count +
    `_DIO_ALIGN` / 8 long) starting at a `_DIO_ALIGN`-aligned address."""
    skip = (-buf.ctypes.data % _DIO_ALIGN) // buf.itemsize
    return buf[skip:skip + count]


class _Job:
    """One function run on a helper thread at a time: `start` begins it (the previous
    one must have been waited for), `wait` joins it and re-raises its error."""

    def __init__(self):
        self.th, self.err = None, None

    def start(self, fn, *args) -> None:
        def run() -> None:
            try:
                fn(*args)
            except BaseException as e:   # noqa: BLE001 - re-raised by wait
                self.err = e

        self.th = threading.Thread(target=run, daemon=True)
        self.th.start()

    def wait(self) -> None:
        if self.th is not None:
            self.th.join()
            self.th = None
        if self.err is not None:
            e, self.err = self.err, None
            raise e


class _Writer(_Job):
    """Positioned writes of a file on a helper thread, one in flight: `put` waits for
    the previous write, then starts this one and returns, so a direct write's disk time
    overlaps the caller's next block (its buffer must stay untouched until the next
    `put` or `wait`: callers alternate two).  `wait` re-raises a write's error."""

    def __init__(self, fd: int):
        super().__init__()
        self.fd = fd

    def put(self, a: np.ndarray, offset: int) -> None:
        self.wait()
        self.start(_pwrite, self.fd, a, offset)


#: `_BlockLeaves.read_rows` of at most this many rows (an opening's queried leaves) reads
#: the pages holding them (`_read_rows_paged`); more rows go through a memory map
FEW_ROWS = 4096
#: reads in flight of `_read_rows_paged`
_READERS = 8


def _read_rows_paged(path: str, offset: int, row: int, rows: np.ndarray,
                     shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Rows ``rows`` (row numbers, any order) of ``row`` bytes each, from byte ``offset``
    of a file, copied into RAM in that order: the runs of aligned pages holding them
    are read with direct I/O where the file system takes it (`_dio`; no page-cache
    pages, nor a memory map's page faults — a leaves' file written with direct I/O is
    not in the page cache, so each fault waited on the disk in turn), up to `_READERS`
    reads in flight."""
    rows = np.asarray(rows, dtype=np.int64).reshape(-1)
    out = np.empty((rows.shape[0],) + tuple(shape), dtype=dtype)
    if rows.shape[0] == 0 or row == 0:
        return out
    A = _DIO_ALIGN
    starts = offset + rows * row
    p0, p1 = starts // A, (starts + row - 1) // A + 1
    # the runs [first page, end page, end byte needed]: rows by first page, a run
    # ending where the next row starts past every page so far (the running maximum of
    # the end pages is the run's own: an earlier run ends before this one begins)
    o = np.argsort(p0, kind="stable")
    sa, sb = p0[o], p1[o]
    new = np.ones(o.shape[0], dtype=bool)
    new[1:] = sa[1:] > np.maximum.accumulate(sb)[:-1]
    at0 = np.flatnonzero(new)
    ra, rb = sa[at0], np.maximum.reduceat(sb, at0)
    re_ = np.maximum.reduceat(starts[o] + row, at0)
    runs = list(zip(ra.tolist(), rb.tolist(), re_.tolist()))
    pos = np.zeros(len(runs) + 1, dtype=np.int64)
    pos[1:] = np.cumsum((rb - ra) * A)
    buf = _dio_empty(int(pos[-1]) // 8)
    bb = memoryview(buf).cast("B")
    errs: list[BaseException] = []

    def read(part: int, fd: int) -> None:   # runs part, part + R, part + 2R, …
        try:
            for k in range(part, len(runs), nth):
                a, _, e = runs[k]
                mv = bb[int(pos[k]):int(pos[k + 1])]
                done = 0
                while a * A + done < e:
                    got = os.preadv(fd, [mv[done:]], a * A + done)
                    if got <= 0:
                        raise ProverError(f"whir: scratch file {path} is truncated")
                    done += got
        except BaseException as err:   # noqa: BLE001 - re-raised below
            errs.append(err)

    nth = min(_READERS, len(runs))
    with _dio(path, DIRECT_IO) as (fd, _):
        ths = [threading.Thread(target=read, args=(i, fd), daemon=True)
               for i in range(1, nth)]
        for th in ths:
            th.start()
        read(0, fd)
        for th in ths:
            th.join()
    if errs:
        raise errs[0]
    k = np.searchsorted(ra, p0, side="right") - 1
    at = pos[k] + starts - ra[k] * A
    raw = buf.view(np.uint8)[at[:, None] + np.arange(row, dtype=np.int64)]
    out.reshape(rows.shape[0], -1).view(np.uint8)[...] = raw.reshape(rows.shape[0], -1)
    return out


def _dio_empty(count: int) -> np.ndarray:
    """A fresh uint64 array of ``count`` elements at a `_DIO_ALIGN`-aligned address."""
    return _dio_buffer(np.empty(count + _DIO_ALIGN // 8, dtype=np.uint64), count)


class WorkArrays:
    """The work arrays of streamed commitments (`Whir._commit_streamed`,
    `Whir._encode_streamed`: the held codeword tiles, the blocks' leaves and file
    pieces, the second tile and codeword buffers), kept between the tables of one batch
    of commitments (`Whir.work_arrays`; `zklora.zkcore.published.commit_groups` makes one
    for a call, so the model commitment's tables reuse them): each is allocated once,
    at the largest size asked for, instead of once a table — a table's fresh arrays
    (≈ 100 MiB at 2^22 entries, above glibc's mmap threshold) had their pages faulted
    in and zeroed by the kernel again every table.  Freed with the object (after the
    batch; not kept across a proof: held past its use it would raise the peak).  A
    prover-only knob: the commitments are the same; an array's content is whatever
    its last user left."""

    def __init__(self):
        self._arrays: dict[str, np.ndarray] = {}

    def take(self, tag: str, count: int) -> np.ndarray:
        """``count`` uint64 elements at a `_DIO_ALIGN`-aligned address: the array kept
        under ``tag``, made anew (the old one dropped first) when it is too small."""
        need = int(count) + _DIO_ALIGN // 8
        a = self._arrays.get(tag)
        if a is None or a.shape[0] < need:
            self._arrays.pop(tag, None)
            del a
            a = self._arrays[tag] = np.empty(need, dtype=np.uint64)
        return _dio_buffer(a, int(count))

    def nbytes(self) -> int:
        """Bytes held."""
        return sum(a.nbytes for a in self._arrays.values())


def _given(work: WorkArrays | None) -> dict:
    """``{"work": work}``, or no keyword without work arrays."""
    return {} if work is None else {"work": work}


def _work(work: WorkArrays | None, tag: str, count: int) -> np.ndarray:
    """`WorkArrays.take` of ``work``, or a fresh aligned array (`_dio_empty`) without."""
    return _dio_empty(count) if work is None else work.take(tag, count)


@attrs.frozen
class _BlockLeaves(scratch.Spilled):
    """The leaves of a streamed encoding in the order `Whir._encode_streamed` makes them:
    block by block of ``per`` rows a of the column codewords (a0 = 0, per, …), each
    block's G runs one after the other (run g: leaves a0 + g·S … a0 + g·S + per − 1),
    so the file is written front to back in whole blocks.  Leaf i = a + g·S
    (a < S) is file row G·a0 + g·per + (a − a0), a0 = a − a mod per; a run of
    2^j ≤ per leaves aligned to 2^j (`Tree.paths`' blocks) is contiguous."""

    S: int = 1
    per: int = 1

    def _rows(self, idx) -> np.ndarray:
        i = np.asarray(idx, dtype=np.int64)
        a, g = i % self.S, i // self.S
        G = self.shape[0] // self.S
        a0 = a - a % self.per
        return G * a0 + g * self.per + (a - a0)

    def read_rows(self, idx) -> np.ndarray:
        rows = self._rows(idx)
        if len(rows) > FEW_ROWS:
            return super().read_rows(rows)
        return _read_rows_paged(self.path, self.offset, self.nbytes // max(1, self.shape[0]),
                                rows, tuple(self.shape[1:]), np.dtype(self.dtype))

    def read_range(self, lo: int, hi: int) -> np.ndarray:
        lo, hi = max(0, int(lo)), min(int(hi), self.shape[0])
        if hi > lo and (lo // self.per) == ((hi - 1) // self.per):   # within one run
            p = int(self._rows([lo])[0])
            return super().read_range(p, p + hi - lo)
        return self.read_rows(np.arange(lo, max(lo, hi), dtype=np.int64))

    def load(self) -> np.ndarray:
        return self.read_rows(np.arange(self.shape[0], dtype=np.int64))


def _level_files(store: scratch.Store, counts: dict[int, int], digest: int
                 ) -> dict[int, tuple[np.ndarray, scratch.Spilled]]:
    """One scratch file for a tree's levels (``counts``: level → nodes), the levels side
    by side: per level the writable view and its handle (`Spilled` at its offset).  One
    file instead of one a level: 84m's prove made 352 Merkle files, and each file
    created on ext4 scans the inodes deleted in the last seconds (`recently_deleted`).
    A level's `scratch.drop_pages` may take a neighbour's first or last page with it
    (a shared map of the file: the page cache keeps what was written).  `Tree.discard`
    deletes the file at its first level (the others find it gone)."""
    offs, total = {}, 0
    for lvl, n in counts.items():
        offs[lvl] = total
        total += int(n) * digest
    mm, h = store.create((max(total, 1),), np.uint8, "whir-merkle")
    return {lvl: (mm[offs[lvl]:offs[lvl] + int(n) * digest].reshape(int(n), digest),
                  scratch.Spilled(h.path, offs[lvl], (int(n), digest), h.dtype))
            for lvl, n in counts.items()}


class _MerkleBlocks:
    """The Merkle tree of a streamed codeword's L leaves, built from the row blocks as
    `Whir._encode_streamed` makes them: a block holds, for each of G groups, the run of
    P = 2^b leaves [a0 + g·S, a0 + g·S + P) (P | S, a0 a multiple of P: whole aligned
    subtrees), hashed together (a level's pairs never cross a run) and written to one
    scratch file per level from ``skip`` = min(`MERKLE_SKIP`, depth) up (the lower ones
    are recomputed by `Tree.paths` from the leaves); the levels above b are built from
    the runs' roots at the end.  The same tree as `merkle.build` over all the leaves."""

    def __init__(self, whir: Whir, store: scratch.Store, L: int, P: int, digest: int):
        self.hash, self.digest = whir.cfg.hash, digest
        self.L, self.b = L, P.bit_length() - 1
        self.depth = L.bit_length() - 1
        self.skip = min(MERKLE_SKIP, self.depth)
        self.files = _level_files(store, {lvl: L >> lvl
                                          for lvl in range(self.skip, self.depth + 1)}, digest)
        self.roots = np.empty((L >> self.b, digest), dtype=np.uint8)
        # per level: the first node of each run whose pages are still mapped (not yet
        # given back with `scratch.drop_range`)
        self._held = dict.fromkeys(self.files, 0)

    def add(self, out: np.ndarray, a0: int, S: int) -> None:
        """The block ``out``: G·P leaf rows, run g the leaves from a0 + g·S.  A level's
        new nodes are a piece of each of its G runs, far apart in its file: each piece
        touches a page of its own, so the level's written pages are given back only
        once about `MERKLE_HELD_BYTES` of them are mapped (or at the runs' ends), not
        after every block (a page written in several blocks is faulted in once, not
        once a block)."""
        b, G = self.b, out.shape[0] >> self.b
        lv = merkle.hash_leaves(out.reshape(out.shape[0], -1), self.hash, self.digest)
        for lvl in range(b + 1):
            if lvl:
                lv = merkle.hash_nodes(lv, self.hash)
            if lvl >= self.skip:
                mm = self.files[lvl][0]
                runs = mm.reshape(G, S >> lvl, self.digest)
                i0, i1 = a0 >> lvl, (a0 >> lvl) + ((1 << b) >> lvl)
                runs[:, i0:i1] = lv.reshape(G, -1, self.digest)
                h = self._held[lvl]
                if (i1 == S >> lvl or G * ((i1 - h) * self.digest + mmap.PAGESIZE)
                        >= MERKLE_HELD_BYTES):
                    scratch.drop_pages(runs[:, h:i1])
                    self._held[lvl] = i1 if i1 < S >> lvl else 0
        self.roots.reshape(G, S >> b, self.digest)[:, a0 >> b] = lv

    def finish(self) -> tuple[list[scratch.Spilled], bytes, int]:
        """(level handles from ``skip`` up, root, skip)."""
        top = merkle.build(self.roots, self.hash)
        for j, nodes in enumerate(top):
            if self.b + j < self.skip:
                continue
            mm = self.files[self.b + j][0]
            mm[:] = nodes
            scratch.drop_pages(mm)
        root = merkle.root(top)
        handles = [self.files[lvl][1] for lvl in range(self.skip, self.depth + 1)]
        self.files = {}
        return handles, root, self.skip


def _pread(fd: int, out: np.ndarray, offset: int) -> None:
    mv = memoryview(out).cast("B")
    done = 0
    while done < len(mv):
        got = os.preadv(fd, [mv[done:]], offset + done)
        if got <= 0:
            raise ProverError("whir: scratch file is truncated")
        done += got


def _uniform(F: Field, count: int) -> np.ndarray:
    """``count`` uniform base-field elements from the zero-knowledge session's source
    (the OS), never the transcript."""
    sess = zk.current()
    if sess is None:
        raise ProverError("whir: hiding randomness outside a zero-knowledge session")
    return np.ascontiguousarray(sess.rng.elements(F, count), dtype=np.uint64).reshape(-1)


def _eq_add_block(E: Field, out: np.ndarray, point: np.ndarray, coef: np.ndarray) -> None:
    """out (2^m, 2) += coef·eq(point, ·), computed on the one block of 2^h entries it is
    supported on when point's coordinates h..m−1 are 0 or 1 (a lifted claim, a term on a
    slot of a stack): eq vanishes off the block their bits name."""
    from zklora.kernels import whir_eq as QE  # prover only

    point = np.asarray(point, dtype=np.uint64).reshape(-1, 2)
    m = point.shape[0]
    h = m
    while h > 0 and int(point[h - 1, 1]) == 0 and int(point[h - 1, 0]) in (0, 1):
        h -= 1
    b = sum(int(point[i, 0]) << (i - h) for i in range(h, m))
    if h == 0:
        out[b] = E.add(out[b], coef)
        return
    QE.eq_combination(out[b << h:(b + 1) << h], np.ascontiguousarray(point[:h])[None],
                      np.asarray(coef, dtype=np.uint64).reshape(1, 2))


def _evaluate(E: Field, table: np.ndarray, point: np.ndarray) -> np.ndarray:
    """t̃(point) for a base-field table t of 2^m entries and an extension point."""
    lifted = np.zeros((table.shape[0], 2), dtype=np.uint64)
    lifted[:, 0] = table
    return E.dot(lifted, ntt.eq_table(np.asarray(point, dtype=np.uint64)))


def _pow_points_ext(zs: np.ndarray, m: int) -> np.ndarray:
    return K.esquares(np.asarray(zs, dtype=np.uint64).reshape(-1, 2), m)


def _pow_points_base(zs: Sequence[int], m: int) -> np.ndarray:
    """(z, z², z⁴, …) over m variables for base-field points z: (len(zs), m, 2)."""
    z2 = np.zeros((len(zs), 2), dtype=np.uint64)
    z2[:, 0] = np.array(zs, dtype=np.uint64)
    return K.esquares(z2, m)


class Whir(CommitmentScheme):
    """WHIR-style succinct multilinear commitment (see module doc)."""

    name = "whir"
    max_vars = MAX_VARS
    fields = ("goldilocks",)

    @property
    def hiding(self) -> bool:
        """Hiding inside a zero-knowledge session when `HIDING` is on (module doc)."""
        return HIDING and zk.enabled()

    @property
    def sum_claims(self) -> bool:
        """`SumClaim`s (within one padded table size) are opened by the hiding variant."""
        return self.hiding

    def revealed(self, m: int) -> tuple[int, int]:
        """Upper bounds on the base-field linear functionals of a table of 2^m entries
        that one hiding opening reveals: (those of the committed codeword alone: its
        round-0 leaves, commitment OOD values and values at r* — in its group and as a
        virtual member of each larger one; everything: those, the
        reduction's and every fold's sumcheck messages, later OOD values, leaves and the
        final polynomial — extension values counted twice, the chain counted twice over
        for a merged continuation)."""
        pl = self.plan(m)
        r0 = pl.rounds[0]
        # + its value at r* in its own group and in each larger group (a virtual member)
        first = (min(r0.queries, r0.leaves) << r0.k) + 2 * pl.ood0 + 2 * (1 + MAX_VARS - m)
        chain = 0
        for i, rd in enumerate(pl.rounds):
            chain += 4 * rd.k + 2 * rd.ood
            if i:
                chain += 2 * (min(rd.queries, rd.leaves) << rd.k)
            if rd.final:
                chain += 2 << (rd.m - rd.k)
        return first, first + 4 * m + 4 + 2 * chain

    def hiding_vars(self, n: int) -> int | None:
        """m > n of a hiding commitment of 2^n elements: the least with a pad of
        2^m − 2^n uniform entries above every functional of the committed codeword the
        opening reveals, and 2^m above every functional of a mask table of 2^m entries
        (`revealed`, plus `HIDING_MARGIN`); None if it exceeds `MAX_VARS`."""
        for m in range(n + 1, MAX_VARS + 1):
            first, total = self.revealed(m)
            if ((1 << m) - (1 << n) >= first + HIDING_MARGIN
                    and (1 << m) >= total + HIDING_MARGIN):
                return m
        return None

    def __init__(self, field: Field, params: Mapping[str, Any] | None = None):
        super().__init__(field, params)
        if not self.supports(field):
            raise ConfigError(f"whir works over goldilocks only, not {field.name}")
        self.cfg = WhirParams.parse(self.params)
        from zklora.zkcore import security

        self._B = security.field_bits(field.ext)

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        return ("rate_log", "rate", "folding_factor", "security_bits", "regime", "hash",
                "direct_vars", "first_shrink", "query_pow", "later_shrink", "first_fold",
                "first_fold_from")

    def plan(self, n: int) -> Plan:
        return plan(n, self.cfg, self._B)

    def direct(self, n: int) -> bool:
        """Whether a table of 2^n elements must be sent rather than WHIR-opened:
        n = 0, or n ≤ ``direct_vars`` when that is an integer.  Under the default
        ``direct_vars = "auto"`` the prover chooses per table (`_send_directly`); the
        verifier accepts either opening for n ≥ 1 (both are sound under its
        parameters)."""
        return n == 0 or n <= self.cfg.direct_vars

    @staticmethod
    def table_bytes(pl: Plan) -> int:
        """Expected bytes a table adds to a batch of equal-size tables: its root, OOD
        values and value at the common point, and its round-0 leaves and multi-proof
        siblings (exact rational expectation, like `opening_bytes`)."""
        rd = pl.rounds[0]
        if rd.queries >= rd.leaves:
            known = [Fraction(rd.leaves >> lvl) for lvl in range(rd.depth + 1)]
        else:
            known = [_distinct(rd.leaves >> lvl, rd.queries) for lvl in range(rd.depth + 1)]
        w = pl.digest
        total = w + 16 * pl.ood0 + 16 + (8 << rd.k) * known[0] + w * sum(
            2 * known[lvl + 1] - known[lvl] for lvl in range(rd.depth))
        return int(total)

    def _send_directly(self, tables: Sequence[np.ndarray]) -> list[bool]:
        """The prover's choice per table: forced by `direct`, else (``"auto"``) sent
        when its packed bytes are no more than what WHIR-opening it would add — its
        share of a batch (`table_bytes`), or a whole opening (`opening_bytes`) if it
        would be the only table of its size."""
        ns = [t.shape[0].bit_length() - 1 for t in tables]
        if self.cfg.direct_vars >= 0:
            return [self.direct(n) for n in ns]
        # at least one byte per entry: a table whose 1 + 2^n bytes exceed both costs is
        # never sent (its width, a pass over it, is not needed)
        packed = [1 + (_width(t) << n) if n == 0 or 1 + (1 << n) <= max(
            self.table_bytes(self.plan(n)), opening_bytes(self.plan(n))) else 2 + (1 << n)
            for t, n in zip(tables, ns)]
        out = [n == 0 or p <= self.table_bytes(self.plan(n)) for n, p in zip(ns, packed)]
        for n in set(ns):
            alone = [i for i, m in enumerate(ns) if m == n and not out[i]]
            if len(alone) == 1 and packed[alone[0]] <= opening_bytes(self.plan(n)):
                out[alone[0]] = True
        return out

    def commitment_size(self, num_vars: int) -> int:
        return 32

    # -- soundness --------------------------------------------------------------------------
    def soundness(self, challenge_field: Field, elements: int | None = None):
        """Per category the weakest round-by-round term over every table size the
        scheme may open by WHIR (every 1 ≤ n ≤ MAX_VARS) — queries, folding (proximity
        gaps of the fold and its sumcheck, grinding included), OOD samples, the
        combination challenge (conjectured regime: with the list size) and the batch of
        equal-size tables (reduction sumcheck, combination μ) — the Merkle hash and, for a
        graph of at most ``elements`` claims, the claim batching (β, λ)."""
        from zklora.zkcore import security

        p = self.cfg
        B = security.field_bits(challenge_field)
        regime = ("unique-decoding regime (proven)" if p.regime == "unique"
                  else "capacity-bound conjecture")
        name = (f"whir security_bits = {p.security_bits} (rate 1/{1 << p.rate_log}, "
                f"folding_factor = {p.folding_factor}, regime = {p.regime})")
        worst: dict[str, float] = {}
        for n in range(1, MAX_VARS + 1):
            pl = plan(n, p, B)
            r0 = pl.rounds[0]
            # the shared continuation of a batch whose largest size is n (ĥ has m − k or
            # m − k + 1 variables), at the most query constraints any batch can have;
            # with ``first_fold_from`` a smaller size folding k may set ĥ's size: up to
            # m − k + 1 for the largest's k₀ (`_layout` of two classes of distinct sizes)
            top = 2 + (p.fold0 - p.folding_factor if p.first_fold_from else 0)
            tails = [tail_plan(r0.d, r0.m - r0.k + e, _first_round_queries(pl),
                               _list_bits(p.regime, r0.d, r0.m), p, B)
                     for e in range(top)]
            for cat, bits in pl.terms + sum((tp.terms for tp in tails), ()):
                worst[cat] = min(worst.get(cat, math.inf), bits)
        notes = {"queries": f"shift queries, {regime}, with grinding",
                 "folding": f"fold proximity gaps and sumcheck, {regime}, with grinding",
                 "ood": "out-of-domain samples (list of the capacity conjecture)",
                 "combination": f"combination of the query constraints, {regime}",
                 "batch": f"batched opening of same-size tables: reduction sumcheck and "
                          f"random combination of the words, {regime}, with grinding"}
        terms = [security.Term(bits, f"{name}: {cat}", notes[cat])
                 for cat, bits in sorted(worst.items())]
        ht = security.hash_term(p.hash, "whir Merkle")
        w = digest_bytes(p.security_bits)
        terms.append(security.Term(min(ht.bits, 4.0 * w),
                                   f"whir security_bits = {p.security_bits}: Merkle "
                                   f"hash = {p.hash}, digests of {w} bytes",
                                   f"collision resistance of a {8 * w}-bit digest"))
        if elements is not None:
            terms.append(security.schwartz_zippel(
                challenge_field, int(elements) + MAX_OOD,
                f"whir claim batching in {challenge_field.name}"))
        return terms

    # -- commitment ---------------------------------------------------------------------------
    def _params_bytes(self, n: int) -> bytes:
        p = self.cfg
        return (TAG + p.hash.encode() + struct.pack(
            "<BBBBB", p.rate_log, p.fold0_at(n), REGIMES.index(p.regime),
            digest_bytes(p.security_bits), n))

    def _ood_points(self, n: int, root: bytes, count: int) -> np.ndarray:
        t = Transcript(TAG + b"/ood", self.cfg.hash)
        t.observe("whir/root", self._params_bytes(n) + root)
        return t.sample_vec("whir/ood", self.field.ext, count) if count else \
            np.zeros((0, 2), dtype=np.uint64)

    def _digest(self, n: int, root: bytes, ood_values: np.ndarray) -> bytes:
        return merkle.hasher(self.cfg.hash)(self._params_bytes(n) + root
                                            + self.field.ext.encode(ood_values))

    def _commit_table(self, t: np.ndarray) -> WhirState:
        n = t.shape[0].bit_length() - 1
        pl = self.plan(n)
        r0 = pl.rounds[0]
        coeffs = K.mobius(t)
        leaves = K.encode_leaves(coeffs, r0.d, r0.k)
        levels = merkle.build(merkle.hash_leaves(leaves, self.cfg.hash, pl.digest),
                              self.cfg.hash)
        root = merkle.root(levels)
        zs = self._ood_points(n, root, pl.ood0)
        ys = np.array([K.horner(coeffs, z) for z in zs], dtype=np.uint64).reshape(-1, 2)
        return WhirState(self._digest(n, root, ys), n, t, coeffs, Tree(leaves, levels), root,
                         zs, ys, self.cfg)

    @staticmethod
    def state_bytes(n: int) -> int:
        """RAM a table of 2^n elements' prover state would take (coefficients, the
        rate-1/2 codeword, Merkle levels: about 36 bytes per element)."""
        return 36 << n

    def _commit_streamed(self, t: np.ndarray, store: scratch.Store,
                         work: WorkArrays | None = None) -> WhirState:
        """`_commit_table` with bounded memory (the same commitment).  With the table
        seen as C[v, t] (2^n / T rows of T = 2^lt, `K.split_log`), cut into tiles of
        ``cb`` columns: (1) a block of rows is read (its pages given back), the Möbius
        passes of the low lt variables run on it, and each tile's part is written to
        the tiled coefficient file; (2) each tile is read whole, the Möbius passes of
        the high variables run on it (the tile now holds its final coefficients and
        is written back), and it is Reed–Solomon encoded (`_encode_streamed`, which
        also writes the leaves and the Merkle levels); (3) the OOD values are
        evaluated a tile at a time (`_horner_tiles`).  Every file is written and read
        with positioned I/O, so no page of it stays mapped.  ``work``: the batch's
        reused work arrays (`WorkArrays`), else fresh ones."""
        n = t.shape[0].bit_length() - 1
        pl = self.plan(n)
        r0 = pl.rounds[0]
        lt = K.split_log(n, r0.d, r0.k)
        T, R = 1 << lt, 1 << (n - lt)
        cb = _tile_cols(T, R, (1 << r0.d) >> lt, 1, 1 << r0.k)
        nt = T // cb
        per = max(1, STREAM_BYTES // (8 * T))
        bl = min(R, per)
        # the coefficient file goes through direct I/O where every write and read is whole
        # aligned pages (`_dio`): buffered, its page-cache pages (written twice, read
        # twice) cost more CPU than the disk's time
        direct = DIRECT_IO and all(x % _DIO_ALIGN == 0 for x in
                                   (8 * cb * bl, 8 * cb * (R % bl), 8 * cb * R))
        coef = _Tiled(store.raw(8 << n, "whir-coef"), R, T, cb, direct)
        scratch.drop(t)     # pages of the table made resident before: given back
        top = 0
        pad = _DIO_ALIGN // 8
        # the blocks' rows and their tile order in the store's reusable work arrays (no
        # fresh pages per block and table), at aligned addresses (`_dio_buffer`)
        rows = _dio_buffer(store.buffer("whir-commit-rows", bl * T + pad), bl * T)
        # an `IntTable`'s blocks converted into one reused buffer (no fresh pages)
        conv = store.buffer("whir-commit-ints", bl * T) if isinstance(t, IntTable) else None
        with _dio(coef.handle.path, direct) as (fd, _):
            for v0 in range(0, R, per):
                v1 = min(R, v0 + per)
                src = t[v0 * T:v1 * T] if conv is None else t.read(v0 * T, v1 * T, conv)
                # the low passes from the source straight into the tile order (one pass)
                x = rows[:(v1 - v0) * T].reshape(nt, v1 - v0, cb)
                top = max(top, K.mobius_rows_tiles(src, x, lt, cb))
                scratch.drop_pages(src)
                for j in range(nt):
                    _pwrite(fd, x[j], 8 * cb * (j * R + v0))
                del x, src
            del rows, conv
            if top >= P_INT:
                raise ProverError("whir: value >= p; commit to canonical field elements")

            # two reusable tile buffers: tile j + 1 is read (`_Job`) while tile j is
            # encoded, and tile j's final coefficients are written back (`_Writer`)
            # while tile j + 1 is transformed; `_encode_streamed` copies a tile out
            # before it asks for the next
            tbufs = [_dio_buffer(store.buffer("whir-commit-tile", R * cb + pad), R * cb)]
            if nt > 1:
                tbufs.append(_work(work, "tile", R * cb))
            rd, wr = _Job(), _Writer(fd)
            rd.start(coef.tile, fd, 0, tbufs[0])

            def columns(j: int) -> np.ndarray:
                rd.wait()
                y = tbufs[j % 2][:R * cb].reshape(R, cb)
                K.mobius_high(y.reshape(-1), cb.bit_length() - 1)
                wr.put(y, 8 * cb * R * j)   # after tile j − 1's write: its buffer is free
                if j + 1 < nt:
                    rd.start(coef.tile, fd, j + 1, tbufs[(j + 1) % 2])
                return y, 0

            def encoded() -> None:
                wr.wait()
                if not pl.ood0:
                    store.discard(coef.handle)

            # the coefficient form is not kept: an opening folds the table's evaluations
            # and takes the folded polynomial's coefficients from them (`_prove_chain`);
            # without OOD samples it goes before the leaves are written
            try:
                # ``work`` passed only when given (the signature callers and spies knew)
                tree, root = self._encode_streamed(store, columns, n, r0.d, r0.k, lt, 1, cb,
                                                   encoded, **_given(work))
            finally:
                rd.wait()
                wr.wait()
        zs = self._ood_points(n, root, pl.ood0)
        ys = self._horner_tiles(coef, zs, **_given(work))   # "tile" is free again
        store.discard(coef.handle)
        return WhirState(self._digest(n, root, ys), n, t, None, tree, root, zs, ys,
                         self.cfg)

    def _encode_streamed(self, store: scratch.Store, columns, m: int, d: int, k: int,
                         lt: int, ncomp: int, cb: int, encoded=None,
                         work: WorkArrays | None = None) -> tuple[Tree, bytes]:
        """The leaves of `K.encode_leaves` for coefficients c of 2^m entries (``ncomp``
        components) on a domain of 2^d, and their Merkle tree, the leaves and levels in
        scratch files: ``columns(j)`` gives tile j of the coefficient matrix
        C[v, t] = c[t + T·v] (T = 2^lt), its columns [j·cb, (j+1)·cb), as (Y, c0): a
        C-contiguous uint64 (2^m / T, W) array whose column c0 + c·ncomp + comp is
        column j·cb + c of component comp; each tile is Reed–Solomon encoded column by
        column (`ntt.rs_encode_cols`, which reads the columns in place) into its column
        codewords — the first tiles into RAM, as many as `ENC_RAM_BYTES`
        (`scratch.working_budget`) holds, the rest into a tiled scratch file — whose
        rows are then read a block at a time (a piece of every tile, read in place by
        `K.twist_dft_tiles`), twisted and transformed, written to the leaves' file
        (block after block, `_BlockLeaves`: one sequential write a block) and
        hashed from RAM: a block's leaves are whole aligned runs of the leaves' order,
        so their subtrees' levels go straight to the levels' files (`_merkle_blocks`;
        the same tree as `merkle.build`).  Both files go through direct I/O where the
        file system takes it (`DIRECT_IO`, `_dio`): no page-cache pages for them.
        ``encoded()``, if given, runs once every tile has been encoded (``columns`` is
        not called after it: a caller frees the coefficients there).  ``work``: reused
        work arrays (`WorkArrays`), else fresh ones.  Returns (tree, root)."""
        T, S = 1 << lt, (1 << d) >> lt
        nt, w = T // cb, ncomp * cb
        digest = digest_bytes(self.cfg.security_bits)
        L, Kl = 1 << (d - k), 1 << k
        G = T // Kl
        per = min(S, max(1, STREAM_BYTES // (16 * ncomp * T)))
        # direct I/O where every write and read is whole aligned pages (`_dio`)
        direct = DIRECT_IO and all(x % _DIO_ALIGN == 0 for x in
                                   (8 * S * w, 8 * per * w, 8 * per * T * ncomp))
        pad = _DIO_ALIGN // 8
        # the first `held` tiles' codewords stay in RAM (no page-cache round trip: those
        # writes were the commitments' largest cost, dirty-page throttled), the others
        # go to the tiled file
        held = min(nt, scratch.working_budget(ENC_RAM_BYTES) // (8 * S * w))
        ram = (np.empty((held, S, w), dtype=np.uint64) if work is None else
               work.take("ram", held * S * w).reshape(held, S, w))
        enc = store.raw(8 * S * w * (nt - held), "whir-enc") if held < nt else None
        # tile column c of component comp is message comp·cb + c: its column of Y is
        # c0 + cols[comp·cb + c]
        cols = (np.arange(cb, dtype=np.int64)[None, :] * ncomp +
                np.arange(ncomp, dtype=np.int64)[:, None]).reshape(-1)
        # two codeword buffers: one written (`_Writer`) while the next tile is encoded
        cbufs = [_dio_buffer(store.buffer("whir-enc-codewords", S * w + pad), S * w
                             ).reshape(S, w)] if enc else []
        if nt - held > 1:
            cbufs.append(_work(work, "codewords", S * w).reshape(S, w))
        # the encoder's work array (`ntt.rs_encode_cols`' ``work``, 2·w·2^m / T elements)
        # in the store's reusable buffers: the kernel made two fresh arrays a block of 8
        # messages instead (256 KiB each at 84m), mapped and unmapped by glibc while its
        # mmap threshold is low (a process's first prove: commitments sys 0.75 -> 0.4 s)
        nw = ntt.rs_work_size((1 << m) >> lt, w)
        rsw = _dio_buffer(store.buffer("whir-rs-work", nw + pad), nw)
        with contextlib.ExitStack() as es:
            fd, dio_enc = es.enter_context(_dio(enc.path, direct)) if enc is not None \
                else (-1, False)
            wr = _Writer(fd)
            es.callback(wr.wait)   # before the file is closed
            for j in range(nt):
                y, c0 = columns(j)
                if j < held:
                    ntt.rs_encode_cols(y, cols + c0, d - m, out=ram[j], work=rsw)
                else:
                    cbuf = cbufs[(j - held) % len(cbufs)]
                    wr.put(ntt.rs_encode_cols(y, cols + c0, d - m, out=cbuf, work=rsw),
                           8 * S * w * (j - held))
                del y
            wr.wait()
        del cbufs, rsw
        if encoded is not None:
            encoded()
        leaves = store.raw(8 * L * Kl * ncomp, "whir-leaves")
        wa = ntt.powers(ntt.root_of_unity(d), S)
        mk = _MerkleBlocks(self, store, L, per, digest)
        # a block's rows, its pieces of the file tiles (two sets: the next block's read on
        # a helper thread while this one is made) and two leaves' buffers (one written
        # while the next block is made): this call's work arrays
        nb, nf = -(-S // per), nt - held
        pieces = [_work(work, f"pieces{i}", nf * per * w).reshape(nf, per, w)
                  for i in range(min(2, nb))] if enc is not None else []
        no_piece = np.empty((0, per, w), dtype=np.uint64)
        outs = [_work(work, f"leaves{i}", per * T * ncomp).reshape(G * per, Kl * ncomp)
                for i in range(min(2, S // per))]
        with contextlib.ExitStack() as es:
            fin, dio_in = es.enter_context(_dio(enc.path, dio_enc)) if enc is not None \
                else (-1, False)
            fout, _ = es.enter_context(_dio(leaves.path, direct))
            _reserve(fout, 8 * L * Kl * ncomp)
            wr = _Writer(fout)
            es.callback(wr.wait)   # before the file is closed
            rd = _Job()
            es.callback(rd.wait)   # before the file is closed

            def read_block(a0: int, buf: np.ndarray) -> None:
                """Block a0's pieces of the file tiles into ``buf`` (nf, per, w)."""
                for i in range(nf):
                    off = 8 * w * (S * i + a0)
                    _pread(fin, buf[i], off)
                    if not dio_in:
                        _punch(fin, off, buf[i].nbytes)   # read: freed

            if pieces:
                rd.start(read_block, 0, pieces[0])
            piece = no_piece
            for a0 in range(0, S, per):
                outb = outs[(a0 // per) % len(outs)]
                if pieces:
                    rd.wait()
                    piece = pieces[(a0 // per) % len(pieces)]
                    if a0 + per < S:   # the next block's pieces, read while this one is made
                        rd.start(read_block, a0 + per, pieces[(a0 // per + 1) % len(pieces)])
                # the block's rows read from the tiles in place (RAM tiles and this
                # block's file pieces): no assembled copy
                K.twist_dft_tiles(ram, piece, a0, per, d, k, lt, cb, wa, outb)
                # the block's G runs of leaves [a0 + g·S, a0 + per + g·S), one after the
                # other (`_BlockLeaves`): the leaves' file is written front to back
                wr.put(outb, 8 * Kl * ncomp * G * a0)
                # aligned subtrees (hashed while the block is written)
                mk.add(outb, a0, S)
            wr.wait()
        del ram, piece, pieces, outs, outb
        if enc is not None:
            store.discard(enc)
        shape = (L, Kl) if ncomp == 1 else (L, Kl, 2)
        handle = _BlockLeaves(leaves.path, 0, shape, np.dtype(np.uint64).str, S, per)
        saved, root, skip = mk.finish()
        scratch.trim()
        return Tree(handle, saved, skip, self.cfg.hash, digest), root

    def _merkle_streamed(self, store: scratch.Store, leaves: scratch.Spilled, L: int,
                         width: int, digest: int) -> tuple[list[scratch.Spilled], bytes, int]:
        """The Merkle tree of the L leaves in a scratch file (rows of ``width`` bytes),
        read and hashed a block of 2^b leaves at a time (`_MerkleBlocks` with one group):
        (level handles from ``skip`` up, root, skip), as `_encode_streamed` makes them."""
        b = max(0, min(L.bit_length() - 1, (STREAM_BYTES // max(1, width)).bit_length() - 1))
        mk = _MerkleBlocks(self, store, L, 1 << b, digest)
        for i0 in range(0, L, 1 << b):
            rows = leaves.read_range(i0, i0 + (1 << b))
            mk.add(rows.reshape(rows.shape[0], -1), i0, L)
            del rows
        return mk.finish()

    def _horner_tiles(self, coef: _Tiled, zs: np.ndarray,
                      work: WorkArrays | None = None) -> np.ndarray:
        """p(z) for each z of ``zs`` from a tiled coefficient file, a tile at a time:
        tile j holds c[t + T·v] for t in [j·cb, (j+1)·cb), so it adds
        z^(j·cb) · Σ_v (Σ_t' c[j·cb + t' + T·v] z^t') (z^T)^v (`K.TileOod`: all points in
        one pass over the tile)."""
        E = self.field.ext
        acc = [np.zeros(2, dtype=np.uint64) for _ in range(len(zs))]
        if len(zs):
            # both points in one pass over each tile (`K.TileOod`)
            ood = K.TileOod(zs, coef.T, coef.cb, coef.R)
            store, pad = scratch.current(), _DIO_ALIGN // 8
            buf = _dio_buffer(store.buffer("whir-commit-tile", coef.R * coef.cb + pad),
                              coef.R * coef.cb) if store is not None else _dio_empty(
                                  coef.R * coef.cb)
            bufs = ([buf, _work(work, "tile", coef.R * coef.cb)] if coef.T > coef.cb
                    else [buf])
            rd = _Job()
            with _dio(coef.handle.path, coef.direct) as (fd, _):
                rd.start(coef.tile, fd, 0, bufs[0])
                try:
                    for j in range(coef.T // coef.cb):
                        rd.wait()   # tile j read; tile j + 1 read while it is evaluated
                        y = bufs[j % 2][:coef.R * coef.cb].reshape(coef.R, coef.cb)
                        if (j + 1) * coef.cb < coef.T:
                            rd.start(coef.tile, fd, j + 1, bufs[(j + 1) % 2])
                        for i, v in enumerate(ood.tile(y, j)):
                            acc[i] = E.add(acc[i], v)
                finally:
                    rd.wait()
        return np.array(acc, dtype=np.uint64).reshape(-1, 2)

    @staticmethod
    def work_arrays() -> WorkArrays:
        """Work arrays for a batch of `commit` calls (`WorkArrays`)."""
        return WorkArrays()

    def takes_int_tables(self, n: int) -> bool:
        """Whether `commit` keeps a `zklora.zkcore.published.IntTable` of 2^n entries as
        it is (converted a block at a time where read, no converted copy): a binding
        commitment streamed inside a scratch session (`_commit_streamed`, which reads
        it a block at a time; so do the openings of its state).  Else `commit` converts
        it whole first."""
        store = scratch.current()
        return not self.hiding and store is not None and STREAM_MIN_VARS <= n <= MAX_VARS \
            and store.wants(self.state_bytes(n))

    def commit(self, values: np.ndarray, work: WorkArrays | None = None
               ) -> tuple[bytes, WhirState]:
        """``work``: a batch's reused work arrays (`work_arrays`) for a streamed
        commitment; the commitment is the same with or without.  A `published.IntTable`
        is kept as the state's table where `takes_int_tables` (else converted)."""
        if isinstance(values, IntTable):
            N = values.shape[0]
            if N & (N - 1) == 0 and self.takes_int_tables(N.bit_length() - 1):
                st = self._commit_streamed(values, scratch.current(), **_given(work))
                return st.commitment, st
            values = np.asarray(values)
            values.flags.writeable = False   # owned here: kept by reference
        a = np.asarray(values)
        if a.dtype.kind not in "ui":
            raise ProverError(f"whir: cannot commit to an array of dtype {a.dtype}")
        flat = a.reshape(-1)
        N = flat.shape[0]
        if N < 1 or N & (N - 1):
            raise ProverError(f"whir: table length {N} is not a power of two")
        n = N.bit_length() - 1
        if n > MAX_VARS:
            raise ProverError(f"whir: table of 2^{n} elements exceeds 2^{MAX_VARS}")
        if a.dtype.kind == "i" and int(flat.min()) < 0:
            raise ProverError("whir: negative value; commit to field elements")
        if self.hiding:   # the table padded with uniform entries (module doc)
            m = self.hiding_vars(n)
            if m is None:
                raise ProverError(f"whir: a hiding commitment of 2^{n} elements exceeds "
                                  f"2^{MAX_VARS} once padded")
            t = np.empty(1 << m, dtype=np.uint64)
            t[:N] = flat
            if int(t[:N].max()) >= P_INT:
                raise ProverError("whir: value >= p; commit to canonical field elements")
            t[N:] = _uniform(self.field, (1 << m) - N)
            t.flags.writeable = False   # owned here: kept by reference, not copied
            st = self._commit_flat(t, m, work)
            return st.commitment, HidingState(st, n)
        st = self._commit_flat(flat, n, work)
        return st.commitment, st

    def _commit_flat(self, flat: np.ndarray, n: int, work: WorkArrays | None = None
                     ) -> WhirState:
        """The binding commitment of a flat table of 2^n canonical elements."""
        a = flat
        # a read-only uint64 table is kept by reference (its owner promises not to change
        # it: the kernel's stacked vector, a map of a scratch file); anything else copied
        shared = a.dtype == np.uint64 and not a.flags.writeable and flat.flags.c_contiguous
        t = flat if shared else np.array(flat, dtype=np.uint64, copy=True)
        store = scratch.current()
        if store is not None and n >= STREAM_MIN_VARS and store.wants(self.state_bytes(n)):
            return self._commit_streamed(t, store, **_given(work))
        if int(t.max()) >= P_INT:
            raise ProverError("whir: value >= p; commit to canonical field elements")
        return self._commit_table(t)

    def _statement(self, work: Sequence[tuple[bytes, int, Sequence[Evaluation]]]) -> bytes:
        E = self.field.ext
        p = self.cfg
        out = bytearray(TAG + _HEAD.pack(p.rate_log, p.folding_factor,
                                         REGIMES.index(p.regime), p.security_bits,
                                         p.direct_vars,
                                         p.shrink_byte | (p.first_fold_from > 0) << 2,
                                         p.query_pow, len(work)))
        if p.first_fold_from:   # the head's shrink byte bit 2 (`read_statement_head`)
            out.append(p.first_fold_from)
        for com, n, evs in work:
            out += com + struct.pack("<QQ", n, len(evs))
            for ev in evs:
                out += E.encode(ev.point) + E.encode(ev.value)
        return bytes(out)

    # -- prover ---------------------------------------------------------------------------------
    @staticmethod
    def _groups(ns: Sequence[int], sent: Sequence[bool]) -> list[tuple[int, list[int]]]:
        """Positions of the tables opened by WHIR, grouped by size (ascending n; item
        order inside a group).  Prover and verifier derive it from the statement and
        the opening's mode bytes."""
        by: dict[int, list[int]] = {}
        for pos, (n, d) in enumerate(zip(ns, sent)):
            if not d:
                by.setdefault(n, []).append(pos)
        return sorted(by.items())

    def open(self, ch: ProverChannel, items: Sequence[OpenItem],
             sums: Sequence[SumClaim] = ()) -> None:
        E = self.field.ext
        if self.hiding:
            self._open_hiding(ch, items, sums)
            return
        if sums:
            raise ProverError("whir: sum claims are opened by the hiding variant only")
        work = []
        for it in items:
            if isinstance(it.state, HidingState):
                raise ProverError("whir: a hiding commitment opened outside a "
                                  "zero-knowledge session")
            if not isinstance(it.state, WhirState):
                raise ProverError("whir: open() needs states returned by Whir.commit")
            if it.state.params != self.cfg:
                raise ProverError("whir: state committed under other parameters "
                                  f"({it.state.params}) than this scheme's ({self.cfg})")
            n = it.state.n
            for ev in it.evals:
                if (E.shape(np.asarray(ev.point)) != (n,)
                        or np.asarray(ev.value).shape != E.elem_shape):
                    raise ProverError(f"whir: claim of the wrong shape for a table of "
                                      f"2^{n} elements")
            if it.evals:
                work.append((it.state, list(it.evals)))
        ch.observe_public("whir/batch",
                          self._statement([(s.commitment, s.n, e) for s, e in work]))
        sent = self._send_directly([st.table for st, _ in work])
        ch.send_bytes("whir/modes", bytes(sent))
        for (st, _), d in zip(work, sent):
            if d:
                ch.send_bytes("whir/width", bytes([_width(st.table)]))
                ch.send_bytes("whir/tensor", _pack(st.table))
        groups = self._groups([st.n for st, _ in work], sent)
        if self._merged([n for n, _ in groups]):
            self._prove_merged(ch, [self._prove_head(ch, n, [work[q] for q in pos])
                                    for n, pos in groups])
        else:
            for n, pos in groups:
                self._prove_group(ch, n, [work[q] for q in pos])

    # -- zero knowledge (module doc "Zero knowledge") ------------------------------------------
    @staticmethod
    def _lift(point: np.ndarray, m: int) -> np.ndarray:
        """A point of a table of 2^n elements as a point of its padded table of 2^m:
        the pad's selector coordinates 0."""
        pt = np.asarray(point, dtype=np.uint64).reshape(-1, 2)
        return np.concatenate([pt, np.zeros((m - pt.shape[0], 2), dtype=np.uint64)])

    def _zk_statement(self, work, sums: Sequence[SumClaim]) -> bytes:
        """The hiding batch's statement: `_statement` under `ZK_TAG`, then the sum
        claims (terms naming work items)."""
        E = self.field.ext
        out = bytearray(ZK_TAG + self._statement(work))
        out += struct.pack("<Q", len(sums))
        for sc in sums:
            out += struct.pack("<Q", len(sc.terms)) + E.encode(sc.value)
            for term in sc.terms:
                out += (struct.pack("<Q", term.item) + E.encode(term.point)
                        + E.encode(term.coefficient))
        return bytes(out)

    def _zk_layout(self, ns: Sequence[int], evs_of, sums: Sequence[SumClaim], err):
        """Both sides: (indices of the items opened — with claims or sum-claim terms —,
        their padded sizes, the sums renumbered into that list, the padded sizes, and
        per padded size M the sum claims it carries: those whose largest padded size is
        M, as (value, [(position in the opened list, point, coefficient)]))."""
        used = {term.item for sc in sums for term in sc.terms}
        idx = [i for i in range(len(ns)) if evs_of(i) or i in used]
        pos = {i: k for k, i in enumerate(idx)}
        ms = []
        for i in idx:
            m = self.hiding_vars(ns[i])
            if m is None:
                raise err(f"whir: a hiding table of 2^{ns[i]} elements is too large")
            ms.append(m)
        sizes = sorted(set(ms))
        extra: dict[int, list] = {m: [] for m in sizes}
        renum = []
        for sc in sums:
            terms = [attrs.evolve(t, item=pos[t.item]) for t in sc.terms]
            renum.append(SumClaim(terms, sc.value))
            M = max(ms[t.item] for t in terms)
            extra[M].append((np.asarray(sc.value, dtype=np.uint64),
                             [(t.item, np.asarray(t.point, dtype=np.uint64),
                               np.asarray(t.coefficient, dtype=np.uint64)) for t in terms]))
        return idx, ms, renum, sizes, extra

    def _group_extra(self, M: int, pos: list[int], ms: list[int], extra: list):
        """Group M's sum claims with each term's table as a member index: the group's
        tables (``pos``: positions in the opened list) first, then its *virtual* members
        — smaller tables a sum claim of this group has terms on, zero-extended to 2^M
        (module doc) — in order of position; and the virtual members' positions."""
        where = {q: j for j, q in enumerate(pos)}
        virtual = sorted({q for _, terms in extra for q, _, _ in terms if q not in where})
        for v, q in enumerate(virtual):
            where[q] = len(pos) + v
        out = [(val, [(where[q], self._lift(pt, M), c) for q, pt, c in terms])
               for val, terms in extra]
        return out, virtual

    def _open_hiding(self, ch: ProverChannel, items: Sequence[OpenItem],
                     sums: Sequence[SumClaim]) -> None:
        """The hiding opening (module doc): claims lifted to the padded tables, one
        uniform mask table per padded size committed here with a claim at a point drawn
        after its commitment, then the batched opening (every group has ≥ 2 tables:
        reduction sumcheck, combination), largest size first; sum claims are extra
        weights of the reduction of their largest size, their terms on smaller tables
        virtual members of it whose values at r* become claims of their own size."""
        E = self.field.ext
        for k, it in enumerate(items):
            st = it.state
            if not isinstance(st, HidingState):
                raise ProverError(f"whir: item {k} is not a hiding commitment; a "
                                  "zero-knowledge opening needs one made in the session")
            if st.inner.params != self.cfg:
                raise ProverError("whir: state committed under other parameters")
            for ev in it.evals:
                if (E.shape(np.asarray(ev.point)) != (st.n,)
                        or np.asarray(ev.value).shape != E.elem_shape):
                    raise ProverError(f"whir: claim of the wrong shape for a table of "
                                      f"2^{st.n} elements")
        ns = [it.state.n for it in items]
        try:
            sums = [check_sum("whir", E, k, sc, ns, P_INT) for k, sc in enumerate(sums)]
        except VerificationError as e:
            raise ProverError(str(e)) from e
        idx, ms, sums, sizes, extra = self._zk_layout(
            ns, lambda i: bool(items[i].evals), sums, ProverError)
        ch.observe_public("whir/batch", self._zk_statement(
            [(items[i].state.commitment, ns[i], items[i].evals) for i in idx], sums))
        work = [(items[i].state.inner, [Evaluation(self._lift(ev.point, m), ev.value)
                                        for ev in items[i].evals])
                for i, m in zip(idx, ms)]
        for m in sizes:   # the masks: committed before any challenge of the opening
            g = _uniform(self.field, 1 << m)
            g.flags.writeable = False
            gst = self._commit_flat(g, m)
            ch.send_bytes("whir/zk/mask", gst.commitment)
            z = ch.challenges("whir/zk/point", E, m)
            mu = _evaluate(E, gst.table, z)
            ch.send_field("whir/zk/value", E, mu)
            work.append((gst, [Evaluation(z, mu)]))
        groups = self._groups(ms + sizes, [False] * (len(ms) + len(sizes)))
        merged = self._merged([n for n, _ in groups])
        heads = {}
        for n, pos in reversed(groups):   # largest first: virtual members' claims
            ex, virtual = self._group_extra(n, pos, ms, extra[n])
            derived: list = []
            head = self._prove_head(ch, n, [work[q] for q in pos], ex,
                                    [work[q][0] for q in virtual], derived)
            for q, ev in zip(virtual, derived):
                work[q][1].append(ev)
            if merged:
                heads[n] = head
            else:
                pl, f, w, coeffs, round0 = head
                self._prove_chain(ch, pl.rounds, f, w, coeffs, round0)
        if merged:
            self._prove_merged(ch, [heads[n] for n, _ in groups])

    def _verify_hiding(self, ch: VerifierChannel, items: Sequence[CheckItem],
                       sums: Sequence[SumClaim]) -> None:
        """The verifier's side of `_open_hiding`."""
        E = self.field.ext
        checked = [self._check_item(k, it) for k, it in enumerate(items)]
        ns = [n for _, n, _ in checked]
        sums = [check_sum("whir", E, k, sc, ns, P_INT) for k, sc in enumerate(sums)]
        idx, ms, sums, sizes, extra = self._zk_layout(
            ns, lambda i: bool(checked[i][2]), sums, VerificationError)
        ch.observe_public("whir/batch", self._zk_statement([checked[i] for i in idx], sums))
        work = [(checked[i][0], m, [Evaluation(self._lift(ev.point, m), ev.value)
                                    for ev in checked[i][2]])
                for i, m in zip(idx, ms)]
        for m in sizes:
            com = ch.recv_bytes("whir/zk/mask", 32)
            z = ch.challenges("whir/zk/point", E, m)
            mu = ch.recv_field("whir/zk/value", E, 1)[0]
            work.append((com, m, [Evaluation(z, mu)]))
        groups = self._groups(ms + sizes, [False] * (len(ms) + len(sizes)))
        merged = self._merged([n for n, _ in groups])
        heads = {}
        try:
            for n, pos in reversed(groups):
                ex, virtual = self._group_extra(n, pos, ms, extra[n])
                derived: list = []
                head = self._verify_head(ch, n, [(t, work[t][0], work[t][2]) for t in pos],
                                         ex, [work[q][1] for q in virtual], derived)
                for q, ev in zip(virtual, derived):
                    work[q][2].append(ev)
                if merged:
                    heads[n] = head
                else:
                    pl, cons, sigma, round0 = head
                    self._verify_chain(ch, pl.rounds, cons, sigma, round0,
                                       f"the tables of 2^{n} elements")
            if merged:
                self._verify_merged(ch, [heads[n] for n, _ in groups])
        except ValueError as e:  # malformed data reaching a kernel helper
            raise VerificationError(f"whir: malformed opening ({e})") from e

    @staticmethod
    def _constraints(n: int, evs: Sequence[Evaluation], ood_points: np.ndarray,
                     ood_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Points (q, n, 2) and values (q, 2) of one table's constraints: its claims, then
        its commitment's OOD values as claims at the pow points."""
        pts = np.concatenate([np.array([np.asarray(ev.point, dtype=np.uint64) for ev in evs],
                                       dtype=np.uint64).reshape(len(evs), n, 2),
                              _pow_points_ext(ood_points, n)])
        vals = np.concatenate([np.array([np.asarray(ev.value, dtype=np.uint64) for ev in evs],
                                        dtype=np.uint64).reshape(-1, 2),
                               np.asarray(ood_values, dtype=np.uint64).reshape(-1, 2)])
        return pts, vals

    def _prove_group(self, ch: ProverChannel, n: int,
                     group: list[tuple[WhirState, list[Evaluation]]]) -> None:
        """One WHIR proof for every table of 2^n elements in the batch (module doc)."""
        pl, f, w, coeffs, round0 = self._prove_head(ch, n, group)
        self._prove_chain(ch, pl.rounds, f, w, coeffs, round0)

    def _prove_head(self, ch: ProverChannel, n: int,
                    group: list[tuple[WhirState, list[Evaluation]]], extra: Sequence = (),
                    virtual: Sequence[WhirState] = (), derived: list | None = None):
        """Roots, OOD values and the batching of the tables of 2^n elements: the claim
        Σ_b F̂(b)·W(b) = σ on their combination F̂ (evaluations ``f``, coefficients
        ``coeffs``, weights ``w``) and ``round0(idx)``, which sends their opened
        first-round leaves and multi-proofs."""
        from zklora.kernels import whir_eq as QE  # prover only (not loaded to verify)
        E = self.field.ext
        pl = self.plan(n)
        N = 1 << n
        for st, _ in group:
            ch.send_bytes("whir/root", st.root)
            ch.send_field("whir/ood", E, st.ood_values)
        T = len(group)
        beta = ch.challenge("whir/beta", E)
        cons = [self._constraints(n, evs, st.ood_points, st.ood_values) for st, evs in group]
        if T == 1:
            st = group[0][0]
            pts = cons[0][0]
            coeffs = st.coeffs
            if coeffs is None:   # streamed: `_fold_streamed`
                f = _Stream(st.table, pts, K.epowers(beta, 0, len(pts)))
                w = None
            else:
                f = st.table  # base field; the folds make new arrays
                w = np.empty((N, 2), dtype=np.uint64)
                QE.eq_combination(w, pts, K.epowers(beta, 0, len(pts)), overwrite=True)
        else:
            lam = ch.challenges("whir/lambda", E, T)
            big = not virtual and not extra and \
                2 * T * 16 * N > scratch.open_bytes(OPEN_BYTES)
            if big:
                rstar = self._reduce_streamed(ch, n, group, cons, beta, lam)
            elif not virtual and not extra:
                rstar = self._reduce_pairs(ch, n, group, cons, beta, lam)
            else:
                rstar = self._reduce_stack(ch, n, group, cons, beta, lam, extra, virtual,
                                           derived)
            _grind_prove(ch, "whir/pow-batch", pl.pow_batch)
            mu = ch.challenges("whir/mu", E, T)
            coeffs = None   # F̂'s folded coefficients: from its folded evaluations
            ones = np.zeros((1, 2), dtype=np.uint64)
            ones[0, 0] = 1
            if big:   # F̂ and W = eq(r*, ·) made a block at a time (`_fold_streamed`)
                f = _Stream(tuple(st.table for st, _ in group), rstar[None], ones,
                            mu=np.ascontiguousarray(mu, dtype=np.uint64))
                w = None
            else:
                f = K.lincomb_base(np.stack([st.table for st, _ in group]), mu)
                w = np.empty((N, 2), dtype=np.uint64)
                QE.eq_combination(w, rstar[None], ones, overwrite=True)

        def round0(idx: np.ndarray) -> None:
            for st, _ in group:
                rows, paths = st.tree.open(idx)
                ch.send_field("whir/leaves", self.field, rows)
                ch.send_bytes("whir/paths", paths)

        return pl, f, w, coeffs, round0

    def _reduce_pairs(self, ch: ProverChannel, n: int, group, cons, beta, lam) -> np.ndarray:
        """The reduction sumcheck on Σ_t Σ_b f̂_t(b)·W_t(b) (messages h(0), h(2) per round,
        the challenges ρ, then every f̂_t(r*)); returns r*.  Each pair (f̂_t, W_t) runs
        the fused WHIR sumcheck kernels (`kernels.whir_sumcheck`: the base table read in
        place for the first round, no lifted (2T, 2^n, 2) stack) and the round message is
        the sum of the pairs' messages — the same values as the generic `Field.sc_round`
        / `sc_fold` on the stack (`_reduce_stack`)."""
        from zklora.kernels import whir_eq as QE  # prover only
        from zklora.kernels import whir_sumcheck as SC  # prover only
        E = self.field.ext
        N = 1 << n
        fs, ws, hs = [], [], []
        for t, (st, _) in enumerate(group):
            pts = cons[t][0]
            cf = E.mul(K.epowers(beta, 0, len(pts)),
                       np.ascontiguousarray(np.broadcast_to(lam[t], (len(pts), 2))))
            w = np.empty((N, 2), dtype=np.uint64)
            QE.eq_combination(w, pts, cf, overwrite=True)
            fs.append(np.asarray(st.table))   # (an `IntTable` converted)
            ws.append(w)
            hs.append(SC.round_(fs[-1], w))
        rstar = np.zeros((n, 2), dtype=np.uint64)
        for j in range(n):
            acc = [0, 0, 0, 0]
            for h in hs:
                acc = [(x + int(y)) % P_INT for x, y in zip(acc, h.reshape(-1))]
            ch.send_field("whir/reduce", E, np.array(acc, dtype=np.uint64).reshape(2, 2))
            rstar[j] = ch.challenge("whir/rho", E)
            for t in range(len(fs)):
                if j + 1 == n:
                    fo, wo = SC.fold(fs[t], ws[t], rstar[j])
                else:
                    fo, wo, hs[t] = SC.fold_round(fs[t], ws[t], rstar[j])
                if j == 0:
                    scratch.drop_pages(group[t][0].table)
                fs[t], ws[t] = fo, wo
        ch.send_field("whir/values", E, np.ascontiguousarray(
            np.stack([f.reshape(2) for f in fs])))
        return rstar

    def _reduce_streamed(self, ch: ProverChannel, n: int, group, cons, beta, lam
                         ) -> np.ndarray:
        """`_reduce_pairs` (the same messages and values) with bounded memory: the
        first s rounds each make one pass over the tables a block at a time — a block
        of f̂_t read (its pages given back), its rows of W_t computed (`whir_eq.eq_rows`;
        kept in a scratch file after the first pass when W_t has more than
        `W_RECOMPUTE_TERMS` terms), both folded by the challenges so far and the pair
        sums added; a last pass keeps the s-times folded blocks, 2·T·2^(n−s) extension
        entries ≤ `OPEN_BYTES`, and the remaining rounds run in RAM."""
        from zklora.kernels import whir_eq as QE  # prover only
        from zklora.kernels import whir_open as WO  # prover only
        from zklora.kernels import whir_sumcheck as SC  # prover only
        E = self.field.ext
        N = 1 << n
        T = len(group)
        s = 1
        budget = scratch.open_bytes(OPEN_BYTES)
        while s < n - 1 and 2 * T * 16 * (N >> s) > budget:
            s += 1
        splits, coefs = [], []
        for t in range(T):
            pts = cons[t][0]
            cf = E.mul(K.epowers(beta, 0, len(pts)),
                       np.ascontiguousarray(np.broadcast_to(lam[t], (len(pts), 2))))
            splits.append((QE.eq_split(pts, cf), len(pts)))
            coefs.append(cf)
        a_max = max(a for (_, _, a), _ in splits)
        # every streamed message from one pass of each W_t's row sums (`_SplitMessages`):
        # the s rounds inside every W_t's low split (s ≤ a_t)
        split = all(0 < s <= a and q <= SPLIT_MSG_TERMS and len(st.table.shape) == 1
                    for ((_, _, a), q), (st, _) in zip(splits, group))
        if split:
            # the messages cost nothing more up to the last round inside every W_t's
            # low split: stream all of those rounds, so the last pass folds each table
            # a_t times into 2^(n − a_t) entries (no 2·T·16·2^(n−s)-byte folded stack
            # written, copied and folded round by round in RAM) — the same messages
            s = min(n - 1, min(a for (_, _, a), _ in splits))
        blk = min(N, max(1 << max(a_max, s + 1),
                         1 << (STREAM_BYTES // 48).bit_length() - 1))
        store = scratch.current()
        kept: list = [None] * T    # W_t's rows in a scratch file (many terms)
        rstar = np.zeros((n, 2), dtype=np.uint64)

        def blocks(t: int, j: int, rounds: bool = True):
            (A, B, a), q = splits[t]
            # pass j ≥ 1: W_t's folded rows computed directly (`_w_split_folded`: 2^-j
            # of the work, no folds of W_t) unless it has many terms, then read back
            # from the first pass's file and folded
            direct = j > 0 and q <= W_RECOMPUTE_TERMS << j
            keep = store is not None and q > W_RECOMPUTE_TERMS << 1 and not split
            if direct:
                Aj, Bj, aj = _w_split_folded(E, cons[t][0], coefs[t], rstar[:j],
                                             min(N, blk) >> j)
            w_mm = None
            if keep and kept[t] is None:
                w_mm, kept[t] = store.create((N, 2), np.uint64, "whir-w")
            for lo in range(0, N, blk):
                hi = min(N, lo + blk)
                d = j and direct and _aligned(lo >> j, hi >> j, aj)
                if d or (rounds and not j and w_mm is None and kept[t] is None and a):
                    # read by a kernel only (folded, or the round's message): the
                    # table's own pages, no block copy (`_base_view`)
                    if not d:
                        yield None, None, _kernel_block(group[t][0].table, lo, hi, None,
                                                        (A, B, a))
                        continue
                    if rounds and aj:   # folded and the message made in one pass
                        yield None, None, _kernel_block(group[t][0].table, lo, hi,
                                                        rstar[:j], (Aj, Bj, aj, lo >> j))
                        continue
                    f = _kernel_block(group[t][0].table, lo, hi, rstar[:j], None)
                else:
                    f = _read_base(group[t][0].table, lo, hi)
                if d:
                    if rounds and aj:   # the message only: W's rows never made
                        yield f, None, WO.split_round(f, Aj, Bj, aj, lo >> j)
                    else:
                        yield f, QE.eq_rows(Aj, Bj, aj, lo >> j, hi >> j), None
                    continue
                if kept[t] is not None and w_mm is None:
                    w = kept[t].read_range(lo, hi)
                elif rounds and not j and w_mm is None and a:
                    yield f, None, WO.split_round(f, A, B, a, lo)
                    continue
                else:
                    w = QE.eq_rows(A, B, a, lo, hi)
                    if w_mm is not None:
                        w_mm[lo:hi] = w
                        scratch.drop_pages(w_mm[lo:hi])
                yield _fold_then_round(f, w, rstar[:j], rounds)
            del w_mm

        if split:
            msgs = _SplitMessages([(_split_sums(E, (group[t][0].table,), None, A, B, a, N,
                                                blk), A)
                                   for t, ((A, B, a), _) in enumerate(splits)])
            h = msgs.first()
        for j in range(s):
            if split:
                if j:
                    h = msgs.next(rstar[j - 1])
                ch.send_field("whir/reduce", E, h)
                rstar[j] = ch.challenge("whir/rho", E)
                continue
            acc = [0, 0, 0, 0]
            for t in range(T):
                for f, w, h in blocks(t, j):
                    h = (SC.round_(f, w) if h is None else h).reshape(-1)
                    acc = [(x + int(y)) % P_INT for x, y in zip(acc, h)]
            ch.send_field("whir/reduce", E, np.array(acc, dtype=np.uint64).reshape(2, 2))
            rstar[j] = ch.challenge("whir/rho", E)
        fs, ws = [], []
        for t in range(T):
            parts = list(blocks(t, s, rounds=False))
            fs.append(np.concatenate([p[0] for p in parts]))
            ws.append(np.concatenate([p[1] for p in parts]))
            del parts
            if kept[t] is not None:
                store.discard(kept[t])
                kept[t] = None
        scratch.trim()   # the blocks' temporaries: back to the system
        hs = [SC.round_(f, w) for f, w in zip(fs, ws)]
        for j in range(s, n):
            acc = [0, 0, 0, 0]
            for h in hs:
                acc = [(x + int(y)) % P_INT for x, y in zip(acc, h.reshape(-1))]
            ch.send_field("whir/reduce", E, np.array(acc, dtype=np.uint64).reshape(2, 2))
            rstar[j] = ch.challenge("whir/rho", E)
            for t in range(T):
                if j + 1 == n:
                    fs[t], ws[t] = SC.fold(fs[t], ws[t], rstar[j])
                else:
                    fs[t], ws[t], hs[t] = SC.fold_round(fs[t], ws[t], rstar[j])
        ch.send_field("whir/values", E, np.ascontiguousarray(
            np.stack([f.reshape(2) for f in fs])))
        return rstar

    def _reduce_stack(self, ch: ProverChannel, n: int, group, cons, beta, lam, extra,
                      virtual, derived) -> np.ndarray:
        """`_reduce_pairs` on one lifted stack (2(T + V), 2^n, 2) with the generic
        sumcheck kernels: the hiding variant's sum claims and virtual tables."""
        from zklora.kernels import whir_eq as QE  # prover only
        E = self.field.ext
        N = 1 << n
        T = len(group)
        V = len(virtual)   # hiding sum claims: smaller tables zero-extended (module doc)
        red = (np.zeros if V else np.empty)((2 * (T + V), N, 2), dtype=np.uint64)
        for v, vst in enumerate(virtual):
            red[2 * (T + v), : 1 << vst.n, 0] = vst.table
        for t, (st, _) in enumerate(group):
            red[2 * t, :, 0] = st.table
            red[2 * t, :, 1] = 0
            scratch.drop_pages(st.table)
            pts = cons[t][0]
            cf = E.mul(K.epowers(beta, 0, len(pts)),
                       np.ascontiguousarray(np.broadcast_to(lam[t], (len(pts), 2))))
            QE.eq_combination(red[2 * t + 1], pts, cf, overwrite=True)
        if extra:   # sum claims (hiding): θ_s·Σ_l c_l·eq(p_l, ·) on their terms' tables
            theta = ch.challenges("whir/zk/theta", E, len(extra))
            for th, (_, terms) in zip(theta, extra):
                for t, p, c in terms:
                    _eq_add_block(E, red[2 * t + 1], p, E.mul(th, c))
        starts = np.arange(0, 2 * (T + V) + 1, 2, dtype=np.int64)
        factors = np.arange(2 * (T + V), dtype=np.int64)
        ones = np.zeros((T + V, 2), dtype=np.uint64)
        ones[:, 0] = 1
        rstar = np.zeros((n, 2), dtype=np.uint64)
        for j in range(n):
            h = E.sc_round(red, starts, factors, ones, 2)
            ch.send_field("whir/reduce", E, np.stack([h[0], h[2]]))
            rstar[j] = ch.challenge("whir/rho", E)
            red = E.sc_fold(red, rstar[j])
        ch.send_field("whir/values", E, np.ascontiguousarray(red[0:2 * T:2, 0]))
        del red
        for vst in virtual:   # its value at r*'s first coordinates: a claim of its own
            pt = np.ascontiguousarray(rstar[: vst.n])
            wv = _evaluate(E, vst.table, pt)
            ch.send_field("whir/zk/virtual", E, wv)
            derived.append(Evaluation(pt, wv))
        return rstar

    def _prove_fold(self, ch: ProverChannel, rd: Round, f: np.ndarray, w: np.ndarray,
                    out: tuple[np.ndarray, np.ndarray] | None = None):
        """A round's k sumcheck rounds on Σ f̂·W (messages h(0), h(2), grinding, α);
        returns the α's and the folded f, W (with ``out`` = two (2^(m−k), 2) arrays:
        written there, a base f̂ with k = 0 into column 0).  The rounds run in
        `kernels.whir_sumcheck` (each fold computes the next round's message in the
        same pass)."""
        from zklora.kernels import whir_sumcheck as SC  # prover only
        if isinstance(f, _Stream):
            if out is None:
                return self._fold_streamed(ch, rd, f)
            return self._fold_streamed(ch, rd, f, out)
        E = self.field.ext
        alphas = np.zeros((rd.k, 2), dtype=np.uint64)
        h = SC.round_(f, w) if rd.k else None
        for j in range(rd.k):
            ch.send_field("whir/sumcheck", E, h)
            _grind_prove(ch, "whir/pow-fold", rd.pow_fold)
            alphas[j] = ch.challenge("whir/alpha", E)
            if j + 1 < rd.k:
                f, w, h = SC.fold_round(f, w, alphas[j])
            else:
                f, w = SC.fold(f, w, alphas[j])
        if out is not None:
            _put_block(out[0], 0, f)
            _put_block(out[1], 0, w)
            return alphas, out[0], out[1]
        return alphas, f, w

    def _fold_streamed(self, ch: ProverChannel, rd: Round, s: _Stream,
                       out: tuple[np.ndarray, np.ndarray] | None = None):
        """`_prove_fold` for a streamed table (the same messages and output): the
        table and its weight table W = Σ_j c_j·eq(r_j, ·) are never whole in RAM.
        Each sumcheck round's message is one pass over the blocks of 2^L entries (L ≥
        k + 1): a block of the table is read (its pages given back), its rows of W
        computed (`whir_eq.eq_rows`: in every pass when W has at most
        `W_RECOMPUTE_TERMS` terms, else in the first pass, then kept in a scratch file
        and read back), both folded by the α's drawn so far and the round's h(0),
        h(2) summed; a last pass keeps the k-times folded blocks (written straight
        into ``out`` when given: no block list, no concatenated copy)."""
        from zklora.kernels import whir_eq as QE  # prover only
        from zklora.kernels import whir_open as WO  # prover only
        from zklora.kernels import whir_sumcheck as SC  # prover only
        E = self.field.ext
        N = (s.table[0] if s.mu is not None else s.table).shape[0]
        given = s.w is not None
        A, B, a = QE.eq_split(s.points, s.coefs) if not given else (None, None, 0)
        blk = max(1 << max(a, rd.k + 1), min(N, 1 << (STREAM_BYTES // 48).bit_length() - 1))
        alphas = np.zeros((rd.k, 2), dtype=np.uint64)
        store = scratch.current()
        # W's rows are recomputed in every pass when it has few terms (cheaper than
        # writing and reading back its 16 bytes an entry), else kept in a scratch file
        # (pass j ≥ 1 computes W's folded rows directly when it has few terms for the
        # pass, `_w_split_folded`: the file is only needed with more than twice that)
        q = 0 if given else s.points.shape[0]
        # every message from one pass of W's row sums (`_SplitMessages`): the folded
        # variables inside W's low split (k ≤ a), a base table
        split = not given and 0 < rd.k <= a and q <= SPLIT_MSG_TERMS and \
            all(len(t.shape) == 1 for t in (s.table if s.mu is not None else (s.table,)))
        keep = store is not None and not given and q > W_RECOMPUTE_TERMS << 1 and \
            rd.k > 0 and not split
        w_mm, w_h = (None, s.w) if given else \
            store.create((N, 2), np.uint64, "whir-w") if keep else (None, None)

        # a pass whose folded blocks (f and W folded j times, 32·N/2^j bytes, and the
        # next pass's half of that) fit the openings' budget keeps them (``held``):
        # the later passes fold those once more instead of reading and folding the
        # table (and W) from the start — the same values
        budget = scratch.open_bytes(OPEN_BYTES)
        held: list = []
        # a direct pass (W's folded rows computed, not read) whose folded table blocks
        # and the next pass's kept pairs (16·N/2^j bytes each) fit the budget keeps
        # only f (``held_f``): the next pass folds those once, W computed directly,
        # instead of reading the table and folding it j + 1 times — the same values
        held_f: list = []

        def blocks(j: int, rounds: bool = True, dest=None):
            # ``dest`` (the last pass): the folded f and W rows go straight there where
            # a kernel writes them (the consumer copies any other block)
            if held:   # f, W folded j − 1 times: one fold (and the round) each
                hold = j < rd.k and 32 * (N >> j) <= budget
                prev = held.pop()
                nxt = [] if hold else None
                for f, w in prev:
                    if rounds and f.shape[0] >= 4:
                        f, w, h = SC.fold_round(f, w, alphas[j - 1])
                    else:
                        f, w = SC.fold(f, w, alphas[j - 1])
                        h = None
                    if nxt is not None:
                        nxt.append((f, w))
                    yield f, w, h
                del prev
                if nxt is not None:
                    held.append(nxt)
                return
            hold = 0 < j < rd.k and 48 * (N >> j) <= budget
            nxt = [] if hold else None
            # pass j ≥ 1: W's folded rows computed directly when it has few terms
            # (`_w_split_folded`), only the table's block folded
            direct = j > 0 and not given and q <= W_RECOMPUTE_TERMS << j
            prevf = held_f.pop() if held_f else None
            keepf = (None if hold or not direct or not rounds or j + 1 >= rd.k
                     or 32 * (N >> j) > budget else [])
            if direct:
                Aj, Bj, aj = _w_split_folded(E, s.points, s.coefs, alphas[:j],
                                             min(N, blk) >> j)
                if keepf is not None and not all(
                        _aligned(lo >> j, min(N, lo + blk) >> j, aj)
                        for lo in range(0, N, blk)):
                    keepf = None
            for i, lo in enumerate(range(0, N, blk)):
                hi = min(N, lo + blk)
                # a pass that only needs the round's message (no folded blocks kept):
                # from W's split tables, W's rows never made (`whir_open.split_round`)
                fuse = rounds and nxt is None
                d = direct and _aligned(lo >> j, hi >> j, aj)
                fo = wo = None
                if dest is not None and d:
                    fo, wo = dest[0][lo >> j:hi >> j], dest[1][lo >> j:hi >> j]
                if prevf is not None:   # f folded j − 1 times (the previous pass)
                    if not d:
                        raise RuntimeError("_fold_streamed: a held block is not aligned")
                    f, prevf[i] = _fold_seq(prevf[i], alphas[j - 1:j], fo), None
                elif s.mu is not None:   # a batch's combination Σ_t mu_t·f_t
                    # read in place (no stacked copy), folded j times in the same pass
                    # when W's rows are direct (`whir_open.lincomb_fold`)
                    vs = [_base_view(t, lo, hi) for t in s.table]
                    f = WO.lincomb_fold([v for v, _ in vs], s.mu,
                                        alphas[:j] if d else alphas[:0], fo)
                    for _, src in vs:
                        if src is not None:
                            scratch.drop_pages(src)
                    del vs
                elif d or (fuse and j == 0 and not given and w_mm is None and a):
                    # read by a kernel only (folded, or the round's message): the
                    # table's own pages, no block copy (`_base_view`)
                    if not d:
                        yield None, None, _kernel_block(s.table, lo, hi, None, (A, B, a))
                        continue
                    if fuse and aj and keepf is None:   # folded + message, one pass
                        yield None, None, _kernel_block(s.table, lo, hi, alphas[:j],
                                                        (Aj, Bj, aj, lo >> j))
                        continue
                    f = _kernel_block(s.table, lo, hi, alphas[:j], None, fo)
                else:
                    f = _read_base(s.table, lo, hi)
                if d:
                    if keepf is not None:
                        keepf.append(f)
                    if fuse and aj:
                        yield f, None, WO.split_round(f, Aj, Bj, aj, lo >> j)
                        continue
                    w = QE.eq_rows(Aj, Bj, aj, lo >> j, hi >> j, wo)
                    if nxt is not None:
                        nxt.append((f, w))
                    yield f, w, None
                    continue
                if given:
                    w = w_h.read_range(lo, hi)
                elif fuse and j == 0 and w_mm is None and a:
                    yield f, None, WO.split_round(f, A, B, a, lo)
                    continue
                elif j == 0 or w_h is None:
                    w = QE.eq_rows(A, B, a, lo, hi)
                    if w_mm is not None:
                        w_mm[lo:hi] = w
                        scratch.drop_pages(w_mm[lo:hi])
                else:
                    w = w_h.read_range(lo, hi)
                f, w, h = _fold_then_round(f, w, alphas[:j], rounds)
                if nxt is not None:
                    nxt.append((f, w))
                yield f, w, h
            if nxt is not None:
                held.append(nxt)
            if keepf is not None:
                held_f.append(keepf)

        def message(j: int) -> np.ndarray:
            acc = [0, 0, 0, 0]
            for f, w, h in blocks(j):
                h = (SC.round_(f, w) if h is None else h).reshape(-1)
                acc = [(x + int(y)) % P_INT for x, y in zip(acc, h)]
            return np.array(acc, dtype=np.uint64).reshape(2, 2)

        if split:
            msgs = _SplitMessages([(_split_sums(
                E, s.table if s.mu is not None else (s.table,), s.mu, A, B, a, N, blk), A)])
            h = msgs.first()
        else:
            h = message(0) if rd.k else None
        for j in range(rd.k):
            ch.send_field("whir/sumcheck", E, h)
            _grind_prove(ch, "whir/pow-fold", rd.pow_fold)
            alphas[j] = ch.challenge("whir/alpha", E)
            if j + 1 < rd.k:
                h = msgs.next(alphas[j]) if split else message(j + 1)
        w_mm = None   # the writable map goes; the passes below read the handle
        if out is not None:
            pos = 0
            for f, w, _ in blocks(rd.k, rounds=False, dest=out):
                _put_block(out[0], pos, f)
                _put_block(out[1], pos, w)
                pos += f.shape[0]
            if pos != out[0].shape[0]:
                raise RuntimeError("_fold_streamed: the folded blocks do not fill out")
            f, w = out
        else:
            fs, ws = [], []
            for f, w, _ in blocks(rd.k, rounds=False):
                fs.append(f)
                ws.append(w)
            f, w = np.concatenate(fs), np.concatenate(ws)
            del fs, ws
        if keep:
            store.discard(w_h)
        scratch.trim()   # the blocks' temporaries: back to the system
        return alphas, f, w

    def _fold_coeffs(self, coeffs: np.ndarray | scratch.Spilled,
                     alphas: np.ndarray) -> np.ndarray:
        """`K.fold_coeffs`, a block of rows at a time for a spilled coefficient form."""
        if isinstance(coeffs, scratch.Spilled):   # rows in order, a block at a time
            Kl = 1 << alphas.shape[0]
            rows = coeffs.shape[0]
            per = max(Kl, STREAM_BYTES // 16 // Kl * Kl)
            return np.concatenate([K.fold_coeffs(coeffs.read_range(lo, lo + per), alphas)
                                   for lo in range(0, rows, per)])
        return K.fold_coeffs(coeffs, alphas)

    def _commit_next(self, ch: ProverChannel, coeffs: np.ndarray, nxt: Round, ood: int):
        """Encode and Merkle-commit the next codeword (root sent), draw its OOD points
        and send the values: (tree, OOD points).  A large codeword inside a scratch
        session is written to scratch files (`_encode_streamed`)."""
        E = self.field.ext
        digest = digest_bytes(self.cfg.security_bits)
        m = coeffs.shape[0].bit_length() - 1
        store = scratch.current()
        if store is not None and m >= STREAM_MIN_VARS and \
                store.wants(16 << nxt.d) and coeffs.ndim == 2:
            lt = K.split_log(m, nxt.d, nxt.k)
            T, R = 1 << lt, 1 << (m - lt)
            cb = _tile_cols(T, R, (1 << nxt.d) >> lt, 2, 1 << nxt.k)
            C = np.ascontiguousarray(coeffs, dtype=np.uint64).reshape(R, 2 * T)
            tree, root = self._encode_streamed(
                store, lambda j: (C, 2 * j * cb), m, nxt.d, nxt.k, lt, 2, cb)
        else:
            new_leaves = K.encode_leaves(coeffs, nxt.d, nxt.k,
                                         _next_split(m, nxt.d, nxt.k))
            new_levels = merkle.build(
                merkle.hash_leaves(new_leaves.reshape(new_leaves.shape[0], -1),
                                   self.cfg.hash, digest), self.cfg.hash)
            tree, root = Tree(new_leaves, new_levels), merkle.root(new_levels)
        ch.send_bytes("whir/root", root)
        zs = ch.challenges("whir/ood", E, ood) if ood else np.zeros((0, 2), dtype=np.uint64)
        ood_vals = np.array([K.horner(coeffs, z) for z in zs],
                            dtype=np.uint64).reshape(-1, 2)
        ch.send_field("whir/ood", E, ood_vals)
        return tree, zs

    def _merged(self, ns: Sequence[int]) -> bool:
        """Whether the WHIR-opened sizes ``ns`` take the shared continuation
        (`merge_sizes`; never for a single size)."""
        if len(ns) < 2:
            return False
        plans = [self.plan(n) for n in ns]
        lay = _layout([pl.rounds[0].m - pl.rounds[0].k for pl in plans])
        return merge_sizes(plans, self._tail(plans, lay))

    def _tail(self, plans: Sequence[Plan], lay: Layout) -> Tail:
        """The shared continuation of a batch whose sizes have the plans ``plans``."""
        r0s = [pl.rounds[0] for pl in plans]
        return tail_plan(max(r.d for r in r0s), lay.m,
                         max(_first_round_queries(pl) for pl in plans),
                         max(_list_bits(self.cfg.regime, r.d, r.m) for r in r0s),
                         self.cfg, self._B)

    def _prove_merged(self, ch: ProverChannel, heads) -> None:
        """Several table sizes (module doc, "One proof for all sizes"): each size's first
        round folds its own codeword(s); the folded polynomials are stacked (largest
        first, blocks aligned to their size) into ĥ, committed once, and every size's
        first-round queries become constraints on its block of ĥ; ĥ's rounds follow."""
        from zklora.kernels import goldilocks as GL  # prover only
        from zklora.kernels import whir_eq as QE  # prover only
        E = self.field.ext
        lay = _layout([pl.rounds[0].m - pl.rounds[0].k for pl, *_ in heads])
        tp = self._tail([pl for pl, *_ in heads], lay)
        M = 1 << tp.m
        # each size's folded table and weight table go straight into their blocks of ĥ
        # and ŵ (`_prove_fold` with ``out``: no per-size arrays, copies or concatenation)
        h = np.zeros((M, 2), dtype=np.uint64)
        wh = np.zeros((M, 2), dtype=np.uint64)
        folded = []
        for i, ((pl, f, w, _, round0), (off, mt)) in enumerate(zip(heads, lay.blocks)):
            heads[i] = (pl, None, None, None, round0)   # the whole tables go once folded
            rows = slice(off, off + (1 << mt))
            alphas, f, w = self._prove_fold(ch, pl.rounds[0], f, w, out=(h[rows], wh[rows]))
            folded.append((pl, None, None, alphas, round0))
        del f, w
        # a large ĥ inside a scratch session: ĥ, its coefficients and ŵ go to scratch
        # files once made, and ĥ's first round streams (`_fold_streamed`)
        store = scratch.current()
        spill = store is not None and tp.m >= STREAM_MIN_VARS and store.wants(16 << tp.m)
        # written with direct I/O (`DIRECT_IO`; read back by positioned direct reads,
        # `scratch.Direct`): buffered, their page-cache pages were fresh pages each proof
        # (the openings' page-cache writes), and deleting them truncated those pages
        h_h = store.save([h], tag="whir-h", direct=DIRECT_IO)[0] if spill else None
        hc = K.mobius_pairs(h, out=h if spill else None)   # spilled: in place
        if spill:
            del h
        tree, zs = self._commit_next(ch, hc, tp.rounds[0], tp.ood)
        if spill:
            hc = store.save([hc], tag="whir-hc", direct=DIRECT_IO)[0]
        qidx = []
        for pl, _, _, _, round0 in folded:
            idx = self._queries(ch, pl.rounds[0])
            round0(idx)
            qidx.append(idx)
        _grind_prove(ch, "whir/pow-comb", tp.pow_comb)
        gammas = ch.challenges("whir/gamma", E, len(heads) + 1)
        lam = ch.challenges("whir/stack", E, len(heads))
        for (off, mt), lt in zip(lay.blocks, lam):   # ŵ's blocks scaled in place
            blk = wh[off:off + (1 << mt)]
            src = blk.view()
            src.flags.writeable = False   # the signature `E.mul` compiles (warmup)
            GL.emul_scalar(src, np.uint64(lt[0]), np.uint64(lt[1]), blk)
        # the OOD points' eq tables in one split pass (`whir_eq.eq_combination`: no eq
        # table and axpy per point, the same values as `K.eq_accumulate`)
        QE.eq_combination(wh, _pow_points_ext(zs, tp.m), K.epowers(gammas[0], 1, len(zs)))
        for (pl, *_), (off, mt), idx, g in zip(folded, lay.blocks, qidx, gammas[1:]):
            zq = self._query_points(pl.rounds[0], idx)
            blk = wh[off:off + (1 << mt)]
            QE.pow_eq_accumulate(blk, np.array(zq, dtype=np.uint64), K.epowers(g, 1, len(zq)))
        if not spill:
            self._prove_chain(ch, tp.rounds, h, wh, hc, None, tree)
            return
        wh_h = store.save([wh], tag="whir-wh", direct=DIRECT_IO)[0]
        del wh
        scratch.trim()
        self._prove_chain(ch, tp.rounds, _Stream(h_h, None, None, wh_h), None, hc, None, tree)
        for x in (h_h, hc, wh_h):
            store.discard(x)

    def _prove_chain(self, ch: ProverChannel, rounds: Sequence[Round], f: np.ndarray,
                     w: np.ndarray, coeffs: np.ndarray, round0,
                     tree: Tree | None = None) -> None:
        """The WHIR rounds on Σ_b f̂(b)·W(b): ``f`` is f̂'s evaluation table (base (2^n,)
        or extension (2^n, 2)), ``w`` W's (2^n, 2), ``coeffs`` f̂'s coefficient form;
        ``round0(idx)`` sends the opened leaves of the first codeword(s) and their
        multi-proofs, or (None) the first codeword is the prover's ``tree``.  ``f`` may
        be a streamed table (`_Stream`, its coefficients a scratch file)."""
        from zklora.kernels import whir_eq as QE  # prover only
        for i, rd in enumerate(rounds):
            if coeffs is None and not rd.k:
                raise ProverError("whir: a round without folding needs the coefficients")
            alphas, f, w = self._prove_fold(ch, rd, f, w)
            # no coefficient form (a streamed commitment, a batch's combination): the
            # folded polynomial's coefficients are the Möbius transform of its folded
            # evaluations (binding variable 0 commutes with the transform)
            coeffs = _mobius_ext(f) if coeffs is None else self._fold_coeffs(coeffs, alphas)
            m2 = rd.m - rd.k
            if rd.final:
                ch.send_field("whir/final", self.field.ext, coeffs)
            else:
                nxt = rounds[i + 1]
                new_tree, zs = self._commit_next(ch, coeffs, nxt, rd.ood)
            idx = self._queries(ch, rd)
            if i == 0 and round0 is not None:
                round0(idx)
            else:   # a codeword this opening committed: its files go once opened
                rows, paths = tree.open(idx)
                ch.send_field("whir/leaves", self.field.ext, rows)
                ch.send_bytes("whir/paths", paths)
                tree.discard(scratch.current())
            if rd.final:
                break
            _grind_prove(ch, "whir/pow-comb", rd.pow_comb)
            gamma = ch.challenge("whir/gamma", self.field.ext)
            zq = self._query_points(rd, idx)
            gc = K.epowers(gamma, 1, len(zs) + len(zq))
            QE.eq_combination(w, _pow_points_ext(zs, m2), gc[:len(zs)])
            # the query points are base-field roots of unity: split-table product
            QE.pow_eq_accumulate(w, np.array(zq, dtype=np.uint64), gc[len(zs):])
            tree = new_tree

    def _queries(self, ch, rd: Round) -> np.ndarray:
        """The round's distinct sorted leaf indices: all leaves, or ``rd.queries``
        draws after the grinding nonce (`Round.pow_query`)."""
        if rd.queries >= rd.leaves:
            return np.arange(rd.leaves, dtype=np.int64)
        if isinstance(ch, ProverChannel):
            _grind_prove(ch, "whir/pow-query", rd.pow_query)
        else:
            _grind_verify(ch, "whir/pow-query", rd.pow_query)
        idx = ch.challenge_indices("whir/queries", rd.leaves, rd.queries)
        return np.array(sorted(set(idx)), dtype=np.int64)

    @staticmethod
    def _query_points(rd: Round, idx: np.ndarray) -> list[int]:
        """z = ω^(a·2^k) for each queried leaf a (points of the folded domain)."""
        w = ntt.root_of_unity(rd.d - rd.k)
        return [pow(w, int(a), P_INT) for a in idx]

    # -- verifier -------------------------------------------------------------------------------
    def _check_item(self, k: int, it: CheckItem) -> tuple[bytes, int, list[Evaluation]]:
        return check_item("whir", self.field.ext, k, it, MAX_VARS, P_INT)

    def verify(self, ch: VerifierChannel, items: Sequence[CheckItem],
               sums: Sequence[SumClaim] = ()) -> None:
        if self.hiding:
            self._verify_hiding(ch, items, sums)
            return
        if sums:
            raise VerificationError("whir: sum claims are opened by the hiding variant "
                                    "only")
        work = [w for w in (self._check_item(k, it) for k, it in enumerate(items)) if w[2]]
        stmt = self._statement(work)
        read_statement_head(stmt)   # the head it binds, strictly
        ch.observe_public("whir/batch", stmt)
        modes = ch.recv_bytes("whir/modes", len(work))
        for t, ((_, n, _), m) in enumerate(zip(work, modes)):
            if m > 1 or (m == 0 and self.direct(n)):
                raise VerificationError(f"whir: tensor {t}: opening mode {m} not allowed for "
                                        f"a table of 2^{n} elements")
        sent = [m == 1 for m in modes]
        for t, (com, n, evs) in enumerate(work):
            if sent[t]:
                try:
                    self._verify_direct(ch, t, com, n, evs)
                except ValueError as e:
                    raise VerificationError(f"whir: tensor {t}: malformed opening ({e})") from e
        groups = self._groups([w[1] for w in work], sent)
        try:
            if self._merged([n for n, _ in groups]):
                self._verify_merged(ch, [self._verify_head(
                    ch, n, [(t, work[t][0], work[t][2]) for t in pos]) for n, pos in groups])
            else:
                for n, pos in groups:
                    pl, cons, sigma, round0 = self._verify_head(
                        ch, n, [(t, work[t][0], work[t][2]) for t in pos])
                    self._verify_chain(ch, pl.rounds, cons, sigma, round0,
                                       f"the tables of 2^{n} elements")
        except ValueError as e:  # malformed data reaching a kernel helper
            raise VerificationError(f"whir: malformed opening ({e})") from e

    def _verify_direct(self, ch, t, com, n, evs) -> None:
        E = self.field.ext
        w = ch.recv_bytes("whir/width", 1)[0]
        if not 1 <= w <= 8:
            raise VerificationError(f"whir: tensor {t}: bad width {w}")
        table = _unpack(ch.recv_bytes("whir/tensor", w << n), w, t)
        if self._commit_table(table.copy()).commitment != com:
            raise VerificationError(f"whir: opened tensor {t} does not match its commitment")
        lifted = np.zeros((1 << n, 2), dtype=np.uint64)
        lifted[:, 0] = table
        for ev in evs:
            if not E.equal(E.dot(lifted, ntt.eq_table(ev.point)), ev.value):
                raise VerificationError(f"whir: wrong evaluation claimed for tensor {t}")

    def _check_paths(self, ch, hashed: np.ndarray, idx: np.ndarray, depth: int,
                     root: bytes, what: str) -> None:
        """Read one multi-proof for the leaves ``hashed`` at ``idx`` and check it against
        ``root``."""
        w = digest_bytes(self.cfg.security_bits)
        if self.cfg.hash == "blake3":  # compiled, serial path
            digests = K.hash_leaves_serial(hashed)
            proof = ch.recv_bytes("whir/paths", w * K.num_siblings(idx, depth))
            got = K.multi_root(idx, digests, depth, proof, w)
        else:
            digests = merkle.hash_leaves(hashed, self.cfg.hash, w)
            proof = ch.recv_bytes("whir/paths", w * merkle.num_siblings(idx, depth))
            got = merkle.root_from_multi([digests[q].tobytes() for q in range(len(idx))],
                                         idx, depth, proof, self.cfg.hash, w)
        if got != root:
            raise VerificationError(f"whir: opened leaves of {what} do not match the "
                                    "committed root")

    def _verify_head(self, ch, n: int, group: list[tuple[int, bytes, list[Evaluation]]],
                     extra: Sequence = (), virtual: Sequence[int] = (),
                     derived: list | None = None):
        """The verifier's side of `_prove_head`: (plan, constraint groups of W as
        (coefficients, points), σ, ``round0(idx)`` reading and checking the opened
        first-round leaves of every table of the group, returned combined as
        extension elements (q, 2^k, 2))."""
        E, F = self.field.ext, self.field
        pl = self.plan(n)
        roots, cons = [], []
        for t, com, evs in group:
            root = ch.recv_bytes("whir/root", pl.digest)
            ood_vals = ch.recv_field("whir/ood", E, pl.ood0)
            if self._digest(n, root, ood_vals) != com:
                raise VerificationError(f"whir: root of tensor {t} does not match its "
                                        "commitment")
            roots.append(root)
            cons.append(self._constraints(n, evs, self._ood_points(n, root, pl.ood0),
                                          ood_vals))
        T = len(group)
        beta = ch.challenge("whir/beta", E)
        if T == 1:
            pts, vals = cons[0]
            coefs = K.epowers(beta, 0, len(pts))
            sigma = E.dot(coefs, vals)
            groups = [(coefs, pts)]
        else:
            lam = ch.challenges("whir/lambda", E, T)
            coefs = [E.mul(K.epowers(beta, 0, len(p)),
                           np.ascontiguousarray(np.broadcast_to(lam[t], (len(p), 2))))
                     for t, (p, _) in enumerate(cons)]
            sigma = np.zeros(2, dtype=np.uint64)
            for cf, (_, v) in zip(coefs, cons):
                sigma = E.add(sigma, E.dot(cf, v))
            theta = ch.challenges("whir/zk/theta", E, len(extra)) if extra else ()
            for th, (v, _) in zip(theta, extra):
                sigma = E.add(sigma, E.mul(th, v))
            rstar = np.zeros((n, 2), dtype=np.uint64)
            for j in range(n):
                h0, h2 = ch.recv_field("whir/reduce", E, 2)
                rstar[j] = ch.challenge("whir/rho", E)
                sigma = E.interpolate(np.stack([h0, E.sub(sigma, h0), h2]), rstar[j])
            vals = ch.recv_field("whir/values", E, T)
            if virtual:   # zero-extended smaller tables: w·Π_{i ≥ a}(1 − r*_i) at r*
                one = np.array([1, 0], dtype=np.uint64)
                wv = ch.recv_field("whir/zk/virtual", E, len(virtual))
                ext = []
                for a, w in zip(virtual, wv):
                    derived.append(Evaluation(np.ascontiguousarray(rstar[:a]), w))
                    zero = np.zeros((n - a, 2), dtype=np.uint64)
                    ext.append(E.mul(w, K.eq_prefix(zero[None], rstar[a:])[0]
                                     if n > a else one))
                vals = np.concatenate([vals.reshape(-1, 2), np.array(ext).reshape(-1, 2)])
            expect = np.zeros(2, dtype=np.uint64)
            for t, (cf, (p, _)) in enumerate(zip(coefs, cons)):
                w = E.dot(cf, K.eq_prefix(p, rstar))
                expect = E.add(expect, E.mul(w, vals[t]))
            for th, (_, terms) in zip(theta, extra):
                for t, p, c in terms:
                    w = E.mul(E.mul(th, c), K.eq_prefix(p[None], rstar)[0])
                    expect = E.add(expect, E.mul(w, vals[t]))
            if not E.equal(expect, sigma):
                raise VerificationError(f"whir: reduction sumcheck of the tables of 2^{n} "
                                        "elements does not end in the claimed values")
            _grind_verify(ch, "whir/pow-batch", pl.pow_batch)
            mu = ch.challenges("whir/mu", E, T)
            sigma = E.dot(mu, vals[:T])
            one = np.array([[1, 0]], dtype=np.uint64)
            groups = [(one, rstar[None].copy())]
        depth, Kl = pl.rounds[0].depth, 1 << pl.rounds[0].k

        def round0(idx: np.ndarray) -> np.ndarray:
            q = len(idx)
            base = []
            for (t, _, _), root in zip(group, roots):
                b = ch.recv_field("whir/leaves", F, q * Kl).reshape(q, Kl)
                self._check_paths(ch, b, idx, depth, root, f"tensor {t} (round 0)")
                base.append(b.reshape(-1))
            if T == 1:
                opened = np.zeros((q, Kl, 2), dtype=np.uint64)
                opened[:, :, 0] = base[0].reshape(q, Kl)
                return opened
            return K.lincomb_base(np.stack(base), mu).reshape(q, Kl, 2)

        return pl, groups, sigma, round0

    def _verify_fold(self, ch, rd: Round, groups, sigma: np.ndarray):
        """The verifier's side of `_prove_fold`: (α's, folded constraint groups, σ)."""
        E = self.field.ext
        alphas = np.zeros((rd.k, 2), dtype=np.uint64)
        for j in range(rd.k):
            h0, h2 = ch.recv_field("whir/sumcheck", E, 2)
            h1 = E.sub(sigma, h0)
            _grind_verify(ch, "whir/pow-fold", rd.pow_fold)
            alphas[j] = ch.challenge("whir/alpha", E)
            sigma = E.interpolate(np.stack([h0, h1, h2]), alphas[j])
        if rd.k:
            groups = [(E.mul(c, K.eq_prefix(p, alphas)), np.ascontiguousarray(p[:, rd.k:]))
                      for c, p in groups]
        return alphas, groups, sigma

    def _verify_merged(self, ch, heads) -> None:
        """The verifier's side of `_prove_merged`."""
        E = self.field.ext
        folded = []
        for pl, groups, sigma, round0 in heads:
            alphas, groups, sigma = self._verify_fold(ch, pl.rounds[0], groups, sigma)
            folded.append((pl, groups, sigma, alphas, round0))
        lay = _layout([pl.rounds[0].m - pl.rounds[0].k for pl, *_ in heads])
        tp = self._tail([pl for pl, *_ in heads], lay)
        what = "the stacked tables"
        root = ch.recv_bytes("whir/root", digest_bytes(self.cfg.security_bits))
        zs = ch.challenges("whir/ood", E, tp.ood) if tp.ood else \
            np.zeros((0, 2), dtype=np.uint64)
        ood_vals = ch.recv_field("whir/ood", E, tp.ood)
        checks = []
        for (pl, _, _, alphas, round0), (_, mt) in zip(folded, lay.blocks):
            rd = pl.rounds[0]
            idx = self._queries(ch, rd)
            opened = round0(idx)
            vals = K.fold_leaves(opened, idx, rd.d, alphas)
            checks.append((_pow_points_base(self._query_points(rd, idx), mt), vals))
        _grind_verify(ch, "whir/pow-comb", tp.pow_comb)
        gammas = ch.challenges("whir/gamma", E, len(heads) + 1)
        lam = ch.challenges("whir/stack", E, len(heads))
        gc = K.epowers(gammas[0], 1, tp.ood)
        sigma = E.dot(gc, ood_vals.reshape(-1, 2))
        cons = [(gc, _pow_points_ext(zs, tp.m))]
        for (_, groups, sg, _, _), (off, mt), lt, g, (zp, vals) in zip(
                folded, lay.blocks, lam, gammas[1:], checks):
            gq = K.epowers(g, 1, vals.shape[0])
            sigma = E.add(sigma, E.add(E.mul(lt, sg), E.dot(gq, vals)))
            cons += [(E.mul(c, np.ascontiguousarray(np.broadcast_to(lt, c.shape))),
                      _selector_points(p, off, mt, tp.m)) for c, p in groups]
            cons.append((gq, _selector_points(zp, off, mt, tp.m)))
        self._verify_chain(ch, tp.rounds, cons, sigma, None, what, root)

    def _verify_chain(self, ch, rounds: Sequence[Round], groups, sigma: np.ndarray, round0,
                      what: str, root: bytes | None = None) -> None:
        """The verifier's WHIR rounds for the claim Σ_b f̂(b)·W(b) = sigma, W given by
        the constraint ``groups`` (coefficients, points); ``round0(idx)`` reads and
        checks the first codeword's opened leaves and returns them as extension
        elements (q, 2^k, 2), or (None) the first codeword is the prover's, under
        ``root``."""
        E = self.field.ext
        for i, rd in enumerate(rounds):
            alphas, groups, sigma = self._verify_fold(ch, rd, groups, sigma)
            m2 = rd.m - rd.k
            if rd.final:
                final = ch.recv_field("whir/final", E, 1 << m2)
            else:
                new_root = ch.recv_bytes("whir/root", digest_bytes(self.cfg.security_bits))
                zs = ch.challenges("whir/ood", E, rd.ood) if rd.ood else \
                    np.zeros((0, 2), dtype=np.uint64)
                ood_vals = ch.recv_field("whir/ood", E, rd.ood)
            idx = self._queries(ch, rd)
            Kl = 1 << rd.k
            if i == 0 and round0 is not None:
                opened = round0(idx)
            else:
                opened = ch.recv_field("whir/leaves", E, len(idx) * Kl).reshape(len(idx), Kl, 2)
                self._check_paths(ch, opened.reshape(len(idx), 2 * Kl), idx, rd.depth, root,
                                  f"{what} (round {i})")
            folded = K.fold_leaves(opened, idx, rd.d, alphas)
            zq = self._query_points(rd, idx)
            if rd.final:
                zq2 = np.zeros((len(zq), 2), dtype=np.uint64)
                zq2[:, 0] = zq
                if not np.array_equal(K.horner_many(final, zq2), folded):
                    raise VerificationError(f"whir: final polynomial of {what} does "
                                            "not match the queried codeword")
                expect = np.zeros(2, dtype=np.uint64)
                for c, p in groups:
                    expect = E.add(expect, K.mono_eval(p, c, final))
                if not E.equal(expect, sigma):
                    raise VerificationError(f"whir: sumcheck of {what} does not end in its "
                                            "claimed evaluations")
                return
            _grind_verify(ch, "whir/pow-comb", rd.pow_comb)
            gamma = ch.challenge("whir/gamma", E)
            npts = np.concatenate([_pow_points_ext(zs, m2), _pow_points_base(zq, m2)])
            gc = K.epowers(gamma, 1, npts.shape[0])
            sigma = E.add(sigma, E.dot(gc, np.concatenate([ood_vals.reshape(-1, 2), folded])))
            groups.append((gc, npts))
            root = new_root


@hookimpl
def zk_commitment_schemes():
    return [Whir]
