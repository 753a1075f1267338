"""Lookup argument protocol, public tables and the shared witness layout.

A lookup proves that every row of a tuple of columns (c_1(i), …, c_w(i)) lies in a
named public table T with w columns.  Columns are committed tensors (so that claims on
them produced at the end of the proof are discharged by openings); a lookup argument
commits whatever advice it needs (multiplicities, inverses) through the context.

Relation: {(c_1(i), …, c_w(i)) : i} ⊆ {(T_1(j), …, T_w(j)) : j}.

Many requests into one table share one argument (`LookupLayout`): the requests' column
tensors are laid out as aligned power-of-two blocks of one combined column of 2^K rows
(largest first), and the rest is padded with aligned blocks holding table row 0.  The
combined column's MLE at z is then

    C̃_k(z) = Σ_blocks eq(z_hi, block index) · (col_{q,k}~(z_lo)  or  T_k(0) for padding),

so one claim on the combined column splits into one claim per request column.  The
multiplicities count the padding rows too (on row 0).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import attrs
import numpy as np
import torch

from . import selfcheck
from .errors import ProverError
from .field import Field
from .stack import StackLayout

if TYPE_CHECKING:
    from .op import ProverContext, VerifierContext


class Table(ABC):
    """A public table with ``width`` integer columns and 2^num_vars rows."""

    name: str
    width: int
    num_vars: int

    @abstractmethod
    def columns(self) -> list[np.ndarray]:
        """The integer columns (int64 arrays of length 2^num_vars), built deterministically."""

    @property
    def size(self) -> int:
        return 1 << self.num_vars

    def evaluate(self, F: Field, point: np.ndarray) -> list[np.ndarray]:
        """The MLE of every column at ``point`` (verifier side; O(|T|) by default)."""
        from . import mle

        return [mle.evaluate(F, F.base.from_ints(c), point, base=True) for c in self.columns()]

    def dense_lo(self) -> int | None:
        """lo when this is a one-column table whose row i holds lo + i (the row of value
        x is x − lo: `LookupArgument.witness` then counts by bounds and `np.bincount`,
        without `locate`); None otherwise."""
        return None

    def locate(self, cols: Sequence[np.ndarray]) -> np.ndarray:
        """Row index of every tuple (cols[0][i], …, cols[w-1][i]); −1 where it is not a
        row.  Default: binary search over the sorted rows (O((n + |T|) log |T|))."""
        T = np.ascontiguousarray(np.stack([np.asarray(c, np.int64) for c in self.columns()], 1))
        Q = np.ascontiguousarray(np.stack([np.asarray(c, np.int64) for c in cols], 1))
        vt = np.dtype((np.void, 8 * self.width))
        tk, qk = T.view(vt).ravel(), Q.view(vt).ravel()
        order = np.argsort(tk, kind="stable")
        srt = tk[order]
        pos = np.minimum(np.searchsorted(srt, qk), len(srt) - 1)
        return np.where(srt[pos] == qk, order[pos], -1).astype(np.int64)

    def explain(self, row: Sequence[int]) -> str:
        """Why ``row`` is not in the table (used in prover error messages)."""
        return ""


@attrs.frozen
class TableSpec:
    """A named family of tables contributed by a plugin (hook ``zk_tables``):
    ``build(**params)`` returns the `Table`, deterministically and cached."""

    name: str
    build: Callable[..., Table]
    doc: str = ""


@attrs.frozen
class LookupRequest:
    """Rows of the committed tensors ``columns`` must lie in ``table``."""

    table: Table
    columns: tuple[str, ...]
    label: str


# -- layout of many requests into one combined column ------------------------------------


@attrs.frozen
class Block:
    """Rows [offset, offset + 2^num_vars) of the combined column: request ``request``
    (index into the request list) or padding (``request is None``)."""

    request: int | None
    offset: int
    num_vars: int


class LookupLayout:
    """Placement of every request's columns in one combined column (see module doc),
    a `StackLayout` of the requests' sizes."""

    def __init__(self, table: Table, requests: Sequence[LookupRequest], specs):
        self.table = table
        self.requests = list(requests)
        sizes = []
        for r in self.requests:
            if len(r.columns) != table.width:
                raise ValueError(f"lookup {r.label}: table {table.name} has {table.width} "
                                 f"columns, got {len(r.columns)}")
            ss = {specs[c].size for c in r.columns}
            if len(ss) != 1:
                raise ValueError(f"lookup {r.label}: columns {r.columns} differ in size")
            sizes.append(ss.pop())
        stack = StackLayout(sizes)
        self.used = stack.used
        self.size = stack.size
        self.num_vars = stack.num_vars
        self.blocks = [Block(b.item, b.offset, b.num_vars) for b in stack.blocks]
        self.pad_row = [int(c[0]) for c in table.columns()]

    @property
    def padding(self) -> int:
        return self.size - self.used

    def describe(self) -> bytes:
        """Canonical description absorbed into the transcript by both sides."""
        parts = [self.table.name] + [f"{r.label}:{','.join(r.columns)}" for r in self.requests]
        return "\x00".join(parts).encode()

    def combine(self, F: Field, table_of: Callable[[str], np.ndarray]) -> list[np.ndarray]:
        """The combined columns as flat base-field arrays of length 2^K."""
        out = []
        for k in range(self.table.width):
            parts = []
            for b in self.blocks:
                if b.request is None:
                    parts.append(F.from_ints(np.full(1 << b.num_vars, self.pad_row[k], np.int64)))
                else:
                    parts.append(np.asarray(table_of(self.requests[b.request].columns[k])))
            out.append(np.concatenate(parts))
        return out

    def columns(self, ctx: ProverContext | VerifierContext, z: np.ndarray, label: str
                ) -> list[np.ndarray]:
        """Split the combined columns at ``z`` into the requests' columns: the prover
        sends col_{q,k}~(z_lo) for every request and column, the verifier reads them;
        each becomes a claim.  Returns C̃_k(z) = Σ_blocks eq(z_hi, block)·(col~ or the
        padding row) for every k (all blocks' selectors at once, `selectors`)."""
        E = ctx.E
        w = self.table.width
        cols = [(b, c) for b in self.blocks if b.request is not None
                for c in self.requests[b.request].columns]
        vals = ctx.exchange(f"{label}/columns", len(cols), lambda: np.stack(
            [ctx.evaluate(c, z[:b.num_vars]) for b, c in cols])) if cols else None
        if not self.blocks:
            return [E.scalar(0) for _ in range(w)]
        rows = []
        i = 0
        for b in self.blocks:
            if b.request is None:
                rows.append(E.from_ints(np.asarray(self.pad_row, np.int64)))
            else:
                zl = z[:b.num_vars]
                for k, c in enumerate(self.requests[b.request].columns):
                    ctx.claim(c, zl, vals[i + k])
                rows.append(vals[i:i + w])
                i += w
        V = np.stack([np.asarray(r) for r in rows])        # (blocks, w) + elem
        sel = selectors(E, z, [(b.num_vars, b.offset) for b in self.blocks])
        return [E.dot(sel, np.ascontiguousarray(V[:, k])) for k in range(w)]

    def columns_hidden(self, ctx: ProverContext | VerifierContext, z: np.ndarray,
                       label: str, blindable: Callable[[str, object], bool]
                       ) -> tuple[list[np.ndarray], list[tuple]]:
        """`columns` with zero knowledge (docs/zero-knowledge.md §5.1, hidden lookups):
        every request column ``c`` for which ``blindable(c, ν)`` holds (ν = `zk.fresh_nu`,
        drawn for every column on both sides) is sent as col~(z_lo) + ν and its claim is
        blinded with ν; the others are sent as in `columns`.  Returns (C̃'_k for every k,
        computed from the sent values, and the blind terms B_k with
        C̃_k(z) + Σ B_k = C̃'_k: B_k = Σ_blocks eq(z_hi, block)·ν_{block,k})."""
        from . import zk as zklib
        from .claims import Blind, blind_value

        E = ctx.E
        w = self.table.width
        cols = [(b, c) for b in self.blocks if b.request is not None
                for c in self.requests[b.request].columns]
        nus = []
        for _, c in cols:
            nu = zklib.fresh_nu(ctx)
            nus.append(nu if blindable(c, nu) else None)

        def compute():
            out = []
            for (b, c), nu in zip(cols, nus):
                v = ctx.evaluate(c, z[:b.num_vars])
                if nu is not None:
                    v = E.add(v, blind_value(ctx, (nu,)))
                out.append(v)
            return np.stack(out)

        vals = ctx.exchange(f"{label}/columns", len(cols), compute) if cols else None
        if not self.blocks:
            return [E.scalar(0) for _ in range(w)], [() for _ in range(w)]
        sel = selectors(E, z, [(b.num_vars, b.offset) for b in self.blocks])
        rows = []
        blinds: list[list] = [[] for _ in range(w)]
        pend: list[tuple] = []   # (column k, ν, block j) of every blinded column, in order
        i = 0
        for j, b in enumerate(self.blocks):
            if b.request is None:
                rows.append(E.from_ints(np.asarray(self.pad_row, np.int64)))
                continue
            zl = z[:b.num_vars]
            for k, c in enumerate(self.requests[b.request].columns):
                nu = nus[i + k]
                ctx.claim(c, zl, vals[i + k], () if nu is None else (nu,))
                if nu is not None:
                    pend.append((k, nu, j))
            rows.append(vals[i:i + w])
            i += w
        if pend:   # ν's coefficient times its block's selector: one vector product
            if E.elem_shape:
                cfs = E.mul(np.stack([np.asarray(nu.coefficient) for _, nu, _ in pend]),
                            np.ascontiguousarray(np.asarray(sel)[[j for _, _, j in pend]]))
            else:
                cfs = [E.mul(nu.coefficient, sel[j]) for _, nu, j in pend]
            for (k, nu, _), cf in zip(pend, cfs):
                blinds[k].append(Blind.owned(nu.tensor, nu.point, cf))
        V = np.stack([np.asarray(r) for r in rows])        # (blocks, w) + elem
        return ([E.dot(sel, np.ascontiguousarray(V[:, k])) for k in range(w)],
                [tuple(b) for b in blinds])


