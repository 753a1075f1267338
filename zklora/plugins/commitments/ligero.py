"""The ``ligero`` commitment scheme: hash-based multilinear commitment over Goldilocks.

Relation proven by a batched opening: for every item (commitment C_t, claims
{(r_j, v_j)}), C_t commits to a table T_t of 2^n Goldilocks elements with
T̃_t(r_j) = v_j, r_j ∈ E^n, v_j ∈ E (E = goldilocks-ext2, ≈ 2^128 elements).

Construction (see docs/commitments.md for the parameter and soundness analysis):

* **Commit.** The flat table is the row-major matrix M of m = 2^(n−b) rows and
  k = 2^b columns (b chosen by `Layout` to minimise the proof).  Each row is encoded
  with Reed–Solomon at rate 2^-ρ (NTT, `zklora.kernels.ntt`), giving U (m × L),
  L = k·2^ρ; a Merkle tree is built over the L columns of U (`zklora.kernels.merkle`).
  The commitment is ``H(tag ‖ hash ‖ ρ ‖ n ‖ b ‖ root)`` (32 bytes).  Since the flat
  index is ``row·k + col``, a point splits as r = (c, a): c = the b column coordinates,
  a = the row coordinates, and T̃(r) = eq(a)ᵀ·M·eq(c).
* **Open** (one proof for all items).  Every commitment, point and value is absorbed
  first.  Per claim j the prover sends y_j = M·eq(c_j) ∈ E^m; the verifier checks
  ⟨eq(a_j), y_j⟩ = v_j.  Then per tensor a random β ∈ E^m is drawn and the prover sends
  w = βᵀ·M ∈ E^k; the verifier checks ⟨w, eq(c_j)⟩ = ⟨β, y_j⟩ for each claim on the
  tensor.  Finally Q column indices are drawn (one set per codeword length, shared by
  the tensors of that length); the prover sends the opened columns of U and one
  deduplicated Merkle multi-proof per tensor; the verifier checks the columns against
  the commitment and Enc(w)[q] = ⟨β, U[:, q]⟩ at every queried q (Enc(w) = Enc(w₀) +
  x·Enc(w₁) for w = w₀ + x·w₁, the code being F-linear).  The one row w is both the
  proximity test (β uniform) and the binding of the y_j to the committed rows, so a
  claim costs m extension elements and a tensor k + Q·m elements plus paths.
* **Small tensors** (when sending the table is no larger than the estimated opening)
  are opened directly: the table is sent, the verifier re-commits it and evaluates.

Prover memory (issue 14): a read-only uint64 table is kept by reference as M (the
kernel's stacked vector, a read-only map of a scratch file when large, whose pages are
given back after each pass, `zklora.zkcore.scratch.drop`; anything else is copied), and
inside a
`zklora.zkcore.scratch` session a commitment whose codewords and Merkle levels reach
the store's threshold (64 MiB by default) encodes M a slab of rows at a time straight
into scratch files, hashes the leaves a block of columns at a time, and keeps only M
in RAM; the opening reads back the queried columns and the multi-proof's digests.
The commitment and the opening are byte-for-byte those of the in-RAM path.

Soundness: with δ = 1 − 2^-ρ, Q = ⌈(λ+1) / −log2(1 − δ/2)⌉ queries bound a cheating
prover's success by 2^-(λ+1) plus L/|E| (proximity gaps for RS codes in the unique
decoding regime, Ben-Sasson et al. 2020) plus 1/|E| per claim (β is drawn after the
y_j).

**Hiding variant** (inside a `zklora.zkcore.zk` session; docs/zero-knowledge.md §4).
Commit: every row of M (k entries) gets T + e random message coefficients after its data
(e = `HIDING_EXTRA` = 2C + 1, C = `HIDING_CLAIMS`), and one fully random row r_0 is
appended; the rows X (k + T + e entries) are zero-padded to K (the next power of two)
and encoded to L positions (`HidingShape`: L = k·2^ρ, the binding variant's length,
when T + e ≤ k/8, so the encoding costs the same; T is the query count the true rate
(k + T + e)/L needs, ≥ ``num_queries``); one Merkle tree over the columns (m + 1
entries), and the digest carries a hiding mark.  No table is opened directly.  Open
(the binding variant's column form, masked by random columns): claim j's column mask is
τ_j = X[:, k+2j] + φ·X[:, k+2j+1] (two random coefficients of every row); the prover
sends σ_j = ⟨eq(a_j), τ_j⟩; per tensor α is drawn; the prover sends
y_j = M·eq(c_j) + α·τ_j = X·c'_j with c'_j = (eq(c_j) ‖ α at k+2j, αφ at k+2j+1 ‖ 0),
checked as ⟨eq(a_j), y_j⟩ = v_j + α·σ_j, and t_j = ⟨r_0, c'_j⟩; then β (m entries) and
w = r_0 + βᵀ·X, checked as ⟨w, c'_j⟩ = t_j + ⟨β, y_j⟩; at T queried columns the
verifier checks Enc(w) = Enc(r_0) + βᵀ·(the data rows' codewords).  Zero knowledge:
σ_j is uniform (τ_j is), y_j uniform subject to its check (α ≠ 0), w uniform (r_0),
t_j fixed by its check; a row's T opened positions are uniform given y (Vandermonde on
the T coefficients no claim uses) and its unopened positions are uniform given the whole
opening (the one extra coefficient), so the Merkle leaves of unopened columns are hashes
of unpredictable inputs.  Soundness: a false v_j needs σ_j with v + ασ = v' + ασ' for α
drawn after σ (1/|E|); a y_j other than X·c'_j passes the w check for β drawn after
y_j and t_j with probability 1/|E|; w is tested against the committed rows as in the
binding variant, at rate (k + T + e)/L (the affine combination r_0 + βᵀ·rows).  Cost:
one more row, y (m entries) per claim and w of k + T + e entries — the binding
variant's opening plus 2 elements per claim, T − Q more columns and e + T more entries
in w.  Prover memory as in the binding variant: the state holds M (by reference when
read-only) and only the random coefficients (m·(T + e) + k + T + e elements, `HidingRand`),
never the padded (m + 1) × K message matrix; inside a scratch session a commitment
whose codewords and Merkle levels reach the threshold is encoded a slab of message rows
at a time into scratch files (the same commitment and opening bytes).

**Sum claims** (hiding variant only, `sum_claims`; docs/zero-knowledge.md §4): a
`SumClaim` Σ_j λ_j·t̃_{i_j}(p_j) = v over several tensors.  Its terms are grouped by
(tensor, row coordinates a); group g has the column vector c_g = Σ λ_j·eq(c_j) and
the next free column mask τ_g of its tensor.  One σ_s = Σ_g ⟨eq(a_g), τ_g⟩ per sum,
then its own α_s; per group y_g = M·c_g + α_s·τ_g and t_g = ⟨r_0, c'_g⟩, checked as
Σ_g ⟨eq(a_g), y_g⟩ = v + α_s·σ_s and, after β, like an ordinary claim's.  The y_g are
uniform and σ_s is fixed by the check, so no group's value is revealed; a false v
needs σ_s fitted to α_s (1/|E|).  Ordinary claims and groups share the C column masks.
"""

