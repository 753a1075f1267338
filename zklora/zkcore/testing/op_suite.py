"""Conformance suite for op plugins (docs/writing-an-op.md), generic over the op.

A third party checks its own op with a small graph that uses it and a witness for that
graph's inputs::

    from zklora.zkcore.testing.op_suite import OpHarness, parametrize

    SQUARE = OpHarness(Square(), build=square_graph, witness=square_inputs)

    @parametrize(SQUARE)
    def test_square(harness, check):
        check(harness)

or ``run_all(SQUARE)``, or any function of `CHECKS` on its own.  The op is given as an
`Op` instance (registered for the suite with `op_plugin` on top of the installed
plugins) or as a name together with ``registry=registry_with(my_plugin_module)``.
Every check raises `AssertionError` naming the violation:

* ``written_once`` — the op defines ``relations`` and no ``prove``/``verify`` pair;
* ``complete`` — the honest proof verifies under every profile of ``profiles``
  (default the ``fast`` and ``debug`` stacks);
* ``tamper_outputs`` — for every node of the op, each *committed* output with one
  element +1 (`zklora.zkcore.testing.tamper.assert_rejected`: the cheating prover runs
  with its self-checks off and the verifier must reject).  Virtual outputs have no
  witness of their own (their claims go to the op), so there is nothing to tamper;
* ``tamper_advice`` — each advice tensor the op commits through ``ctx.advice`` (range
  limbs included) with one element +1 as it is committed;
* ``bounds_proven`` — every committed output and advice tensor of the op that declares
  a bound is range-checked within it by the op (``ctx.range``), a column of one of the
  op's lookups into a table whose values lie within it, a proven bound of the graph
  (``Graph.prove_bound``), or listed in ``implied_bounds`` (a bound that follows from
  the relations).  A missing range check is invisible to the one-element tamper tests
  (a coordinated cheat needs it), so this structural check is what catches it;
* ``bad_params`` — every parameter override of ``bad_params`` and every graph of
  ``bad_graphs`` is refused: the prover raises `ConfigError`/`ProverError`, the verifier
  `ConfigError`/`VerificationError`/`ProofFormatError`, never another exception;
* ``malformed`` — generated mutations of each op node (each parameter removed, set to
  None or to a string, an unknown parameter, an input or output more or fewer, the first
  input's or output's shape doubled) either prove and verify, or are refused with those
  errors on both sides; the op's ``relations`` is also run directly on each mutated node
  in a verifier context, where it may raise only the verifier's errors.

Tamper and refusal checks run under ``tamper_profile`` (default ``debug``: the plain
commitment, fastest).  Honest proofs and the recorded advice are cached on the harness.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from unittest import mock

import attrs
import numpy as np
import torch

from .. import graph as graphlib
from .. import range as rangelib
from ..claims import Claim
from ..config import PROFILES, resolve
from ..errors import ConfigError, ProofFormatError, ProverError, VerificationError
from ..graph import Graph
from ..hookspecs import hookimpl
from ..op import Op, OpNode, ProverContext, VerifierContext
from ..plugins import Registry, registry, registry_with
from ..transcript import Transcript, VerifierChannel
from .tamper import assert_rejected, bump

__all__ = ["OpHarness", "CHECKS", "REMOVE", "PROVER_ERRORS", "VERIFIER_ERRORS",
           "check_written_once", "check_complete", "check_tamper_outputs",
           "check_tamper_advice", "check_bounds_proven", "check_bad_params",
           "check_malformed", "run_all", "parametrize", "op_plugin", "honest_plan", "Plan"]

#: what a prover may raise on a malformed graph
PROVER_ERRORS = (ConfigError, ProverError)
#: what a verifier may raise on a malformed graph or a bad proof
VERIFIER_ERRORS = (ConfigError, VerificationError, ProofFormatError)
#: in a ``bad_params`` override: remove the parameter
REMOVE = object()


class op_plugin:  # noqa: N801 - used like a function: registry_with(op_plugin(MyOp()))
    """A plugin object contributing the given op instances (for `registry_with`)."""

    def __init__(self, *ops: Op):
        self.ops = list(ops)

    @hookimpl
    def zk_ops(self):
        return list(self.ops)


GraphCase = Graph | tuple[Graph, Mapping[str, torch.Tensor]]


@attrs.define(eq=False)
class OpHarness:
    """An op under test.

    ``op``: the op instance (registered on top of the installed plugins with
    `op_plugin`) or its registry name (then ``registry`` must hold it, default the
    installed plugins).  ``build()`` returns a small graph using the op, outputs set;
    ``witness(seed)`` its input tensors.  ``bad_params``: parameter overrides (applied
    to every node of the op; `REMOVE` deletes one) that must be refused;
    ``bad_graphs``: named builders of malformed graphs (a `Graph`, or a graph and its
    inputs) that must be refused.  ``implied_bounds``: tensors whose declared bound the
    relations imply (see ``bounds_proven``).  ``tamper_index``: the flat index bumped.
    ``allow_refusal``: a tampered witness the cheating prover cannot prove at all
    counts as rejected (by default it must produce a proof for the verifier to reject).
    """

    op: Op | str
    build: Callable[[], Graph]
    witness: Callable[[int], Mapping[str, torch.Tensor]]
    registry: Registry | None = None
    profiles: Sequence[str] = ("fast", "debug")
    tamper_profile: str = "debug"
    statement: Mapping[str, Any] = attrs.field(factory=lambda: {"suite": "op"})
    bad_params: Sequence[Mapping[str, Any]] = ()
    bad_graphs: Mapping[str, Callable[[], GraphCase]] = attrs.field(factory=dict)
    implied_bounds: Sequence[str] = ()
    tamper_index: int = 0
    allow_refusal: bool = False
    seed: int = 0
    _cache: dict = attrs.field(factory=dict, init=False, repr=False)

    @property
    def op_name(self) -> str:
        return self.op if isinstance(self.op, str) else self.op.name

    def __str__(self) -> str:
        return f"op {self.op_name!r}"

    def reg(self) -> Registry:
        """The registry the op runs from."""
        if "reg" not in self._cache:
            if self.registry is not None:
                reg = self.registry
            elif isinstance(self.op, Op):
                reg = registry_with(op_plugin(self.op))
            else:
                reg = registry()
            reg.op(self.op_name)  # PluginError if absent
            self._cache["reg"] = reg
        return self._cache["reg"]

    def op_obj(self) -> Op:
        return self.reg().op(self.op_name)

    def backend(self, profile: str | None = None):
        profile = profile or self.tamper_profile
        key = ("backend", profile)
        if key not in self._cache:
            if profile not in PROFILES:
                raise AssertionError(f"unknown profile {profile!r}; known: {sorted(PROFILES)}")
            self._cache[key] = resolve(PROFILES[profile], self.reg())
        return self._cache[key]

    def graph(self) -> Graph:
        """A fresh graph from ``build`` (it must use the op)."""
        g = self.build()
        if not self.nodes(g):
            raise AssertionError(f"{self}: the harness graph has no node of this op")
        return g

    def nodes(self, g: Graph) -> list[OpNode]:
        return [n for n in g.nodes if n.op == self.op_name]

    def inputs(self) -> dict[str, torch.Tensor]:
        return {k: torch.as_tensor(v) for k, v in self.witness(self.seed).items()}

    def honest(self, profile: str | None = None):
        """(graph, inputs, proof, sections) of the honest proof under ``profile``."""
        profile = profile or self.tamper_profile
        key = ("honest", profile)
        if key not in self._cache:
            g, x = self.graph(), self.inputs()
            try:
                with _instrument(self.op_obj()) as plan:
                    proof, sections = graphlib.prove(g, x, self.backend(profile),
                                                     self.statement)
                    graphlib.verify(g, proof, self.backend(profile), self.statement, sections)
            except Exception as e:  # noqa: BLE001 - report any failure as the violation
                raise AssertionError(f"{self}: the honest proof under profile {profile!r} "
                                     f"does not verify: {type(e).__name__}: {e}") from e
            self._cache[key] = (g, x, proof, sections)
            self._cache[("plan", profile)] = plan
        return self._cache[key]


# -- instrumentation of the prover ----------------------------------------------------


@attrs.define
class Plan:
    """What the op's nodes did on the prover side: advice committed (name → (node,
    bound)), range checks (node, tensor, lo, hi) and lookups (node, columns, table)."""

    advice: dict[str, tuple[str, tuple[int, int] | None]] = attrs.field(factory=dict)
    ranges: list[tuple[str, str, int, int]] = attrs.field(factory=list)
    lookups: list[tuple[str, tuple[str, ...], Any]] = attrs.field(factory=list)


def honest_plan(h: OpHarness) -> Plan:
    """The advice, range checks and lookups of the op's nodes in the honest proof."""
    h.honest()
    return h._cache[("plan", h.tamper_profile)]