@attrs.define
class LookupWitness:
    """Prover-side data of one argument: the layout, the field tables of the column
    tensors (``table_of``, e.g. `ProverContext.table`) and the multiplicities (int64,
    one per table row).  The combined columns are built on demand (`columns`), never
    held: an argument that can work block by block (`blocks`) never builds them."""

    layout: LookupLayout
    field: Field
    table_of: Callable[[str], np.ndarray]
    multiplicities: np.ndarray

    @property
    def columns(self) -> list[np.ndarray]:
        """The combined columns as flat base-field arrays of length 2^K (a new copy)."""
        return self.layout.combine(self.field, self.table_of)

    def blocks(self):
        """(offset, num_vars, columns) for every block of the combined column:
        ``columns`` the request's base-field column tables, or the padding row's
        integers (a list of ints) for a padding block."""
        lay = self.layout
        for b in lay.blocks:
            if b.request is None:
                yield b.offset, b.num_vars, list(lay.pad_row)
            else:
                yield b.offset, b.num_vars, [np.asarray(self.table_of(c)).reshape(
                    (-1,) + self.field.elem_shape) for c in lay.requests[b.request].columns]


def _miss_message(table: Table, req: LookupRequest, cols: list[np.ndarray], i: int) -> str:
    row = tuple(int(c[i]) for c in cols)
    if len(row) == 1:
        what = f"tensor {req.columns[0]!r} has value {row[0]}"
    else:
        what = "row (" + ", ".join(f"{n}={v}" for n, v in zip(req.columns, row)) + ")"
    why = table.explain(row)
    return (f"lookup {req.label!r}: {what} at flat index {i}, which is not in table "
            f"{table.name}" + (f" ({why})" if why else ""))


