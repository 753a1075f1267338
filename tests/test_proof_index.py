"""The index section's canonical binary form: round trip, exactly one encoding per table
(every other byte string is refused with `ProofFormatError`), bounded work on a hostile
section, and a proof whose index names other ranges is rejected by the verifier."""

from __future__ import annotations

import random

import pytest

from zklora.zkcore import api, config, proof
from zklora.zkcore.errors import ProofFormatError, ZkLoraError

ROWS = [("commitments", 0, 64), ("outputs", 64, 1600), ("bounds", 1600, 1700),
        ("segment/outputs:s0/embed", 1708, 1800), ("op:rescale:s0/fwd/l1.q.A", 1800, 1816),
        ("op:rescale:s0/fwd/l1.q.B", 1816, 1832), ("op:rescale:s0/fwd/l1.q.B", 1832, 1832),
        ("segment:0:s0", 1700, 1900), ("é/ü", 1900, 1900), ("", 1900, 2000),
        ("openings", 2000, 300000)]
STREAM = 300000


def test_round_trip_and_size():
    raw = proof.encode_index(ROWS)
    assert proof.decode_index(raw, STREAM) == ROWS
    assert proof.decode_index(proof.encode_index([]), 0) == []
    # prefix sharing and deltas: smaller than the canonical JSON of the same table
    assert len(raw) < len(proof.canonical_json([list(r) for r in ROWS])) / 2


def test_every_single_byte_change_is_refused_or_another_table():
    """Canonical: a decoded table re-encodes to exactly the bytes it came from, so no
    two byte strings name the same table."""
    raw = proof.encode_index(ROWS)
    rng = random.Random(5)
    for i in range(len(raw)):
        for v in {raw[i] ^ 1, raw[i] ^ 0x80, rng.randrange(256)} - {raw[i]}:
            bad = raw[:i] + bytes([v]) + raw[i + 1:]
            try:
                rows = proof.decode_index(bad, STREAM)
            except ProofFormatError:
                continue
            assert rows != ROWS
            assert proof.encode_index(rows) == bad


@pytest.mark.parametrize("cut", range(1, 12))
def test_truncated_and_trailing(cut):
    raw = proof.encode_index(ROWS)
    with pytest.raises(ProofFormatError):
        proof.decode_index(raw[:-cut], STREAM)
    with pytest.raises(ProofFormatError, match="after the last row"):
        proof.decode_index(raw + b"\0" * cut, STREAM)


def test_non_shortest_varint_refused():
    # count 1 as 0x81 0x00 instead of 0x01
    raw = proof.encode_index([("a", 0, 5)])
    assert raw[0] == 1
    with pytest.raises(ProofFormatError, match="shortest"):
        proof.decode_index(b"\x81\x00" + raw[1:], 5)


def test_non_maximal_prefix_refused():
    good = proof.encode_index([("ab", 0, 1), ("ac", 1, 2)])
    # second row written as prefix 0 + "ac" instead of prefix 1 + "c"
    first = proof.encode_index([("ab", 0, 1)])[1:]
    bad = b"\x02" + first + b"\x00\x02ac\x00\x01"
    assert proof.decode_index(good, 2) == [("ab", 0, 1), ("ac", 1, 2)]
    with pytest.raises(ProofFormatError, match="prefix"):
        proof.decode_index(bad, 2)
    with pytest.raises(ProofFormatError, match="prefix"):  # longer than the previous name
        proof.decode_index(b"\x01\x05\x00\x00\x00", 2)


def test_ranges_checked_against_the_stream():
    raw = proof.encode_index(ROWS)
    with pytest.raises(ProofFormatError, match="outside"):
        proof.decode_index(raw, STREAM - 1)
    with pytest.raises(ProofFormatError, match="outside"):  # start before byte 0
        proof.decode_index(b"\x01\x00\x01a\x01\x00", 10)
    with pytest.raises(ProofFormatError):
        proof.encode_index([("a", 5, 4)])


def test_hostile_counts_do_not_allocate():
    for count in (1 << 20, (1 << 62) - 1):
        raw = proof._varint(count) + b"\0" * 16
        with pytest.raises(ProofFormatError, match="rows do not fit"):
            proof.decode_index(raw, 10)
    with pytest.raises(ProofFormatError, match="too long"):
        proof.decode_index(b"\xff" * 12, 10)
    with pytest.raises(ProofFormatError, match="UTF-8"):
        proof.decode_index(b"\x01\x00\x01\xff\x00\x00", 10)


@pytest.fixture(scope="module")
def small_proof():
    return api.prove(config.from_dict({
        "profile": "debug", "model": {"m": 4, "k": 8, "n": 2, "bound": 50, "seed": 3}})).data


def _with_index(data: bytes, rows) -> bytes:
    pf = proof.decode(data)
    return proof.encode(pf.statement, {**pf.sections, "index": proof.encode_index(rows)})


def test_proof_with_another_index_is_rejected(small_proof):
    rows = proof.decode(small_proof).index()
    assert len(rows) >= 2
    api.verify(_with_index(small_proof, rows))
    n, a, b = rows[0]
    for other in ([(n + "x", a, b)] + rows[1:], [(n, a, b - 1)] + rows[1:],
                  rows[1:], rows + [rows[-1]], list(reversed(rows))):
        with pytest.raises(ZkLoraError):
            api.verify(_with_index(small_proof, other))
