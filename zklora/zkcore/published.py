"""Published tensors committed in groups: one stacked commitment per group.

A statement publishes the commitments of some committed tensors (batch, adapters,
optimiser state; the base weights through the model commitment, `modelcommit`).  They
are committed in *groups*: each group is one vector S in which its member tensors sit
at the offsets `zklora.zkcore.stack.StackLayout` gives them (largest first, aligned), and
one commitment of S.  A claim on a member becomes a claim on S at the member's block
(`StackLayout.claim`); the graph proof reduces each group's claims to one together with
its own stacks' (`zklora.zkcore.stack.reduce_many`), so a group is opened once.

**Which tensors share a group** is decided from the names and sizes alone (`plan`), so
prover and verifier agree and the verifier insists on exactly that grouping:

* the tensors of one *category* (the model's ``statement_tensors`` keys, e.g. ``data``,
  ``adapters_in``, ``state_out``; ``frozen`` for the model commitment), in the
  category's order, are grouped together;
* a tensor of at least `MAX_SHARED` = 2^22 entries is a group on its own (a base weight
  of a real model: never copied into a larger vector, never padded further);
* the smaller ones fill bins of 2^22 entries, largest first (stable): every size is a
  power of two, so each bin but the last is filled exactly; the last is padded to the
  next power of two (less than 2^22 entries of padding per category).

A group is named after its category (``data``), or ``<category>.<k>`` when the category
needs several groups (k = 0, 1, … in order: bins first, then the large tensors).

A group's description, as the statement and the model commitment document carry it::

    {"commitment": "<hex>", "num_vars": K,
     "tensors": [["<name>", <offset>, <num_vars>], ...]}     (members in stack order)

The values of the ``published`` mapping handed to `zklora.zkcore.graph.prove` / ``verify``
are `Member` objects (the group and the member's index); ``published_states`` maps each
member to its group's `GroupState` (the prover's stacked table and scheme state).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from . import scratch
from .canon import canonical_json
from .errors import ProofFormatError, ProverError
from .stack import SPILL_FACTOR, StackLayout

#: tensors of at least this many entries are committed alone; smaller ones share bins
#: of this many entries
MAX_SHARED = 1 << 22

#: longest group / tensor name a description may carry
MAX_NAME = 256


@attrs.frozen(eq=False)
class Group:
    """One published group: member tensors ``names`` of 2^``nvars[i]`` entries, laid out
    by ``StackLayout``, and the commitment of the stacked vector."""

    name: str
    names: tuple[str, ...]
    nvars: tuple[int, ...]
    commitment: bytes = b""
    layout: StackLayout = attrs.field(init=False)

    def __attrs_post_init__(self):
        object.__setattr__(self, "layout", StackLayout([1 << n for n in self.nvars]))

    @property
    def num_vars(self) -> int:
        return self.layout.num_vars

    def offset(self, i: int) -> int:
        return self.layout.block(i).offset

    def members(self) -> list[list]:
        """[[name, offset, num_vars], …] in member order."""
        return [[n, self.offset(i), v] for i, (n, v) in enumerate(zip(self.names, self.nvars))]

    def describe(self) -> dict[str, Any]:
        """The group as the statement / model commitment carries it (module doc)."""
        return {"commitment": self.commitment.hex(), "num_vars": self.num_vars,
                "tensors": self.members()}

    def description_bytes(self) -> bytes:
        """Canonical bytes of (name, description), absorbed by the graph proof."""
        return canonical_json({"group": self.name, **self.describe()})

    def with_commitment(self, commitment: bytes) -> Group:
        return Group(self.name, self.names, self.nvars, commitment)

    def same_shape(self, other: Group) -> bool:
        return self.names == other.names and self.nvars == other.nvars

    def member_map(self) -> dict[str, Member]:
        return {n: Member(self, i) for i, n in enumerate(self.names)}


@attrs.frozen(eq=False)
class Member:
    """Tensor ``group.names[index]``, published as part of ``group`` (the value of a
    ``published`` entry of `zklora.zkcore.graph.prove` / ``verify``)."""

    group: Group
    index: int

    @property
    def name(self) -> str:
        return self.group.names[self.index]


@attrs.define(eq=False)
class GroupState:
    """Prover side: a group's stacked table (read-only flat base-field array) and the
    scheme's prover state made with its commitment."""

    table: np.ndarray
    state: Any


