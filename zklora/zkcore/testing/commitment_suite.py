"""Conformance suite for `CommitmentScheme` plugins, generic over the scheme and field.

Like arkworks' generic ``single_poly_test``: every check is a plain function taking a
`Harness` (scheme class, prime field, parameters, sizes, seed) and raising
`AssertionError` on a violation.  Any plugin — built-in or third-party — is checked by
running every function in `CHECKS`::

    from zklora.zkcore.testing.commitment_suite import CHECKS, Harness

    @pytest.mark.parametrize("check", CHECKS.values(), ids=CHECKS.keys())
    def test_my_scheme(check):
        check(Harness(MyScheme, my_field))

or `run_all(Harness(...))`.  What is checked: commit/open/verify round trips at random
points over several sizes (0 variables included), batched openings (several tensors,
several and repeated claims per tensor, several of the same size, one shared proof), the
exact commitment size, determinism of non-hiding commitments, and that the verifier rejects — with
`VerificationError` or `ProofFormatError`, never any other exception — a wrong value, a
wrong point, a point of the wrong dimension, a tampered commitment, a commitment of the
wrong length, a tampered proof byte, a truncated or extended proof, a field element ≥ p
spliced into the proof, a tensor changed after commitment, and a wrong number of
variables.  Proofs are read with a fresh transcript seeded identically on both sides, and
must be consumed exactly (`VerifierChannel.finish`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import numpy as np

from zklora.zkcore import mle
from zklora.zkcore.commit import CheckItem, CommitmentScheme, Evaluation, OpenItem
from zklora.zkcore.errors import ProofFormatError, VerificationError
from zklora.zkcore.field import Field
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

REJECT = (VerificationError, ProofFormatError)
PROTOCOL = b"zklora/commitment-suite/v1"


@attrs.define
class Harness:
    """What the checks run against.

    ``sizes`` are the numbers of variables of the small round-trip tables; ``large`` is
    one larger size used by the round-trip and tamper checks (schemes that switch
    strategy with the size, like ligero's direct opening of small tables, should be
    exercised on both sides of the switch)."""

    scheme_cls: type[CommitmentScheme]
    field: Field
    params: Mapping[str, Any] = attrs.field(factory=dict)
    sizes: Sequence[int] = (0, 1, 3, 6)
    large: int = 13
    seed: int = 1234
    hash: str = "blake3"

    def scheme(self) -> CommitmentScheme:
        return self.scheme_cls(self.field, dict(self.params))

    def rng(self, salt: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, salt])


@attrs.define
class Opened:
    """A batched opening and everything needed to check it."""

    items: list[CheckItem]
    proof: bytes
    tables: list[np.ndarray]


def random_table(h: Harness, rng: np.random.Generator, n: int) -> np.ndarray:
    return h.field.random(rng, 1 << n)


def bump(F: Field, table: np.ndarray, i: int) -> np.ndarray:
    """A copy of ``table`` with entry i increased by one."""
    out = table.copy()
    out[i:i + 1] = F.add(out[i:i + 1], F.scalar(1))
    return out


def claims_for(h: Harness, rng: np.random.Generator, table: np.ndarray, n: int,
               count: int) -> list[Evaluation]:
    E = h.field.ext
    out = []
    for _ in range(count):
        r = E.random(rng, n)
        out.append(Evaluation(r, mle.evaluate(E, table, r, base=True)))
    return out


def prove(h: Harness, scheme: CommitmentScheme, states: Sequence[Any],
          evals: Sequence[Sequence[Evaluation]]) -> bytes:
    ch = ProverChannel(Transcript(PROTOCOL, h.hash))
    scheme.open(ch, [OpenItem(s, list(e)) for s, e in zip(states, evals)])
    return ch.proof_bytes()


def check(h: Harness, scheme: CommitmentScheme, items: Sequence[CheckItem],
          proof: bytes) -> None:
    """Verify and require the proof to be consumed exactly."""
    ch = VerifierChannel(Transcript(PROTOCOL, h.hash), proof)
    scheme.verify(ch, list(items))
    ch.finish()


def expect_reject(h: Harness, scheme: CommitmentScheme, items: Sequence[CheckItem],
                  proof: bytes, what: str) -> None:
    try:
        check(h, scheme, items, proof)
    except REJECT:
        return
    except Exception as e:  # noqa: BLE001 - the point is to catch anything else
        raise AssertionError(f"{what}: verifier raised {type(e).__name__} ({e}) instead of "
                             "VerificationError/ProofFormatError") from e
    raise AssertionError(f"{what}: verifier accepted")


def open_batch(h: Harness, sizes: Sequence[int], claims: int = 1, salt: int = 0) -> Opened:
    """Commit to one random table per size, prove ``claims`` random claims on each."""
    scheme = h.scheme()
    rng = h.rng(salt)
    tables, states, items, evals = [], [], [], []
    for n in sizes:
        t = random_table(h, rng, n)
        com, st = scheme.commit(t)
        assert isinstance(com, bytes), "commitment must be bytes"
        assert len(com) == scheme.commitment_size(n), "commitment_size is not exact"
        ev = claims_for(h, rng, t, n, claims)
        tables.append(t)
        states.append(st)
        evals.append(ev)
        items.append(CheckItem(com, n, ev))
    proof = prove(h, scheme, states, evals)
    return Opened(items, proof, tables)


def _replace_eval(items: Sequence[CheckItem], k: int, j: int, ev: Evaluation):
    out = [CheckItem(it.commitment, it.num_vars, list(it.evals)) for it in items]
    out[k].evals[j] = ev
    return out


# -- checks --------------------------------------------------------------------------


def check_roundtrip(h: Harness) -> None:
    """Single tensors of every size (and the large one) open and verify."""
    for i, n in enumerate(list(h.sizes) + [h.large]):
        o = open_batch(h, [n], claims=1, salt=100 + i)
        check(h, h.scheme(), o.items, o.proof)


def check_batched(h: Harness) -> None:
    """Several tensors, several claims each (one repeated), in one proof."""
    scheme = h.scheme()
    rng = h.rng(200)
    sizes = list(h.sizes) + [h.large, h.sizes[-1]]
    states, items, evals = [], [], []
    for n in sizes:
        t = random_table(h, rng, n)
        com, st = scheme.commit(t)
        ev = claims_for(h, rng, t, n, 3)
        ev.append(ev[0])
        states.append(st)
        evals.append(ev)
        items.append(CheckItem(com, n, ev))
    proof = prove(h, scheme, states, evals)
    check(h, scheme, items, proof)
    # a claim on the Boolean hypercube is the table entry itself
    t = random_table(h, rng, 4)
    com, st = scheme.commit(t)
    E = h.field.ext
    bits = E.from_ints(np.array([1, 0, 1, 1]))  # flat index 0b1101 = 13
    ev = [Evaluation(bits, E.embed(t[13]))]
    check(h, scheme, [CheckItem(com, 4, ev)], prove(h, scheme, [st], [ev]))


def check_empty(h: Harness) -> None:
    """An opening of nothing is empty and verifies."""
    scheme = h.scheme()
    proof = prove(h, scheme, [], [])
    check(h, scheme, [], proof)


def check_deterministic(h: Harness) -> None:
    """A non-hiding scheme commits to equal tables identically, to different ones not."""
    scheme = h.scheme()
    rng = h.rng(300)
    t = random_table(h, rng, h.sizes[-1])
    c1, _ = scheme.commit(t)
    c2, _ = scheme.commit(t.copy())
    if not scheme.hiding:
        assert c1 == c2, "non-hiding commitment is not deterministic"
    u = bump(h.field, t, 0)
    assert scheme.commit(u)[0] != c1, "different tables gave the same commitment"


def check_wrong_value(h: Harness) -> None:
    E = h.field.ext
    for n in (h.sizes[-1], h.large):
        o = open_batch(h, [h.sizes[1], n], claims=2, salt=400 + n)
        ev = o.items[1].evals[1]
        bad = Evaluation(ev.point, E.add(ev.value, E.scalar(1)))
        expect_reject(h, h.scheme(), _replace_eval(o.items, 1, 1, bad), o.proof,
                      f"wrong value (n={n})")


def check_wrong_point(h: Harness) -> None:
    E = h.field.ext
    for n in (h.sizes[-1], h.large):
        o = open_batch(h, [n], claims=2, salt=500 + n)
        ev = o.items[0].evals[0]
        p = ev.point.copy()
        p[n - 1] = E.add(p[n - 1], E.scalar(1))
        expect_reject(h, h.scheme(), _replace_eval(o.items, 0, 0, Evaluation(p, ev.value)),
                      o.proof, f"wrong point (n={n})")
        short = Evaluation(ev.point[:-1], ev.value)
        expect_reject(h, h.scheme(), _replace_eval(o.items, 0, 0, short), o.proof,
                      f"point of the wrong dimension (n={n})")


def check_tampered_commitment(h: Harness) -> None:
    for n in (h.sizes[-1], h.large):
        o = open_batch(h, [n], claims=1, salt=600 + n)
        com = o.items[0].commitment
        for pos in sorted({0, len(com) // 2, len(com) - 1}):
            bad = bytearray(com)
            bad[pos] ^= 0x01
            items = [CheckItem(bytes(bad), n, o.items[0].evals)]
            expect_reject(h, h.scheme(), items, o.proof, f"commitment byte {pos} flipped")
        for bad in (com[:-1], com + b"\x00", b""):
            items = [CheckItem(bad, n, o.items[0].evals)]
            expect_reject(h, h.scheme(), items, o.proof,
                          f"commitment of {len(bad)} bytes instead of {len(com)}")


def check_wrong_num_vars(h: Harness) -> None:
    o = open_batch(h, [h.sizes[-1]], claims=1, salt=650)
    it = o.items[0]
    for n in (it.num_vars - 1, it.num_vars + 1):
        expect_reject(h, h.scheme(), [CheckItem(it.commitment, n, it.evals)], o.proof,
                      f"num_vars {n} instead of {it.num_vars}")


def tamper_positions(length: int, rng: np.random.Generator, count: int = 24) -> list[int]:
    """First, last, middle and random byte positions of a proof."""
    if length == 0:
        return []
    pos = {0, length - 1, length // 2}
    pos.update(int(x) for x in rng.integers(0, length, size=min(count, length)))
    return sorted(pos)


def check_tampered_proof(h: Harness) -> None:
    """Flipping any one bit of the proof is rejected (sampled positions)."""
    for n in (h.sizes[-1], h.large):
        o = open_batch(h, [h.sizes[1], n], claims=2, salt=700 + n)
        for pos in tamper_positions(len(o.proof), h.rng(701 + n)):
            bad = bytearray(o.proof)
            bad[pos] ^= 1 << (pos % 8)
            expect_reject(h, h.scheme(), o.items, bytes(bad), f"proof byte {pos} flipped")


def check_proof_length(h: Harness) -> None:
    """Truncated or extended proofs are rejected."""
    for n in (h.sizes[-1], h.large):
        o = open_batch(h, [n], claims=1, salt=800 + n)
        for bad in (o.proof[:-1], o.proof[: len(o.proof) // 2], b"", o.proof + b"\x00"):
            if bad == o.proof:
                continue
            expect_reject(h, h.scheme(), o.items, bad,
                          f"proof of {len(bad)} bytes instead of {len(o.proof)}")


def check_non_canonical(h: Harness) -> None:
    """An all-ones word (≥ p for every shipped field) spliced into the proof at aligned
    positions is rejected."""
    w = h.field.nbytes
    for n in (h.sizes[-1], h.large):
        o = open_batch(h, [n], claims=1, salt=900 + n)
        L = len(o.proof)
        for pos in sorted({0, (L // 2) // w * w, max(0, (L - w) // w * w)}):
            if pos + w > L:
                continue
            bad = bytearray(o.proof)
            bad[pos:pos + w] = b"\xff" * w
            if bytes(bad) != o.proof:
                expect_reject(h, h.scheme(), o.items, bytes(bad),
                              f"all-ones element at byte {pos}")


def check_changed_tensor(h: Harness) -> None:
    """A tensor changed after commitment cannot be opened against the commitment:
    neither by opening another commitment's state, nor by mutating the committed array
    in place and claiming values of the mutated table."""
    F, E = h.field, h.field.ext
    scheme = h.scheme()
    for n in (h.sizes[-1], h.large):
        rng = h.rng(1000 + n)
        t = random_table(h, rng, n)
        com, _ = scheme.commit(t)
        u = bump(F, t, int(rng.integers(0, 1 << n)))
        _, st_u = scheme.commit(u)
        ev = claims_for(h, rng, u, n, 1)
        proof = prove(h, scheme, [st_u], [ev])
        expect_reject(h, scheme, [CheckItem(com, n, ev)], proof,
                      f"state of a changed tensor opened against the original (n={n})")
        # in-place mutation of the committed array
        a = t.copy()
        com_a, st_a = scheme.commit(a)
        i = 1 % (1 << n)
        a[i:i + 1] = F.add(a[i:i + 1], F.scalar(1))
        r = E.random(rng, n)
        ev = [Evaluation(r, mle.evaluate(E, a, r, base=True))]
        proof = prove(h, scheme, [st_a], [ev])
        expect_reject(h, scheme, [CheckItem(com_a, n, ev)], proof,
                      f"committed array mutated in place (n={n})")


def check_swapped_items(h: Harness) -> None:
    """Claims of one tensor are not accepted against another tensor's commitment."""
    o = open_batch(h, [h.sizes[-1], h.sizes[-1]], claims=1, salt=1100)
    a, b = o.items
    swapped = [CheckItem(a.commitment, a.num_vars, b.evals),
               CheckItem(b.commitment, b.num_vars, a.evals)]
    expect_reject(h, h.scheme(), swapped, o.proof, "claims swapped between tensors")


