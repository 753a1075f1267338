"""The proof file: a versioned, strictly parsed binary container.

Layout (all integers little-endian)::

    magic        8 bytes   b"ZKLORA\\x00P"
    version      u16       FORMAT_VERSION
    flags        u16       0 (reserved; non-zero is rejected)
    stmt_len     u32       ≤ MAX_STATEMENT
    statement    stmt_len bytes of canonical JSON (sorted keys, no spaces, UTF-8)
    n_sections   u32       ≤ MAX_SECTIONS
    n_sections × { name_len u8 (1..64), name (ASCII [a-z0-9_.-]), length u64 }
    section payloads, in the same order, back to back; nothing after them.

Sections of a graph proof: ``model`` (optional: the base-model commitment document,
see `zklora.zkcore.modelcommit`), ``index`` (the [name, start, end] byte ranges of the
proof stream in a canonical compact binary form, `encode_index`; checked by the verifier
against the ranges it reads) and
``stream`` (the prover's messages).  Every length is checked against the bytes that
remain before anything is allocated, so a truncated, oversized or mutated file raises
`ProofFormatError` with a message — never another exception, never a hang.
"""

from __future__ import annotations

import json
import os
import re
import struct
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs

from .errors import ProofFormatError
from .graph import canonical_json

MAGIC = b"ZKLORA\x00P"
FORMAT_VERSION = 2  # 2: binary index section (1: canonical JSON index)
MAX_FILE = 4 << 30
MAX_STATEMENT = 16 << 20
MAX_SECTIONS = 64
_NAME = re.compile(rb"^[a-z0-9_.\-]{1,64}$")
REQUIRED_SECTIONS = ("index", "stream")
#: most rows an index section may hold (bounded work on a hostile file)
MAX_INDEX_ROWS = 1 << 20
OPTIONAL_SECTIONS = ("model",)


@attrs.frozen
class ProofFile:
    """A parsed proof file: statement (a JSON object) and named sections."""

    statement: Mapping[str, Any]
    sections: Mapping[str, bytes]

    def index(self) -> list[tuple[str, int, int]]:
        """The stream's section table (validated shape; contents checked by the verifier)."""
        return decode_index(self.sections["index"], len(self.sections["stream"]))


def _varint(x: int) -> bytes:
    out = bytearray()
    while True:
        b, x = x & 0x7F, x >> 7
        if not x:
            out.append(b)
            return bytes(out)
        out.append(b | 0x80)


def _common_prefix(a: bytes, b: bytes) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def encode_index(rows: Sequence[tuple[str, int, int]]) -> bytes:
    """The index section: ``varint(count)`` then, per row, ``varint(p)``, ``varint(k)``,
    ``k`` name bytes, ``varint(zigzag(start − previous end))``, ``varint(end − start)``,
    where the name is the previous row's first ``p`` bytes (``p`` their longest common
    prefix, exactly) followed by the ``k`` new bytes.  Varints are unsigned LEB128 in
    their shortest form, so every table has exactly one encoding and `decode_index`
    rejects every other byte string."""
    out = bytearray(_varint(len(rows)))
    prev_name, prev_end = b"", 0
    for name, start, end in rows:
        nb = name.encode("utf-8")
        if not 0 <= start <= end:
            raise ProofFormatError(f"index row {name!r}: bad range {start}..{end}")
        p = _common_prefix(prev_name, nb)
        d = start - prev_end
        out += _varint(p) + _varint(len(nb) - p) + nb[p:]
        out += _varint(2 * d if d >= 0 else -2 * d - 1) + _varint(end - start)
        prev_name, prev_end = nb, end
    return bytes(out)


class _IndexReader:
    def __init__(self, raw: bytes):
        self.raw, self.pos = raw, 0

    def varint(self) -> int:
        x = shift = 0
        while True:
            if self.pos >= len(self.raw):
                raise ProofFormatError("index section truncated")
            if shift > 63:
                raise ProofFormatError("index section: varint too long")
            b = self.raw[self.pos]
            self.pos += 1
            x |= (b & 0x7F) << shift
            if not b & 0x80:
                if b == 0 and shift:
                    raise ProofFormatError("index section: varint not in shortest form")
                return x
            shift += 7

    def take(self, n: int) -> bytes:
        if n > len(self.raw) - self.pos:
            raise ProofFormatError("index section truncated")
        b = self.raw[self.pos : self.pos + n]
        self.pos += n
        return b


def decode_index(raw: bytes, stream_len: int) -> list[tuple[str, int, int]]:
    """Parse an index section (`encode_index`) strictly: shortest varints, exact common
    prefixes, UTF-8 names, ranges inside a stream of ``stream_len`` bytes, nothing after
    the last row; `ProofFormatError` otherwise.  Every row takes at least four bytes, so
    the row count is checked against the section's size before anything is built."""
    r = _IndexReader(bytes(raw))
    count = r.varint()
    if count > MAX_INDEX_ROWS or 4 * count > len(raw) - r.pos:
        raise ProofFormatError(f"index section: {count} rows do not fit its "
                               f"{len(raw)} bytes (at most {MAX_INDEX_ROWS})")
    out: list[tuple[str, int, int]] = []
    prev_name, prev_end = b"", 0
    for i in range(count):
        p, k = r.varint(), r.varint()
        if p > len(prev_name):
            raise ProofFormatError(f"index row {i}: prefix longer than the previous name")
        name = prev_name[:p] + r.take(k)
        if _common_prefix(prev_name, name) != p:
            raise ProofFormatError(f"index row {i}: common prefix not maximal")
        z = r.varint()
        start = prev_end + (z >> 1 if not z & 1 else -((z + 1) >> 1))
        end = start + r.varint()
        if not 0 <= start <= end <= stream_len:
            raise ProofFormatError(f"index row {i}: range {start}..{end} outside the "
                                   f"{stream_len}-byte stream")
        try:
            text = name.decode("utf-8")
        except UnicodeDecodeError:
            raise ProofFormatError(f"index row {i}: name is not UTF-8") from None
        out.append((text, start, end))
        prev_name, prev_end = name, end
    if r.pos != len(raw):
        raise ProofFormatError(f"index section: {len(raw) - r.pos} bytes after the last row")
    return out