class IntTable:
    """A read-only flat table of 2^n base-field elements held as the signed integers
    they stand for (``ints``, int64; the elements are ``F.from_ints(ints)``), converted
    only where read: a slice ``t[lo:hi]`` (or an entry) is the converted block, a fresh
    uint64 array; ``np.asarray(t)`` converts the whole table.  The base model's lone
    tables (`commit_groups`) are kept this way where the scheme takes them
    (``takes_int_tables``, WHIR's streamed commitment): its readers go through blocks
    (the streamed encoder, the openings' passes, `stack._read`), the einsums' folds read
    ``ints`` themselves (`zklora.zkcore.einsum`), so the 32 MiB converted copy of each
    table is never made (fresh pages on this kind of VM: about 0.9 s of CPU for the 12
    tables of 84m, the conversion itself 0.05 s).  Not a view of anything (no ``base``,
    not mapped: `scratch.drop` leaves it alone)."""

    __slots__ = ("F", "ints")

    ndim = 1
    dtype = np.dtype(np.uint64)

    def __init__(self, F, ints) -> None:
        a = np.asarray(ints)
        if a.dtype != np.int64 or a.ndim != 1 or not a.flags.c_contiguous:
            raise ValueError("IntTable: a flat C-contiguous int64 array")
        self.F = F
        self.ints = a

    @property
    def shape(self) -> tuple[int]:
        return self.ints.shape

    @property
    def size(self) -> int:
        return self.ints.shape[0]

    @property
    def nbytes(self) -> int:
        return 8 * self.ints.shape[0]

    def __len__(self) -> int:
        return self.ints.shape[0]

    def __getitem__(self, k):
        if isinstance(k, slice):
            return self.F.from_ints(self.ints[k])
        if isinstance(k, (int, np.integer)):
            return self.F.from_ints(self.ints[k:k + 1] if k != -1 else self.ints[-1:])[0]
        raise TypeError("IntTable: index with an integer or a slice")

    def read(self, lo: int, hi: int, out: np.ndarray | None = None) -> np.ndarray:
        """Entries [lo, hi) as field elements: written into ``out`` (a reused uint64
        buffer of at least hi − lo entries: no fresh pages) when given, else a fresh
        array."""
        into = getattr(self.F, "from_ints_into", None)
        if out is None or into is None:
            return self[lo:hi]
        return into(self.ints[lo:hi], out)

    def __array__(self, dtype=None, copy=None):
        out = self.F.from_ints(self.ints)
        return out if dtype is None else out.astype(dtype, copy=False)


def plan(category: str, members: Sequence[tuple[str, int]]) -> list[Group]:
    """The groups of one category's tensors ``members`` = [(name, num_vars)] (module doc),
    without commitments."""
    order = sorted(range(len(members)), key=lambda i: -members[i][1])  # stable
    bins: list[list[int]] = []
    large: list[int] = []
    room = 0
    for i in order:
        n = 1 << members[i][1]
        if n >= MAX_SHARED:
            large.append(i)
            continue
        if room < n:
            bins.append([])
            room = MAX_SHARED
        bins[-1].append(i)
        room -= n
    parts = [sorted(b) for b in bins] + [[i] for i in large]
    name = (lambda k: category) if len(parts) == 1 else (lambda k: f"{category}.{k}")
    return [Group(name(k), tuple(members[i][0] for i in p), tuple(members[i][1] for i in p))
            for k, p in enumerate(parts)]


def plan_categories(categories: Mapping[str, Sequence[str]], num_vars: Callable[[str], int]
                    ) -> list[Group]:
    """Every category's groups, in the categories' order; a tensor listed by several
    categories belongs to the first."""
    seen: set[str] = set()
    out: list[Group] = []
    for key, names in categories.items():
        mine = []
        for n in names:
            if n not in seen:
                seen.add(n)
                mine.append(n)
        if mine:
            out.extend(plan(key, [(n, num_vars(n)) for n in mine]))
    return out


