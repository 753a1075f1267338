"""Linked proofs: a long training run proven in chunks, verified as one chain.

Each proof of a chain is verified on its own (`zklora.zkcore.api.verify`); then every
consecutive pair (p, q) must link:

* same model plugin, protocol stack, commitment and lookup parameters and base-model
  commitment (commitments are only comparable under one scheme, and the run is of one
  base model);
* the model's ``fixed`` public parameters are equal (what must not change mid-run:
  architecture, LoRA spec, scales, optimiser kind …);
* step indices continue: q's ``start`` is p's ``end``;
* for every j, q's ``initial[j]`` (the committed state q starts from) is p's ``final[j]``
  (the committed state p ends with): the statements publish them in groups
  (`zklora.zkcore.published`), so the published group holding ``initial[j]`` in q's
  statement must have the same commitment and the same layout as the one holding
  ``final[j]`` in p's, with every member in one corresponding to a member in the other
  at the same offset under the map final[j] ↦ initial[j] — one and the same stacked
  vector, since the commitment binds it, hence the same tensors.

What the links are is the model plugin's business: it declares them through an optional
method ``chain_link(public) -> {"start", "end", "initial", "final", "fixed"}`` (names of
statement tensors, whose commitments the statement carries).  This module knows no model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from . import api
from . import published as publib
from .errors import ConfigError, ProofFormatError, VerificationError, ZkLoraError
from .plugins import registry as default_registry


@attrs.frozen
class ChainResult:
    """A verified chain: every statement in order, the step range it covers and the
    commitments of the state it starts from and ends with (published group name → hex
    commitment of the groups holding the link's initial / final tensors)."""

    statements: list[dict]
    start: int
    end: int
    initial: dict[str, str]
    final: dict[str, str]


@attrs.frozen
class Link:
    """One proof's place in a chain (model-declared, `chain_link`)."""

    start: int
    end: int
    initial: list[str]
    final: list[str]
    fixed: Any

    @classmethod
    def of(cls, statement: Mapping[str, Any], reg, where: str) -> Link:
        try:
            model = reg.model(statement["model"])
        except ZkLoraError as e:
            raise ProofFormatError(f"{where}: {e}") from None
        link = getattr(model, "chain_link", None)
        if link is None:
            raise VerificationError(f"{where}: model {statement['model']!r} has no linked "
                                    "proofs (it declares no chain_link)")
        d = link(statement["params"])
        names = publib.locate(statement["commitments"])
        missing = sorted(n for n in list(d["initial"]) + list(d["final"]) if n not in names)
        if missing:
            raise ProofFormatError(f"{where}: statement lacks the commitments of the chain "
                                   f"tensors {missing[:3]}")
        return cls(int(d["start"]), int(d["end"]), list(d["initial"]), list(d["final"]),
                   d["fixed"])


_SAME = ("model", "stack", "commitment_params", "lookup_params", "model_commitment")


def check_link(prev: Mapping[str, Any], nxt: Mapping[str, Any], a: Link, b: Link,
               where: str) -> None:
    """VerificationError unless the proof with statement ``nxt`` continues ``prev``."""
    for key in _SAME:
        if prev[key] != nxt[key]:
            raise VerificationError(f"{where}: {key} differs from the previous proof's")
    if a.fixed != b.fixed:
        raise VerificationError(f"{where}: its fixed parameters (architecture, adapter, "
                                "scales, optimiser) differ from the previous proof's")
    if b.start != a.end:
        raise VerificationError(f"{where}: starts at step {b.start}, but the previous proof "
                                f"ends at step {a.end}")
    if len(b.initial) != len(a.final):
        raise VerificationError(f"{where}: starts from {len(b.initial)} state tensors, the "
                                f"previous proof ends with {len(a.final)}")
    to_next = dict(zip(a.final, b.initial))
    if len(to_next) != len(a.final) or len(set(b.initial)) != len(b.initial):
        raise VerificationError(f"{where}: a chain link names a tensor twice")
    at_p, at_q = publib.locate(prev["commitments"]), publib.locate(nxt["commitments"])
    for src, dst in zip(a.final, b.initial):
        gp, gq = at_p[src][0], at_q[dst][0]
        dp, dq = prev["commitments"][gp], nxt["commitments"][gq]
        mapped = sorted([to_next.get(n, "\x00"), off, nv] for n, off, nv in dp["tensors"])
        if dp["commitment"] != dq["commitment"] or dp["num_vars"] != dq["num_vars"] or \
                mapped != sorted(dq["tensors"]):
            raise VerificationError(f"{where}: its initial {dst} is not the previous proof's "
                                    f"final {src} (their published groups {gq!r} and {gp!r} "
                                    "differ)")


def verify_chain(proofs: Sequence[bytes], expect: Mapping[str, Any] | None = None,
                 registry=None, trusted_model=None, names: Sequence[str] | None = None,
                 start: int | None = None) -> ChainResult:
    """Verify every proof (``expect`` and ``trusted_model`` apply to each, as in
    `api.verify`) and that they form one chain, in the given order.  ``names`` label the
    proofs in messages (file names); ``start``: the step the chain must start at (0: a
    run from a fresh optimiser; None: any).  Raises a `ZkLoraError`."""
    if not proofs:
        raise VerificationError("an empty chain proves nothing")
    reg = registry or default_registry()
    labels = list(names) if names is not None else [f"proof {i + 1}" for i in
                                                    range(len(proofs))]
    statements: list[dict] = []
    links: list[Link] = []
    for i, data in enumerate(proofs):
        where = labels[i]
        try:
            st = api.verify(data, expect, registry=reg, trusted_model=trusted_model)
        except VerificationError as e:
            raise VerificationError(f"{where}: {e}") from None
        except ZkLoraError as e:
            raise type(e)(f"{where}: {e}") from None
        if st.get("zero_knowledge") and len(proofs) > 1:
            raise ConfigError(f"{where}: a zero-knowledge proof's commitments are hiding "
                              "(randomised), so consecutive proofs cannot be chained by "
                              "their commitments (docs/zero-knowledge.md); prove the chunks "
                              "with --no-zk (zero knowledge is on by default in the fast "
                              "and paper profiles)")
        link = Link.of(st, reg, where)
        if statements:
            check_link(statements[-1], st, links[-1], link, where)
        elif start is not None and link.start != start:
            raise VerificationError(f"{where}: the chain starts at step {link.start}, "
                                    f"expected {start}")
        statements.append(st)
        links.append(link)
    first, last = links[0], links[-1]
    return ChainResult(statements, first.start, last.end,
                       _groups_of(statements[0], first.initial),
                       _groups_of(statements[-1], last.final))


def _groups_of(statement: Mapping[str, Any], names: Sequence[str]) -> dict[str, str]:
    """Group name → hex commitment of the published groups holding ``names``, in the
    order of their first member in ``names``."""
    at = publib.locate(statement["commitments"])
    return {g: statement["commitments"][g]["commitment"]
            for g in dict.fromkeys(at[n][0] for n in names)}


def verify_chain_files(paths: Sequence, **kw) -> ChainResult:
    """`verify_chain` over proof files (read in the given order)."""
    datas = []
    for p in paths:
        try:
            with open(p, "rb") as f:
                datas.append(f.read())
        except OSError as e:
            raise ProofFormatError(f"cannot read {p}: {e.strerror}") from None
    return verify_chain(datas, names=[str(p) for p in paths], **kw)
