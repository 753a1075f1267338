"""Commitments of one proof: published tensors (individually, or in published groups,
`zklora.zkcore.published`) and stacks, and the final batched opening (`Committer`).  One
class for prover and verifier."""

from __future__ import annotations

import json
import struct
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from . import claims as claimlib
from . import mle, scratch
from . import stack as stacklib
from . import zk as zklib
from .canon import canonical_json
from .claims import Claim
from .commit import CheckItem, CommitmentScheme, Evaluation, OpenItem, SumClaim, SumTerm
from .errors import ProverError, VerificationError
from .op import ProverContext, TensorSpec, VerifierContext
from .published import GroupState, IntTable, Member
from .stack import StackLayout
from .transcript import ProverChannel, VerifierChannel

_U8 = struct.Struct("<Q")
_U8X2 = struct.Struct("<QQ")
_U64 = np.dtype("<u8")
#: the key's term count of a one-term claim (`stack._own_key`)
_ONE_TERM = _U8.pack(1)

#: a pending table of at least 1/STAGE of the scratch threshold is staged on disk
STAGE = 64


class _Remade:
    """A pending table its owner can make again (``make()``, e.g. from its witness value,
    `ProverContext.remake`): nothing of it is held, and `flush` stacks it straight from
    a fresh ``make()`` (no stage file, no copy of one).  ``length``: its entries."""

    __slots__ = ("make", "length")

    def __init__(self, make: Callable[[], np.ndarray], length: int) -> None:
        self.make = make
        self.length = length

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        a = np.asarray(self.make())
        if a.shape[:1] != (self.length,):
            raise ProverError(f"a table remade with {a.shape[:1]} entries, {self.length} "
                              "committed")
        return a if dtype is None else a.astype(dtype, copy=False)


@attrs.define
class _Stack:
    """One stacked commitment: tensors ``names`` laid out by ``layout`` in one vector S
    (``table`` and the scheme ``state`` on the prover side only)."""

    names: list[str]
    layout: StackLayout
    commitment: bytes
    table: Any = None
    state: Any = None


def _stack_description(names: Sequence[str], layout: StackLayout) -> bytes:
    """Canonical description of a stack, absorbed by both sides before its commitment."""
    blocks = [[names[b.item], b.offset, b.num_vars] for b in layout.blocks
              if b.item is not None]
    desc = {"num_vars": layout.num_vars, "blocks": blocks}
    if type(layout.num_vars) is int and all(
            type(n) is str and type(o) is int and type(v) is int for n, o, v in blocks):
        # plain strings and integers: `canonical_json`'s conversion is the identity, so
        # its bytes are json.dumps' (a ZK stack describes ~1,000 mask slots more)
        return json.dumps(desc, sort_keys=True, separators=(",", ":")).encode()
    return canonical_json(desc)


#: a stack beyond the second only where it saves at least this many padded entries
#: against one stack fewer: each stack costs a commitment and an opening group of its
#: own (its root, its queries' paths, its first rounds), so a third stack that saves
#: little is not worth it (the 84M step: 2^25 + 2^23 + 2^21 instead of 2^25 + 2^24,
#: 6.3M entries fewer; the tiny step's 2^22 + 2^20 stays two stacks: 2^18 fewer)
MIN_STACK_SAVING = 1 << 20
#: at most this many stacks for the commitment phase's tensors (`graph._schedule`, outside
#: the one-stack zero-knowledge case)
WITNESS_STACKS = 3


def stack_bins(total: int, max_stacks: int) -> list[int]:
    """The stack sizes (powers of two, largest first) `Committer.flush_packed` commits
    ``total`` entries in, at most ``max_stacks`` of them: the top bits of the total, the
    last one rounded up, so nothing is padded but the last stack; one stack (the total
    rounded up) where that pads no more.  Two stacks wherever they pad less than one; a
    k-th (k ≥ 3) only where it saves at least `MIN_STACK_SAVING` entries against k − 1.
    From the total alone, so both sides agree."""
    one = 1 << max(total - 1, 0).bit_length()
    best = [one]
    bins, rest = [], total
    while len(bins) < max_stacks - 1 and rest & (rest - 1):
        bins.append(1 << (rest.bit_length() - 1))
        rest -= bins[-1]
        plan = bins + [1 << max(rest - 1, 0).bit_length()]
        need = 1 if len(plan) == 2 else MIN_STACK_SAVING
        if sum(best) - sum(plan) < need:
            break
        best = plan
    return best