#: the base model's commitment (`api.commit_frozen`) calls `commit_groups` with
#: ``direct`` (environment ``ZKLORA_FROZEN_DIRECT=1``): its lone tables spilled to
#: direct-I/O scratch files from the stacks' size instead of converted copies in RAM.
#: 84m without the prover cache: peak 2.41 -> 1.64 GiB, prove CPU unchanged within
#: noise, wall about +10 % (the tables read back from disk; docs/perf/session41.md), so
#: off by default: a memory lever, not a speed one
FROZEN_DIRECT = os.environ.get("ZKLORA_FROZEN_DIRECT", "") == "1"


def commit_groups(scheme, F, groups: Sequence[Group], values: Callable[[str], Any],
                  states: dict | None = None, direct: bool = False) -> list[Group]:
    """Prover: stack and commit each group's members (``values(name)``: the tensor's
    integers); ``states`` receives each member's `GroupState`.  Returns the groups with
    their commitments.  A scheme with ``work_arrays`` (WHIR: `Whir.work_arrays`) gets
    one set of work arrays for all the groups of the call, so its large encoder arrays
    are allocated once, not once a group (the model commitment's tables); they go when
    the call returns.  ``direct`` (the base model's commitment, `api.commit_frozen`):
    a group of one table spills into a scratch file from the stacks' size
    (`StackLayout.stack_from`, 1/`SPILL_FACTOR` of the store's threshold) instead of a
    whole converted copy in RAM, written with direct I/O (`scratch.Store.build`): on
    this kind of VM a GiB of page-cache writes can cost more system time than the same
    table's fresh pages, a direct write almost none (84m without the prover cache: peak
    2.41 -> 1.64 GiB, CPU within noise, wall +10 %; docs/perf/session41.md).  Groups of
    several tables (bins) are stacked as before."""
    out = []
    make_work = getattr(scheme, "work_arrays", None)
    work = make_work() if make_work is not None and len(groups) > 1 else None
    dt = F.zeros(1).dtype
    # a base field of fixed-size elements: integer tables are converted as they are
    # stacked (`StackLayout.stack_from`'s ``ints``), not into whole converted copies first
    base = F.elem_shape == () and not dt.hasobject
    for g in groups:
        tables, ints = [], []
        for n, v in zip(g.names, g.nvars):
            t = np.asarray(values(n)).reshape(-1)
            ints.append(base and t.dtype.kind in "iub")
            if not ints[-1]:
                t = F.from_ints(t)
            if F.length(t) != 1 << v:
                raise ProverError(f"published tensor {n}: {F.length(t)} entries, expected "
                                  f"2^{v}")
            tables.append(t)
        store = scratch.current()
        one = direct and len(tables) == 1    # a lone table of the base model's
        lone = dt.itemsize * F.length(tables[0]) * (SPILL_FACTOR if one else 1)
        if len(tables) == 1 and g.layout.padding == 0 and not (
                store is not None and store.wants(lone)):
            if ints[0] and _keeps_ints(scheme, F, tables[0]):
                table = IntTable(F, tables[0])   # converted where read (`IntTable`)
            else:
                table = F.from_ints(tables[0]) if ints[0] else tables[0]
                table.flags.writeable = False
        elif all(ints):   # in a scratch file when large, converted a block at a time
            table = g.layout.stack_from(F, tables, ints=True, direct=one)
        else:   # in a scratch file when large (`StackLayout.stack_from`)
            table = g.layout.stack_from(F, [F.from_ints(t) if i else t
                                            for t, i in zip(tables, ints)], direct=one)
        del tables
        com, state = scheme.commit(table) if work is None else scheme.commit(table, work=work)
        scratch.drop(table)
        g = g.with_commitment(com)
        out.append(g)
        if states is not None:
            gs = GroupState(table, state)
            for n in g.names:
                states[n] = gs
    return out


#: lone integer tables of at least this many entries are kept as `IntTable`s where the
#: scheme takes them (`commit_groups`); ``ZKLORA_INT_TABLES=0`` turns it off
INT_TABLE_MIN = MAX_SHARED
INT_TABLES = os.environ.get("ZKLORA_INT_TABLES", "") != "0"


