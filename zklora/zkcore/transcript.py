"""Fiat–Shamir transcript and the prover/verifier channels built on it.

The transcript is a hash chain: ``state ← H(domain ‖ state ‖ tag ‖ len(label) ‖ label ‖
len(data) ‖ data)``.  Challenges are squeezed as ``H(domain ‖ state ‖ "squeeze" ‖
counter)`` blocks and turned into field elements by rejection sampling
(`Field.sample`), so they are unbiased; every squeeze also advances the state.

The channels make "absorb everything the verifier sees" hold by construction: every
prover message goes through `ProverChannel.send_*`, which both records the bytes in the
proof stream and absorbs them; `VerifierChannel.recv_*` reads the same bytes from the
proof (strictly bounded) and absorbs them identically.  A proof is therefore the
concatenation of the prover's messages; sections label byte ranges for `inspect`.
"""

from __future__ import annotations

import hashlib
import struct
from collections.abc import Callable
from contextlib import contextmanager

import blake3
import numpy as np

from .errors import ProofFormatError
from .field import Field

HASHES: dict[str, Callable[[bytes], bytes]] = {
    "blake3": lambda b: blake3.blake3(b).digest(),
    "sha256": lambda b: hashlib.sha256(b).digest(),
}

DOMAIN = b"zklora/transcript/v1"


_Q = struct.Struct("<Q").pack
_QQ = struct.Struct("<QQ").unpack_from
_ZERO8 = _Q(0)
#: goldilocks' p; `Transcript.sample`'s ext2 path takes a squeeze word below it as it is
_P = (1 << 64) - (1 << 32) + 1
_EXT2 = "goldilocks-ext2"


def _lp(b: bytes) -> bytes:
    return _Q(len(b)) + b


class _Reader:
    """The squeeze byte stream of one challenge: blocks H(seed ‖ counter), read in order
    (the first block is made on the first read; a rejection sample may read further)."""

    __slots__ = ("_h", "_seed", "_buf", "_pos", "_ctr")

    def __init__(self, h: Callable[[bytes], bytes], seed: bytes):
        self._h = h
        self._seed = seed
        self._buf = b""
        self._pos = 0
        self._ctr = 0

    def __call__(self, n: int) -> bytes:
        pos = self._pos
        end = pos + n
        if end > len(self._buf):
            buf = self._buf[pos:]
            while len(buf) < n:
                buf += self._h(self._seed + _Q(self._ctr))
                self._ctr += 1
            self._buf, pos, end = buf, 0, n
        self._pos = end
        return self._buf[pos:end]