@contextlib.contextmanager
def _instrument(op: Op, tamper: tuple[str, int] | None = None) -> Iterator[Plan]:
    """Record what ``op``'s nodes do on the prover side (lookups: those made in
    `relations` and those the op declares in `Op.lookups`); with ``tamper=(name, index)``
    the advice tensor ``name`` gets +1 at flat ``index`` as it is committed."""
    plan = Plan()
    current: list[str] = []
    orig_run = op.run
    orig_advice = ProverContext.advice
    orig_lookup = ProverContext.require_lookup
    orig_limbs = rangelib.range_limbs
    orig_lookups = op.lookups

    def run(ctx, node, out_claims):
        current.append(node.name)
        try:
            return orig_run(ctx, node, out_claims)
        finally:
            current.pop()

    def advice(self, name, shape, bound, compute=None):
        if current:
            plan.advice[name] = (current[-1], None if bound is None else tuple(bound))
        if tamper is not None and name == tamper[0]:
            inner = compute

            def compute():
                v = torch.as_tensor(inner()).clone()
                v.reshape(-1)[tamper[1] % max(1, v.numel())] += 1
                return v

        return orig_advice(self, name, shape, bound, compute)

    def require_lookup(self, table, columns, label):
        if current:
            plan.lookups.append((current[-1], tuple(columns), table))
        return orig_lookup(self, table, columns, label)

    def lookups(node, params, specs):  # static lookups, declared from the node
        out = orig_lookups(node, params, specs)
        plan.lookups.extend((node.name, tuple(r.columns), r.table) for r in out)
        return out

    def range_limbs(ctx, checks):
        if ctx.prover and current:
            plan.ranges.extend((current[-1], rc.tensor, rc.lo, rc.hi) for rc in checks)
        return orig_limbs(ctx, checks)

    with contextlib.ExitStack() as stack:
        stack.enter_context(mock.patch.object(op, "run", run))
        stack.enter_context(mock.patch.object(ProverContext, "advice", advice))
        stack.enter_context(mock.patch.object(ProverContext, "require_lookup", require_lookup))
        stack.enter_context(mock.patch.object(op, "lookups", lookups))
        stack.enter_context(mock.patch.object(rangelib, "range_limbs", range_limbs))
        yield plan