class LookupArgument(ABC):
    """Proves `LookupRequest`s; the kernel calls it once per table with every request
    on that table, at the end of the proof (before openings)."""

    name: str
    fields: tuple[str, ...] = ()

    #: Test-only hook honoured by `witness` (the conformance suite uses it to build
    #: malicious proofs): rewrite the multiplicities before they are committed.  With
    #: the prover self-checks off (`zklora.zkcore.selfcheck.disabled`) the membership
    #: check is skipped and rows not in the table count nowhere.
    test_tamper_multiplicities: Callable[[np.ndarray], np.ndarray] | None = None

    #: most independent challenge sets the argument can draw
    #: (`zklora.zkcore.security.check_lookup`: the verifier asks for the fewest that
    #: reach the floor and refuses a lookup that needs more)
    max_repetitions: int = 1

    def soundness_rows(self, layout: LookupLayout, table: Table) -> tuple[int, int]:
        """(rows, table rows) counted by `zklora.zkcore.security.check_lookup` for one
        table: the rows the prover chooses (padding rows are pinned to table row 0) and
        the table's rows (docs/soundness.md §2.2)."""
        return layout.used, table.size

    @classmethod
    def supports(cls, field: Field) -> bool:
        return not cls.fields or field.name in cls.fields

    def witness(self, ctx: ProverContext, table: Table,
                requests: Sequence[LookupRequest]) -> LookupWitness:
        """Lay out the requests, check every row is in the table (`ProverError` naming
        the tensor, the value and the table otherwise) and count multiplicities."""
        layout = LookupLayout(table, requests, ctx.specs)
        size = table.size
        m = np.zeros(size, np.int64)
        lo = table.dense_lo()
        # requests of fewer rows than the table are counted together (one bincount of
        # their concatenated rows once they reach the table's size): a bincount of
        # length |T| per small request cost more than its rows (s32h8)
        small: list[np.ndarray] = []
        nsmall = 0
        for req in requests:
            cols = [np.asarray(ctx.value(c).reshape(-1).numpy(), np.int64) for c in req.columns]
            x = cols[0]
            if lo is not None and x.size and lo <= x.min() and x.max() < lo + size:
                idx = x - lo if lo else x     # every row found (two read-only passes)
            else:
                idx = table.locate(cols)
                if idx.size and idx.min() < 0:   # (one pass when every row is found)
                    bad = np.flatnonzero(idx < 0)
                    if selfcheck.enabled():
                        raise ProverError(_miss_message(table, req, cols, int(bad[0])))
                    idx = idx[idx >= 0]
            if idx.size >= size:
                m += np.bincount(idx, minlength=size)
                continue
            small.append(idx)
            nsmall += idx.size
            if nsmall >= size:
                m += np.bincount(np.concatenate(small), minlength=size)
                small, nsmall = [], 0
        if small:
            m += np.bincount(np.concatenate(small), minlength=size)
        m[0] += layout.padding
        if self.test_tamper_multiplicities is not None:
            m = np.asarray(self.test_tamper_multiplicities(m.copy()), np.int64)
        return LookupWitness(layout, ctx.F, ctx.table, m)

    def commit(self, ctx: ProverContext | VerifierContext, table: Table,
               requests: Sequence[LookupRequest], label: str | None = None
               ) -> LookupCommitted:
        """Phase 1, before any challenge of the argument: lay out the requests, check
        the argument's soundness at that layout (`check_lookup`, the verifier's own
        bound), absorb the layout and commit the multiplicities ``{label}/m`` (label
        default ``lookup:{table}``; deferred into the pending stack: the kernel commits
        the static lookups' multiplicities in the commitment phase, with the witness,
        and those of lookups requested mid-proof as one late stack)."""
        from .security import check_lookup

        pre = label or table_label(table)
        wit = self.witness(ctx, table, requests) if ctx.prover else None
        layout = LookupLayout(table, requests, ctx.specs)
        rows, trows = self.soundness_rows(layout, table)
        check_lookup(ctx.E, rows, trows, pre, prover=ctx.prover, most=self.max_repetitions)
        ctx.ch.observe_public(f"{pre}/layout", layout.describe())
        mname = f"{pre}/m"
        ctx.advice(mname, (table.size,), (0, layout.size),
                   lambda: torch.from_numpy(wit.multiplicities))
        return LookupCommitted(table, layout, wit, mname, pre)

    def prove(self, ctx: ProverContext | VerifierContext, c: LookupCommitted) -> None:
        """Phase 2: the argument proper on the committed multiplicities ``c.m``, on
        either side (as an op's ``relations``): draw its challenges, run its checks and
        add claims on the column tensors (and on its advice) to ``ctx``.  An argument
        that implements `run` instead is run whole, table by table."""
        raise NotImplementedError

    def prove_many(self, ctx: ProverContext | VerifierContext,
                   committed: Sequence[LookupCommitted]) -> None:
        """Phase 2 for every table at once (the kernel's entry point, both sides): by
        default `prove` on each in order; an argument may batch them (shared
        challenges, one proof for all tables)."""
        for c in committed:
            self.prove(ctx, c)

    def run(self, ctx: ProverContext | VerifierContext, table: Table,
            requests: Sequence[LookupRequest]) -> None:
        """The whole argument on one table: `prove` after `commit`."""
        self.prove(ctx, self.commit(ctx, table, requests))

    @classmethod
    def two_phase(cls) -> bool:
        """Whether the argument splits into `commit` and `prove` (the kernel then
        commits every table's multiplicities together)."""
        return cls.prove is not LookupArgument.prove


