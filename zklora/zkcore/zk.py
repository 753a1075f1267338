"""Zero knowledge (DESIGN §3.11, docs/zero-knowledge.md): the switch, the mask
randomness and the masked ("ZK") sumcheck the contexts of `zklora.zkcore.op` run.

**Switch.**  `session(True)` turns zero knowledge on for the current context (a
`ContextVar`, like `zklora.zkcore.selfcheck`); prover and verifier must run under the
same setting.  Every `Transcript` made inside a ZK session absorbs a domain-separation
tag first, so a ZK proof never verifies as a non-ZK one (or the reverse).  Outside a
session nothing changes: non-ZK proofs are byte-identical to those of earlier versions.

**Randomness.**  Masks come from a `MaskRng` drawing from the operating system
(`secrets`), never from the transcript or the witness.  Tests may inject a seeded one
(the "reused masks" test recovers a witness element from two proofs sharing it).

**ZK sumcheck.**  For Σ_x F(x) = H over n variables with round degree d, the prover
holds a mask g(x) = Σ_i g_i(x_i), each g_i a random univariate of degree d whose
coefficients are laid out in a committed *mask slot* (an ordinary committed tensor,
`Committer.commit`, a *slot*): per variable a block of ``ncomp · 2^e`` entries, the
entry (c, k) being component c of the extension coefficient a_k, and
g_i(X) = Σ_k a_k X^{s(k)} with s(k) = Σ_j bit_j(k)·w_j for fixed weights w (sums of
subsets of w cover 0..d, Σ w = d; e.g. w = (1, 1) for d = 2, (1, 2) for d = 3).  Then

    g_i(r) = (1 + φ)·Π_j (1 + r^{w_j}) · Ã_i(c*, z),   z_j = r^{w_j}/(1 + r^{w_j}),
    c* = φ/(1 + φ)  (φ the extension's generator; no c* for a prime challenge field),

so g(r) is n ordinary MLE claims on the slot.  Protocol: the prover sends
G = Σ_x g(x), the verifier draws ρ (the slot is committed before, `Committer.flush`
runs before every challenge), both run the sumcheck of F + ρ·g for H + ρ·G
(`zklora.zkcore.sumcheck.Mask`), and after the finals the prover sends
u_i = Ã_i(c*, z_i); the verifier's final check adds ρ·Σ_i (1+φ)·P_i·u_i, and each u_i
becomes a claim on the slot, discharged by the batched opening.  Each round message
carries ρ·2^{n−j−1}·(the fresh coefficients of g_j), so it is uniform given the running
claim.  A point with 1 + r^{w_j} = 0 (probability ≤ n·e/|E|) makes both sides fail.

Slots: a context (the main transcript, each segment's fork) commits its masks in groups
of *slots*, committed tensors ``zk:masks/k`` of 2^8 random entries each (2^7 over a
prime field; one stack per group: 64 slots, then 256, 1024); each sumcheck takes the
next slot (a mask larger than a slot gets a tensor of its own).  Both sides allocate
identically from the sumchecks' shapes.  Masks are never shared across segment forks:
a fork's challenges do not depend on another fork's messages, so a mask must be
committed on its own fork.

**Claims on the masks** are recorded as pending claims of the context: the scheduler
files them with the next op's (or lookup argument's) claims (`op._Context.new_claims`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from functools import cache

import attrs
import blake3
import numpy as np

from zklora.kernels import goldilocks as KG
from zklora.kernels import sumcheck as KS

from . import mle
from . import sumcheck as sc
from .claims import Blind, Claim, blind_value, scale_blind
from .errors import ProverError, VerificationError
from .field import Field

#: transcript tag absorbed first by every transcript of a ZK proof
TRANSCRIPT_TAG = b"zklora/zero-knowledge/v1"
#: log2 of a mask slot's size (base-field entries) over a prime challenge field: one
#: sumcheck's mask each, sized for round degree ≤ 3 and ≤ 32 variables (2 weights × 32
#: variables); a larger mask gets a tensor of its own.  An extension field's slots are
#: ``ncomp`` times larger (`slot_vars`).  Measured on the tiny training step with ligero:
#: 2^8-entry slots (extension) made the ZK proof 2,318,512 B, 2^9-entry ones 2,488,040 B.
SLOT_VARS = 7


def slot_vars(ncomp: int) -> int:
    """log2 of a mask slot's size for a challenge field of ``ncomp`` base components."""
    return SLOT_VARS + (ncomp.bit_length() - 1)
#: slots a context commits at once (one stack): 64, then ×4 each time, at most 1024
FIRST_GROUP = 64
#: a segment fork's first group when its evaluations are hidden (docs/zero-knowledge.md
#: §5.1): a hidden sumcheck takes two slots, and a blind must come from the first group
#: (the witness's stack); the tiny training step's busiest segment needs more than 64
HIDDEN_FORK_GROUP = 128
MAX_GROUP = 1024
PREFIX = "zk:masks/"
#: the final opening's masks (the masked stack reductions, one slot per reduced
#: stack size, `open_mask`): ``zk:masks/open/k``, committed by `precommit` with the
#: witness's stack
OPEN_PREFIX = f"{PREFIX}open/"
OPEN_SLOTS = 8


def open_slot(k: int) -> str:
    """The name of the final opening's k-th mask slot."""
    return f"{OPEN_PREFIX}{int(k)}"


class MaskRng:
    """Source of mask randomness: the OS by default; ``seeded`` only for tests."""

    def __init__(self, read: Callable[[int], bytes] | None = None):
        self.read = read or secrets.token_bytes

    @classmethod
    def seeded(cls, seed: bytes) -> MaskRng:
        """A deterministic stream (tests: the reused-mask attack)."""
        counter = [0]

        def read(n: int) -> bytes:
            out = blake3.blake3(seed + counter[0].to_bytes(8, "little")).digest(length=n)
            counter[0] += 1
            return out

        return cls(read)

    def elements(self, F: Field, n: int) -> np.ndarray:
        """``n`` uniform elements of ``F`` (rejection sampling: 64-bit words below p,
        vectorised for uint64 fields, else `Field.sample`)."""
        if F.dtype == np.uint64 and F.p < 1 << 64:
            want = n * int(np.prod(F.elem_shape, dtype=np.int64))
            got = np.empty(0, np.uint64)
            while got.shape[0] < want:
                words = np.frombuffer(self.read(8 * (want - got.shape[0])), "<u8")
                got = np.concatenate([got, words[words < np.uint64(F.p)]])
            return got[:want].astype(np.uint64).reshape((n,) + F.elem_shape)
        out = F.zeros(n)
        for i in range(n):
            out[i] = F.sample(self.read)
        return out


@attrs.define
class Session:
    """The settings of one ZK run: the mask source."""

    rng: MaskRng = attrs.field(factory=MaskRng)


_SESSION: ContextVar[Session | None] = ContextVar("zklora_zero_knowledge", default=None)


def current() -> Session | None:
    """The active ZK session, or None (zero knowledge off)."""
    return _SESSION.get()


def enabled() -> bool:
    return _SESSION.get() is not None


@contextmanager
def session(on: bool = True, rng: MaskRng | None = None) -> Iterator[Session | None]:
    """Run the body with zero knowledge ``on`` (both prover and verifier must)."""
    s = Session(rng or MaskRng()) if on else None
    token = _SESSION.set(s)
    try:
        yield s
    finally:
        _SESSION.reset(token)


