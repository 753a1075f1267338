"""Aligned block layout of many power-of-two vectors in one, and the stacked-claim
reduction.

`StackLayout` places items of sizes 2^{n_i} as blocks of one vector S of 2^K entries:
sorted largest first (stable), each at an offset that is a multiple of its own size,
the rest filled with aligned padding blocks.  Block i of 2^{n_i} entries at offset o_i
owns the indices whose high K − n_i bits are the bits of o_i / 2^{n_i}, so

    S̃(z_lo, z_hi) = Σ_blocks eq(bits(o_i / 2^{n_i}), z_hi) · item_i~(z_lo),

with z_lo the first n_i coordinates.  In particular S̃(r, bits(o_i / 2^{n_i})) = item_i~(r)
for every r, which turns a claim on an item into a claim on S.

`reduce_many` (one run on either side) merges the claims {S̃(p_k) = v_k} on each of
several stacks into one per stack with degree-2 sumchecks (stacks of the same size
share one batched sumcheck, `sumcheck.prove_batch`, and so one point r*)

    Σ_x S(x) · W(x) = Σ_k ρ^k v_k,   W = Σ_k ρ^k eq(p_k, ·),

ρ drawn after every claim is absorbed.  Each p_k has boolean high coordinates (it names
one block), so W is written block by block (cost Σ_k |block_k|) and the verifier
evaluates W(r*) = Σ_k ρ^k eq(r_k, r*_lo) · eq(bits_k, r*_hi) in O(#claims · K).
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
import numpy as np

from zklora.kernels import goldilocks as KG
from zklora.kernels import sumcheck as KS

from . import mle, scratch, selfcheck
from . import sumcheck as sclib
from . import zk as zklib
from .errors import ProverError, VerificationError
from .field import Field
from .sumcheck import _interpolate

#: prover: the claims on a stack of at least 2^STREAM_VARS entries are reduced by the
#: streaming prover (`_prove_streaming`: same messages, O(chunk) extra memory)
STREAM_VARS = 20
#: entries per chunk (log2) the streaming prover reads of S and writes of W at a time
CHUNK_VARS = 18
#: rounds the streaming prover runs over the chunks before it folds S and W into RAM
#: (2^-STREAM_ROUNDS of the table's length, in the challenge field)
STREAM_ROUNDS = 4
#: ... and more rounds while the folded tables would take more than this many bytes of
#: RAM (2·T·16 bytes an entry for T stacks of one size): a 30-layer SmolLM step has
#: several stacks of 2^28 entries, 2 GiB each (plus a fold's copy) after 4 rounds.
#: ``ZKLORA_OPEN_BYTES`` overrides it (`scratch.open_bytes`)
RAM_BYTES = 512 << 20
#: the streaming prover computes a stack's W chunks already folded in every pass (no
#: scratch file of W) when the stack has at most this many (expanded) claims
#: (`_WChunks`: each pass's per-claim factors as a few vector operations over all the
#: claims, then one kernel call a chunk); with more, its (claims × K) point array would
#: take too much RAM and W is kept in a scratch file instead.  (1024 before: the 25m
#: step's 2^26 stack has ~7500 claims, and writing and reading back its W cost more than
#: the vectorised factors)
DIRECT_W_CLAIMS = 1 << 16
#: the streaming prover's passes j < SEG_PASSES (and j < 8) over a base stack with
#: directly computed W (`_SegPass`) take each claim's pair sums as inner products of the
#: *unfolded* base S with the claim's eq weights (per claim a run of 2^8 entries made
#: once from S, `whir_eq.SegRuns`, then 2^8 products a pass; the weight tables shared by
#: the claims at one point) instead of building W's chunk and folding S; claims of at
#: most j variables still go through W (`_WChunks`).  0 turns it off (the same messages)
SEG_PASSES = 8
#: ... at most this many passes when the claims' pass-independent runs
#: (`whir_eq.SegRuns`, 16·Σ_k 2^min(n_k, 8) bytes) do not fit the openings' RAM budget:
#: then every pass makes them again from S (`seg_dots`), which only pays in the first two
SEG_PASSES_FRESH = 2
#: inside a scratch session, `StackLayout.stack_from` builds a stacked vector of at least
#: 1/SPILL_FACTOR of the store's spill threshold in a scratch file: stacks are held for
#: the whole proof (the base model's groups of 2^22 entries, 32 MiB each, about one per
#: layer: ~1 GiB of RAM at 30 layers otherwise)
SPILL_FACTOR = 2


@attrs.frozen
class Block:
    """Entries [offset, offset + 2^num_vars) of the stacked vector: item ``item`` (an
    index into the sizes given to `StackLayout`) or padding (``item is None``)."""

    item: int | None
    offset: int
    num_vars: int

    @property
    def index(self) -> int:
        """The block's index among blocks of its size (its high coordinates' bits)."""
        return self.offset >> self.num_vars


class StackLayout:
    """Placement of items of power-of-two ``sizes`` in one vector (see module doc)."""

    def __init__(self, sizes: Sequence[int]):
        self.sizes = [int(s) for s in sizes]
        for s in self.sizes:
            mle.log2_exact(s)
        order = sorted(range(len(self.sizes)), key=lambda i: -self.sizes[i])  # stable
        blocks: list[Block] = []
        pos = 0
        for i in order:
            n = self.sizes[i]
            blocks.append(Block(i, pos, n.bit_length() - 1))
            pos += n
        self.used = pos
        self.size = 1 << max(0, (pos - 1).bit_length()) if pos else 1
        self.num_vars = self.size.bit_length() - 1
        while pos < self.size:  # aligned padding blocks
            s = pos & -pos if pos else self.size
            while pos + s > self.size:
                s //= 2
            blocks.append(Block(None, pos, s.bit_length() - 1))
            pos += s
        self.blocks = blocks
        self._of = {b.item: b for b in blocks if b.item is not None}

    @property
    def padding(self) -> int:
        return self.size - self.used

    def block(self, item: int) -> Block:
        return self._of[item]

    def stack(self, F: Field, tables: Sequence[np.ndarray]) -> np.ndarray:
        """S as a flat base-field array: the items' tables in their blocks, zero padding."""
        out = F.zeros(self.size)
        for b in self.blocks:
            if b.item is not None:
                out[b.offset:b.offset + (1 << b.num_vars)] = np.asarray(tables[b.item]).reshape(
                    (-1,) + F.elem_shape)
        return out

    def stack_from(self, F: Field, tables: list, *, ints: bool = False,
                   direct: bool = False) -> np.ndarray:
        """S, read-only, built from ``tables`` block by block; each entry of the list is
        set to None once copied (a caller holding no other reference frees it then).
        Inside a `zklora.zkcore.scratch` session where S reaches 1/`SPILL_FACTOR` of the
        store's threshold, S is a read-only map of a scratch file (`scratch.Store.build`),
        so it counts towards the resident set only while it is read.  ``ints``: the
        tables are flat integer arrays of a base field, mapped with ``F.from_ints`` on
        the way (`FROM_INTS_BLOCK` entries at a time into the file: no converted copy
        of a whole table).  ``direct``: the file written with direct I/O
        (`scratch.Store.build`)."""
        if ints:
            if F.elem_shape != ():
                raise ValueError("stack_from(ints=True) needs a base field")
            # in the caller's list, so that each is freed once copied
            tables[:] = [_IntsTable(F, t) for t in tables]
        store = scratch.current()
        shape = (self.size,) + tuple(F.elem_shape)
        nbytes = 8 * int(np.prod(shape, dtype=np.int64))
        if store is None or not store.wants(nbytes * SPILL_FACTOR) or \
                F.zeros(1).dtype.hasobject:
            # (a field of Python-integer elements keeps S in RAM: pointers cannot live
            # in a file)
            out = F.zeros(self.size)
            for b in self.blocks:
                if b.item is not None:
                    t, tables[b.item] = tables[b.item], None
                    out[b.offset:b.offset + (1 << b.num_vars)] = np.asarray(t).reshape(
                        (-1,) + F.elem_shape)
                    del t
            out.flags.writeable = False
            return out

        def parts():
            for b in self.blocks:
                if b.item is not None:
                    t, tables[b.item] = tables[b.item], None
                    if isinstance(t, _IntsTable):
                        yield from t.blocks(b.offset)
                    else:
                        yield b.offset, np.asarray(t).reshape((-1,) + F.elem_shape)
                        scratch.drop(t)     # a staged table (`Committer`): pages back
                    del t

        return store.build(shape, F.zeros(1).dtype, parts(), tag="stack", direct=direct)

    def claim(self, E: Field, item: int, r: np.ndarray, value: np.ndarray) -> StackClaim:
        """item~(r) = value as a claim on S: S̃(r, bits(block index)) = value."""
        b = self.block(item)
        if E.shape(np.asarray(r)) != (b.num_vars,):
            raise VerificationError(f"stack: claim on item {item} has a point of shape "
                                    f"{E.shape(np.asarray(r))}, expected ({b.num_vars},)")
        return StackClaim(b.num_vars, b.index, np.asarray(r), value)


