"""Tensor graphs and the scheduler that proves them.

Proof of a graph (both sides build the same `Graph` from the statement):

1. absorb the protocol id and the statement (graph description, profile, publics);
2. prover: run every op's integer ``forward`` in order, check declared bounds;
3. commit every committed tensor: those with a published commitment (statement)
   individually, all others as one stacked vector (`zklora.zkcore.stack`); advice
   committed mid-proof (``ctx.commit_advice``) is deferred into a pending group that is
   committed as one more stack right before the next challenge is drawn.  The static
   lookups — the static range checks' limbs and every node's `Op.lookups`, known from
   the graph alone (`static_lookups`) — have their layouts absorbed and their
   multiplicities counted from the witness here (`LookupArgument.commit`), so they
   join the same stack, before any challenge;
4. for each graph output draw a random point; the prover sends the MLE value
   (the verifier computes it itself for a public output);
4b. the static range checks (`zklora.zkcore.range`): the declared bound of every tensor
   in ``Graph.proven_bounds`` and every node's `Op.range_checks`, identical checks
   once (`static_range_checks`).  Their limbs are committed in step 3 with the
   committed tensors (`Committer.flush_packed`: one stack, or two or three where that
   pads less, `committer.stack_bins`), so they cost no commitment of their own; here
   each draws its point.  Claims
   on committed tensors (the limbs, a committed X) go straight to the final opening,
   the others into the book like output claims (a virtual tensor's to its producer);
5. prove ops in reverse order: all claims on each output are merged by the claim
   reduction sumcheck, handed to the op, and its input claims collected; a committed
   output's reduced claim is also opened;
6. prove every lookup, grouped by table, with the configured argument
   (`LookupArgument.prove_many`): the static ones on the multiplicities committed in
   step 3, and those an op requested mid-proof (``ctx.require_lookup``) on
   multiplicities committed here, as one late stack (label ``lookup:{table}/late``),
   before the argument's first challenge;
7. turn every claim on a stacked tensor into a claim on its stack, reduce each stack's
   claims to one (batched sumchecks, `zklora.zkcore.stack.reduce_many`), open
   all stacks and published tensors in one batched opening, evaluate every claim on a
   public tensor, and fail if any claim is left undischarged.

A graph with declared segments (`Graph.segment`, `zklora.zkcore.segments`) runs step 5
per segment (phase 2, DESIGN §3.9): after step 4b the main transcript's state is the base
of one fork per segment, ``H(state, index, id)``; on its fork a segment draws a claim on
each of its boundary outputs (committed tensors a later segment reads), receives the
step-4/4b claims on its tensors, proves its ops in reverse and leaves claims on committed
and public tensors only.  The main stream then holds, per segment in order, its byte
length and its proof; the main transcript absorbs the length and the fork's final state,
and steps 6 and 7 run on it over every segment's lookups and claims (phase 3).  The
prover's phase 1 keeps only the committed, public and range-checked witness (and, within
`KEEP_VIRTUAL_BYTES`, whole segments' virtual tensors) and phase 2 recomputes each
segment's other virtual tensors from its committed inputs (`_recompute`); an
`executor` (`zklora.zkcore.executors`) chooses where the segments are proven.

Prover and verifier run this schedule as ONE function (`_run`), with a `ProverContext`
(computes and sends) or a `VerifierContext` (reads and checks); `Committer`, the claim
and stack reductions and the lookup arguments are likewise written once.

Every op node must be *reached*: some output is a graph output, a virtual tensor with
a proven bound or an input of a reached node (`Graph.unreached`).  The scheduler
proves an op only when its outputs carry claims, so an unreached op's relation,
advice, range checks and lookups would silently go unproven; `Graph.check` refuses
such a graph (both sides call it, `prove` as a `ProverError`, `verify` as a
`VerificationError`), and the scheduler fails the same way should a reached op still
receive no claim.
"""

from __future__ import annotations

import gc
import hashlib
import time
import weakref
from collections import ChainMap, defaultdict
from collections.abc import Callable, Mapping, MutableMapping, Sequence
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from typing import Any

import attrs
import numpy as np
import torch

from zklora.kernels.int_gemm import minmax_i64

from . import claims as claimlib
from . import range as rangelib
from . import relations, scratch, selfcheck
from . import segments as segmentlib
from . import zk as zklib
from .canon import _jsonable, canonical_json  # noqa: F401  (re-exported)
from .claims import Claim
from .commit import CommitmentScheme
from .committer import WITNESS_STACKS, Committer
from .errors import ConfigError, PluginError, ProofFormatError, ProverError, VerificationError
from .field import Field
from .lookup import LookupArgument, LookupRequest
from .lookup import table_label as lookup_label
from .op import PASS, OpNode, ProverContext, TensorSpec, VerifierContext, check_bound
from .quant import serial_torch
from .structured import Structured
from .transcript import ProverChannel, Transcript, VerifierChannel

PROTOCOL_ID = b"zklora/graph/v1"

Progress = Callable[[str, int, int], None]
#: ``profile(kind, name, seconds)``: called by `prove` after each phase ("forward",
#: "commitments", "outputs", "bounds" (if there are static range checks), "lookups",
#: "openings"; name "") and each op node (kind =
#: the op's registry name, name = the node's name; claim reduction included); a
#: segmented graph also reports each segment (kind "segment", name = its id, its
#: prover's wall time wherever the executor ran it).
Profile = Callable[[str, str, float], None]