# -- checks ---------------------------------------------------------------------------


def check_written_once(h: OpHarness) -> None:
    """The op states its relations once: ``relations`` defined, no ``prove``/``verify``."""
    cls = type(h.op_obj())
    if cls.relations is Op.relations:
        raise AssertionError(f"{h}: {cls.__name__} does not define relations(ctx, node, "
                             "out_claims)")
    for m in ("prove", "verify"):
        if hasattr(cls, m):
            raise AssertionError(f"{h}: {cls.__name__} defines {m}(): write the op once, "
                                 "as relations(ctx, node, out_claims)")


def check_complete(h: OpHarness) -> None:
    """The honest proof verifies under every profile of ``h.profiles``."""
    for p in h.profiles:
        h.honest(p)


def check_tamper_outputs(h: OpHarness) -> dict[str, str]:
    """Each committed output of each node of the op, one element +1: rejected.
    Returns the verifier's message per tensor."""
    g, x, _, _ = h.honest()
    out = {}
    for node in h.nodes(g):
        for t in node.outputs:
            if g.tensors[t].kind != "committed":
                continue
            i = h.tamper_index % g.tensors[t].size
            out[t] = _rejected(h, g, x, bump(t, i), f"output {t} +1 at flat index {i}")
    return out


def check_tamper_advice(h: OpHarness) -> dict[str, str]:
    """Each advice tensor the op commits, one element +1: rejected.  Returns the
    verifier's message per advice tensor."""
    g, x, _, _ = h.honest()
    out = {}
    for name in honest_plan(h).advice:
        with _instrument(h.op_obj(), tamper=(name, h.tamper_index)):
            out[name] = _rejected(h, g, x, lambda values: None,
                                  f"advice {name} +1 at flat index {h.tamper_index}")
    return out


def _rejected(h: OpHarness, g: Graph, x, tamper, what: str) -> str:
    try:
        return assert_rejected(g, x, h.backend(), h.statement, tamper,
                               allow_refusal=h.allow_refusal)
    except AssertionError as e:
        raise AssertionError(f"{h}: {what}: {e}") from None
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"{h}: {what}: {type(e).__name__} ({e}) instead of a "
                             "rejection") from e