class Transcript:
    """Domain-separated Fiat–Shamir hash chain with `observe`, `sample`, `sample_vec`."""

    def __init__(self, protocol: bytes | str, hash: str = "blake3"):
        if hash not in HASHES:
            raise ValueError(f"unknown transcript hash {hash!r}; allowed: {sorted(HASHES)}")
        self.hash_name = hash
        self._h = HASHES[hash]
        if isinstance(protocol, str):
            protocol = protocol.encode()
        self.state = self._h(DOMAIN + _lp(hash.encode()) + _lp(protocol))
        from . import zk  # (zk imports the sumcheck, which imports this module)

        if zk.enabled():   # a ZK proof never verifies as a non-ZK one, nor the reverse
            self.observe("zero_knowledge", zk.TRANSCRIPT_TAG)

    def observe(self, label: str, data: bytes) -> None:
        """Absorb ``data`` under ``label``."""
        lab = label.encode()
        self.state = self._h(b"".join((DOMAIN, self.state, b"A", _Q(len(lab)), lab,
                                       _Q(len(data)), data)))

    def _reader(self, label: str) -> Callable[[int], bytes]:
        pre = DOMAIN + self.state
        lab = _lp(label.encode())
        seed = self._h(pre + b"S" + lab)
        # the squeeze itself is absorbed so consecutive challenges differ
        self.state = self._h(pre + b"Q" + lab)
        return _Reader(self._h, seed)

    def sample(self, label: str, field: Field) -> np.ndarray:
        """One unbiased challenge element of ``field``.  Over goldilocks-ext2 with the
        default reader (`_reader` returned a `_Reader`): the two leading words of the
        first squeeze block when both are below p, which are what the rejection sampler's
        first two reads return (the same element; the state was advanced by `_reader`);
        else, and for any other reader (a patched `_reader`), `Field.sample` reads."""
        read = self._reader(label)
        if type(read) is _Reader and getattr(field, "name", None) == _EXT2:
            block = read._h(read._seed + _ZERO8)
            if len(block) >= 16:
                a, b = _QQ(block, 0)
                if a < _P and b < _P:
                    return np.array((a, b), np.uint64)
        return field.sample(read)

    def sample_vec(self, label: str, field: Field, n: int) -> np.ndarray:
        """``n`` unbiased challenge elements of ``field`` (array of shape (n,)+elem).
        Over goldilocks-ext2 with the default reader: the first 16·n bytes of the squeeze
        stream (blocks H(seed ‖ counter) in order) as n pairs of little-endian words when
        every word is below p — what the rejection sampler reads then, 8 bytes a word;
        else, and for any other reader, `Field.sample` reads (from the stream's start: the
        fast path reads nothing from the reader; the state was advanced by `_reader`)."""
        read = self._reader(label)
        if n > 0 and type(read) is _Reader and getattr(field, "name", None) == _EXT2:
            h, seed = read._h, read._seed
            need = 16 * n
            block = h(seed + _ZERO8)
            if block:
                ctr, blocks, have = 1, [block], len(block)
                while have < need:
                    block = h(seed + _Q(ctr))
                    blocks.append(block)
                    have += len(block)
                    ctr += 1
                words = np.frombuffer(b"".join(blocks), "<u8", 2 * n)
                if int(words.max()) < _P:
                    return words.astype(np.uint64).reshape(n, 2)
        out = field.zeros(n)
        for i in range(n):
            out[i] = field.sample(read)
        return out

    def sample_bits(self, label: str, k: int) -> int:
        """A uniform integer in [0, 2^k)."""
        read = self._reader(label)
        v = int.from_bytes(read((k + 7) // 8), "little")
        return v & ((1 << k) - 1)

    def sample_index(self, label: str, n: int) -> int:
        """A uniform integer in [0, n), by rejection."""
        if n <= 0:
            raise ValueError("sample_index needs n > 0")
        k = max(1, (n - 1).bit_length())
        read = self._reader(label)
        while True:
            v = int.from_bytes(read((k + 7) // 8), "little") & ((1 << k) - 1)
            if v < n:
                return v

    def sample_indices(self, label: str, n: int, count: int) -> list[int]:
        """``count`` independent uniform integers in [0, n)."""
        k = max(1, (n - 1).bit_length())
        read = self._reader(label)
        out: list[int] = []
        while len(out) < count:
            v = int.from_bytes(read((k + 7) // 8), "little") & ((1 << k) - 1)
            if v < n:
                out.append(v)
        return out


class _Channel:
    """Shared challenge side of both channels."""

    transcript: Transcript
    #: called before every challenge is drawn; the graph kernel flushes deferred
    #: commitments through it (identically on both sides, so both streams agree)
    before_challenge: Callable[[], None] | None = None

    def _pre_challenge(self) -> None:
        if self.before_challenge is not None:
            self.before_challenge()

    def challenge(self, label: str, field: Field) -> np.ndarray:
        self._pre_challenge()
        return self.transcript.sample(label, field)

    def challenges(self, label: str, field: Field, n: int) -> np.ndarray:
        self._pre_challenge()
        return self.transcript.sample_vec(label, field, n)

    def challenge_indices(self, label: str, n: int, count: int) -> list[int]:
        self._pre_challenge()
        return self.transcript.sample_indices(label, n, count)

    def observe_public(self, label: str, data: bytes) -> None:
        """Absorb public data both sides know (statement parts); not written to the proof."""
        self.transcript.observe("public:" + label, data)


class ProverChannel(_Channel):
    """Writes prover messages into the proof stream and the transcript."""

    def __init__(self, transcript: Transcript):
        self.transcript = transcript
        self.buf = bytearray()
        self.sections: list[tuple[str, int, int]] = []
        self._stack: list[tuple[str, int]] = []

    def send_bytes(self, label: str, data: bytes) -> None:
        self.buf.extend(data)
        self.transcript.observe(label, data)

    def send_field(self, label: str, field: Field, a) -> None:
        self.send_bytes(label, field.encode(a))

    def send_u64(self, label: str, v: int) -> None:
        self.send_bytes(label, struct.pack("<Q", v))

    @contextmanager
    def section(self, name: str):
        start = len(self.buf)
        try:
            yield
        finally:
            self.sections.append((name, start, len(self.buf)))

    def proof_bytes(self) -> bytes:
        return bytes(self.buf)


class VerifierChannel(_Channel):
    """Reads prover messages from the proof stream, strictly, absorbing each."""

    def __init__(self, transcript: Transcript, data: bytes):
        self.transcript = transcript
        self.data = memoryview(bytes(data))
        self.pos = 0

    def recv_bytes(self, label: str, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProofFormatError(
                f"proof truncated: {label} needs {n} bytes at offset {self.pos}, "
                f"{len(self.data) - self.pos} left"
            )
        out = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        self.transcript.observe(label, out)
        return out

    def recv_field(self, label: str, field: Field, count: int) -> np.ndarray:
        """``count`` elements of ``field`` (shape (count,)+elem)."""
        return field.decode(self.recv_bytes(label, count * field.nbytes)).reshape(
            (count,) + field.elem_shape
        )

    def recv_scalar(self, label: str, field: Field) -> np.ndarray:
        return self.recv_field(label, field, 1).reshape(field.elem_shape)

    def recv_u64(self, label: str, maximum: int) -> int:
        v = struct.unpack("<Q", self.recv_bytes(label, 8))[0]
        if v > maximum:
            raise ProofFormatError(f"{label} = {v} exceeds its bound {maximum}")
        return v

    @contextmanager
    def section(self, name: str):
        yield

    def finish(self) -> None:
        """Reject trailing bytes: a proof must be consumed exactly."""
        if self.pos != len(self.data):
            raise ProofFormatError(
                f"proof has {len(self.data) - self.pos} unexpected trailing bytes"
            )