from __future__ import annotations

import contextlib
import math
import struct
from collections.abc import Mapping, Sequence
from fractions import Fraction
from functools import lru_cache
from typing import Any

import attrs
import numpy as np

from zklora.kernels import merkle, ntt
from zklora.kernels.goldilocks import P_INT
from zklora.zkcore import backend as compute
from zklora.zkcore import scratch, zk
from zklora.zkcore.commit import (
    CheckItem,
    CommitmentScheme,
    Evaluation,
    OpenItem,
    SumClaim,
    check_item,
    check_sum,
)
from zklora.zkcore.errors import ConfigError, ProverError, VerificationError
from zklora.zkcore.field import Field
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.transcript import ProverChannel, VerifierChannel

TAG = b"zklora/ligero/v1"
#: largest table (number of variables) the scheme accepts
MAX_VARS = 36
_RATES = {Fraction(1, 1 << r): r for r in range(1, 5)}
#: most column queries a statement may ask for (≥ 212 bits at any rate; the layout's
#: exact-rational cost model grows with Q, so the cap also bounds the verifier's work)
MAX_QUERIES = 512
#: largest ``security_bits`` (its query count stays ≤ MAX_QUERIES at every rate)
MAX_SECURITY = 192
#: RAM working set of a spilled commitment: codeword bytes per slab / column block
CHUNK_BYTES = 32 << 20
#: hiding variant: most claims one commitment can be opened at (two random columns each)
HIDING_CLAIMS = 8
#: hiding variant: random message coefficients per row beyond the T the queries use:
#: two per claim (its column mask) and one more, so that every unopened codeword
#: position of a row stays uniform given the whole opening (the Merkle leaves of
#: unopened columns are hashes of unpredictable inputs)
HIDING_EXTRA = 2 * HIDING_CLAIMS + 1


def num_queries(rate_log: int, security_bits: int) -> int:
    """Column queries for ≥ security_bits bits at rate 2^-rate_log:
    ⌈(λ + 1) / −log2(1 − δ/2)⌉ with δ = 1 − 2^-rate_log (unique-decoding analysis)."""
    delta = 1.0 - 2.0 ** -rate_log
    return math.ceil((security_bits + 1) / -math.log2(1.0 - delta / 2))


@attrs.frozen
class LigeroParams:
    """Validated parameters (config ``[commitment.ligero]``)."""

    rate_log: int = 2
    hash: str = "blake3"
    security_bits: int = 100
    num_queries: int = 149

    @classmethod
    def parse(cls, params: Mapping[str, Any]) -> LigeroParams:
        params = dict(params)
        unknown = set(params) - set(Ligero.param_names())
        if unknown:
            raise ConfigError(f"ligero: unknown parameter(s) {sorted(unknown)}; allowed: "
                              f"{', '.join(Ligero.param_names())}")
        rate_log = params.get("rate_log", 2)
        if "rate" in params:
            try:
                rate = Fraction(str(params["rate"]))
            except (ValueError, ZeroDivisionError):
                rate = None
            if rate not in _RATES:
                raise ConfigError(f"ligero: rate {params['rate']!r} not allowed; "
                                  "use 1/2, 1/4, 1/8 or 1/16")
            if "rate_log" in params and _RATES[rate] != rate_log:
                raise ConfigError("ligero: rate and rate_log disagree")
            rate_log = _RATES[rate]
        if not isinstance(rate_log, int) or isinstance(rate_log, bool) or not 1 <= rate_log <= 4:
            raise ConfigError(f"ligero: rate_log must be an integer in 1..4, got {rate_log!r}")
        h = params.get("hash", "blake3")
        if h not in merkle.HASHES:
            raise ConfigError(f"ligero: hash must be one of {sorted(merkle.HASHES)}, got {h!r}")
        sec = params.get("security_bits", 100)
        if not isinstance(sec, int) or isinstance(sec, bool) or not 1 <= sec <= MAX_SECURITY:
            raise ConfigError(f"ligero: security_bits must be an integer in 1..{MAX_SECURITY}, "
                              f"got {sec!r}")
        q = params.get("num_queries")
        if q is None:
            q = num_queries(rate_log, sec)
        elif not isinstance(q, int) or isinstance(q, bool) or not 1 <= q <= MAX_QUERIES:
            raise ConfigError(f"ligero: num_queries must be an integer in 1..{MAX_QUERIES}, "
                              f"got {q!r}")
        return cls(rate_log, h, sec, q)


@lru_cache(maxsize=4096)
def _distinct(N: int, draws: int) -> Fraction:
    """Expected number of distinct values among ``draws`` uniform draws from N."""
    return N - Fraction((N - 1) ** draws, N ** (draws - 1)) if draws else Fraction(0)


@attrs.frozen
class Layout:
    """Matrix shape and opening mode of a table of 2^n elements (a function of n and
    the parameters only, so prover and verifier agree)."""

    n: int
    log_cols: int
    rate_log: int
    direct: bool

    @property
    def cols(self) -> int:
        return 1 << self.log_cols

    @property
    def rows(self) -> int:
        return 1 << (self.n - self.log_cols)

    @property
    def depth(self) -> int:
        return self.log_cols + self.rate_log

    @property
    def length(self) -> int:
        """Codeword length L."""
        return self.cols << self.rate_log

    @staticmethod
    def opening_bytes(n: int, b: int, rate_log: int, queries: int) -> int:
        """Expected bytes of a single-claim opening with 2^b columns: w, one y, the
        distinct opened columns and the multi-proof digests (exact expectation over
        uniform queries, in rational arithmetic so every platform picks the same b)."""
        k, m = 1 << b, 1 << (n - b)
        depth = b + rate_log
        known = [_distinct(1 << (depth - lvl), queries) for lvl in range(depth + 1)]
        # siblings supplied at a level = 2·(distinct parents) − (distinct known nodes)
        sib = sum(2 * known[lvl + 1] - known[lvl] for lvl in range(depth))
        return int(16 * k + 16 * m + 8 * m * known[0] + 32 * sib)

    @classmethod
    @lru_cache(maxsize=1024)
    def choose(cls, n: int, p: LigeroParams) -> Layout:
        # smallest estimate; ties go to more columns (fewer rows to hash per leaf)
        cost, neg_b = min((cls.opening_bytes(n, b, p.rate_log, p.num_queries), -b)
                          for b in range(n + 1))
        return cls(n, -neg_b, p.rate_log, direct=8 * (1 << n) <= cost)