def check_bounds_proven(h: OpHarness) -> None:
    """Every committed output and advice of the op with a declared bound is proven
    within it (module doc)."""
    g, _, _, _ = h.honest()
    plan = honest_plan(h)
    bounded: list[tuple[str, tuple[int, int]]] = []
    for node in h.nodes(g):
        for t in node.outputs:
            spec = g.tensors[t]
            if spec.kind == "committed" and spec.bound is not None:
                bounded.append((t, tuple(spec.bound)))
    bounded += [(a, b) for a, (_, b) in plan.advice.items() if b is not None]
    missing = []
    for t, (lo, hi) in bounded:
        if t in h.implied_bounds or t in g.proven_bounds:
            continue
        if any(rt == t and lo <= rlo and rhi <= hi for _, rt, rlo, rhi in plan.ranges):
            continue
        if any(_column_within(table, cols.index(t), lo, hi)
               for _, cols, table in plan.lookups if t in cols):
            continue
        missing.append(f"{t} [{lo}, {hi}]")
    if missing:
        raise AssertionError(f"{h}: declared bounds not proven by the op (no range check or "
                             f"lookup within them; list a bound the relations imply in "
                             f"implied_bounds): {', '.join(missing)}")


def _column_within(table, k: int, lo: int, hi: int) -> bool:
    col = np.asarray(table.columns()[k])
    return col.size == 0 or (lo <= int(col.min()) and int(col.max()) <= hi)


def check_bad_params(h: OpHarness) -> None:
    """Every override of ``bad_params`` and every graph of ``bad_graphs`` is refused on
    both sides with the project's errors."""
    for override in h.bad_params:
        g = h.graph()
        for i, n in enumerate(g.nodes):
            if n.op == h.op_name:
                params = dict(n.params)
                for k, v in override.items():
                    if v is REMOVE:
                        params.pop(k, None)
                    else:
                        params[k] = v
                g.nodes[i] = attrs.evolve(n, params=params)
        _refused(h, g, h.inputs(), f"parameters {_show(override)}", must=True)
    for name, build in h.bad_graphs.items():
        case = build()
        g, x = case if isinstance(case, tuple) else (case, h.inputs())
        _refused(h, g, dict(x), f"bad graph {name!r}", must=True)


def check_malformed(h: OpHarness) -> None:
    """Generated mutations of each node of the op are proven and verified, or refused
    with the project's errors on both sides (module doc); every mutation is tried and
    the failures are reported together."""
    g0 = h.graph()
    failures = []
    for idx, node in enumerate(g0.nodes):
        if node.op != h.op_name:
            continue
        for what, g, x in _mutations(h, idx, node):
            try:
                _refused(h, g, x, f"node {node.name!r} with {what}", must=False)
            except AssertionError as e:
                failures.append(str(e))
    if failures:
        raise AssertionError(f"{len(failures)} malformed node(s) not handled:\n"
                             + "\n".join(failures))


def _mutations(h: OpHarness, idx: int, node: OpNode):
    def variant(**changes):
        g = h.graph()
        g.nodes[idx] = attrs.evolve(g.nodes[idx], **changes)
        return g

    x = h.inputs()
    for k in node.params:
        p = dict(node.params)
        del p[k]
        yield f"parameter {k!r} removed", variant(params=p), x
        for bad in (None, "?"):
            yield f"parameter {k!r} = {bad!r}", variant(params={**node.params, k: bad}), x
    yield "an unknown parameter", variant(params={**node.params, "__unknown__": 1}), x
    if node.inputs:
        yield "an extra input", variant(inputs=node.inputs + node.inputs[:1]), x
        yield "its last input dropped", variant(inputs=node.inputs[:-1]), x
    extra = f"{node.name}/__extra__"
    if node.outputs:
        g = h.graph()
        g.tensor(extra, g.tensors[node.outputs[0]].shape, "committed")
        g.nodes[idx] = attrs.evolve(g.nodes[idx], outputs=node.outputs + (extra,))
        yield "an extra output", g, x
        yield "its last output dropped", variant(outputs=node.outputs[:-1]), x
        g = h.graph()
        _double(g, node.outputs[0])
        yield f"output {node.outputs[0]}'s shape doubled", g, x
    if node.inputs:
        g = h.graph()
        t = node.inputs[0]
        _double(g, t)
        xx = dict(x)
        if t in xx:
            v = xx[t]
            xx[t] = torch.cat([v, v], 0) if v.dim() else v.reshape(1).repeat(2)
        yield f"input {t}'s shape doubled", g, xx