#: entries of an integer table `StackLayout.stack_from(ints=True)` maps to the field and
#: writes at a time (1 MiB of uint64: the converted block stays in cache)
FROM_INTS_BLOCK = 1 << 17


class _IntsTable:
    """A flat integer table met by `StackLayout.stack_from` (``ints=True``): the field
    elements ``F.from_ints(a)``, whole (``__array__``) or a block at a time (`blocks`)."""

    def __init__(self, F: Field, a) -> None:
        self.F = F
        self.a = np.asarray(a).reshape(-1)

    def __array__(self, dtype=None, copy=None):
        out = self.F.from_ints(self.a)
        return out if dtype is None else out.astype(dtype, copy=False)

    def blocks(self, offset: int):
        a, n = self.a, self.a.shape[0]
        for k in range(0, n, FROM_INTS_BLOCK):
            yield offset + k, self.F.from_ints(a[k:k + FROM_INTS_BLOCK])


def selector(E: Field, z_hi: np.ndarray, index: int) -> np.ndarray:
    """eq(bits(index), z_hi) = Π_i (z_i if bit i of index else 1 − z_i)."""
    one = E.scalar(1)
    out = one
    for i in range(E.shape(z_hi)[0]):
        zi = z_hi[i]
        out = E.mul(out, zi if (index >> i) & 1 else E.sub(one, zi))
    return out


@attrs.frozen
class StackTerm:
    """coefficient·S̃(point, bits of block ``index`` of 2^num_vars entries): an extra
    term of a multi-term `StackClaim` (a blinded claim's mask, docs/zero-knowledge.md
    §5.1)."""

    num_vars: int
    index: int
    point: np.ndarray
    coefficient: np.ndarray


@attrs.frozen
class ForeignTerm:
    """coefficient·S̃_b(point, bits of block ``index`` of 2^num_vars entries) on
    *another* stack b (``stack``, the caller's key for it; 2^stack_vars entries): a
    term of a blinded claim whose mask is committed in another stack than the claimed
    tensor (docs/zero-knowledge.md §5.1, "Late stacks").  Only a masked reduction
    (`reduce_many` with ``sums``) takes it: it is carried through the reduction's
    sumcheck as an unknown and ends in the reduction's sum claim.  ``value`` is the
    prover's S̃_b(point, bits) (None on the verifier's side; never sent)."""

    stack: int
    stack_vars: int
    num_vars: int
    index: int
    point: np.ndarray
    coefficient: np.ndarray
    value: np.ndarray | None = attrs.field(default=None, eq=False)


@attrs.frozen
class StackClaim:
    """S̃ at (point, bits of block ``index`` of 2^num_vars entries) equals value:
    ``point`` holds only the low ``num_vars`` coordinates.  With ``terms`` (a blinded
    claim, zero knowledge only) the claim is S̃(point, bits) + Σ_t c_t·S̃(p_t, bits_t) =
    value, every term on the same stack; ``foreign`` terms (`ForeignTerm`) are on other
    stacks (a masked reduction only)."""

    num_vars: int
    index: int
    point: np.ndarray
    value: np.ndarray
    terms: tuple[StackTerm, ...] = ()
    foreign: tuple[ForeignTerm, ...] = ()
    #: the own terms' bytes (`_own_key`) when the maker computed them, having checked
    #: every term's block, point and coefficient shape (`Committer._stack_claim`):
    #: `_check` then skips the terms
    key: bytes | None = attrs.field(default=None, eq=False, repr=False)


#: fields whose `Field.encode` is the elements' limbs as contiguous little-endian u64
_RAW_U64 = frozenset({"goldilocks-ext2"})


def _term_key(E: Field, c: StackClaim) -> bytes:
    """The extra terms of a claim as bytes (empty without terms: keys and the
    transcript of plain claims are unchanged; foreign terms, `_foreign_key`, appended
    only when there are some)."""
    if c.foreign:
        return _own_key(E, c) + _foreign_key(E, c)
    return _own_key(E, c)


def _foreign_key(E: Field, c: StackClaim) -> bytes:
    """A claim's foreign terms as bytes: a tag, their count, then per term its stack,
    the stack's size, block size and number, point and coefficient."""
    out = [b"foreign", np.array([len(c.foreign)], "<u8").tobytes()]
    for t in c.foreign:
        # (a published group's key is negative: two's complement)
        out.append(np.array([t.stack % (1 << 64), t.stack_vars, t.num_vars, t.index],
                            "<u8").tobytes())
        out.append(E.encode(np.asarray(t.point)) + E.encode(np.asarray(t.coefficient)))
    return b"".join(out)


def _own_key(E: Field, c: StackClaim) -> bytes:
    if c.key is not None:
        return c.key
    if not c.terms:
        return b""
    if E.name in _RAW_U64:
        # the field's encoding is its limbs as little-endian u64: the same bytes as one
        # array of the counts, block numbers, points' and coefficients' limbs
        ints = [len(c.terms)]
        for t in c.terms:
            ints.append(t.num_vars)
            ints.append(t.index)
            ints.extend(np.asarray(t.point, np.uint64).reshape(-1).tolist())
            ints.extend(np.asarray(t.coefficient, np.uint64).reshape(-1).tolist())
        return np.array(ints, "<u8").tobytes()
    out = [np.array([len(c.terms)], "<u8").tobytes()]
    for t in c.terms:
        out.append(np.array([t.num_vars, t.index], "<u8").tobytes())
        out.append(E.encode(np.asarray(t.point)) + E.encode(np.asarray(t.coefficient)))
    return b"".join(out)