# -- mask layout ----------------------------------------------------------------------


@cache
def weights(d: int) -> tuple[int, ...]:
    """Exponent weights w with Σ w = d whose subset sums cover 0..d: powers of two
    while they fit, then the remainder (d = 2: (1, 1); 3: (1, 2); 4: (1, 2, 1))."""
    out: list[int] = []
    total, p = 0, 1
    while total < d:
        step = min(p, d - total)
        out.append(step)
        total += step
        p *= 2
    return tuple(out) or (1,)


def _exponents(w: tuple[int, ...]) -> np.ndarray:
    """s(k) = Σ_j bit_j(k)·w_j for k < 2^len(w)."""
    return np.array([sum(wj for j, wj in enumerate(w) if (k >> j) & 1)
                     for k in range(1 << len(w))], np.int64)


@attrs.frozen
class Region:
    """Where one sumcheck's mask lives: chunk ``name`` (2^chunk_vars entries), the
    region at ``offset`` of n_pad blocks of ``ncomp·2^e`` entries."""

    name: str
    chunk_vars: int
    offset: int
    n: int
    degree: int
    ncomp: int

    @property
    def w(self) -> tuple[int, ...]:
        return weights(self.degree)

    @property
    def e(self) -> int:
        return len(self.w)

    @property
    def comp_vars(self) -> int:
        return self.ncomp.bit_length() - 1

    @property
    def var_vars(self) -> int:
        return max(0, (self.n - 1).bit_length())

    @property
    def block(self) -> int:
        """Entries per variable."""
        return self.ncomp << self.e

    @property
    def size_vars(self) -> int:
        return self.comp_vars + self.e + self.var_vars


def region_vars(n: int, degree: int, ncomp: int) -> int:
    return (ncomp.bit_length() - 1) + len(weights(degree)) + max(0, (n - 1).bit_length())


def fork_prefix(index: int) -> str:
    """The slot-name prefix of segment ``index``'s fork (``zk:masks/s{index}/``): a
    segment's slot names depend on its index only, never on what other segments
    allocated, so segments proven concurrently (a remote executor) agree with the
    verifier."""
    return f"{PREFIX}s{int(index)}/"


class MaskPool:
    """Allocates masks in committed slots, identically on both sides (module doc).
    Slot names are ``{prefix}{k}``, k counting this prefix's slots only."""

    def __init__(self, prefix: str = PREFIX, first: int | None = None):
        self.prefix = prefix
        self.free: list[str] = []
        self.groups = 0
        self.first = first

    def _first(self) -> int:
        return FIRST_GROUP if self.first is None else self.first

    def reserve(self, ctx, have: int | None = None) -> list[str]:
        """Commit this pool's first group (`FIRST_GROUP` slots) now, into ``ctx``'s
        pending stack (`precommit`), and return its slot names.  ``have``: the count
        `_names` would take of ``ctx.specs`` (`_prefix_counts`), when the caller has it."""
        if self.groups:
            raise (ProverError if ctx.prover else VerificationError)(
                f"zero-knowledge masks {self.prefix}: first group committed twice")
        self.groups = 1
        self.free = self._names(ctx, self._first(), have)
        self._commit(ctx, self.free, 1 << slot_vars(ctx.E.degree))
        return list(self.free)

    def allocate(self, ctx, n: int, degree: int) -> Region:
        ncomp = ctx.E.degree
        rv = region_vars(n, degree, ncomp)
        sv = slot_vars(ncomp)
        if rv > sv:   # too large for a slot: a tensor of its own
            name = self._names(ctx, 1)[0]
            self._commit(ctx, [name], 1 << rv)
            return Region(name, rv, 0, n, degree, ncomp)
        if not self.free:
            count = min(self._first() << (2 * self.groups), MAX_GROUP)
            self.groups += 1
            self.free = self._names(ctx, count)
            self._commit(ctx, self.free, 1 << sv)
        return Region(self.free.pop(0), sv, 0, n, degree, ncomp)

    def _names(self, ctx, count: int, have: int | None = None) -> list[str]:
        n = len(self.prefix)
        k = have if have is not None else sum(
            1 for s in ctx.specs if s.startswith(self.prefix) and s[n:].isdigit())
        return [f"{self.prefix}{k + i}" for i in range(count)]

    @staticmethod
    def _commit(ctx, names: list[str], size: int) -> None:
        """Commit ``names`` (``size`` random entries each) into the pending stack."""
        specs = [ctx._declare_advice(name, (size,), None) for name in names]
        if not ctx.prover:
            for spec in specs:
                ctx.committer.commit(ctx.ch, spec)
            return
        s = current()
        if s is None:
            raise ProverError("zero-knowledge mask outside a ZK session")
        tables = s.rng.elements(ctx.F, size * len(names)).reshape(
            (len(names), size) + ctx.F.elem_shape)
        for spec, table in zip(specs, tables):
            ctx._tables[spec.name] = table
            ctx.committer.commit(ctx.ch, spec, table)


def precommit(ctx, segments: Sequence[int] = (), fork_group: int | None = None) -> None:
    """Both sides, in the commitment phase (before the first challenge, `graph._run`):
    commit the first mask group of the main context (``ctx``) and of every segment fork
    in ``segments`` (indices) into ``ctx``'s pending stack, so they join the witness's
    stack instead of each costing a stack (and an opening) of its own.  The layout is
    the graph's (the segment indices), never the proof's.  A fork then draws its slots
    from its group (`fork_pool`) and commits a further group on its own transcript only
    when it needs more than `FIRST_GROUP` masks.  Binding: every fork's transcript
    starts from the main state after this stack's commitment, so each mask is fixed
    before any challenge of the sumcheck it masks; each slot is used once (the forks'
    names are disjoint)."""
    have = _prefix_counts(ctx.specs, [ctx.zk_pool.prefix] + [fork_prefix(i)
                                                             for i in segments])
    ctx.zk_pool.reserve(ctx, have.pop(ctx.zk_pool.prefix))
    for i in segments:   # (``fork_group``: the forks' first-group size, `fork_pool`)
        # (the pools' prefixes are disjoint: one reserve adds nothing to another's
        # count; a repeated prefix counts the specs again)
        MaskPool(fork_prefix(i), fork_group).reserve(ctx, have.pop(fork_prefix(i), None))
    # the final opening's masks (`open_mask`): committed now, so the opening commits
    # nothing (a mask committed there would need an opening of its own)
    # (only for a scheme that opens sum claims: the others reduce without a mask)
    if getattr(ctx.committer.scheme, "sum_claims", False):
        MaskPool._commit(ctx, [open_slot(k) for k in range(OPEN_SLOTS)],
                         1 << slot_vars(ctx.E.degree))


def _prefix_counts(specs, prefixes: Sequence[str]) -> dict[str, int]:
    """For each prefix P, the number of names P + digits in ``specs`` (`MaskPool._names`'
    count), in one pass: a name counts for the longest of ``prefixes`` it starts with
    (two distinct prefixes of the pools, ``zk:masks/`` and ``zk:masks/s{i}/``, never
    both give a digit suffix), counted only when that prefix's rest is digits."""
    want = {p: 0 for p in prefixes}
    if not want:
        return want
    lens = sorted({len(p) for p in want}, reverse=True)
    root = min(want, key=len)
    common = root if all(p.startswith(root) for p in want) else ""
    for s in specs:
        if not s.startswith(common):
            continue
        for n in lens:
            p = s[:n]
            if p in want and s[n:].isdigit():
                want[p] += 1
                break
    return want