@attrs.define
class Graph:
    """Tensors, op nodes in topological order, outputs and public tensor values."""

    tensors: dict[str, TensorSpec] = attrs.field(factory=dict)
    nodes: list[OpNode] = attrs.field(factory=list)
    outputs: list[str] = attrs.field(factory=list)
    publics: dict[str, torch.Tensor] = attrs.field(factory=dict)
    #: tensors whose declared bound the proof itself establishes (range checks run by
    #: the scheduler, `prove_bound`), in order
    proven_bounds: list[str] = attrs.field(factory=list)
    #: node name -> declared segment id (`segment`, `assign_segment`); empty: the graph
    #: is one segment (`zklora.zkcore.segments`)
    node_segments: dict[str, str] = attrs.field(factory=dict)
    #: the segment new nodes join (inside a `segment` block)
    current_segment: str | None = attrs.field(default=None, eq=False)
    #: `producer` index (tensor -> position of its first producer in ``nodes``) and the
    #: node list it was built from: a cache, valid while ``nodes`` equals the snapshot
    #: (callers may replace ``nodes`` or its entries; `_producers` rebuilds then)
    _pindex: dict[str, int] | None = attrs.field(default=None, init=False, eq=False,
                                                 repr=False)
    _psnap: list[OpNode] | None = attrs.field(default=None, init=False, eq=False,
                                              repr=False)

    @contextmanager
    def segment(self, segment_id: str):
        """Nodes added inside the block belong to segment ``segment_id`` (DESIGN §3.9,
        `zklora.zkcore.segments`).  Segments are contiguous runs of nodes and may not
        nest; every tensor crossing a segment boundary must be committed (`check`)."""
        if self.current_segment is not None:
            raise ValueError(f"segment {segment_id!r} inside segment {self.current_segment!r}")
        if not isinstance(segment_id, str) or not segment_id:
            raise ValueError("a segment id must be a non-empty string")
        self.current_segment = segment_id
        try:
            yield segment_id
        finally:
            self.current_segment = None

    def assign_segment(self, node_name: str, segment_id: str) -> None:
        """Put the existing node ``node_name`` into segment ``segment_id`` (for nodes a
        builder the model plugin does not own added outside a `segment` block)."""
        self.assign_segments({node_name: segment_id})

    def assign_segments(self, assignments: Mapping[str, str]) -> None:
        """`assign_segment` for many nodes at once (node name -> segment id)."""
        names = {n.name for n in self.nodes}
        for node_name, segment_id in assignments.items():
            if node_name not in names:
                raise ValueError(f"assign_segment: no node {node_name!r}")
            if not isinstance(segment_id, str) or not segment_id:
                raise ValueError("a segment id must be a non-empty string")
            self.node_segments[node_name] = segment_id

    def commit_boundary(self, name: str) -> str:
        """Make the virtual tensor ``name`` committed (a segment boundary tensor: its
        producer still proves it, and every claim on it is also opened)."""
        spec = self.tensors.get(name)
        if spec is None:
            raise ValueError(f"commit_boundary: unknown tensor {name}")
        if spec.kind == "virtual":
            self.tensors[name] = attrs.evolve(spec, kind="committed")
        elif spec.kind != "committed":
            raise ValueError(f"commit_boundary: tensor {name} is {spec.kind}")
        return name

    def segments(self) -> list[segmentlib.Segment]:
        """The segments, in node order (`zklora.zkcore.segments.plan`; `ValueError` if
        the declaration is malformed)."""
        return segmentlib.plan(self)

    def tensor(self, name: str, shape: Sequence[int], kind: str,
               bound: tuple[int, int] | None = None,
               value: torch.Tensor | Structured | None = None) -> str:
        """Declare a tensor.  A public one needs its ``value``: an integer tensor, or a
        `Structured` rule (closed-form MLE, materialised only by the prover)."""
        if name in self.tensors:
            raise ValueError(f"tensor {name} declared twice")
        self.tensors[name] = TensorSpec(name, tuple(int(d) for d in shape), kind, bound)
        if kind == "public":
            if value is None:
                raise ValueError(f"public tensor {name} needs a value")
            if isinstance(value, Structured):
                if tuple(value.shape) != tuple(int(d) for d in shape):
                    raise ValueError(f"public tensor {name}: rule of shape {value.shape}")
                self.publics[name] = value
            else:
                self.publics[name] = value.to(torch.int64).reshape(tuple(shape))
        return name

    def op(self, op: str, name: str, inputs: Sequence[str], outputs: Sequence[str],
           **params: Any) -> OpNode:
        for t in list(inputs) + list(outputs):
            if t not in self.tensors:
                raise ValueError(f"op {name}: unknown tensor {t}")
        produced = self._producers()
        for t in outputs:
            if t in produced:
                raise ValueError(f"tensor {t} produced twice")
        node = OpNode(op, name, tuple(inputs), tuple(outputs), dict(params))
        self.nodes.append(node)
        # the index was just validated: extend it instead of a rebuild
        self._psnap.append(node)
        for t in node.outputs:
            produced.setdefault(t, len(self.nodes) - 1)
        if self.current_segment is not None:
            if name in self.node_segments:
                raise ValueError(f"op {name}: a node of that name is already in segment "
                                 f"{self.node_segments[name]!r}")
            self.node_segments[name] = self.current_segment
        return node

    def prove_bound(self, name: str, bound: tuple[int, int] | None = None) -> str:
        """Have the proof range-check ``name`` against its declared bound (every entry in
        [lo, hi]); ``bound`` declares it if the tensor has none yet (it must agree with
        one already declared).  Use it for tensors whose bound nothing else proves but
        that later bound analyses rely on (frozen weights, inputs).  Idempotent."""
        if name not in self.tensors:
            raise ValueError(f"prove_bound: unknown tensor {name}")
        spec = self.tensors[name]
        if bound is not None:
            bound = (int(bound[0]), int(bound[1]))
            if spec.bound is None:
                spec = attrs.evolve(spec, bound=bound)
                self.tensors[name] = spec
            elif tuple(spec.bound) != bound:
                raise ValueError(f"prove_bound: tensor {name} already declares the bound "
                                 f"{list(spec.bound)}, not {list(bound)}")
        if spec.bound is None:
            raise ValueError(f"prove_bound: tensor {name} has no declared bound")
        if name not in self.proven_bounds:
            self.proven_bounds.append(name)
        return name

    def discard(self, name: str) -> None:
        """Remove the dead branch ending at ``name``: its producer and every tensor that
        node produces, provided none of them is read by a node, a graph output or a
        proven bound; then, recursively, the producers of its inputs that become unread.
        Graph inputs (no producer) stay.  For builders that get a branch they do not need
        from a multi-output helper; an unread branch left in the graph is refused by
        `check`."""
        node = self.producer(name)
        if node is None:
            raise ValueError(f"discard: tensor {name} has no producer")
        for t in node.outputs:
            if self._read(t):
                raise ValueError(f"discard: tensor {t} of op {node.name!r} is still used")
        self.nodes = [n for n in self.nodes if n is not node]
        if not any(n.name == node.name for n in self.nodes):
            self.node_segments.pop(node.name, None)
        for t in node.outputs:
            del self.tensors[t]
            self.publics.pop(t, None)
        for t in dict.fromkeys(node.inputs):
            if t in self.tensors and self.producer(t) is not None and not self._read(t):
                self.discard(t)

    def _read(self, name: str) -> bool:
        return (name in self.outputs or name in self.proven_bounds
                or any(name in n.inputs for n in self.nodes))

    def producer(self, name: str) -> OpNode | None:
        """The first node that outputs ``name`` (None for a graph input or a public)."""
        i = self._producers().get(name)
        return None if i is None else self.nodes[i]

    def _producers(self) -> dict[str, int]:
        """Tensor -> position of its first producer in ``nodes``: the cached index,
        rebuilt unless ``nodes`` still equals the list it was built from (a C-level
        comparison, identity first; nodes are frozen, so equal nodes have equal
        outputs)."""
        snap = self._psnap
        try:
            fresh = snap is not None and snap == self.nodes
        except Exception:   # a node parameter without a boolean ==
            fresh = False
        if not fresh:
            index: dict[str, int] = {}
            for i, n in enumerate(self.nodes):
                for t in n.outputs:
                    index.setdefault(t, i)
            self._pindex, self._psnap = index, list(self.nodes)
        return self._pindex

    def describe(self) -> dict:
        """Canonical description, absorbed into the transcript as part of the statement
        (with the segmentation when segments are declared)."""
        out = {
            "tensors": [[s.name, list(s.shape), s.kind, list(s.bound) if s.bound else None]
                        for s in self.tensors.values()],
            "nodes": [[n.op, n.name, list(n.inputs), list(n.outputs), _jsonable(n.params)]
                      for n in self.nodes],
            "outputs": list(self.outputs),
            "proven_bounds": list(self.proven_bounds),
            "publics": {k: (v.describe if isinstance(v, Structured) else
                            hashlib.sha256(v.numpy().astype("<i8").tobytes()).hexdigest())
                        for k, v in sorted(self.publics.items())},
        }
        if self.node_segments:
            out["segments"] = segmentlib.describe(self.segments())
        return out

    def check(self, registry=None, error: type[Exception] = ConfigError) -> None:
        """Structural checks both sides rely on (a `ValueError` names the problem):
        outputs committed or public, every virtual tensor produced, nodes in topological
        order, proven bounds declared, and every node reached (`unreached`).  Given a
        ``registry``, every node is also checked against its op's declaration (`Op.check`:
        input/output roles, typed parameters), raising ``error``."""
        for o in self.outputs:
            if o not in self.tensors:
                raise ValueError(f"graph output {o} is not a tensor of the graph")
            if self.tensors[o].kind == "virtual":
                raise ValueError(f"graph output {o} must be committed or public")
        produced = {}
        for i, n in enumerate(self.nodes):
            for t in n.outputs:
                produced[t] = i
        for name, spec in self.tensors.items():
            if spec.kind == "virtual" and name not in produced:
                raise ValueError(f"virtual tensor {name} has no producer")
        for i, n in enumerate(self.nodes):
            for t in n.inputs:
                if produced.get(t, -1) >= i:
                    raise ValueError(f"op {n.name!r} reads {t} before it is produced (nodes "
                                     "must be in topological order)")
        for name in self.proven_bounds:
            if name not in self.tensors or self.tensors[name].bound is None:
                raise ValueError(f"proven bound on {name}: no such tensor with a declared "
                                 "bound")
        self.segments()   # declared segments well formed, boundaries committed
        dead = self.unreached()
        if dead:
            n = dead[0]
            more = f" (and {len(dead) - 1} more)" if len(dead) > 1 else ""
            raise ValueError(
                f"op {n.name!r} ({n.op}) is unreached{more}: none of its outputs "
                f"{list(n.outputs)} is a graph output or read by a reached op, so its "
                "relation, advice, range checks and lookups would never be proven")
        if registry is not None:
            for n in self.nodes:
                try:
                    op = registry.op(n.op)
                except PluginError:
                    continue  # reported when the node runs
                op.check(n, self.tensors, error)

    def unreached(self) -> list[OpNode]:
        """Nodes the scheduler would never prove: no output is a graph output, a virtual
        tensor with a proven bound (its range check claims it before the ops run) or an
        input of a reached node (walked in reverse topological order).  A committed
        tensor's proven bound does not count: its range check may reach it only through
        lookups, after the ops, and binds its values, not their relation to the inputs."""
        live = set(self.outputs) | {t for t in self.proven_bounds
                                    if self.tensors[t].kind == "virtual"}
        dead = []
        for n in reversed(self.nodes):
            if any(t in live for t in n.outputs):
                live.update(n.inputs)
            else:
                dead.append(n)
        return dead[::-1]


@attrs.define
class Backend:
    """The protocol stack a proof runs under (from the profile)."""

    field: Field
    scheme: CommitmentScheme
    lookup: LookupArgument | None
    registry: Any
    hash: str = "blake3"