def _expand(E: Field, coefs: np.ndarray, claims: Sequence[StackClaim]
            ) -> tuple[np.ndarray, list[StackClaim]]:
    """Multi-term claims as single-term ones for W: claim k with coefficient κ_k and
    terms (c_t, p_t) gives (κ_k, p_k) and (κ_k·c_t, p_t) — W = Σ_k κ_k (eq(p_k, ·) +
    Σ_t c_t eq(p_t, ·)).  Claims without terms: returned as they are."""
    if not any(c.terms for c in claims):
        return coefs, list(claims)
    # every term's κ_k·c_t as one vector product
    own = [k for k, c in enumerate(claims) for _ in c.terms]
    tc = [np.asarray(t.coefficient) for c in claims for t in c.terms]
    prods = E.mul(np.ascontiguousarray(coefs[own]), np.stack(tc))
    # positions in the expanded list: claim k at k + (terms before it), its terms after
    counts = np.array([len(c.terms) for c in claims], dtype=np.int64)
    heads = np.arange(len(claims), dtype=np.int64) + np.concatenate(
        [[0], np.cumsum(counts)[:-1]]).astype(np.int64)
    total = len(claims) + int(counts.sum())
    is_term = np.ones(total, dtype=bool)
    is_term[heads] = False
    cf = E.zeros(total)
    cf[heads] = coefs[:len(claims)]
    cf[is_term] = prods
    # (W reads only num_vars, index and point: a claim stands for its own head, a
    # `StackTerm` for itself — no new claim objects)
    out: list = []
    for c in claims:
        out.append(c)
        out.extend(c.terms)
    return cf, out


def _dedupe(E: Field, claims: Sequence[StackClaim], err, keys: dict | None = None
            ) -> list[StackClaim]:
    """``claims`` without repeats (equal point, block and terms; a repeat with another
    value is refused).  ``keys``: filled with id(claim) -> `_term_key` of the kept
    claims (for `_absorb`)."""
    seen: dict[tuple, StackClaim] = {}
    for c in claims:
        tk = _term_key(E, c)
        k = (c.num_vars, c.index, np.ascontiguousarray(c.point).tobytes(), tk)
        if k in seen:
            if not E.equal(seen[k].value, c.value):
                raise err("stack: two different values claimed at the same point")
        else:
            seen[k] = c
            if keys is not None:
                keys[id(c)] = tk
    return list(seen.values())


def _absorb(ch, E: Field, claims: Sequence[StackClaim], label: str,
            keys: dict | None = None) -> None:
    """Absorb ``claims`` (``keys``: their `_term_key` by id, from `_dedupe`)."""
    for k, c in enumerate(claims):
        head = np.array([c.num_vars, c.index], "<u8").tobytes()
        tk = keys[id(c)] if keys is not None else _term_key(E, c)
        ch.observe_public(f"{label}/claim{k}", head + E.encode(c.point) + E.encode(c.value)
                          + tk)


def _full_point(E: Field, K: int, c: StackClaim) -> np.ndarray:
    out = E.zeros(K)
    out[:c.num_vars] = c.point
    bits = [(c.index >> j) & 1 for j in range(K - c.num_vars)]
    if bits:
        out[c.num_vars:] = E.from_ints(np.array(bits, np.int64))
    return out


def _weights_ref(E: Field, rho: np.ndarray, claims: Sequence[StackClaim]):
    """`_weights`, one claim at a time (the reference the tests compare with)."""
    coef = E.scalar(1)
    total = E.scalar(0)
    coefs = []
    for c in claims:
        total = E.add(total, E.mul(coef, c.value))
        coefs.append(coef)
        coef = E.mul(coef, rho)
    return np.stack(coefs), total


def _weights(E: Field, rho: np.ndarray, claims: Sequence[StackClaim]):
    """(ρ^k per claim, Σ_k ρ^k v_k): the powers by doubling (ρ^(2^j) times the first
    2^j powers), the sum as one dot product."""
    n = len(claims)
    if n < 8:
        return _weights_ref(E, rho, claims)
    coefs = E.zeros(n)
    coefs[0] = E.scalar(1)
    step, have = np.asarray(rho), 1
    while have < n:
        take = min(have, n - have)
        coefs[have:have + take] = E.mul(np.ascontiguousarray(coefs[:take]),
                                        np.ascontiguousarray(np.broadcast_to(
                                            step, (take,) + np.asarray(step).shape)))
        have += take
        step = E.mul(step, step)
    vals = np.ascontiguousarray(np.stack([np.asarray(c.value) for c in claims]))
    return coefs, E.dot(coefs, vals)


def _w_table(E: Field, K: int, coefs: np.ndarray, claims: Sequence[StackClaim]) -> np.ndarray:
    """W = Σ_k ρ^k eq(p_k, ·), each claim written only into its own block (over
    goldilocks-ext2 one kernel call, `zklora.kernels.whir_eq.eq_acc_blocks`)."""
    w = E.zeros(1 << K)
    if E.name == "goldilocks-ext2" and claims:
        nmax = max(c.num_vars for c in claims)
        pts = np.zeros((len(claims), max(1, nmax), 2), dtype=np.uint64)
        for k, c in enumerate(claims):
            pts[k, :c.num_vars] = c.point
        from zklora.kernels import whir_eq as QE  # prover only
        QE.eq_acc_blocks(pts, [c.num_vars for c in claims],
                         [c.index << c.num_vars for c in claims], coefs, w)
        return w
    for cf, c in zip(coefs, claims):
        lo = c.index << c.num_vars
        hi = lo + (1 << c.num_vars)
        w[lo:hi] = E.add(w[lo:hi], E.mul(mle.eq_table(E, c.point), cf))
    return w


def _table(E: Field, t, base: bool) -> np.ndarray:
    """S for the sumcheck: a base-field S stays flat (the sumcheck reads it in the base
    field, `sumcheck.prove`); else as challenge-field elements."""
    if base and E.elem_shape:
        return np.asarray(t).reshape(-1)
    return mle.lift(E, t, base)


def _full_points(E: Field, K: int, claims: Sequence[StackClaim]) -> np.ndarray:
    """`_full_point` of every claim, (len(claims), K): the low coordinates copied per
    group of equal ``num_vars``, the block bits set by slices."""
    P = E.zeros((len(claims), K))
    groups: dict[int, list[int]] = {}
    for k, c in enumerate(claims):
        groups.setdefault(c.num_vars, []).append(k)
    one = E.scalar(1)
    index = np.array([c.index for c in claims], dtype=np.int64)
    for nv, ks in groups.items():
        if nv:
            P[ks, :nv] = np.stack([claims[k].point for k in ks])
        ks = np.array(ks, dtype=np.int64)
        idx = index[ks]
        for j in range(K - nv):
            sel = ks[(idx >> j) & 1 == 1]
            if len(sel):
                P[sel, nv + j] = one
    return P


def _w_eval(E: Field, K: int, coefs: np.ndarray, claims: Sequence[StackClaim]):
    """r ↦ W(r) = Σ_k ρ^k eq(p_k, r), p_k = (r_k, bits_k) (the eq factors of the
    boolean coordinates are the block selectors): one vector pass per coordinate."""
    P = _full_points(E, K, claims)
    if E.name == "goldilocks-ext2" and K and KG.numba_started():
        Pc = np.ascontiguousarray(P, np.uint64)
        cf = np.ascontiguousarray(coefs, np.uint64)

        def fast(r: np.ndarray) -> np.ndarray:   # one kernel call (the same value)
            out = np.empty(2, np.uint64)
            KS.e_eq_dot(Pc, cf, np.ascontiguousarray(r, np.uint64).reshape(K, 2), out)
            return out

        return fast

    def at(r: np.ndarray) -> np.ndarray:
        R = np.ascontiguousarray(np.broadcast_to(r[None], P.shape))
        pr = E.mul(P, R)
        t = E.add(E.sub(E.sub(E.add(pr, pr), P), R), E.scalar(1))  # 2pr − p − r + 1
        acc = t[:, 0] if K else E.ones(len(claims))
        for j in range(1, K):
            acc = E.mul(acc, t[:, j])
        return E.dot(coefs, acc)

    return at