def fork_pool(ctx, index: int, first: int | None = None) -> MaskPool:
    """The pool of segment ``index``'s fork context ``ctx``: the first group, committed
    on the main transcript by `precommit`, then groups of its own.  Refused if that
    group was not committed (or, on the prover side, its tables are not at hand: a
    remote executor does not carry the main context's masks)."""
    pool = MaskPool(fork_prefix(index), first)
    names = [f"{pool.prefix}{k}" for k in range(pool._first())]
    err = ProverError if ctx.prover else VerificationError
    if any(n not in ctx.specs for n in names) or (
            ctx.prover and any(n not in ctx._tables for n in names)):
        raise err(f"zero-knowledge: the masks of segment {index} were not committed "
                  "before the fork (a remote executor cannot prove in zero knowledge)")
    pool.free, pool.groups = names, 1
    return pool


def _phi(E: Field) -> np.ndarray:
    """The extension generator φ (E = F[φ]); only degree-2 challenge fields."""
    x = E.zeros(())
    x = np.array(x, copy=True)
    x[1] = 1
    return x


def coefficients(E: Field, F: Field, reg: Region, table: np.ndarray) -> np.ndarray:
    """The mask's effective coefficients c[i, m] (n × (d+1), E) from the chunk table:
    c[i, m] = Σ_{k: s(k) = m} a_{i,k}."""
    blk = np.asarray(table[reg.offset:reg.offset + (reg.block << reg.var_vars)])
    s = _exponents(reg.w)
    out = E.zeros((reg.n, reg.degree + 1))
    for i in range(reg.n):
        raw = blk[i * reg.block:(i + 1) * reg.block]
        for k in range(1 << reg.e):
            if reg.ncomp == 1:
                a = E.embed(raw[k:k + 1])[0]
            else:
                a = np.array([raw[2 * k], raw[2 * k + 1]], dtype=np.uint64)
            out[i, s[k]] = E.add(out[i, s[k]], a)
    return out


def _poly(E: Field, c: np.ndarray, x) -> np.ndarray:
    """Σ_m c[m]·x^m (Horner)."""
    acc = E.scalar(0)
    for m in range(c.shape[0] - 1, -1, -1):
        acc = E.add(E.mul(acc, x), c[m])
    return acc


def mask_sum(E: Field, c: np.ndarray, n: int) -> np.ndarray:
    """G = Σ_{x∈{0,1}^n} Σ_i g_i(x_i) = 2^{n−1}·Σ_i (g_i(0) + g_i(1))."""
    tot = E.scalar(0)
    for i in range(n):
        tot = E.add(tot, E.add(E.add(c[i, 0], c[i, 0]), E.sum(c[i, 1:]) if c.shape[1] > 1
                               else E.scalar(0)))
    half = E.inv(E.scalar(2))
    return E.mul(tot, E.mul(E.pow(E.scalar(2), n), half))


class ProverMask:
    """The prover's side of one ZK sumcheck mask (`zklora.zkcore.sumcheck.Mask`)."""

    def __init__(self, E: Field, c: np.ndarray, n: int, rho: np.ndarray):
        self.E, self.c, self.n, self.rho = E, c, n, rho
        self.d = c.shape[1] - 1
        self.fixed = E.scalar(0)     # Σ_{i<j} g_i(r_i)
        two = E.scalar(2)
        self.half = E.inv(two)
        self.S = [E.add(E.add(c[i, 0], c[i, 0]), E.sum(c[i, 1:]) if self.d else E.scalar(0))
                  for i in range(n)]
        # suffix sums Σ_{i>j} S_i
        self.suffix = [E.scalar(0)] * (n + 1)
        for i in range(n - 1, -1, -1):
            self.suffix[i] = E.add(self.suffix[i + 1], self.S[i])

    def round(self, j: int, degree: int) -> np.ndarray:
        """Values at X = 0..degree of the mask's round-j polynomial
        2^m·(Σ_{i<j} g_i(r_i) + g_j(X)) + 2^{m−1}·Σ_{i>j} S_i, m = n − 1 − j."""
        E = self.E
        m = self.n - 1 - j
        p2 = E.pow(E.scalar(2), m)
        tail = E.mul(E.mul(p2, self.half), self.suffix[j + 1])
        out = E.zeros(degree + 1)
        for t in range(degree + 1):
            v = E.add(self.fixed, _poly(E, self.c[j], E.scalar(t)))
            out[t] = E.add(E.mul(p2, v), tail)
        return out

    def bind(self, j: int, r: np.ndarray) -> None:
        self.fixed = self.E.add(self.fixed, _poly(self.E, self.c[j], r))


def _tensor_point(E: Field, reg: Region, i: int, r: np.ndarray, err) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """(the claim point on the chunk for variable i at r, the factor
    (1+φ)·Π_j (1 + r^{w_j}) with g_i(r) = factor · Ã_i(point))."""
    one = E.scalar(1)
    coords = []
    factor = one
    if reg.ncomp == 2:
        phi = _phi(E)
        onep = E.add(one, phi)
        coords.append(E.mul(phi, E.inv(onep)))
        factor = onep
    for wj in reg.w:
        t = E.pow(r, wj)
        den = E.add(one, t)
        if bool(np.all(np.asarray(den) == 0)):   # canonical zero (not E.equal: tests patch it)
            raise err("zero-knowledge mask: challenge hits 1 + r^w = 0; retry the proof")
        coords.append(E.mul(t, E.inv(den)))
        factor = E.mul(factor, den)
    bits = [(i >> b) & 1 for b in range(reg.var_vars)]
    idx = reg.offset >> reg.size_vars
    bits += [(idx >> b) & 1 for b in range(reg.chunk_vars - reg.size_vars)]
    pt = E.zeros(len(coords) + len(bits))
    for k, c in enumerate(coords):
        pt[k] = c
    for k, b in enumerate(bits):
        pt[len(coords) + k] = E.scalar(b)
    return pt, factor


def _full(E: Field, x, n: int) -> np.ndarray:
    """``n`` copies of the element ``x`` (contiguous)."""
    x = np.asarray(x)
    return np.ascontiguousarray(np.broadcast_to(x, (n,) + x.shape))


#: per challenge field: (1, 1 + φ, φ/(1 + φ)) — the last two None over a degree-1 field
_CONSTS: dict = {}
#: per (field, region layout): the constant part of `_tensor_points`' output
_TEMPLATES: dict = {}


def _consts(E: Field) -> tuple:
    """(1, 1 + φ, φ/(1 + φ)) of ``E`` (cached: `Field.scalar` is slow)."""
    c = _CONSTS.get(E)
    if c is None:
        one = E.scalar(1)
        onep = coord = None
        if E.degree == 2:
            phi = _phi(E)
            onep = E.add(one, phi)
            coord = E.mul(phi, E.inv(onep))
        c = _CONSTS[E] = (one, onep, coord)
    return c


