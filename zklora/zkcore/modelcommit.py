"""Base-model commitments: made once by the model owner, bound into every proof.

``zklora commit-model`` commits every frozen tensor of a model (base weights, norms,
embeddings — what a model plugin names in ``frozen_tensors``) with the profile's
commitment scheme, in published groups (`frozen_groups`: the tensors of fewer than 2^22
entries share stacks of 2^22, larger ones are alone; `zklora.zkcore.published`), and
writes a *model commitment* document (canonical JSON)::

    {"zklora_model_commitment": 2, "stack": {...}, "commitment_params": {...},
     "scope": {...the model's public description: architecture, quantisation...},
     "groups": {"<group>": {"commitment": "<hex>", "num_vars": K,
                            "tensors": [["<tensor>", <offset>, <num_vars>], ...]}, ...}}

Its digest (BLAKE3 of the canonical bytes, hex) identifies the base model.  A proof's
statement carries that digest as ``model_commitment``; the proof file embeds the
document (section ``model``) and the graph proof takes those commitments as published
(absorbed, never re-sent), so a proof can only verify against the weights the document
commits to.  ``zklora verify --model-commitment FILE`` checks that the digest is the
one the verifier trusts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs
import blake3

from . import published as publib
from .canon import canonical_json
from .errors import ProofFormatError, VerificationError

#: 2: the tensors are committed in groups (version 1 committed each on its own)
DOC_VERSION = 2
MAX_DOC = 4 << 20
#: largest tensor size (log2 entries) a document may declare
MAX_NUM_VARS = 48


def frozen_groups(num_vars: Mapping[str, int]) -> list[publib.Group]:
    """The groups of a model commitment (no commitments): the frozen tensors (name →
    log2 of their entries), by name, grouped by `published.plan` (category ``frozen``)."""
    return publib.plan("frozen", [(n, num_vars[n]) for n in sorted(num_vars)]) \
        if num_vars else []


@attrs.frozen
class ModelCommitment:
    """A parsed model-commitment document."""

    stack: Mapping[str, str]
    commitment_params: Mapping[str, Any]
    scope: Mapping[str, Any]
    groups: tuple[publib.Group, ...]

    @property
    def tensors(self) -> dict[str, publib.Member]:
        """Tensor name → its `published.Member` (what the graph proof takes as
        published)."""
        return publib.members(self.groups)

    def to_json(self) -> dict[str, Any]:
        return {"zklora_model_commitment": DOC_VERSION, "stack": dict(self.stack),
                "commitment_params": dict(self.commitment_params), "scope": dict(self.scope),
                "groups": publib.describe(self.groups)}

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def digest(self) -> str:
        return blake3.blake3(b"zklora/model-commitment/v2" + self.to_bytes()).hexdigest()


def parse(data: bytes, what: str = "model commitment") -> ModelCommitment:
    """Strictly parse a document (canonical JSON, exact keys, hex commitments; every
    group's members at the offsets their sizes give, `published.Group`, and no tensor in
    two groups).  Whether the groups are the model's is `check_matches`'s business."""
    if len(data) > MAX_DOC:
        raise ProofFormatError(f"{what}: {len(data)} bytes is too large")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProofFormatError(f"{what}: not valid JSON") from None
    keys = {"zklora_model_commitment", "stack", "commitment_params", "scope", "groups"}
    if not isinstance(doc, dict) or set(doc) != keys:
        raise ProofFormatError(f"{what}: expected exactly the keys {sorted(keys)}")
    if doc["zklora_model_commitment"] != DOC_VERSION:
        raise ProofFormatError(f"{what}: unsupported version {doc['zklora_model_commitment']!r}")
    for k in ("stack", "commitment_params", "scope", "groups"):
        if not isinstance(doc[k], dict):
            raise ProofFormatError(f"{what}: {k} must be an object")
    groups = []
    seen: set[str] = set()
    for gname, d in doc["groups"].items():
        groups.append(_parse_group(gname, d, seen, what))
    mc = ModelCommitment(doc["stack"], doc["commitment_params"], doc["scope"], tuple(groups))
    if mc.to_bytes() != data:
        raise ProofFormatError(f"{what}: not in canonical form")
    return mc


def _parse_group(gname: str, d: Any, seen: set[str], what: str) -> publib.Group:
    where = f"{what}: group {gname!r}"
    if not isinstance(d, dict) or set(d) != {"commitment", "num_vars", "tensors"}:
        raise ProofFormatError(f"{where} must have exactly the keys commitment, num_vars, "
                               "tensors")
    tensors = d["tensors"]
    if not isinstance(tensors, list) or not tensors:
        raise ProofFormatError(f"{where}: tensors must be a non-empty list")
    names, nvars = [], []
    for m in tensors:
        if not (isinstance(m, list) and len(m) == 3 and isinstance(m[0], str) and m[0]
                and type(m[1]) is int and type(m[2]) is int
                and 0 <= m[2] <= MAX_NUM_VARS):
            raise ProofFormatError(f"{where}: malformed member (expected [name, offset, "
                                   "num_vars])")
        if m[0] in seen:
            raise ProofFormatError(f"{what}: tensor {m[0]!r} is in two groups")
        seen.add(m[0])
        names.append(m[0])
        nvars.append(m[2])
    com = publib.hex_bytes(d["commitment"], f"{where}: commitment")
    g = publib.Group(gname, tuple(names), tuple(nvars), com)
    if d["num_vars"] != g.num_vars or type(d["num_vars"]) is not int or \
            tensors != g.members():
        raise ProofFormatError(f"{where}: offsets or num_vars are not the stack layout of "
                               "its members' sizes")
    return g


def read(path) -> ModelCommitment:
    from pathlib import Path

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ProofFormatError(f"cannot read model commitment {p}: {e.strerror}") from None
    return parse(data, str(p))


def check_matches(mc: ModelCommitment, statement: Mapping[str, Any], scope: Mapping[str, Any],
                  num_vars: Mapping[str, int], commitment_size=None) -> None:
    """The embedded document fits the statement: digest, stack, scope, and exactly the
    groups `frozen_groups` makes of the model's frozen tensors (``num_vars``: name → log2
    of its entries, from the graph), each commitment of ``commitment_size(num_vars)``
    bytes when that is given."""
    if mc.digest() != statement.get("model_commitment"):
        raise VerificationError("the embedded model commitment does not match the statement's "
                                "model_commitment digest")
    if dict(mc.stack) != dict(statement["stack"]) or dict(mc.commitment_params) != dict(
            statement["commitment_params"]):
        raise VerificationError("the model commitment was made under another protocol stack")
    if canonical_json(mc.scope) != canonical_json(scope):
        raise VerificationError("the model commitment is for another model architecture or "
                                "quantisation")
    if sorted(mc.tensors) != sorted(num_vars):
        raise VerificationError("the model commitment does not cover exactly the model's "
                                "frozen tensors")
    want = {g.name: g for g in frozen_groups(num_vars)}
    have = {g.name: g for g in mc.groups}
    if set(want) != set(have) or not all(want[k].same_shape(have[k]) for k in want):
        raise VerificationError("the model commitment's groups are not the model's frozen "
                                "tensors grouped by their sizes (members, order or sizes "
                                "differ)")
    if commitment_size is not None:
        for g in mc.groups:
            if len(g.commitment) != commitment_size(g.num_vars):
                raise VerificationError(f"the model commitment's group {g.name!r} has a "
                                        f"commitment of {len(g.commitment)} bytes, expected "
                                        f"{commitment_size(g.num_vars)}")