def _keeps_ints(scheme, F, t: np.ndarray) -> bool:
    """Whether `commit_groups` keeps the lone integer table ``t`` as an `IntTable`: a
    large flat int64 table, over goldilocks, committed by a scheme that takes one
    (``takes_int_tables(n)`` true for its 2^n entries)."""
    takes = getattr(scheme, "takes_int_tables", None)
    return (INT_TABLES and takes is not None and getattr(F, "name", None) == "goldilocks"
            and t.dtype == np.int64 and t.ndim == 1 and t.flags.c_contiguous
            and t.shape[0] >= INT_TABLE_MIN and bool(takes(t.shape[0].bit_length() - 1)))


def members(groups: Sequence[Group]) -> dict[str, Member]:
    """Tensor name → `Member` over ``groups``."""
    out: dict[str, Member] = {}
    for g in groups:
        out.update(g.member_map())
    return out


def describe(groups: Sequence[Group]) -> dict[str, dict]:
    """Group name → description (what the statement's ``commitments`` holds)."""
    return {g.name: g.describe() for g in groups}


def parse(doc: Any, expected: Sequence[Group], commitment_size: Callable[[int], int],
          what: str, err: type[Exception] = ProofFormatError) -> list[Group]:
    """The groups of a description ``doc`` (group name → description, module doc),
    checked strictly against ``expected`` (the grouping the verifier computes from the
    graph's tensor specs, `plan_categories`): exactly the expected groups, each with
    exactly its expected members, offsets and sizes, and a lowercase hex commitment of
    ``commitment_size(num_vars)`` bytes.  Bounded work: the key sets are compared before
    any description is read."""
    if not isinstance(doc, dict):
        raise err(f"{what}: must be an object of groups")
    want = {g.name: g for g in expected}
    if set(doc) != set(want):
        odd = sorted(set(doc) ^ set(want))[:4]
        raise err(f"{what}: groups must be exactly {sorted(want)[:8]} (unexpected or "
                  f"missing: {odd})")
    out = []
    for g in expected:
        d = doc[g.name]
        if not isinstance(d, dict) or set(d) != {"commitment", "num_vars", "tensors"}:
            raise err(f"{what}: group {g.name!r} must have exactly the keys commitment, "
                      "num_vars, tensors")
        if type(d["num_vars"]) is not int or d["num_vars"] != g.num_vars:
            raise err(f"{what}: group {g.name!r} has num_vars {d['num_vars']!r}, expected "
                      f"{g.num_vars}")
        if not isinstance(d["tensors"], list) or d["tensors"] != g.members() or any(
                type(x) is not int for m in d["tensors"] for x in m[1:]):
            raise err(f"{what}: group {g.name!r}: members, offsets or sizes differ from the "
                      "graph's (expected " + canonical_json(g.members()[:3]).decode()[:200]
                      + ("…" if len(g.names) > 3 else "") + ")")
        com = hex_bytes(d["commitment"], f"{what}: commitment of group {g.name!r}", err)
        if len(com) != commitment_size(g.num_vars):
            raise err(f"{what}: commitment of group {g.name!r} has {len(com)} bytes, expected "
                      f"{commitment_size(g.num_vars)}")
        out.append(g.with_commitment(com))
    return out


def hex_bytes(h: Any, what: str, err: type[Exception] = ProofFormatError) -> bytes:
    """``h`` as bytes when it is a lowercase hex string; ``err`` naming ``what`` otherwise."""
    try:
        if not isinstance(h, str) or h != h.lower():
            raise ValueError
        return bytes.fromhex(h)
    except ValueError:
        raise err(f"{what} is not lowercase hex") from None


def locate(doc: Mapping[str, Any]) -> dict[str, tuple[str, int, int]]:
    """Tensor name → (group name, offset, num_vars) of an already verified statement's
    ``commitments`` (or a model commitment's ``groups``)."""
    out = {}
    for gname, d in doc.items():
        for n, off, nv in d["tensors"]:
            out[n] = (gname, off, nv)
    return out