@attrs.define
class LookupCommitted:
    """What `LookupArgument.commit` leaves for `LookupArgument.prove`: the table, the
    requests' layout, the prover's witness (None on the verifier's side), the
    multiplicities' tensor name and the transcript label prefix."""

    table: Table
    layout: LookupLayout
    witness: LookupWitness | None
    m: str
    label: str


# -- helpers shared by lookup arguments ----------------------------------------------------


def selectors(E: Field, z: np.ndarray, blocks: Sequence[tuple[int, int]]) -> np.ndarray:
    """eq(z_hi, block index) for every block (num_vars n, offset o) of a stacked vector
    of 2^K entries at the point ``z`` (K coordinates, low first): Π_{i ≥ n} (z_i if bit
    i of o is set else 1 − z_i), as one E-array (one entry per block, in order).
    Blocks of one size are computed together, one vectorised product per coordinate
    (`zklora.zkcore.stack.selector` is the one-block reference)."""
    z = np.asarray(z)
    K = E.shape(z)[0]
    out = E.zeros(len(blocks))
    if not len(blocks):
        return out
    one = E.scalar(1)
    omz = E.sub(one, z) if K else z
    by_n: dict[int, list[int]] = {}
    for k, (n, _) in enumerate(blocks):
        by_n.setdefault(int(n), []).append(k)
    tail = (1,) * len(E.elem_shape)
    for n, ks in by_n.items():
        idx = np.array([blocks[k][1] >> n for k in ks], np.int64)
        acc = E.ones(len(ks))
        for i in range(n, K):
            bit = ((idx >> (i - n)) & 1).astype(bool).reshape((-1,) + tail)
            acc = E.mul(acc, np.where(bit, z[i:i + 1], omz[i:i + 1]))
        out[np.array(ks)] = acc
    return out


