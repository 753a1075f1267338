"""Commitments of one proof: tensors committed individually (published) or in stacks,
and the final batched opening (`Committer`).  One class for prover and verifier."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from . import claims as claimlib
from . import stack as stacklib
from .canon import canonical_json
from .claims import Claim
from .commit import CheckItem, CommitmentScheme, Evaluation, OpenItem
from .errors import ProverError, VerificationError
from .op import ProverContext, TensorSpec, VerifierContext
from .stack import StackLayout
from .transcript import ProverChannel, VerifierChannel


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


class Committer:
    """Commits (prover) or receives (verifier) tensors and keeps what the final batched
    opening needs; one class for both sides (``prover``).

    Tensors with a published commitment are committed individually.  Every other
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
        self._pending: list[tuple[TensorSpec, Any]] = []
        #: prover: called with (name, read-only view of the stack) for every stacked
        #: tensor, so the caller can drop its own copy of the table
        self.on_stacked: Callable[[str, np.ndarray], None] | None = None

    def commit(self, ch: ProverChannel | VerifierChannel, spec: TensorSpec,
               table: np.ndarray | None = None, published: bytes | None = None,
               state: Any = None) -> None:
        """Commit ``spec`` (``table``, its flat base-field array, on the prover side only):
        deferred into the pending stack, or, with a ``published`` commitment (part of
        the statement, e.g. the base model's), on its own: the prover checks its table
        against it — or reuses ``state``, the prover state made with that commitment
        from the same values — the verifier its length; both only absorb it."""
        if published is None:
            self._pending.append((spec, table))
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

    def flush(self, ch: ProverChannel | VerifierChannel) -> None:
        """Commit the pending tensors as one stacked vector: the prover sends the
        commitment, the verifier reads it."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        names = [s.name for s, _ in pending]
        layout = StackLayout([s.size for s, _ in pending])
        k = len(self.stacks)
        ch.observe_public(f"stack/{k}", _stack_description(names, layout))
        label = f"commit:stack/{k}"
        st = _Stack(names, layout, b"")
        if self.prover:
            F = self.scheme.field
            for s, t in pending:
                if F.length(F.flat(t)) != s.size:
                    raise ProverError(f"tensor {s.name}: table of {F.length(F.flat(t))} "
                                      f"entries, {s.size} declared")
            st.table = layout.stack(F, [t for _, t in pending])
            # read-only: the scheme may keep it by reference, and each tensor's table
            # becomes a view of it instead of a second copy (``on_stacked``)
            st.table.flags.writeable = False
            del pending, s, t
            if self.on_stacked is not None:
                for b in layout.blocks:
                    if b.item is not None:
                        self.on_stacked(names[b.item],
                                        st.table[b.offset:b.offset + (1 << b.num_vars)])
            st.commitment, st.state = self.scheme.commit(st.table)
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
        sizes = [s.size for s, _ in pending]
        total = sum(sizes)
        bins, rest = [], total
        while len(bins) < max_stacks - 1 and rest & (rest - 1):
            bins.append(1 << (rest.bit_length() - 1))
            rest -= bins[-1]
        if not bins or sum(bins) + (1 << max(rest - 1, 0).bit_length()) >= \
                1 << StackLayout(sizes).num_vars:
            self.flush(ch)
            return
        groups: list[list] = [[] for _ in range(len(bins) + 1)]
        room = bins + [None]
        for k in sorted(range(len(pending)), key=lambda k: -sizes[k]):   # stable
            g = next(b for b, r in enumerate(room) if r is None or r >= sizes[k])
            groups[g].append(k)
            if room[g] is not None:
                room[g] -= sizes[k]
        for g in groups:
            self._pending = [pending[k] for k in sorted(g)]
            for k in g:
                pending[k] = None   # the stack holds the table from here on
            self.flush(ch)

    def _item(self, commitment: bytes, num_vars: int, state, evals: list[Evaluation]):
        if self.prover:
            return OpenItem(state, evals)
        return CheckItem(commitment, num_vars, evals)

    def open(self, ctx: ProverContext | VerifierContext,
             opened: Mapping[str, list[Claim]]) -> None:
        """One batched opening of the claims ``opened`` (in the order of ``ctx.specs``):
        published tensors' claims as they are; every stack's claims reduced to one
        (`zklora.zkcore.stack.reduce_many`).  The prover writes the opening proof, the
        verifier checks it."""
        ch, E = ctx.ch, ctx.E
        err = ProverError if self.prover else VerificationError
        self.flush(ch)
        items = []
        per_stack: dict[int, list] = defaultdict(list)
        for name in ctx.specs:
            cl = opened.get(name)
            if not cl:
                continue
            if name in self.published:
                cl = claimlib.dedupe(E, cl, err)
                items.append(self._item(*self.published[name],
                                        [Evaluation(c.point, c.value) for c in cl]))
            else:
                k, i = self.where[name]
                lay = self.stacks[k].layout
                per_stack[k].extend(lay.claim(E, i, c.point, c.value) for c in cl)
        sts = [self.stacks[k] for k in sorted(per_stack)]
        reduced = stacklib.reduce_many(
            ctx, [(st.layout.num_vars, per_stack[k], st.table)
                  for k, st in zip(sorted(per_stack), sts)], label="stack/reduce")
        items.extend(self._item(st.commitment, st.layout.num_vars, st.state,
                                [Evaluation(r, v)]) for st, (r, v) in zip(sts, reduced))
        if items:
            (self.scheme.open if self.prover else self.scheme.verify)(ch, items)