@attrs.frozen(eq=False)
class HidingRand:
    """The random part of a hiding commitment's message rows (module doc): ``rand``
    (m, T + e), the coefficients after each data row's k entries (claim j's column mask
    is its columns 2j, 2j + 1), and ``r0`` (k + T + e), the fully random last row."""

    rand: np.ndarray
    r0: np.ndarray


@attrs.define(eq=False)
class LigeroState:
    """Prover-only state of one commitment ("not to be shared with the verifier").

    ``encoded`` and ``levels`` are in RAM, or (large tables committed inside a
    `zklora.zkcore.scratch` session) ``None`` with ``spilled`` holding their scratch
    files; `columns` and `paths` read what an opening needs from either."""

    commitment: bytes
    layout: Layout
    #: (rows, cols) uint64: the table itself if it was given read-only, else a copy
    matrix: np.ndarray
    encoded: np.ndarray | None  # (L, rows): column i of the encoded matrix is row i here
    levels: list[np.ndarray] | None  # Merkle levels, leaves first
    #: (encoded as row slabs, levels) in scratch files, when spilled: slab g holds
    #: the codewords of a run of consecutive rows, as an (L, rows in the slab) array
    spilled: tuple[list[scratch.Spilled], list[scratch.Spilled]] | None = None
    #: hiding variant (module doc): the random coefficients of the m + 1 message rows
    #: [M | random; r_0]
    hiding: HidingRand | None = None

    def message_rows(self) -> np.ndarray:
        """The hiding variant's message rows X, (m + 1, k + T + e): [M | random; r_0]
        (built in RAM: for tests and small tables)."""
        h = self.hiding
        m, used = self.layout.rows, h.r0.shape[0]
        out = np.empty((m + 1, used), dtype=np.uint64)
        out[:m] = np.concatenate([np.asarray(self.matrix), h.rand], axis=1)
        out[m] = h.r0
        return out

    def columns(self, idx: np.ndarray) -> np.ndarray:
        """Columns ``idx`` of the encoded matrix (rows of ``encoded``), in RAM."""
        if self.spilled is not None:
            return _gather(self.spilled[0], np.asarray(idx, dtype=np.int64))
        return self.encoded[idx]

    def paths(self, idx: np.ndarray) -> bytes:
        """The Merkle multi-proof of columns ``idx``."""
        if self.spilled is None:
            return merkle.open_multi(self.levels, idx)
        with contextlib.ExitStack() as stack:
            levels = [stack.enter_context(h.mapped()) for h in self.spilled[1]]
            return merkle.open_multi(levels, idx)


