"""Base-model commitments: made once by the model owner, bound into every proof.

``zklora commit-model`` commits every frozen tensor of a model (base weights, norms,
embeddings — what a model plugin names in ``frozen_tensors``) with the profile's
commitment scheme and writes a *model commitment* document (canonical JSON)::

    {"zklora_model_commitment": 1, "stack": {...}, "commitment_params": {...},
     "scope": {...the model's public description: architecture, quantisation...},
     "tensors": {"<tensor>": "<hex commitment>", ...}}

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

from .errors import ProofFormatError, VerificationError
from .graph import canonical_json

DOC_VERSION = 1
MAX_DOC = 4 << 20


@attrs.frozen
class ModelCommitment:
    """A parsed model-commitment document."""

    stack: Mapping[str, str]
    commitment_params: Mapping[str, Any]
    scope: Mapping[str, Any]
    tensors: Mapping[str, bytes]

    def to_json(self) -> dict[str, Any]:
        return {"zklora_model_commitment": DOC_VERSION, "stack": dict(self.stack),
                "commitment_params": dict(self.commitment_params), "scope": dict(self.scope),
                "tensors": {k: v.hex() for k, v in sorted(self.tensors.items())}}

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json())

    def digest(self) -> str:
        return blake3.blake3(b"zklora/model-commitment/v1" + self.to_bytes()).hexdigest()


def parse(data: bytes, what: str = "model commitment") -> ModelCommitment:
    """Strictly parse a document (canonical JSON, exact keys, hex commitments)."""
    if len(data) > MAX_DOC:
        raise ProofFormatError(f"{what}: {len(data)} bytes is too large")
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProofFormatError(f"{what}: not valid JSON") from None
    keys = {"zklora_model_commitment", "stack", "commitment_params", "scope", "tensors"}
    if not isinstance(doc, dict) or set(doc) != keys:
        raise ProofFormatError(f"{what}: expected exactly the keys {sorted(keys)}")
    if doc["zklora_model_commitment"] != DOC_VERSION:
        raise ProofFormatError(f"{what}: unsupported version {doc['zklora_model_commitment']!r}")
    for k in ("stack", "commitment_params", "scope", "tensors"):
        if not isinstance(doc[k], dict):
            raise ProofFormatError(f"{what}: {k} must be an object")
    tensors = {}
    for name, h in doc["tensors"].items():
        try:
            if not isinstance(h, str) or h != h.lower():
                raise ValueError
            tensors[name] = bytes.fromhex(h)
        except ValueError:
            raise ProofFormatError(f"{what}: commitment of {name!r} is not lowercase hex") from None
    mc = ModelCommitment(doc["stack"], doc["commitment_params"], doc["scope"], tensors)
    if mc.to_bytes() != data:
        raise ProofFormatError(f"{what}: not in canonical form")
    return mc


def read(path) -> ModelCommitment:
    from pathlib import Path

    p = Path(path)
    try:
        data = p.read_bytes()
    except OSError as e:
        raise ProofFormatError(f"cannot read model commitment {p}: {e.strerror}") from None
    return parse(data, str(p))


def check_matches(mc: ModelCommitment, statement: Mapping[str, Any], scope: Mapping[str, Any],
                  names: list[str]) -> None:
    """The embedded document fits the statement: digest, stack, scope and tensor set."""
    if mc.digest() != statement.get("model_commitment"):
        raise VerificationError("the embedded model commitment does not match the statement's "
                                "model_commitment digest")
    if dict(mc.stack) != dict(statement["stack"]) or dict(mc.commitment_params) != dict(
            statement["commitment_params"]):
        raise VerificationError("the model commitment was made under another protocol stack")
    if canonical_json(mc.scope) != canonical_json(scope):
        raise VerificationError("the model commitment is for another model architecture or "
                                "quantisation")
    if sorted(mc.tensors) != sorted(names):
        raise VerificationError("the model commitment does not cover exactly the model's "
                                "frozen tensors")