def _parse_canonical_json(raw: bytes, what: str):
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise ProofFormatError(f"{what} is not valid JSON") from None
    try:
        again = canonical_json(data)
    except (TypeError, ValueError, RecursionError):
        raise ProofFormatError(f"{what} is not canonical JSON") from None
    if again != raw:
        raise ProofFormatError(f"{what} is not in canonical form")
    return data


def encode(statement: Mapping[str, Any], sections: Mapping[str, bytes]) -> bytes:
    """Serialise a proof file."""
    stmt = canonical_json(statement)
    if len(stmt) > MAX_STATEMENT:
        raise ProofFormatError("statement too large")
    if len(sections) > MAX_SECTIONS:
        raise ProofFormatError("too many sections")
    out = bytearray(MAGIC)
    out += struct.pack("<HHI", FORMAT_VERSION, 0, len(stmt))
    out += stmt
    out += struct.pack("<I", len(sections))
    for name, payload in sections.items():
        nb = name.encode("ascii")
        if not _NAME.match(nb):
            raise ProofFormatError(f"bad section name {name!r}")
        out += struct.pack("<B", len(nb)) + nb + struct.pack("<Q", len(payload))
    for payload in sections.values():
        out += payload
    return bytes(out)


class _Reader:
    def __init__(self, data: bytes):
        self.data = memoryview(data)
        self.pos = 0

    def take(self, n: int, what: str) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ProofFormatError(
                f"proof file truncated: {what} needs {n} bytes at offset {self.pos}, "
                f"{len(self.data) - self.pos} left"
            )
        b = bytes(self.data[self.pos : self.pos + n])
        self.pos += n
        return b

    def unpack(self, fmt: str, what: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt), what))


def decode(data: bytes, required: Sequence[str] = REQUIRED_SECTIONS,
           optional: Sequence[str] = OPTIONAL_SECTIONS) -> ProofFile:
    """Parse a proof file strictly; `ProofFormatError` on any deviation."""
    if len(data) > MAX_FILE:
        raise ProofFormatError(f"proof file of {len(data)} bytes exceeds {MAX_FILE}")
    r = _Reader(data)
    if r.take(len(MAGIC), "magic") != MAGIC:
        raise ProofFormatError("not a zkLoRA proof file (bad magic)")
    version, flags, stmt_len = r.unpack("<HHI", "header")
    if version != FORMAT_VERSION:
        raise ProofFormatError(f"unsupported proof format version {version} "
                               f"(this zklora reads version {FORMAT_VERSION})")
    if flags != 0:
        raise ProofFormatError(f"unknown header flags {flags:#x}")
    if stmt_len > MAX_STATEMENT:
        raise ProofFormatError(f"statement length {stmt_len} exceeds {MAX_STATEMENT}")
    statement = _parse_canonical_json(r.take(stmt_len, "statement"), "statement")
    if not isinstance(statement, dict):
        raise ProofFormatError("statement must be a JSON object")
    (count,) = r.unpack("<I", "section count")
    if count > MAX_SECTIONS:
        raise ProofFormatError(f"{count} sections exceeds the maximum {MAX_SECTIONS}")
    heads = []
    for i in range(count):
        (nlen,) = r.unpack("<B", f"section {i} name length")
        name = r.take(nlen, f"section {i} name")
        if not _NAME.match(name):
            raise ProofFormatError(f"section {i}: invalid name {name[:64]!r}")
        (length,) = r.unpack("<Q", f"section {i} length")
        heads.append((name.decode("ascii"), length))
    sections: dict[str, bytes] = {}
    for name, length in heads:
        if name in sections:
            raise ProofFormatError(f"duplicate section {name!r}")
        sections[name] = r.take(length, f"section {name!r}")
    if r.pos != len(data):
        raise ProofFormatError(f"{len(data) - r.pos} trailing bytes after the last section")
    for name in required:
        if name not in sections:
            raise ProofFormatError(f"missing section {name!r}")
    for name in sections:
        if name not in required and name not in optional:
            raise ProofFormatError(f"unexpected section {name!r}")
    return ProofFile(statement, sections)


def read(path: str | Path) -> ProofFile:
    """Read and parse a proof file from disk."""
    p = Path(path)
    try:
        size = p.stat().st_size
        if size > MAX_FILE:
            raise ProofFormatError(f"{p}: {size} bytes exceeds the maximum proof size")
        data = p.read_bytes()
    except OSError as e:
        raise ProofFormatError(f"cannot read proof file {p}: {e.strerror}") from None
    return decode(data)


def write_atomic(path: str | Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically: a temp file in the same directory, then
    rename; an interrupted write leaves nothing behind."""
    p = Path(path)
    d = p.parent if str(p.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=d)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, p)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