def _template(E: Field, reg: Region) -> tuple:
    """The parts of `_tensor_points`' result that do not depend on the point, for
    ``reg``'s layout: (n ones, the factor's start (n copies of 1 or 1 + φ), the points
    with the component coordinate and the bit coordinates filled, the first free
    column).  Cached; callers copy what they change."""
    idx = reg.offset >> reg.size_vars
    key = (E, reg.n, reg.degree, reg.ncomp, reg.var_vars, reg.chunk_vars - reg.size_vars,
           idx)
    t = _TEMPLATES.get(key)
    if t is not None:
        return t
    n = reg.n
    one, onep, coord = _consts(E)
    ones = _full(E, one, n)
    ncoords = len(reg.w) + (1 if reg.ncomp == 2 else 0)
    high = [(idx >> b) & 1 for b in range(reg.chunk_vars - reg.size_vars)]
    pts = E.zeros((n, ncoords + reg.var_vars + len(high)))
    factor = ones
    first = 0
    if reg.ncomp == 2:
        pts[:, 0] = _full(E, coord, n)
        factor = _full(E, onep, n)
        first = 1
    for b in range(reg.var_vars):
        sel = (np.arange(n) >> b) & 1 == 1
        pts[sel, ncoords + b] = one
    for b, bit in enumerate(high):
        if bit:
            pts[:, ncoords + reg.var_vars + b] = one
    pts.flags.writeable = False   # copied by `_tensor_points` (ones, factor: read only)
    t = _TEMPLATES[key] = (ones, factor, pts, first)
    return t


def _tensor_points(E: Field, reg: Region, point: np.ndarray, err
                   ) -> tuple[np.ndarray, np.ndarray]:
    """`_tensor_point` for every variable i < reg.n at once (element-wise field
    operations and one batch inversion; the point-independent parts from `_template`):
    (points (n, dims), factors (n,))."""
    n, w = reg.n, reg.w
    one, factor, tpl, first = _template(E, reg)
    r = np.ascontiguousarray(np.asarray(point)[:n])
    if _fast(E):   # one kernel call (same values)
        e = len(w)
        coords = np.empty((e, n, 2), np.uint64)
        fac = np.empty((n, 2), np.uint64)
        f0 = factor[0] if n else (1, 0)
        bad = KS.e_zk_points(np.ascontiguousarray(r, np.uint64), _weights_array(w),
                             np.uint64(f0[0]), np.uint64(f0[1]), coords, fac,
                             np.empty((e * n, 2), np.uint64))
        if bad >= 0:
            raise err("zero-knowledge mask: challenge hits 1 + r^w = 0; retry the proof")
        pts = tpl.copy()
        for k in range(e):
            pts[:, first + k] = coords[k]
        return pts, fac
    pw = {1: r}
    for wj in sorted(set(w)):
        if wj not in pw:
            pw[wj] = E.mul(pw[wj - 1], r) if wj - 1 in pw else E.pow(r, wj)
    ts = [pw[wj] for wj in w]
    dens = np.concatenate([E.add(one, t) for t in ts])
    zero = np.asarray(dens) == 0   # canonical zero (not E.equal: tests patch it)
    if E.elem_shape:
        zero = zero.reshape(dens.shape[0], -1).all(axis=1)
    if bool(np.any(zero)):
        raise err("zero-knowledge mask: challenge hits 1 + r^w = 0; retry the proof")
    inv = E.inv(dens)
    coords = E.mul(np.concatenate(ts), inv)
    pts = tpl.copy()
    for k in range(len(ts)):
        pts[:, first + k] = coords[k * n:(k + 1) * n]
    factor = E.mul(factor, _prod(E, dens.reshape((len(ts), n) + dens.shape[1:])))
    return pts, factor


def finish(ctx, reg: Region, label: str, point: np.ndarray, prover_c: np.ndarray | None
           ) -> np.ndarray:
    """Both sides, after the finals: the prover sends u_i = Ã_i(point_i) (the verifier
    reads them), each becomes a pending claim on the chunk; returns g(r)."""
    E = ctx.E
    err = ProverError if ctx.prover else VerificationError
    pts, factors = _tensor_points(E, reg, point, err)

    def compute():
        inv = E.inv(factors)
        return np.stack([E.mul(_poly(E, prover_c[i], point[i]), inv[i])
                         for i in range(reg.n)])

    u = ctx.exchange(f"{label}/zk/mask", reg.n, compute)
    for i in range(reg.n):
        ctx.zk_claim(Claim(reg.name, pts[i], u[i]))
    return E.sum(E.mul(factors, np.ascontiguousarray(u)))


def begin(ctx, label: str, num_vars: int, degree: int) -> tuple[sc.Mask, np.ndarray]:
    """The start of a ZK sumcheck on either side: allocate the mask, exchange
    G = Σ_x g(x), draw ρ.  Returns (the `sumcheck.Mask`, G)."""
    E = ctx.E
    reg = ctx.zk_pool.allocate(ctx, num_vars, degree)
    c = None
    if ctx.prover:
        c = coefficients(E, ctx.F, reg, ctx._tables[reg.name])
    G = ctx.exchange(f"{label}/zk/sum", 1, lambda: [mask_sum(E, c, num_vars)])[0]
    rho = ctx.challenge(f"{label}/zk/rho")

    def done(point):
        return finish(ctx, reg, label, point, c)

    state = ProverMask(E, c, num_vars, rho) if ctx.prover else None
    return sc.Mask(rho, done, state), G


class ShiftedMask:
    """Prover: the round values of ρ·g (a `ProverMask`) plus those of B·Π_j x_j, the
    polynomial that carries a blinded claim's unknown B (round j: B·Π_{i<j} r_i·X).
    Used with `sumcheck.Mask` of ρ = 1."""

    def __init__(self, E: Field, inner: ProverMask, rho: np.ndarray, B: np.ndarray):
        self.E, self.inner, self.rho, self.run = E, inner, rho, B

    def round(self, j: int, degree: int) -> np.ndarray:
        E = self.E
        out = E.mul(self.inner.round(j, degree), self.rho)
        for t in range(1, degree + 1):
            out[t] = E.add(out[t], E.mul(self.run, E.scalar(t)))
        return out

    def bind(self, j: int, r: np.ndarray) -> None:
        self.inner.bind(j, r)
        self.run = self.E.mul(self.run, r)


