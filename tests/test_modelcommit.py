"""Base-model commitments: the embedded document, the statement digest and the trusted
file must agree; any change is rejected."""

from __future__ import annotations

import pytest

from zklora.zkcore import api, config, modelcommit, proof
from zklora.zkcore.errors import ProofFormatError, ZkLoraError

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

CFG = {"task": {"model": "llama"}, "model": {"batch": 1, "seq": 4}}


@pytest.fixture(scope="module")
def bound_proof():
    cfg = config.from_dict(CFG)
    return api.prove(cfg).data, api.commit_model(cfg)


def test_verifies_with_trusted(bound_proof):
    data, mc = bound_proof
    st = api.verify(data, trusted_model=mc)
    assert st["model_commitment"] == mc.digest()


def test_document_round_trip_and_strictness(bound_proof):
    _, mc = bound_proof
    assert modelcommit.parse(mc.to_bytes()).digest() == mc.digest()
    with pytest.raises(ProofFormatError):
        modelcommit.parse(mc.to_bytes() + b" ")
    with pytest.raises(ProofFormatError):
        modelcommit.parse(mc.to_bytes().replace(b'"groups"', b'"groupz"'))


def test_embedded_section_tampering_rejected(bound_proof):
    data, _ = bound_proof
    pf = proof.decode(data)
    doc = bytearray(pf.sections["model"])
    i = doc.index(b'"groups":{"') + 30
    for pos in (i, i + 70, len(doc) - 3):
        bad = bytearray(doc)
        bad[pos] = ord("0") if bad[pos] != ord("0") else ord("1")
        with pytest.raises(ZkLoraError):
            api.verify(proof.encode(pf.statement, {**pf.sections, "model": bytes(bad)}))
    without = {k: v for k, v in pf.sections.items() if k != "model"}
    with pytest.raises(ProofFormatError):
        api.verify(proof.encode(pf.statement, without))


def test_statement_digest_and_swapped_document_rejected(bound_proof):
    data, _ = bound_proof
    pf = proof.decode(data)
    st = dict(pf.statement)
    st["model_commitment"] = "0" * 64
    with pytest.raises(ZkLoraError):
        api.verify(proof.encode(st, pf.sections))
    other_cfg = config.from_dict({**CFG, "model": {**CFG["model"], "kv_heads": 2}})
    other = api.commit_model(other_cfg)
    st = dict(pf.statement, model_commitment=other.digest())
    with pytest.raises(ZkLoraError):
        api.verify(proof.encode(st, {**pf.sections, "model": other.to_bytes()}))
    with pytest.raises(ZkLoraError, match="another base model"):
        api.verify(data, trusted_model=other)
