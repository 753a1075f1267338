"""Issue 15 acceptance 2 on the tiny training step: two zero-knowledge proofs of the same
step with the same witness (zero knowledge is the `fast` default) share no 8-byte word of
the proof stream outside public framing.  Every message the prover writes is recorded:
field elements and digests (sumcheck rounds, claimed evaluations, Merkle roots, opened
columns and paths, masks) must all differ between the two proofs; the only words allowed
to repeat are the `send_u64` counts (lengths fixed by the statement's shapes).  The
statement, the base-model commitment (public, binding) and the index are other sections
of the file, not the stream."""

from __future__ import annotations

from unittest import mock

import pytest

from zklora.zkcore import api, config, proof
from zklora.zkcore.transcript import ProverChannel


def _words(b: bytes) -> set[bytes]:
    return {b[i:i + 8] for i in range(0, len(b) - 7, 8)}


def _prove_recorded():
    log: list[tuple[str, bytes, bool]] = []
    send_bytes, send_u64 = ProverChannel.send_bytes, ProverChannel.send_u64
    in_u64 = [False]

    def rec_bytes(self, label, data):
        log.append((label, bytes(data), in_u64[0]))
        return send_bytes(self, label, data)

    def rec_u64(self, label, v):
        in_u64[0] = True
        try:
            return send_u64(self, label, v)
        finally:
            in_u64[0] = False

    cfg = config.from_dict({"task": {"model": "llama-train"}})
    assert cfg.zero_knowledge, "zero knowledge is the fast profile's default"
    with mock.patch.object(ProverChannel, "send_bytes", rec_bytes), \
            mock.patch.object(ProverChannel, "send_u64", rec_u64):
        res = api.prove(cfg)
    return res, log


@pytest.fixture(scope="module")
def two_proofs():
    return _prove_recorded(), _prove_recorded()


def test_every_stream_byte_is_a_recorded_message(two_proofs):
    for res, log in two_proofs:
        stream = proof.decode(res.data).sections["stream"]
        assert sum(len(d) for _, d, _ in log) == len(stream)


def test_two_proofs_share_no_message_word(two_proofs):
    (ra, la), (rb, lb) = two_proofs
    # one statement up to the hiding commitments (randomised: they differ too)
    hid = {"model_commitment", "commitments"}
    assert {k: v for k, v in ra.statement.items() if k not in hid} == \
        {k: v for k, v in rb.statement.items() if k not in hid}
    msg_a = _words(b"".join(d for _, d, u in la if not u))
    msg_b = _words(b"".join(d for _, d, u in lb if not u))
    assert len(msg_a) > 10_000
    shared = msg_a & msg_b
    assert not shared, f"{len(shared)} words of the messages repeat"
    # the repeated words of the whole stream are framing counts only
    sa = _words(proof.decode(ra.data).sections["stream"])
    sb = _words(proof.decode(rb.data).sections["stream"])
    counts = _words(b"".join(d for _, d, u in la if u)) | _words(
        b"".join(d for _, d, u in lb if u))
    assert sa & sb <= counts
    assert all(int.from_bytes(w, "little") < 1 << 32 for w in sa & sb)


def test_without_zero_knowledge_the_streams_are_equal():
    """Control: the same step without zero knowledge is deterministic (so the test above
    measures the masks, not run-to-run noise)."""
    cfg = config.from_dict({"task": {"model": "llama-train"}}, zero_knowledge=False)
    a, b = api.prove(cfg), api.prove(cfg)
    assert proof.decode(a.data).sections["stream"] == proof.decode(b.data).sections["stream"]