def run_blinded(ctx, label: str, num_vars: int, terms, claim, blinds, tables, public):
    """A ZK sumcheck for a *blinded* claim (docs/zero-knowledge.md §5.1), either side:
    Σ_x Σ_t c_t Π f_i(x) + Σ_b c_b·M̃_b(q_b) = ``claim``, the M_b committed masks
    (``blinds``, `claims.Blind`).  The mask is allocated and G sent, ρ drawn, as in
    `begin`; the prover runs the rounds of F + ρ·g + B·Π_j x_j (B = Σ_b c_b·M̃_b(q_b),
    which it knows) for the public claim + ρ·G; the finals of the tables not in
    ``public`` are sent; **no u_i**.  The verifier's final check is deferred: returns
    (point r, finals (the prover's; ``None`` for public ones on the verifier side),
    the running claim v, the mask terms) with

        Σ_t c_t Π f_i(r) + Σ_m m.coefficient·M̃_m(m.point) = v

    (the mask terms: ρ·factor_i on the slot's points — g(r) — and Π_j r_j·c_b on every
    blind), which the caller turns into a claim.  The masks' values are never sent."""

    E = ctx.E
    err = ProverError if ctx.prover else VerificationError
    reg = ctx.zk_pool.allocate(ctx, num_vars, sc.degree_of(terms))
    c = coefficients(E, ctx.F, reg, ctx._tables[reg.name]) if ctx.prover else None
    G = ctx.exchange(f"{label}/zk/sum", 1, lambda: [mask_sum(E, c, num_vars)])[0]
    rho = ctx.challenge(f"{label}/zk/rho")
    if ctx.prover:
        tabs = tables() if callable(tables) else tables
        n = np.asarray(tabs[0]).shape[0].bit_length() - 1 if len(tabs) else 0
        if n != num_vars:
            raise ProverError(f"{label}: tables have 2^{n} entries, 2^{num_vars} declared")
        B = blind_value(ctx, blinds)
        state = ShiftedMask(E, ProverMask(E, c, num_vars, rho), rho, B)
        point, finals = sc.prove(ctx.ch, E, tabs, terms, E.sub(claim, B), label=label,
                                 public=sorted(public),
                                 mask=sc.Mask(E.scalar(1), lambda p: None, state))
        g = E.scalar(0)
        for i in range(num_vars):
            g = E.add(g, _poly(E, c[i], point[i]))
        running = E.add(E.add(sc.combine(E, terms, finals), E.mul(rho, g)),
                        E.mul(B, _prod(E, point)))
    else:
        count = 1 + max((f for _, fs in terms for f in fs), default=-1)
        point, running = sc.verify_rounds(ctx.ch, E, num_vars, sc.degree_of(terms),
                                          E.add(claim, E.mul(rho, G)), label=label)
        send = [i for i in range(count) if i not in set(public)]
        finals = [None] * count
        if send:
            vals = ctx.ch.recv_field(f"{label}/finals", E, len(send))
            for k, i in enumerate(send):
                finals[i] = vals[k]
    pts, factors = _tensor_points(E, reg, point, err)
    pr = _prod(E, point)
    if E.elem_shape:   # one vector product
        cf = E.mul(np.ascontiguousarray(factors), rho)
        out = [Blind.owned(reg.name, pts[i], cf[i]) for i in range(reg.n)]
    else:
        out = [Blind.owned(reg.name, pts[i], E.mul(rho, factors[i])) for i in range(reg.n)]
    out += scale_blind(E, blinds, pr)
    return point, finals, running, out


def hidden_degree(terms, hidden) -> int:
    """The last round's degree when the tables ``hidden`` are masked by Z·ν: each
    hidden factor has degree 2 in the last variable (f + x(1 − x)·Z'·ν)."""
    hidden = set(hidden)
    return max((len(fs) + sum(1 for f in fs if f in hidden) for _, fs in terms), default=1)


#: per (field, slot vars): `_nu_points`' points for the largest k asked so far
_NU: dict = {}