class Committer:
    """Commits (prover) or receives (verifier) tensors and keeps what the final batched
    opening needs; one class for both sides (``prover``).

    Tensors with a published commitment (bytes) are committed individually; a tensor
    published as a `Member` of a published group is committed as part of its group's
    stack (the group's description and commitment absorbed once, when its first member
    is committed), and its claims are reduced with that stack's.  Every other
    tensor is deferred into a pending group; `flush` (run before every challenge, and
    at the start of the openings) commits the group as one stacked vector
    (`zklora.zkcore.stack.StackLayout`), so a proof holds one commitment per group of
    tensors committed between two challenges."""

    def __init__(self, scheme: CommitmentScheme, prover: bool):
        self.scheme = scheme
        self.prover = prover
        #: individually committed tensors: name -> (commitment, num_vars, prover state)
        self.published: dict[str, tuple[bytes, int, Any]] = {}
        self.stacks: list[_Stack] = []
        self.where: dict[str, tuple[int, int]] = {}
        #: published groups, in the order their first member was committed
        self.groups: list[_Stack] = []
        self._group_of: dict[str, int] = {}
        self.in_group: dict[str, tuple[int, int]] = {}
        self._parts: dict[int, dict[int, Any]] = {}
        self._pending: list[tuple[TensorSpec, Any]] = []
        #: prover: pending tables staged in scratch files (`_stage`): id of the table
        #: (the map, or a view of a batch's map) -> the map
        self._staged: dict[int, np.ndarray] = {}
        #: prover: id of a staged map -> its tables not stacked yet
        self._refs: dict[int, int] = {}
        #: prover: indices into ``_pending`` of small tables not staged yet (`_stage`)
        self._batch: list[int] = []
        #: prover: called with (name, read-only view of the stack) for every stacked
        #: tensor, so the caller can drop its own copy of the table
        self.on_stacked: Callable[[str, np.ndarray], None] | None = None
        #: prover: called with (name, table) for a pending table inside a scratch
        #: session; a function that makes the same table again where the caller can
        #: (and then drops its own copy), else None (`_Remade`)
        self.remake: Callable[[str, np.ndarray], Callable[[], np.ndarray] | None] | None \
            = None
        #: prover: the scheme's work arrays (`Whir.work_arrays`) shared by the stacks
        #: of one `flush_packed` call, else None (each commitment allocates its own)
        self._work = None

    def commit(self, ch: ProverChannel | VerifierChannel, spec: TensorSpec,
               table: np.ndarray | None = None, published: bytes | Member | None = None,
               state: Any = None) -> None:
        """Commit ``spec`` (``table``, its flat base-field array, on the prover side only):
        deferred into the pending stack, or, with a ``published`` commitment (part of
        the statement, e.g. the base model's), on its own: the prover checks its table
        against it — or reuses ``state``, the prover state made with that commitment
        from the same values — the verifier its length; both only absorb it.  A
        ``published`` `Member` commits ``spec`` as part of its group (`_commit_member`)."""
        if published is None:
            if self.prover and table is not None:
                made = self._remade(spec.name, table)
                if made is not None:
                    self._pending.append((spec, made))
                    return
                table = self._stage(spec.name, table)
            self._pending.append((spec, table))
            if self.prover and table is not None and not scratch.is_mapped(table):
                self._stage_small(len(self._pending) - 1)
            return
        if isinstance(published, Member):
            self._commit_member(ch, spec, table, published, state)
            return
        if self.prover:
            if state is None:
                com, state = self.scheme.commit(table)
                if com != published:
                    raise ProverError(f"tensor {spec.name} does not match its published "
                                      "commitment")
        elif len(published) != self.scheme.commitment_size(spec.num_vars):
            raise VerificationError(
                f"published commitment of {spec.name} has {len(published)} bytes, expected "
                f"{self.scheme.commitment_size(spec.num_vars)}")
        ch.observe_public(f"commit:{spec.name}", published)
        self.published[spec.name] = (published, spec.num_vars, state)

    def commit_remade(self, ch: ProverChannel, spec: TensorSpec,
                      make: Callable[[], np.ndarray]) -> bool:
        """Prover, inside a scratch session: defer ``spec`` into the pending stack with
        its flat table given by ``make()``, made only when `flush` stacks it (`_Remade`:
        nothing held until then, no stage file).  False (nothing done) elsewhere, or
        over a field of Python-integer elements: the caller then commits the table."""
        if not self.prover or scratch.current() is None or \
                self.scheme.field.zeros(1).dtype.hasobject:
            return False
        self._pending.append((spec, _Remade(make, spec.size)))
        return True

    def _remade(self, name: str, table) -> _Remade | None:
        """Prover, inside a scratch session: a pending table its owner can make again
        (``remake``) is held as that recipe (`_Remade`) instead of being staged on disk:
        `flush` makes it once more and writes it straight into the stack."""
        if self.remake is None or scratch.current() is None or scratch.is_mapped(table):
            return None
        a = np.asarray(table)
        if a.dtype.hasobject:
            return None
        n = self.scheme.field.length(self.scheme.field.flat(a))
        make = self.remake(name, table)
        return None if make is None else _Remade(make, n)

    def _stage(self, name: str, table):
        """Prover, inside a scratch session: a pending table of at least 1/`STAGE`
        of the store's spill threshold moves to a scratch file at once, and its owner's
        copy (``on_stacked``) becomes a read-only map of it, so the tables of a group are
        not all in RAM when `flush` stacks them (the file is removed once stacked)."""
        store = scratch.current()
        a = np.asarray(table)
        if store is None or scratch.is_mapped(a) or a.dtype.hasobject or \
                not store.wants(a.nbytes * STAGE):
            return table   # (Python-integer elements cannot live in a file)
        mm = store.build(a.shape, a.dtype, [(0, a)], tag="stage")
        del a, table
        self._staged[id(mm)] = mm
        self._refs[id(mm)] = 1
        if self.on_stacked is not None:
            self.on_stacked(name, mm)
        return mm

    def _stage_small(self, k: int) -> None:
        """Prover: pending table ``k`` is too small to be staged alone (`_stage`); the
        small tables pending since the last batch are staged together, as views of one
        scratch file, once they reach the size a table is staged at alone (so the
        tables of a stack made of many small tensors are not all in RAM either)."""
        store = scratch.current()
        if store is None:
            return
        t = np.asarray(self._pending[k][1])
        if t.dtype.hasobject:   # Python-integer elements cannot live in a file
            return
        if self._batch:
            f = np.asarray(self._pending[self._batch[0]][1])
            if f.dtype != t.dtype or f.shape[1:] != t.shape[1:]:
                self._batch.clear()   # another element layout: those stay in RAM
        self._batch.append(k)
        tabs = [np.asarray(self._pending[i][1]) for i in self._batch]
        if not store.wants(sum(a.nbytes for a in tabs) * STAGE):
            return
        offs = np.cumsum([0] + [a.shape[0] for a in tabs])
        mm = store.build((int(offs[-1]),) + tuple(t.shape[1:]), t.dtype,
                         [(int(o), a) for o, a in zip(offs, tabs)], tag="stage")
        del tabs, t
        self._refs[id(mm)] = len(self._batch)
        for i, o, e in zip(self._batch, offs[:-1], offs[1:]):
            spec = self._pending[i][0]
            view = mm[int(o):int(e)]
            self._pending[i] = (spec, view)
            self._staged[id(view)] = mm
            if self.on_stacked is not None:
                self.on_stacked(spec.name, view)
        self._batch.clear()

    def _commit_member(self, ch: ProverChannel | VerifierChannel, spec: TensorSpec,
                       table: np.ndarray | None, m: Member, state: Any) -> None:
        """``spec`` is member ``m.index`` of the published group ``m.group``: its
        description and commitment are absorbed with the group's first member (the
        verifier checks the commitment's length first); the prover reuses ``state`` (the
        group's `GroupState`) or, without it, stacks the members' tables as they come
        and checks the commitment once the group is complete."""
        err = ProverError if self.prover else VerificationError
        g = m.group
        if not 0 <= m.index < len(g.names) or g.names[m.index] != spec.name:
            raise err(f"published tensor {spec.name} is not member {m.index} of group "
                      f"{g.name!r}")
        if g.nvars[m.index] != spec.num_vars:
            raise err(f"published tensor {spec.name}: group {g.name!r} gives it 2^"
                      f"{g.nvars[m.index]} entries, the graph 2^{spec.num_vars}")
        if spec.name in self.in_group or spec.name in self.published:
            raise err(f"tensor {spec.name} committed twice")
        k = self._group_of.get(g.name)
        if k is None:
            if not self.prover and len(g.commitment) != self.scheme.commitment_size(
                    g.num_vars):
                raise err(f"published group {g.name!r}: commitment of {len(g.commitment)} "
                          f"bytes, expected {self.scheme.commitment_size(g.num_vars)}")
            ch.observe_public(f"commit:group/{g.name}", g.description_bytes())
            k = self._group_of[g.name] = len(self.groups)
            self.groups.append(_Stack(list(g.names), g.layout, g.commitment))
            self._parts[k] = {}
        st = self.groups[k]
        if st.names != list(g.names) or st.commitment != g.commitment or \
                st.layout.sizes != g.layout.sizes:
            raise err(f"two different published groups named {g.name!r}")
        self.in_group[spec.name] = (k, m.index)
        if not self.prover or st.state is not None:
            return
        if isinstance(state, GroupState):
            st.table, st.state = state.table, state.state
            self._parts.pop(k, None)
            if self.on_stacked is not None:
                for b in g.layout.blocks:
                    if b.item is not None:
                        lo, hi = b.offset, b.offset + (1 << b.num_vars)
                        # a lone table held as its integers (`published.IntTable`): itself,
                        # not a converted copy of it
                        whole = isinstance(st.table, IntTable) and (lo, hi) == (
                            0, st.table.shape[0])
                        self.on_stacked(g.names[b.item], st.table if whole else st.table[lo:hi])
            return
        F = self.scheme.field
        if table is None or F.length(F.flat(table)) != spec.size:
            raise ProverError(f"published tensor {spec.name}: no table of {spec.size} "
                              "entries to commit")
        parts = self._parts[k]
        parts[m.index] = table
        if len(parts) == len(g.names):
            tables = [parts[i] for i in range(len(g.names))]
            del self._parts[k], parts
            st.table = g.layout.stack_from(F, tables)
            com, st.state = self.scheme.commit(st.table)
            scratch.drop(st.table)
            if com != g.commitment:
                raise ProverError(f"the tensors of group {g.name!r} do not match its "
                                  "published commitment")

    def flush(self, ch: ProverChannel | VerifierChannel) -> None:
        """Commit the pending tensors as one stacked vector: the prover sends the
        commitment, the verifier reads it."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        self._batch.clear()
        names = [s.name for s, _ in pending]
        layout = StackLayout([s.size for s, _ in pending])
        k = len(self.stacks)
        ch.observe_public(f"stack/{k}", _stack_description(names, layout))
        label = f"commit:stack/{k}"
        st = _Stack(names, layout, b"")
        if self.prover:
            F = self.scheme.field
            for s, t in pending:
                n = t.length if type(t) is _Remade else F.length(F.flat(t))
                if n != s.size:
                    raise ProverError(f"tensor {s.name}: table of {n} entries, {s.size} "
                                      "declared")
            tables = [t for _, t in pending]
            del pending, s, t
            # read-only (in a scratch file when large, `StackLayout.stack_from`): the
            # scheme may keep it by reference, and each tensor's table becomes a view
            # of it instead of a second copy (``on_stacked``)
            staged = [self._staged.pop(id(t)) for t in tables if id(t) in self._staged]
            st.table = layout.stack_from(F, tables)
            del tables
            store = scratch.current()
            for t in staged:   # a map goes once all its tables are stacked
                self._refs[id(t)] -= 1
                if not self._refs[id(t)]:
                    del self._refs[id(t)]
                    store.remove(t)
            del staged
            if self.on_stacked is not None:
                for b in layout.blocks:
                    if b.item is not None:
                        self.on_stacked(names[b.item],
                                        st.table[b.offset:b.offset + (1 << b.num_vars)])
            # ``work`` passed only when given (the signature other schemes and spies know)
            st.commitment, st.state = (self.scheme.commit(st.table) if self._work is None
                                       else self.scheme.commit(st.table, work=self._work))
            scratch.drop(st.table)
            ch.send_bytes(label, st.commitment)
        else:
            st.commitment = ch.recv_bytes(label, self.scheme.commitment_size(layout.num_vars))
        self.stacks.append(st)
        for i, n in enumerate(names):
            self.where[n] = (k, i)

    def flush_packed(self, ch: ProverChannel | VerifierChannel, max_stacks: int = 2) -> None:
        """`flush`, as up to ``max_stacks`` stacks when that pads less than one: every
        tensor size is a power of two, so taking the stack sizes from the top bits of
        the total (the last one rounded up) and filling them largest tensor first
        leaves no gap but the last stack's padding (a total of 1.3·2^22 entries becomes
        2^22 + 2^21 instead of 2^23).  Decided from the sizes alone, so both sides
        agree."""
        pending = self._pending
        self._batch.clear()
        sizes = [s.size for s, _ in pending]
        total = sum(sizes)
        cap = getattr(self.scheme, "max_vars", None)
        if cap is not None and total > 1 << cap:
            # more than one commitment may hold (a 30-layer SmolLM step: 2^30 entries,
            # WHIR 2^28): stacks of 2^cap, largest tensor first into the first that has
            # room (sizes are powers of two: full stacks but the last), each then packed
            # as usual; from the sizes alone, so both sides agree
            groups: list[list] = []
            room: list[int] = []
            for k in sorted(range(len(pending)), key=lambda k: -sizes[k]):   # stable
                g = next((b for b, r in enumerate(room) if r >= sizes[k]), None)
                if g is None:
                    groups.append([])
                    room.append(1 << cap)
                    g = len(groups) - 1
                groups[g].append(k)
                room[g] -= sizes[k]
            for g in groups:
                self._pending = [pending[k] for k in sorted(g)]
                for k in g:
                    pending[k] = None   # the stack holds the table from here on
                if room[groups.index(g)] >= 0:
                    self.flush_packed(ch, max_stacks)
                else:                   # one tensor above the cap: the scheme refuses it
                    self.flush(ch)
            return
        bins = stack_bins(total, max_stacks)
        if len(bins) == 1:
            self.flush(ch)
            return
        bins = bins[:-1]
        groups: list[list] = [[] for _ in range(len(bins) + 1)]
        room = bins + [None]
        for k in sorted(range(len(pending)), key=lambda k: -sizes[k]):   # stable
            g = next(b for b, r in enumerate(room) if r is None or r >= sizes[k])
            groups[g].append(k)
            if room[g] is not None:
                room[g] -= sizes[k]
        # the stacks' commitments share one set of the scheme's work arrays (the largest
        # stack first: the later ones fit in its arrays), so the encoder's large buffers
        # are faulted in once, not once a stack; they go when the call returns
        make_work = getattr(self.scheme, "work_arrays", None)
        own = self.prover and make_work is not None and self._work is None
        if own:
            self._work = make_work()
        try:
            for g in groups:
                self._pending = [pending[k] for k in sorted(g)]
                for k in g:
                    pending[k] = None   # the stack holds the table from here on
                self.flush(ch)
        finally:
            if own:
                self._work = None

    def _item(self, commitment: bytes, num_vars: int, state, evals: list[Evaluation]):
        if self.prover:
            return OpenItem(state, evals)
        return CheckItem(commitment, num_vars, evals)

    def blinds_across(self, ctx: ProverContext | VerifierContext) -> bool:
        """Whether a blinded claim may take a mask committed in another stack than its
        tensor (docs/zero-knowledge.md §5.1, "Late stacks"): in a ZK session whose
        scheme opens sum claims with the opening's masks pre-committed, i.e. when
        `open` reduces masked — the foreign terms are then carried through the
        reduction as an unknown and end in its sum claim (`stack._reduce_masked`).
        From the scheme and the specs alone: both sides agree."""
        return (ctx.zk is not None and bool(getattr(self.scheme, "sum_claims", False))
                and zklib.open_slot(0) in ctx.specs)

    def stack_key(self, name: str):
        """The stack key of a committed tensor, or, for a published group's member whose
        blinds are carried across (`published_blinds`), the group's key in `open`
        (−1 − group); None otherwise."""
        k = self.where.get(name, (None,))[0]
        if k is None and self.published_blinds(name):
            k = -1 - self.in_group[name][0]
        return k

    def may_blind(self, ctx: ProverContext | VerifierContext, tensor: str, nu,
                  blinds) -> bool:
        """Whether a claim on ``tensor`` may carry the blind ``nu`` and join a check whose
        other blinds are ``blinds`` (both sides, from the commitments alone): the tensor,
        ν's slot and every blind's mask in one stack (`_stack_claim`) — or, when the
        opening takes masks across stacks (`blinds_across`: a late lookup's m, a mid-proof
        check's limbs, a published group's member; docs/zero-knowledge.md §5.1), each in
        some stack or group already committed."""
        k = self.stack_key(tensor)
        if k is None:
            return False
        ks = [self.stack_key(nu.tensor)] + [self.stack_key(b.tensor) for b in blinds]
        if all(x == k for x in ks):
            return True
        return None not in ks and self.blinds_across(ctx)

    def published_blinds(self, name: str) -> bool:
        """Whether the published tensor ``name`` may carry blinds (docs/zero-knowledge.md
        §5.1 "Published tensors"): a member of a published group, in a ZK session whose
        scheme opens sum claims with the opening's masks pre-committed in a stack — its
        blinded claim's head is on the group, its blinds on the witness's stack: foreign
        terms that the group's masked reduction carries (`_stack_claim`, as
        `blinds_across`).  From the scheme, the groups and the committed specs alone
        (call it after the witness's stack is flushed): both sides agree.  An
        individually published tensor (no table to reduce) never."""
        return (name in self.in_group and bool(getattr(self.scheme, "sum_claims", False))
                and zklib.open_slot(0) in self.where)

    def _stack_claim(self, E, k: int, lay, i: int, c: Claim, err, ctx=None,
                     memo: dict | None = None) -> stacklib.StackClaim:
        """``c`` on item ``i`` of stack ``k`` as a claim on the stack; a blinded claim
        (docs/zero-knowledge.md §5.1) as one multi-term claim, every blind on the same
        stack (the masks it uses are committed with the tensor: `zk.precommit`) — or,
        with ``ctx`` given and `blinds_across`, a blind on another stack as a
        `stack.ForeignTerm` (its value, prover side, from the stack's table).  ``memo``:
        a dict kept by the caller for stack ``k`` (its blocks' numbers, by item)."""
        if not c.blind:
            return lay.claim(E, i, c.point, c.value)
        hblk = lay.block(i)
        hp = np.asarray(c.point)
        if E.shape(hp) != (hblk.num_vars,):
            lay.claim(E, i, c.point, c.value)   # (refuses it)
        if len(c.blind) == 1 and memo is not None:   # (most blinded claims: T̃(p) + c·ν)
            b = c.blind[0]
            kb, ib = self.where.get(b.tensor, (None, None))
            got = memo.get(ib) if kb == k else None
            pt, cf = b.point, b.coefficient
            if got is not None and E.name in stacklib._RAW_U64 \
                    and type(pt) is np.ndarray and type(cf) is np.ndarray \
                    and pt.shape == got[2] and cf.shape == (2,) \
                    and pt.dtype is _U64 and cf.dtype is _U64:
                # the general path's term and key (memo hit, ext2 limbs), in one go
                nv, ix, _, hb = got
                return stacklib.StackClaim(
                    hblk.num_vars, hblk.index, hp, c.value,
                    (stacklib.StackTerm(nv, ix, pt, cf),), (),
                    _ONE_TERM + hb + pt.tobytes() + cf.tobytes())
        terms = []
        foreign = []
        where, block, Term = self.where, lay.block, stacklib.StackTerm
        # over a field encoded as its limbs (little-endian u64), the own terms' key
        # bytes (`stack._own_key`) are built here, each term's shapes checked
        es = tuple(E.elem_shape)
        parts: list | None = [] if E.name in stacklib._RAW_U64 else None
        for b in c.blind:
            kb, ib = where.get(b.tensor, (None, None))
            if kb != k:
                if ctx is None or kb is None:
                    raise err(f"blinded claim on {c.tensor}: its mask {b.tensor} is not in "
                              "the same stack")
                lb = self.stacks[kb].layout
                lb.claim(E, ib, b.point, E.scalar(0))   # the point's shape
                bl = lb.block(ib)
                value = None
                if self.prover:   # the mask's MLE, from its block of the stack's table
                    tab = self.stacks[kb].table
                    value = mle.evaluate(E, np.asarray(
                        tab[bl.offset:bl.offset + (1 << bl.num_vars)]), b.point, base=True)
                foreign.append(stacklib.ForeignTerm(
                    kb, lb.num_vars, bl.num_vars, bl.index, np.asarray(b.point),
                    np.asarray(b.coefficient), value))
                continue
            # (the term's point shape is checked with the claim's, `stack._check`, or
            # here when the key is built here)
            got = memo.get(ib) if memo is not None else None
            if got is None:
                bl = block(ib)
                got = (bl.num_vars, bl.index, (bl.num_vars,) + es,
                       _U8X2.pack(bl.num_vars, bl.index))
                if memo is not None:
                    memo[ib] = got
            nv, ix, shape, hb = got
            pt, cf = b.point, b.coefficient
            terms.append(Term(nv, ix, pt, cf))
            if parts is not None:
                if (type(pt) is not np.ndarray or type(cf) is not np.ndarray
                        or pt.shape != shape or cf.shape != es):
                    parts = None   # (`stack._check` checks it; `_own_key` encodes it)
                else:
                    parts += (hb, pt.tobytes() if pt.dtype == _U64 else
                              pt.astype("<u8").tobytes(),
                              cf.tobytes() if cf.dtype == _U64 else cf.astype("<u8").tobytes())
        key = None if parts is None or not terms else \
            _U8.pack(len(terms)) + b"".join(parts)
        return stacklib.StackClaim(hblk.num_vars, hblk.index, hp, c.value, tuple(terms),
                                   tuple(foreign), key)

    def _early(self, keys: list[int], per_stack) -> list[int]:
        """The stacks reduced before the others (`open`, both sides, from the claims'
        shapes): those whose claims carry foreign terms, all on one stack, a stack with
        no foreign terms of its own that holds every mask slot of the opening.  None
        where that does not hold (the foreign terms then go to the sum claims as they
        are)."""
        early = [k for k in keys if any(c.foreign for c in per_stack[k])]
        if not early:
            return []
        targets = {t.stack for k in early for c in per_stack[k] for t in c.foreign}
        slots = {self.where.get(zklib.open_slot(j), (None,))[0]
                 for j in range(zklib.OPEN_SLOTS)}
        if len(targets) != 1 or targets != slots or targets & set(early):
            return []
        return early

    def _across(self, E, red: stacklib.MaskedReduction, early: list[int], sts, pos,
                err) -> tuple[int, stacklib.StackClaim]:
        """An early reduction's final check (`_early`) as a claim on its target stack t:
        Σ_u d_u·S̃_t(q_u) + Σ_l ρ_g·f_l·S̃_t(slot point l) + Σ_i κ_i·W_i·S̃_i(r*) = v,
        divided by d_0 (the first foreign term, the claim's head); the reduced stacks'
        terms are foreign terms of the target's own (later, masked) reduction, so the
        unknown S̃_i(r*) ends in its sum claim.  Nothing is sent: v is the verifier's
        running value."""
        (t0, d0), *rest = red.foreign
        t = t0.stack
        if E.equal(d0, E.scalar(0)):
            raise err("stack: a zero coefficient in an early reduction (abort)")
        inv = E.inv(np.asarray(d0))
        Term = stacklib.StackTerm
        terms = [Term(f.num_vars, f.index, np.asarray(f.point), E.mul(c, inv))
                 for f, c in rest]
        ks, i = self.where[red.mask_slot]
        if ks != t:
            raise err(f"zero-knowledge: mask {red.mask_slot} is not in stack {t}")
        bl = self.stacks[t].layout.block(i)
        terms.extend(Term(bl.num_vars, bl.index, np.asarray(pt), E.mul(c, inv))
                     for pt, c in zip(red.mask_points, red.mask_coefs))
        foreign = []
        for i, c in zip(red.stacks, red.coefficients):
            k = early[i]
            st = sts[pos[k]]
            K = st.layout.num_vars
            value = None
            if self.prover:
                value = mle.evaluate(E, np.asarray(st.table), red.point, base=True)
            foreign.append(stacklib.ForeignTerm(k, K, K, 0, np.asarray(red.point),
                                                E.mul(c, inv), value))
        return t, stacklib.StackClaim(t0.num_vars, t0.index, np.asarray(t0.point),
                                      E.mul(red.value, inv), tuple(terms), tuple(foreign))

    def _item_of(self, k: int, keys: list[int], first: int, items: list) -> int:
        """The opening's item index of stack ``k``: its reduced item, or a new item
        with no claims of its own (appended to ``items`` and ``keys``)."""
        if k in keys:   # (items[first + j] is stack keys[j], appended ones included)
            return first + keys.index(k)
        st = self.stacks[k]
        items.append(self._item(st.commitment, st.layout.num_vars, st.state, []))
        keys.append(k)
        return len(items) - 1

    def _sum_claim(self, E, red: stacklib.MaskedReduction, keys: list[int], first: int,
                   items: list, err) -> SumClaim:
        """A masked reduction's final check as a `SumClaim` on the opening's items:
        the reduced stacks' terms (items ``first + i``) and the mask slot's, on the
        stack that holds the slot (its item, added with no claims of its own if the
        stack has none)."""
        terms = [SumTerm(first + i, red.point, c)
                 for i, c in zip(red.stacks, red.coefficients)]
        if red.mask_slot not in self.where:
            raise err(f"zero-knowledge: mask {red.mask_slot} is not in a stack")
        k, i = self.where[red.mask_slot]
        st = self.stacks[k]
        pos = self._item_of(k, keys, first, items)
        K = st.layout.num_vars
        for pt, c in zip(red.mask_points, red.mask_coefs):
            terms.append(SumTerm(pos, stacklib._full_point(
                E, K, st.layout.claim(E, i, pt, E.scalar(0))), c))
        # the claims' masks on other stacks (carried through the reduction, §5.1)
        for t, c in red.foreign:
            terms.append(SumTerm(self._item_of(t.stack, keys, first, items),
                                 stacklib._full_point(E, t.stack_vars, t), c))
        return SumClaim(terms, red.value)

    def open(self, ctx: ProverContext | VerifierContext,
             opened: Mapping[str, list[Claim]]) -> None:
        """One batched opening of the claims ``opened`` (in the order of ``ctx.specs``):
        published tensors' claims as they are; every stack's claims reduced to one
        (`zklora.zkcore.stack.reduce_many`).  The prover writes the opening proof, the
        verifier checks it.

        Zero knowledge with a scheme that opens sum claims (hiding ligero) and the
        opening's masks pre-committed (`zk.precommit`): every reduction is masked and
        sends no reduced value; its final check goes to the scheme as one `SumClaim`
        (the stacks' terms at r* and the mask slot's, docs/zero-knowledge.md §5.2).
        Otherwise (no session, plain, whir, hyrax) the reduced values are opened."""
        ch, E = ctx.ch, ctx.E
        err = ProverError if self.prover else VerificationError
        self.flush(ch)
        if self.prover:   # pages of the stacks the lookups read: back to the page cache
            scratch.release(trim_heap=True)
        items = []
        # stacks (k ≥ 0) and published groups (k < 0: group −1 − k)
        per_stack: dict[int, list] = defaultdict(list)
        memos: dict[int, dict] = {}   # per stack, `_stack_claim`'s blocks by item
        # (a blind on another stack than its tensor: only when the reduction is masked)
        across = ctx if self.blinds_across(ctx) else None
        for name in ctx.specs:
            cl = opened.get(name)
            if not cl:
                continue
            blinded = any(c.blind for c in cl)
            if blinded and (name in self.published or name in self.in_group and (
                    across is None or not self.published_blinds(name))):
                raise err(f"blinded claim on {name}, a published tensor (its scheme "
                          "opens no sum claims)")
            if name in self.published:
                cl = claimlib.dedupe(E, cl, err)
                items.append(self._item(*self.published[name],
                                        [Evaluation(c.point, c.value) for c in cl]))
                continue
            if name in self.in_group:
                g, i = self.in_group[name]
                k, lay = -1 - g, self.groups[g].layout
                if lay.block(i).num_vars == lay.num_vars and not blinded:
                    # the member is the whole group (a large tensor alone): its claims go
                    # to the scheme as they are, like a published tensor's — no reduction
                    # sumcheck over a table of that size (the tied 2^28 embedding)
                    st = self.groups[g]
                    if self.prover and st.state is None:
                        raise ProverError(f"published group {self.groups[g].names[0]!r}… "
                                          "was never committed")
                    cl = claimlib.dedupe(E, cl, err)
                    items.append(self._item(st.commitment, lay.num_vars, st.state,
                                            [Evaluation(c.point, c.value) for c in cl]))
                    continue
            elif name in self.where:
                k, i = self.where[name]
                lay = self.stacks[k].layout
            else:
                raise err(f"claims on {name}, which was never committed")
            memo = memos.setdefault(k, {})
            # a claim object filed twice (a mask claim, `ProverContext.zk_claim`) is
            # converted once: `stack._dedupe` would drop the repeat anyway, and keeps
            # the first of equal claims, so the result is the same
            per_stack[k].extend(self._stack_claim(E, k, lay, i, c, err, across, memo)
                                for c in {id(c): c for c in cl}.values())
        keys = sorted(k for k in per_stack if k >= 0) + sorted(
            (k for k in per_stack if k < 0), reverse=True)
        sts = [self.stacks[k] if k >= 0 else self.groups[-1 - k] for k in keys]
        if self.prover:
            for st in sts:
                if st.table is None:
                    raise ProverError("a published group was never completed: commit every "
                                      "member, or give its prover state")
        masked = (ctx.zk is not None and self.scheme.sum_claims
                  and zklib.open_slot(0) in ctx.specs)
        reductions: list | None = [] if masked else None
        # the stacks whose claims carry foreign terms onto one target stack that has
        # none itself: reduced first, their final checks handed to the target's
        # reduction as claims (`_across`), so the sum claims' terms on the target are
        # its own rows only (docs/zero-knowledge.md §5.1 "Published tensors")
        early = self._early(keys, per_stack) if masked else []
        reduced: list = [None] * len(keys)
        pos = {k: j for j, k in enumerate(keys)}
        if early:
            reduced_early = stacklib.reduce_many(
                ctx, [(sts[pos[k]].layout.num_vars, per_stack[k], sts[pos[k]].table)
                      for k in early], label="stack/reduce/across", sums=reductions)
            for k, rv in zip(early, reduced_early):
                reduced[pos[k]] = rv
            for red in reductions:
                t, claim = self._across(E, red, early, sts, pos, err)
                if t not in pos:   # a target without claims of its own
                    keys.append(t)
                    sts.append(self.stacks[t])
                    reduced.append(None)
                    pos[t] = len(keys) - 1
                per_stack[t].append(claim)
            reductions = [attrs.evolve(red, stacks=[pos[early[i]] for i in red.stacks])
                          for red in reductions]
        late = [k for k in keys if k not in early]
        start = len(reductions or ())
        for k, rv in zip(late, stacklib.reduce_many(
                ctx, [(sts[pos[k]].layout.num_vars, per_stack[k], sts[pos[k]].table)
                      for k in late], label="stack/reduce", sums=reductions)):
            reduced[pos[k]] = rv
        if reductions:
            reductions[start:] = [attrs.evolve(red, stacks=[pos[late[i]] for i in red.stacks])
                                  for red in reductions[start:]]
        first = len(items)
        items.extend(self._item(st.commitment, st.layout.num_vars, st.state,
                                [] if rv is None else [Evaluation(*rv)])
                     for st, rv in zip(sts, reduced))
        sums = [self._sum_claim(E, red, keys, first, items, err)
                for red in (reductions or ())[start:]]
        if items:
            (self.scheme.open if self.prover else self.scheme.verify)(
                ch, items, **({"sums": sums} if sums else {}))
        if self.prover:
            scratch.release()
