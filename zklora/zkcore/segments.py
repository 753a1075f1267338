"""Segments of a graph: the pieces phase 2 of a proof proves independently (DESIGN §3.9).

A model plugin declares segments while it builds its graph (``with g.segment("l0.fwd"):
…``, or `Graph.assign_segment` for nodes a builder it does not own made).  A segment is
a *contiguous* run of the graph's nodes (in topological order); every tensor that a node
of one segment reads and a node of another segment produces is a **boundary tensor** and
must be committed, so a claim on it made in one segment is discharged by the one opening
instead of by its producer.  A graph without declared segments is one segment (``""``)
and is proven exactly as before segments existed (no transcript fork).

Phase 2 proves segment i on its own transcript, `fork` of the state after phase 1 and
(i, id): the claims on its boundary outputs (`Segment.outputs`) are drawn from the fork,
its ops run in reverse, and the claims they leave on tensors of other segments land on
committed tensors (or public ones, evaluated on the spot).  Phase 3 absorbs every fork's
final state, in segment order, into the main transcript before the lookups and the
opening.  Relation proven by segment i: given the commitments (phase 1), the main-
transcript claims on its tensors (graph outputs, proven bounds) and the fork-drawn claims
on its boundary outputs, each of its nodes' relations holds at the points the schedule
reaches, reducing to claims on committed/public tensors.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import attrs

from .transcript import Transcript

#: the id of the one segment of a graph without declared segments
UNSEGMENTED = ""


@attrs.frozen
class Segment:
    """Segment ``index`` of a graph: ``id``, nodes ``start`` … ``stop − 1`` (indices
    into ``Graph.nodes``) and ``outputs``, the tensors its nodes produce that a node of a
    later segment reads (committed; each gets a claim drawn from the segment's fork)."""

    index: int
    id: str
    start: int
    stop: int
    outputs: tuple[str, ...] = ()

    @property
    def size(self) -> int:
        return self.stop - self.start

    def describe(self) -> list:
        return [self.id, self.start, self.stop]


def plan(graph: Any) -> list[Segment]:
    """The segments of ``graph`` (a `zklora.zkcore.graph.Graph`), in node order.  Raises
    `ValueError` naming the problem: a node outside every segment when some are declared,
    a segment split into two runs, or a boundary tensor that is not committed."""
    nodes = graph.nodes
    if not graph.node_segments:
        return [Segment(0, UNSEGMENTED, 0, len(nodes), ())]
    ids: list[str] = []
    starts: list[int] = []
    for i, n in enumerate(nodes):
        sid = graph.node_segments.get(n.name)
        if sid is None:
            raise ValueError(f"op {n.name!r} ({n.op}) is in no segment, but the graph "
                             "declares segments: every node must be in one")
        if not ids or ids[-1] != sid:
            if sid in ids:
                raise ValueError(f"segment {sid!r} is not contiguous: op {n.name!r} comes "
                                 f"after segment {ids[-1]!r} began")
            ids.append(sid)
            starts.append(i)
    starts.append(len(nodes))
    where: dict[str, int] = {}
    for k in range(len(ids)):
        for n in nodes[starts[k]:starts[k + 1]]:
            for t in n.outputs:
                where[t] = k
    outputs: list[dict[str, None]] = [{} for _ in ids]
    for k in range(len(ids)):
        for n in nodes[starts[k]:starts[k + 1]]:
            for t in n.inputs:
                p = where.get(t)
                if p is None or p == k:
                    continue
                if graph.tensors[t].kind != "committed":
                    raise ValueError(
                        f"tensor {t} crosses from segment {ids[p]!r} to segment {ids[k]!r} "
                        f"(op {n.name!r}) but is {graph.tensors[t].kind}: a segment "
                        "boundary tensor must be committed (Graph.commit_boundary)")
                outputs[p][t] = None
    return [Segment(k, ids[k], starts[k], starts[k + 1], tuple(outputs[k]))
            for k in range(len(ids))]


def crossing(graph: Any) -> list[str]:
    """Virtual tensors produced in one declared segment and read in another (what a model
    plugin must commit, `Graph.commit_boundary`), in graph order."""
    seg = {}
    for n in graph.nodes:
        for t in n.outputs:
            seg[t] = graph.node_segments.get(n.name)
    out: dict[str, None] = {}
    for n in graph.nodes:
        s = graph.node_segments.get(n.name)
        for t in n.inputs:
            if t in seg and seg[t] != s and graph.tensors[t].kind == "virtual":
                out[t] = None
    return [t for t in graph.tensors if t in out]


def fork(hash_name: str, protocol: bytes, base_state: bytes, index: int,
         segment_id: str) -> Transcript:
    """Segment ``index``'s transcript: ``H(state after phase 1, index, id)`` (the state
    absorbs the pair under its own label, so forks of different segments differ and
    none equals the main transcript)."""
    t = Transcript(protocol, hash_name)
    t.state = base_state
    t.observe("segment/fork", struct.pack("<Q", index) + segment_id.encode())
    return t


def describe(segs: Sequence[Segment]) -> list[list]:
    return [s.describe() for s in segs]