def _double(g: Graph, t: str) -> None:
    spec = g.tensors[t]
    shape = (2 * spec.shape[0],) + spec.shape[1:] if spec.shape else (2,)
    g.tensors[t] = attrs.evolve(spec, shape=shape)
    if t in g.publics and isinstance(g.publics[t], torch.Tensor):  # not a `Structured`
        v = g.publics[t]
        g.publics[t] = torch.cat([v, v], 0) if v.dim() else v.reshape(1).repeat(2)


def _show(override: Mapping) -> str:
    return "{" + ", ".join(f"{k}: {'REMOVE' if v is REMOVE else repr(v)}"
                           for k, v in override.items()) + "}"


def _refused(h: OpHarness, g: Graph, x, what: str, *, must: bool) -> None:
    """The prover refuses ``g`` with `PROVER_ERRORS` (or, unless ``must``, proves it and
    the proof verifies); the verifier, given the harness graph's honest proof, refuses
    with `VERIFIER_ERRORS`; the op's relations run directly on each of its nodes in a
    verifier context raise nothing else."""
    be = h.backend()
    _, _, proof, sections = h.honest()
    try:
        mine = graphlib.prove(g, x, be, h.statement)
    except PROVER_ERRORS:
        mine = None
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"{h}: {what}: the prover raised {type(e).__name__} ({e}) "
                             "instead of ConfigError/ProverError") from e
    else:
        if must:
            raise AssertionError(f"{h}: {what}: the prover accepted it")
    if mine is not None:
        try:
            graphlib.verify(g, mine[0], be, h.statement, mine[1])
        except Exception as e:  # noqa: BLE001
            raise AssertionError(f"{h}: {what}: the prover proved it but the proof does not "
                                 f"verify: {type(e).__name__}: {e}") from e
    try:
        graphlib.verify(g, proof, be, h.statement, sections)
    except VERIFIER_ERRORS:
        pass
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"{h}: {what}: the verifier raised {type(e).__name__} ({e}) "
                             "instead of ConfigError/VerificationError/ProofFormatError") from e
    else:
        raise AssertionError(f"{h}: {what}: the verifier accepted the harness graph's proof")
    for node in h.nodes(g):
        _verifier_run(h, g, node, proof, what)


class _NoCommitments:
    """A committer that receives nothing: `_verifier_run` exercises the op's checks and
    reads, not the commitments (advice is only registered)."""

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _verifier_run(h: OpHarness, g: Graph, node: OpNode, proof: bytes, what: str) -> None:
    """Run the op's relations on ``node`` alone in a verifier context reading ``proof``,
    with a random claim on each output: only the verifier's errors may come out."""
    be = h.backend()
    ch = VerifierChannel(Transcript(graphlib.PROTOCOL_ID, be.hash), proof)
    ctx = VerifierContext(be.field, ch, dict(g.tensors), g.publics, _NoCommitments())
    rng = np.random.default_rng(h.seed)
    E = be.field.ext
    claims = {t: Claim(t, E.random(rng, g.tensors[t].num_vars), E.scalar(0))
              for t in node.outputs if t in g.tensors}
    try:
        h.op_obj().run(ctx, node, claims)
    except VERIFIER_ERRORS:
        pass
    except Exception as e:  # noqa: BLE001
        raise AssertionError(f"{h}: {what}: relations() on the verifier side raised "
                             f"{type(e).__name__} ({e}) instead of ConfigError/"
                             "VerificationError/ProofFormatError") from e


CHECKS: dict[str, Callable[[OpHarness], Any]] = {
    "written_once": check_written_once,
    "complete": check_complete,
    "tamper_outputs": check_tamper_outputs,
    "tamper_advice": check_tamper_advice,
    "bounds_proven": check_bounds_proven,
    "bad_params": check_bad_params,
    "malformed": check_malformed,
}


def run_all(h: OpHarness) -> None:
    """Every check of `CHECKS` (raises `AssertionError` on the first violation)."""
    for check in CHECKS.values():
        check(h)


def parametrize(*harnesses: OpHarness, checks: Sequence[str] | None = None):
    """A ``pytest.mark.parametrize("harness, check", …)`` decorator over every harness
    and every check (or the named ``checks``), with ids ``<op>-<check>``."""
    import pytest

    names = list(checks or CHECKS)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        raise ValueError(f"unknown checks {unknown}; known: {list(CHECKS)}")
    return pytest.mark.parametrize(
        ("harness", "check"),
        [pytest.param(h, CHECKS[n], id=f"{h.op_name}-{n}") for h in harnesses for n in names])
