"""Op protocol and the prover/verifier contexts ops run in.

An op is claims-in, claims-out (deep-prove style), registered by hook:

* ``forward(node, inputs)`` — the exact integer semantics (torch int64), the spec;
* ``prove(ctx, node, out_claims)`` — given one claim per output that has claims,
  prove the op's relation and return claims on its inputs (and advice);
* ``verify(ctx, node, out_claims)`` — the mirror, reading only the proof.

Ops never touch a concrete field or backend: they use ``ctx.F`` / ``ctx.E`` (base and
challenge field), ``ctx.sumcheck``, ``ctx.require_lookup`` and ``ctx.commit_advice``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from typing import Any

import attrs
import numpy as np
import torch

from . import mle, selfcheck, sumcheck
from .claims import Claim
from .errors import ProverError, VerificationError
from .field import Field
from .lookup import LookupRequest, Table
from .transcript import ProverChannel, VerifierChannel

KINDS = ("committed", "public", "virtual")


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
        return int(np.prod(self.shape, dtype=np.int64))


@attrs.frozen
class OpNode:
    """One application of op ``op`` (registry name) in the graph."""

    op: str
    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    params: Mapping[str, Any] = attrs.field(factory=dict)


class Op(ABC):
    """An operation of the tensor graph (see module doc)."""

    name: str

    @abstractmethod
    def forward(self, node: OpNode, inputs: Sequence[torch.Tensor]) -> list[torch.Tensor]:
        """Integer semantics: outputs (and advice) in the order of ``node.outputs``."""

    @abstractmethod
    def prove(self, ctx: ProverContext, node: OpNode,
              out_claims: Mapping[str, Claim]) -> list[Claim]:
        """Prove the relation for the given output claims; return input claims."""

    @abstractmethod
    def verify(self, ctx: VerifierContext, node: OpNode,
               out_claims: Mapping[str, Claim]) -> list[Claim]:
        """Mirror of `prove`."""


class _Context:
    """Services shared by both sides."""

    F: Field
    E: Field
    specs: dict[str, TensorSpec]
    publics: dict[str, torch.Tensor]
    lookups: list[LookupRequest]

    def spec(self, name: str) -> TensorSpec:
        return self.specs[name]

    def eval_public(self, name: str, point: np.ndarray) -> np.ndarray:
        """MLE of a public tensor at ``point`` (the verifier computes this itself)."""
        v = self.publics[name]
        return mle.evaluate(self.E, self.F.from_ints(v.reshape(-1)), point, base=True)

    def require_lookup(self, table: Table, columns: Sequence[str], label: str) -> None:
        """Every row (c_1[i], …, c_w[i]) of the committed ``columns`` must lie in ``table``."""
        for c in columns:
            if self.specs[c].kind != "committed":
                raise ValueError(f"lookup column {c} must be a committed tensor")
        if len(columns) != table.width:
            raise ValueError(f"table {table.name} has {table.width} columns, got {len(columns)}")
        self.lookups.append(LookupRequest(table, tuple(columns), label))


class ProverContext(_Context):
    """What an op's ``prove`` may use: channel, fields, witness values, services."""

    def __init__(self, F: Field, ch: ProverChannel, specs, publics, values, committer):
        self.F, self.E, self.ch = F, F.ext, ch
        self.specs, self.publics, self.values = specs, publics, values
        self.committer = committer
        self.lookups = []
        self.new_claims: list[Claim] = []
        self._tables: dict[str, np.ndarray] = {}

    def value(self, name: str) -> torch.Tensor:
        """The integer witness of a tensor."""
        return self.values[name]

    def table(self, name: str) -> np.ndarray:
        """The tensor as a flat base-field array (cached)."""
        if name not in self._tables:
            self._tables[name] = self.F.from_ints(self.values[name].reshape(-1))
        return self._tables[name]

    def ext_table(self, name: str) -> np.ndarray:
        """The tensor as a flat challenge-field array."""
        return mle.lift(self.E, self.table(name), base=True)

    def evaluate(self, name: str, point: np.ndarray) -> np.ndarray:
        return mle.evaluate(self.E, self.table(name), point, base=True)

    def sumcheck(self, tables, terms, claim, *, label: str, public: Sequence[int] = ()):
        return sumcheck.prove(self.ch, self.E, tables, terms, claim, label=label, public=public)

    def send(self, label: str, values) -> None:
        """Send challenge-field values (e.g. claimed evaluations) to the verifier."""
        self.ch.send_field(label, self.E, values)

    def claim(self, tensor: str, point, value) -> Claim:
        c = Claim(tensor, point, value)
        self.new_claims.append(c)
        return c

    def commit_advice(self, name: str, values: torch.Tensor, bound: tuple[int, int] | None = None
                      ) -> None:
        """Commit a new advice tensor mid-proof (e.g. multiplicities); claims on it are
        opened at the end."""
        spec = TensorSpec(name, tuple(values.shape), "committed", bound)
        if name in self.specs:
            raise ValueError(f"tensor {name} already exists")
        self.specs[name] = spec
        self.values[name] = values
        self.committer.commit(self.ch, spec, self.table(name))

    def commit_field_advice(self, name: str, table: np.ndarray) -> None:
        """Commit advice given directly as a flat base-field array (e.g. inverses, which
        are not small integers); the verifier mirrors it with `commit_advice(name, shape)`.
        Such a tensor has no integer value (`value` raises KeyError)."""
        table = np.asarray(table).reshape(-1)
        spec = TensorSpec(name, (table.shape[0],), "committed", None)
        if name in self.specs:
            raise ValueError(f"tensor {name} already exists")
        self.specs[name] = spec
        self._tables[name] = table
        self.committer.commit(self.ch, spec, table)


class VerifierContext(_Context):
    """What an op's ``verify`` may use: channel, fields, the graph, services."""

    def __init__(self, F: Field, ch: VerifierChannel, specs, publics, committer):
        self.F, self.E, self.ch = F, F.ext, ch
        self.specs, self.publics = specs, publics
        self.committer = committer
        self.lookups = []
        self.new_claims: list[Claim] = []

    def sumcheck(self, num_vars: int, num_tables: int, terms, claim, *, label: str,
                 public: Mapping | None = None):
        return sumcheck.verify(self.ch, self.E, num_vars, num_tables, terms, claim, label=label,
                               public=public)

    def recv(self, label: str, count: int) -> np.ndarray:
        """Receive ``count`` challenge-field values sent by `ProverContext.send`."""
        return self.ch.recv_field(label, self.E, count)

    def claim(self, tensor: str, point, value) -> Claim:
        c = Claim(tensor, point, value)
        self.new_claims.append(c)
        return c

    def commit_advice(self, name: str, shape: Sequence[int],
                      bound: tuple[int, int] | None = None) -> None:
        spec = TensorSpec(name, tuple(shape), "committed", bound)
        if name in self.specs:
            raise VerificationError(f"tensor {name} already exists")
        self.specs[name] = spec
        self.committer.receive(self.ch, spec)


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