class Witness(MutableMapping):
    """A witness (tensor name -> integer value) whose int64 tensors may live in scratch
    files (`spill`): reading a spilled entry returns a fresh in-RAM copy read with a
    positioned read (`scratch.Spilled.read_range`), so the witness counts towards the
    resident set only while a caller holds what it read, and nothing of the file stays
    mapped.  Setting an entry keeps it in RAM; with ``autospill`` set, entries set since
    the last spill move to disk once they reach the batch size (`spill`).  `copy` shares
    the files."""

    def __init__(self, data: Mapping[str, torch.Tensor] | None = None):
        self._ram: dict[str, Any] = dict(data or {})
        self._disk: dict[str, scratch.Spilled] = {}
        #: names set since the last spill (autospill candidates) -> their bytes (0 for
        #: values `spill` skips); ``_new_bytes`` is their sum, kept as entries come and
        #: go so that every set costs O(1), not a pass over the batch
        self._new: dict[str, int] = {}
        self._new_bytes = 0
        self.autospill = False
        #: name -> (a weak reference to the tensor, its version, min, max): the range
        #: `_forward_node` found checking its bound (`note_range`), so that `spill` picks
        #: the narrow type without another pass over it
        self._ranges: dict[str, tuple[weakref.ref, int, int, int]] = {}
        #: virtual tensors `forward` kept for phase 2 (`KEEP_VIRTUAL_BYTES`): outside
        #: the mapping (name -> its integers, a narrow numpy array or a tensor), taken by
        #: the segment that proves them (`take_kept`); ``_kept_later`` names the
        #: range-checked ones still in the mapping (moved here by the bounds phase);
        #: `copy` shares both
        self._kept: dict[str, Any] = {}
        self._kept_later: set[str] = set()

    def __getitem__(self, name: str):
        v = self._ram.get(name)
        if v is not None or name in self._ram:
            return v
        h = self._disk[name]
        a = h.read_range(0, h.shape[0])
        return torch.from_numpy(a if a.dtype == np.int64 else a.astype(np.int64))

    def __setitem__(self, name: str, value) -> None:
        self._disk.pop(name, None)
        self._ram[name] = value
        if self.autospill:
            self._forget(name)
            nb = 8 * value.numel() if _spillable(value) else 0
            self._new[name] = nb
            self._new_bytes += nb
            if self._new_bytes >= _spill_batch():
                self.spill(list(self._new))

    def _forget(self, name: str) -> None:
        """Drop ``name`` from the autospill candidates."""
        self._new_bytes -= self._new.pop(name, 0)

    def note_range(self, name: str, value: torch.Tensor, lo: int, hi: int) -> None:
        """Every integer of ``value`` (the tensor set, or about to be set, as ``name``)
        lies in [lo, hi]: `spill` takes its narrow type from that while ``name`` holds
        this very tensor, unmodified (its version counter unchanged); otherwise, or
        once spilled, the note is ignored."""
        self._ranges[name] = (weakref.ref(value), value._version, lo, hi)

    def _known_range(self, name: str, value: torch.Tensor) -> tuple[int, int] | None:
        """The range `note_range` recorded for ``value`` as ``name`` (dropped), or None."""
        r = self._ranges.pop(name, None)
        if r is None or r[0]() is not value or r[1] != value._version:
            return None
        return r[2], r[3]

    def __delitem__(self, name: str) -> None:
        self._forget(name)
        self._ranges.pop(name, None)
        if name in self._ram:
            del self._ram[name]
            self._disk.pop(name, None)
        else:
            del self._disk[name]

    def __contains__(self, name: object) -> bool:
        return name in self._ram or name in self._disk

    def __iter__(self):
        yield from self._ram
        yield from (k for k in self._disk if k not in self._ram)

    def __len__(self) -> int:
        return len(self._ram) + sum(1 for k in self._disk if k not in self._ram)

    def copy(self) -> Witness:
        out = Witness()
        out._ram, out._disk = dict(self._ram), dict(self._disk)
        out._kept, out._kept_later = self._kept, self._kept_later
        return out

    def keep(self, name: str, value: torch.Tensor) -> int:
        """Hold ``value`` (``name``'s integers, a virtual tensor) for phase 2 outside the
        mapping, in the narrowest type that holds it (`_narrow_of`: its range as
        `note_range` recorded it, else one min/max pass); returns the bytes held."""
        r = self._known_range(name, value)
        if not _spillable(value):
            self._kept[name] = value
            return 8 * value.numel()
        if r is None:
            r = _minmax(value.contiguous())
        dt = _narrow_of(*r)
        a = value.detach().contiguous().numpy()
        self._kept[name] = a if dt == a.dtype else a.astype(dt)
        return self._kept[name].nbytes

    def take_kept(self, names) -> dict[str, torch.Tensor]:
        """The kept tensors among ``names`` as int64 tensors, no longer held here."""
        out = {}
        for n in names:
            a = self._kept.pop(n, None)
            if a is None:
                continue
            if isinstance(a, np.ndarray):
                a = torch.from_numpy(a if a.dtype == np.int64 else a.astype(np.int64))
            out[n] = a
        return out

    def drop_kept(self) -> None:
        """Forget every kept tensor (their segments recompute them)."""
        self._kept.clear()
        self._kept_later.clear()

    @property
    def kept_bytes(self) -> int:
        return sum(v.nbytes if isinstance(v, np.ndarray) else 8 * v.numel()
                   for v in self._kept.values())

    @property
    def spilled(self) -> set[str]:
        """The names whose values are in scratch files."""
        return set(self._disk)

    def in_ram(self, name: str) -> bool:
        return name in self._ram

    def spill(self, names: Sequence[str], force: bool = False, direct: bool = False
              ) -> list[str]:
        """Inside a scratch session (`zklora.zkcore.scratch`): move the in-RAM int64
        tensors (of at least one dimension) among ``names`` to one scratch file, if
        together they reach 1/`SPILL_FRACTION` of the store's threshold (or any size
        with ``force``; ``ZKLORA_SPILL_BYTES=0`` spills every batch); with ``direct``
        (and `SPILL_DIRECT`) written and read back with direct I/O.  Returns the names
        moved."""
        store = scratch.current()
        todo = [n for n in dict.fromkeys(names) if _spillable(self._ram.get(n))]
        for n in names:
            self._forget(n)
        if store is None or not todo or (
                not force and _batch_bytes(self, todo) < _spill_batch()):
            return []
        arrays = []
        for n in todo:
            v = self._ram[n]
            a = v.detach().contiguous().numpy()
            r = self._known_range(n, v)
            arrays.append(scratch.Cast(a, _narrow_type(a) if r is None else _narrow_of(*r)))
        handles = store.save(arrays, tag="witness", direct=True) if direct and \
            SPILL_DIRECT else store.save(arrays, tag="witness")
        del arrays
        for n, h in zip(todo, handles):
            del self._ram[n]
            self._disk[n] = h
        return todo


#: with `SPILL_VIRTUALS`, `forward`'s spill of a segment's virtual tensors (read back
#: once, in phase 2) is written and read with direct I/O (`Witness.spill` with
#: ``direct``, `scratch.Store.save`): no page-cache pages for it (fresh pages on this
#: VM).  The committed outputs and limbs stay buffered: the commitments phase reads
#: thousands of small ones back, and direct reads of those cost more than the page
#: cache (25m commitments phase CPU 5.5 → 7.0 s; s34h2, docs/perf/session34.md).  A
#: prover-only knob: the same proof either way
SPILL_DIRECT = True

#: the integer types a spilled witness tensor may be stored in, narrowest first
_NARROW = tuple(np.dtype(t) for t in (np.uint8, np.int8, np.uint16, np.int16, np.uint32,
                                      np.int32))


def _narrow_type(a: np.ndarray) -> np.dtype:
    """The narrowest type in `_NARROW` that holds every value of the int64 array ``a``
    (else int64): limbs and digits take 1–2 bytes in a scratch file, not 8
    (`scratch.Store.save` converts while it writes).  `Witness.__getitem__` reads a
    spilled entry back as int64, the same integers."""
    return _narrow_of(*_minmax(torch.from_numpy(a)))


def _narrow_of(lo: int, hi: int) -> np.dtype:
    """The narrowest type in `_NARROW` that holds every integer in [lo, hi] (else
    int64)."""
    for dt in _NARROW:
        info = np.iinfo(dt)
        if info.min <= lo and hi <= info.max:
            return dt
    return np.dtype(np.int64)


def _spillable(v) -> bool:
    return isinstance(v, torch.Tensor) and v.dtype == torch.int64 and v.dim() > 0 \
        and v.numel() > 0


def _batch_bytes(w: Witness, names) -> int:
    return sum(8 * w._ram[n].numel() for n in names if _spillable(w._ram.get(n)))


#: a batch of witness tensors is spilled when it has at least 1/SPILL_FRACTION of the
#: scratch store's threshold (`scratch.Store.wants`) in bytes
SPILL_FRACTION = 64


