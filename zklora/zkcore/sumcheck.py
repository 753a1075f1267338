"""Generic sumcheck over sums of products of multilinear tables.

Relation proven:  Σ_{x∈{0,1}^n} Σ_t c_t · Π_{i∈t} f_i(x) = claim,  f_i multilinear.

Round j binds variable j (bit j of the flat index, §3.2).  The round polynomial g_j has
degree d = max |t|; the prover sends g_j(0), g_j(2), …, g_j(d) (d elements: g_j(1) is
derived from the running claim), the channel absorbs them, and r_j is drawn in the
challenge field.  At the end the prover sends f_i(r) for every table the verifier cannot
evaluate itself; the verifier checks Σ_t c_t Π f_i(r) against the last running claim
and returns the point and the values, which the caller turns into claims.

Sums of pairwise products over goldilocks-ext2 (degree 2) take a fast path
(`zklora.kernels.sumcheck`): g(0) and the X² coefficient summed per pair, g(1) derived
from the running claim, the fold fused with the next round's sums; it sends the same
values, so proofs are unchanged.  With g(1) derived, a bad witness is caught by the
final self-check rather than by a round's.

Any other sum of products over goldilocks-ext2 takes the fused generic path (`FUSED`,
issue 13): the round polynomial is evaluated at 0, 2, …, d only (g(1) derived the same
way), base-field tables stay base for the first round (lifted, flagged: cheaper
products), the fold at r_j is fused with round j+1's sums, and the folded stacks live in
two buffers allocated once per call.  On the ``cpu`` backend a round is one kernel call
(`zklora.kernels.sumcheck.gen_step` / ``p2_step``: running claim, fold, sums, message)
between the transcript's absorb and squeeze.  The messages are the same bytes.

Batched claims sharing the challenges (`prove_batch`/`verify_batch`) are combined with
powers of a random ρ drawn after every batched claim is absorbed.

Zero knowledge (`zklora.zkcore.zk`): with a `Mask` the prover runs the sumcheck of
F + ρ·g for the claim H + ρ·G (``masked_claim``), g = Σ_i g_i(x_i) a committed random
mask whose round polynomials it adds to each message; after the finals, ``mask.finish``
(both sides) exchanges what g(r) needs and returns it, and the verifier's final check
is Σ_t c_t Π f_i(r) + ρ·g(r).  Without a mask nothing changes.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import attrs
import numpy as np

from zklora.kernels import sumcheck as KS

from . import backend as compute
from . import selfcheck
from .errors import ProverError, VerificationError
from .field import Field
from .transcript import ProverChannel, Transcript, VerifierChannel

Term = tuple[object, tuple[int, ...]]
PublicValue = np.ndarray | Callable[[np.ndarray], np.ndarray]


@attrs.frozen
class Mask:
    """A ZK sumcheck's mask (module doc): ``rho``, ``finish(point) -> g(point)`` (run
    after the finals on both sides) and, on the prover side, ``state`` with
    ``round(j, degree)`` (the mask's round-j values at 0..degree) and ``bind(j, r)``."""

    rho: np.ndarray
    finish: Callable[[np.ndarray], np.ndarray]
    state: object = None


@attrs.frozen
class Instance:
    """One sumcheck claim: Σ_x Σ_t c_t Π f_i(x) = claim, tables in the challenge field."""

    tables: list
    terms: list
    claim: np.ndarray


def _norm_terms(F: Field, terms: Sequence[Term]):
    starts = [0]
    factors: list[int] = []
    coeffs = F.zeros(len(terms))
    gl = F.name == "goldilocks-ext2"  # an integer c is (c mod p, 0): no per-term conversion
    for j, (c, fs) in enumerate(terms):
        if isinstance(c, int | np.integer):
            coeffs[j] = (int(c) % _P, 0) if gl else F.scalar(c)
        else:
            coeffs[j] = c
        factors.extend(int(f) for f in fs)
        starts.append(len(factors))
    degree = max((len(fs) for _, fs in terms), default=0)
    return np.array(starts, np.int64), np.array(factors, np.int64), coeffs, max(degree, 1)


def degree_of(terms: Sequence[Term]) -> int:
    return max(1, max((len(fs) for _, fs in terms), default=0))


@lru_cache(maxsize=256)
def _inv_dens(p: int, degree: int) -> tuple[int, ...]:
    """1/Π_{j≠i}(i − j) mod p for the nodes i = 0..degree."""
    out = []
    for i in range(degree + 1):
        den = 1
        for j in range(degree + 1):
            if j != i:
                den *= i - j
        out.append(pow(den % p, p - 2, p))
    return tuple(out)


#: the goldilocks modulus (the fused rounds' field)
_P = 0xFFFFFFFF00000001


@lru_cache(maxsize=64)
def _inv_den_array(degree: int) -> np.ndarray:
    """`_inv_dens` of goldilocks as a read-only uint64 array (the step kernels' input)."""
    a = np.array(_inv_dens(_P, degree), np.uint64)
    a.flags.writeable = False
    return a


def _lagrange_weights(F: Field, degree: int, r: np.ndarray) -> np.ndarray:
    """w_i with g(r) = Σ w_i g(i) for nodes 0..degree:
    w_i = Π_{j≠i}(r − j) / Π_{j≠i}(i − j), numerators from prefix/suffix products."""
    diffs = [F.sub(r, F.scalar(j)) for j in range(degree + 1)]
    pre = [F.scalar(1)]
    for d in diffs[:-1]:
        pre.append(F.mul(pre[-1], d))
    w = F.zeros(degree + 1)
    suf = F.scalar(1)
    for i, inv in zip(range(degree, -1, -1), reversed(_inv_dens(F.p, degree))):
        w[i] = F.mul(F.mul(pre[i], suf), F.scalar(inv))
        suf = F.mul(suf, diffs[i])
    return w


def _interpolate(F: Field, g: np.ndarray, r: np.ndarray) -> np.ndarray:
    """g(r) for the polynomial with values g[i] at i = 0..degree.  Uses the field's
    optional fused ``interpolate`` when it has one (one kernel call per round)."""
    fast = getattr(F, "interpolate", None)
    if fast is not None:
        return fast(g, r)
    return F.dot(g, _lagrange_weights(F, g.shape[0] - 1, r))


def _combine_stack(last: np.ndarray, starts, factors, coeffs) -> np.ndarray:
    """`combine` over goldilocks-ext2 for the finals held in a (k, 1, 2) stack: one kernel
    call (the value at 0 of a round over the pair (finals, finals))."""
    st = np.ascontiguousarray(np.broadcast_to(last.reshape(-1, 1, 2), (last.shape[0], 2, 2)))
    return KS.gen_sums(st, np.zeros(st.shape[0], np.bool_), starts, factors,
                       np.array(coeffs, np.uint64), 1, np.zeros(2, np.uint64))[0]


def _combine_gl(terms: Sequence[Term], values: Sequence[np.ndarray]) -> np.ndarray | None:
    """`combine` over goldilocks-ext2 in Python integers (a few terms of a few factors:
    cheaper than one array operation per product), or None when an operand is not a
    canonical (2,) element (then the generic path decides)."""
    P = _P
    limbs: dict[int, tuple[int, int]] = {}
    a0 = a1 = 0
    for c, fs in terms:
        if isinstance(c, int | np.integer):
            p0, p1 = int(c) % P, 0
        else:
            c = np.asarray(c)
            if c.shape != (2,):
                return None
            p0, p1 = c.tolist()
            if p0 >= P or p1 >= P:
                return None
        for f in fs:
            v = limbs.get(f)
            if v is None:
                x = np.asarray(values[f])
                if x.shape != (2,) or x.dtype != np.uint64:
                    return None
                v = limbs[f] = tuple(x.tolist())
                if v[0] >= P or v[1] >= P:
                    return None
            p0, p1 = (p0 * v[0] + 7 * p1 * v[1]) % P, (p0 * v[1] + p1 * v[0]) % P
        a0 += p0
        a1 += p1
    return np.array((a0 % P, a1 % P), np.uint64)


def combine(F: Field, terms: Sequence[Term], values: Sequence[np.ndarray]) -> np.ndarray:
    """Σ_t c_t Π_{i∈t} values[i]."""
    if F.name == "goldilocks-ext2":
        out = _combine_gl(terms, values)
        if out is not None:
            return out
    acc = F.scalar(0)
    for c, fs in terms:
        p = F.scalar(c) if isinstance(c, int | np.integer) else c
        for f in fs:
            p = F.mul(p, values[f])
        acc = F.add(acc, p)
    return acc


#: use the kernels of `zklora.kernels.sumcheck` for sums of pairwise products over
#: goldilocks-ext2 (same proof bytes as the generic rounds; tests compare the two)
FAST = True


def _pairwise(F: Field, terms: Sequence[Term]):
    """(a_j, b_j) index arrays when every term is c_j·f_a·f_b and the fast kernels
    serve F; else None."""
    if not FAST or F.name != "goldilocks-ext2" or not terms:
        return None
    if any(len(fs) != 2 for _, fs in terms):
        return None
    fa = np.array([int(fs[0]) for _, fs in terms], np.int64)
    fb = np.array([int(fs[1]) for _, fs in terms], np.int64)
    return fa, fb


def _tables(F: Field, tables: Sequence[np.ndarray]) -> tuple[list[np.ndarray], int]:
    """The tables as F-arrays, base-field tables (shape (N,) over a field whose elements
    are arrays) kept as they are; and N, checked equal for all and a power of two."""
    ext = bool(F.elem_shape)
    out = []
    for t in tables:
        t = np.asarray(t)
        if not (ext and t.ndim == 1):
            t = t.reshape((-1,) + F.elem_shape)
        out.append(t)
    sizes = {int(t.shape[0]) for t in out}
    if len(sizes) != 1:
        raise ValueError(f"sumcheck tables of different sizes {sorted(sizes)}")
    size = sizes.pop()
    if size & (size - 1) or not size:
        raise ValueError(f"sumcheck tables have {size} entries, not a power of two")
    return out, size


class Deferred:
    """A table of ``size`` entries built by ``make()`` only where `prove` reads it: the
    eq factor named by `prove`'s ``eq`` hint, which the eq-factored rounds (`_prove_eq`)
    never read; every other path gets ``make()``'s table (the same field elements, so
    the same bytes).  Callers pass one only outside zero knowledge."""

    __slots__ = ("size", "make")

    def __init__(self, size: int, make: Callable[[], np.ndarray]):
        self.size = int(size)
        self.make = make


def table_len(t) -> int:
    """The number of entries of a `prove` table (an array or a `Deferred`)."""
    return t.size if isinstance(t, Deferred) else int(np.asarray(t).shape[0])


def _resolve(F: Field, tables, keep: int | None):
    """``tables`` with every `Deferred` but the one at index ``keep`` built; the one at
    ``keep`` (never read) becomes a zero-strided placeholder of its shape."""
    if isinstance(tables, np.ndarray) or not any(isinstance(t, Deferred) for t in tables):
        return tables
    out = []
    for i, t in enumerate(tables):
        if isinstance(t, Deferred):
            t = np.broadcast_to(np.zeros(F.elem_shape, np.uint64), (t.size,) + F.elem_shape) \
                if i == keep else t.make()
        out.append(t)
    return out


def _lifted(F: Field, t: np.ndarray) -> np.ndarray:
    return F.embed(t) if F.elem_shape and t.ndim == 1 else t


#: up to this many entries per table the fast path stacks (and lifts) the tables at
#: once instead of reading them one by one in the first round
_SMALL_TABLE = 1 << 10


def _prove_pairwise(ch: ProverChannel, F: Field, tabs: list[np.ndarray], n: int, coeffs,
                    fa: np.ndarray, fb: np.ndarray, claim, label: str,
                    mask: Mask | None = None):
    """The rounds of Σ_x Σ_j c_j·f_a(x)·f_b(x) over goldilocks-ext2 (module doc).
    The first round reads the tables in place (base tables in the base field) and folds
    each into one extension stack of half the size; no full-size copy is made."""
    size = 1 << n
    be = compute.current()
    coeffs = np.array(coeffs, np.uint64)  # writable: one kernel signature
    stack = None
    if size <= _SMALL_TABLE:  # small: one stack, fewer kernel calls
        stack = be.borrow(np.stack([_lifted(F, t) for t in tabs]))
        sums = be.p2_sums(stack, fa, fb)
    else:
        held, tabs = tabs, [be.borrow(t) for t in tabs]
        sums = np.stack([be.pair_sums(tabs[a], tabs[b]) for a, b in zip(fa, fb)])
    point = F.zeros(n)
    running = np.array(claim, np.uint64).reshape(2)
    steps = mask is None and FUSED and be.name == "cpu"
    for j in range(n):
        if steps and stack is not None:  # the rest: one kernel call per round
            return _p2_steps(ch, F, label, stack, sums, j, n, point, running, coeffs, fa, fb)
        g = KS.e_p2_message(sums, coeffs, running)
        if mask is None:
            ch.send_field(f"{label}/round{j}", F, g[0::2])
        else:
            ch.send_field(f"{label}/round{j}", F,
                          F.add(g, F.mul(mask.state.round(j, 2), mask.rho))[0::2])
        r = ch.challenge(f"{label}/r{j}", F)
        point[j] = r
        running = _interpolate(F, g, r)
        if mask is not None:
            mask.state.bind(j, r)
        if stack is None:  # first round read the tables in place: fold each into the stack
            stack = be.fold_tables(tabs, r)
            del tabs
            held.clear()   # `prove`'s list: tables no one else holds are freed
            if j + 1 < n:
                sums = be.p2_sums(stack, fa, fb)
        elif j + 1 < n:
            stack, sums = be.p2_fold_sums(stack, r, fa, fb)
        else:
            stack = be.sc_fold(stack, r)
    return point, running, np.asarray(be.to_host(stack), np.uint64)


#: generic rounds (any degree) over goldilocks-ext2 by the fused kernels of
#: `zklora.kernels.sumcheck` (g(1) derived, fold fused with the next round's sums,
#: base tables in the base field until the first challenge, preallocated buffers; same
#: proof bytes).  ``ZKLORA_SUMCHECK_FUSED=0`` runs the rounds of the backend's
#: ``sc_round``/``sc_fold`` instead (the prover before issue 13; benchmarks compare).
FUSED = os.environ.get("ZKLORA_SUMCHECK_FUSED", "1") != "0"


class _Rounds:
    """The generic rounds' three operations for a backend: ``sums(stack, isb, starts,
    factors, coeffs, degree, running)`` → g at 0..degree with g(1) = running − g(0),
    ``fold_sums(stack, r, out, …)`` → fold into ``out`` and ``sums`` of it (returns
    (folded, g)), ``fold(stack, r, out)`` → folded.  A backend serving
    ``sc_sums``/``sc_fold_sums``/``sc_fold_into`` is used as it is; the ``cpu`` backend
    (whose kernels are `zklora.kernels`) gets the fused kernels; any other backend its
    ``sc_round``/``sc_fold`` with g(1) replaced by the derived value (same bytes)."""

    def __init__(self, be):
        self.be = be
        self.own = hasattr(be, "sc_fold_sums")
        self.cpu = not self.own and be.name == "cpu"

    def sums(self, stack, isb, starts, factors, coeffs, degree, running):
        if self.own:
            return np.asarray(self.be.sc_sums(stack, isb, starts, factors, coeffs, degree,
                                              running), np.uint64)
        if self.cpu:
            return KS.gen_sums(stack, isb, starts, factors, coeffs, degree, running)
        return self._derive(self.be.sc_round(stack, starts, factors, coeffs, degree), running)

    def fold_sums(self, stack, r, out, starts, factors, coeffs, degree, running, isb):
        if self.own:
            folded, g = self.be.sc_fold_sums(stack, r, out, starts, factors, coeffs, degree,
                                             running)
            return folded, np.asarray(g, np.uint64)
        if self.cpu:
            return out, KS.gen_fold_sums(stack, r, out, starts, factors, coeffs, degree,
                                         running, isb)
        folded = self.be.sc_fold(stack, r)
        return folded, self._derive(
            self.be.sc_round(folded, starts, factors, coeffs, degree), running)

    def fold(self, stack, r, out):
        if self.own:
            return self.be.sc_fold_into(stack, r, out)
        if self.cpu:
            KS.fold_stack_into(stack, r, out)
            return out
        return self.be.sc_fold(stack, r)

    @staticmethod
    def _derive(g, running):
        g = np.array(g, np.uint64)
        g[1, 0] = (int(running[0]) - int(g[0, 0])) % _P
        g[1, 1] = (int(running[1]) - int(g[0, 1])) % _P
        return g



def _stacked(tables, size_hint=None):
    """The generic rounds' first stack (k, N, 2) and its base flags: a contiguous
    uint64 (k, N, 2) array passed as ``tables`` is used in place (read only); else the
    tables are written into one new stack, a base table (N,) as its lift, flagged."""
    if isinstance(tables, np.ndarray) and tables.ndim == 3 and tables.shape[2] == 2 \
            and tables.dtype == np.uint64 and tables.flags.c_contiguous:
        return tables, np.zeros(tables.shape[0], np.bool_)
    tabs = [np.asarray(t) for t in tables]
    size = int(tabs[0].shape[0])
    stack = np.empty((len(tabs), size, 2), np.uint64)
    isb = np.zeros(len(tabs), np.bool_)
    for i, t in enumerate(tabs):
        if t.ndim == 1:
            stack[i, :, 0] = t
            stack[i, :, 1] = 0
            isb[i] = True
        else:
            stack[i] = t.reshape(size, 2)
    return stack, isb


#: the generic prover's first rounds over a list of tables larger than `_SMALL_TABLE`
#: read them in place (`_block_pass`), a block of about `FIRST_BLOCK_BYTES` of stacked
#: rows at a time, each block folded at the challenges drawn so far: no full-size
#: (k, N, 2) stack is built (k·N·16 bytes: 2.5 GiB for the loss softmax's zero-check at
#: 2^23 entries).  After round s − 1 the tables are folded at r_0 … r_{s−1} into the
#: first buffer (k, N/2^s, 2); s is the least number of rounds (≥ 1, ≤ `STREAM_ROUNDS`)
#: after which that buffer fits in `STREAM_BYTES` (round j re-reads the inputs: s passes
#: instead of one, only for the big sumchecks)
FIRST_BLOCK_BYTES = 16 << 20
STREAM_BYTES = 256 << 20
STREAM_ROUNDS = 4
#: a list whose (k, N, 2) stack fits in this many bytes is stacked at once (one copy,
#: base tables lifted and flagged) and its rounds are all fused: round 1's fold at r_0
#: is fused with its sums (`KS.gen_step`), where the in-place first round stacks every
#: block twice (round 0's sums, then the fold into the first buffer) and sums round 1
#: in a pass of its own (the matmul einsums' eq·A·B at 2^16 entries: ~2 stack passes and
#: a sums pass fewer; same field elements, same bytes)
STACK_BYTES = 32 << 20


def _streamed_rounds(k: int, n: int) -> int:
    s = 1
    while s < min(n, STREAM_ROUNDS) and k * (16 << (n - s)) > STREAM_BYTES:
        s += 1
    return min(s, n)


def _block_pass(F: Field, tabs, isb, rs, starts, factors, coeffs, degree: int, running,
                out=None):
    """One pass over the tables ``tabs`` (each (N,) base or (N, 2) extension, read in
    place; ``isb`` flags the base ones) a block of rows at a time: each block stacked
    (base rows lifted), folded at the challenges ``rs`` (round order).  With ``out``
    (k, N/2^len(rs), 2) the folded blocks are written there; else returns the round
    polynomial (degree+1, 2) of the folded tables: `KS.gen_sums` per block, the blocks'
    g(0), g(2), … added and g(1) = running − g(0) derived once (the same field elements
    as one call on the whole folded stack)."""
    k, size, nr = len(tabs), int(tabs[0].shape[0]), len(rs)
    rows = 1 << max(1, (FIRST_BLOCK_BYTES // (16 * k)).bit_length() - 1)
    rows = min(size, max(rows, 2 << nr))
    buf = np.zeros((k, rows, 2), np.uint64)
    tmp = [np.empty((k, rows >> (i + 1), 2), np.uint64) for i in range(nr)]
    flags = isb if not nr else np.zeros(k, np.bool_)
    zero = np.zeros(2, np.uint64)
    acc = None
    for lo in range(0, size, rows):
        for i, t in enumerate(tabs):
            if isb[i]:
                buf[i, :, 0] = t[lo:lo + rows]
            else:
                buf[i] = t[lo:lo + rows]
        cur = buf
        for i in range(nr):
            KS.fold_stack_into(cur, rs[i], tmp[i])
            cur = tmp[i]
        if out is not None:
            out[:, lo >> nr:(lo + rows) >> nr] = cur
            continue
        g = KS.gen_sums(cur, flags, starts, factors, coeffs, degree, zero)
        acc = g if acc is None else F.add(acc, g)
    if out is not None:
        return None
    acc = np.array(acc, np.uint64)
    acc[1] = F.sub(np.ascontiguousarray(running, np.uint64), acc[0])
    return acc


def _prove_generic(ch: ProverChannel, F: Field, tables, n: int, starts, factors, coeffs,
                   degree: int, claim, label: str, mask: Mask | None):
    """The rounds of any sum of products over goldilocks-ext2 (`FUSED`): one backend call
    per round, no allocation per round (two ping-pong buffers for the folded stacks).
    On the ``cpu`` backend a list of tables larger than `_SMALL_TABLE` whose stack exceeds
    `STACK_BYTES` is read in place for the first rounds (`STREAM_BYTES`) and then folded
    into the first buffer.
    Returns (point, running claim, the last stack (k, 1, 2) on the host)."""
    ops = _Rounds(compute.current())
    size = 1 << n
    inplace = ops.cpu and not isinstance(tables, np.ndarray) and size > _SMALL_TABLE \
        and len(tables) * size * 16 > STACK_BYTES
    if inplace:
        tabs = [np.ascontiguousarray(t, np.uint64) for t in tables]
        isb = np.array([t.ndim == 1 for t in tabs], np.bool_)
        stack = None
    else:
        stack, isb = _stacked(tables)
    if isb.any():  # base factors first in each term: base·base products are 1 base product
        factors = factors.copy()
        for a, b in zip(starts[:-1], starts[1:]):
            factors[a:b] = sorted(factors[a:b], key=lambda f: not isb[f])
    k = len(isb)
    coeffs = np.array(coeffs, np.uint64)  # writable: one kernel signature
    running = np.array(claim, np.uint64).reshape(2)
    # rounds j < s read the tables in place; round j's fold goes to bufs[(j + 1 − s0) & 1]
    s = _streamed_rounds(k, n) if inplace else 0
    s0 = max(s, 1)
    sc = (starts, factors, coeffs, degree)
    if inplace:
        cur = None
        g = _block_pass(F, tabs, isb, (), *sc, running)
    else:
        cur = stack if ops.cpu else ops.be.borrow(stack)
        g = ops.sums(cur, isb, starts, factors, coeffs, degree, running)
    bufs = [np.empty(k * (size >> s0) * 2, np.uint64),
            np.empty(k * max(1, size >> (s0 + 1)) * 2, np.uint64)] if ops.cpu else None
    noflag = np.zeros(k, np.bool_)
    keep = [0, *range(2, degree + 1)]
    point = F.zeros(n)

    def streamed(j, run):
        """Round j < s after its challenge: the tables read in place again (the next
        round's g), or, at j = s − 1, folded into bufs[0] (then its g); None when j is
        the last round.  Returns (stack or None, g or None)."""
        nonlocal tabs
        if j + 1 < s:
            return None, _block_pass(F, tabs, isb, point[:j + 1], *sc, run)
        m = size >> s
        out = bufs[0][:k * m * 2].reshape(k, m, 2)
        _block_pass(F, tabs, isb, point[:s], *sc, run, out=out)
        tabs = None
        tables.clear()   # `prove`'s list: tables no one else holds are freed
        if j + 1 < n:
            return out, ops.sums(out, noflag, starts, factors, coeffs, degree, run)
        return out, None

    if ops.cpu and mask is None:  # one kernel call per round (`zklora.kernels.sumcheck`)
        g = np.ascontiguousarray(g, np.uint64)
        msg = np.ascontiguousarray(g[keep])
        run = np.empty(2, np.uint64)
        inv = _inv_den_array(degree)
        for j in range(n):
            ch.send_field(f"{label}/round{j}", F, msg)
            r = ch.challenge(f"{label}/r{j}", F)
            point[j] = r
            if j < s:  # the tables read in place
                folded, new = streamed(j, np.ascontiguousarray(_interpolate(F, g, r),
                                                               np.uint64))
                cur = folded if folded is not None else cur
                if new is not None:
                    g[:] = new
                    msg[:] = new[keep]
                continue
            m = size >> (j + 1)
            out = bufs[(j + 1 - s0) & 1][:k * m * 2].reshape(k, m, 2)
            if j + 1 < n:
                KS.gen_step(cur, r, out, noflag, starts, factors, coeffs, degree, inv, g, msg,
                            run)
            else:
                KS.fold_stack_into(cur, r, out)
            cur = out
        return point, _interpolate(F, g, r), cur
    for j in range(n):
        sent = g if mask is None else F.add(g, F.mul(mask.state.round(j, degree), mask.rho))
        ch.send_field(f"{label}/round{j}", F, sent[keep])
        r = ch.challenge(f"{label}/r{j}", F)
        point[j] = r
        running = _interpolate(F, g, r)
        if mask is not None:
            mask.state.bind(j, r)
        if j < s:  # the tables read in place (``cpu`` only)
            folded, new = streamed(j, np.ascontiguousarray(running, np.uint64))
            cur = folded if folded is not None else cur
            g = new if new is not None else g
            continue
        m = size >> (j + 1)
        out = bufs[(j + 1 - s0) & 1][:k * m * 2].reshape(k, m, 2) if ops.cpu else None
        if j + 1 < n:
            cur, g = ops.fold_sums(cur, r, out, starts, factors, coeffs, degree,
                                   np.ascontiguousarray(running, np.uint64), noflag)
        else:
            cur = ops.fold(cur, r, out)
    last = np.asarray(cur if ops.cpu else ops.be.to_host(cur), np.uint64)
    return point, running, last.reshape(k, -1, 2)


def _eq_terms(k: int, starts, factors, eqi: int):
    """(starts, factors) of the terms with the table ``eqi`` taken out (the other tables
    renumbered past it); None unless every term holds ``eqi`` exactly once."""
    st, fa = [0], []
    for a, b in zip(starts[:-1], starts[1:]):
        fs = [int(f) for f in factors[a:b]]
        if fs.count(eqi) != 1:
            return None
        fa.extend(f - (f > eqi) for f in fs if f != eqi)
        st.append(len(fa))
    return np.array(st, np.int64), np.array(fa, np.int64)


#: `prove`'s ``eq`` hint is used (eq-factored rounds, `_prove_eq`; same proof bytes);
#: ``ZKLORA_SUMCHECK_EQ=0`` ignores it (the plain generic rounds; benchmarks compare)
EQ_ROUNDS = os.environ.get("ZKLORA_SUMCHECK_EQ", "1") != "0"
#: below this many variables the hint is ignored (the setup costs more than it saves)
EQ_MIN_VARS = 10


def _eq_path(tabs, size: int, n: int, starts, factors, degree: int, eq, be):
    """(starts, factors, e) of `_prove_eq` when it serves a `prove` call with ``eq``
    (``cpu`` backend, degree ≥ 2, a stack of at most `STACK_BYTES`, every term holding
    the eq table once); else None."""
    if not EQ_ROUNDS or n < EQ_MIN_VARS or be.name != "cpu" or hasattr(be, "sc_fold_sums") \
            or degree < 2 or (size > _SMALL_TABLE and len(tabs) * size * 16 > STACK_BYTES):
        return None
    e = np.array(eq[1], np.uint64)  # writable: one kernel signature
    if e.shape != (n, 2, 2) or not e[:, 1].any(axis=1).all():
        return None  # some e_j(1) = 0 (a point with a 0 coordinate): h(1) is not recoverable
    t = _eq_terms(len(tabs), starts, factors, int(eq[0]))
    return None if t is None else (*t, e)


@lru_cache(maxsize=256)
def _eq_plan_cached(starts: bytes, factors: bytes, isb: bytes, degree: int):
    fa, wf = KS.eq_plan(np.frombuffer(starts, np.int64), np.frombuffer(factors, np.int64),
                        np.frombuffer(isb, np.bool_), degree)
    return fa.astype(np.int64), wf


def _eq_plan(starts, factors, isb, degree: int):
    """`KS.eq_plan`, memoised by the term structure (a prove repeats a few shapes many
    times); the arrays returned are shared: the kernels only read them."""
    return _eq_plan_cached(np.asarray(starts, np.int64).tobytes(),
                           np.asarray(factors, np.int64).tobytes(),
                           np.asarray(isb, np.bool_).tobytes(), int(degree))


#: `_prove_eq` with base tables reads them as a base stack in round 0 and the fold into
#: round 1 (`KS.split_stacks`, `KS.eq_sums_split` / `KS.eq_step_split`: no (k, N, 2)
#: lift; same messages); ``ZKLORA_SUMCHECK_SPLIT=0`` lifts them (`_stacked`; tests and
#: benchmarks compare)
SPLIT_BASE = os.environ.get("ZKLORA_SUMCHECK_SPLIT", "1") != "0"


def _prove_eq(ch: ProverChannel, F: Field, tabs, n: int, starts, factors, coeffs,
              degree: int, claim, label: str, eqi: int, e: np.ndarray):
    """`_prove_generic` (``cpu`` backend, no mask, stacked) for terms that all hold table
    ``eqi`` = Π_j e_j(x_j) (``e`` (n, 2, 2): a_j, b_j), kept out of the stack: the rounds
    of `KS.eq_sums` / `KS.eq_step` (Gruen's factoring, `zklora.kernels.sumcheck`'s section
    on eq-factored rounds); the same messages as `_prove_generic`.  With base tables
    (`SPLIT_BASE`) round 0 and the fold into round 1 read split stacks (base values
    unlifted).  Returns (point, running claim, the last stack (k, 1, 2) with table
    ``eqi``'s value put back)."""
    st2, fa2 = starts, factors
    others = [t for i, t in enumerate(tabs) if i != eqi]
    split = None
    if SPLIT_BASE and n > 1 and any(np.ndim(t) == 1 for t in others):
        split = KS.split_stacks(others)
        stack, isb = None, split[2]
    else:
        stack, isb = _stacked(others)
    del others
    if isb.any():  # base factors first in each term (as `_prove_generic`)
        fa2 = fa2.copy()
        for a, b in zip(st2[:-1], st2[1:]):
            fa2[a:b] = sorted(fa2[a:b], key=lambda f: not isb[f])
    k = len(isb)
    size = 1 << n
    coeffs = np.array(coeffs, np.uint64)  # writable: one kernel signature
    running = np.array(claim, np.uint64).reshape(2)
    W = np.empty((max(1, size - 1), 2), np.uint64)
    KS.e_eq_suffix(e, W)

    def w(j):
        off = size - (size >> j)
        return W[off:off + (size >> (j + 1))]

    sc = np.array([1, 0], np.uint64)
    g = np.empty((degree + 1, 2), np.uint64)
    noflag = np.zeros(k, np.bool_)
    plan0 = _eq_plan(st2, fa2, isb, degree)  # which terms start from w·f (same values)
    plan = plan0 if not isb.any() else _eq_plan(st2, fa2, noflag, degree)
    if split is None:
        bad = KS.eq_sums(stack, w(0), isb, st2, fa2, coeffs, degree, running, sc, e[0], g,
                         plan=plan0)
    else:
        bad = KS.eq_sums_split(*split, w(0), isb, st2, coeffs, degree, running, sc, e[0], g,
                               plan0)
    keep = [0, *range(2, degree + 1)]
    msg = np.ascontiguousarray(g[keep])
    run = np.empty(2, np.uint64)
    inv = _inv_den_array(degree)
    bufs = [np.empty(k * (size >> 1) * 2, np.uint64),
            np.empty(k * max(1, size >> 2) * 2, np.uint64)]
    point = F.zeros(n)
    cur, r = stack, None
    for j in range(n):
        if bad:
            raise ProverError(f"{label}: round {j - 1}: the eq factor's scale is 0")
        ch.send_field(f"{label}/round{j}", F, msg)
        r = ch.challenge(f"{label}/r{j}", F)
        point[j] = r
        m = size >> (j + 1)
        out = bufs[j & 1][:k * m * 2].reshape(k, m, 2)
        if cur is None:   # split stacks (n > 1): the fold into round 1
            bad = KS.eq_step_split(*split, r, out, w(1), noflag, st2, coeffs, degree, inv, g,
                                   msg, run, sc, e[0], e[1], plan)
            split = None
        elif j + 1 < n:
            bad = KS.eq_step(cur, r, out, w(j + 1), noflag, st2, fa2, coeffs, degree, inv, g,
                             msg, run, sc, e[j], e[j + 1], isb if j == 0 else noflag,
                             plan=plan)
        else:
            KS.fold_stack_into(cur, r, out)
        cur = out
    a, b = e[n - 1, 0], e[n - 1, 1]
    ev = F.mul(sc, F.add(a, F.mul(r, F.sub(b, a))))
    last = np.concatenate([cur[:eqi], np.asarray(ev, np.uint64).reshape(1, 1, 2),
                           cur[eqi:]], axis=0)
    return point, _interpolate(F, g, r), last


def _p2_steps(ch: ProverChannel, F: Field, label: str, stack, sums, j0: int, n: int, point,
              running, coeffs, fa, fb):
    """Rounds j0..n−1 of `_prove_pairwise` on the ``cpu`` backend without a mask, given
    the stack of round j0 (host) and its sums: one `zklora.kernels.sumcheck.p2_step` call
    per round into two preallocated ping-pong buffers (same values as the routed rounds)."""
    g = np.ascontiguousarray(KS.e_p2_message(sums, coeffs, running))
    msg = np.ascontiguousarray(g[0::2])
    run = np.empty(2, np.uint64)
    inv = _inv_den_array(2)
    k, m0 = stack.shape[0], stack.shape[1]
    bufs = [np.empty(k * (m0 >> 1) * 2, np.uint64), np.empty(k * max(1, m0 >> 2) * 2, np.uint64)]
    r = None
    for j in range(j0, n):
        ch.send_field(f"{label}/round{j}", F, msg)
        r = ch.challenge(f"{label}/r{j}", F)
        point[j] = r
        i = j - j0
        m = m0 >> (i + 1)
        out = bufs[i & 1][:k * m * 2].reshape(k, m, 2)
        if j + 1 < n:
            KS.p2_step(stack, r, out, fa, fb, coeffs, inv, g, msg, run)
        else:
            KS.fold_stack_into(stack, r, out)
        stack = out
    return point, _interpolate(F, g, r), stack


def prove(
    ch: ProverChannel,
    F: Field,
    tables: Sequence[np.ndarray],
    terms: Sequence[Term],
    claim: np.ndarray,
    *,
    label: str = "sumcheck",
    public: Sequence[int] = (),
    mask: Mask | None = None,
    own: bool = False,
    eq: tuple[int, np.ndarray] | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Prove the relation; returns (point r, [f_i(r)]).  With a ``mask`` (zero
    knowledge, module doc) the messages are those of F + ρ·g for H + ρ·G; ``claim``
    stays H (the prover tracks F's part of the running claim).  Tables are flat F-arrays of
    equal power-of-two length, or, over a field whose elements are arrays (an
    extension), flat base-field arrays of shape (N,) (read in the base field until the
    first challenge where a fast path serves them, lifted otherwise); over goldilocks-ext2
    a contiguous uint64 (k, N, 2) stack may be given instead of a list (read in place, not
    copied).  f_i(r) is sent for every i not in ``public``.  ``own``: the caller hands
    the list ``tables`` over (it is emptied): once the first round has folded them, the
    tables no one else holds are freed (the fast paths; same bytes).  ``eq`` = (i, e):
    the caller's word that table i is Π_j e_j(x_j), e_j(X) = e[j, 0]·(1 − X) + e[j, 1]·X
    (``e`` (n, 2, 2); eq(τ, ·): (1 − τ_j, τ_j)), in every term once: over goldilocks-ext2
    on the ``cpu`` backend without a mask its rounds are then eq-factored (`_prove_eq`;
    table i is not read; same bytes): that table may then be a `Deferred`, built only
    where a path reads it."""
    starts, factors, coeffs, degree = _norm_terms(F, terms)
    if not isinstance(tables, np.ndarray) and any(isinstance(t, Deferred) for t in tables):
        # a `Deferred` eq table is built unless the eq-factored rounds serve the call
        keep = None if eq is None else int(eq[0])
        made = _resolve(F, tables, keep)
        if keep is not None and isinstance(tables[keep], Deferred):
            tabs, size = _tables(F, made)
            n = size.bit_length() - 1
            be = compute.current() if F.name == "goldilocks-ext2" else None
            if not (mask is None and n > 0 and be is not None and FUSED
                    and _pairwise(F, terms) is None
                    and _eq_path(tabs, size, n, starts, factors, degree, eq, be) is not None):
                made[keep] = tables[keep].make()
        if own and isinstance(tables, list):
            tables.clear()
        tables = made
    tabs, size = _tables(F, tables)
    if own and isinstance(tables, list):
        tables.clear()
    n = size.bit_length() - 1
    pairs = _pairwise(F, terms) if n else None
    be = compute.current() if F.name == "goldilocks-ext2" else None
    fused = pairs is None and be is not None and FUSED and n > 0
    if pairs is not None:
        point, running, stack = _prove_pairwise(ch, F, tabs, n, coeffs, *pairs, claim, label,
                                                mask)
    elif fused and eq is not None and mask is None and (
            eqt := _eq_path(tabs, size, n, starts, factors, degree, eq, be)) is not None:
        point, running, stack = _prove_eq(ch, F, tabs, n, *eqt[:2], coeffs, degree, claim,
                                          label, int(eq[0]), eqt[2])
    elif fused:
        point, running, stack = _prove_generic(
            ch, F, tables if isinstance(tables, np.ndarray) else tabs, n, starts, factors,
            coeffs, degree, claim, label, mask)
    else:
        stack = np.stack([_lifted(F, t) for t in tabs])
        if be is not None and n:
            stack = be.borrow(stack)
        point = F.zeros(n)
        running = claim
    for j in range(n if pairs is None and not fused else 0):
        if be is None:
            g = F.sc_round(stack, starts, factors, coeffs, degree)
        else:
            g = np.asarray(be.sc_round(stack, starts, factors, coeffs, degree), np.uint64)
        if selfcheck.enabled() and not F.equal(F.add(g[0], g[1]), running):
            raise ProverError(f"{label}: round {j} sum does not match the claim (bad witness)")
        sent = g if mask is None else F.add(g, F.mul(mask.state.round(j, degree), mask.rho))
        ch.send_field(f"{label}/round{j}", F, np.concatenate([sent[:1], sent[2:]], axis=0))
        r = ch.challenge(f"{label}/r{j}", F)
        point[j] = r
        running = _interpolate(F, g, r)
        if mask is not None:
            mask.state.bind(j, r)
        stack = F.sc_fold(stack, r) if be is None else be.sc_fold(stack, r)
    if be is not None and pairs is None and not fused and n:
        stack = np.asarray(be.to_host(stack), np.uint64)
    finals = [stack[i, 0] for i in range(stack.shape[0])]
    if selfcheck.enabled() and not F.equal(
            _combine_stack(stack, starts, factors, coeffs)
            if FUSED and n and be is not None and be.name == "cpu"
            else combine(F, terms, finals), running):
        raise ProverError(f"{label}: final evaluation does not match (bad witness)")
    pub = set(public)
    send = [i for i in range(len(finals)) if i not in pub]
    if send:
        ch.send_field(f"{label}/finals", F, np.stack([finals[i] for i in send]))
    if mask is not None:
        mask.finish(point)
    return point, finals


def verify_rounds(ch: VerifierChannel, F: Field, num_vars: int, degree: int,
                  claim: np.ndarray, *, label: str = "sumcheck"
                  ) -> tuple[np.ndarray, np.ndarray]:
    """The rounds of `verify` alone: reads each round's message, draws r_j, and returns
    (r, the last running claim), which the caller checks (or, for the masked stack
    reduction, hands on to the opening as a sum claim)."""
    point = F.zeros(num_vars)
    running = np.asarray(claim)
    for j in range(num_vars):
        msg = ch.recv_field(f"{label}/round{j}", F, degree)
        g = F.zeros(degree + 1)
        g[0] = msg[0]
        g[1] = F.sub(running, msg[0])
        g[2:] = msg[1:]
        r = ch.challenge(f"{label}/r{j}", F)
        point[j] = r
        running = _interpolate(F, g, r)
    return point, running


def verify(
    ch: VerifierChannel,
    F: Field,
    num_vars: int,
    num_tables: int,
    terms: Sequence[Term],
    claim: np.ndarray,
    *,
    label: str = "sumcheck",
    public: Mapping[int, PublicValue] | None = None,
    mask: Mask | None = None,
) -> tuple[np.ndarray, list[np.ndarray]]:
    """Mirror of `prove` (``claim`` is H + ρ·G for a masked sumcheck).  ``public[i]``
    is f_i(r) or a function of r computing it.
    Raises `VerificationError` if a round or the final check fails; returns
    (r, [f_i(r)]) where the non-public values are the prover's, to become claims."""
    public = dict(public or {})
    point, running = verify_rounds(ch, F, num_vars, degree_of(terms), claim, label=label)
    send = [i for i in range(num_tables) if i not in public]
    finals: list = [None] * num_tables
    if send:
        vals = ch.recv_field(f"{label}/finals", F, len(send))
        for k, i in enumerate(send):
            finals[i] = vals[k]
    for i, v in public.items():
        finals[i] = v(point) if callable(v) else np.asarray(v)
    total = combine(F, terms, finals)
    if mask is not None:
        total = F.add(total, F.mul(mask.rho, mask.finish(point)))
    if not F.equal(total, running):
        raise VerificationError(f"{label}: final sumcheck evaluation does not match the claim")
    return point, finals


# -- batching ------------------------------------------------------------------------


def _merge(F: Field, instances: Sequence[Instance], rho: np.ndarray):
    tables: list = []
    terms: list = []
    claim = F.scalar(0)
    coef = F.scalar(1)
    for inst in instances:
        off = len(tables)
        tables.extend(inst.tables)
        for c, fs in inst.terms:
            cc = F.scalar(c) if isinstance(c, int | np.integer) else c
            terms.append((F.mul(coef, cc), tuple(off + f for f in fs)))
        claim = F.add(claim, F.mul(coef, inst.claim))
        coef = F.mul(coef, rho)
    return tables, terms, claim


def prove_batch(ch: ProverChannel, F: Field, instances: Sequence[Instance], *,
                label: str = "batch", public: Sequence[Sequence[int]] | None = None):
    """Prove several claims over the same number of variables with shared challenges.
    Returns (r, [finals per instance])."""
    for k, inst in enumerate(instances):
        ch.observe_public(f"{label}/claim{k}", F.encode(inst.claim))
    rho = ch.challenge(f"{label}/rho", F)
    tables, terms, claim = _merge(F, instances, rho)
    offs = np.cumsum([0] + [len(i.tables) for i in instances])
    pub = [offs[k] + i for k, p in enumerate(public or []) for i in p]
    point, finals = prove(ch, F, tables, terms, claim, label=label, public=pub)
    return point, [finals[offs[k]:offs[k + 1]] for k in range(len(instances))]


def verify_batch(ch: VerifierChannel, F: Field, num_vars: int, shapes: Sequence[tuple[int, list]],
                 claims: Sequence[np.ndarray], *, label: str = "batch",
                 public: Sequence[Mapping[int, PublicValue]] | None = None):
    """Mirror of `prove_batch`; ``shapes[k] = (num_tables, terms)`` of instance k."""
    for k, c in enumerate(claims):
        ch.observe_public(f"{label}/claim{k}", F.encode(c))
    rho = ch.challenge(f"{label}/rho", F)
    insts = [Instance([None] * n, t, c) for (n, t), c in zip(shapes, claims)]
    _, terms, claim = _merge(F, insts, rho)
    offs = np.cumsum([0] + [n for n, _ in shapes])
    pub = {}
    for k, p in enumerate(public or []):
        for i, v in p.items():
            pub[int(offs[k] + i)] = v
    point, finals = verify(ch, F, num_vars, int(offs[-1]), terms, claim, label=label, public=pub)
    return point, [finals[offs[k]:offs[k + 1]] for k in range(len(shapes))]


def warm(E: Field) -> None:
    """Compile (or load) every sumcheck kernel signature a prove uses, for `pyapi.warmup`:
    proves synthetic pairwise, generic and eq-factored sums over ``E`` (goldilocks-ext2)
    with base and extension tables, in memory and read-only, each size on both sides of
    the kernels' serial/parallel thresholds, self-checks off (the claims are not true
    ones).  The tiny example prove takes the serial paths only: without this the first
    prove at a real shape compiled the parallel (and mid-size serial) variants (seconds)."""
    rng = np.random.default_rng(1)

    def tabs(n, base, ro):
        out = [rng.integers(0, 1 << 32, (1 << n,) if i in base else (1 << n, 2),
                            dtype=np.uint64) for i in range(4)]
        for t in out if ro else ():
            t.flags.writeable = False
        return out

    def run(tables, terms, eq=None):
        prove(ProverChannel(Transcript("warm")), E, tables, terms, np.zeros(2, np.uint64),
              eq=eq)

    c = np.array([3, 5], np.uint64)
    pair = [(c, (0, 1)), (c, (2, 3)), (c, (0, 3))]
    gen = [(c, (0, 1, 2)), (c, (1, 3)), (c, (2,))]
    eqt = [(c, (0, 1, 2)), (c, (0, 3))]
    with selfcheck.disabled():
        for n in (6, 12, 14):
            for base, ro in (((), False), ((1, 3), True), ((0, 1), False)):
                run(tabs(n, base, ro), pair)
                run(tabs(n, base, ro), gen)
            st = np.stack(tabs(n, (), False))
            st.flags.writeable = False
            run(st, gen)
        for n in (10, 14):
            e = rng.integers(1, 1 << 32, (n, 2, 2), dtype=np.uint64)
            for base, ro in (((), False), ((1,), True)):
                run(tabs(n, base, ro), eqt, eq=(0, e))
    # the parallel stack fold: `_block_pass` only (stacks over `STACK_BYTES`)
    st = rng.integers(0, 1 << 32, (4, 1 << 12, 2), dtype=np.uint64)
    KS.fold_stack_into(st, c, np.empty((4, 1 << 11, 2), np.uint64))
