"""Fiat–Shamir transcript and channels: pinned test vectors and channel strictness.

The vectors below pin the transcript format (domain, framing, squeeze, rejection
sampling of every field).  If one of these tests fails, the proof format changed: bump
the transcript DOMAIN / proof version on purpose, then regenerate the vectors with

    .venv/bin/python -c "import tests.test_transcript as t; t.print_vectors()"

and paste the printed lists into VECTORS.
"""

from __future__ import annotations

import numpy as np
import pytest

from zklora.plugins.fields.bls12_381 import BLS12_381_FR
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore.errors import ProofFormatError
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

E = GOLDILOCKS.ext
FR = BLS12_381_FR


def run_sequence(h: str) -> list:
    """A fixed sequence of observes and squeezes; returns what it produced."""
    T = Transcript("zklora/test-vector", hash=h)
    out: list = [T.state.hex()]
    T.observe("statement", b"hello")
    T.observe("empty", b"")
    out.append(E.encode(T.sample("c0", E)).hex())
    T.observe("msg", bytes(range(40)))
    out.append(GOLDILOCKS.encode(T.sample("c1", GOLDILOCKS)).hex())
    out.append(FR.encode(T.sample("c2", FR)).hex())
    out.append(E.encode(T.sample_vec("c3", E, 2)).hex())
    out.append(T.sample_bits("c4", 13))
    out.append(T.sample_index("c5", 1000))
    out.append(T.sample_indices("c6", 10, 4))
    out.append(T.state.hex())
    return out


VECTORS = {
    "blake3": [
        "a76459bb59921d9e82711f9188c7cc96c9d7843fe567bde108542653c3478426",
        "a25d89ff82a0770ad6114031a46b6d74",
        "73188276e516c432",
        "4b060dbcd368e6b4a9887ce255b5ee95e9c19e989d55f31fe95a995edd59585a",
        "450f1d0d87acb5612dac72c6c1406488c9e6b2c0df005fdd1298a31772a83121",
        7942,
        210,
        [8, 7, 3, 7],
        "bb02f4aec56f5a01f88634d073e3d4ecf6db0089a02975d1e136fee485e10459",
    ],
    "sha256": [
        "c1bb0677200e4f9e7209388dd330ac0655999a9bc0ef1de77854778043d062fb",
        "b7828e849d69ec2e84ad9e8913647ab4",
        "22c016bc4dcd972d",
        "ff01879ad439de41d175518119564e4bd761a1db9a9beecd506e6451e53bfa5a",
        "64c15e0ea4ae049a79983331d98e9a1f44eeeed7109c563c7cfbcd00892b129c",
        6770,
        660,
        [0, 1, 5, 3],
        "2f505f5f6299c2840e92a4f10979a2e87185532044342928f163ddcb8f3f7ec3",
    ],
}


def print_vectors() -> None:
    for h in VECTORS:
        print(h, run_sequence(h))


@pytest.mark.parametrize("h", sorted(VECTORS))
def test_pinned_vectors(h):
    assert run_sequence(h) == VECTORS[h]


def test_unknown_hash_and_protocol_separation():
    with pytest.raises(ValueError, match="allowed"):
        Transcript("p", hash="md5")
    a, b = Transcript("p1"), Transcript("p2")
    assert a.state != b.state
    assert Transcript("p1", hash="sha256").state != a.state
    # label and data framing: moving a byte between label and data changes the state
    x, y = Transcript("p"), Transcript("p")
    x.observe("ab", b"c")
    y.observe("a", b"bc")
    assert x.state != y.state


def test_challenges_depend_on_everything_and_advance():
    t1, t2 = Transcript("p"), Transcript("p")
    t1.observe("m", b"\x00")
    t2.observe("m", b"\x01")
    assert not E.equal(t1.sample("r", E), t2.sample("r", E))
    t = Transcript("p")
    c1, c2 = t.sample("r", E), t.sample("r", E)
    assert not E.equal(c1, c2)  # each squeeze advances the state
    t3, t4 = Transcript("p"), Transcript("p")
    assert not E.equal(t3.sample("r", E), t4.sample("s", E))


def test_sample_ranges():
    t = Transcript("ranges")
    for n in (1, 2, 3, 7, 1000, 2**33 + 5):
        assert all(0 <= v < n for v in t.sample_indices("i", n, 50))
        assert 0 <= t.sample_index("j", n) < n
    for k in (1, 8, 13, 64):
        assert 0 <= t.sample_bits("b", k) < 2**k
    with pytest.raises(ValueError):
        t.sample_index("j", 0)
    # roughly uniform: all of [0, 6) hit among 600 samples
    assert set(t.sample_indices("u", 6, 600)) == set(range(6))


def test_channels_agree_and_are_strict():
    pc = ProverChannel(Transcript("ch"))
    pc.observe_public("stmt", b"S")
    with pc.section("one"):
        pc.send_field("a", E, E.random(np.random.default_rng(0), 3))
        pc.send_u64("n", 42)
    c_p = pc.challenge("r", E)
    pc.send_bytes("tail", b"xyz")
    proof = pc.proof_bytes()
    assert pc.sections == [("one", 0, 3 * 16 + 8)]

    vc = VerifierChannel(Transcript("ch"), proof)
    vc.observe_public("stmt", b"S")
    vals = vc.recv_field("a", E, 3)
    assert vals.shape == (3, 2)
    assert vc.recv_u64("n", 100) == 42
    assert E.equal(vc.challenge("r", E), c_p)
    assert vc.recv_bytes("tail", 3) == b"xyz"
    vc.finish()

    # a different public statement gives different challenges
    vc = VerifierChannel(Transcript("ch"), proof)
    vc.observe_public("stmt", b"T")
    vc.recv_field("a", E, 3)
    vc.recv_u64("n", 100)
    assert not E.equal(vc.challenge("r", E), c_p)

    # truncation, bounds, trailing bytes
    vc = VerifierChannel(Transcript("ch"), proof[:10])
    with pytest.raises(ProofFormatError, match="truncated"):
        vc.recv_field("a", E, 3)
    vc = VerifierChannel(Transcript("ch"), proof)
    vc.recv_field("a", E, 3)
    with pytest.raises(ProofFormatError, match="bound"):
        vc.recv_u64("n", 41)
    vc = VerifierChannel(Transcript("ch"), proof + b"\x00")
    vc.recv_bytes("all", len(proof))
    with pytest.raises(ProofFormatError, match="trailing"):
        vc.finish()
    with pytest.raises(ProofFormatError):
        VerifierChannel(Transcript("ch"), b"").recv_bytes("x", -1)
    # a non-canonical element in the stream is a format error
    bad = b"\xff" * 16
    with pytest.raises(ProofFormatError):
        VerifierChannel(Transcript("ch"), bad).recv_scalar("a", E)
