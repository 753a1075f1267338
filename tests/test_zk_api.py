"""`[proof] zero_knowledge` through the API: the statement records it, the verifier runs
in the mode the statement names, a flipped flag is rejected, and what cannot work with
hiding commitments yet is a clear error."""

from __future__ import annotations

import copy

import pytest

from zklora.zkcore import api, config, proof
from zklora.zkcore.errors import ConfigError, ProofFormatError, VerificationError

PARAMS = {"m": 8, "k": 16, "n": 4, "bound": 100, "seed": 3}


def _cfg(zk: bool, profile: str = "fast", **extra):
    return config.from_dict({"profile": profile, "model": dict(PARAMS),
                             "proof": {"zero_knowledge": zk}, **extra})


@pytest.fixture(scope="module")
def zk_proofs():
    return api.prove(_cfg(True)), api.prove(_cfg(True))


def _with_statement(data: bytes, **changes) -> bytes:
    pf = proof.decode(data)
    st = copy.deepcopy(dict(pf.statement))
    st.update(changes)
    return proof.encode(st, pf.sections)


def test_statement_records_the_mode_and_verifies(zk_proofs):
    a, b = zk_proofs
    assert a.statement["zero_knowledge"] is True
    assert api.verify(a.data)["zero_knowledge"] is True
    api.verify(b.data)
    off = api.prove(_cfg(False))
    assert off.statement["zero_knowledge"] is False
    assert api.verify(off.data)["zero_knowledge"] is False
    # masks from the OS: two proofs of one witness differ (published groups too: hiding)
    assert proof.decode(a.data).sections["stream"] != proof.decode(b.data).sections["stream"]


def test_flipped_flag_rejected(zk_proofs):
    a, _ = zk_proofs
    with pytest.raises(VerificationError):
        api.verify(_with_statement(a.data, zero_knowledge=False))
    off = api.prove(_cfg(False))
    with pytest.raises(VerificationError):
        api.verify(_with_statement(off.data, zero_knowledge=True))


@pytest.mark.parametrize("value", [1, 0, "true", None])
def test_malformed_flag_rejected(zk_proofs, value):
    with pytest.raises(ProofFormatError, match="zero_knowledge"):
        api.verify(_with_statement(zk_proofs[0].data, zero_knowledge=value))


def test_missing_flag_rejected(zk_proofs):
    pf = proof.decode(zk_proofs[0].data)
    st = dict(pf.statement)
    del st["zero_knowledge"]
    with pytest.raises(ProofFormatError, match="zero_knowledge"):
        api.verify(proof.encode(st, pf.sections))


def test_remote_executor_refused():
    with pytest.raises(ConfigError, match="zero_knowledge with executor 'ray'"):
        api.prove(_cfg(True, executor={"name": "ray"}))


def test_config_refuses_non_bool():
    with pytest.raises(ConfigError, match="zero_knowledge"):
        _cfg("yes")


def test_chain_of_zero_knowledge_proofs_refused(zk_proofs):
    """Hiding commitments are randomised, so consecutive ZK proofs cannot be linked by
    their commitments: a clear refusal naming --no-zk, not a "does not continue"."""
    from zklora.zkcore import chain
    a, b = zk_proofs
    with pytest.raises(ConfigError, match="cannot be chained.*--no-zk"):
        chain.verify_chain([a.data, b.data])