def _spill_batch() -> int:
    store = scratch.current()
    return 0 if store is None else -(-store.threshold // SPILL_FRACTION)


#: `forward(drop=True)` spills a segment's virtual tensors to scratch with its committed
#: ones (phase 2 reads them back once, `_recompute`) instead of dropping them and
#: running the segment's ops again (s33h5: the phases it touches −0.46 s CPU at 25m,
#: −0.72 s at 84m).  Off: the whole 84m prove was ×1.02 with buffered scratch writes
#: (s33h5); written with direct I/O (`SPILL_DIRECT`) the whole prove was not faster at
#: 25m either (s34h2: the commitments phase pays; docs/perf/session34.md)
SPILL_VIRTUALS = False

#: `forward(drop=True)` keeps the virtual outputs of a segment's costly nodes (in their
#: narrow types, `Witness.keep`; `_keep_nodes`) instead of dropping them while the kept
#: total, range-checked virtual outputs at 8 bytes an entry, stays within this many
#: bytes: the segment's phase 2 takes them (`prove_segment`, `Witness.take_kept`) and
#: runs only the other nodes again (`_recompute`), then lets them go.  They are held
#: from phase 1 until their segment is proven, through the commitments phase, whose
#: peak they add to (s37h3: 25m, all 166 MiB kept: peak +120 MiB); never during the
#: lookups and openings.  0: every segment recomputes.  A prover-only knob: the same
#: proof
KEEP_VIRTUAL_BYTES = 64 << 20
#: ... and only a node whose forward cost phase 1 at least this many CPU seconds per
#: MiB of its kept outputs (25m: the densest 48 MiB of 166 MiB, at >= 8 ms/MiB, were
#: 78 % of the recompute's forward time; s37h3); 0: any node, in order, while they fit.
#: 0.004 (s39h4): phase 2's recompute CPU 0.44 -> 0.24 s at 25m, 0.17 -> 0.14 s at 84m,
#: peak RSS +8 MiB (+1.0 %) / +5 MiB (+0.3 %); the same proofs
KEEP_MIN_SECONDS_PER_MIB = 0.004


def forward(graph: Graph, inputs: Mapping[str, torch.Tensor], registry,
            progress: Progress | None = None, *, drop: bool = False) -> Witness:
    """Run the integer forward pass; returns every tensor's value.  With ``drop`` (a
    segmented graph's phase 1) a segment's virtual tensors are dropped once it ends,
    except those the static range checks read (phase 1 commits their limbs): the rest
    is recomputed segment by segment in phase 2 (`_recompute`), so the values held
    between segments are the committed and public tensors only (and, while they fit
    `KEEP_VIRTUAL_BYTES`, segments' virtual tensors kept for phase 2); inside a scratch
    session a segment's committed outputs then move to a scratch file (`Witness.spill`),
    so the witness held in RAM does not grow with the model.  torch runs on one thread
    meanwhile with `SERIAL_FORWARD`."""
    with serial_torch() if SERIAL_FORWARD else nullcontext():
        return _forward(graph, inputs, registry, progress, drop)


#: `_recompute` runs torch on one thread (`quant.serial_torch`): the ops run one after
#: another, and on a shared 2-core box torch's second OpenMP/MKL thread spins or waits
#: for a core (phase 2's recomputes: 25m 0.47 → 0.37 s CPU, 84m 0.75 → 0.65; s35h4,
#: docs/perf/session35.md).  `SERIAL_FORWARD`: the same for `forward` (phase 1), off:
#: measured neutral to worse there (25m ×1.03, 84m ×1.28 in one process; ×0.97 across
#: processes).  Prover-only knobs: the same integers either way
SERIAL_TORCH = True
SERIAL_FORWARD = False


def _forward(graph: Graph, inputs: Mapping[str, torch.Tensor], registry,
             progress: Progress | None, drop: bool) -> Witness:
    """`forward`'s body."""
    if isinstance(inputs, Traced):
        done = inputs.take(graph, registry, drop)
        if done is not None:   # computed already, from these inputs (`Traced`)
            if progress:
                progress("forward", 0, 1)
            return done
    values = Witness({
        k: v.materialise() if isinstance(v, Structured) else v for k, v in graph.publics.items()})
    produced = graph._producers()
    for name, spec in graph.tensors.items():
        if spec.kind != "public" and name not in produced:
            if name not in inputs:
                raise ProverError(f"missing input tensor {name}")
            v = torch.as_tensor(inputs[name]).to(torch.int64)
            if tuple(v.shape) != spec.shape:
                raise ProverError(f"input {name} has shape {tuple(v.shape)}, expected {spec.shape}")
            rng = _check_declared(spec, v)
            if rng is not None:
                values.note_range(name, v, *rng)
            values[name] = v
    segs = graph.segments() if drop else []
    keep = _phase1_virtuals(graph, registry) if drop else set()
    ends = {s.stop - 1: s for s in segs}
    timed = len(segs) > 1 and not SPILL_VIRTUALS and KEEP_VIRTUAL_BYTES > 0
    cost: dict[str, float] = {}
    for i, node in enumerate(graph.nodes):
        if progress:
            progress("forward", i, len(graph.nodes))
        if timed:
            t0 = time.process_time()
            _forward_node(graph, registry, node, values, values)
            cost[node.name] = time.process_time() - t0
        else:
            _forward_node(graph, registry, node, values, values)
        seg = ends.get(i)
        if seg is not None and len(segs) > 1:
            made = [t for n in graph.nodes[seg.start:seg.stop] for t in n.outputs]
            virt = [t for t in made if graph.tensors[t].kind == "virtual" and t not in keep]
            com = [t for t in made if graph.tensors[t].kind == "committed"]
            if timed:
                _keep_nodes(graph, values, graph.nodes[seg.start:seg.stop], keep, cost)
                cost.clear()
            if SPILL_VIRTUALS:
                # the dropped virtual tensors go to the scratch file with the committed
                # ones: phase 2 reads them back (`_recompute`) instead of running the
                # segment's ops again; those not spilled (no session, a batch under the
                # spill size) are dropped and recomputed as before
                moved = set(values.spill(com)) | set(values.spill(virt, direct=True))
                for t in virt:
                    if t not in moved:
                        values.pop(t, None)
            else:
                for t in virt:
                    values.pop(t, None)
                values.spill(com)
    return values


def _keep_nodes(graph: Graph, values: Witness, nodes: Sequence[OpNode], p1: set[str],
                cost: Mapping[str, float]) -> None:
    """Keep (`Witness.keep`, out of the mapping) the virtual outputs of each node of a
    segment that cost phase 1 at least `KEEP_MIN_SECONDS_PER_MIB` of CPU (``cost``:
    node name -> seconds) per MiB of them in their narrow types, while the kept total
    stays within `KEEP_VIRTUAL_BYTES`; a node's range-checked virtual outputs (``p1``:
    still in the mapping until the bounds phase) count at 8 bytes an entry and are
    noted for the bounds phase (``_kept_later``).  A node with every output kept is not
    run again in phase 2 (`_recompute`)."""
    if not isinstance(values, Witness) or KEEP_VIRTUAL_BYTES <= 0:
        return
    left = KEEP_VIRTUAL_BYTES - values.kept_bytes \
        - sum(8 * values[t].numel() for t in values._kept_later)
    per_byte = KEEP_MIN_SECONDS_PER_MIB / 2**20
    for node in nodes:
        virt = [t for t in node.outputs if graph.tensors[t].kind == "virtual"
                and t not in p1 and t in values]
        later = [t for t in node.outputs if t in p1]
        if not (virt or later):
            continue
        t_node = cost.get(node.name, 0.0)
        need = sum(8 * values[t].numel() for t in later)
        entries = sum(values[t].numel() for t in virt)
        # at least one byte an entry: skip without narrowing what cannot qualify
        if need + entries > left or t_node < per_byte * (need + entries):
            continue
        for t in virt:
            need += values.keep(t, values[t])
        if need > left or t_node < per_byte * need:
            values.take_kept(virt)
            continue
        left -= need
        for t in virt:
            del values[t]
        values._kept_later.update(later)


def trace_key(graph: Graph, drop: bool) -> str:
    """What `forward`'s result depends on besides its inputs and the registry's ops: the
    graph's description (tensors, bounds, nodes and their parameters, segments, the
    publics' values) less the values of the publics a node produces (the node's output
    replaces them), and ``drop``."""
    d = graph.describe()
    produced = graph._producers()
    d["publics"] = {k: v for k, v in d["publics"].items() if k not in produced}
    return hashlib.sha256(canonical_json({"graph": d, "drop": bool(drop)})).hexdigest()


class Traced(dict):
    """A graph's inputs (the mapping) carrying the result of a `forward` already run on
    exactly these inputs — a model plugin's first run, made to learn the statement's
    public outputs (a loss) before the graph that declares them exists.  `forward`
    hands that result over instead of running every op again: the integer forward is
    a deterministic function of the inputs, the ops and the graph's structure, so the
    values are those it would compute.  The hand-over happens once; `forward` computes
    afresh when the graph's `trace_key` differs (another structure, other public
    inputs, another ``drop``), for another registry, or outside the scratch session
    the result's spilled entries live in (`Witness.spill`)."""

    def __init__(self, inputs: Mapping[str, torch.Tensor], result: Witness, key: str,
                 registry):
        super().__init__(inputs)
        self._held: tuple | None = (result, key, registry, scratch.current())

    @classmethod
    def run(cls, graph: Graph, inputs: Mapping[str, torch.Tensor], registry,
            progress: Progress | None = None, *, drop: bool = False
            ) -> tuple[Traced, Witness]:
        """`forward` of ``graph`` on ``inputs``: (the inputs carrying its result, the
        result)."""
        values = forward(graph, inputs, registry, progress, drop=drop)
        return cls(inputs, values, trace_key(graph, drop), registry), values

    @property
    def holds(self) -> bool:
        """Whether the result is still held (not handed over or released)."""
        return self._held is not None

    def release(self) -> None:
        """Drop the held result (its memory goes with the last reference)."""
        self._held = None

    def take(self, graph: Graph, registry, drop: bool) -> Witness | None:
        """The held result if it is ``graph``'s `forward` with ``registry`` and ``drop``
        (else None); released either way."""
        held, self._held = self._held, None
        if held is None:
            return None
        result, key, reg, store = held
        if reg is not registry or store is not scratch.current() or \
                key != trace_key(graph, drop):
            return None
        return result


def _forward_node(graph: Graph, registry, node: OpNode, src: Mapping[str, torch.Tensor],
                  dst: dict[str, torch.Tensor]) -> None:
    """Run one node's integer forward, reading ``src`` and writing its outputs to ``dst``
    (shapes and declared bounds checked)."""
    op = registry.op(node.op)
    op.check(node, graph.tensors)
    outs = op.forward(node, [src[t] for t in node.inputs])
    if len(outs) != len(node.outputs):
        raise ProverError(f"op {node.name} returned {len(outs)} outputs, "
                          f"expected {len(node.outputs)}")
    for t, v in zip(node.outputs, outs):
        spec = graph.tensors[t]
        if tuple(v.shape) != spec.shape:
            raise ProverError(f"op {node.name}: output {t} has shape {tuple(v.shape)}, "
                              f"expected {spec.shape}")
        rng = _check_declared(spec, v)
        v = v.to(torch.int64)
        if rng is not None and isinstance(dst, Witness):
            dst.note_range(t, v, *rng)   # before the set: it may spill (``autospill``)
        dst[t] = v


def _check_declared(spec: TensorSpec, v: torch.Tensor) -> tuple[int, int] | None:
    """`op.check_bound` (the same error) with one pass over an int64 value, not two;
    returns the value's (min, max) when it computed them (an int64 value with a bound,
    checks on), else None."""
    if v.dtype != torch.int64 or spec.bound is None or v.numel() == 0 \
            or not selfcheck.enabled():
        check_bound(spec, v)
        return None
    vmin, vmax = _minmax(v)
    lo, hi = spec.bound
    if vmin < lo or vmax > hi:
        check_bound(spec, v)   # raises, naming the value
    return vmin, vmax


def _minmax(v: torch.Tensor) -> tuple[int, int]:
    """(min, max) of a non-empty int64 tensor: `int_gemm.minmax_i64` on a contiguous
    CPU one (one vectorised pass, no torch dispatch), else ``torch.aminmax``."""
    if v.is_cpu and v.is_contiguous() and v.dtype == torch.int64:
        lo, hi = minmax_i64(v.numpy().reshape(-1))
        return int(lo), int(hi)
    return tuple(int(x) for x in torch.aminmax(v))


def _phase1_virtuals(graph: Graph, registry) -> set[str]:
    """Virtual tensors phase 1 reads: those of the static range checks (their limbs are
    committed, their claims drawn, before the segments are proven)."""
    return {rc.tensor for rc in static_range_checks(graph, registry)
            if graph.tensors[rc.tensor].kind == "virtual"}


def _recompute(graph: Graph, registry, seg: segmentlib.Segment,
               values: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Segment ``seg``'s witness that ``values`` lacks (dropped by ``forward(drop=True)``),
    recomputed from its inputs: committed boundary tensors, publics and its own nodes;
    torch on one thread meanwhile (`SERIAL_TORCH`)."""
    with serial_torch() if SERIAL_TORCH else nullcontext():
        return _recompute_seg(graph, registry, seg, values)


def _recompute_seg(graph: Graph, registry, seg: segmentlib.Segment,
                   values: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """`_recompute`'s body."""
    local: dict[str, torch.Tensor] = {}
    nodes = [n for n in graph.nodes[seg.start:seg.stop]
             if not all(t in values for t in n.outputs)]
    in_ram = getattr(values, "in_ram", None)
    if in_ram is not None:
        # virtual tensors `forward` spilled (`SPILL_VIRTUALS`): read back once each and
        # held for the segment, as a recomputed one would be (a read of a spilled entry
        # is a fresh copy each time)
        for n in graph.nodes[seg.start:seg.stop]:
            for t in n.outputs:
                if graph.tensors[t].kind == "virtual" and t in values and not in_ram(t):
                    local[t] = values[t]
    # a spilled input that several of these nodes read (a layer's normalised input feeds
    # its projections) is read from its scratch file once and held from its first read
    # to its last (`Witness.__getitem__` makes a fresh copy per read)
    held: dict[str, torch.Tensor] = {}
    left = _spilled_reads(nodes, values)
    view = ChainMap(local, held, values)
    for node in nodes:
        for t in node.inputs:
            if left.get(t, 0) > 1 and t not in held and t not in local:
                held[t] = values[t]
        out: dict[str, torch.Tensor] = {}
        _forward_node(graph, registry, node, view, out)
        for t, v in out.items():
            if t not in values:
                local[t] = v
        for t in node.inputs:
            if t in left:
                left[t] -= 1
                if not left[t]:
                    held.pop(t, None)
    return local


class _Held(ChainMap):
    """A segment's kept virtual tensors (first map) over the witness (second): what
    `_recompute` reads when phase 1 kept some (`prove_segment`)."""

    def in_ram(self, name: str) -> bool:
        return name in self.maps[0] or self.maps[1].in_ram(name)


def _spilled_reads(nodes: Sequence[OpNode], values: Mapping[str, torch.Tensor]
                   ) -> dict[str, int]:
    """How many times ``nodes`` (run in order) read each input that ``values`` holds in
    a scratch file (not in RAM, `Witness.in_ram`) and no earlier node of them makes."""
    in_ram = getattr(values, "in_ram", None)
    if in_ram is None:
        return {}
    made: set[str] = set()
    count: dict[str, int] = {}
    for node in nodes:
        for t in node.inputs:
            if t not in made and t in values and not in_ram(t):
                count[t] = count.get(t, 0) + 1
        made.update(node.outputs)
    return count


def _statement_bytes(statement: Mapping) -> bytes:
    return canonical_json(statement)


def prove(graph: Graph, inputs: Mapping[str, torch.Tensor], backend: Backend,
          statement: Mapping, progress: Progress | None = None,
          values: dict[str, torch.Tensor] | None = None,
          published: Mapping[str, bytes] | None = None,
          profile: Profile | None = None,
          published_states: Mapping[str, Any] | None = None,
          executor: Any = None) -> tuple[bytes, list]:
    """Prove the graph; returns (proof stream bytes, sections).

    ``published`` maps committed tensors to commitments that are part of the statement
    (made beforehand, e.g. by ``zklora commit-model``): they are not sent in the proof.
    ``published_states``: the prover states of (some of) those commitments, reused
    instead of committing the tensors again.
    ``profile`` (optional) receives the time of every phase and op node (`Profile`).
    ``executor`` proves a segmented graph's segments (`zklora.zkcore.executors`; local,
    one segment at a time, by default).
    """
    outer = scratch.current() is not None   # the caller's session outlives this one
    with scratch.session():   # large commitment state on disk, removed at the end
        return _run(True, graph, backend, statement, published, inputs=inputs,
                    values=values, progress=progress, profile=profile,
                    states=published_states, executor=executor, outer_store=outer)


def verify(graph: Graph, proof: bytes, backend: Backend, statement: Mapping,
           sections: Sequence | None = None,
           published: Mapping[str, bytes] | None = None) -> None:
    """Verify a proof stream against the graph and statement; raise on failure.
    ``published``: commitments the verifier already trusts (see `prove`).  Runs with
    the objects alive before it frozen (`_old_heap_frozen`)."""
    with _old_heap_frozen():
        _run(False, graph, backend, statement, published, proof=proof, sections=sections)


@contextmanager
def _old_heap_frozen():
    """Within the block, the cyclic garbage collector skips the objects alive at its
    start (`gc.freeze`; `gc.unfreeze` at the end): a full collection triggered in a
    verification then scans what the verification allocated, not the whole heap
    (the caller's model, torch, the prover's state: 0.2 s per full collection of the
    tiny step's process, which a zero-knowledge verification, allocating more,
    triggered in one run of two).  Nothing is freed later than without it but cyclic
    garbage older than the block.  Skipped when the collector is off or objects are
    already frozen (a caller's own `gc.freeze`, a concurrent verification)."""
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


#: zero knowledge, docs/zero-knowledge.md §5.1: the registry whose ops' declarations
#: (`Op.zk_blinds`, `Op.masks_reveals`) the scheduler reads (set by `_run`)
_REGISTRY: ContextVar = ContextVar("zklora_graph_registry", default=None)


def _zk_blinds(node: OpNode | None, specs) -> str | None:
    """How ``node``'s op treats blinded output claims (`Op.blinds`; None: no node, or
    an op that is not blind-aware).  The op declares it: the kernel knows no op."""
    reg = _REGISTRY.get()
    if node is None or reg is None:
        return None
    return reg.op(node.op).blinds(node, specs)


def _masks_reveals(node: OpNode | None, specs) -> bool:
    """``node``'s `reveal`s and zero-check finals may be masked
    (`ProverContext.carries_blinds`, `Op.masks_reveals`): it is blind-aware and hands
    the revealed values on unchanged or carries their blinds itself."""
    reg = _REGISTRY.get()
    if node is None or reg is None:
        return False
    op = reg.op(node.op)
    return op.blinds(node, specs) is not None and op.masks_reveals(node)


#: hide evaluations (the sumchecks' finals, output values, reveals) in a ZK session
#: where the graph allows it (`_hidden_tensors`); False: revealed as before
HIDE_FINALS = True
#: ... in segmented graphs too (each fork context hides like the main one)
HIDE_SEGMENTS = True
#: ... and the lookup argument (LogUp-GKR layers' finals, the layer top, m and the
#: looked-up columns; fast, streamed and generic layer provers; segmented graphs too —
#: docs/zero-knowledge.md §5.1)
HIDE_LOOKUPS = True


def _fork_group(graph: Graph) -> int | None:
    """The forks' first mask group size: larger when their evaluations are hidden
    (`zk.HIDDEN_FORK_GROUP`), else the default (None: `zk.FIRST_GROUP`).  From the graph
    and the module's switches: both sides agree."""
    if HIDE_FINALS and HIDE_SEGMENTS and graph.node_segments:
        return zklib.HIDDEN_FORK_GROUP
    return None


def _hidden_tensors(graph: Graph, committer: Committer, published) -> frozenset:
    """The tensors whose claims may be blinded (`ProverContext.hide`): committed in the
    stack of the main pool's first mask group (a blinded claim's terms share the
    tensor's stack, `Committer.open`), or virtual, and produced by no op or by a
    blind-aware one (`Op.zk_blinds`, the op's own declaration); a tensor whose producer
    passes blinds on to its inputs (`op.PASS`) only if those inputs may be blinded too
    (a fixpoint).  In a segmented graph (with
    `HIDE_SEGMENTS`) every fork context takes this set; its first mask group is in the
    same stack (`zk.precommit`, `_fork_group`).  Tensors committed later (mid-proof
    advice) are in no stack yet: never blinded.  A published tensor (a member of a
    published group) where its scheme opens sum claims (`Committer.published_blinds`:
    its blinds are foreign terms, docs/zero-knowledge.md §5.1 "Published tensors")."""
    first = f"{zklib.PREFIX}0"
    if not HIDE_FINALS or (graph.node_segments and not HIDE_SEGMENTS) or \
            first not in committer.where:
        return frozenset()
    k0 = committer.where[first][0]
    producers: dict[str, OpNode] = {}
    for node in reversed(graph.nodes):   # `Graph.producer`: the first node wins
        for o in node.outputs:
            producers[o] = node
    cand = set()
    for t, s in graph.tensors.items():
        if s.kind == "committed" and (
                committer.where.get(t, (None,))[0] != k0 if t not in published
                # a published group's member: its blinds are carried across to the
                # masks' stack by the masked reduction (`Committer.published_blinds`)
                else not committer.published_blinds(t)):
            continue
        if s.kind not in ("committed", "virtual"):
            continue
        node = producers.get(t)
        if node is None or _zk_blinds(node, graph.tensors) is not None:
            cand.add(t)
    changed = True
    while changed:
        changed = False
        for t in list(cand):
            node = producers.get(t)
            if node is not None and _zk_blinds(node, graph.tensors) == PASS and \
                    not all(i in cand for i in node.inputs if graph.tensors[i].kind != "public"):
                cand.discard(t)
                changed = True
    return frozenset(cand)


def _limbs_in_stack(committer: Committer, pending) -> frozenset:
    """The static range checks' limbs (`range.range_limbs`' ``pending``) committed in
    the stack of the main pool's first mask group: advice no op produces, so they may
    carry blinds (their range-point values are sent masked, `range.range_points`)."""
    first = f"{zklib.PREFIX}0"
    if first not in committer.where:
        return frozenset()
    k0 = committer.where[first][0]
    return frozenset(n for _, sides in pending for _, ns in sides for n in ns
                     if committer.where.get(n, (None,))[0] == k0)


def _run(prover: bool, graph: Graph, backend: Backend, statement: Mapping,
         published: Mapping[str, bytes] | None, **kw) -> tuple[bytes, list] | None:
    """`_schedule` with ``backend``'s registry the one whose ops' zero-knowledge
    declarations the scheduler reads (`_REGISTRY`)."""
    token = _REGISTRY.set(backend.registry)
    try:
        return _schedule(prover, graph, backend, statement, published, **kw)
    finally:
        _REGISTRY.reset(token)


def _schedule(prover: bool, graph: Graph, backend: Backend, statement: Mapping,
              published: Mapping[str, bytes] | None, *,
         inputs: Mapping[str, torch.Tensor] | None = None,
         values: dict[str, torch.Tensor] | None = None, proof: bytes = b"",
         sections: Sequence | None = None, progress: Progress | None = None,
         profile: Profile | None = None,
         states: Mapping[str, Any] | None = None,
         executor: Any = None, outer_store: bool = False) -> tuple[bytes, list] | None:
    """The proof of ``graph`` (module doc), run by the prover (``prover``: computes and
    sends every message, returns (proof bytes, sections)) or by the verifier (reads
    ``proof``, checks it and the ``sections`` index, raises on failure): one schedule,
    so both sides see the same transcript by construction."""
    err = ProverError if prover else VerificationError
    published = dict(published or {})
    for name in published:
        if name not in graph.tensors or graph.tensors[name].kind != "committed":
            raise err(f"published commitment for unknown tensor {name!r}")
    try:
        graph.check(backend.registry, ConfigError if prover else VerificationError)
    except ValueError as e:
        raise err(f"graph: {e}") from None
    F = backend.field
    clock = _Clock(profile)
    transcript = Transcript(PROTOCOL_ID, backend.hash)
    committer = Committer(backend.scheme, prover)
    specs = dict(graph.tensors)
    ctx: ProverContext | VerifierContext
    if prover:
        if values is None:
            values = forward(graph, inputs or {}, backend.registry, progress,
                             drop=bool(graph.node_segments))
            clock.lap("forward")
        ch = ProverChannel(transcript)
        if isinstance(values, Witness) and graph.node_segments and outer_store:
            # a segmented graph's committed inputs (the frozen weights) go to a scratch
            # file of the caller's session (it outlives this proof): a segment reads back
            # what it recomputes from, instead of every layer's weights staying resident
            produced = graph._producers()
            values.spill([n for n, s in graph.tensors.items() if s.kind == "committed"
                          and n not in produced and values.in_ram(n)], force=True)
        # the prover's own view of the witness (spilled entries shared with the caller's)
        mine = values.copy() if isinstance(values, Witness) else Witness(values)
        ctx = ProverContext(F, ch, specs, graph.publics, mine, committer)
        del mine
        del values   # the caller's dict may still hold it; ctx.values is the one we edit
    else:
        ch = VerifierChannel(transcript, proof)
        ctx = VerifierContext(F, ch, specs, graph.publics, committer)
    rec = _SectionRecorder(ch)
    ch.observe_public("statement", _statement_bytes(statement))
    ch.observe_public("graph", canonical_json(graph.describe()))
    ch.before_challenge = lambda: committer.flush(ch)

    with rec.section("commitments"):
        to_commit = [n for n, s in graph.tensors.items() if s.kind == "committed"]
        for k, name in enumerate(to_commit):
            if progress:
                progress("commitments", k, len(to_commit))
            state = (states or {}).get(name) if name in published else None
            if prover and name not in published and ctx.commit_remade(name):
                continue   # its table made from the value when the stack is built
            committer.commit(ch, specs[name],
                             ctx.table(name) if prover and state is None else None,
                             published.get(name), state)
        # the static range checks' limbs join the committed tensors: one stack (two
        # where that pads less), committed before the first challenge
        checks = static_range_checks(graph, backend.registry, err)
        spilling = prover and bool(graph.node_segments)
        if spilling:   # the limbs and multiplicities go to disk as they are made
            ctx.values.autospill = True
        op_lookups = static_lookups(graph, backend.registry, err)
        if rangelib.PADDED_CHECKS:   # the checks' widths by every column's padded total
            totals: dict[str, tuple[int, int]] = {}
            for r in op_lookups:
                n, _ = totals.get(r.table.name, (0, 0))
                totals[r.table.name] = (n + specs[r.columns[0]].size, r.table.size)
            checks = rangelib.padded_checks(ctx, checks, totals)
        try:
            bound_limbs = rangelib.range_limbs(ctx, checks)
        except ValueError as e:
            raise err(f"range check: {e}") from None
        # the static lookups (the limbs' and every op's `Op.lookups`): their
        # multiplicities join the same stack
        static = list(ctx.lookups) + op_lookups
        if rangelib.PAIR_LOOKUPS:   # pairs of small range lookups as two-column ones
            static = rangelib.pair_lookups(static, lambda c: ctx.spec(c).size)
        ctx.lookups = []
        ctx.static_lookups = _commit_lookups(ctx, backend, static)
        if spilling:
            # the rest of the witness phase 1 made (node outputs, limbs,
            # multiplicities) to disk too: read back a segment at a time in phase 2
            ctx.values.autospill = False
            made = {t for n in graph.nodes for t in n.outputs}
            later = ctx.values._kept_later   # kept for their segments: moved at bounds
            ctx.values.spill([n for n in ctx.values if ctx.values.in_ram(n)
                              and n not in graph.publics and n not in later
                              and (n not in graph.tensors or n in made)], force=True)
            scratch.release(trim_heap=True)
        if ctx.zk is not None:
            if HIDE_FINALS and HIDE_LOOKUPS:
                # the lookups' masked reveals take a ν slot each: a first group of 64
                # overflows on the tiny step (a later group is a stack of its own,
                # where a blind cannot join the column's claim)
                ctx.zk_pool.first = zklib.HIDDEN_FORK_GROUP
            # zero knowledge: the first mask group of the main transcript and of every
            # segment fork join this stack (`zk.precommit`), one opening for them all
            zklib.precommit(ctx, [s.index for s in graph.segments()]
                            if graph.node_segments else [], _fork_group(graph))
        # (zero knowledge with hidden evaluations: one stack, so every committed tensor
        # shares its stack with the masks that blind its claims, §5.1; other zero-
        # knowledge sessions at most two, the layouts their masks were argued for; else
        # up to `WITNESS_STACKS` where a third saves enough padding, `stack_bins`)
        one = ctx.zk is not None and HIDE_FINALS and (HIDE_SEGMENTS
                                                     or not graph.node_segments)
        committer.flush_packed(ch, 1 if one else 2 if ctx.zk is not None else WITNESS_STACKS)
        if ctx.zk is not None:
            ctx.hide = _hidden_tensors(graph, committer, published)
            # the static range checks' limbs (advice, no producer) in the same stack
            ctx.hide |= _limbs_in_stack(committer, bound_limbs) if ctx.hide else frozenset()
            # the lookup argument too (LogUp-GKR, `hide_lookups`: its layers, the
            # layer top, m and the looked-up columns)
            ctx.hide_lookups = bool(ctx.hide) and HIDE_LOOKUPS
    clock.lap("commitments")

    book: dict[str, list[Claim]] = defaultdict(list)
    with rec.section("outputs"):
        for o in graph.outputs:
            r = ctx.challenges(f"out:{o}", specs[o].num_vars)
            blind: tuple = ()
            if specs[o].kind == "committed":
                if o in ctx.hide:   # sent as õ(r) + ν: a blinded claim (§5.1)
                    blind = (zklib.fresh_nu(ctx),)
                v = ctx.exchange(f"out:{o}/value", 1, lambda o=o, r=r, b=blind: [
                    ctx.E.add(ctx.evaluate(o, r), claimlib.blind_value(ctx, b))])[0]
            else:
                v = ctx.eval_public(o, r)
            book[o].append(Claim(o, r, v, blind))
    clock.lap("outputs")

    opened: dict[str, list[Claim]] = defaultdict(list)
    if checks:
        with rec.section("bounds"):
            ranged: dict[str, list[Claim]] = defaultdict(list)
            _collect(ctx, ranged, rangelib.range_points, ctx, bound_limbs)
            for t, cl in ranged.items():
                (opened if specs[t].kind == "committed" else book)[t].extend(cl)
        if prover and len(graph.segments()) > 1:
            # the range-checked virtual tensors phase 1 kept: recomputed by their
            # segments in phase 2 (`_recompute`), like every other virtual tensor
            # (or, those of segments phase 1 kept, held for them with the rest,
            # `KEEP_VIRTUAL_BYTES`)
            later = getattr(ctx.values, "_kept_later", set())
            for t in _phase1_virtuals(graph, backend.registry):
                if t in later and t in ctx.values:
                    ctx.values.keep(t, ctx.values[t])
                ctx.values.pop(t, None)
                ctx._tables.pop(t, None)
            later.clear()
        clock.lap("bounds")

    segs = graph.segments()
    if len(segs) == 1 and not graph.node_segments:
        # one segment: proven on the main transcript (the schedule before segments)
        _prove_nodes(ctx, backend, graph.nodes, book, opened, err, clock, progress, rec,
                     count=(0, len(graph.nodes)))
    else:
        _run_segments(prover, ctx, graph, backend, segs, book, opened, err, clock,
                      progress, rec, executor)

    if progress:
        progress("lookups", 0, 1)
    if prover:   # the lookup argument starts from what phase 2 left, not its heap
        scratch.release(trim_heap=True)
    # the heap's mmap threshold sits above the lookups' largest array (a streamed fold
    # pass's stack, at most their STREAM_BYTES cap, 512 MiB by default): at 84m two
    # layers' 256 MiB stacks were otherwise mapped and zeroed afresh each (s27h2)
    with rec.section("lookups"), (scratch.releasing() if prover else nullcontext()), \
            (scratch.heap_reuse(768 << 20) if prover else nullcontext()):
        # every segment's requests (global argument); the pages of the columns it
        # streams through are given back as it goes
        _run_lookups(ctx, backend, book)
    clock.lap("lookups")

    if progress:
        progress("openings", 0, 1)
    with rec.section("openings"):
        for name, cl in list(book.items()):
            kind = specs[name].kind
            if kind == "committed":
                opened[name].extend(cl)
                book.pop(name)
            elif kind == "public":
                for c in cl:
                    _check_public(ctx, c)
                book.pop(name)
        committer.open(ctx, opened)
    clock.lap("openings")
    leftover = {k: v for k, v in book.items() if v}
    if leftover:
        raise err(f"undischarged claims on {sorted(leftover)}")
    if prover:
        return ch.proof_bytes(), rec.sections
    ch.finish()
    if sections is not None and [tuple(s) for s in sections] != rec.sections:
        raise ProofFormatError("proof section index does not match the proof stream")
    return None


def _prove_nodes(ctx: ProverContext | VerifierContext, backend: Backend,
                 nodes: Sequence[OpNode], book, opened, err, clock: _Clock,
                 progress: Progress | None, rec: _SectionRecorder,
                 count: tuple[int, int]) -> None:
    """Prove ``nodes`` in reverse order (both sides): all claims on each output reduced
    to one (`claims.reduce`), handed to the op, its input claims filed in ``book``; a
    committed output's reduced claim also goes to ``opened``.  ``count``: (nodes proven
    before, total) for ``progress``."""
    specs = ctx.specs
    done, total = count
    for i, node in enumerate(reversed(nodes)):
        if progress:
            progress("prove", done + i, total)
        with rec.section(f"op:{node.op}:{node.name}"):
            out_claims = {}
            ctx.clear_blinds()
            for t in node.outputs:
                if book.get(t):
                    c = claimlib.reduce(ctx, book.pop(t), num_vars=specs[t].num_vars,
                                        label=f"reduce:{t}", table=lambda t=t: ctx.table(t),
                                        hide=t in ctx.hide)
                    out_claims[t] = c
                    ctx.register_blind(c.point, c.value, c.blind)
                    if specs[t].kind == "committed":
                        opened[t].append(c)
                    elif specs[t].kind == "public":
                        _check_public(ctx, c)
            if not out_claims:
                raise err(_unreached_message(node))
            op = backend.registry.op(node.op)
            ctx.carries_blinds = _masks_reveals(node, specs)
            try:
                _collect(ctx, book, op.run, ctx, node, out_claims)
            finally:
                ctx.carries_blinds = False
        clock.lap(node.op, node.name)


@attrs.define
class SegmentResult:
    """What proving one segment leaves for phase 3: its proof bytes, its section index
    (offsets within those bytes), its fork's final transcript state, the claims it left on
    committed tensors (in order) and its lookup requests."""

    index: int
    data: bytes
    sections: list[tuple[str, int, int]]
    state: bytes
    opened: dict[str, list[Claim]]
    lookups: list[LookupRequest]
    #: the prover's wall time for the segment (witness recomputation included)
    seconds: float = 0.0


def prove_segment(prover: bool, ctx: ProverContext | VerifierContext, graph: Graph,
                  backend: Backend, seg: segmentlib.Segment, base_state: bytes,
                  claims: Mapping[str, list[Claim]], err, *, data: bytes = b"",
                  clock: _Clock | None = None, progress: Progress | None = None,
                  count: tuple[int, int] = (0, 0)) -> SegmentResult:
    """Phase 2 for segment ``seg`` (module doc of `zklora.zkcore.segments`), either side:
    on the fork ``H(base_state, index, id)``, draw a claim on each of its boundary outputs
    (the prover sends the value), add ``claims`` (the main transcript's claims on its
    tensors), prove its nodes in reverse, and return what phase 3 needs.  ``ctx`` is the
    main context: the prover recomputes the segment's dropped witness from it, and both
    sides share its committer and tensor specs.  The verifier reads ``data`` (exactly)."""
    F = backend.field
    t0 = time.perf_counter()
    transcript = segmentlib.fork(backend.hash, PROTOCOL_ID, base_state, seg.index, seg.id)
    committer = ctx.committer
    sctx: ProverContext | VerifierContext
    if prover:
        ch = ProverChannel(transcript)
        # what phase 1 kept of its virtual tensors (`KEEP_VIRTUAL_BYTES`), then the rest
        # recomputed
        have = ctx.values.take_kept([t for n in graph.nodes[seg.start:seg.stop]
                                     for t in n.outputs]) \
            if isinstance(ctx.values, Witness) else {}
        src = _Held(have, ctx.values) if have else ctx.values
        local = _recompute(graph, backend.registry, seg, src)
        sctx = ProverContext(F, ch, ctx.specs, graph.publics,
                             ChainMap(local, have, ctx.values), committer)
        del src
        sctx._tables.update(ctx._tables)     # committed tensors: views of their stacks
    else:
        ch = VerifierChannel(transcript, data)
        sctx = VerifierContext(F, ch, ctx.specs, graph.publics, committer)
    if sctx.zk is not None:   # its first mask group: committed before the fork
        sctx.zk_pool = zklib.fork_pool(sctx, seg.index, _fork_group(graph))
        sctx.hide = ctx.hide
    ch.before_challenge = lambda: committer.flush(ch)
    rec = _SectionRecorder(ch)
    book: dict[str, list[Claim]] = defaultdict(list)
    for t, cl in claims.items():
        book[t].extend(cl)
    opened: dict[str, list[Claim]] = defaultdict(list)
    specs = ctx.specs
    clock = clock or _Clock(None)
    try:
        with rec.section(f"segment/outputs:{seg.id}"):
            for t in seg.outputs:
                r = sctx.challenges(f"seg-out:{t}", specs[t].num_vars)
                blind = (zklib.fresh_nu(sctx),) if t in sctx.hide else ()
                v = sctx.exchange(f"seg-out:{t}/value", 1, lambda t=t, r=r, b=blind: [
                    sctx.E.add(sctx.evaluate(t, r), claimlib.blind_value(sctx, b))])[0]
                book[t].append(Claim(t, r, v, blind))
        # the fork, the dropped witness's recompute and the outputs' claims: a row of
        # their own in the op table (else the segment's first node is charged for them)
        clock.lap("segment-setup", seg.id)
        _prove_nodes(sctx, backend, graph.nodes[seg.start:seg.stop], book, opened, err,
                     clock, progress, rec, count)
        for t, cl in book.items():
            kind = specs[t].kind
            if kind == "committed":
                opened[t].extend(cl)
            elif kind == "public":
                for c in cl:
                    _check_public(sctx, c)
            elif cl:
                raise err(f"segment {seg.id!r}: claims on virtual tensor {t} left "
                          "undischarged")
        committer.flush(ch)
    finally:
        if prover and hasattr(committer, "on_stacked"):
            committer.on_stacked = ctx._tables.__setitem__
    if prover:
        out = ch.proof_bytes()
    else:
        ch.finish()
        out = b""
    return SegmentResult(seg.index, out, rec.sections, transcript.state, dict(opened),
                         list(sctx.lookups), time.perf_counter() - t0)


def _run_segments(prover: bool, ctx: ProverContext | VerifierContext, graph: Graph,
                  backend: Backend, segs: Sequence[segmentlib.Segment], book, opened, err,
                  clock: _Clock, progress: Progress | None, rec: _SectionRecorder,
                  executor: Any) -> None:
    """Phases 2 and 3's absorption: every segment proven on its own fork (by
    ``executor`` on the prover side: `zklora.zkcore.executors`, local by default), then,
    in segment order, its byte length and proof written to (read from) the main stream
    and its fork's final state absorbed.  Claims ``book`` holds on a segment's tensors
    move to that segment; the segments' claims on committed tensors join ``opened``,
    their lookup requests the main context's."""
    ch = ctx.ch
    ctx.committer.flush(ch)
    base = ch.transcript.state
    producer_seg = {}
    for s in segs:
        for n in graph.nodes[s.start:s.stop]:
            for t in n.outputs:
                producer_seg[t] = s.index
    moved: list[dict[str, list[Claim]]] = [{} for _ in segs]
    for t in list(book):
        k = producer_seg.get(t)
        if k is not None:
            moved[k][t] = book.pop(t)
    total = len(graph.nodes)
    if prover:
        from . import executors
        run = executor or executors.LocalExecutor()
        results = run.prove_segments(ctx, graph, backend, segs, base, moved, err,
                                     clock, progress)
        if isinstance(ctx.values, Witness):   # an executor that recomputed elsewhere
            ctx.values.drop_kept()
        if [r.index for r in results] != [s.index for s in segs]:
            raise ProverError("the executor returned the segments out of order")
        if clock.profile is not None:
            for s, r in zip(segs, results):
                clock.profile("segment", s.id, r.seconds)
    for s in segs:
        label = f"segment/{s.index}/bytes"
        if prover:
            res = results[s.index]
            ch.send_u64(label, len(res.data))
            start = len(ch.buf)
            ch.buf.extend(res.data)          # absorbed by the fork, not the main transcript
        else:
            n = ch.recv_u64(label, len(ch.data) - ch.pos)
            start = ch.pos
            data = bytes(ch.data[start:start + n])
            ch.pos += n
            res = prove_segment(False, ctx, graph, backend, s, base, moved[s.index], err,
                                data=data, count=(s.start, total))
        rec.sections.extend((name, start + a, start + b) for name, a, b in res.sections)
        end = start + (len(res.data) if prover else n)
        rec.sections.append((f"segment:{s.index}:{s.id}", start - 8, end))
        ch.transcript.observe(f"segment/{s.index}/state", res.state)
        for t, cl in res.opened.items():
            opened[t].extend(cl)
        ctx.lookups.extend(res.lookups)


class _Clock:
    """Reports the time since the previous lap to a `Profile` callback (if any)."""

    def __init__(self, profile: Profile | None):
        self.profile = profile
        self.t = time.perf_counter()

    def lap(self, kind: str, name: str = "") -> None:
        if self.profile is None:
            return
        now = time.perf_counter()
        self.profile(kind, name, now - self.t)
        self.t = now


class _SectionRecorder:
    """Records the byte range of each section of the proof stream (the prover's index;
    the verifier compares its own with the file's)."""

    def __init__(self, ch: ProverChannel | VerifierChannel):
        self.ch = ch
        self.sections: list[tuple[str, int, int]] = []

    def _pos(self) -> int:
        return len(self.ch.buf) if isinstance(self.ch, ProverChannel) else self.ch.pos

    @contextmanager
    def section(self, name: str):
        start = self._pos()
        yield
        self.sections.append((name, start, self._pos()))


def _bound_checks(graph: Graph) -> list[rangelib.RangeCheck]:
    """The range checks of ``graph.proven_bounds``: each tensor in its declared bound."""
    out = []
    for name in graph.proven_bounds:
        lo, hi = graph.tensors[name].bound
        out.append(rangelib.RangeCheck(name, int(lo), int(hi), f"bound:{name}"))
    return out


def static_range_checks(graph: Graph, registry,
                        error: type[Exception] = ConfigError) -> list[rangelib.RangeCheck]:
    """Every range check known from the graph alone, in order: the proven bounds, then
    each node's `Op.range_checks`; a check on the same tensor and [lo, hi] as an earlier
    one is dropped (it proves nothing more).  Both sides compute it from the graph, so
    the limbs and labels agree; a malformed declaration is ``error``."""
    out: list[rangelib.RangeCheck] = []
    seen: set[tuple[str, int, int]] = set()
    checks = list(_bound_checks(graph))
    for node, declared in _declared(graph, registry, "range_checks", "range checks", error):
        for rc in declared:
            if not isinstance(rc, rangelib.RangeCheck) or rc.tensor not in graph.tensors:
                raise error(f"op {node.op} node {node.name!r}: bad range check {rc!r}")
        checks += declared
    for rc in checks:
        key = (rc.tensor, int(rc.lo), int(rc.hi))
        if key not in seen:
            seen.add(key)
            out.append(rc)
    return out


def _unreached_message(node: OpNode) -> str:
    return (f"op {node.name!r} ({node.op}) received no claim on any of its outputs "
            f"{list(node.outputs)}: its relation, advice, range checks and lookups would "
            "not be proven")


def _union(returned, recorded) -> list[Claim]:
    """Claims an op returned plus those it recorded through ``ctx.claim``, once each."""
    out = list(recorded)
    ids = {id(c) for c in out}
    out.extend(c for c in (returned or []) if id(c) not in ids)
    return out


def _check_public(ctx: ProverContext | VerifierContext, c: Claim) -> None:
    ctx.check(lambda: ctx.E.equal(ctx.eval_public(c.tensor, c.point), c.value),
              f"claim on public tensor {c.tensor} does not match its value")


def _collect(ctx: ProverContext | VerifierContext, book, run: Callable, *args) -> None:
    """Run ``run(*args)`` (an op, the bound checks or a lookup argument) and file every
    claim it returned or recorded through ``ctx.claim`` in ``book``."""
    ctx.new_claims = []
    returned = run(*args)
    for c in _union(returned, ctx.new_claims):
        book[c.tensor].append(c)


def _group(requests: Sequence[LookupRequest]):
    groups: dict[str, list[LookupRequest]] = defaultdict(list)
    tables = {}
    for r in requests:
        groups[r.table.name].append(r)
        tables[r.table.name] = r.table
    return [(tables[k], groups[k]) for k in sorted(groups)]


@attrs.define
class _StaticLookups:
    """The static lookups of a proof (`static_lookups` and the static range checks'
    limbs) as the commitment phase left them: committed multiplicities
    (``committed``, a two-phase argument) or the requests themselves (``requests``, an
    argument that runs whole, `LookupArgument.run`)."""

    committed: list = attrs.field(factory=list)
    requests: list[LookupRequest] = attrs.field(factory=list)


def _lookup_argument(ctx: ProverContext | VerifierContext, backend: Backend
                     ) -> LookupArgument:
    if backend.lookup is None:
        raise relations.error(ctx, "the graph needs lookups but no lookup argument is "
                              "configured")
    return backend.lookup


def _commit_lookups(ctx: ProverContext | VerifierContext, backend: Backend,
                    requests: Sequence[LookupRequest]) -> _StaticLookups:
    """Commitment phase (both sides): every static lookup table's layout absorbed and
    its multiplicities counted from the witness and deferred into the pending stack
    (`LookupArgument.commit`), so they are committed with the witness, before any
    challenge.  The layout is the graph's (static range checks, `Op.lookups`), so the
    verifier derives it without reading the proof."""
    out = _StaticLookups()
    if not requests:
        return out
    arg = _lookup_argument(ctx, backend)
    if not arg.two_phase():
        out.requests = list(requests)
        return out
    try:
        out.committed = [arg.commit(ctx, table, reqs) for table, reqs in _group(requests)]
    except ValueError as e:
        raise relations.error(ctx, f"lookup: {e}") from None
    return out


def _run_lookups(ctx: ProverContext | VerifierContext, backend: Backend, book) -> None:
    """Run the configured lookup argument on every table's requests (both sides), the
    static ones committed in the commitment phase (``ctx.static_lookups``) and those
    the ops requested mid-proof (``ctx.lookups``), whose multiplicities are committed
    here, as one late stack, before the argument's first challenge (label
    ``lookup:{table}/late``); the claims the arguments make go into ``book``."""
    static = getattr(ctx, "static_lookups", None) or _StaticLookups()
    if not ctx.lookups and not static.committed and not static.requests:
        return
    arg = _lookup_argument(ctx, backend)
    if not arg.two_phase():
        for table, reqs in _group(list(static.requests) + list(ctx.lookups)):
            _collect(ctx, book, arg.run, ctx, table, reqs)
        return
    late = [arg.commit(ctx, table, reqs, label=f"{lookup_label(table)}/late")
            for table, reqs in _group(ctx.lookups)]
    _collect(ctx, book, arg.prove_many, ctx, list(static.committed) + late)


def _declared(graph: Graph, registry, method: str, what: str, error: type[Exception]):
    """(node, list) for every node whose op is registered: the op's ``method``
    (`Op.range_checks` / `Op.lookups`) on the node's checked parameters; an op that
    raises on its own declaration is ``error`` naming ``what``."""
    for node in graph.nodes:
        try:
            op = registry.op(node.op)
        except PluginError:
            continue  # reported when the node runs
        try:
            declared = list(getattr(op, method)(node, op.check(node, graph.tensors, error),
                                                graph.tensors))
        except (ValueError, KeyError, TypeError) as e:
            raise error(f"op {node.op} node {node.name!r}: {what}: {e}") from None
        yield node, declared


def static_lookups(graph: Graph, registry,
                   error: type[Exception] = ConfigError) -> list[LookupRequest]:
    """Every node's `Op.lookups`, in node order: lookups known from the graph alone,
    whose multiplicities the commitment phase commits.  Both sides compute it from the
    graph; a malformed declaration (a column not a committed tensor of the graph, a
    column count that is not the table's width) is ``error``."""
    out: list[LookupRequest] = []
    for node, declared in _declared(graph, registry, "lookups", "lookups", error):
        where = f"op {node.op} node {node.name!r}"
        for r in declared:
            if not isinstance(r, LookupRequest):
                raise error(f"{where}: bad lookup {r!r}")
            if len(r.columns) != r.table.width:
                raise error(f"{where}: lookup {r.label!r}: table {r.table.name} has "
                            f"{r.table.width} columns, got {len(r.columns)}")
            for c in r.columns:
                if c not in graph.tensors or graph.tensors[c].kind != "committed":
                    raise error(f"{where}: lookup {r.label!r}: column {c!r} must be a "
                                "committed tensor of the graph")
        out += declared
    return out