def _check(E: Field, K: int, claims: Sequence[StackClaim], err) -> None:
    es = tuple(E.elem_shape)
    for c in claims:
        for t in (c, *c.terms) if c.key is None else (c,):
            if not 0 <= t.num_vars <= K or not 0 <= t.index < 1 << (K - t.num_vars):
                raise err("stack: claim outside the stacked vector")
            if np.shape(t.point) != (t.num_vars,) + es:
                raise err("stack: claim point of the wrong dimension")
        for t in c.terms if c.key is None else ():
            if np.shape(t.coefficient) != es:
                raise err("stack: claim term coefficient of the wrong shape")


def _groups(sizes: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i, K in enumerate(sizes):
        out.setdefault(K, []).append(i)
    return dict(sorted(out.items()))


@attrs.frozen
class MaskedReduction:
    """What a masked reduction (`reduce_many` with ``sums``) leaves for the opening, in
    place of the reduced values: the sum claim
    Σ_i coefficient_i·S̃_i(point) + Σ_l mask_coefs_l·Ã(mask_points_l) = value,
    i over ``stacks`` (indices into `reduce_many`'s list) and Ã the mask slot
    ``mask_slot`` (points on the slot's own 2^chunk entries)."""

    stacks: list[int]
    point: np.ndarray
    coefficients: list[np.ndarray]
    mask_slot: str
    mask_points: np.ndarray
    mask_coefs: np.ndarray
    value: np.ndarray
    #: the claims' terms on other stacks (`ForeignTerm`), carried through the sumcheck
    #: as an unknown: (the term, its coefficient in the sum claim Π_j r*_j·κ_i·ρ^k·c)
    foreign: tuple = ()


def reduce_many(ctx, stacks: Sequence[tuple[int, Sequence[StackClaim], object]], *,
                label: str, base: bool = True, sums: list | None = None
                ) -> list[tuple[np.ndarray, np.ndarray] | None]:
    """Reduce the claims on each of several stacked tables (K, claims, table) to one
    claim per table, on either side (``ctx`` a prover or verifier context of
    `zklora.zkcore.op`): one batched sumcheck per distinct K (``ctx.run_sumcheck_batch``),
    each table's instance Σ_x S(x)·W(x) = Σ_k ρ^k v_k; a table with a single claim (after
    removing duplicates) keeps it as it is, at its full point, without a sumcheck (the
    commitment's opening checks it as it would the reduced claim).  ``table`` (prover only; ``None``
    for the verifier) is S as a flat array, base-field elements if ``base``.  Returns
    (r*, S̃(r*)) per table.

    Zero knowledge (``sums`` a list, docs/zero-knowledge.md §5.2): each size group's
    sumcheck is masked with the opening's k-th pre-committed mask
    (`zklora.zkcore.zk.open_mask`; G sent, ρ_g drawn after the batch's ρ), no finals
    and no u_i are sent, and the verifier's final check — the running claim against
    Σ_i κ_i·W_i(r*)·S̃_i(r*) + ρ_g·g(r*) — is appended to ``sums`` as a
    `MaskedReduction`, to be checked by the opening as one sum claim; those tables get
    ``None`` in the returned list."""
    E = ctx.E
    err = ProverError if ctx.prover else VerificationError
    out: list = [None] * len(stacks)
    for K, idx in _groups([K for K, _, _ in stacks]).items():
        tkeys: dict = {}
        claims = [_dedupe(E, stacks[i][1], err, tkeys) for i in idx]
        for j, cl in enumerate(claims):
            _check(E, K, cl, err)
            _absorb(ctx.ch, E, cl, f"{label}/{K}/{j}", tkeys)
        # a table with one claim needs no reduction: that claim, on S at its full point,
        # is the one opened (no sumcheck, no table of 2^K entries built)
        # (a multi-term claim is always reduced: its value is not one evaluation)
        single = [(i, cl[0]) for i, cl in zip(idx, claims)
                  if len(cl) == 1 and not cl[0].terms and not cl[0].foreign]
        for i, c in single:
            out[i] = (_full_point(E, K, c), c.value)
        keep = [j for j, cl in enumerate(claims)
                if len(cl) != 1 or cl[0].terms or cl[0].foreign]
        if not keep:
            continue
        idx, claims = [idx[j] for j in keep], [claims[j] for j in keep]
        rho = ctx.challenge(f"{label}/{K}/rho")
        foreign = _foreign_weights(E, rho, claims)
        if sums is None and any(foreign):
            raise err("stack: a blinded claim with a mask on another stack needs the "
                      "masked reduction (zero knowledge with sum claims)")
        weights, claims = _expanded_weights(E, rho, claims)

        def tables(K=K, idx=idx, claims=claims, weights=weights):
            return [[_table(E, stacks[i][2], base), _w_table(E, K, coefs, cl)]
                    for i, cl, (coefs, _) in zip(idx, claims, weights)]

        if sums is not None:
            sums.append(_reduce_masked(ctx, f"{label}/{K}", K, idx, claims, weights,
                                       tables, [stacks[i][2] for i in idx], base,
                                       len(sums), foreign))
            continue

        if ctx.prover and K >= STREAM_VARS and E.name == "goldilocks-ext2":
            point, finals = _prove_streaming(
                ctx.ch, E, f"{label}/{K}", K, [stacks[i][2] for i in idx], base, claims,
                weights)
            for i, f in zip(idx, finals):
                out[i] = (point, f[0])
            continue
        point, finals = ctx.run_sumcheck_batch(
            f"{label}/{K}", K, [([(1, (0, 1))], total) for _, total in weights], tables,
            public=[{1: _w_eval(E, K, coefs, cl)} for cl, (coefs, _) in zip(claims, weights)])
        for i, f in zip(idx, finals):
            out[i] = (point, f[0])
    return out


def _expanded_weights(E: Field, rho: np.ndarray, claims: Sequence[Sequence[StackClaim]]):
    """`_weights` of each table's claims, then its multi-term claims expanded
    (`_expand`): ([(coefficients, Σ_k ρ^k v_k)], [single-term claims]) per table."""
    weights, out = [], []
    for cl in claims:
        coefs, total = _weights(E, rho, cl)
        coefs, cl = _expand(E, coefs, cl)
        weights.append((coefs, total))
        out.append(cl)
    return weights, out


def _foreign_weights(E: Field, rho: np.ndarray, claims: Sequence[Sequence[StackClaim]]
                     ) -> list[list[tuple]]:
    """Per table, its claims' foreign terms (`ForeignTerm`) with their coefficients in
    the table's instance, ρ^k·c (claim k's weight, as `_weights`): [(ρ^k·c, term)].
    Empty lists when no claim has any (nothing computed)."""
    out: list[list[tuple]] = []
    for cl in claims:
        if not any(c.foreign for c in cl):
            out.append([])
            continue
        coefs, _ = _weights(E, rho, cl)
        out.append([(E.mul(coefs[k], np.asarray(t.coefficient)), t)
                    for k, c in enumerate(cl) for t in c.foreign])
    return out


def _foreign_unknowns(E: Field, foreign: Sequence[Sequence[tuple]]) -> list:
    """Prover: per table, U_i = Σ ρ^k·c·S̃_b(q) over its foreign terms (the part of its
    claims' total that its own instance Σ_x S_i·W_i does not hold)."""
    out = []
    for fl in foreign:
        u = E.scalar(0)
        for cf, t in fl:
            if t.value is None:
                raise ProverError("stack: a foreign term without its value")
            u = E.add(u, E.mul(cf, np.asarray(t.value)))
        out.append(u)
    return out


def _reduce_masked(ctx, label: str, K: int, idx: list[int], claims, weights, tables,
                   raw: list, base: bool, k: int, foreign=()) -> MaskedReduction:
    """One size group's masked reduction on either side (`reduce_many`, ``sums``): the
    batch's claims absorbed and its ρ drawn as in `sumcheck.prove_batch`, then the
    mask's G and ρ_g (`zk.open_mask`, slot ``k``), the rounds of
    Σ_i κ_i·S_i·W_i + ρ_g·g, no finals.

    With ``foreign`` terms (per table, `_foreign_weights`; docs/zero-knowledge.md §5.1
    "Late stacks"): the batch's claim Σ_i κ_i·H_i is Σ_x Σ_i κ_i·S_i·W_i + B with
    B = Σ_i κ_i·U_i, U_i the foreign terms' part of table i's total (committed on
    other stacks, unknown to the verifier); the prover runs the rounds of
    Σ_i κ_i·S_i·W_i + ρ_g·g + B·Π_j x_j for the same public claim (`zk.ShiftedMask`, as
    `zk.run_blinded` carries a blind), so the verifier's rounds are unchanged and its
    final value gains Π_j r*_j·B: the foreign terms join the sum claim with
    coefficients Π_j r*_j·κ_i·ρ^k·c (`MaskedReduction.foreign`)."""
    E = ctx.E
    err = ProverError if ctx.prover else VerificationError
    carry = any(foreign)
    us = _foreign_unknowns(E, foreign) if carry and ctx.prover else None
    B = None
    if ctx.prover and K >= STREAM_VARS and E.name == "goldilocks-ext2":
        masks: list = []

        def begin():
            masks.append(zklib.open_mask(ctx, k, label, K))
            return masks[0]

        point, finals, kappa = _prove_streaming(ctx.ch, E, label, K, raw, base, claims,
                                                weights, begin, us)
        m = masks[0]
        if carry:
            B = E.scalar(0)
            for kp, u in zip(kappa, us):
                B = E.add(B, E.mul(kp, u))
    else:
        for j, (_, total) in enumerate(weights):
            ctx.ch.observe_public(f"{label}/claim{j}", E.encode(total))
        brho = ctx.challenge(f"{label}/rho")
        insts = [sclib.Instance([None, None], [(1, (0, 1))], total) for _, total in weights]
        _, terms, claim = sclib._merge(E, insts, brho)
        kappa = [t[0] for t in terms]
        m = zklib.open_mask(ctx, k, label, K)
        if ctx.prover:
            tabs = [t for pair in tables() for t in pair]
            if carry:
                B = E.scalar(0)
                for kp, u in zip(kappa, us):
                    B = E.add(B, E.mul(kp, u))
                mask = sclib.Mask(E.scalar(1), lambda p: None,
                                  zklib.ShiftedMask(E, m.state, m.rho, B))
                claim = E.sub(claim, B)
            else:
                mask = sclib.Mask(m.rho, lambda p: None, m.state)
            point, fin = sclib.prove(ctx.ch, E, tabs, terms, claim, label=label,
                                     public=range(len(tabs)), mask=mask)
            finals = [fin[2 * j:2 * j + 2] for j in range(len(idx))]
        else:
            point, running = sclib.verify_rounds(ctx.ch, E, K, 2,
                                                 E.add(claim, E.mul(m.rho, m.G)), label=label)
    if ctx.prover:
        ws = [f[1] for f in finals]
        value = E.mul(m.rho, m.value(E, point))
        for kp, (s_r, w_r) in zip(kappa, finals):
            value = E.add(value, E.mul(kp, E.mul(s_r, w_r)))
        if carry:
            value = E.add(value, E.mul(B, zklib._prod(E, point)))
    else:
        ws = [_w_eval(E, K, coefs, cl)(point) for cl, (coefs, _) in zip(claims, weights)]
        value = running
    pts, mcoefs = m.terms(E, point, err)
    out_f: tuple = ()
    if carry:
        pr = zklib._prod(E, point)
        out_f = tuple((t, E.mul(E.mul(pr, kp), cf))
                      for kp, fl in zip(kappa, foreign) for cf, t in fl)
    return MaskedReduction(list(idx), point, [E.mul(kp, w) for kp, w in zip(kappa, ws)],
                           m.region.name, pts, mcoefs, value, out_f)


# -- the streaming prover ------------------------------------------------------------


def _read(table, lo: int, hi: int, base: bool) -> np.ndarray:
    """Entries [lo, hi) of S, contiguous: base (n,) or extension (n, 2) uint64 (a
    `zklora.zkcore.scratch.Spilled` or anything with ``read_range`` is read through it,
    so a stack on disk is never mapped whole)."""
    rd = getattr(table, "read_range", None)
    if rd is not None:
        a = np.asarray(rd(lo, hi), dtype=np.uint64)
    elif isinstance(table, np.memmap):   # a stack in a scratch file: copy, give back
        a = np.array(table[lo:hi], dtype=np.uint64)
        scratch.drop(table)
    else:
        a = np.asarray(table[lo:hi], dtype=np.uint64)
    return np.ascontiguousarray(a.reshape(-1) if base else a.reshape(-1, 2))


def _eq_prefix(E: Field, p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Π_i eq(p_i, r_i) = Π_i (p_i·r_i + (1 − p_i)(1 − r_i)) over len(r) coordinates."""
    one = E.scalar(1)
    out = one
    for i in range(E.shape(r)[0]):
        pr = E.mul(p[i], r[i])
        out = E.mul(out, E.add(E.sub(E.sub(one, p[i]), r[i]), E.add(pr, pr)))
    return out


def _w_chunk(E: Field, c: int, lo: int, coefs: np.ndarray, claims: Sequence[StackClaim],
             offs: np.ndarray, ends: np.ndarray, rs: np.ndarray | None = None) -> np.ndarray:
    """W = Σ_k ρ^k eq(p_k, ·) on the entries [lo, lo + 2^c) (an aligned chunk): a claim
    whose block lies in the chunk adds its eq table at its offset; one whose block holds
    the chunk adds eq(r_k[:c], ·) times the selector of the chunk inside the block.
    With ``rs`` (j challenges, j < c): that chunk of W with its low j variables bound to
    rs (`_fold_all`'s values, 2^(c−j) entries), computed directly — eq factors over the
    coordinates: a claim's block of 2^n ≥ 2^j entries adds eq(p_k[j:], ·) times
    Π_(i<j) eq(p_k,i, r_i); a smaller block adds one entry, eq(p_k, rs[:n]) times the
    selector of its offset's bits n … j − 1 at rs[n:j]."""
    j = 0 if rs is None else E.shape(rs)[0]
    C = 1 << c
    w = np.zeros((C >> j, 2), dtype=np.uint64)
    sel = np.nonzero((offs < lo + C) & (ends > lo))[0]
    if not len(sel):
        return w
    pts = np.zeros((len(sel), max(1, c - j), 2), dtype=np.uint64)
    nv, at, cf = [], [], []
    for q, k in enumerate(sel):
        cl = claims[k]
        n = cl.num_vars
        if n <= c:
            o = int(offs[k]) - lo
            if n >= j:
                pts[q, :n - j] = cl.point[j:n]
                nv.append(n - j)
                cf.append(coefs[k] if not j else
                          E.mul(coefs[k], _eq_prefix(E, cl.point[:j], rs)))
            else:
                nv.append(0)
                cf.append(E.mul(E.mul(coefs[k], _eq_prefix(E, cl.point[:n], rs[:n])),
                                selector(E, rs[n:j], o >> n)))
            at.append(o >> j)
        else:
            pts[q, :c - j] = cl.point[j:c]
            nv.append(c - j)
            at.append(0)
            v = E.mul(coefs[k], selector(E, cl.point[c:], (lo - int(offs[k])) >> c))
            cf.append(v if not j else E.mul(v, _eq_prefix(E, cl.point[:j], rs)))
    from zklora.kernels import whir_eq as QE  # prover only
    QE.eq_acc_blocks(pts, nv, at, np.stack(cf), w)
    return w


class _WChunks:
    """`_w_chunk` for every chunk of one stack, the per-claim Python work vectorised:
    the claims' points, sizes and offsets as arrays once; per pass (``rs``, j
    challenges) every claim's factor c_k·Π_(i<j) (eq(p_k,i, r_i) where block k has more
    than i variables, else the selector bit i of its offset at r_i) as j vector
    products over all the claims (`coefficients`); per chunk the claims meeting it
    selected with one mask, the blocks holding it scaled by their selector at its
    bits, and one `whir_eq.eq_acc_blocks` call (the chunk's claims by tiles, in
    parallel).  The same field elements as `_w_chunk` (the same products, in another
    order)."""

    def __init__(self, E: Field, c: int, coefs: np.ndarray, claims: Sequence[StackClaim],
                 offs: np.ndarray, ends: np.ndarray):
        self.E, self.c = E, c
        self.n = np.array([cl.num_vars for cl in claims], dtype=np.int64)
        width = max(c, int(self.n.max(initial=0))) + 1
        self.P = np.zeros((len(claims), width, 2), dtype=np.uint64)
        for nv in np.unique(self.n):
            ks = np.nonzero(self.n == nv)[0]
            if nv:
                self.P[ks, :nv] = np.stack([np.asarray(claims[k].point) for k in ks])
        self.offs, self.ends = offs, ends
        self.coefs = np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2)
        self.big = self.n > c
        self.j = 0
        self.pre = self.coefs

    def _eq(self, p: np.ndarray, r: np.ndarray) -> np.ndarray:
        """eq(p, r) = p·r + (1 − p)(1 − r) per row ((q, 2) each)."""
        E = self.E
        pr = E.mul(p, r)
        return E.add(E.sub(E.sub(np.ascontiguousarray(
            np.broadcast_to(E.scalar(1), p.shape)), p), r), E.add(pr, pr))

    def coefficients(self, rs: np.ndarray | None) -> None:
        """Set the pass: ``rs`` (j, 2) the challenges so far (None: j = 0)."""
        E = self.E
        j = 0 if rs is None else E.shape(rs)[0]
        cf = self.coefs
        q = cf.shape[0]
        one = np.ascontiguousarray(np.broadcast_to(E.scalar(1), (q, 2)))
        for i in range(j):
            r = np.ascontiguousarray(np.broadcast_to(np.asarray(rs[i], np.uint64), (q, 2)))
            e = self._eq(np.ascontiguousarray(self.P[:, i]), r)
            bit = ((self.offs >> i) & 1).astype(bool)[:, None]
            sel = np.where(bit, r, E.sub(one, r))
            cf = E.mul(cf, np.where((self.n > i)[:, None], e, sel))
        self.j, self.pre = j, np.ascontiguousarray(cf, dtype=np.uint64)

    def chunk(self, lo: int) -> np.ndarray:
        """W on the entries [lo, lo + 2^c) folded at the pass's challenges (2^(c−j)
        entries)."""
        from zklora.kernels import whir_eq as QE  # prover only

        E, c, j = self.E, self.c, self.j
        C = 1 << c
        sel = np.nonzero((self.offs < lo + C) & (self.ends > lo))[0]
        if not len(sel):
            return np.zeros((C >> j, 2), dtype=np.uint64)
        w = np.empty((C >> j, 2), dtype=np.uint64)
        n = self.n[sel]
        small = n <= c
        nv = np.where(small, np.maximum(n - j, 0), c - j)
        at = np.where(small, (self.offs[sel] - lo) >> j, 0)
        cf = self.pre[sel]
        big = np.nonzero(~small)[0]
        if len(big):   # blocks holding the chunk: their selector at the chunk's bits
            ks = sel[big]
            idx = (lo - self.offs[ks]) >> c
            nb = self.n[ks]
            f = cf[big]
            one = np.ascontiguousarray(np.broadcast_to(E.scalar(1), f.shape))
            for i in range(c, int(nb.max())):
                z = np.ascontiguousarray(self.P[ks, i])
                fac = np.where((((idx >> (i - c)) & 1) == 1)[:, None], z, E.sub(one, z))
                f = E.mul(f, np.where((nb > i)[:, None], fac, one))
            cf[big] = f
        QE.eq_acc_blocks(self.P[sel, j:j + max(1, c - j)], nv, at, cf, w, overwrite=True)
        return w


class _SegPass:
    """A streamed pass's pair sums of one base stack claim by claim (`SEG_PASSES`): in
    pass j (challenges rs) claim k (point p, n > j variables, block at o) contributes
    to (Σ S_j[2i]·W_j[2i], Σ ΔS_j·ΔW_j)

        pre_k·((1 − p_j)·X0_k, (2p_j − 1)·(X1_k − X0_k)),
        X_b = Σ_(y: bit j = b) eq(rs, y[:j])·eq(p[j+1:n], y[j+1:n])·S[o + y],

    pre_k = c_k·Π_(i<j) eq(p_i, r_i) (`_WChunks.coefficients`): on W_j's block
    (c_k·pre·eq(p[j:n], ·)) W_j[2i] = (1 − p_j)·e(i), ΔW_j = (2p_j − 1)·e(i), e =
    eq(p[j+1:n], ·).  The weight splits as L(tile bits but bit j)·B(row), rows of
    2^min(n, 8) entries, B = eq(p[T:n], ·) the same in every pass: claim k's run
    A_k = Σ_h B[h]·S_k[row h] (2^T extension entries, `whir_eq.SegRuns`) is made once,
    in the first pass (one read of S, one base×extension product an entry and claim),
    and each pass's X is then 2^T products a claim with its L (made once a pass per
    distinct point) — the later passes read no S and make no W.  When the runs do not
    fit ``budget`` (16 bytes an entry), each pass reads S and takes X directly
    (`whir_eq.seg_dots`, `SEG_PASSES_FRESH` passes).  Claims of at most j variables (a
    single entry of W_j) go through `_WChunks` and `fold_pair_sums` on the chunks they
    meet."""

    def __init__(self, E: Field, c: int, wc: _WChunks, claims: Sequence[StackClaim],
                 budget: int = 0):
        from zklora.kernels import whir_eq as QE  # prover only

        self.E, self.c, self.wc, self.claims = E, c, wc, claims
        n, P = wc.n, wc.P
        Q = n.shape[0]
        key = np.concatenate([n.astype(np.uint64)[:, None], P.reshape(Q, -1)], axis=1)
        uniq, inv = np.unique(key, axis=0, return_inverse=True)
        self.grp = np.ascontiguousarray(inv.reshape(-1), np.int64)
        self.gn = uniq[:, 0].astype(np.int64)
        self.gP = np.ascontiguousarray(uniq[:, 1:].reshape(len(uniq), -1, 2))
        # segments: each claim's block cut at the chunks (CSR by chunk)
        self.tile = min(QE.SEG_TILE_VARS, c)   # a row lies in one chunk
        T = np.minimum(n, self.tile)
        offs = wc.offs
        C = np.int64(1) << c
        nch = np.maximum(1, (np.int64(1) << n) >> c)        # chunks a block spans
        k = np.repeat(np.arange(Q, dtype=np.int64), nch)
        first = np.concatenate([[0], np.cumsum(nch)[:-1]]).astype(np.int64)
        part = np.arange(k.shape[0], dtype=np.int64) - first[k]   # chunk within block
        lo = (offs[k] >> c << c) + part * C
        start = np.maximum(offs[k], lo)
        end = np.minimum(offs[k] + (np.int64(1) << n[k]), lo + C)
        order = np.argsort(lo >> c, kind="stable")
        self.sk = k[order]
        self.sa = (start - lo)[order]
        self.sh = ((start - offs[k]) >> T[k])[order]
        self.snt = ((end - start) >> T[k])[order]
        ci = (lo >> c)[order]
        # the claims' runs (`whir_eq.SegRuns`) kept over the passes when they fit
        gT = np.minimum(self.gn, self.tile)
        self.keep = QE.SegRuns.nbytes(self.grp, gT) <= budget
        self.runs = QE.SegRuns(self.grp, gT) if self.keep else None
        self.fresh = True       # the runs still to be made (first pass)
        self.nchunks = max(1, int(wc.ends.max(initial=0) + C - 1) >> c) if Q else 0
        self.ptr = np.searchsorted(ci, np.arange(self.nchunks + 1), side="left")

    def begin(self, rs: list) -> None:
        """Set pass j = len(rs): the tables, the claims taken here and the rest's W."""
        from zklora.kernels import whir_eq as QE  # prover only

        E, wc = self.E, self.wc
        j = len(rs)
        self.j = j
        live = self.gn > j
        gmap = np.full(self.gn.shape[0], -1, np.int64)
        gmap[live] = np.arange(int(live.sum()), dtype=np.int64)
        self.cgrp = gmap[self.grp]
        rsa = np.stack(rs) if rs else np.zeros((0, 2), np.uint64)
        wc.coefficients(rsa if j else None)
        self.tabs = QE.SegTables(self.gP[live], self.gn[live], rsa, self.tile)
        self.X = np.zeros((wc.n.shape[0], 4), np.uint64)
        self.segok = wc.n[self.sk] > j
        self.read = self.runs is None or self.fresh   # S's segments needed this pass
        rest = np.nonzero(wc.n <= j)[0]
        self.rest = None
        if len(rest):
            self.rest = _WChunks(E, self.c, wc.coefs[rest], [self.claims[q] for q in rest],
                                 wc.offs[rest], wc.ends[rest])
            self.rest.coefficients(rsa if j else None)
            self.rest_chunks = set(np.unique(np.concatenate(
                [np.arange(o >> self.c, ((e - 1) >> self.c) + 1)
                 for o, e in zip(wc.offs[rest], wc.ends[rest])])).tolist())

    def wants(self, lo: int) -> bool:
        """Does the pass read chunk [lo, lo + 2^c)?"""
        ci = lo >> self.c
        a, b = (int(self.ptr[ci]), int(self.ptr[ci + 1])) if ci < self.nchunks else (0, 0)
        if self.read and b > a and self.segok[a:b].any():
            return True
        return self.rest is not None and ci in self.rest_chunks

    def chunk(self, lo: int, s: np.ndarray, rs: list) -> np.ndarray | None:
        """Add chunk lo's part: its claims' X (kept), the rest's pair sums (returned)."""
        from zklora.kernels import whir_eq as QE  # prover only

        ci = lo >> self.c
        if ci < self.nchunks:
            a, b = int(self.ptr[ci]), int(self.ptr[ci + 1])
            ok = np.nonzero(self.segok[a:b])[0] + a if self.read else ()
            if len(ok) and self.runs is not None:
                self.runs.add(s, self.tabs, self.cgrp, self.sk[ok], self.sa[ok],
                              self.sh[ok], self.snt[ok])
            elif len(ok):
                QE.seg_dots(s, self.tabs, self.cgrp, self.sk[ok], self.sa[ok], self.sh[ok],
                            self.snt[ok], self.X)
        if self.rest is not None and ci in self.rest_chunks:
            w = self.rest.chunk(lo)
            return QE.fold_pair_sums(s, np.stack(rs) if rs else np.zeros((0, 2), np.uint64),
                                     w)
        return None

    def sums(self) -> np.ndarray:
        """The claims' part of the pass's pair sums, (2, 2)."""
        E, wc, j = self.E, self.wc, self.j
        ks = np.nonzero(wc.n > j)[0]
        out = np.zeros((2, 2), np.uint64)
        if self.runs is not None:
            self.fresh = False
            self.runs.dots(self.tabs, self.cgrp, ks, self.X)
        if not len(ks):
            return out
        pre = np.ascontiguousarray(wc.pre[ks])
        pj = np.ascontiguousarray(wc.P[ks, j])
        one = np.ascontiguousarray(np.broadcast_to(E.scalar(1), pj.shape))
        a = E.mul(pre, E.sub(one, pj))
        d = E.mul(pre, E.sub(E.add(pj, pj), one))
        X = self.X[ks]
        x0 = np.ascontiguousarray(X[:, :2])
        x1 = np.ascontiguousarray(X[:, 2:])
        out[0] = E.dot(a, x0)
        out[1] = E.dot(d, E.sub(x1, x0))
        return out


def _fold_all(t: np.ndarray, rs: Sequence[np.ndarray]) -> np.ndarray:
    """Bind the lowest len(rs) variables of ``t`` (base (n,) or extension (n, 2)) to rs."""
    for r in rs:
        out = np.empty((t.shape[0] // 2, 2), dtype=np.uint64)
        KS.fold_into(t, r, out)
        t = out
    return t


def _prove_streaming(ch, E: Field, label: str, K: int, tables: Sequence, base: bool,
                     claims: Sequence[Sequence[StackClaim]], weights, begin=None,
                     shifts=None) -> tuple:
    """The prover of the batched sumcheck `reduce_many` runs through
    ``ctx.run_sumcheck_batch`` (`zklora.zkcore.sumcheck.prove_batch`, pairwise fast
    path) for the instances Σ_x S_i(x)·W_i(x) = Σ_k ρ^k v_k, sending the same messages
    with bounded memory: W is never built whole and S is only read, a chunk of 2^c
    entries at a time.  The first k rounds each make one pass over the chunks (every
    chunk's S and W folded at the challenges so far, then its pair sums); then one pass
    folds S and W at the k challenges into RAM (2^(K−k) extension entries each) and
    the remaining rounds run there.  Returns (point, [[S_i(r), W_i(r)] per instance]).
    With ``begin`` (zero knowledge, `_reduce_masked`): called after ρ, it returns the
    `zk.OpenMask` whose rounds are added to every message; no finals are sent, and the
    batch coefficients κ_i are returned as a third element.  ``shifts`` (with
    ``begin``: the instances' unknowns U_i, `_reduce_masked`): the rounds of
    B·Π_j x_j, B = Σ_i κ_i·U_i, are added too and the instances' sum is the claim − B."""
    T = len(tables)
    for j, (_, total) in enumerate(weights):
        ch.observe_public(f"{label}/claim{j}", E.encode(total))
    rho = ch.challenge(f"{label}/rho", E)
    coeffs, running = [], E.scalar(0)
    coef = E.scalar(1)
    for _, total in weights:
        coeffs.append(E.mul(coef, E.scalar(1)))
        running = E.add(running, E.mul(coef, total))
        coef = E.mul(coef, rho)
    shift = [None]
    if shifts is not None and begin is not None:
        B = E.scalar(0)
        for cf, u in zip(coeffs, shifts):
            B = E.add(B, E.mul(cf, u))
        running = E.sub(running, B)
        shift[0] = B
    coeffs = np.ascontiguousarray(np.stack(coeffs), np.uint64)
    running = np.ascontiguousarray(running, np.uint64).reshape(2)
    mask = begin() if begin is not None else None

    def send(j: int, g: np.ndarray) -> None:
        if mask is not None:
            g = E.add(g, E.mul(mask.state.round(j, 2), mask.rho))
        if shift[0] is not None:   # B·Π_{i<j} r_i·X at X = 0, 1, 2
            b = shift[0]
            g = E.add(g, np.stack([E.scalar(0), b, E.add(b, b)]))
        ch.send_field(f"{label}/round{j}", E, g[0::2])

    def bind(j: int, r: np.ndarray) -> None:
        if mask is not None:
            mask.state.bind(j, r)
        if shift[0] is not None:
            shift[0] = E.mul(shift[0], r)
    metas = []
    for cl in claims:
        offs = np.array([c.index << c.num_vars for c in cl], dtype=np.int64)
        metas.append((offs, offs + np.array([1 << c.num_vars for c in cl], np.int64)))
    c = min(CHUNK_VARS, K)
    N = 1 << K
    k = max(0, min(STREAM_ROUNDS, c - 1, K - 1))
    budget = scratch.open_bytes(RAM_BYTES)
    while k < min(c - 1, K - 1) and 2 * T * 16 * (N >> k) > budget:
        k += 1

    # W's chunks: with few claims a pass j computes them already folded at its j
    # challenges (`_w_chunk` with ``rs``: 2^-j of the entries, no fold, no file); else
    # they are computed once and, inside a scratch session, kept in a file for the
    # later passes (read back a chunk at a time and folded), else recomputed
    store = scratch.current()
    saved: dict[tuple[int, int], scratch.Spilled] = {}
    direct = [len(cl) <= DIRECT_W_CLAIMS for cl in claims]

    wc = [_WChunks(E, c, weights[i][0], claims[i], *metas[i]) if direct[i] else None
          for i in range(T)]
    from zklora.kernels import whir_eq as QE  # prover only
    seg = [_SegPass(E, c, wc[i], claims[i], budget // max(1, T))
           if direct[i] and base and min(k, SEG_PASSES) else None for i in range(T)]
    npass = [0 if sp is None else min(k, SEG_PASSES, sp.tile) if sp.keep else
             min(k, SEG_PASSES, SEG_PASSES_FRESH, sp.tile) for sp in seg]

    def chunks(i: int, rs=()):
        if direct[i]:
            wc[i].coefficients(np.stack(rs) if len(rs) else None)
        for lo in range(0, N, 1 << c):
            if direct[i]:
                yield lo, _read(tables[i], lo, lo + (1 << c), base), wc[i].chunk(lo), True
                continue
            h = saved.get((i, lo))
            if h is not None:
                w = h.read_range(0, 1 << c)
            else:
                w = _w_chunk(E, c, lo, weights[i][0], claims[i], *metas[i])
                if store is not None and k > 0:
                    saved[(i, lo)] = store.save([w], tag="stack-w")[0]
            yield lo, _read(tables[i], lo, lo + (1 << c), base), w, False

    def pair_sums(s: np.ndarray, w: np.ndarray, rs) -> np.ndarray:
        """pair_sums(S's chunk folded at rs, W's): a base chunk folded and summed in
        one pass over it (`whir_eq.fold_pair_sums`, the same values)."""
        if base:
            return QE.fold_pair_sums(s, np.stack(rs) if rs else np.zeros((0, 2), np.uint64),
                                     w)
        return KS.pair_sums(_fold_all(s, rs), w)

    def fold_s(s: np.ndarray, rs) -> np.ndarray:
        if base and rs:
            return QE.fold_eq(s, np.stack(rs))
        return _fold_all(s, rs)

    point = E.zeros(K)
    rs: list[np.ndarray] = []
    for j in range(k):
        sums = np.zeros((T, 2, 2), dtype=np.uint64)
        for i in range(T):
            sp = seg[i] if j < npass[i] else None
            if sp is not None:   # claim by claim on the unfolded S (`_SegPass`)
                sp.begin(rs)
                for lo in range(0, N, 1 << c):
                    if sp.wants(lo):
                        part = sp.chunk(lo, _read(tables[i], lo, lo + (1 << c), base), rs)
                        if part is not None:
                            sums[i] = E.add(sums[i], part)
                sums[i] = E.add(sums[i], sp.sums())
                continue
            for _, s, w, folded in chunks(i, rs):
                sums[i] = E.add(sums[i], pair_sums(s, w if folded else _fold_all(w, rs), rs))
        g = KS.e_p2_message(sums, coeffs, running)
        send(j, g)
        r = ch.challenge(f"{label}/r{j}", E)
        bind(j, r)
        point[j] = r
        rs.append(np.ascontiguousarray(r, np.uint64))
        running = _interpolate(E, g, r)
    del seg   # the claims' runs (`_SegPass`): freed before the folded tables are made
    st = np.empty((2 * T, N >> k, 2), dtype=np.uint64)
    for i in range(T):
        for lo, s, w, folded in chunks(i, rs):
            a, b = lo >> k, (lo + (1 << c)) >> k
            st[2 * i, a:b] = fold_s(s, rs)
            st[2 * i + 1, a:b] = w if folded else _fold_all(w, rs)
    fa = np.arange(0, 2 * T, 2, dtype=np.int64)
    fb = fa + 1
    sums = KS.p2_sums(st, fa, fb)
    for j in range(k, K):
        g = KS.e_p2_message(sums, coeffs, running)
        send(j, g)
        r = ch.challenge(f"{label}/r{j}", E)
        bind(j, r)
        point[j] = r
        running = _interpolate(E, g, r)
        if j + 1 < K:
            st, sums = KS.p2_fold_sums(st, r, fa, fb)
        else:
            st = np.stack([E.add(t[0], E.mul(E.sub(t[1], t[0]), r)) for t in st])[:, None]
    finals = [[st[2 * i, 0], st[2 * i + 1, 0]] for i in range(T)]
    if selfcheck.enabled():
        total = E.scalar(0)
        for cf, (s_r, w_r) in zip(coeffs, finals):
            total = E.add(total, E.mul(cf, E.mul(s_r, w_r)))
        if not E.equal(total, running):
            raise ProverError(f"{label}: final evaluation does not match (bad witness)")
    if mask is not None:
        return point, finals, list(coeffs)
    ch.send_field(f"{label}/finals", E, np.stack([f[0] for f in finals]))
    return point, finals