def _nu_points(E: Field, sv: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The blinds ν_i (i < k) of a hidden sumcheck: the i-th challenge-field element
    stored in the upper half of a slot of 2^sv entries, ν_i = coefficient·M̃(point_i)
    (over an extension of degree 2: entries (2j, 2j + 1) with j = 2^(sv−2) + i, the
    point (c*, bits(j)), coefficient 1 + φ — `_tensor_point`'s component trick).
    The points depend on (E, sv, i) only: cached, a copy returned."""
    pts, coef = _nu_table(E, sv, k)
    return pts[:k].copy(), np.array(coef, copy=True)


def _nu_table(E: Field, sv: int, k: int) -> tuple[np.ndarray, np.ndarray]:
    """`_nu_points`' cached (read-only) table of at least ``k`` points and the
    coefficient (read only: callers copy what they keep)."""
    nc = E.degree
    one, onep, coord = _consts(E)
    coef = onep if nc == 2 else one
    got = _NU.get((E, sv))
    if got is not None and got.shape[0] >= k:
        return got, coef
    kk = max(k, 2 * got.shape[0] if got is not None else 8)
    pts = E.zeros((kk, sv))
    if nc == 2:
        pts[:, 0] = _full(E, coord, kk)
    low = nc.bit_length() - 1
    for i in range(kk):
        j = (1 << (sv - 1 - low)) + i
        for b in range(sv - low):
            if (j >> b) & 1:
                pts[i, low + b] = one
    pts.flags.writeable = False
    _NU[(E, sv)] = pts
    return pts, coef


#: per challenge field: `_nu_table`'s coefficient as a read-only array (`fresh_nu`)
_NU_COEF: dict = {}


def _nu_coef(E: Field, coef) -> np.ndarray:
    c = _NU_COEF.get(E)
    if c is None:
        c = _NU_COEF[E] = np.array(coef, copy=True)
        c.flags.writeable = False
    return c


def _nu_values(E: Field, table: np.ndarray, sv: int, k: int) -> np.ndarray:
    """Prover: ν_0..ν_{k−1} read from the slot's table (`_nu_points`)."""
    nc = E.degree
    half = 1 << (sv - 1)
    raw = np.asarray(table).reshape(-1)[half:half + nc * k]
    if nc == 1:
        return E.embed(raw)
    out = E.zeros(k)
    for i in range(k):
        out[i] = np.array([raw[2 * i], raw[2 * i + 1]], dtype=np.uint64)
    return out


def _split_terms(terms):
    """The terms of Σ_{x'} Σ_{b∈{0,1}} F(f(x', b)) over the tables (f_0^lo, f_0^hi,
    f_1^lo, …): each term once with the lo halves, once with the hi halves."""
    out = []
    for c, fs in terms:
        out.append((c, tuple(2 * f for f in fs)))
        out.append((c, tuple(2 * f + 1 for f in fs)))
    return out


def room(ctx, slots: int) -> bool:
    """Both sides: the context's pool can give ``slots`` more slots from its first group
    (the witness's stack, where a blind must come from: §5.1 "Segments") and still keep a
    quarter of that group free for the hidden sumchecks and reductions that must hide
    (a blinded claim on their output).  Optional hiding (zero-check finals, range
    values, masked op values) asks this first; the answer depends only on what both
    sides allocated before."""
    pool = ctx.zk_pool
    return pool.groups == 1 and len(pool.free) - int(slots) >= pool._first() // 4


def fresh_nu(ctx) -> Blind:
    """Both sides: the next blind ν of the context's ν slot, as the term ν = c·M̃(q)
    (`_nu_points`; a slot of the context's pool, its upper half, a new one when used
    up): the offset that hides a revealed evaluation (an output value, a `reveal`),
    docs/zero-knowledge.md §5.1.  The prover's value: `claims.blind_value`."""
    E = ctx.E
    st = ctx.__dict__.get("_nu_slot")
    cap = (1 << (slot_vars(E.degree) - 1)) // E.degree
    if st is None or st[1] >= cap:
        reg = ctx.zk_pool.allocate(ctx, 1, 2)
        st = [reg.name, 0]
        ctx.__dict__["_nu_slot"] = st
    name, k = st
    st[1] += 1
    pts, coef = _nu_table(E, slot_vars(E.degree), k + 1)
    # (a row of the cached read-only table, and the read-only coefficient: no copies)
    return Blind.owned(name, pts[k], _nu_coef(E, coef))


def run_hidden(ctx, label: str, num_vars: int, terms, claim, tables, public,
               blinds=(), reveal=()):
    """A ZK sumcheck that hides its finals (docs/zero-knowledge.md §5.1), either side:
    Σ_x Σ_t c_t Π f_i(x) (+ Σ_b c_b·M̃_b(q_b), ``blinds``) = ``claim``.

    * Every table not in ``public`` is replaced by f̂_i = f_i + Z·ν_i, Z = Π_j x_j(1 − x_j),
      ν_i a committed random value (the upper half of the mask's second slot,
      `_nu_points`).  Z vanishes on the hypercube, so the sum is unchanged and rounds
      0..n−2 are those of F (the prover runs them as the n−1-variable sumcheck of F's
      two halves, `sumcheck.prove` unchanged, no finals); only the last round changes,
      of degree D = `hidden_degree` (≤ 2d).
    * The mask g = Σ_i g_i(x_i) has degree d in x_0..x_{n−2} and D in x_{n−1} (a region
      of degree d over n variables and one of degree D over one variable, in a second
      slot); G sent, ρ drawn, the rounds of F̂ + ρ·g + B·Π_j x_j (B the blinds' value, as
      `run_blinded`).
    * Sent: G, the rounds, f̂_i(r) for the hidden tables.  Not sent: u_i, ν_i.
    * Returns (point r, values, blinds): values[i] = f̂_i(r) for hidden tables, f_i(r)
      for public ones (the verifier's from ``public``); blinds[i] = the claim's blind
      terms for table i — f̃_i(r) + Z(r)·ν_i = f̂_i(r) — (empty for public tables).
      The final check Σ_t c_t Π values(r) + ρ·g(r) + Π_j r_j·B = running is filed as a
      claim on the masks (`ctx.zk_claim`), opened with the others; Z(r) = 0 aborts.

    ``public``: on the prover side the indices of the public tables; on the verifier
    side a mapping index -> f_i(r) or a function of r (as `sumcheck.verify`).
    ``reveal``: tables whose finals are sent unmasked (no ν; claims on tensors that
    cannot carry a blind), after the hidden ones' in the same message."""
    err = ProverError if ctx.prover else VerificationError
    n = num_vars
    if n < 1:
        raise err(f"{label}: a hidden sumcheck needs at least one variable")
    E = ctx.E
    h = hidden_begin(ctx, label, n, terms, public, reveal)
    if ctx.prover:
        tabs = tables() if callable(tables) else tables
        tabs = [np.asarray(t) for t in tabs]
        size = tabs[0].shape[0]
        if size != 1 << n:
            raise ProverError(f"{label}: tables have {size} entries, 2^{n} declared")
        B = blind_value(ctx, blinds)
        state, mask = h.prover_mask(E, n, B)
        half = size >> 1
        split = [t for tab in tabs for t in (tab[:half], tab[half:])]
        if n > 1:
            head, ends = sc.prove(ctx.ch, E, split, _split_terms(terms), E.sub(claim, B),
                                  label=label, public=range(len(split)), mask=mask)
        else:
            head, ends = E.zeros(0), [sc._lifted(E, t)[0] for t in split]
        point, values, running = hidden_last_round(ctx, label, h, terms, state, B, head,
                                                   ends)
    else:
        head, running = sc.verify_rounds(ctx.ch, E, n - 1, h.d,
                                         E.add(claim, E.mul(h.rho, h.G)), label=label)
        msg = ctx.ch.recv_field(f"{label}/round{n - 1}", E, h.D)
        g = E.zeros(h.D + 1)
        g[0] = msg[0]
        g[1] = E.sub(running, msg[0])
        g[2:] = msg[1:]
        r = ctx.challenge(f"{label}/r{n - 1}")
        running = sc._interpolate(E, g, r)
        point = E.zeros(n)
        point[:n - 1] = head
        point[n - 1] = r
        values = [None] * h.count
        if h.sent:
            vals = ctx.ch.recv_field(f"{label}/finals", E, len(h.sent))
            for k, i in enumerate(h.sent):
                values[i] = vals[k]
        for i, v in dict(public).items():
            values[i] = v(point) if callable(v) else np.asarray(v)
    return hidden_finish(ctx, label, h, terms, point, values, running, blinds)


@attrs.define
class HiddenRun:
    """The set-up of one hidden sumcheck (`hidden_begin`): its degrees, which tables are
    hidden / sent unmasked, its two mask regions, G and ρ, and (prover) the mask's
    coefficients and the hidden tables' ν."""

    d: int
    D: int
    count: int
    hidden: list
    sent: list          # hidden, then revealed: the order of the finals message
    regA: Region
    regB: Region
    G: np.ndarray
    rho: np.ndarray
    c: np.ndarray | None = None
    nu: list | None = None

    def prover_mask(self, E: Field, n: int, B):
        """(state, `sumcheck.Mask`) of the rounds of F̂ + ρ·g + B·Π_j x_j (prover)."""
        state = ShiftedMask(E, ProverMask(E, self.c, n, self.rho), self.rho, B)
        return state, sc.Mask(E.scalar(1), lambda p: None, state)


def hidden_begin(ctx, label: str, n: int, terms, public=(), reveal=()) -> HiddenRun:
    """Both sides, the start of a hidden sumcheck (`run_hidden`) of ``n`` ≥ 1 variables:
    the mask's two regions allocated (degree d over n variables, D = `hidden_degree` over
    the last), G exchanged and ρ drawn.  A prover that runs rounds 0 … n−2 itself (a
    specialised kernel) continues with `HiddenRun.prover_mask`, `hidden_last_round` and
    `hidden_finish`: the same messages as `run_hidden`."""
    E = ctx.E
    err = ProverError if ctx.prover else VerificationError
    d = sc.degree_of(terms)
    count = 1 + max((f for _, fs in terms for f in fs), default=-1)
    pub, rev = set(public), set(reveal)
    shown = [i for i in range(count) if i not in pub and i in rev]
    hidden = [i for i in range(count) if i not in pub and i not in rev]
    D = hidden_degree(terms, hidden)
    regA = ctx.zk_pool.allocate(ctx, n, d)
    regB = ctx.zk_pool.allocate(ctx, 1, D)
    sv = regB.chunk_vars
    if regB.offset or (1 << regB.size_vars) > 1 << (sv - 1) or \
            E.degree * len(hidden) > 1 << (sv - 1):
        raise err(f"{label}: too many hidden tables for one mask slot")
    c = nu = None
    if ctx.prover:
        cA = coefficients(E, ctx.F, regA, ctx._tables[regA.name])
        cB = coefficients(E, ctx.F, regB, ctx._tables[regB.name])
        c = E.zeros((n, D + 1))
        c[:, :d + 1] = cA
        c[n - 1] = E.add(c[n - 1], cB[0])
        nu = _nu_values(E, ctx._tables[regB.name], sv, len(hidden))
    G = ctx.exchange(f"{label}/zk/sum", 1, lambda: [mask_sum(E, c, n)])[0]
    rho = ctx.challenge(f"{label}/zk/rho")
    return HiddenRun(d, D, count, hidden, hidden + shown, regA, regB, G, rho, c, nu)


def hidden_last_round(ctx, label: str, h: HiddenRun, terms, state, B, head, ends):
    """Prover: the last round of a hidden sumcheck from the tables' folded pairs
    ``ends`` (table i's values at x_{n−1} = 0, 1: ends[2i], ends[2i + 1], at the point
    ``head`` of rounds 0 … n−2), with f̂ = f + Z·ν: sends the round (degree D) and the
    finals, binds the challenge into ``state``.  Returns (point, values, running)."""
    E = ctx.E
    n = len(head) + 1
    one = E.scalar(1)
    zp = one
    for rj in head:
        zp = E.mul(zp, E.mul(rj, E.sub(one, rj)))
    nus = dict(zip(h.hidden, h.nu))

    def at(i, x):
        a, b = ends[2 * i], ends[2 * i + 1]
        v = E.add(a, E.mul(E.sub(b, a), x))
        if i in nus:
            v = E.add(v, E.mul(E.mul(zp, E.mul(x, E.sub(one, x))), nus[i]))
        return v

    g = E.zeros(h.D + 1)
    for t in range(h.D + 1):
        x = E.scalar(t)
        g[t] = sc.combine(E, terms, [at(i, x) for i in range(h.count)])
    sent = E.add(g, state.round(n - 1, h.D))
    ctx.ch.send_field(f"{label}/round{n - 1}", E, np.concatenate([sent[:1], sent[2:]]))
    r = ctx.challenge(f"{label}/r{n - 1}")
    state.bind(n - 1, r)
    point = E.zeros(n)
    point[:n - 1] = head
    point[n - 1] = r
    values = [at(i, r) for i in range(h.count)]
    if h.sent:
        ctx.ch.send_field(f"{label}/finals", E, np.stack([values[i] for i in h.sent]))
    running = E.add(E.add(sc.combine(E, terms, values), E.mul(h.rho, state.inner.fixed)),
                    E.mul(B, _prod(E, point)))
    return point, values, running


def hidden_finish(ctx, label: str, h: HiddenRun, terms, point, values, running,
                  blinds=()):
    """Both sides, the end of a hidden sumcheck: Z(r) = 0 aborts; the final check
    Σ_t c_t Π values(r) + ρ·g(r) + Π_j r_j·B = running filed as one claim on the masks;
    returns (point, values, blinds) as `run_hidden` does."""
    E = ctx.E
    err = ProverError if ctx.prover else VerificationError
    n = point.shape[0]
    pr, z = _prod_z(E, point)
    if bool(np.all(np.asarray(z) == 0)):
        raise err(f"{label}: Z(r) = 0; retry the proof")
    # the final check as one claim on the masks
    ptsA, facA = _tensor_points(E, h.regA, point, err)
    ptsB, facB = _tensor_points(E, h.regB, point[n - 1:], err)
    value = E.sub(running, sc.combine(E, terms, values))
    if _fast(E) and _finish_ints(ctx, h, n, ptsA, facA, ptsB, facB, pr, value, blinds):
        pass   # (the claim filed in Python integers: the same values)
    elif E.elem_shape:
        # the terms' coefficients: ρ·factor_i on regA, ρ·factor on regB, Π_j r_j·c_b on
        # the blinds (one vector product for the first two, one for the blinds), the
        # claim built without intermediate `Blind`s
        cfs = E.mul(np.concatenate([facA, facB[:1]]), h.rho)
        tensors = [h.regA.name] * n + [h.regB.name]
        pts = list(ptsA) + [ptsB[0]]
        if blinds:
            cfb = E.mul(np.stack([np.asarray(b.coefficient) for b in blinds]), pr)
            cfs = np.concatenate([cfs, cfb])
            tensors += [b.tensor for b in blinds]
            pts += [b.point for b in blinds]
        _mask_claim(ctx, tensors, pts, cfs, value)
    else:
        cfA = E.mul(np.ascontiguousarray(facA), h.rho)
        terms_m = [(h.regA.name, ptsA[i], cfA[i]) for i in range(n)]
        terms_m.append((h.regB.name, ptsB[0], E.mul(h.rho, facB[0])))
        if blinds:
            cfb = E.mul(np.stack([np.asarray(b.coefficient) for b in blinds]), pr)
            terms_m += [(b.tensor, b.point, cfb[k]) for k, b in enumerate(blinds)]
        mask_claim(ctx, [Blind(t, q, cf) for t, q, cf in terms_m], value)
    # (rows of the cached read-only ν table: a `Blind` may hold them as they are)
    nupts, nucoef = _nu_table(E, h.regB.chunk_vars, len(h.hidden))
    zc = E.mul(z, nucoef)
    out_blinds: list[tuple] = [()] * h.count
    own, name = Blind.owned, h.regB.name
    for k, i in enumerate(h.hidden):
        out_blinds[i] = (own(name, nupts[k], zc),)
    return point, values, out_blinds


_P = KG.P_INT


def _limbs(a) -> tuple[int, int] | None:
    """A goldilocks-ext2 element's limbs as Python integers, None when not a canonical
    (2,) uint64 array (the array path then decides)."""
    if type(a) is not np.ndarray or a.shape != (2,) or a.dtype != np.uint64:
        return None
    a0, a1 = a.tolist()
    return (a0, a1) if a0 < _P and a1 < _P else None


def _imul(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """a·b in goldilocks-ext2 (x² = 7), Python integers."""
    return (a[0] * b[0] + 7 * a[1] * b[1]) % _P, (a[0] * b[1] + a[1] * b[0]) % _P


def _iinv(a: tuple[int, int]) -> tuple[int, int]:
    """1/a in goldilocks-ext2 (a ≠ 0): (a0 − a1·x)/(a0² − 7·a1²)."""
    n = pow((a[0] * a[0] - 7 * a[1] * a[1]) % _P, _P - 2, _P)
    return a[0] * n % _P, (_P - a[1]) * n % _P


def _finish_ints(ctx, h, n, ptsA, facA, ptsB, facB, pr, value, blinds) -> bool:
    """`hidden_finish`'s mask claim over goldilocks-ext2 in Python integers (a few dozen
    products: cheaper than an array operation each): the terms ρ·facA_i on regA,
    ρ·facB_0 on regB and Π_j r_j·c_b on the blinds, divided by the first (`_mask_claim`;
    (x·ρ)/(facA_0·ρ) = x/facA_0 exactly).  False (nothing filed) when an operand is
    not a canonical element."""
    rho, prl, val = _limbs(h.rho), _limbs(pr), _limbs(value)
    bc = [_limbs(b.coefficient) for b in blinds]
    if rho is None or prl is None or val is None or None in bc:
        return False
    fa = [tuple(x) for x in facA.tolist()]
    c0 = _imul(fa[0], rho)
    if c0 == (0, 0):
        raise (ProverError if ctx.prover else VerificationError)(
            "zero-knowledge: a mask claim with a zero coefficient; retry the proof")
    inv0 = _iinv(c0)
    s1, s2 = _imul(rho, inv0), _imul(prl, inv0)
    cf = [_imul(x, s1) for x in fa[1:]]
    cf.append(_imul(tuple(facB[0].tolist()), s1))
    cf += [_imul(x, s2) for x in bc]
    cfa = np.array(cf, np.uint64).reshape(-1, 2)
    own, na = Blind.owned, h.regA.name
    terms = [own(na, ptsA[i], cfa[i - 1]) for i in range(1, n)]
    terms.append(own(h.regB.name, ptsB[0], cfa[n - 1]))
    terms += [own(b.tensor, b.point, cfa[n + k]) for k, b in enumerate(blinds)]
    ctx.zk_claim(Claim(na, ptsA[0], np.array(_imul(val, inv0), np.uint64), tuple(terms)))
    return True


def mask_claim(ctx, blinds: Sequence[Blind], value) -> None:
    """Both sides: file the claim Σ_b c_b·M̃_b(q_b) = ``value`` on committed masks (a
    deferred check, docs/zero-knowledge.md §5.1) with `ctx.zk_claim`, as a `Claim` on
    the first term's tensor (its coefficient divided out).  A zero first coefficient
    aborts."""
    E = ctx.E
    if not blinds:
        raise (ProverError if ctx.prover else VerificationError)("an empty mask claim")
    c0 = np.asarray(blinds[0].coefficient)
    if bool(np.all(c0 == 0)):
        raise (ProverError if ctx.prover else VerificationError)(
            "zero-knowledge: a mask claim with a zero coefficient; retry the proof")
    inv0 = E.inv(c0)
    rest = blinds[1:]
    cf = E.mul(np.stack([np.asarray(b.coefficient) for b in rest]), inv0) if rest else ()
    ctx.zk_claim(Claim(blinds[0].tensor, blinds[0].point, E.mul(value, inv0), tuple(
        Blind.owned(b.tensor, b.point, cf[k]) for k, b in enumerate(rest))))


def _fast(E: Field) -> bool:
    """Whether the scalar kernels of `zklora.kernels.sumcheck` serve ``E`` (goldilocks-ext2,
    numba started: a cold process keeps the numpy/Python-int path)."""
    return E.name == "goldilocks-ext2" and KG.numba_started()


@cache
def _weights_array(w: tuple[int, ...]) -> np.ndarray:
    a = np.array(w, np.int64)
    a.flags.writeable = False
    return a


def _prod_z(E: Field, point: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Π_j r_j, Z(r) = Π_j r_j·(1 − r_j)) for a point r."""
    if _fast(E):
        out = np.empty((2, 2), np.uint64)
        KS.e_prod_z(np.ascontiguousarray(point, np.uint64).reshape(-1, 2), out)
        return out[0], out[1]
    n = point.shape[0]
    one = _consts(E)[0]
    return _prod(E, point), _prod(E, E.mul(point, E.sub(_full(E, one, n), point)))


def _mask_claim(ctx, tensors: Sequence[str], points: Sequence[np.ndarray], coefs: np.ndarray,
                value) -> None:
    """`mask_claim` of the terms coefs[k]·M̃_{tensors[k]}(points[k]) (coefficients as one
    array): the same claim, without the intermediate `Blind`s."""
    E = ctx.E
    c0 = coefs[0]
    if bool(np.all(c0 == 0)):
        raise (ProverError if ctx.prover else VerificationError)(
            "zero-knowledge: a mask claim with a zero coefficient; retry the proof")
    inv0 = E.inv(c0)
    cf = E.mul(coefs[1:], inv0) if len(tensors) > 1 else ()
    ctx.zk_claim(Claim(tensors[0], points[0], E.mul(value, inv0), tuple(
        Blind.owned(t, q, cf[k]) for k, (t, q) in enumerate(zip(tensors[1:], points[1:])))))


def _prod(E: Field, xs: np.ndarray) -> np.ndarray:
    """Π xs (1 when empty): pairwise halving, one vector product per level."""
    xs = np.asarray(xs)
    if _fast(E) and xs.ndim == 2:
        out = np.empty((2, 2), np.uint64)
        KS.e_prod_z(np.ascontiguousarray(xs, np.uint64), out)
        return out[0]
    if xs.shape[0] == 0:
        return np.array(_consts(E)[0], copy=True)
    while xs.shape[0] > 1:
        h = xs.shape[0] // 2
        head = E.mul(np.ascontiguousarray(xs[:h]), np.ascontiguousarray(xs[h:2 * h]))
        xs = np.concatenate([head, xs[2 * h:]]) if xs.shape[0] & 1 else head
    return np.ascontiguousarray(xs[:1]).reshape(xs.shape[1:]).copy()


def run_sumcheck(ctx, label: str, num_vars: int, terms, claim, tables, public):
    """A ZK sumcheck (module doc) on either side; same return as
    `ProverContext.run_sumcheck`."""
    E = ctx.E
    mask, G = begin(ctx, label, num_vars, sc.degree_of(terms))
    if ctx.prover:
        tabs = tables() if callable(tables) else tables
        n = np.asarray(tabs[0]).shape[0].bit_length() - 1 if len(tabs) else 0
        if n != num_vars:
            raise ProverError(f"{label}: tables have 2^{n} entries, 2^{num_vars} declared")
        return sc.prove(ctx.ch, E, tabs, terms, claim, label=label, public=sorted(public),
                        mask=mask)
    count = 1 + max((f for _, fs in terms for f in fs), default=-1)
    return sc.verify(ctx.ch, E, num_vars, count, terms, E.add(claim, E.mul(mask.rho, G)),
                     label=label, public=public, mask=mask)


def evaluate_chunk(E: Field, table: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Ã(point) of a chunk (tests)."""
    return mle.evaluate(E, table, point, base=True)


# -- the final opening's masked stack reductions (docs/zero-knowledge.md §5.2) ------------


@attrs.frozen
class OpenMask:
    """The mask of one masked stack reduction (`open_mask`): its region, ρ, G and, on
    the prover side, the effective coefficients and the round state."""

    region: Region
    rho: np.ndarray
    G: np.ndarray
    c: np.ndarray | None = None
    state: ProverMask | None = None

    def terms(self, E: Field, point: np.ndarray, err) -> tuple[np.ndarray, np.ndarray]:
        """ρ·g(point) as claims on the slot: (points (n, dims), coefficients ρ·factor_i),
        ρ·g(point) = Σ_i coefficient_i · Ã(point_i)."""
        pts, factors = _tensor_points(E, self.region, point, err)
        return pts, E.mul(factors, _full(E, self.rho, self.region.n))

    def value(self, E: Field, point: np.ndarray) -> np.ndarray:
        """Prover: g(point) from the coefficients."""
        acc = E.scalar(0)
        for i in range(self.region.n):
            acc = E.add(acc, _poly(E, self.c[i], point[i]))
        return acc


def open_mask(ctx, k: int, label: str, num_vars: int) -> OpenMask:
    """Both sides: the mask of the final opening's k-th masked stack reduction (a
    degree-2 sumcheck over ``num_vars`` variables) in slot `open_slot` (k), committed
    by `precommit`: the prover sends G = Σ_x g(x), ρ is drawn.  Unlike `begin`, no u_i
    are ever sent: g(r*) stays inside the opening's sum claim (`OpenMask.terms`)."""
    E = ctx.E
    err = ProverError if ctx.prover else VerificationError
    name = open_slot(k)
    sv = slot_vars(E.degree)
    if k >= OPEN_SLOTS or name not in ctx.specs:
        raise err(f"zero-knowledge: no pre-committed mask for the opening's stack "
                  f"reduction {k} (at most {OPEN_SLOTS}, committed by zk.precommit)")
    if region_vars(num_vars, 2, E.degree) > sv:
        raise err(f"zero-knowledge: a stack of 2^{num_vars} entries is too large for a "
                  "mask slot")
    reg = Region(name, sv, 0, num_vars, 2, E.degree)
    c = coefficients(E, ctx.F, reg, ctx._tables[name]) if ctx.prover else None
    G = ctx.exchange(f"{label}/zk/sum", 1, lambda: [mask_sum(E, c, num_vars)])[0]
    rho = ctx.challenge(f"{label}/zk/rho")
    state = ProverMask(E, c, num_vars, rho) if ctx.prover else None
    return OpenMask(reg, rho, G, c, state)