def check_batched_same_size(h: Harness) -> None:
    """Several tables of the same (large) size with a small one in between, in one proof
    (a scheme may open equal-size tables together, sharing its queries): round trip;
    a wrong value on each of the first, middle and last, a changed tensor in the
    middle and sampled bit flips are rejected."""
    F = h.field
    sizes = [h.large, h.sizes[1], h.large, h.large]
    o = open_batch(h, sizes, claims=2, salt=1200)
    scheme = h.scheme()
    check(h, scheme, o.items, o.proof)
    for k in (0, 2, 3):
        ev = o.items[k].evals[1]
        bad = Evaluation(ev.point, h.field.ext.add(ev.value, h.field.ext.scalar(1)))
        expect_reject(h, scheme, _replace_eval(o.items, k, 1, bad), o.proof,
                      f"wrong value on same-size table {k}")
    for pos in tamper_positions(len(o.proof), h.rng(1201), count=24):
        bad = bytearray(o.proof)
        bad[pos] ^= 1 << (pos % 8)
        expect_reject(h, scheme, o.items, bytes(bad), f"proof byte {pos} flipped (batch)")
    # the middle table changed after its commitment, its true claims opened
    rng = h.rng(1202)
    states, items, evals = [], [], []
    for k, n in enumerate(sizes):
        t = random_table(h, rng, n)
        com, st = scheme.commit(t)
        if k == 2:
            t = bump(F, t, int(rng.integers(0, 1 << n)))
            _, st = scheme.commit(t)
        ev = claims_for(h, rng, t, n, 1)
        states.append(st)
        evals.append(ev)
        items.append(CheckItem(com, n, ev))
    expect_reject(h, scheme, items, prove(h, scheme, states, evals),
                  "middle same-size tensor changed after commitment")


CHECKS: dict[str, Callable[[Harness], None]] = {
    "roundtrip": check_roundtrip,
    "batched": check_batched,
    "empty": check_empty,
    "deterministic": check_deterministic,
    "wrong_value": check_wrong_value,
    "wrong_point": check_wrong_point,
    "tampered_commitment": check_tampered_commitment,
    "wrong_num_vars": check_wrong_num_vars,
    "tampered_proof": check_tampered_proof,
    "proof_length": check_proof_length,
    "non_canonical": check_non_canonical,
    "changed_tensor": check_changed_tensor,
    "swapped_items": check_swapped_items,
    "batched_same_size": check_batched_same_size,
}


def run_all(h: Harness) -> None:
    """Run every check against one scheme/field (raises on the first violation)."""
    for check_fn in CHECKS.values():
        check_fn(h)
