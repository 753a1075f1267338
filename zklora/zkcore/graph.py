"""Tensor graphs and the scheduler that proves them.

Proof of a graph (both sides build the same `Graph` from the statement):

1. absorb the protocol id and the statement (graph description, profile, publics);
2. prover: run every op's integer ``forward`` in order, check declared bounds;
3. commit every committed tensor: those with a published commitment (statement)
   individually, all others as one stacked vector (`zklora.zkcore.stack`); advice
   committed mid-proof (``ctx.commit_advice``) is deferred into a pending group that is
   committed as one more stack right before the next challenge is drawn;
4. for each graph output draw a random point; the prover sends the MLE value
   (the verifier computes it itself for a public output);
5. prove ops in reverse order: all claims on each output are merged by the claim
   reduction sumcheck, handed to the op, and its input claims collected; a committed
   output's reduced claim is also opened;
6. prove every lookup request, grouped by table, with the configured argument;
7. turn every claim on a stacked tensor into a claim on its stack, reduce each stack's
   claims to one (batched sumchecks, `zklora.zkcore.stack.reduce_many_prove`), open
   all stacks and published tensors in one batched opening, evaluate every claim on a
   public tensor, and fail if any claim is left undischarged.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import torch

from . import claims as claimlib
from . import stack as stacklib
from .claims import Claim
from .commit import CheckItem, CommitmentScheme, Evaluation, OpenItem
from .errors import ProofFormatError, ProverError, VerificationError
from .field import Field
from .lookup import LookupArgument, LookupRequest
from .op import OpNode, ProverContext, TensorSpec, VerifierContext, check_bound
from .stack import StackLayout
from .transcript import ProverChannel, Transcript, VerifierChannel

PROTOCOL_ID = b"zklora/graph/v1"

Progress = Callable[[str, int, int], None]
#: ``profile(kind, name, seconds)``: called by `prove` after each phase ("forward",
#: "commitments", "outputs", "lookups", "openings"; name "") and each op node (kind =
#: the op's registry name, name = the node's name; claim reduction included).
Profile = Callable[[str, str, float], None]


@attrs.define
class Graph:
    """Tensors, op nodes in topological order, outputs and public tensor values."""

    tensors: dict[str, TensorSpec] = attrs.field(factory=dict)
    nodes: list[OpNode] = attrs.field(factory=list)
    outputs: list[str] = attrs.field(factory=list)
    publics: dict[str, torch.Tensor] = attrs.field(factory=dict)

    def tensor(self, name: str, shape: Sequence[int], kind: str,
               bound: tuple[int, int] | None = None, value: torch.Tensor | None = None) -> str:
        if name in self.tensors:
            raise ValueError(f"tensor {name} declared twice")
        self.tensors[name] = TensorSpec(name, tuple(int(d) for d in shape), kind, bound)
        if kind == "public":
            if value is None:
                raise ValueError(f"public tensor {name} needs a value")
            self.publics[name] = value.to(torch.int64).reshape(tuple(shape))
        return name

    def op(self, op: str, name: str, inputs: Sequence[str], outputs: Sequence[str],
           **params: Any) -> OpNode:
        for t in list(inputs) + list(outputs):
            if t not in self.tensors:
                raise ValueError(f"op {name}: unknown tensor {t}")
        for t in outputs:
            if self.producer(t) is not None:
                raise ValueError(f"tensor {t} produced twice")
        node = OpNode(op, name, tuple(inputs), tuple(outputs), dict(params))
        self.nodes.append(node)
        return node

    def producer(self, name: str) -> OpNode | None:
        for n in self.nodes:
            if name in n.outputs:
                return n
        return None

    def describe(self) -> dict:
        """Canonical description, absorbed into the transcript as part of the statement."""
        return {
            "tensors": [[s.name, list(s.shape), s.kind, list(s.bound) if s.bound else None]
                        for s in self.tensors.values()],
            "nodes": [[n.op, n.name, list(n.inputs), list(n.outputs), _jsonable(n.params)]
                      for n in self.nodes],
            "outputs": list(self.outputs),
            "publics": {k: hashlib.sha256(v.numpy().astype("<i8").tobytes()).hexdigest()
                        for k, v in sorted(self.publics.items())},
        }

    def check(self) -> None:
        for o in self.outputs:
            if self.tensors[o].kind == "virtual":
                raise ValueError(f"graph output {o} must be committed or public")
        for name, spec in self.tensors.items():
            if spec.kind == "virtual" and self.producer(name) is None:
                raise ValueError(f"virtual tensor {name} has no producer")


def _jsonable(x):
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(x.items())}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return x


def canonical_json(obj) -> bytes:
    return json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":")).encode()


@attrs.define
class Backend:
    """The protocol stack a proof runs under (from the profile)."""

    field: Field
    scheme: CommitmentScheme
    lookup: LookupArgument | None
    registry: Any
    hash: str = "blake3"


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
    return canonical_json({"num_vars": layout.num_vars,
                           "blocks": [[names[b.item], b.offset, b.num_vars]
                                      for b in layout.blocks if b.item is not None]})


class ProverCommitter:
    """Commits tensors and keeps the states for the final batched opening.

    Tensors with a published commitment are committed individually.  Every other
    tensor is deferred into a pending group; `flush` (run before every challenge, and
    at the start of the openings) commits the group as one stacked vector
    (`zklora.zkcore.stack.StackLayout`), so a proof holds one commitment per group of
    tensors committed between two challenges."""

    def __init__(self, scheme: CommitmentScheme):
        self.scheme = scheme
        self.states: dict[str, Any] = {}
        self.stacks: list[_Stack] = []
        self.where: dict[str, tuple[int, int]] = {}
        self._pending: list[tuple[str, np.ndarray]] = []

    def commit(self, ch: ProverChannel, spec: TensorSpec, table: np.ndarray,
               published: bytes | None = None) -> None:
        """Commit (deferred into the pending stack); a tensor with a ``published``
        commitment (part of the statement, e.g. the base model's) is committed on its
        own, checked against it and only absorbed."""
        if published is None:
            self._pending.append((spec.name, np.asarray(table)))
            return
        com, state = self.scheme.commit(table)
        if com != published:
            raise ProverError(f"tensor {spec.name} does not match its published commitment")
        ch.observe_public(f"commit:{spec.name}", com)
        self.states[spec.name] = state

    def flush(self, ch: ProverChannel) -> None:
        """Commit the pending tensors as one stacked vector and send the commitment."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        F = self.scheme.field
        names = [n for n, _ in pending]
        layout = StackLayout([F.length(F.flat(t)) for _, t in pending])
        k = len(self.stacks)
        ch.observe_public(f"stack/{k}", _stack_description(names, layout))
        S = layout.stack(F, [t for _, t in pending])
        com, state = self.scheme.commit(S)
        ch.send_bytes(f"commit:stack/{k}", com)
        self.stacks.append(_Stack(names, layout, com, S, state))
        for i, n in enumerate(names):
            self.where[n] = (k, i)


class VerifierCommitter:
    """Mirror of `ProverCommitter`."""

    def __init__(self, scheme: CommitmentScheme):
        self.scheme = scheme
        self.commitments: dict[str, bytes] = {}
        self.stacks: list[_Stack] = []
        self.where: dict[str, tuple[int, int]] = {}
        self._pending: list[TensorSpec] = []

    def receive(self, ch: VerifierChannel, spec: TensorSpec,
                published: bytes | None = None) -> None:
        if published is None:
            self._pending.append(spec)
            return
        n = self.scheme.commitment_size(spec.num_vars)
        if len(published) != n:
            raise VerificationError(f"published commitment of {spec.name} has {len(published)} "
                                    f"bytes, expected {n}")
        ch.observe_public(f"commit:{spec.name}", published)
        self.commitments[spec.name] = published

    def flush(self, ch: VerifierChannel) -> None:
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        names = [s.name for s in pending]
        layout = StackLayout([s.size for s in pending])
        k = len(self.stacks)
        ch.observe_public(f"stack/{k}", _stack_description(names, layout))
        com = ch.recv_bytes(f"commit:stack/{k}", self.scheme.commitment_size(layout.num_vars))
        self.stacks.append(_Stack(names, layout, com))
        for i, n in enumerate(names):
            self.where[n] = (k, i)


def _open_prove(ch: ProverChannel, E: Field, committer: ProverCommitter, specs,
                opened: Mapping[str, list[Claim]]) -> None:
    """One batched opening: published tensors' claims as they are; every stack's claims
    reduced to one (`zklora.zkcore.stack.reduce_prove`)."""
    committer.flush(ch)
    items = []
    per_stack: dict[int, list] = defaultdict(list)
    for name in specs:
        cl = opened.get(name)
        if not cl:
            continue
        if name in committer.states:
            cl = claimlib.dedupe(E, cl)
            items.append(OpenItem(committer.states[name],
                                  [Evaluation(c.point, c.value) for c in cl]))
        else:
            k, i = committer.where[name]
            lay = committer.stacks[k].layout
            per_stack[k].extend(lay.claim(E, i, c.point, c.value) for c in cl)
    ks = sorted(per_stack)
    sts = [committer.stacks[k] for k in ks]
    reduced = stacklib.reduce_many_prove(
        ch, E, [(st.table, st.layout.num_vars, per_stack[k]) for k, st in zip(ks, sts)],
        base=True, label="stack/reduce")
    items.extend(OpenItem(st.state, [Evaluation(r, v)]) for st, (r, v) in zip(sts, reduced))
    if items:
        committer.scheme.open(ch, items)


def _open_verify(ch: VerifierChannel, E: Field, committer: VerifierCommitter, specs,
                 opened: Mapping[str, list[Claim]]) -> None:
    """Mirror of `_open_prove`."""
    committer.flush(ch)
    items = []
    per_stack: dict[int, list] = defaultdict(list)
    for name in specs:
        cl = opened.get(name)
        if not cl:
            continue
        if name in committer.commitments:
            cl = claimlib.dedupe(E, cl)
            items.append(CheckItem(committer.commitments[name], specs[name].num_vars,
                                   [Evaluation(c.point, c.value) for c in cl]))
        else:
            k, i = committer.where[name]
            lay = committer.stacks[k].layout
            per_stack[k].extend(lay.claim(E, i, c.point, c.value) for c in cl)
    ks = sorted(per_stack)
    sts = [committer.stacks[k] for k in ks]
    reduced = stacklib.reduce_many_verify(
        ch, E, [(st.layout.num_vars, per_stack[k]) for k, st in zip(ks, sts)],
        label="stack/reduce")
    items.extend(CheckItem(st.commitment, st.layout.num_vars, [Evaluation(r, v)])
                 for st, (r, v) in zip(sts, reduced))
    if items:
        committer.scheme.verify(ch, items)


def forward(graph: Graph, inputs: Mapping[str, torch.Tensor], registry,
            progress: Progress | None = None) -> dict[str, torch.Tensor]:
    """Run the integer forward pass; returns every tensor's value."""
    values: dict[str, torch.Tensor] = dict(graph.publics)
    for name, spec in graph.tensors.items():
        if spec.kind != "public" and graph.producer(name) is None:
            if name not in inputs:
                raise ProverError(f"missing input tensor {name}")
            v = torch.as_tensor(inputs[name]).to(torch.int64)
            if tuple(v.shape) != spec.shape:
                raise ProverError(f"input {name} has shape {tuple(v.shape)}, expected {spec.shape}")
            check_bound(spec, v)
            values[name] = v
    for i, node in enumerate(graph.nodes):
        if progress:
            progress("forward", i, len(graph.nodes))
        op = registry.op(node.op)
        outs = op.forward(node, [values[t] for t in node.inputs])
        if len(outs) != len(node.outputs):
            raise ProverError(f"op {node.name} returned {len(outs)} outputs, "
                              f"expected {len(node.outputs)}")
        for t, v in zip(node.outputs, outs):
            spec = graph.tensors[t]
            if tuple(v.shape) != spec.shape:
                raise ProverError(f"op {node.name}: output {t} has shape {tuple(v.shape)}, "
                                  f"expected {spec.shape}")
            check_bound(spec, v)
            values[t] = v.to(torch.int64)
    return values


def _statement_bytes(statement: Mapping) -> bytes:
    return canonical_json(statement)


def prove(graph: Graph, inputs: Mapping[str, torch.Tensor], backend: Backend,
          statement: Mapping, progress: Progress | None = None,
          values: dict[str, torch.Tensor] | None = None,
          published: Mapping[str, bytes] | None = None,
          profile: Profile | None = None) -> tuple[bytes, list]:
    """Prove the graph; returns (proof stream bytes, sections).

    ``published`` maps committed tensors to commitments that are part of the statement
    (made beforehand, e.g. by ``zklora commit-model``): they are not sent in the proof.
    ``profile`` (optional) receives the time of every phase and op node (`Profile`).
    """
    published = dict(published or {})
    graph.check()
    F = backend.field
    E = F.ext
    reg = backend.registry
    clock = _Clock(profile)
    if values is None:
        values = forward(graph, inputs, reg, progress)
        clock.lap("forward")
    ch = ProverChannel(Transcript(PROTOCOL_ID, backend.hash))
    ch.observe_public("statement", _statement_bytes(statement))
    ch.observe_public("graph", canonical_json(graph.describe()))
    specs = dict(graph.tensors)
    committer = ProverCommitter(backend.scheme)
    ctx = ProverContext(F, ch, specs, graph.publics, dict(values), committer)
    ch.before_challenge = lambda: committer.flush(ch)

    with ch.section("commitments"):
        to_commit = [n for n, s in graph.tensors.items() if s.kind == "committed"]
        for k, name in enumerate(to_commit):
            if progress:
                progress("commitments", k, len(to_commit))
            committer.commit(ch, graph.tensors[name], ctx.table(name), published.get(name))
        committer.flush(ch)
    clock.lap("commitments")

    book: dict[str, list[Claim]] = defaultdict(list)
    with ch.section("outputs"):
        for o in graph.outputs:
            spec = specs[o]
            r = ch.challenges(f"out:{o}", E, spec.num_vars)
            v = ctx.evaluate(o, r)
            if spec.kind == "committed":
                ch.send_field(f"out:{o}/value", E, v)
            book[o].append(Claim(o, r, v))
    clock.lap("outputs")

    opened: dict[str, list[Claim]] = defaultdict(list)
    for i, node in enumerate(reversed(graph.nodes)):
        if progress:
            progress("prove", i, len(graph.nodes))
        with ch.section(f"op:{node.op}:{node.name}"):
            out_claims = {}
            for t in node.outputs:
                if book.get(t):
                    c = claimlib.reduce_prove(ch, E, ctx.table(t), book.pop(t), base=True,
                                              label=f"reduce:{t}")
                    out_claims[t] = c
                    if specs[t].kind == "committed":
                        opened[t].append(c)
            if not out_claims:
                continue
            ctx.new_claims = []
            returned = backend.registry.op(node.op).prove(ctx, node, out_claims)
            for c in _union(returned, ctx.new_claims):
                book[c.tensor].append(c)
        clock.lap(node.op, node.name)

    if progress:
        progress("lookups", 0, 1)
    with ch.section("lookups"):
        _run_lookups(ctx, backend, book, prover=True)
    clock.lap("lookups")

    if progress:
        progress("openings", 0, 1)
    with ch.section("openings"):
        for name, cl in list(book.items()):
            kind = specs[name].kind
            if kind == "committed":
                opened[name].extend(cl)
                book.pop(name)
            elif kind == "public":
                book.pop(name)
        _open_prove(ch, E, committer, specs, opened)
    clock.lap("openings")
    leftover = {k: v for k, v in book.items() if v}
    if leftover:
        raise ProverError(f"undischarged claims on {sorted(leftover)}")
    return ch.proof_bytes(), ch.sections


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


def verify(graph: Graph, proof: bytes, backend: Backend, statement: Mapping,
           sections: Sequence | None = None,
           published: Mapping[str, bytes] | None = None) -> None:
    """Verify a proof stream against the graph and statement; raise on failure.
    ``published``: commitments the verifier already trusts (see `prove`)."""
    published = dict(published or {})
    for name in published:
        if name not in graph.tensors or graph.tensors[name].kind != "committed":
            raise VerificationError(f"published commitment for unknown tensor {name!r}")
    graph.check()
    F = backend.field
    E = F.ext
    reg = backend.registry
    ch = VerifierChannel(Transcript(PROTOCOL_ID, backend.hash), proof)
    ch.observe_public("statement", _statement_bytes(statement))
    ch.observe_public("graph", canonical_json(graph.describe()))
    specs = dict(graph.tensors)
    committer = VerifierCommitter(backend.scheme)
    ctx = VerifierContext(F, ch, specs, graph.publics, committer)
    ch.before_challenge = lambda: committer.flush(ch)
    rec = _SectionRecorder(ch)

    with rec.section("commitments"):
        for spec in graph.tensors.values():
            if spec.kind == "committed":
                committer.receive(ch, spec, published.get(spec.name))
        committer.flush(ch)

    book: dict[str, list[Claim]] = defaultdict(list)
    with rec.section("outputs"):
        for o in graph.outputs:
            spec = specs[o]
            r = ch.challenges(f"out:{o}", E, spec.num_vars)
            if spec.kind == "committed":
                v = ch.recv_scalar(f"out:{o}/value", E)
            else:
                v = ctx.eval_public(o, r)
            book[o].append(Claim(o, r, v))

    opened: dict[str, list[Claim]] = defaultdict(list)
    for node in reversed(graph.nodes):
        with rec.section(f"op:{node.op}:{node.name}"):
            out_claims = {}
            for t in node.outputs:
                if book.get(t):
                    c = claimlib.reduce_verify(ch, E, specs[t].num_vars, book.pop(t),
                                               label=f"reduce:{t}")
                    out_claims[t] = c
                    if specs[t].kind == "committed":
                        opened[t].append(c)
                    elif specs[t].kind == "public":
                        _check_public(ctx, c)
            if not out_claims:
                continue
            ctx.new_claims = []
            returned = reg.op(node.op).verify(ctx, node, out_claims)
            for c in _union(returned, ctx.new_claims):
                book[c.tensor].append(c)

    with rec.section("lookups"):
        _run_lookups(ctx, backend, book, prover=False)

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
        _open_verify(ch, E, committer, specs, opened)
    leftover = {k: v for k, v in book.items() if v}
    if leftover:
        raise VerificationError(f"undischarged claims on {sorted(leftover)}")
    ch.finish()
    if sections is not None and [tuple(s) for s in sections] != rec.sections:
        raise ProofFormatError("proof section index does not match the proof stream")


class _SectionRecorder:
    """Records verifier-side section byte ranges to compare with the file's index."""

    def __init__(self, ch: VerifierChannel):
        self.ch = ch
        self.sections: list[tuple[str, int, int]] = []

    def section(self, name: str):
        rec = self

        class _S:
            def __enter__(self):
                self.start = rec.ch.pos

            def __exit__(self, *exc):
                rec.sections.append((name, self.start, rec.ch.pos))
                return False

        return _S()


def _union(returned, recorded) -> list[Claim]:
    """Claims an op returned plus those it recorded through ``ctx.claim``, once each."""
    out = list(recorded)
    ids = {id(c) for c in out}
    out.extend(c for c in (returned or []) if id(c) not in ids)
    return out


def _check_public(ctx: VerifierContext, c: Claim) -> None:
    if not ctx.E.equal(ctx.eval_public(c.tensor, c.point), c.value):
        raise VerificationError(f"claim on public tensor {c.tensor} does not match its value")


def _group(requests: Sequence[LookupRequest]):
    groups: dict[str, list[LookupRequest]] = defaultdict(list)
    tables = {}
    for r in requests:
        groups[r.table.name].append(r)
        tables[r.table.name] = r.table
    return [(tables[k], groups[k]) for k in sorted(groups)]


def _run_lookups(ctx: ProverContext | VerifierContext, backend: Backend, book,
                 prover: bool) -> None:
    """Prove (or verify) every lookup request, one argument per table; the claims the
    arguments make go into ``book``."""
    if not ctx.lookups:
        return
    if backend.lookup is None:
        err = ProverError if prover else VerificationError
        raise err("the graph needs lookups but no lookup argument is configured")
    run = backend.lookup.prove if prover else backend.lookup.verify
    for table, reqs in _group(ctx.lookups):
        ctx.new_claims = []
        run(ctx, table, reqs)
        for c in ctx.new_claims:
            book[c.tensor].append(c)
