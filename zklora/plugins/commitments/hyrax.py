"""The ``hyrax`` commitment scheme: Pedersen row commitments over BLS12-381 G1 opened by a
Bulletproofs-style inner-product argument (Wahby et al., S&P 2018; Bünz et al. 2018).

Layout.  A table t of 2^n elements of Fr is the matrix M (2^(n−c) rows × 2^c columns,
c = ⌈n/2⌉) of its row-major flat index, so the column bits are the point coordinates
0..c−1 and the row bits c..n−1 (§3.2): t̃(r) = eq(r_row)ᵀ · M · eq(r_col).

Commitment.  C_i = Σ_j M[i,j]·G_j for every row i, the G_j hash-to-curve points of a
public seed (`zklora.kernels.bls_msm.generators`), so nobody knows a discrete-log
relation among them.  Bytes: the rows' compressed points, 48 bytes each.

Opening (relation proven).  For every item (commitment C, claims {t̃(r_k) = v_k}):
C commits to a table t with t̃(r_k) = v_k for every k.  Batched per number of
variables n (all items of one size share one argument):

1. The statement (every commitment, point and value) is absorbed.
2. If the group's claims are not all at one point, a reduction sumcheck
   Σ_x Σ_t t_t(x)·Σ_k ρ^(k) eq(r_{t,k}, x) = Σ ρ^(k) v_{t,k} moves them all to one
   point r* and leaves the claims w_t = t̃_t(r*) (sent by the prover); the verifier
   evaluates the eq combinations itself.
3. With σ random: a = Σ_t σ^t eq(r*_row)ᵀ M_t, b = eq(r*_col), v = Σ_t σ^t w_t and
   P = Σ_t σ^t Σ_i eq(r*_row)_i C_{t,i} = Σ_j a_j G_j, which the verifier computes.
4. An inner-product argument proves knowledge of a with P = ⟨a, G⟩ and ⟨a, b⟩ = v:
   with U' = x₀·U (U a separate hash-to-curve point), log₂(2^c) rounds send
   L = ⟨a_L, G_R⟩ + ⟨a_L, b_R⟩U', R = ⟨a_R, G_L⟩ + ⟨a_R, b_L⟩U', fold with x
   (a' = x·a_L + x⁻¹·a_R, b' = x⁻¹·b_L + x·b_R, G' = x⁻¹·G_L + x·G_R), and the prover
   finally sends the scalar a.  The verifier checks, in one MSM,
   P + v·U' + Σ (x²L + x⁻²R) = a·(Σ_j s_j G_j) + a·b_final·U',
   with s_j = Π x^(±1) by the bits of j and b_final = Π ((1 − r_top)x⁻¹ + r_top·x).

Proof per group: [n rounds × 2 scalars + one scalar per item, only if reduced]
+ 2c points + 1 scalar.

Zero knowledge (inside a `zklora.zkcore.zk` session; ``hiding`` is then true; the
binding variant above is unchanged outside one, byte for byte).  H is a further
hash-to-curve point (`bls_msm.blinding_generator`: the hash of seed ‖ "/blind"), and all
prover randomness comes from the session's `zk.MaskRng` (the OS), never the transcript.

* Commitment: C_i = ⟨M[i], G⟩ + β_i·H with β_i fresh (perfectly hiding).
* Opening, the statement absorbed with the tag ``hyrax/zk/v1``:
  - one point: σ as above, a = Σ_t σ^t eq(r_row)ᵀ M_t, v = Σ σ^t v_t (public claims),
    P = Σ_t σ^t Σ_i eq(r_row)_i C_{t,i} of blind β = Σ_t σ^t Σ_i eq(r_row)_i β_{t,i};
  - several points: after ρ the prover draws a mask g(x) = Σ_i g_i(x_i), g_i random of
    degree 2 (3n coefficients c), sends its Pedersen commitment
    C_g = Σ c_k·G_{2^c + k} + β_g·H and G = Σ_x g(x), draws ρ_g and runs the reduction
    sumcheck of F + ρ_g·g for H + ρ_g·G (`zk.ProverMask`, as the kernel's ZK sumchecks)
    **without sending finals**; the verifier ends with the running claim v and the
    point r*, and e_t = Σ_k ρ^(k) eq(r_{t,k}, r*) (public).  The final check
    Σ_t e_t·t̃_t(r*) + ρ_g·g(r*) = v is one inner product of length N = 2^⌈log(2^c+3n)⌉:
    a = (Σ_t e_t eq(r*_row)ᵀ M_t ‖ ρ_g·c ‖ 0), b = (eq(r*_col) ‖ (1, r*_i, r*_i²)_i ‖ 0),
    P = Σ_t e_t Σ_i eq(r*_row)_i C_{t,i} + ρ_g·C_g of blind Σ_t e_t(…) + ρ_g·β_g.
  - the IPA is blinded: L = ⟨a_L, G_R⟩ + c_L·U' + λ·H, R = ⟨a_R, G_L⟩ + c_R·U' + μ·H
    (λ, μ fresh), the blind folds as β' = β + x²λ + x⁻²μ, and instead of a the prover
    proves knowledge of (a, β) with Q = a·(G_f + b_f·U') + β·H, Q the folded
    P + v·U' + Σ(x²L + x⁻²R), by a Schnorr proof: T = k_a·(G_f + b_f·U') + k_β·H,
    challenge e, z_a = k_a + e·a, z_β = k_β + e·β; the verifier checks
    z_a·(Σ_j s_j G_j + b_f·U') + z_β·H = T + e·Q in one MSM.
* Zero knowledge: the row commitments, C_g, every L and R (fresh λ, μ) and z_a, z_β
  (fresh k_a, k_β) are uniform and independent; T is then fixed by the check; G and the
  round messages are uniform (per round, the 2 free values of ρ_g·g_j with g_j(0)+g_j(1)
  fixed, and G by Σ_i (g_i(0)+g_i(1))).  A simulator samples all of them uniformly and
  solves T: statistical distance 0 given ρ_g ≠ 0 and no zero IPA challenge (≤ 2^-250).
  docs/zero-knowledge.md §5.4 has the argument.
* Soundness: the blinded IPA with the Schnorr end is an argument of knowledge of (a, β)
  under discrete log among G, U, H; the masked reduction as the kernel's (g is bound
  by C_g and G is sent before ρ_g; F + ρ_g·g has degree ≤ 2 per variable, as the
  rounds).  A row commitment with components beyond G_0..G_{2^c−1} opens at no single
  point and, reduced, as the hypercube values of the degree-2 polynomial it fixes: it
  still binds to one table.  Proof per group: [C_g + 1 + 2n scalars if reduced]
  + 2 log N points + T + 2 scalars.

Sum claims (hiding variant only, `sum_claims`; docs/zero-knowledge.md §5.2, §5.4): a
`SumClaim` Σ_l c_l·t̃_{i_l}(p_l) = v_j over items of one or several sizes, opened without
revealing any term nor any size's partial sum u_{j,n} = Σ_{l: |i_l| = 2^n} c_l·t̃_{i_l}(p_l).

* Hidden partial values.  After the statement (which then absorbs the sums too), for
  each sum claim j spanning sizes n_1 < … < n_m the prover sends, for every size but the
  last, V_{j,n} = u_{j,n}·U + γ_{j,n}·H (γ fresh); the last one is implied,
  V_{j,n_m} = v_j·U − Σ V_{j,n} (blind −Σγ).  A claim on one size sends nothing
  (V = v_j·U).
* Per size group: the group takes the reduced path whenever a sum claim has terms in
  it.  After the claims' ρ^k (as above), sum claim j gets the next power μ_j, and its
  terms join the reduction's weights: W_t += μ_j·c_l·eq(p_l, ·).  The claim of the
  masked reduction is H = Σ ρ^k v_k + Σ_j μ_j·u_{j,n}, of which the verifier knows the
  first part only; the round folding is affine in H with slope A = Π_j r_j(2 − r_j)
  (the Lagrange weight of g(1)), so the verifier folds the known part and the IPA's
  value is v·U' with v·U = (folded known part)·U + A·Σ_j μ_j·(the V terms of group n).
  The prover's IPA blind gains x₀·A·Σ_j μ_j·γ_{j,n} (`ipa_prove_zk` ``blind_u``), the
  verifier puts the V's into the final MSM (`ipa_verify_zk` ``v_points``).
* Zero knowledge: the V's are uniform and independent (fresh γ); everything else is the
  masked reduction and blinded IPA above, so the simulator samples the V's as well and
  nothing but v_j is revealed.  Soundness: V binds u (discrete log among G, U, H); the
  masked reduction is sound for the hidden claim H fixed by the V's and the public
  claims before ρ (μ_j are powers of ρ, so with u_{j,n} wrong the group's claim is
  wrong except with probability ≤ (claims + sums)/r); the IPA's value is v_final by the
  extraction argument above, with V's G-components caught by x₀ (a G-component d of
  the value point shifts ⟨a, b⟩ by x₀·⟨d, b⟩, x₀ drawn after d); and Σ_n u_{j,n} = v_j
  by construction of the last V.  Cost per sum claim: one point per extra size.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from zklora.kernels import bls_msm
from zklora.kernels.bls_msm import POINT_BYTES, R
from zklora.zkcore import mle, sumcheck, zk
from zklora.zkcore.commit import CheckItem, CommitmentScheme, OpenItem, SumClaim
from zklora.zkcore.errors import (
    PluginError,
    ProofFormatError,
    ProverError,
    VerificationError,
    ZkLoraError,
)
from zklora.zkcore.field import Field
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.transcript import ProverChannel, VerifierChannel

DEFAULT_SEED = "zklora/hyrax/v1"
MAX_VARS = 40
MAX_SEED_CHARS = 128
#: conservative hardness (bits) of discrete log in BLS12-381 G1: Pollard rho costs
#: ≈ 2^127 on the 255-bit subgroup, but the pairing maps G1's DLP into F_p^12, where the
#: special tower NFS is estimated at ≈ 2^117–2^120 (Barbulescu–Duquesne 2019): take 117
DLOG_BITS = 117.0


@attrs.frozen
class Layout:
    """Matrix view of a table of 2^num_vars elements."""

    num_vars: int

    @property
    def col_vars(self) -> int:
        return (self.num_vars + 1) // 2

    @property
    def row_vars(self) -> int:
        return self.num_vars - self.col_vars

    @property
    def cols(self) -> int:
        return 1 << self.col_vars

    @property
    def rows(self) -> int:
        return 1 << self.row_vars


@attrs.define
class HyraxState:
    """Prover-side state of one commitment (not to be shared with the verifier)."""

    values: np.ndarray  # flat object array of canonical ints
    num_vars: int
    commitment: bytes
    #: per-row Pedersen blinds β_i (hiding variant), None for a binding-only commitment
    blinds: np.ndarray | None = None


@attrs.frozen
class _Claim:
    point: np.ndarray
    value: int


@attrs.frozen
class _Sum:
    """A validated `SumClaim`: terms (item, point, coefficient) and the value."""

    terms: list[tuple[int, np.ndarray, int]]
    value: int


@attrs.frozen
class _GroupSum:
    """Sum claim ``j``'s part in one size group: its terms there (member position, point,
    coefficient); ``points`` and ``signs`` the Pedersen commitments to hidden partial
    values that enter the group's value (verifier), ``blind`` their combined blind
    (prover); ``value`` the public part (v_j when the group is the claim's last size)."""

    j: int
    terms: list[tuple[int, np.ndarray, int]]
    value: int = 0
    points: list = attrs.field(factory=list)
    signs: list[int] = attrs.field(factory=list)
    blind: int = 0


# -- small field helpers (Python ints mod r) ------------------------------------------------


def _inv(x: int) -> int:
    return pow(x, R - 2, R)


def _vec(values) -> np.ndarray:
    out = np.empty(len(values), dtype=object)
    out[:] = [int(v) for v in values]
    return out


def _powers(x: int, n: int) -> list[int]:
    out, cur = [], 1
    for _ in range(n):
        out.append(cur)
        cur = cur * x % R
    return out


def _fold_weights(xs: Sequence[int]) -> np.ndarray:
    """s_j = Π_k (x_k if bit (K−1−k) of j else x_k⁻¹), K = len(xs): the coefficient of
    G_j in the generator left after folding with the round challenges xs."""
    s = _vec([1])
    for bit in range(len(xs)):
        x = xs[len(xs) - 1 - bit]
        s = np.concatenate([s * _inv(x) % R, s * x % R])
    return s


def _eq_fold(r_col: np.ndarray, xs: Sequence[int]) -> int:
    """⟨s, eq(r_col)⟩ in O(log): round k folds the top coordinate r_{K−1−k}."""
    out = 1
    K = len(xs)
    for k, x in enumerate(xs):
        rt = int(r_col[K - 1 - k])
        out = out * (((1 - rt) * _inv(x) + rt * x) % R) % R
    return out


def _element(v) -> int:
    """A table entry (int, numpy int or 0-d array of one) reduced mod r."""
    while isinstance(v, np.ndarray) and v.size == 1:
        v = v.reshape(())[()]
    if isinstance(v, bool) or not isinstance(v, int | np.integer):
        raise ProverError(f"hyrax: table entry {v!r} is not an integer (bls12-381-fr element)")
    return int(v) % R


def _canonical(v, err: type[ZkLoraError]) -> int:
    """A field element given as int / numpy int / 0-d array → int in [0, r), or ``err``."""
    while isinstance(v, np.ndarray):
        if v.size != 1:
            raise err(f"hyrax: expected a field element, got an array of shape {v.shape}")
        v = v.reshape(())[()]
    if isinstance(v, bool) or not isinstance(v, int | np.integer) or not 0 <= int(v) < R:
        raise err(f"hyrax: {v!r} is not a canonical bls12-381-fr element")
    return int(v)


def _scalar(ch_value) -> int:
    return int(np.asarray(ch_value).reshape(()))


# -- inner-product argument -------------------------------------------------------------


def ipa_prove(ch: ProverChannel, F: Field, label: str, gens: Sequence, U, a: np.ndarray,
              b: np.ndarray) -> None:
    """Prove knowledge of ``a`` with ⟨a, gens⟩ = P and ⟨a, b⟩ = v (both known to the
    verifier and absorbed before this call).  Folded generators are never formed: each
    round's L, R is one MSM over the original generators weighted by the running s."""
    n = len(gens)
    a = _vec(a)
    b = _vec(b)
    pts = np.empty(n, dtype=object)
    pts[:] = list(gens)
    x0 = _scalar(ch.challenge(f"{label}/x0", F))
    s = _vec([1] * n)
    j = np.arange(n)
    m = n
    rnd = 0
    while m > 1:
        h = m // 2
        aL, aR, bL, bR = a[:h], a[h:], b[:h], b[h:]
        cL = int(np.sum(aL * bR)) % R
        cR = int(np.sum(aR * bL)) % R
        jm = j % m
        hi = jm >= h
        lo = ~hi
        Lsc = a[jm[hi] - h] * s[hi] % R
        Rsc = a[jm[lo] + h] * s[lo] % R
        Lp = bls_msm.msm(pts[hi].tolist() + [U], list(Lsc) + [cL * x0 % R])
        Rp = bls_msm.msm(pts[lo].tolist() + [U], list(Rsc) + [cR * x0 % R])
        ch.send_bytes(f"{label}/LR{rnd}", bls_msm.encode_point(Lp) + bls_msm.encode_point(Rp))
        x = _scalar(ch.challenge(f"{label}/x{rnd}", F))
        if x == 0:
            raise ProverError("hyrax: zero IPA challenge (probability 2^-255)")
        xi = _inv(x)
        a = (aL * x + aR * xi) % R
        b = (bL * xi + bR * x) % R
        s = np.where(hi, s * x, s * xi) % R
        m = h
        rnd += 1
    ch.send_field(f"{label}/a", F, np.array(int(a[0]), dtype=object))


def ipa_verify(ch: VerifierChannel, F: Field, label: str, gens: Sequence, U, v: int,
               r_col: np.ndarray, p_points: Sequence, p_scalars: Sequence[int]) -> None:
    """Check the argument of `ipa_prove` for b = eq(r_col), P = Σ p_scalars·p_points
    (folded into the final MSM), claimed inner product v."""
    n = len(gens)
    rounds = n.bit_length() - 1
    x0 = _scalar(ch.challenge(f"{label}/x0", F))
    Ls, Rs, xs = [], [], []
    for rnd in range(rounds):
        buf = ch.recv_bytes(f"{label}/LR{rnd}", 2 * POINT_BYTES)
        Ls.append(bls_msm.decode_point(buf[:POINT_BYTES], f"{label}/L{rnd}"))
        Rs.append(bls_msm.decode_point(buf[POINT_BYTES:], f"{label}/R{rnd}"))
        x = _scalar(ch.challenge(f"{label}/x{rnd}", F))
        if x == 0:
            raise VerificationError("hyrax: zero IPA challenge")
        xs.append(x)
    a = _scalar(ch.recv_scalar(f"{label}/a", F))
    s = _fold_weights(xs)
    b_final = _eq_fold(r_col, xs)
    points = list(gens) + Ls + Rs + [U] + list(p_points)
    scal = (
        [(-a * int(sj)) % R for sj in s]
        + [x * x % R for x in xs]
        + [_inv(x * x % R) for x in xs]
        + [(v - a * b_final) * x0 % R]
        + [int(c) % R for c in p_scalars]
    )
    if bls_msm.msm(points, scal) != bls_msm.IDENTITY:
        raise VerificationError(f"hyrax: inner-product argument {label} does not verify")


# -- zero knowledge: randomness, blinded inner-product argument ----------------------------


def _fresh(F: Field, count: int) -> list[int]:
    """``count`` uniform elements of Fr from the ZK session's source (the OS)."""
    s = zk.current()
    if s is None:
        raise ProverError("hyrax: hiding randomness outside a zero-knowledge session")
    return [int(v) for v in np.asarray(s.rng.elements(F, count), dtype=object).reshape(-1)]


def ipa_prove_zk(ch: ProverChannel, F: Field, label: str, gens: Sequence, U, H,
                 a: np.ndarray, b: np.ndarray, blind: int, blind_u: int = 0) -> None:
    """Zero-knowledge `ipa_prove` (module doc): prove knowledge of (``a``, ``blind``) with
    ⟨a, gens⟩ + blind·H = P and ⟨a, b⟩ = v (both known to the verifier and absorbed
    before this call): blinded L/R, then a Schnorr proof for the folded scalar.  When
    part of v·U is given to the verifier as Pedersen commitments (a sum claim's hidden
    partial values, `Hyrax` "Sum claims"), ``blind_u`` is their combined blind: the
    verifier's Q then holds x₀·blind_u·H more, which the prover's blind follows."""
    n = len(gens)
    a = _vec(a)
    b = _vec(b)
    pts = np.empty(n, dtype=object)
    pts[:] = list(gens)
    x0 = _scalar(ch.challenge(f"{label}/u", F))   # U' = x0·U
    s = _vec([1] * n)
    j = np.arange(n)
    m = n
    rnd = 0
    blind = (int(blind) + x0 * int(blind_u)) % R
    while m > 1:
        h = m // 2
        aL, aR, bL, bR = a[:h], a[h:], b[:h], b[h:]
        cL = int(np.sum(aL * bR)) % R
        cR = int(np.sum(aR * bL)) % R
        jm = j % m
        hi = jm >= h
        lo = ~hi
        Lsc = a[jm[hi] - h] * s[hi] % R
        Rsc = a[jm[lo] + h] * s[lo] % R
        lam, mu = _fresh(F, 2)
        Lp = bls_msm.msm(pts[hi].tolist() + [U, H], list(Lsc) + [cL * x0 % R, lam])
        Rp = bls_msm.msm(pts[lo].tolist() + [U, H], list(Rsc) + [cR * x0 % R, mu])
        ch.send_bytes(f"{label}/LR{rnd}", bls_msm.encode_point(Lp) + bls_msm.encode_point(Rp))
        x = _scalar(ch.challenge(f"{label}/x{rnd}", F))
        if x == 0:
            raise ProverError("hyrax: zero IPA challenge (probability 2^-255)")
        xi = _inv(x)
        a = (aL * x + aR * xi) % R
        b = (bL * xi + bR * x) % R
        s = np.where(hi, s * x, s * xi) % R
        blind = (blind + x * x % R * lam + xi * xi % R * mu) % R
        m = h
        rnd += 1
    k_a, k_b = _fresh(F, 2)
    a_f, b_f = int(a[0]), int(b[0])
    T = bls_msm.msm(list(pts) + [U, H], list(s * k_a % R) + [k_a * b_f % R * x0 % R, k_b])
    ch.send_bytes(f"{label}/T", bls_msm.encode_point(T))
    e = _scalar(ch.challenge(f"{label}/e", F))
    z = [(k_a + e * a_f) % R, (k_b + e * blind) % R]
    ch.send_field(f"{label}/z", F, _vec(z))


def ipa_verify_zk(ch: VerifierChannel, F: Field, label: str, gens: Sequence, U, H, v: int,
                  b_final, p_points: Sequence, p_scalars: Sequence[int],
                  v_points: Sequence = (), v_scalars: Sequence[int] = ()) -> None:
    """Check the argument of `ipa_prove_zk` for P = Σ p_scalars·p_points, claimed inner
    product v (times U) plus Σ v_scalars·v_points (Pedersen commitments to hidden parts
    of it, in U and H); ``b_final(xs, s)`` is ⟨s, b⟩ for the round challenges xs and
    the fold weights s."""
    n = len(gens)
    rounds = n.bit_length() - 1
    x0 = _scalar(ch.challenge(f"{label}/u", F))   # U' = x0·U
    Ls, Rs, xs = [], [], []
    for rnd in range(rounds):
        buf = ch.recv_bytes(f"{label}/LR{rnd}", 2 * POINT_BYTES)
        Ls.append(bls_msm.decode_point(buf[:POINT_BYTES], f"{label}/L{rnd}"))
        Rs.append(bls_msm.decode_point(buf[POINT_BYTES:], f"{label}/R{rnd}"))
        x = _scalar(ch.challenge(f"{label}/x{rnd}", F))
        if x == 0:
            raise VerificationError("hyrax: zero IPA challenge")
        xs.append(x)
    T = bls_msm.decode_point(ch.recv_bytes(f"{label}/T", POINT_BYTES), f"{label}/T")
    e = _scalar(ch.challenge(f"{label}/e", F))
    z_a, z_b = (int(t) for t in ch.recv_field(f"{label}/z", F, 2))
    s = _fold_weights(xs)
    b_f = int(b_final(xs, s)) % R
    # z_a·(Σ s_j G_j + b_f·U') + z_b·H − T − e·(P + v·U' + Σ x²L + x⁻²R) = 0
    points = list(gens) + Ls + Rs + [U, H, T] + list(p_points)
    scal = (
        [z_a * int(sj) % R for sj in s]
        + [(-e * x * x) % R for x in xs]
        + [(-e * _inv(x * x % R)) % R for x in xs]
        + [(z_a * b_f - e * v) % R * x0 % R, z_b, R - 1]
        + [(-e * int(c)) % R for c in p_scalars]
        + [(-e * x0 * int(c)) % R for c in v_scalars]
    )
    points += list(v_points)
    if bls_msm.msm(points, scal) != bls_msm.IDENTITY:
        raise VerificationError(f"hyrax: zero-knowledge inner-product argument {label} "
                                "does not verify")


def _quadratic_at(g0: int, g1: int, g2: int, r: int) -> int:
    """q(r) for the degree-2 polynomial with q(0), q(1), q(2) = g0, g1, g2."""
    half = _inv(2)
    return (g0 * (r - 1) * (r - 2) % R * half - g1 * r * (r - 2)
            + g2 * r * (r - 1) % R * half) % R


def _mask_powers(point: np.ndarray) -> list[int]:
    """(1, r_i, r_i²) for every coordinate: g(r) = ⟨c, ·⟩ for the flat mask c."""
    out = []
    for ri in point:
        ri = int(ri)
        out += [1, ri, ri * ri % R]
    return out


def _mask_size(lay: Layout, n: int) -> int:
    """Length of the zero-knowledge IPA with a reduction mask: 2^c + 3n, to a power of 2."""
    need = lay.cols + 3 * n
    return 1 << (need - 1).bit_length()


# -- the scheme --------------------------------------------------------------------------


class Hyrax(CommitmentScheme):
    """Pedersen row commitments over BLS12-381 G1 + IPA opening (see module doc)."""

    name = "hyrax"
    fields = ("bls12-381-fr",)

    @property
    def hiding(self) -> bool:
        """Hiding inside a zero-knowledge session (module doc), binding only outside."""
        return zk.enabled()

    @property
    def sum_claims(self) -> bool:
        """`SumClaim`s are opened by the hiding variant only (module doc, "Sum claims")."""
        return zk.enabled()

    def __init__(self, field: Field, params=None):
        super().__init__(field, params)
        if not self.supports(field):
            raise PluginError(
                f"hyrax works over {self.fields[0]!r} only, not {field.name!r} "
                "(use the 'paper' profile)"
            )
        unknown = set(self.params) - set(self.param_names())
        if unknown:
            raise PluginError(f"hyrax: unknown parameters {sorted(unknown)}; "
                              f"allowed: {list(self.param_names())}")
        seed = self.params.get("seed", DEFAULT_SEED)
        if (not isinstance(seed, str) or not 1 <= len(seed) <= MAX_SEED_CHARS
                or not seed.isprintable()):
            raise PluginError(f"hyrax: seed must be a printable string of 1..{MAX_SEED_CHARS} "
                              f"characters (the generators are hashed to the curve from it), "
                              f"got {seed!r:.80}")
        self.seed = seed.encode()
        self.U = bls_msm.hash_point(self.seed, b"U")
        self.H = bls_msm.blinding_generator(self.seed)

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        return ("seed",)

    def soundness(self, challenge_field: Field, elements: int | None = None):
        """Binding is the discrete log among the hash-to-curve generators of the seed:
        any well-formed seed gives generators with no known relation (random-oracle
        hash-to-curve), so the seed is shown but does not change the bits.  For a graph
        of at most ``elements`` claims (`security.claim_bound`) the algebraic term bounds
        one challenge of the opening: the claim-combining ρ (≤ elements claims), the
        reduction sumcheck (degree 2), σ (≤ elements items) and an IPA round (degree ≤ 4 in x);
        the zero-knowledge variant adds only degree-1 challenges (the mask's ρ_g, the
        Schnorr e), within the same term."""
        from zklora.zkcore import security

        seed = self.seed.decode()
        std = "standard" if seed == DEFAULT_SEED else "custom"
        terms = [security.Term(DLOG_BITS, f"hyrax discrete log in BLS12-381 G1 ({std} "
                               f"seed {seed!r})", "Pedersen binding")]
        if elements is not None:
            terms.append(security.schwartz_zippel(
                challenge_field, 2 * max(4, int(elements)),
                f"hyrax opening challenges in {challenge_field.name}"))
        return terms

    def gens(self, n: int) -> list:
        return bls_msm.generators(self.seed, n)

    # -- commit ------------------------------------------------------------------------
    def commitment_size(self, num_vars: int) -> int:
        return Layout(num_vars).rows * POINT_BYTES

    def commit(self, values):
        flat = np.asarray(values, dtype=object).reshape(-1)
        size = flat.shape[0]
        if size == 0 or size & (size - 1):
            raise ProverError(f"hyrax: a table of {size} elements is not a power of two")
        flat = _vec([_element(v) for v in flat])
        lay = Layout(size.bit_length() - 1)
        G = self.gens(lay.cols)
        M = flat.reshape(lay.rows, lay.cols)
        if zk.enabled():   # hiding: C_i = ⟨M[i], G⟩ + β_i·H, β_i fresh
            blinds = _vec(_fresh(self.field, lay.rows))
            com = b"".join(bls_msm.encode_point(
                bls_msm.msm_signed(G, M[i]) + bls_msm.msm([self.H], [int(blinds[i])]))
                for i in range(lay.rows))
            return com, HyraxState(flat, lay.num_vars, com, blinds)
        com = b"".join(bls_msm.encode_point(bls_msm.msm_signed(G, M[i])) for i in range(lay.rows))
        return com, HyraxState(flat, lay.num_vars, com)

    # -- shared statement handling --------------------------------------------------------
    def _claims(self, n: int, evals, err: type[ZkLoraError]) -> list[_Claim]:
        """Validate and deduplicate the claims of one item."""
        out: dict[tuple, _Claim] = {}
        for ev in evals:
            pt = np.asarray(ev.point, dtype=object)
            if pt.shape != (n,):
                raise err(f"hyrax: evaluation point of shape {pt.shape}, expected ({n},)")
            val = np.asarray(ev.value, dtype=object)
            if val.size != 1:
                raise err(f"hyrax: claimed value of shape {val.shape}, expected a scalar")
            vals = [_canonical(v, err) for v in [*pt.reshape(-1), val.reshape(())[()]]]
            key = tuple(int(v) for v in vals[:-1])
            c = _Claim(_vec(key), int(vals[-1]))
            if key in out and out[key].value != c.value:
                raise err("hyrax: two different values claimed at the same point")
            out[key] = c
        return list(out.values())

    def _read_sums(self, sums: Sequence[SumClaim], nvars: Sequence[int],
                   err: type[ZkLoraError]) -> list[_Sum]:
        """Strict reading of sum claims on items of ``nvars`` variables: at least one
        term, each on an existing item with a point of that item's number of canonical
        elements and a canonical coefficient, and a canonical value; ``err`` naming the
        sum claim otherwise."""
        out = []
        for k, sc in enumerate(sums):
            try:
                terms = []
                if not isinstance(sc, SumClaim) or not sc.terms:
                    raise TypeError
                for t in sc.terms:
                    i = t.item
                    if (isinstance(i, bool) or not isinstance(i, int | np.integer)
                            or not 0 <= int(i) < len(nvars)):
                        raise TypeError
                    pt = np.asarray(t.point, dtype=object)
                    if pt.shape != (nvars[int(i)],):
                        raise TypeError
                    terms.append((int(i), _vec([_canonical(v, err) for v in pt]),
                                  _canonical(t.coefficient, err)))
                out.append(_Sum(terms, _canonical(sc.value, err)))
            except (TypeError, ValueError, AttributeError, ZkLoraError) as exc:
                raise err(f"hyrax: sum claim {k} is not a list of terms (item, point, "
                          "coefficient) of canonical bls12-381-fr elements and a value"
                          ) from exc
        return out

    def _absorb(self, ch, items: Sequence[tuple[int, bytes, list[_Claim]]],
                hiding: bool = False, sums: Sequence[_Sum] = ()) -> None:
        F = self.field
        parts = [b"hyrax/zk/v1" if hiding else b"hyrax/v1", self.seed,
                 len(items).to_bytes(8, "little")]
        for n, com, claims in items:
            parts += [n.to_bytes(8, "little"), len(com).to_bytes(8, "little"), com,
                      len(claims).to_bytes(8, "little")]
            for c in claims:
                parts += [F.encode(c.point), F.encode(np.array(c.value, dtype=object))]
        if sums:   # only when there are any: the statement without them is unchanged
            parts += [b"/sums", len(sums).to_bytes(8, "little")]
            for sc in sums:
                parts += [len(sc.terms).to_bytes(8, "little"),
                          F.encode(np.array(sc.value, dtype=object))]
                for i, pt, co in sc.terms:
                    parts += [i.to_bytes(8, "little"), F.encode(pt),
                              F.encode(np.array(co, dtype=object))]
        ch.observe_public("hyrax/statement", b"".join(parts))

    @staticmethod
    def _groups(items: Sequence[tuple[int, bytes, list[_Claim]]],
                sums: Sequence[_Sum] = ()) -> dict[int, list[int]]:
        used = {i for sc in sums for i, _, _ in sc.terms}
        groups: dict[int, list[int]] = {}
        for k, (n, _, claims) in enumerate(items):
            if claims or k in used:
                groups.setdefault(n, []).append(k)
        return dict(sorted(groups.items()))

    @staticmethod
    def _sizes(sc: _Sum, nvars: Sequence[int]) -> list[int]:
        return sorted({nvars[i] for i, _, _ in sc.terms})

    def _sum_parts(self, ch, sums: Sequence[_Sum], nvars: Sequence[int],
                   tables: Sequence[np.ndarray] | None) -> dict[tuple[int, int], tuple]:
        """The hidden partial values of the sum claims that span several sizes (module
        doc, "Sum claims"): for claim j and each size n but its last, the prover sends
        V_{j,n} = u_{j,n}·U + γ_{j,n}·H (u the terms' partial sum on size n, γ fresh);
        the last size's is implied, v_j·U − Σ_n V_{j,n} (blind −Σγ).  Returns (j, n) →
        (point, blind) — the point the verifier's (None for the implied one), the blind
        the prover's (0 on the verifier)."""
        F = self.field
        out: dict[tuple[int, int], tuple] = {}
        for j, sc in enumerate(sums):
            sizes = self._sizes(sc, nvars)
            total = 0
            for n in sizes[:-1]:
                label = f"hyrax/sum{j}/n{n}"
                if tables is not None:
                    u = sum(co * int(mle.evaluate(F, tables[i], pt, base=True))
                            for i, pt, co in sc.terms if nvars[i] == n) % R
                    (gam,) = _fresh(F, 1)
                    V = bls_msm.msm([self.U, self.H], [u, gam])
                    ch.send_bytes(label, bls_msm.encode_point(V))
                    out[j, n] = (None, gam)
                    total = (total + gam) % R
                else:
                    out[j, n] = (bls_msm.decode_point(ch.recv_bytes(label, POINT_BYTES),
                                                      label), 0)
            out[j, sizes[-1]] = (None, (-total) % R)
        return out

    def _group_sums(self, n: int, members: list[int], sums: Sequence[_Sum],
                    nvars: Sequence[int], parts: dict) -> list[_GroupSum]:
        """The sum claims' parts in size group ``n`` (members: item indices)."""
        pos = {k: m for m, k in enumerate(members)}
        out = []
        for j, sc in enumerate(sums):
            terms = [(pos[i], pt, co) for i, pt, co in sc.terms if nvars[i] == n]
            if not terms:
                continue
            sizes = self._sizes(sc, nvars)
            if n == sizes[-1]:   # v_j·U − Σ_{n'} V_{j,n'}
                gs = _GroupSum(j, terms, sc.value,
                               [parts[j, m][0] for m in sizes[:-1]], [R - 1] * (len(sizes) - 1),
                               parts[j, n][1])
            else:
                gs = _GroupSum(j, terms, 0, [parts[j, n][0]], [1], parts[j, n][1])
            out.append(gs)
        return out

    @staticmethod
    def _entries(claims_of: list[list[_Claim]], gsums: Sequence[_GroupSum], rho: int):
        """Per member, the (point, coefficient) pairs of the reduction's weight W: the
        claims' ρ^k (global numbering, as `_eq_combo`), then each sum claim's terms times
        its own next power μ_j; and the μ_j."""
        coefs = Hyrax._eq_combo(claims_of, rho)
        entries = [[(c.point, co) for c, co in zip(cl, cf)]
                   for cl, cf in zip(claims_of, coefs)]
        cur = pow(rho, sum(len(cl) for cl in claims_of), R)
        mus = []
        for gs in gsums:
            mus.append(cur)
            for m, pt, co in gs.terms:
                entries[m].append((pt, cur * co % R))
            cur = cur * rho % R
        return entries, mus

    @staticmethod
    def _single_point(claims_of: list[list[_Claim]]) -> bool:
        if any(len(cl) != 1 for cl in claims_of):
            return False
        first = claims_of[0][0].point
        return all(np.array_equal(cl[0].point, first) for cl in claims_of)

    @staticmethod
    def _eq_combo(claims_of: list[list[_Claim]], rho: int):
        """Per item: the coefficients ρ^k of its claims (global numbering)."""
        coefs, cur = [], 1
        for cl in claims_of:
            row = []
            for _ in cl:
                row.append(cur)
                cur = cur * rho % R
            coefs.append(row)
        return coefs

    # -- open ----------------------------------------------------------------------------
    def open(self, ch: ProverChannel, items: Sequence[OpenItem],
             sums: Sequence[SumClaim] = ()) -> None:
        hiding = zk.enabled()
        if sums and not hiding:
            raise ProverError("hyrax: sum claims are opened by the hiding variant only")
        desc = []
        for k, it in enumerate(items):
            st = it.state
            if not isinstance(st, HyraxState):
                raise ProverError(f"hyrax: item {k} carries no hyrax commitment state")
            if hiding and st.blinds is None:
                raise ProverError(f"hyrax: item {k} is a binding-only commitment; a "
                                  "zero-knowledge opening needs one made in the ZK session")
            if not hiding and st.blinds is not None:
                raise ProverError(f"hyrax: item {k} is a hiding commitment; open it inside "
                                  "a zero-knowledge session")
            desc.append((st.num_vars, st.commitment,
                         self._claims(st.num_vars, it.evals, ProverError)))
        nvars = [d[0] for d in desc]
        sc = self._read_sums(sums, nvars, ProverError)
        self._absorb(ch, desc, hiding, sc)
        parts = self._sum_parts(ch, sc, nvars, [it.state.values for it in items])
        for n, members in self._groups(desc, sc).items():
            if hiding:
                self._open_group_zk(ch, n, [items[k].state for k in members],
                                    [desc[k][2] for k in members],
                                    self._group_sums(n, members, sc, nvars, parts))
            else:
                self._open_group(ch, n, [items[k].state.values for k in members],
                                 [desc[k][2] for k in members])

    def _open_group(self, ch: ProverChannel, n: int, tables: list[np.ndarray],
                    claims_of: list[list[_Claim]]) -> None:
        """Steps 2–4 of the module doc for the items of one size.  The prover always
        proves what its tables really hold (the reduction sumcheck starts from their true
        evaluations), so a false claim yields a proof the verifier rejects."""
        F = self.field
        label = f"hyrax/n{n}"
        lay = Layout(n)
        if self._single_point(claims_of):
            point = claims_of[0][0].point
        else:
            rho = _scalar(ch.challenge(f"{label}/rho", F))
            coefs = self._eq_combo(claims_of, rho)
            stack, terms, claim = self._reduction(tables, claims_of, coefs)
            point, finals = sumcheck.prove(
                ch, F, stack, terms, np.array(claim, dtype=object),
                label=f"{label}/reduce", public=[2 * t + 1 for t in range(len(tables))])
        sig = _powers(_scalar(ch.challenge(f"{label}/sigma", F)), len(tables))
        eq_row = mle.eq_table(F, point[lay.col_vars:])
        b = mle.eq_table(F, point[: lay.col_vars])
        a = F.zeros(lay.cols)
        for t, tab in enumerate(tables):
            u = F.vecmat(eq_row, tab.reshape(lay.rows, lay.cols))
            a = (a + sig[t] * u) % R
        ipa_prove(ch, F, f"{label}/ipa", self.gens(lay.cols), self.U, a, b)

    def _reduction(self, tables: list[np.ndarray], claims_of: list[list[_Claim]],
                   coefs: list[list[int]]):
        """The reduction sumcheck's tables, terms and true claim (step 2)."""
        return self._reduction_at(tables, [[(c.point, co) for c, co in zip(cl, cf)]
                                           for cl, cf in zip(claims_of, coefs)])

    def _reduction_at(self, tables: list[np.ndarray], entries: list[list[tuple]]):
        """The reduction sumcheck's tables, terms and true claim for the weights
        W_t = Σ coefficient·eq(point, ·) of ``entries`` (per table)."""
        F = self.field
        n = tables[0].shape[0].bit_length() - 1
        stack, terms, claim = [], [], 0
        for t, (tab, ent) in enumerate(zip(tables, entries)):
            w = F.zeros(1 << n)
            for point, co in ent:
                eq = mle.eq_table(F, point)
                w = (w + co * eq) % R
                claim = (claim + co * int(F.dot(tab, eq))) % R  # true, not claimed
            stack += [tab, w]
            terms.append((1, (2 * t, 2 * t + 1)))
        return stack, terms, claim

    def _open_group_zk(self, ch: ProverChannel, n: int, states: list[HyraxState],
                       claims_of: list[list[_Claim]], gsums: Sequence[_GroupSum] = ()
                       ) -> None:
        """The zero-knowledge opening of one size group (module doc); ``gsums`` the sum
        claims' parts in it (their terms join the reduction's weights, their hidden
        values the IPA's value through ``blind_u``)."""
        F = self.field
        label = f"hyrax/n{n}"
        lay = Layout(n)
        tables = [st.values for st in states]
        mask = None
        blind_u = 0
        if not gsums and self._single_point(claims_of):
            point = claims_of[0][0].point
            weights = _powers(_scalar(ch.challenge(f"{label}/sigma", F)), len(tables))
            size = lay.cols
        else:
            rho = _scalar(ch.challenge(f"{label}/rho", F))
            entries, mus = self._entries(claims_of, gsums, rho)
            stack, terms, claim = self._reduction_at(tables, entries)
            size = _mask_size(lay, n)
            gens = self.gens(size)
            c = _vec(_fresh(F, 3 * n))
            (beta_g,) = _fresh(F, 1)
            C_g = bls_msm.msm(gens[lay.cols:lay.cols + 3 * n] + [self.H], list(c) + [beta_g])
            ch.send_bytes(f"{label}/zk/mask", bls_msm.encode_point(C_g))
            cm = c.reshape(n, 3)
            ch.send_field(f"{label}/zk/sum", F, zk.mask_sum(F, cm, n))
            rho_g = ch.challenge(f"{label}/zk/rho", F)
            state = zk.ProverMask(F, cm, n, rho_g)
            point, _ = sumcheck.prove(
                ch, F, stack, terms, np.array(claim, dtype=object),
                label=f"{label}/reduce", public=range(len(stack)),   # no finals are sent
                mask=sumcheck.Mask(rho_g, lambda _p: None, state))
            weights = [int(self._eq_entries(ent)(point)) for ent in entries]
            mask = (c, beta_g, _scalar(rho_g))
            # the hidden part h of the claim enters the folded value as A·h, A = Π L₁(r_j)
            slope = 1
            for r in point:
                slope = slope * int(r) % R * ((2 - int(r)) % R) % R
            blind_u = slope * sum(mu * gs.blind for mu, gs in zip(mus, gsums)) % R
        eq_row = mle.eq_table(F, point[lay.col_vars:])
        a = F.zeros(size)
        b = F.zeros(size)
        b[:lay.cols] = mle.eq_table(F, point[: lay.col_vars])
        blind = 0
        for wt, st in zip(weights, states):
            u = F.vecmat(eq_row, st.values.reshape(lay.rows, lay.cols))
            a[:lay.cols] = (a[:lay.cols] + wt * u) % R
            blind = (blind + wt * int(np.sum(eq_row * st.blinds))) % R
        if mask is not None:
            c, beta_g, rho_g = mask
            a[lay.cols:lay.cols + 3 * n] = c * rho_g % R
            b[lay.cols:lay.cols + 3 * n] = _vec(_mask_powers(point))
            blind = (blind + rho_g * beta_g) % R
        ipa_prove_zk(ch, F, f"{label}/ipa", self.gens(size), self.U, self.H, a, b, blind,
                     blind_u)

    # -- verify --------------------------------------------------------------------------
    def verify(self, ch: VerifierChannel, items: Sequence[CheckItem],
               sums: Sequence[SumClaim] = ()) -> None:
        hiding = zk.enabled()
        if sums and not hiding:
            raise VerificationError("hyrax: sum claims are opened by the hiding variant "
                                    "only")
        desc = []
        rows = []
        for k, it in enumerate(items):
            n = it.num_vars
            if not isinstance(n, int | np.integer) or not 0 <= n <= MAX_VARS:
                raise VerificationError(f"hyrax: item {k} has {n} variables (max {MAX_VARS})")
            n = int(n)
            com = bytes(it.commitment)
            size = self.commitment_size(n)
            if len(com) != size:
                raise ProofFormatError(f"hyrax: commitment {k} has {len(com)} bytes, "
                                       f"expected {size} for 2^{n} elements")
            rows.append(bls_msm.decode_points(com, size // POINT_BYTES, f"commitment {k}"))
            desc.append((n, com, self._claims(n, it.evals, VerificationError)))
        nvars = [d[0] for d in desc]
        sc = self._read_sums(sums, nvars, VerificationError)
        self._absorb(ch, desc, hiding, sc)
        parts = self._sum_parts(ch, sc, nvars, None)
        for n, members in self._groups(desc, sc).items():
            if hiding:
                self._verify_group_zk(ch, n, [rows[k] for k in members],
                                      [desc[k][2] for k in members],
                                      self._group_sums(n, members, sc, nvars, parts))
            else:
                self._verify_group(ch, n, [rows[k] for k in members],
                                   [desc[k][2] for k in members])

    def _verify_group(self, ch: VerifierChannel, n: int, rows: list[list],
                      claims_of: list[list[_Claim]]) -> None:
        """Mirror of `_open_group`; ``rows`` are the decoded commitments."""
        F = self.field
        label = f"hyrax/n{n}"
        lay = Layout(n)
        if self._single_point(claims_of):
            point = claims_of[0][0].point
            ws = [cl[0].value for cl in claims_of]
        else:
            rho = _scalar(ch.challenge(f"{label}/rho", F))
            coefs = self._eq_combo(claims_of, rho)
            claim = 0
            public = {}
            for t, (cl, cf) in enumerate(zip(claims_of, coefs)):
                claim = (claim + sum(co * c.value for c, co in zip(cl, cf))) % R
                public[2 * t + 1] = self._eq_at(cl, cf)
            terms = [(1, (2 * t, 2 * t + 1)) for t in range(len(rows))]
            point, finals = sumcheck.verify(
                ch, F, n, 2 * len(rows), terms, np.array(claim, dtype=object),
                label=f"{label}/reduce", public=public)
            ws = [int(finals[2 * t]) for t in range(len(rows))]
        sig = _powers(_scalar(ch.challenge(f"{label}/sigma", F)), len(rows))
        eq_row = [int(e) for e in mle.eq_table(F, point[lay.col_vars:])]
        p_points, p_scalars = [], []
        for t, com_rows in enumerate(rows):
            p_points += com_rows
            p_scalars += [sig[t] * e % R for e in eq_row]
        v = sum(si * w for si, w in zip(sig, ws)) % R
        ipa_verify(ch, F, f"{label}/ipa", self.gens(lay.cols), self.U, v,
                   point[: lay.col_vars], p_points, p_scalars)

    def _verify_group_zk(self, ch: VerifierChannel, n: int, rows: list[list],
                         claims_of: list[list[_Claim]], gsums: Sequence[_GroupSum] = ()
                         ) -> None:
        """Mirror of `_open_group_zk`; ``rows`` are the decoded commitments."""
        F = self.field
        label = f"hyrax/n{n}"
        lay = Layout(n)
        extra_points, extra_scalars = [], []
        v_points, v_scalars = [], []
        if not gsums and self._single_point(claims_of):
            point = claims_of[0][0].point
            weights = _powers(_scalar(ch.challenge(f"{label}/sigma", F)), len(rows))
            v = sum(wt * cl[0].value for wt, cl in zip(weights, claims_of)) % R
            size = lay.cols

            def b_final(xs, s):
                return _eq_fold(point[: lay.col_vars], xs)
        else:
            rho = _scalar(ch.challenge(f"{label}/rho", F))
            coefs = self._eq_combo(claims_of, rho)
            entries, mus = self._entries(claims_of, gsums, rho)
            claim = sum(co * c.value for cl, cf in zip(claims_of, coefs)
                        for c, co in zip(cl, cf)) % R
            claim = (claim + sum(mu * gs.value for mu, gs in zip(mus, gsums))) % R
            C_g = bls_msm.decode_point(ch.recv_bytes(f"{label}/zk/mask", POINT_BYTES),
                                       f"{label}/zk/mask")
            G = _scalar(ch.recv_scalar(f"{label}/zk/sum", F))
            rho_g = _scalar(ch.challenge(f"{label}/zk/rho", F))
            v = (claim + rho_g * G) % R
            point = F.zeros(n)
            slope = 1   # the claim's hidden part h enters the folded value as slope·h
            for j in range(n):   # the rounds of `sumcheck.prove` (degree 2), no finals
                g0, g2 = (int(t) for t in ch.recv_field(f"{label}/reduce/round{j}", F, 2))
                r = _scalar(ch.challenge(f"{label}/reduce/r{j}", F))
                point[j] = r
                v = _quadratic_at(g0, (v - g0) % R, g2, r)
                slope = slope * r % R * ((2 - r) % R) % R
            for mu, gs in zip(mus, gsums):
                v_points += gs.points
                v_scalars += [slope * mu % R * sg % R for sg in gs.signs]
            weights = [int(self._eq_entries(ent)(point)) for ent in entries]
            size = _mask_size(lay, n)
            bvec = F.zeros(size)
            bvec[:lay.cols] = mle.eq_table(F, point[: lay.col_vars])
            bvec[lay.cols:lay.cols + 3 * n] = _vec(_mask_powers(point))
            extra_points, extra_scalars = [C_g], [rho_g]

            def b_final(xs, s):
                return int(np.sum(s * bvec)) % R
        eq_row = [int(e) for e in mle.eq_table(F, point[lay.col_vars:])]
        p_points, p_scalars = list(extra_points), list(extra_scalars)
        for wt, com_rows in zip(weights, rows):
            p_points += com_rows
            p_scalars += [wt * e % R for e in eq_row]
        ipa_verify_zk(ch, F, f"{label}/ipa", self.gens(size), self.U, self.H, v, b_final,
                      p_points, p_scalars, v_points, v_scalars)

    def _eq_entries(self, entries: list[tuple]):
        """r ↦ Σ coefficient·eq(point, r) over ``entries`` (point, coefficient)."""
        F = self.field

        def at(r):
            return np.array(sum(co * int(mle.eq_eval(F, pt, r)) for pt, co in entries) % R,
                            dtype=object)

        return at

    def _eq_at(self, claims: list[_Claim], coefs: list[int]):
        F = self.field

        def at(r):
            return np.array(sum(co * int(mle.eq_eval(F, c.point, r))
                                for c, co in zip(claims, coefs)) % R, dtype=object)

        return at


@hookimpl
def zk_commitment_schemes():
    return [Hyrax]