def _max(M: np.ndarray) -> int:
    """The largest entry of M (a slab of rows at a time when M lies in a scratch file,
    `zklora.zkcore.scratch.drop`, so it is never resident whole)."""
    if not scratch.is_mapped(M):
        return int(M.max()) if M.size else 0
    per = max(1, CHUNK_BYTES // max(1, 8 * M.shape[1]))
    out = 0
    for r0 in range(0, M.shape[0], per):
        out = max(out, int(M[r0:r0 + per].max()))
        scratch.drop(M)
    return out


def _gather(slabs: Sequence[scratch.Spilled], idx) -> np.ndarray:
    """Columns ``idx`` (an index array or a slice) of an encoded matrix stored as row
    slabs: (len(idx), rows)."""
    parts = []
    for h in slabs:
        with h.mapped() as mm:
            parts.append(np.array(mm[idx]))
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


#: φ, the generator of goldilocks-ext2 over goldilocks (E = F[φ]; an element a + φ·b is
#: stored as (a, b))
_PHI = np.array([0, 1], dtype=np.uint64)


@attrs.frozen
class HidingShape:
    """The code of a hiding commitment: k data and T random coefficients per row
    (``used`` = k + T), zero-padded to K (a power of two) and encoded at rate_log so
    that the codeword has L = K·2^rate_log entries; T queries; Merkle ``depth``."""

    k: int
    T: int
    K: int
    L: int
    rate_log: int
    depth: int
    #: random coefficients per row beyond the T the queries use: two per claim (the
    #: claim's column mask τ_j) and one that no message reveals (`HIDING_EXTRA`)
    extra: int = 0

    @property
    def used(self) -> int:
        return self.k + self.T + self.extra


class Ligero(CommitmentScheme):
    """Reed–Solomon + Merkle multilinear commitment (see module doc)."""

    name = "ligero"
    max_vars = MAX_VARS
    fields = ("goldilocks",)

    @property
    def hiding(self) -> bool:
        """Hiding inside a zero-knowledge session (module doc), binding only outside."""
        return zk.enabled()

    @property
    def sum_claims(self) -> bool:
        """`SumClaim`s are opened by the hiding variant only (module doc, "Sum claims")."""
        return zk.enabled()

    def __init__(self, field: Field, params: Mapping[str, Any] | None = None):
        super().__init__(field, params)
        if not self.supports(field):
            raise ConfigError(f"ligero works over goldilocks only, not {field.name}")
        self.cfg = LigeroParams.parse(self.params)
        self._layouts: dict[int | tuple[str, int], Layout] = {}

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        return ("rate_log", "rate", "hash", "security_bits", "num_queries")

    # -- layout and hashing -----------------------------------------------------------
    def layout(self, n: int) -> Layout:
        if n not in self._layouts:
            self._layouts[n] = Layout.choose(n, self.cfg)
        return self._layouts[n]

    def commitment_size(self, num_vars: int) -> int:
        return 32

    def query_bits(self) -> float:
        """−log2 of the chance that Q queries miss a cheat: Q·(−log2(1 − δ/2)),
        δ = 1 − 2^-ρ (module doc; 0 bits of error once Q covers the whole codeword)."""
        delta = 1.0 - 2.0 ** -self.cfg.rate_log
        return self.cfg.num_queries * -math.log2(1.0 - delta / 2)

    def soundness(self, challenge_field: Field, elements: int | None = None):
        """Query term (named after the parameter that set Q), Merkle hash term and, for
        a graph of at most ``elements`` claims (`security.claim_bound`), the algebraic
        term: L/|E| for the proximity gap of the longest codeword L any table can have
        (2^MAX_VARS entries) plus 1/|E| per claim."""
        from zklora.zkcore import security

        p = self.cfg
        rate = f"rate 1/{1 << p.rate_log}"
        if "num_queries" in self.params:
            name = f"ligero num_queries = {p.num_queries} ({rate})"
        elif "security_bits" in self.params:
            name = (f"ligero security_bits = {p.security_bits} "
                    f"(num_queries = {p.num_queries}, {rate})")
        else:
            name = f"ligero num_queries = {p.num_queries} ({rate}, rate_log = {p.rate_log})"
        terms = [security.Term(self.query_bits(), name,
                               "column queries, unique-decoding proximity test"),
                 security.hash_term(p.hash, "ligero Merkle")]
        if elements is not None:
            L = Layout.choose(MAX_VARS, p).length  # the longest codeword of any table
            terms.append(security.schwartz_zippel(
                challenge_field, L + int(elements),
                f"ligero proximity gap in {challenge_field.name} (codeword length ≤ {L})"))
        return terms

    def _digest(self, lay: Layout, root: bytes, hiding: bool = False) -> bytes:
        head = TAG + self.cfg.hash.encode() + struct.pack("<BBB", lay.rate_log, lay.n,
                                                          lay.log_cols)
        if hiding:
            head += b"/hiding/v2"
        return merkle.hasher(self.cfg.hash)(head + root)

    # -- hiding variant (module doc) ------------------------------------------------------
    def hiding_layout(self, n: int) -> Layout:
        """The matrix shape of a hiding commitment (never direct): the number of columns
        with the smallest expected single-claim opening — σ, y (m entries), t, w (k + T
        + extra entries), the T opened columns of m + 1 entries and the multi-proof
        (exact rational expectation, as `Layout.opening_bytes`)."""
        key = ("hiding", n)
        if key not in self._layouts:
            best = None
            for b in range(n + 1):
                lay = Layout(n, b, self.cfg.rate_log, False)
                sh = self.hiding_shape(lay)
                known = [_distinct(1 << (sh.depth - lvl), sh.T) for lvl in range(sh.depth + 1)]
                sib = sum(2 * known[lvl + 1] - known[lvl] for lvl in range(sh.depth))
                cost = int(48 + 16 * sh.used + 16 * lay.rows
                           + 8 * (lay.rows + 1) * known[0] + 32 * sib)
                if best is None or (cost, -b) < best[0]:
                    best = ((cost, -b), lay)
            self._layouts[key] = best[1]
        return self._layouts[key]

    def hiding_shape(self, lay: Layout) -> HidingShape:
        """The code of a hiding commitment (module doc): T + `HIDING_EXTRA` random
        coefficients per row and T queries, T ≥ the query count the true rate
        (k + T + extra)/L needs."""
        k, rho, extra = lay.cols, lay.rate_log, HIDING_EXTRA
        T = self.cfg.num_queries
        for _ in range(8):
            used = k + T + extra
            if 8 * (T + extra) <= k:
                L = k << rho
            else:
                L = 1 << (used << rho).bit_length()
            delta = 1.0 - used / L
            need = math.ceil((self.cfg.security_bits + 1) / -math.log2(1.0 - delta / 2))
            if need <= T:
                break
            T = need
        used = k + T + extra
        K = 1 << (used - 1).bit_length()
        return HidingShape(k, T, K, L, (L // K).bit_length() - 1, L.bit_length() - 1, extra)

    def _commit_hiding(self, M: np.ndarray, lay: Layout) -> tuple[bytes, LigeroState]:
        s = zk.current()
        if s is None:
            raise ProverError("ligero: a hiding commitment needs a ZK session")
        sh = self.hiding_shape(lay)
        m, k, used = lay.rows, lay.cols, sh.used
        rand = s.rng.elements(self.field, (m + 1) * used - m * k)
        hid = HidingRand(np.ascontiguousarray(rand[:m * (used - k)].reshape(m, used - k)),
                         np.ascontiguousarray(rand[m * (used - k):]))
        del rand

        def message(a: int, b: int) -> np.ndarray:
            """Message rows [a, b) of the (m + 1) × K matrix [M | random | 0; r_0 | 0]."""
            out = np.zeros((b - a, sh.K), dtype=np.uint64)
            hi = min(b, m)
            if hi > a:
                out[:hi - a, :k] = M[a:hi]
                out[:hi - a, k:used] = hid.rand[a:hi]
            if b > m:
                out[m - a, :used] = hid.r0
            out.flags.writeable = False
            return out

        store = scratch.current()
        if store is not None and store.wants(8 * sh.L * (m + 1) + 2 * merkle.DIGEST * sh.L):
            root, spilled = self._encode_spilled(m + 1, sh.L, sh.rate_log, message, M,
                                                 store)
            com = self._digest(lay, root, hiding=True)
            return com, LigeroState(com, lay, M, None, None, spilled, hiding=hid)
        full = message(0, m + 1)
        scratch.drop(M)     # M in a scratch file: copied, its pages given back
        enc, levels = self._encode_tree(compute.current(), full, sh.rate_log)
        del full
        com = self._digest(lay, merkle.root(levels), hiding=True)
        return com, LigeroState(com, lay, M, enc, levels, hiding=hid)

    def _hiding_queries(self, ch, shapes: Sequence[HidingShape]) -> dict[int, np.ndarray]:
        """T distinct-or-repeated column indices per codeword length (sorted, deduplicated:
        at most T distinct positions, which the T random coefficients cover)."""
        out = {}
        for L, T in sorted({(sh.L, sh.T) for sh in shapes}):
            idx = ch.challenge_indices(f"ligero/queries/{L}", L, T)
            out[L] = np.array(sorted(set(idx)), dtype=np.int64)
        return out

    @staticmethod
    def _tau(E: Field, X: np.ndarray, k: int, j: int) -> np.ndarray:
        """Claim j's column mask of the message rows X: τ_j = X[:, k+2j] + φ·X[:, k+2j+1]
        (extension elements, one per row)."""
        return np.ascontiguousarray(np.stack([X[:, k + 2 * j], X[:, k + 2 * j + 1]], axis=1))

    @staticmethod
    def _cdot(E: Field, row: np.ndarray, eqc: np.ndarray, k: int, j: int,
              alpha: np.ndarray) -> np.ndarray:
        """⟨row, c'_j⟩ for an extension row of used entries, c'_j = (eq(c_j) ‖ α at
        k+2j, α·φ at k+2j+1 ‖ 0)."""
        tail = E.add(row[k + 2 * j], E.mul(_PHI, row[k + 2 * j + 1]))
        return E.add(ntt.edot(np.ascontiguousarray(row[:k]), eqc), E.mul(alpha, tail))

    def _sum_groups(self, lays: Sequence[Layout], counts: Sequence[int],
                    sums: Sequence[SumClaim], err) -> list[list[tuple]]:
        """Each sum claim's terms grouped by (work item, row coordinates a): per group
        (item t, a, the column vector c = Σ λ·eq(c_term) of its terms, the index j of
        the column mask τ_j it uses — after the item's ``counts[t]`` ordinary claims and
        the groups of earlier sums).  More than `HIDING_CLAIMS` masks on one item are
        refused (``err``)."""
        E = self.field.ext
        nxt = list(counts)
        out = []
        for s in sums:
            groups: dict[tuple[int, bytes], list] = {}
            for term in s.terms:
                lay = lays[term.item]
                c, a = self._split(lay, Evaluation(term.point, term.coefficient))
                coef = np.asarray(term.coefficient, dtype=np.uint64)
                # eq(c) is zero outside the block its boolean top coordinates name (a
                # mask slot's terms: 2^8 of the row's entries): only that block is made
                b = len(c)
                while b and c[b - 1, 1] == 0 and c[b - 1, 0] in (0, 1):
                    b -= 1
                lo = sum(int(c[b + i, 0]) << (b + i) for i in range(len(c) - b))
                part = E.mul(ntt.eq_table(c[:b]), np.ascontiguousarray(
                    np.broadcast_to(coef, (1 << b,) + coef.shape)))
                key = (term.item, a.tobytes())
                if key not in groups:
                    groups[key] = [term.item, a, np.zeros((1 << len(c), 2), np.uint64)]
                vec = groups[key][2]
                vec[lo:lo + (1 << b)] = E.add(vec[lo:lo + (1 << b)], part)
            per = []
            for t, a, vec in groups.values():
                per.append((t, a, np.ascontiguousarray(vec, np.uint64), nxt[t]))
                nxt[t] += 1
            out.append(per)
        for t, n in enumerate(nxt):
            if n > HIDING_CLAIMS:
                raise err(f"ligero: {n} claims and sum-claim groups on hiding commitment "
                          f"{t}, at most {HIDING_CLAIMS}")
        return out

    def _open_hiding(self, ch: ProverChannel, work, sums: Sequence[SumClaim] = ()) -> None:
        E = self.field.ext
        be = compute.current()
        for _st, evs in work:
            if len(evs) > HIDING_CLAIMS:
                raise ProverError(f"ligero: {len(evs)} claims on one hiding commitment, at "
                                  f"most {HIDING_CLAIMS}")
        shapes = [self.hiding_shape(st.layout) for st, _ in work]
        groups = self._sum_groups([st.layout for st, _ in work], [len(e) for _, e in work],
                                  sums, ProverError)
        for st, evs in work:     # σ_j = ⟨eq(a_j), τ_j⟩, before α
            for j, ev in enumerate(evs):
                _, a = self._split(st.layout, ev)
                ch.send_field("ligero/zk/s", E,
                              be.edot(be.eq_table(a),
                                      be.borrow(self._tau(E, st.hiding.rand, 0, j))))
        for per in groups:       # one σ per sum claim: Σ_groups ⟨eq(a), τ⟩, before its α
            sig = E.scalar(0)
            for t, a, _, j in per:
                st = work[t][0]
                sig = E.add(sig, np.asarray(be.edot(be.eq_table(a), be.borrow(
                    self._tau(E, st.hiding.rand, 0, j)))))
            ch.send_field("ligero/zk/sum-s", E, sig)
        alphas = [ch.challenge("ligero/zk/alpha", E) for _ in work]
        sum_alphas = [ch.challenge("ligero/zk/sum-alpha", E) for _ in sums]
        for (st, evs), al in zip(work, alphas):
            k = st.layout.cols
            r0 = E.embed(st.hiding.r0)
            Md = be.borrow(st.matrix)
            for j, ev in enumerate(evs):
                c, _ = self._split(st.layout, ev)
                y = E.add(be.fetch(be.mat_evec(Md, be.eq_table(c))),
                          E.mul(self._tau(E, st.hiding.rand, 0, j), al))
                scratch.drop(st.matrix)
                ch.send_field("ligero/zk/y", E, y)
                ch.send_field("ligero/zk/t", E,
                              self._cdot(E, r0, ntt.eq_table(c), k, j, al))
            del Md
        for per, al in zip(groups, sum_alphas):   # y, t of each sum claim's groups
            for t, _, vec, j in per:
                st = work[t][0]
                k = st.layout.cols
                y = E.add(be.fetch(be.mat_evec(be.borrow(st.matrix), be.borrow(vec))),
                          E.mul(self._tau(E, st.hiding.rand, 0, j), al))
                scratch.drop(st.matrix)
                ch.send_field("ligero/zk/sum-y", E, y)
                ch.send_field("ligero/zk/sum-t", E,
                              self._cdot(E, E.embed(st.hiding.r0), vec, k, j, al))
        betas = [ch.challenges("ligero/beta", E, st.layout.rows) for st, _ in work]
        for (st, _), beta in zip(work, betas):
            # w = r_0 + βᵀ·[M | random]: the data columns from M (read by reference),
            # the random ones from the state
            bd = be.borrow(beta)
            head = be.fetch(be.evec_mat(bd, be.borrow(st.matrix)))
            scratch.drop(st.matrix)
            tail = be.fetch(be.evec_mat(bd, be.borrow(st.hiding.rand)))
            w = E.add(np.concatenate([np.asarray(head), np.asarray(tail)]),
                      E.embed(st.hiding.r0))
            ch.send_field("ligero/w", E, w)
        S = self._hiding_queries(ch, shapes)
        for (st, _), sh in zip(work, shapes):
            idx = S[sh.L]
            ch.send_field("ligero/columns", self.field, st.columns(idx))
            ch.send_bytes("ligero/paths", st.paths(idx))

    def _encode_row(self, sh: HidingShape, row: np.ndarray) -> np.ndarray:
        """Codeword of an extension row of ``sh.used`` entries (zero-padded to K)."""
        pad = np.zeros((sh.K, 2), dtype=np.uint64)
        pad[:sh.used] = row
        return ntt.rs_encode_ext(pad, sh.rate_log)

    def _verify_hiding(self, ch: VerifierChannel, work, sums: Sequence[SumClaim] = ()
                       ) -> None:
        F, E = self.field, self.field.ext
        lays = [self.hiding_layout(n) for _, n, _ in work]
        shapes = [self.hiding_shape(lay) for lay in lays]
        for t, (_, _, evs) in enumerate(work):
            if len(evs) > HIDING_CLAIMS:
                raise VerificationError(f"ligero: {len(evs)} claims on hiding commitment "
                                        f"{t}, at most {HIDING_CLAIMS}")
        groups = self._sum_groups(lays, [len(e) for _, _, e in work], sums,
                                  VerificationError)
        ss = [[ch.recv_field("ligero/zk/s", E, 1)[0] for _ in evs] for _, _, evs in work]
        sum_ss = [ch.recv_field("ligero/zk/sum-s", E, 1)[0] for _ in sums]
        alphas = [ch.challenge("ligero/zk/alpha", E) for _ in work]
        sum_alphas = [ch.challenge("ligero/zk/sum-alpha", E) for _ in sums]
        ys = []
        for t, ((_, _, evs), lay, al, sv) in enumerate(zip(work, lays, alphas, ss)):
            per = []
            for ev, s_j in zip(evs, sv):
                c, a = self._split(lay, ev)
                y = ch.recv_field("ligero/zk/y", E, lay.rows)
                t_j = ch.recv_field("ligero/zk/t", E, 1)[0]
                if not E.equal(ntt.edot(ntt.eq_table(a), y), E.add(ev.value, E.mul(al, s_j))):
                    raise VerificationError(f"ligero: wrong evaluation claimed for tensor {t}")
                per.append((ntt.eq_table(c), y, t_j))
            ys.append(per)
        # sum claim s: Σ_groups ⟨eq(a), y⟩ = v_s + α_s·σ_s; each group's (c, y, t) is
        # checked against the combined row below like an ordinary claim's
        sum_rows: list[list[tuple]] = [[] for _ in work]
        for s, (sc, per, al, sig) in enumerate(zip(sums, groups, sum_alphas, sum_ss)):
            acc = E.scalar(0)
            for t, a, vec, j in per:
                y = ch.recv_field("ligero/zk/sum-y", E, lays[t].rows)
                t_j = ch.recv_field("ligero/zk/sum-t", E, 1)[0]
                acc = E.add(acc, ntt.edot(ntt.eq_table(a), y))
                sum_rows[t].append((vec, y, t_j, j, al))
            if not E.equal(acc, E.add(sc.value, E.mul(al, sig))):
                raise VerificationError(f"ligero: wrong value claimed for sum claim {s}")
        betas = [ch.challenges("ligero/beta", E, lay.rows) for lay in lays]
        ws = []
        for t, (lay, sh, al, beta, per) in enumerate(zip(lays, shapes, alphas, betas, ys)):
            w = ch.recv_field("ligero/w", E, sh.used)
            for j, (eqc, y, t_j) in enumerate(per):
                if not E.equal(self._cdot(E, w, eqc, lay.cols, j, al),
                               E.add(t_j, ntt.edot(beta, y))):
                    raise VerificationError(f"ligero: combined row of tensor {t} is "
                                            "inconsistent with its evaluations")
            for vec, y, t_j, j, sal in sum_rows[t]:
                if not E.equal(self._cdot(E, w, vec, lay.cols, j, sal),
                               E.add(t_j, ntt.edot(beta, y))):
                    raise VerificationError(f"ligero: combined row of tensor {t} is "
                                            "inconsistent with a sum claim")
            ws.append(w)
        S = self._hiding_queries(ch, shapes)
        for t, ((com, _, _), lay, sh, beta, w) in enumerate(
                zip(work, lays, shapes, betas, ws)):
            idx = S[sh.L]
            m = lay.rows
            cols = ch.recv_field("ligero/columns", F, len(idx) * (m + 1)).reshape(
                len(idx), m + 1)
            proof = ch.recv_bytes("ligero/paths",
                                  merkle.DIGEST * merkle.num_siblings(idx, sh.depth))
            leaves = merkle.hash_leaves(cols, self.cfg.hash)
            root = merkle.root_from_multi([leaves[i].tobytes() for i in range(len(idx))],
                                          idx, sh.depth, proof, self.cfg.hash)
            if self._digest(lay, root, hiding=True) != com:
                raise VerificationError(f"ligero: opened columns of tensor {t} do not match "
                                        "its commitment")
            expect = E.add(ntt.mat_evec(np.ascontiguousarray(cols[:, :m]), beta),
                           E.embed(cols[:, m]))
            if not np.array_equal(expect, self._encode_row(sh, w)[idx]):
                raise VerificationError(f"ligero: proximity check failed for tensor {t}")

    def _encode_tree(self, be: compute.ComputeBackend | None, M: np.ndarray,
                     rate_log: int) -> tuple[np.ndarray, list[np.ndarray]]:
        """The codewords (L, rows) of the rows of M at rate 2^-rate_log and the Merkle
        levels over them (leaf q = H(codeword column q)), as host arrays.  ``be``: the
        compute backend that encodes and hashes (a BLAKE3 tree: ``rs_encode``,
        ``blake3_rows``, ``merkle_levels``; a SHA-256 tree is hashed on the host), or
        ``None`` for the `zklora.kernels` functions themselves (the verifier)."""
        if be is None:
            enc = ntt.rs_encode(M, rate_log)
            return enc, merkle.build(merkle.hash_leaves(enc, self.cfg.hash), self.cfg.hash)
        enc = be.rs_encode(be.borrow(M), rate_log)
        if self.cfg.hash != "blake3":
            enc = be.fetch(enc)
            return enc, merkle.build(merkle.hash_leaves(enc, self.cfg.hash), self.cfg.hash)
        levels = be.merkle_levels(be.blake3_rows(self._leaf_bytes(enc)))
        return be.fetch(enc), [be.fetch(lvl) for lvl in levels]

    @staticmethod
    def _leaf_bytes(enc):
        """The leaf preimages of codewords (L, rows): each column's little-endian words,
        as an (L, 8·rows) byte view (no copy; a backend's device array stays there)."""
        return enc.view(np.uint8).reshape(enc.shape[0], 8 * enc.shape[1])

    def _commit_matrix(self, lay: Layout, M: np.ndarray,
                       be: compute.ComputeBackend | None = None):
        """(commitment, codewords, levels) of M; ``be`` as in `_encode_tree` (``None``:
        the verifier, re-committing a directly opened table on the host)."""
        enc, levels = self._encode_tree(be, M, lay.rate_log)
        return self._digest(lay, merkle.root(levels)), enc, levels

    def _commit_spilled(self, lay: Layout, M: np.ndarray, store: scratch.Store):
        """`_commit_matrix` with bounded memory (`_encode_spilled`): the same commitment.
        Returns (commitment, (slabs, levels))."""
        root, spilled = self._encode_spilled(lay.rows, lay.length, lay.rate_log,
                                             lambda a, b: M[a:b], M, store)
        return self._digest(lay, root), spilled

    def _encode_spilled(self, rows: int, L: int, rate_log: int, message, M: np.ndarray,
                        store: scratch.Store):
        """`_encode_tree` with bounded memory: the message rows (``message(a, b)``: rows
        [a, b) as a uint64 array) are encoded to length L a slab at a time (≤
        `CHUNK_BYTES` of codewords each) straight into scratch files, the leaves hashed a
        block of columns at a time from them, and the Merkle levels spilled too (``M``:
        the table the rows are read from, given back after each slab when it is a
        scratch map).  Returns (Merkle root, (slabs, levels))."""
        be = compute.current()
        per = max(1, min(rows, CHUNK_BYTES // (8 * L)))
        slabs = []
        for r0 in range(0, rows, per):
            enc = be.fetch(be.rs_encode(be.borrow(message(r0, min(rows, r0 + per))),
                                        rate_log))
            slabs.extend(store.save([enc], tag="ligero-enc"))
            del enc
            scratch.drop(M)     # M in a scratch file: its rows leave the resident set
        blake = self.cfg.hash == "blake3"
        qb = max(1, min(L, CHUNK_BYTES // (8 * rows)))
        leaves = np.empty((L, merkle.DIGEST), dtype=np.uint8)
        for q0 in range(0, L, qb):
            cols = _gather(slabs, slice(q0, min(L, q0 + qb)))
            leaves[q0:q0 + cols.shape[0]] = (
                be.fetch(be.blake3_rows(be.borrow(self._leaf_bytes(cols)))) if blake
                else merkle.hash_leaves(cols, self.cfg.hash))
        if blake:
            levels = [be.fetch(lvl) for lvl in be.merkle_levels(be.borrow(leaves))]
        else:
            levels = merkle.build(leaves, self.cfg.hash)
        del leaves
        return merkle.root(levels), (slabs, store.save(levels, tag="ligero-merkle"))

    def _statement(self, work: Sequence[tuple[bytes, int, Sequence[Evaluation]]],
                   sums: Sequence[SumClaim] = ()) -> bytes:
        """The batch's claims as absorbed before the opening; sum claims (``sums``, terms
        naming work items) after the items, only when there are any."""
        E = self.field.ext
        out = bytearray(TAG + struct.pack("<BQQ", self.cfg.rate_log, self.cfg.num_queries,
                                          len(work)))
        for com, n, evs in work:
            out += com + struct.pack("<QQ", n, len(evs))
            for ev in evs:
                out += E.encode(ev.point) + E.encode(ev.value)
        if sums:
            out += b"/sums" + struct.pack("<Q", len(sums))
            for sc in sums:
                out += struct.pack("<Q", len(sc.terms)) + E.encode(sc.value)
                for term in sc.terms:
                    out += (struct.pack("<Q", term.item) + E.encode(term.point)
                            + E.encode(term.coefficient))
        return bytes(out)

    def _queries(self, ch, lengths) -> dict[int, np.ndarray]:
        out = {}
        for L in sorted(lengths):
            if self.cfg.num_queries >= L:
                out[L] = np.arange(L, dtype=np.int64)
            else:
                idx = ch.challenge_indices(f"ligero/queries/{L}", L, self.cfg.num_queries)
                out[L] = np.array(sorted(set(idx)), dtype=np.int64)
        return out

    # -- prover -------------------------------------------------------------------------
    def commit(self, values: np.ndarray) -> tuple[bytes, LigeroState]:
        a = np.asarray(values)
        if a.dtype.kind not in "ui":
            raise ProverError(f"ligero: cannot commit to an array of dtype {a.dtype}")
        flat = a.reshape(-1)
        N = flat.shape[0]
        if N < 1 or N & (N - 1):
            raise ProverError(f"ligero: table length {N} is not a power of two")
        n = N.bit_length() - 1
        if n > MAX_VARS:
            raise ProverError(f"ligero: table of 2^{n} elements exceeds 2^{MAX_VARS}")
        if a.dtype.kind == "i" and N and int(flat.min()) < 0:
            raise ProverError("ligero: negative value; commit to field elements")
        hiding = zk.enabled()
        lay = self.hiding_layout(n) if hiding else self.layout(n)
        # a read-only uint64 table is kept by reference (its owner promises not to change
        # it, e.g. the kernel's stacked vector); anything else is copied
        shared = (a.dtype == np.uint64 and not a.flags.writeable
                  and flat.flags.c_contiguous)
        M = flat.reshape(lay.rows, lay.cols) if shared else np.array(
            flat.reshape(lay.rows, lay.cols), dtype=np.uint64, copy=True)
        if _max(M) >= P_INT:
            raise ProverError("ligero: value >= p; commit to canonical field elements")
        if hiding:
            return self._commit_hiding(M, lay)
        store = scratch.current()
        if not lay.direct and store is not None and store.wants(
                8 * lay.length * lay.rows + 2 * merkle.DIGEST * lay.length):
            com, spilled = self._commit_spilled(lay, M, store)
            return com, LigeroState(com, lay, M, None, None, spilled)
        com, enc, levels = self._commit_matrix(lay, M, compute.current())
        if lay.direct:
            return com, LigeroState(com, lay, M, None, None)
        return com, LigeroState(com, lay, M, enc, levels)

    @staticmethod
    def _split(lay: Layout, ev: Evaluation) -> tuple[np.ndarray, np.ndarray]:
        """(column coordinates c, row coordinates a) of a claim's point."""
        point = np.asarray(ev.point, dtype=np.uint64)
        return point[: lay.log_cols], point[lay.log_cols:]

    @staticmethod
    def _work_sums(items, sums: Sequence[SumClaim], keep) -> tuple[list[int],
                                                                   list[SumClaim]]:
        """(indices of the items opened: those with claims or sum-claim terms, the sums
        with their terms' items renumbered into that list)."""
        used = {term.item for sc in sums for term in sc.terms}
        idx = [i for i, it in enumerate(items) if keep(it) or i in used]
        pos = {i: k for k, i in enumerate(idx)}
        return idx, [SumClaim([attrs.evolve(term, item=pos[term.item]) for term in sc.terms],
                              sc.value) for sc in sums]

    def open(self, ch: ProverChannel, items: Sequence[OpenItem],
             sums: Sequence[SumClaim] = ()) -> None:
        F, E = self.field, self.field.ext
        for it in items:
            if not isinstance(it.state, LigeroState):
                raise ProverError("ligero: open() needs states returned by Ligero.commit")
            for ev in it.evals:
                if (E.shape(np.asarray(ev.point)) != (it.state.layout.n,)
                        or np.asarray(ev.value).shape != E.elem_shape):
                    raise ProverError(f"ligero: claim of the wrong shape for a table of "
                                      f"2^{it.state.layout.n} elements")
        if sums and not zk.enabled():
            raise ProverError("ligero: sum claims are opened by the hiding variant only")
        for sc in sums:
            for term in sc.terms:
                if not 0 <= term.item < len(items):
                    raise ProverError("ligero: a sum claim's term names no item")
                n = items[term.item].state.layout.n
                if E.shape(np.asarray(term.point)) != (n,):
                    raise ProverError("ligero: a sum claim's term of the wrong shape")
        idx, sums = self._work_sums(items, sums, lambda it: bool(it.evals))
        work = [(items[i].state, list(items[i].evals)) for i in idx]
        ch.observe_public("ligero/batch",
                          self._statement([(s.commitment, s.layout.n, e) for s, e in work],
                                          sums))
        if zk.enabled():
            if any(st.hiding is None for st, _ in work):
                raise ProverError("ligero: a zero-knowledge opening of a non-hiding "
                                  "commitment")
            self._open_hiding(ch, work, sums)
            return
        if any(st.hiding is not None for st, _ in work):
            raise ProverError("ligero: a hiding commitment opened outside a ZK session")
        for st, _ in work:
            if st.layout.direct:
                ch.send_field("ligero/tensor", F, st.matrix)
        queried = [(st, evs) for st, evs in work if not st.layout.direct]
        be = compute.current()
        for st, evs in queried:
            Md = be.borrow(st.matrix)
            for ev in evs:
                c, _ = self._split(st.layout, ev)
                ch.send_field("ligero/y", E, be.fetch(be.mat_evec(Md, be.eq_table(c))))
                scratch.drop(st.matrix)
            del Md
        betas = [ch.challenges("ligero/beta", E, st.layout.rows) for st, _ in queried]
        for (st, _), beta in zip(queried, betas):
            ch.send_field("ligero/w", E,
                          be.fetch(be.evec_mat(be.borrow(beta), be.borrow(st.matrix))))
            scratch.drop(st.matrix)
        S = self._queries(ch, {st.layout.length for st, _ in queried})
        for st, _ in queried:
            idx = S[st.layout.length]
            ch.send_field("ligero/columns", F, st.columns(idx))
            ch.send_bytes("ligero/paths", st.paths(idx))

    # -- verifier -----------------------------------------------------------------------
    def _check_item(self, k: int, it: CheckItem) -> tuple[bytes, int, list[Evaluation]]:
        return check_item("ligero", self.field.ext, k, it, MAX_VARS, P_INT)

    def verify(self, ch: VerifierChannel, items: Sequence[CheckItem],
               sums: Sequence[SumClaim] = ()) -> None:
        F, E = self.field, self.field.ext
        checked = [self._check_item(k, it) for k, it in enumerate(items)]
        if sums and not zk.enabled():
            raise VerificationError("ligero: sum claims are opened by the hiding variant "
                                    "only")
        sums = [check_sum("ligero", E, k, sc, [n for _, n, _ in checked], P_INT)
                for k, sc in enumerate(sums)]
        idx, sums = self._work_sums(checked, sums, lambda w: bool(w[2]))
        work = [checked[i] for i in idx]
        ch.observe_public("ligero/batch", self._statement(work, sums))
        if zk.enabled():
            self._verify_hiding(ch, work, sums)
            return
        for t, (com, n, evs) in enumerate(work):
            lay = self.layout(n)
            if not lay.direct:
                continue
            M = ch.recv_field("ligero/tensor", F, 1 << n).reshape(lay.rows, lay.cols)
            if self._commit_matrix(lay, M)[0] != com:
                raise VerificationError(f"ligero: opened tensor {t} does not match its "
                                        "commitment")
            for ev in evs:
                c, a = self._split(lay, ev)
                v = ntt.edot(ntt.eq_table(a), ntt.mat_evec(M, ntt.eq_table(c)))
                if not E.equal(v, ev.value):
                    raise VerificationError(f"ligero: wrong evaluation claimed for tensor {t}")
        queried = [(t, com, self.layout(n), evs) for t, (com, n, evs) in enumerate(work)
                   if not self.layout(n).direct]
        ys: list[list[tuple[np.ndarray, np.ndarray]]] = []
        for t, _, lay, evs in queried:
            per = []
            for ev in evs:
                c, a = self._split(lay, ev)
                y = ch.recv_field("ligero/y", E, lay.rows)
                if not E.equal(ntt.edot(ntt.eq_table(a), y), ev.value):
                    raise VerificationError(f"ligero: wrong evaluation claimed for tensor {t}")
                per.append((ntt.eq_table(c), y))
            ys.append(per)
        betas = [ch.challenges("ligero/beta", E, lay.rows) for _, _, lay, _ in queried]
        ws = []
        for (t, _, lay, _), beta, per in zip(queried, betas, ys):
            w = ch.recv_field("ligero/w", E, lay.cols)
            for eqc, y in per:
                if not E.equal(ntt.edot(w, eqc), ntt.edot(beta, y)):
                    raise VerificationError(f"ligero: combined row of tensor {t} is "
                                            "inconsistent with its evaluations")
            ws.append(w)
        S = self._queries(ch, {lay.length for _, _, lay, _ in queried})
        for (t, com, lay, _), beta, w in zip(queried, betas, ws):
            idx = S[lay.length]
            cols = ch.recv_field("ligero/columns", F, len(idx) * lay.rows)
            cols = cols.reshape(len(idx), lay.rows)
            proof = ch.recv_bytes("ligero/paths",
                                  merkle.DIGEST * merkle.num_siblings(idx, lay.depth))
            leaves = merkle.hash_leaves(cols, self.cfg.hash)
            root = merkle.root_from_multi([leaves[i].tobytes() for i in range(len(idx))],
                                          idx, lay.depth, proof, self.cfg.hash)
            if self._digest(lay, root) != com:
                raise VerificationError(f"ligero: opened columns of tensor {t} do not match "
                                        "its commitment")
            expect = ntt.mat_evec(cols, beta)
            got = ntt.rs_encode_ext(w, lay.rate_log)[idx]
            if not np.array_equal(expect, got):
                raise VerificationError(f"ligero: proximity check failed for tensor {t}")


@hookimpl
def zk_commitment_schemes():
    return [Ligero]
