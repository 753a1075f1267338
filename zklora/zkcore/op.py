"""Op protocol and the one context ops run in, on either side.

An op is claims-in, claims-out (deep-prove style), registered by hook, and written
**once** (DESIGN §3.8):

* ``forward(node, inputs)`` — the exact integer semantics (torch int64), the spec;
* ``relations(ctx, node, out_claims)`` — given one claim per output that has claims,
  state the op's relations through the context's services and return claims on its
  inputs (and advice);
* ``range_checks(node, params, specs)`` (optional) — the range checks known from the
  node alone; the scheduler commits their limbs in the commitment phase, with
  everything else, and proves them before the ops run (`zklora.zkcore.graph`);
* ``lookups(node, params, specs)`` (optional) — the lookups known from the node alone
  (`zklora.zkcore.lookup.LookupRequest`); the scheduler commits their multiplicities in
  the commitment phase too and runs the lookup argument after the ops.

The kernel runs ``relations`` twice, with a `ProverContext` (which computes and sends
every message) and with a `VerifierContext` (which reads the same messages from the
proof and checks them).  The services have one signature on both sides — `reveal`,
`exchange`, `run_sumcheck`, `zerocheck` (in `zklora.zkcore.relations`), `check`,
`challenge`, `advice`, `range`, `require_lookup`, `claim` — so labels, transcript order
and claim bookkeeping come from the one declaration.  Prover-only work (the integer
witness, folded tables) is passed as a zero-argument callable that only the prover
calls; ``ctx.prover`` is there for the rare case that needs it.

Ops never touch a concrete field type or backend: they use ``ctx.F`` / ``ctx.E`` (base
and challenge field) and the services, so one op runs under every profile.

A node is validated against its op's declaration before anything is proven: typed
parameters (``Params``, an attrs class of `param` fields), inputs and outputs by role
(``input_roles`` / ``output_roles`` of `Role`: count, kind, shape, bound) and the op's
``validate``.  `Op.check` does it once per node — from `Graph.check` given a registry,
on both sides before any proof byte, from `graph.forward` and from `Op.run` — raising
`ConfigError` (prover) or `VerificationError` (verifier) that names the op, the node and
the parameter; ``self.params(node)`` and ``self.io(node)`` then give the typed values.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any, ClassVar

import attrs
import numpy as np
import torch

from . import mle, scratch, selfcheck, sumcheck
from . import zk as zklib
from .claims import Claim, blind_value
from .errors import ConfigError, ProverError, VerificationError
from .field import Field
from .lookup import LookupRequest, Table
from .range import RangeCheck
from .structured import Structured
from .transcript import ProverChannel, VerifierChannel

KINDS = ("committed", "public", "virtual")
#: `Op.zk_blinds`: an output claim's blinds end in the op's own hidden sumchecks
ABSORB = "absorb"
#: `Op.zk_blinds`: an output claim's blinds may reach the claims on the op's inputs
PASS = "pass"


@attrs.frozen
class TensorSpec:
    """A tensor of the graph.

    ``kind``: *committed* (claims discharged by openings), *public* (the verifier
    evaluates it), *virtual* (claims handed to its producer).  ``bound`` is the
    declared inclusive integer range, checked on the prover side after forward.
    """

    name: str
    shape: tuple[int, ...]
    kind: str
    bound: tuple[int, int] | None = None

    def __attrs_post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"tensor {self.name}: kind {self.kind!r} not in {KINDS}")
        for d in self.shape:
            mle.log2_exact(int(d))

    @property
    def num_vars(self) -> int:
        return mle.num_vars(self.shape)

    @property
    def size(self) -> int:
        return int(math.prod(self.shape))   # (numpy's prod: 30 µs a call)


@attrs.frozen
class OpNode:
    """One application of op ``op`` (registry name) in the graph."""

    op: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: Mapping[str, Any] = attrs.field(factory=dict)
    #: the parsed parameters (`Op.check`), keyed by op class: (params seen, typed)
    _typed: dict = attrs.field(factory=dict, init=False, eq=False, repr=False)


# -- typed parameters and input/output roles -------------------------------------------
#
# An op declares its parameters as an attrs class ``Params`` whose fields are made with
# `param` (type, range, default) and its inputs and outputs by role name
# (``input_roles``, ``output_roles``).  `Op.check` validates a node against them once per
# node, on both sides before any proof byte (`Graph.check` with a registry, `Op.run`,
# `zklora.zkcore.graph.forward`); ``self.params(node)`` is then the typed parameters
# (cached on the node) and ``self.io(node)`` its tensors by role.

_PARAM_KINDS = ("int", "bool", "float", "ints", "floats", "str", "any")


class _BadParam(ValueError):
    """A parameter value of the wrong type or outside its allowed values."""


def _as_int(v, what: str = "an integer") -> int:
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | np.integer):
        if isinstance(v, float | np.floating) and float(v).is_integer():
            return int(v)
        raise _BadParam(f"expected {what}, got {v!r}")
    return int(v)


def _as_float(v) -> float:
    if isinstance(v, bool | np.bool_) or not isinstance(v, int | float | np.integer
                                                        | np.floating):
        raise _BadParam(f"expected a number, got {v!r}")
    f = float(v)
    if not np.isfinite(f):
        raise _BadParam(f"expected a finite number, got {v!r}")
    return f


def _convert(kind: str, v, lo, hi, choices, length, optional=False):
    if v is None and optional:
        return None
    if kind == "int":
        out = _as_int(v)
        vals = [out]
    elif kind == "bool":
        if isinstance(v, bool | np.bool_) or (isinstance(v, int | np.integer) and v in (0, 1)):
            return bool(v)
        raise _BadParam(f"expected a bool, got {v!r}")
    elif kind == "float":
        out = _as_float(v)
        vals = [out]
    elif kind in ("ints", "floats"):
        if isinstance(v, str | bytes) or not isinstance(v, Sequence | np.ndarray):
            raise _BadParam(f"expected a list of {kind[:-1]}s, got {v!r}")
        out = tuple(_as_int(x) if kind == "ints" else _as_float(x) for x in v)
        if length is not None and len(out) != length:
            raise _BadParam(f"expected {length} values, got {len(out)}")
        vals = list(out)
    elif kind == "str":
        if not isinstance(v, str):
            raise _BadParam(f"expected a string, got {v!r}")
        out = v
        vals = []
    else:
        return v
    if choices is not None and out not in choices:
        raise _BadParam(f"{v!r} not one of {list(choices)}")
    for x in vals:
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            rng = f"[{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]"
            raise _BadParam(f"{v!r} outside {rng}")
    return out


def param(kind: str = "int", *, default: Any = attrs.NOTHING, lo=None, hi=None,
          choices: Sequence | None = None, length: int | None = None,
          optional: bool = False, doc: str = ""):
    """A field of an op's ``Params`` class: ``kind`` one of ``int``, ``bool``, ``float``,
    ``ints``/``floats`` (a list, converted to a tuple; ``length`` fixed if given),
    ``str``, ``any`` (structured data, kept as given); ``lo``/``hi`` an inclusive range
    (each element for lists), ``choices`` the allowed values; ``optional``: None is
    allowed (and the default); no ``default`` = required.  A default is not converted."""
    if kind not in _PARAM_KINDS:
        raise ValueError(f"param kind {kind!r} not in {_PARAM_KINDS}")
    if optional and default is attrs.NOTHING:
        default = None
    parts = [kind]
    if lo is not None or hi is not None:
        parts.append(f"in [{'-inf' if lo is None else lo}, {'inf' if hi is None else hi}]")
    if choices is not None:
        parts.append(f"one of {list(choices)}")
    if length is not None:
        parts.append(f"of length {length}")
    if optional:
        parts.append("or None")
    if default is not attrs.NOTHING:
        parts.append(f"default {default!r}")
    return attrs.field(default=default, kw_only=True, metadata={
        "zk_param": (kind, lo, hi, None if choices is None else tuple(choices), length,
                     optional),
        "zk_doc": " ".join(parts) + (f": {doc}" if doc else "")})


@attrs.frozen
class NoParams:
    """The parameters of an op that takes none."""


def params_help(cls: type) -> str:
    """One line per parameter of a ``Params`` class: name, kind, range, default."""
    return "; ".join(f"{f.name}: {f.metadata.get('zk_doc', 'any')}" for f in attrs.fields(cls)
                     ) or "none"


def parse_params(cls: type, raw: Mapping[str, Any]):
    """``raw`` (a node's params) as an instance of the attrs class ``cls``; `_BadParam`
    (a ValueError) names the unknown, missing or ill-typed parameter."""
    fields = {f.name: f for f in attrs.fields(cls)}
    unknown = sorted(str(k) for k in raw if k not in fields)
    if unknown:
        raise _BadParam(f"unknown parameter {unknown[0]!r} (parameters: {params_help(cls)})")
    kw = {}
    for name, f in fields.items():
        if name not in raw:
            if f.default is attrs.NOTHING:
                raise _BadParam(f"missing parameter {name!r} ({f.metadata.get('zk_doc', '')})")
            continue
        spec = f.metadata.get("zk_param")
        try:
            kw[name] = raw[name] if spec is None else _convert(spec[0], raw[name], *spec[1:])
        except (TypeError, ValueError) as e:
            raise _BadParam(f"parameter {name!r}: {e} ({f.metadata.get('zk_doc', '')})") \
                from None
    try:
        return cls(**kw)
    except (TypeError, ValueError) as e:
        raise _BadParam(f"bad parameters: {e}") from None


@attrs.frozen
class Role:
    """A declared input or output of an op: its ``name`` (``"X*"``: one or more,
    ``"X?"``: optional; the last role only) and what the kernel checks of its
    tensor(s): ``kind`` (a tensor kind or a tuple of kinds), ``shape`` (the name of
    another role whose shape it has, or a function of (shapes by role, params) giving
    it), ``bounded`` (a declared bound is required)."""

    name: str
    kind: str | tuple[str, ...] | None = None
    shape: str | Callable | None = None
    bounded: bool = False

    @property
    def key(self) -> str:
        return self.name.rstrip("*?")


def _roles(roles: Sequence[str | Role]) -> list[Role]:
    return [r if isinstance(r, Role) else Role(r) for r in roles]


def _role_counts(roles: Sequence[Role]) -> tuple[int, int | None]:
    """(min, max) number of tensors for ``roles``."""
    if not roles:
        return 0, 0
    last, fixed = roles[-1].name, len(roles) - 1
    if last.endswith("*"):
        return fixed + 1, None
    if last.endswith("?"):
        return fixed, fixed + 1
    return len(roles), len(roles)


def _bind(roles: Sequence[Role], names: Sequence[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, r in enumerate(roles):
        if r.name.endswith("*"):
            out[r.key] = tuple(names[i:])
        elif r.name.endswith("?"):
            out[r.key] = names[i] if i < len(names) else None
        else:
            out[r.key] = names[i]
    return out


class IO:
    """A node's tensors by role: ``io.X``, ``io["Y"]`` (a variadic role gives a tuple,
    a missing optional one None)."""

    def __init__(self, roles: Mapping[str, Any]):
        self.roles = dict(roles)

    def __getattr__(self, role: str):
        roles = self.__dict__.get("roles", {})
        if role in roles:
            return roles[role]
        raise AttributeError(role)

    def __getitem__(self, role: str):
        return self.roles[role]


class Op(ABC):
    """An operation of the tensor graph (see module doc).

    ``Params``: an attrs class of `param` fields, the op's parameters (`NoParams`: none;
    None, the default: not declared, ``node.params`` passed through unchecked);
    ``input_roles`` / ``output_roles``: the role names of the node's inputs and outputs
    in order (``"X*"`` one or more, ``"X?"`` optional, last only; None: not checked).
    """

    name: str
    Params: ClassVar[type | None] = None
    input_roles: ClassVar[tuple[str, ...] | None] = None
    output_roles: ClassVar[tuple[str, ...] | None] = None

    def validate(self, node: OpNode, params: Any, specs: Mapping[str, TensorSpec]) -> None:
        """Op-specific checks of a node beyond its parameters' types and its counts of
        inputs and outputs (shapes, kinds, parameters that depend on each other): raise
        `ValueError` naming the problem.  Run by `check` on both sides; it may read only
        ``params`` and the specs of the node's own tensors (the result is cached on them)."""
        return None

    def range_checks(self, node: OpNode, params: Any, specs: Mapping[str, TensorSpec]
                     ) -> Sequence[RangeCheck]:
        """The node's *static* range checks: tensors and bounds known from the node, its
        typed ``params`` and the ``specs`` of its own tensors alone (a rescale's remainder
        in [0, 2^s), an output in its declared bound, …).  The scheduler proves them for
        every node, on both sides, outside `relations`: their limbs join the commitment
        phase's one stack and their recomposition points are proven together with the
        graph's proven bounds, before any op runs (identical checks — same tensor, same
        [lo, hi] — once).  Use ``ctx.range`` in `relations` only for a check that depends
        on something known mid-proof."""
        return ()

    def lookups(self, node: OpNode, params: Any, specs: Mapping[str, TensorSpec]
                ) -> Sequence[LookupRequest]:
        """The node's *static* lookups: `LookupRequest`s (table, committed columns,
        label) known from the node, its typed ``params`` and the ``specs`` of its own
        tensors alone.  The scheduler proves them for every node, outside `relations`:
        their multiplicities are counted from the witness in the commitment phase and
        join its one stack, and the lookup argument runs once for every table after the
        ops (`zklora.zkcore.graph`).  Use ``ctx.require_lookup`` in `relations` only for
        a lookup that depends on something known mid-proof (its multiplicities then
        need a late commitment of their own)."""
        return ()

    #: zero knowledge (docs/zero-knowledge.md §5.1), declared by the op's plugin: how its
    #: ``relations`` treat a *blinded* claim on an output (T̃(p) + B = v, the blind B
    #: registered with the context, ``ctx.blind_of(p, v)``) and the masked values the
    #: context's services return.  ``None`` (the default): not blind-aware — claims on
    #: its outputs are never blinded and what it reveals is sent plain.  Otherwise the op
    #: hands every output claim's (point, value), and every value ``ctx.reveal`` and
    #: `relations.vanishes` return, on unchanged to kernel helpers that carry blinds
    #: (`einsum`, ``relations.*``, ``ctx.claim(..., ctx.blind_of(p, v))``), or carries the
    #: blind itself where it computes on a value (``ctx.register_blind`` for the value it
    #: computes): `ABSORB` — an output claim's blind ends in the op's own hidden
    #: sumchecks (or the op never reads its output claims: committed outputs, opened);
    #: `PASS` — it may reach the claims on the op's inputs (so those must be able to carry
    #: blinds too: the scheduler's fixpoint, `graph._hidden_tensors`).
    zk_blinds: ClassVar[str | None] = None

    def blinds(self, node: OpNode, specs: Mapping[str, TensorSpec]) -> str | None:
        """``zk_blinds`` for this node (an op whose handling depends on the node
        overrides it; read by the scheduler, the same on both sides)."""
        return self.zk_blinds

    def masks_reveals(self, node: OpNode) -> bool:
        """The node hands the values ``ctx.reveal`` and `relations.vanishes` return on
        unchanged (or carries their blinds itself), so they may be masked
        (``ctx.carries_blinds`` while it runs): by default any blind-aware op."""
        return self.zk_blinds is not None

    def roles(self, node: OpNode, params: Any, specs: Mapping[str, TensorSpec] | None
              ) -> tuple[Sequence[str | Role] | None, Sequence[str | Role] | None]:
        """(input roles, output roles) of ``node``: ``input_roles``/``output_roles``
        unless the op's roles depend on its parameters (or on ``specs``, given when the
        graph is checked)."""
        return self.input_roles, self.output_roles

    def check(self, node: OpNode, specs: Mapping[str, TensorSpec] | None = None,
              error: type[Exception] = ConfigError) -> Any:
        """Validate ``node`` against the op's declaration — typed parameters, input and
        output counts, and with ``specs`` the roles' kinds, shapes and bounds and
        `validate` — raising ``error`` that names the op, the node and the problem.
        Returns the typed parameters (parsed once per node)."""
        where = f"op {self.name} node {node.name!r}"
        try:
            p = self._parsed(node)
        except _BadParam as e:
            raise error(f"{where}: {e}") from None
        seen = None
        if specs is not None:
            for t in node.inputs + node.outputs:
                if t not in specs:
                    raise error(f"{where}: unknown tensor {t!r}")
            seen = (dict(node.params), tuple(specs[t] for t in node.inputs + node.outputs))
            if node._typed.get(("valid", type(self))) == seen:
                return p    # validated before against these very specs and parameters
        try:
            declared = self.roles(node, p, specs)
            bound: list[tuple[Role, Any]] = []
            for what, roles, names in zip(("input", "output"), declared,
                                          (node.inputs, node.outputs)):
                if roles is None:
                    continue
                roles = _roles(roles)
                lo, hi = _role_counts(roles)
                if len(names) < lo or (hi is not None and len(names) > hi):
                    want = f"{lo}" if lo == hi else f"{lo}+" if hi is None else f"{lo}..{hi}"
                    raise ValueError(f"{len(names)} {what}s, expected {want} "
                                     f"({', '.join(r.name for r in roles) or 'none'})")
                b = _bind(roles, names)
                bound += [(r, b[r.key]) for r in roles]
            if seen is not None:
                self._check_roles(bound, specs, p)
                self.validate(node, p, specs)
                node._typed[("valid", type(self))] = seen
        except (ValueError, KeyError, IndexError, TypeError) as e:
            raise error(f"{where}: {e}") from None
        return p

    @staticmethod
    def _check_roles(bound: list[tuple[Role, Any]], specs, p) -> None:
        shapes = {r.key: tuple(specs[t].shape) for r, t in bound if isinstance(t, str)}
        for r, ts in bound:
            for t in (ts if isinstance(ts, tuple) else () if ts is None else (ts,)):
                sp = specs[t]
                kinds = (r.kind,) if isinstance(r.kind, str) else r.kind
                if kinds is not None and sp.kind not in kinds:
                    raise ValueError(f"{r.key} {t} must be {' or '.join(kinds)}, not {sp.kind}")
                if r.bounded and sp.bound is None:
                    raise ValueError(f"{r.key} {t} needs a declared bound")
                if isinstance(r.shape, str) and r.shape not in shapes:
                    raise ValueError(f"role {r.key}: shape of undeclared role {r.shape!r}")
                if r.shape is not None:
                    want = shapes[r.shape] if isinstance(r.shape, str) else \
                        tuple(r.shape(shapes, p))
                    if tuple(sp.shape) != want:
                        raise ValueError(f"{r.key} {t} has shape {tuple(sp.shape)}, expected "
                                         f"{want}")

    def _parsed(self, node: OpNode):
        if self.Params is None:
            return node.params
        hit = node._typed.get(type(self))
        if hit is not None and hit[0] == node.params:
            return hit[1]
        p = parse_params(self.Params, node.params)
        node._typed[type(self)] = (dict(node.params), p)
        return p

    def params(self, node: OpNode) -> Any:
        """The node's typed parameters (an instance of ``Params``; `ConfigError` if they
        do not parse)."""
        try:
            return self._parsed(node)
        except _BadParam as e:
            raise ConfigError(f"op {self.name} node {node.name!r}: {e}") from None

    def io(self, node: OpNode, specs: Mapping[str, TensorSpec] | None = None) -> IO:
        """The node's input and output tensors by role (`roles`; ``specs`` for ops whose
        roles depend on the shapes)."""
        out: dict[str, Any] = {}
        for roles, names in zip(self.roles(node, self.params(node), specs),
                                (node.inputs, node.outputs)):
            if roles is not None:
                out.update(_bind(_roles(roles), names))
        return IO(out)

    @abstractmethod
    def forward(self, node: OpNode, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Integer semantics: outputs (and advice) in the order of ``node.outputs``."""

    def relations(self, ctx: ProverContext | VerifierContext, node: OpNode,
                  out_claims: Mapping[str, Claim]) -> list[Claim]:
        """State the op's relations for the given output claims (run on both sides);
        return the input claims."""
        raise NotImplementedError

    def run(self, ctx: ProverContext | VerifierContext, node: OpNode,
            out_claims: Mapping[str, Claim]) -> list[Claim]:
        """What the scheduler calls: `relations` (ops not yet written once still
        provide the older ``prove``/``verify`` pair), after `check` (the side's error)."""
        self.check(node, ctx.specs, ConfigError if ctx.prover else VerificationError)
        if type(self).relations is not Op.relations:
            return self.relations(ctx, node, out_claims)
        return (self.prove if ctx.prover else self.verify)(ctx, node, out_claims)


class _Context:
    """Services shared by both sides."""

    F: Field
    E: Field
    specs: dict[str, TensorSpec]
    publics: dict[str, torch.Tensor]
    lookups: list[LookupRequest]

    def spec(self, name: str) -> TensorSpec:
        return self.specs[name]

    # -- zero knowledge (`zklora.zkcore.zk`) ----------------------------------------

    #: the ZK session the context was made in (None: zero knowledge off)
    zk: zklib.Session | None = None

    def _zk_init(self) -> None:
        self.zk = zklib.current()
        self.zk_pool = zklib.MaskPool()
        self._zk_pending: list[Claim] = []
        self._new_claims: list[Claim] = []

    @property
    def new_claims(self) -> list[Claim]:
        """Claims recorded by the running op (`claim`); the scheduler resets the list
        before each op, lookup argument or range check and files what it holds after.
        Claims on ZK masks made outside such a run (a claim reduction's mask) are kept
        pending and join the next list the scheduler installs, so none is lost."""
        return self._new_claims

    @new_claims.setter
    def new_claims(self, value: list[Claim]) -> None:
        self._new_claims = value
        pending = self.__dict__.get("_zk_pending")
        if pending:
            value.extend(pending)
            pending.clear()

    def zk_claim(self, c: Claim) -> None:
        """A claim on a ZK mask chunk: filed with the running op's claims and, in case
        the scheduler already filed those, again with the next run's (claims at one
        point are merged before the opening)."""
        self._new_claims.append(c)
        self._zk_pending.append(c)

    def eval_public(self, name: str, point: np.ndarray) -> np.ndarray:
        """MLE of a public tensor at ``point`` (the verifier computes this itself; a
        `Structured` one in closed form, without materialising it)."""
        v = self.publics[name]
        if isinstance(v, Structured):
            return v.evaluate(self.E, point)
        return mle.evaluate(self.E, self.F.from_ints(v.reshape(-1)), point, base=True)

    def _declare_advice(self, name: str, shape: Sequence[int],
                        bound: tuple[int, int] | None) -> TensorSpec:
        """Register a new committed advice tensor's spec (both sides)."""
        if name in self.specs:
            raise (ProverError if self.prover else VerificationError)(
                f"tensor {name} already exists")
        spec = TensorSpec(name, tuple(int(d) for d in shape), "committed", bound)
        self.specs[name] = spec
        return spec

    # -- services with one signature on both sides (see module doc) -----------------

    prover: bool = False

    def challenge(self, label: str) -> np.ndarray:
        """One challenge-field element from the transcript."""
        return self.ch.challenge(label, self.E)

    def challenges(self, label: str, n: int) -> np.ndarray:
        """``n`` challenge-field elements (a point) from the transcript."""
        return self.ch.challenges(label, self.E, n)

    def label(self, node: str, kind: str) -> str:
        """A transcript label derived from a node's name and a relation kind, unique in
        the proof: ``{node}/{kind}``, then ``{node}/{kind}#2``, … (the same sequence on
        both sides: one code path)."""
        seen = self.__dict__.setdefault("_labels", {})
        k = seen[node, kind] = seen.get((node, kind), 0) + 1
        return f"{node}/{kind}" if k == 1 else f"{node}/{kind}#{k}"

    def claim(self, tensor: str, point, value, blind=()) -> Claim:
        """Record the claim "the MLE of ``tensor`` at ``point`` is ``value``" (with
        ``blind`` terms: a blinded claim, docs/zero-knowledge.md §5.1)."""
        c = Claim(tensor, point, value, tuple(blind))
        self.new_claims.append(c)
        return c

    # -- hidden evaluations (zero knowledge, docs/zero-knowledge.md §5.1) -------------

    #: tensors whose claims may be blinded (set by the graph in a ZK session: committed
    #: in the stack of the context's masks, or virtual, produced by an op that carries
    #: blinds — `Op.zk_blinds`); empty: every evaluation is revealed as before
    hide: frozenset = frozenset()
    #: the lookup argument hides its layers' finals (set by the graph; `logup_gkr.gkr`)
    hide_lookups: bool = False
    #: the running op carries blinded values on (`Op.masks_reveals`): only then do
    #: `reveal` and `relations.vanishes` mask what they send (an op that computes on a
    #: revealed value itself would lose the blind)
    carries_blinds: bool = False

    def register_blind(self, point, value, blind) -> None:
        """Both sides: ``value`` at ``point`` (a blinded claim's, handed to the running
        op) stands for T̃(point) + Σ blind: the relation helpers that receive them
        (`einsum`, `relations.rescale_input_claim`) carry the blind on (`blind_of`).
        Keyed by the point's and the value's bytes; the scheduler clears the registry
        before each op (`clear_blinds`), so it holds the running op's claims only; two
        registrations of one key with different blinds are refused on both sides."""
        if not blind:
            return
        reg = self.__dict__.setdefault("_blinds", {})
        k = np.ascontiguousarray(point).tobytes() + b"|" + np.ascontiguousarray(value).tobytes()
        blind = tuple(blind)
        if k in reg and reg[k] is not blind:
            raise (ProverError if self.prover else VerificationError)(
                "two blinded claims with the same point and value (retry the proof)")
        reg[k] = blind

    def blind_of(self, point, value) -> tuple:
        """The blind terms registered for ``value`` at ``point`` (`register_blind`), or
        ()."""
        reg = self.__dict__.get("_blinds")
        if not reg:
            return ()
        k = np.ascontiguousarray(point).tobytes() + b"|" + np.ascontiguousarray(value).tobytes()
        return reg.get(k, ())

    def clear_blinds(self) -> None:
        """Forget the registered blinds (`register_blind`): before each op."""
        self.__dict__.pop("_blinds", None)

    def reveal(self, label: str, tensors: Sequence[str], point, *,
               claim: bool = True) -> np.ndarray:
        """The MLE values of ``tensors`` at ``point``: the prover evaluates and sends
        them, the verifier reads them; each becomes a claim unless ``claim=False``.
        With zero knowledge, inside an op that `carries_blinds`, a tensor in `hide` is
        sent as T̃(point) + ν (ν a fresh committed blind, `zk.fresh_nu`): its claim is
        blinded and the value registered (`register_blind`)."""
        hid = [claim and self.zk is not None and self.carries_blinds and t in self.hide
               for t in tensors]
        nus = [zklib.fresh_nu(self) if h else None for h in hid]

        def compute():
            out = []
            for t, nu in zip(tensors, nus):
                v = self.evaluate(t, point)
                if nu is not None:
                    v = self.E.add(v, blind_value(self, (nu,)))
                out.append(v)
            return np.stack(out)

        vals = self.exchange(label, len(tensors), compute)
        if claim:
            for t, v, nu in zip(tensors, vals, nus):
                b = () if nu is None else (nu,)
                self.claim(t, point, v, b)
                self.register_blind(point, v, b)
        return vals

    def range(self, tensor: str, lo: int, hi: int, *, label: str,
              limb_bits: int | None = None) -> None:
        """Every entry of ``tensor`` lies in [lo, hi] (`zklora.zkcore.range`), proven
        here, mid-proof (its limbs a small stack of their own).  A check known from the
        node and the specs alone belongs in `Op.range_checks` instead (committed with
        everything else)."""
        from . import range as rangelib

        kw = {} if limb_bits is None else {"limb_bits": limb_bits}
        rangelib.ranges(self, [RangeCheck(tensor, lo, hi, label, **kw)])

    def require_lookup(self, table: Table, columns: Sequence[str], label: str) -> None:
        """Every row (c_1[i], …, c_w[i]) of the committed ``columns`` must lie in ``table``.
        Called from `relations`, the lookup's multiplicities are committed late, after
        the ops (one more stack): declare a lookup known from the node in `Op.lookups`
        instead."""
        for c in columns:
            if self.specs[c].kind != "committed":
                raise ValueError(f"lookup column {c} must be a committed tensor")
        if len(columns) != table.width:
            raise ValueError(f"table {table.name} has {table.width} columns, got {len(columns)}")
        self.lookups.append(LookupRequest(table, tuple(columns), label))


#: `evaluate_mapped` reads a mapped table this many entries at a time
EVAL_BLOCK = 1 << 20
#: a mapped table of fewer bytes than this keeps its pages after `evaluate_mapped`
#: (s32h7): giving back ≤ 8 pages cost a `madvise` (≈ 4.7 µs) and a refault of the
#: page it shares with its neighbours in the stack (≈ 3 µs) on each of the ≈ 3,700
#: small evaluations of a 25m prove, for at most ≈ 23 MiB of file pages kept (every
#: such table of a 25m prove at once); the segment's map is given back as a whole
EVAL_DROP_MIN_BYTES = 1 << 15


def evaluate_mapped(E: Field, table: np.ndarray, r: np.ndarray) -> np.ndarray:
    """t̃(r) for a flat base-field table ``t`` that is a view of a read-only scratch map
    (a committed tensor's table in its stack), read `EVAL_BLOCK` entries at a time:
    t̃(r) = Σ_j eq(r_hi, j)·t̃_j(r_lo) over the blocks t_j (r_lo the low log2 `EVAL_BLOCK`
    coordinates, variable i binds bit i of the flat index), each block's pages given
    back once read (`scratch.drop_pages`), so at most one block is resident; a table
    under `EVAL_DROP_MIN_BYTES` keeps its few pages.  The same field element as
    `mle.evaluate`.  A `published.IntTable` (a flat table held as its integers) is read
    the same way, each block converted as it is sliced."""
    flat = table if hasattr(table, "ints") else np.asarray(table).reshape(-1)
    n = E.shape(r)[0]
    b = EVAL_BLOCK.bit_length() - 1
    if flat.shape[0] != 1 << n or n <= b:
        v = mle.evaluate(E, np.asarray(flat), r, base=True)
        if flat.nbytes >= EVAL_DROP_MIN_BYTES:
            scratch.drop_pages(flat)
        return v
    vals = []
    for j in range(1 << (n - b)):
        blk = flat[j << b:(j + 1) << b]
        vals.append(np.asarray(mle.evaluate(E, blk, r[:b], base=True)))
        scratch.drop_pages(blk)
    return E.dot(np.stack(vals), mle.eq_table(E, r[b:]))


def _u64_view(F: Field, v) -> np.ndarray | None:
    """``F.from_ints(v)`` without a copy where that is the same array: over goldilocks
    (p > 2^63) a contiguous int64 CPU tensor with no negative entry is its own residues,
    so its bits viewed as uint64 (read-only: the witness stays as it is); else None.  The
    loss region's 2^23-entry tensors are mostly non-negative (digits, limbs, softmax
    values): one copy fewer of each held for the segment."""
    if getattr(F, "name", None) != "goldilocks" or not isinstance(v, torch.Tensor) \
            or v.dtype != torch.int64 or v.device.type != "cpu" or not v.is_contiguous():
        return None
    a = v.detach().numpy()
    if a.size and int(a.min()) < 0:
        return None
    t = a.view(np.uint64)
    t.flags.writeable = False
    return t


class ProverContext(_Context):
    """What an op's ``prove`` may use: channel, fields, witness values, services."""

    def __init__(self, F: Field, ch: ProverChannel, specs, publics, values, committer):
        self.F, self.E, self.ch = F, F.ext, ch
        self.specs, self.publics, self.values = specs, publics, values
        self.committer = committer
        self.lookups = []
        self._tables: dict[str, np.ndarray] = {}
        self._zk_init()
        if hasattr(committer, "on_stacked"):   # a stacked tensor's table: a view of its stack
            committer.on_stacked = self._tables.__setitem__
        if hasattr(committer, "remake"):   # a pending table: made again from its value
            committer.remake = self._remake

    def value(self, name: str) -> torch.Tensor:
        """The integer witness of a tensor."""
        return self.values[name]

    def table(self, name: str) -> np.ndarray:
        """The tensor as a flat base-field array (cached; over goldilocks a tensor with no
        negative entry is a read-only view of its int64 values, `_u64_view`)."""
        if name not in self._tables:
            self._tables[name] = self._make_table(name)
        return self._tables[name]

    def _make_table(self, name: str) -> np.ndarray:
        """`table`'s array, made from the value (not cached)."""
        v = self.values[name].reshape(-1)
        t = _u64_view(self.F, v)
        return self.F.from_ints(v) if t is None else t

    def _remake(self, name: str, table) -> Callable[[], np.ndarray] | None:
        """The committer's ``remake`` hook (`zklora.zkcore.committer._Remade`): where
        ``table`` is this context's cached `table` of a witness value, the cache entry
        is dropped and a function that makes the same array again from the value is
        returned (the committer holds nothing until it stacks it); else None.  The
        value is read again then: it must not change before the stack is committed."""
        if self._tables.get(name) is not table or name not in self.values:
            return None
        del self._tables[name]
        return partial(self._make_table, name)

    def ext_table(self, name: str) -> np.ndarray:
        """The tensor as a flat challenge-field array."""
        return mle.lift(self.E, self.table(name), base=True)

    def evaluate(self, name: str, point: np.ndarray) -> np.ndarray:
        """The tensor's MLE at ``point``; a table that is a view of a mapped stack is read
        a block at a time and gives each block's pages back (`evaluate_mapped`)."""
        t = self.table(name)
        if scratch.is_mapped(t) or not isinstance(t, np.ndarray):
            # (a `published.IntTable`: its blocks converted as they are read)
            return evaluate_mapped(self.E, t, point)
        return mle.evaluate(self.E, t, point, base=True)

    prover = True

    def exchange(self, label: str, count: int, compute) -> np.ndarray:
        """``count`` challenge-field values computed by ``compute()`` and sent."""
        vals = np.asarray(compute())
        if vals.shape[0] != count:
            raise ProverError(f"{label}: {vals.shape[0]} values computed, {count} declared")
        self.ch.send_field(label, self.E, vals)
        return vals

    def run_sumcheck(self, label: str, num_vars: int, terms, claim, tables, *,
                     public: Mapping | Sequence = (), eq=None):
        """Σ_x Σ_t c_t Π_{i∈t} f_i(x) = claim over ``num_vars`` variables; ``tables()``
        gives the f_i (challenge-field tables, prover only), ``public`` the indices of
        the tables the verifier evaluates itself (a mapping index -> function of the
        point on the verifier side).  Returns (point, [f_i(point)]).  With zero
        knowledge on, a masked sumcheck (`zklora.zkcore.zk.run_sumcheck`).  ``eq`` = (i,
        e): table i is the product of linear factors e in every term (`sumcheck.prove`'s
        eq-factored rounds: prover work only, same messages)."""
        if self.zk is not None and num_vars > 0:
            return zklib.run_sumcheck(self, label, num_vars, terms, claim, tables, public)
        tabs = list(tables()) if callable(tables) else tables
        n = sumcheck.table_len(tabs[0]).bit_length() - 1 if len(tabs) else 0
        if n != num_vars:
            raise ProverError(f"{label}: tables have 2^{n} entries, 2^{num_vars} declared")
        # a list made here is handed over: the tables only it holds (eq tables,
        # broadcast copies) are freed once the first round has folded them
        return sumcheck.prove(self.ch, self.E, tabs, terms, claim, label=label,
                              public=sorted(public), own=callable(tables), eq=eq)

    def run_sumcheck_batch(self, label: str, num_vars: int, instances, tables, *,
                           public: Sequence[Mapping] = ()):
        """Several sumchecks over ``num_vars`` variables sharing one point
        (`sumcheck.prove_batch`): ``instances[k] = (terms, claim)``, ``tables()`` the
        table list of every instance (prover only), ``public[k]`` instance k's public
        tables as in `run_sumcheck`.  Returns (point, [finals per instance])."""
        tabs = tables() if callable(tables) else tables
        insts = [sumcheck.Instance(list(t), terms, c) for t, (terms, c) in zip(tabs, instances)]
        for t in tabs:
            if np.asarray(t[0]).shape[0] != 1 << num_vars:
                raise ProverError(f"{label}: tables of the wrong size, 2^{num_vars} declared")
        return sumcheck.prove_batch(self.ch, self.E, insts, label=label,
                                    public=[sorted(p) for p in public])

    def field_advice(self, name: str, size: int, compute) -> None:
        """Commit advice ``name`` given as a flat base-field array of ``size`` entries
        (``compute()``, prover only), e.g. inverses, which are not small integers."""
        table = np.asarray(compute())
        if table.shape[0] != size:
            raise ProverError(f"advice {name}: {table.shape[0]} entries, {size} declared")
        self.commit_field_advice(name, table)

    def check(self, ok, message: str) -> None:
        """A relation the verifier checks on values it holds; on the prover side it is a
        self-check (skipped when self-checks are off, so a cheating prover goes on)."""
        if selfcheck.enabled() and not (ok() if callable(ok) else ok):
            raise ProverError(message)

    def advice(self, name: str, shape: Sequence[int], bound: tuple[int, int] | None,
               compute) -> None:
        """Commit advice tensor ``name`` (``compute()`` gives its integer value)."""
        v = compute()
        if tuple(v.shape) != tuple(shape):
            raise ProverError(f"advice {name}: shape {tuple(v.shape)}, {tuple(shape)} declared")
        self.commit_advice(name, v, bound)

    def sumcheck(self, tables, terms, claim, *, label: str, public: Sequence[int] = ()):
        return sumcheck.prove(self.ch, self.E, tables, terms, claim, label=label, public=public)

    def send(self, label: str, values) -> None:
        """Send challenge-field values (e.g. claimed evaluations) to the verifier."""
        self.ch.send_field(label, self.E, values)

    def commit_advice(self, name: str, values: torch.Tensor, bound: tuple[int, int] | None = None
                      ) -> None:
        """Commit a new advice tensor mid-proof (e.g. multiplicities); claims on it are
        opened at the end."""
        spec = self._declare_advice(name, values.shape, bound)
        self.values[name] = values
        if not self.commit_remade(name):
            self.committer.commit(self.ch, spec, self.table(name))

    def commit_remade(self, name: str) -> bool:
        """Defer the witness value ``name`` (its spec) into the pending stack as a recipe:
        its table is made from the value only when the stack is built
        (`Committer.commit_remade`; the value must not change before).  False (nothing
        done) where the committer takes no recipe: the caller commits ``table(name)``."""
        c = self.committer
        if getattr(c, "remake", None) is None or not c.commit_remade(
                self.ch, self.specs[name], partial(self._make_table, name)):
            return False
        self._tables.pop(name, None)
        return True

    def commit_field_advice(self, name: str, table: np.ndarray) -> None:
        """Commit advice given directly as a flat base-field array (e.g. inverses, which
        are not small integers); the verifier mirrors it with `commit_advice(name, shape)`.
        Such a tensor has no integer value (`value` raises KeyError)."""
        table = np.asarray(table).reshape(-1)
        spec = self._declare_advice(name, (table.shape[0],), None)
        self._tables[name] = table
        self.committer.commit(self.ch, spec, table)


class VerifierContext(_Context):
    """What an op's ``verify`` may use: channel, fields, the graph, services."""

    def __init__(self, F: Field, ch: VerifierChannel, specs, publics, committer):
        self.F, self.E, self.ch = F, F.ext, ch
        self.specs, self.publics = specs, publics
        self.committer = committer
        self.lookups = []
        self._zk_init()

    def sumcheck(self, num_vars: int, num_tables: int, terms, claim, *, label: str,
                 public: Mapping | None = None):
        return sumcheck.verify(self.ch, self.E, num_vars, num_tables, terms, claim, label=label,
                               public=public)

    def recv(self, label: str, count: int) -> np.ndarray:
        """Receive ``count`` challenge-field values sent by `ProverContext.send`."""
        return self.ch.recv_field(label, self.E, count)

    def exchange(self, label: str, count: int, compute=None) -> np.ndarray:
        """Read the ``count`` values the prover sent (``compute`` is not called)."""
        return self.ch.recv_field(label, self.E, count)

    def evaluate(self, name: str, point) -> np.ndarray:
        raise VerificationError(f"the verifier cannot evaluate tensor {name}: it is not public")

    def run_sumcheck(self, label: str, num_vars: int, terms, claim, tables=None, *,
                     public: Mapping | Sequence = (), eq=None):
        """See `ProverContext.run_sumcheck`; ``tables`` is not called (nor ``eq`` used)."""
        if not isinstance(public, Mapping):
            if len(public):
                raise VerificationError(f"{label}: public tables need their evaluation "
                                        "functions")
            public = {}
        if self.zk is not None and num_vars > 0:
            return zklib.run_sumcheck(self, label, num_vars, terms, claim, tables, public)
        count = 1 + max((f for _, fs in terms for f in fs), default=-1)
        return sumcheck.verify(self.ch, self.E, num_vars, count, terms, claim, label=label,
                               public=public)

    def run_sumcheck_batch(self, label: str, num_vars: int, instances, tables=None, *,
                           public: Sequence[Mapping] = ()):
        """See `ProverContext.run_sumcheck_batch`; ``tables`` is not called."""
        shapes = [(1 + max((f for _, fs in terms for f in fs), default=-1), terms)
                  for terms, _ in instances]
        return sumcheck.verify_batch(self.ch, self.E, num_vars, shapes,
                                     [c for _, c in instances], label=label,
                                     public=list(public))

    def field_advice(self, name: str, size: int, compute=None) -> None:
        """See `ProverContext.field_advice` (``compute`` is not called)."""
        self.commit_advice(name, (size,))

    def check(self, ok, message: str) -> None:
        """See `ProverContext.check`: the verifier rejects when the relation fails."""
        if not (ok() if callable(ok) else ok):
            raise VerificationError(message)

    def advice(self, name: str, shape: Sequence[int], bound: tuple[int, int] | None,
               compute=None) -> None:
        """Receive the commitment of advice tensor ``name`` (``compute`` is not called)."""
        self.commit_advice(name, shape, bound)

    def commit_advice(self, name: str, shape: Sequence[int],
                      bound: tuple[int, int] | None = None) -> None:
        self.committer.commit(self.ch, self._declare_advice(name, shape, bound))


def check_bound(spec: TensorSpec, value: torch.Tensor) -> None:
    """Prover-side check of a tensor against its declared bound."""
    if spec.bound is None or value.numel() == 0 or not selfcheck.enabled():
        return
    lo, hi = spec.bound
    vmin, vmax = int(value.min()), int(value.max())
    if vmin < lo or vmax > hi:
        bad = vmin if vmin < lo else vmax
        raise ProverError(
            f"tensor {spec.name}: value {bad} outside its declared range [{lo}, {hi}]"
        )