def table_label(table: Table) -> str:
    """The transcript label prefix of the lookup argument on ``table``."""
    return f"lookup:{table.name}"


def draw_combiners(ctx, width: int, label: str):
    """Independent combiners [1, α_1, …, α_(w−1)] (drawn only when w > 1) and β: a row
    (c_0, …, c_(w−1)) is folded to β − c_0 − Σ_(k≥1) α_k·c_k, a polynomial of total
    degree 1 in the challenges, so distinct rows give distinct (coprime) denominators
    and the LogUp identity over N + T of them has degree < N + T
    (`zklora.zkcore.security.lookup_degree`; powers of one α would give degree
    (w − 1)·(N + T))."""
    E = ctx.E
    if width > 1:
        coefs = np.concatenate([E.ones(1), ctx.challenges(f"{label}/alpha", width - 1)])
    else:
        coefs = E.ones(1)
    return coefs, ctx.challenge(f"{label}/beta")


def draw_combiner_sets(ctx, width: int, label: str, reps: int):
    """``reps`` independent `draw_combiners` sets drawn in one round (nothing is absorbed
    between them): set 0 under ``label``, set r under ``{label}/rep{r}``."""
    return [draw_combiners(ctx, width, label if r == 0 else f"{label}/rep{r}")
            for r in range(reps)]


def table_field_columns(F: Field, table: Table) -> list[np.ndarray]:
    """The table's columns as base-field arrays."""
    return [F.from_ints(c) for c in table.columns()]
