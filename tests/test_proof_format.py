"""The proof container: round trip, strict parsing, and a mutation fuzz test in which
only the project's own error type may ever escape (never another exception, never a
hang)."""

from __future__ import annotations

import random
import struct

import pytest

from zklora.zkcore import api, config, proof
from zklora.zkcore.errors import ProofFormatError, ZkLoraError

SMALL = {"profile": "debug",
         "model": {"m": 4, "k": 8, "n": 2, "bound": 50, "seed": 3}}


@pytest.fixture(scope="module")
def small_proof():
    return api.prove(config.from_dict(SMALL)).data


def test_round_trip(small_proof):
    pf = proof.decode(small_proof)
    assert pf.statement["model"] == "matmul-example"
    assert proof.encode(pf.statement, pf.sections) == small_proof
    api.verify(small_proof)


@pytest.mark.parametrize("cut", [0, 1, 7, 8, 12, 16, 40, -33, -1])
def test_truncated(small_proof, cut):
    with pytest.raises(ProofFormatError):
        api.verify(small_proof[:cut])


def test_trailing_byte(small_proof):
    with pytest.raises(ProofFormatError, match="trailing"):
        api.verify(small_proof + b"\0")


def test_bad_magic_version_flags(small_proof):
    with pytest.raises(ProofFormatError, match="magic"):
        proof.decode(b"X" + small_proof[1:])
    bad = bytearray(small_proof)
    bad[8:10] = struct.pack("<H", 99)
    with pytest.raises(ProofFormatError, match="version 99"):
        proof.decode(bytes(bad))
    bad = bytearray(small_proof)
    bad[10:12] = struct.pack("<H", 1)
    with pytest.raises(ProofFormatError, match="flags"):
        proof.decode(bytes(bad))


def test_oversized_lengths_do_not_allocate(small_proof):
    bad = bytearray(small_proof)
    bad[12:16] = struct.pack("<I", 0xFFFFFFFF)
    with pytest.raises(ProofFormatError, match="statement length"):
        proof.decode(bytes(bad))
    pf = proof.decode(small_proof)
    head = proof.encode(pf.statement, {"index": b"", "stream": b""})
    # claim a 2^60-byte section: must be a truncation error, not a MemoryError
    off = head.index(b"stream") + len(b"stream")
    evil = bytearray(head)
    evil[off : off + 8] = struct.pack("<Q", 1 << 60)
    with pytest.raises(ProofFormatError, match="truncated"):
        proof.decode(bytes(evil))


def test_non_canonical_statement(small_proof):
    pf = proof.decode(small_proof)
    import json

    loose = json.dumps(pf.statement).encode()  # spaces: not canonical
    data = bytearray(small_proof[:12]) + struct.pack("<I", len(loose)) + loose
    rest = small_proof[16 + len(proof.canonical_json(pf.statement)):]
    with pytest.raises(ProofFormatError, match="canonical"):
        proof.decode(bytes(data) + rest)


def test_sections_strict(small_proof):
    pf = proof.decode(small_proof)
    with pytest.raises(ProofFormatError, match="missing"):
        proof.decode(proof.encode(pf.statement, {"stream": pf.sections["stream"]}))
    with pytest.raises(ProofFormatError, match="unexpected"):
        proof.decode(proof.encode(pf.statement, {**pf.sections, "extra": b""}))


@pytest.mark.parametrize("field,value", [("model", "nope"), ("zklora", 1), ("zklora", 3),
                                         ("stack", {"field": "goldilocks"}),
                                         ("params", {"m": 3, "k": 8, "n": 2, "bound": 50})])
def test_statement_fields_checked(small_proof, field, value):
    pf = proof.decode(small_proof)
    st = dict(pf.statement)
    st[field] = value
    with pytest.raises(ZkLoraError):
        api.verify(proof.encode(st, pf.sections))


def test_statement_change_rejected(small_proof):
    """A valid-looking statement with other public parameters fails verification."""
    pf = proof.decode(small_proof)
    st = dict(pf.statement)
    st["params"] = dict(st["params"], bound=51)
    with pytest.raises(ZkLoraError):
        api.verify(proof.encode(st, pf.sections))


def _mutate(rng: random.Random, data: bytes) -> bytes:
    d = bytearray(data)
    kind = rng.randrange(6)
    # half of the point mutations hit the header, statement and section table
    span = len(d) if rng.random() < 0.5 else min(len(d), 600)
    if kind == 0:  # flip a bit
        i = rng.randrange(span)
        d[i] ^= 1 << rng.randrange(8)
    elif kind == 1:  # random byte
        d[rng.randrange(span)] = rng.randrange(256)
    elif kind == 2:  # truncate
        d = d[: rng.randrange(len(d))]
    elif kind == 3:  # insert bytes
        i = rng.randrange(len(d) + 1)
        d[i:i] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9)))
    elif kind == 4:  # delete a range
        i = rng.randrange(len(d))
        del d[i : i + rng.randrange(1, 17)]
    else:  # overwrite a little-endian length-like word near the header
        i = rng.randrange(min(len(d), 256))
        d[i : i + 4] = struct.pack("<I", rng.choice([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, len(d)]))
    return bytes(d)


def test_mutation_fuzz(small_proof):
    """≥ 2,000 mutated files: every one is rejected with a ZkLoraError."""
    rng = random.Random(20261125)
    accepted = 0
    for _ in range(2000):
        bad = _mutate(rng, small_proof)
        if bad == small_proof:
            continue
        try:
            api.verify(bad)
            accepted += 1
        except ZkLoraError:
            pass
    assert accepted == 0
