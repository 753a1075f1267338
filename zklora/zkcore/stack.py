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

from zklora.kernels import sumcheck as KS

from . import mle
from .errors import ProverError, VerificationError
from .field import Field


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

    def claim(self, E: Field, item: int, r: np.ndarray, value: np.ndarray) -> StackClaim:
        """item~(r) = value as a claim on S: S̃(r, bits(block index)) = value."""
        b = self.block(item)
        if E.shape(np.asarray(r)) != (b.num_vars,):
            raise VerificationError(f"stack: claim on item {item} has a point of shape "
                                    f"{E.shape(np.asarray(r))}, expected ({b.num_vars},)")
        return StackClaim(b.num_vars, b.index, np.asarray(r), value)


def selector(E: Field, z_hi: np.ndarray, index: int) -> np.ndarray:
    """eq(bits(index), z_hi) = Π_i (z_i if bit i of index else 1 − z_i)."""
    one = E.scalar(1)
    out = one
    for i in range(E.shape(z_hi)[0]):
        zi = z_hi[i]
        out = E.mul(out, zi if (index >> i) & 1 else E.sub(one, zi))
    return out


@attrs.frozen
class StackClaim:
    """S̃ at (point, bits of block ``index`` of 2^num_vars entries) equals value:
    ``point`` holds only the low ``num_vars`` coordinates."""

    num_vars: int
    index: int
    point: np.ndarray
    value: np.ndarray


def _dedupe(E: Field, claims: Sequence[StackClaim], err) -> list[StackClaim]:
    seen: dict[tuple, StackClaim] = {}
    for c in claims:
        k = (c.num_vars, c.index, np.ascontiguousarray(c.point).tobytes())
        if k in seen:
            if not E.equal(seen[k].value, c.value):
                raise err("stack: two different values claimed at the same point")
        else:
            seen[k] = c
    return list(seen.values())


def _absorb(ch, E: Field, claims: Sequence[StackClaim], label: str) -> None:
    for k, c in enumerate(claims):
        head = np.array([c.num_vars, c.index], "<u8").tobytes()
        ch.observe_public(f"{label}/claim{k}", head + E.encode(c.point) + E.encode(c.value))


def _full_point(E: Field, K: int, c: StackClaim) -> np.ndarray:
    out = E.zeros(K)
    out[:c.num_vars] = c.point
    bits = [(c.index >> j) & 1 for j in range(K - c.num_vars)]
    if bits:
        out[c.num_vars:] = E.from_ints(np.array(bits, np.int64))
    return out


def _weights(E: Field, rho: np.ndarray, claims: Sequence[StackClaim]):
    """(ρ^k per claim, Σ_k ρ^k v_k)."""
    coef = E.scalar(1)
    total = E.scalar(0)
    coefs = []
    for c in claims:
        total = E.add(total, E.mul(coef, c.value))
        coefs.append(coef)
        coef = E.mul(coef, rho)
    return np.stack(coefs), total


def _w_table(E: Field, K: int, coefs: np.ndarray, claims: Sequence[StackClaim]) -> np.ndarray:
    """W = Σ_k ρ^k eq(p_k, ·), each claim written only into its own block (over
    goldilocks-ext2 one kernel call, `zklora.kernels.sumcheck.eq_acc`)."""
    w = E.zeros(1 << K)
    if E.name == "goldilocks-ext2" and claims:
        nmax = max(c.num_vars for c in claims)
        pts = np.zeros((len(claims), max(1, nmax), 2), dtype=np.uint64)
        for k, c in enumerate(claims):
            pts[k, :c.num_vars] = c.point
        KS.eq_acc(pts, [c.num_vars for c in claims], [c.index << c.num_vars for c in claims],
                  coefs, w)
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


def _w_eval(E: Field, K: int, coefs: np.ndarray, claims: Sequence[StackClaim]):
    """r ↦ W(r) = Σ_k ρ^k eq(p_k, r), p_k = (r_k, bits_k) (the eq factors of the
    boolean coordinates are the block selectors): one vector pass per coordinate."""
    P = np.stack([_full_point(E, K, c) for c in claims])

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
    for c in claims:
        if not 0 <= c.num_vars <= K or not 0 <= c.index < 1 << (K - c.num_vars):
            raise err("stack: claim outside the stacked vector")
        if E.shape(np.asarray(c.point)) != (c.num_vars,):
            raise err("stack: claim point of the wrong dimension")


def _groups(sizes: Sequence[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for i, K in enumerate(sizes):
        out.setdefault(K, []).append(i)
    return dict(sorted(out.items()))


def reduce_many(ctx, stacks: Sequence[tuple[int, Sequence[StackClaim], object]], *,
                label: str, base: bool = True) -> list[tuple[np.ndarray, np.ndarray]]:
    """Reduce the claims on each of several stacked tables (K, claims, table) to one
    claim per table, on either side (``ctx`` a prover or verifier context of
    `zklora.zkcore.op`): one batched sumcheck per distinct K (``ctx.run_sumcheck_batch``),
    each table's instance Σ_x S(x)·W(x) = Σ_k ρ^k v_k; a table with a single claim (after
    removing duplicates) keeps it as it is, at its full point, without a sumcheck (the
    commitment's opening checks it as it would the reduced claim).  ``table`` (prover only; ``None``
    for the verifier) is S as a flat array, base-field elements if ``base``.  Returns
    (r*, S̃(r*)) per table."""
    E = ctx.E
    err = ProverError if ctx.prover else VerificationError
    out: list = [None] * len(stacks)
    for K, idx in _groups([K for K, _, _ in stacks]).items():
        claims = [_dedupe(E, stacks[i][1], err) for i in idx]
        for j, cl in enumerate(claims):
            _check(E, K, cl, err)
            _absorb(ctx.ch, E, cl, f"{label}/{K}/{j}")
        # a table with one claim needs no reduction: that claim, on S at its full point,
        # is the one opened (no sumcheck, no table of 2^K entries built)
        single = [(i, cl[0]) for i, cl in zip(idx, claims) if len(cl) == 1]
        for i, c in single:
            out[i] = (_full_point(E, K, c), c.value)
        keep = [j for j, cl in enumerate(claims) if len(cl) != 1]
        if not keep:
            continue
        idx, claims = [idx[j] for j in keep], [claims[j] for j in keep]
        rho = ctx.challenge(f"{label}/{K}/rho")
        weights = [_weights(E, rho, cl) for cl in claims]

        def tables(K=K, idx=idx, claims=claims, weights=weights):
            return [[_table(E, stacks[i][2], base), _w_table(E, K, coefs, cl)]
                    for i, cl, (coefs, _) in zip(idx, claims, weights)]

        point, finals = ctx.run_sumcheck_batch(
            f"{label}/{K}", K, [([(1, (0, 1))], total) for _, total in weights], tables,
            public=[{1: _w_eval(E, K, coefs, cl)} for cl, (coefs, _) in zip(claims, weights)])
        for i, f in zip(idx, finals):
            out[i] = (point, f[0])
    return out
