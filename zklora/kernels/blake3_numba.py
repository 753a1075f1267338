"""BLAKE3 in numba for many equal-length short messages (≤ 1024 bytes: one chunk).

Merkle trees hash hundreds of thousands of short, equal-length inputs (columns and
65-byte node preimages); one Python call per hash costs more than the hash itself.
`hash_many` hashes every row of an ``(n, L)`` uint8 array in a parallel numba loop and
returns exactly what ``blake3.blake3(row).digest()`` returns (checked in the tests
against the reference implementation for every length 0…1024).

Only the single-chunk case of BLAKE3 is implemented (chunk counter 0, the last block
flagged CHUNK_END | ROOT); longer messages go through the ``blake3`` package.  Words are
held in uint64 and masked to 32 bits, since numba promotes uint32 arithmetic — except in
the lane kernels (`_compress_lanes`): `LANES` messages of one length are hashed side by
side, every state word a row of LANES uint32 lanes, with 32-bit add / xor-rotate
intrinsics (`_add2`, `_add3`, `_xrot`: no promotion to 64 bits), so that LLVM vectorises
the loop over the lanes (one 512-bit register per state word with AVX-512, `vprold`
rotations).  Rows are handed over in groups of LANES; the remaining rows (fewer than
LANES) go through the one-message kernels.
"""

from __future__ import annotations

import sys

import blake3
import llvmlite.ir as ir
import numpy as np
from numba import njit, prange, types
from numba.extending import intrinsic

from .jit_util import _wide512

MAX_LEN = 1024
_M32 = np.uint64(0xFFFFFFFF)
_IV = np.array([0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
                0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19], dtype=np.uint64)
_PERM = np.array([2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8], dtype=np.int64)
_LE = sys.byteorder == "little"
CHUNK_START = 1
CHUNK_END = 2
ROOT = 8


@njit(inline="always", cache=True)
def _rotr(x, n):
    return ((x >> np.uint64(n)) | (x << np.uint64(32 - n))) & _M32


@njit(inline="always", cache=True)
def _gw(a, b, c, d, mx, my):
    """The G mixing function on four state words held in registers (returns them)."""
    a = (a + b + mx) & _M32
    d = _rotr(d ^ a, 16)
    c = (c + d) & _M32
    b = _rotr(b ^ c, 12)
    a = (a + b + my) & _M32
    d = _rotr(d ^ a, 8)
    c = (c + d) & _M32
    b = _rotr(b ^ c, 7)
    return a, b, c, d


@njit(cache=True)
def _compress_w(c0, c1, c2, c3, c4, c5, c6, c7, m0, m1, m2, m3, m4, m5, m6, m7,
                m8, m9, m10, m11, m12, m13, m14, m15, block_len, flags):
    """BLAKE3 compression (counter 0) with the chaining value, the block's words and the
    state all in local scalars (no arrays: the state stays in registers / the stack
    frame); returns the 8 words of the new chaining value.  A real call, not inlined
    into its callers (numba's IR inlining of it costs cold compile time, not speed)."""
    s0, s1, s2, s3, s4, s5, s6, s7 = c0, c1, c2, c3, c4, c5, c6, c7
    s8 = np.uint64(0x6A09E667)
    s9 = np.uint64(0xBB67AE85)
    s10 = np.uint64(0x3C6EF372)
    s11 = np.uint64(0xA54FF53A)
    s12 = np.uint64(0)
    s13 = np.uint64(0)
    s14 = np.uint64(block_len)
    s15 = np.uint64(flags)
    for _r in range(7):
        s0, s4, s8, s12 = _gw(s0, s4, s8, s12, m0, m1)
        s1, s5, s9, s13 = _gw(s1, s5, s9, s13, m2, m3)
        s2, s6, s10, s14 = _gw(s2, s6, s10, s14, m4, m5)
        s3, s7, s11, s15 = _gw(s3, s7, s11, s15, m6, m7)
        s0, s5, s10, s15 = _gw(s0, s5, s10, s15, m8, m9)
        s1, s6, s11, s12 = _gw(s1, s6, s11, s12, m10, m11)
        s2, s7, s8, s13 = _gw(s2, s7, s8, s13, m12, m13)
        s3, s4, s9, s14 = _gw(s3, s4, s9, s14, m14, m15)
        # the message permutation (_PERM), as a renaming of the scalars
        m0, m1, m2, m3, m4, m5, m6, m7, m8, m9, m10, m11, m12, m13, m14, m15 = (
            m2, m6, m3, m10, m7, m0, m4, m13, m1, m11, m12, m5, m9, m14, m15, m8)
    return (s0 ^ s8, s1 ^ s9, s2 ^ s10, s3 ^ s11, s4 ^ s12, s5 ^ s13, s6 ^ s14,
            s7 ^ s15)


@njit(inline="always", cache=True)
def _w4(row, q):
    """Little-endian word of ``row[q:q + 4]`` (q unsigned: no negative-index check, so
    the four loads combine into one)."""
    return (np.uint64(row[q]) | (np.uint64(row[q + np.uint64(1)]) << np.uint64(8))
            | (np.uint64(row[q + np.uint64(2)]) << np.uint64(16))
            | (np.uint64(row[q + np.uint64(3)]) << np.uint64(24)))


@njit(inline="always", cache=True)
def _word(row, p, length, off):
    """Little-endian word at byte p of the message ``tag ‖ row`` (``off`` = 1: a tag byte
    0x01 first; 0: the row alone) of ``length`` bytes, bytes past the end read as 0."""
    if p >= length:
        return np.uint64(0)
    if p >= off and p + 4 <= length:
        return _w4(row, np.uint64(p - off))
    v = np.uint64(0)
    for k in range(4):
        pos = p + k
        if pos < length:
            b = np.uint64(1) if pos < off else np.uint64(row[pos - off])
            v |= b << np.uint64(8 * k)
    return v


@njit(inline="always", cache=True)
def _put(out, k, nout, c):
    """Bytes 4k … 4k + 3 of a digest (word c) into ``out``, those below ``nout``."""
    j0 = 4 * k
    if j0 + 4 <= nout:
        out[j0] = np.uint8(c & np.uint64(0xFF))
        out[j0 + 1] = np.uint8((c >> np.uint64(8)) & np.uint64(0xFF))
        out[j0 + 2] = np.uint8((c >> np.uint64(16)) & np.uint64(0xFF))
        out[j0 + 3] = np.uint8(c >> np.uint64(24))
    else:
        for b in range(max(0, nout - j0)):
            out[j0 + b] = np.uint8((c >> np.uint64(8 * b)) & np.uint64(0xFF))


@njit(cache=True)
def _hash_msg(row, length, off, out, nout):
    """The first ``nout`` bytes of BLAKE3(``tag ‖ row`` or ``row``, see `_word`) of
    ``length`` ≤ 1024 bytes into ``out``; no allocation.  A full block whose bytes all
    come from ``row`` (after the tag) is read with unchecked word loads."""
    c0 = np.uint64(0x6A09E667)
    c1 = np.uint64(0xBB67AE85)
    c2 = np.uint64(0x3C6EF372)
    c3 = np.uint64(0xA54FF53A)
    c4 = np.uint64(0x510E527F)
    c5 = np.uint64(0x9B05688C)
    c6 = np.uint64(0x1F83D9AB)
    c7 = np.uint64(0x5BE0CD19)
    nblocks = max(1, (length + 63) // 64)
    for b in range(nblocks):
        st = b * 64
        flags = 0
        if b == 0:
            flags |= CHUNK_START
        if b == nblocks - 1:
            flags |= CHUNK_END | ROOT
        if st + 64 <= length:
            q = np.uint64(st - off + 4)  # word 1's first byte in row (st ≥ 0, off ≤ 1)
            c0, c1, c2, c3, c4, c5, c6, c7 = _compress_w(
                c0, c1, c2, c3, c4, c5, c6, c7, _word(row, st, length, off),
                _w4(row, q), _w4(row, q + np.uint64(4)), _w4(row, q + np.uint64(8)),
                _w4(row, q + np.uint64(12)), _w4(row, q + np.uint64(16)),
                _w4(row, q + np.uint64(20)), _w4(row, q + np.uint64(24)),
                _w4(row, q + np.uint64(28)), _w4(row, q + np.uint64(32)),
                _w4(row, q + np.uint64(36)), _w4(row, q + np.uint64(40)),
                _w4(row, q + np.uint64(44)), _w4(row, q + np.uint64(48)),
                _w4(row, q + np.uint64(52)), _w4(row, q + np.uint64(56)), 64, flags)
        else:
            c0, c1, c2, c3, c4, c5, c6, c7 = _compress_w(
                c0, c1, c2, c3, c4, c5, c6, c7,
                _word(row, st, length, off), _word(row, st + 4, length, off),
                _word(row, st + 8, length, off), _word(row, st + 12, length, off),
                _word(row, st + 16, length, off), _word(row, st + 20, length, off),
                _word(row, st + 24, length, off), _word(row, st + 28, length, off),
                _word(row, st + 32, length, off), _word(row, st + 36, length, off),
                _word(row, st + 40, length, off), _word(row, st + 44, length, off),
                _word(row, st + 48, length, off), _word(row, st + 52, length, off),
                _word(row, st + 56, length, off), _word(row, st + 60, length, off),
                length - st, flags)
    _put(out, 0, nout, c0)
    _put(out, 1, nout, c1)
    _put(out, 2, nout, c2)
    _put(out, 3, nout, c3)
    _put(out, 4, nout, c4)
    _put(out, 5, nout, c5)
    _put(out, 6, nout, c6)
    _put(out, 7, nout, c7)


@njit(inline="always", cache=True)
def _x(row, j, nw):
    """uint64 word j of ``row`` (0 past its ``nw`` words)."""
    return row[j] if j < nw else np.uint64(0)


@njit(cache=True)
def _hash_msg64(row, nw, out, nout):
    """`_hash_msg` of the 8·nw bytes of a uint64 row (little-endian words: each gives
    BLAKE3 two message words, no byte loads)."""
    c0 = np.uint64(0x6A09E667)
    c1 = np.uint64(0xBB67AE85)
    c2 = np.uint64(0x3C6EF372)
    c3 = np.uint64(0xA54FF53A)
    c4 = np.uint64(0x510E527F)
    c5 = np.uint64(0x9B05688C)
    c6 = np.uint64(0x1F83D9AB)
    c7 = np.uint64(0x5BE0CD19)
    length = 8 * nw
    nblocks = max(1, (nw + 7) // 8)
    for b in range(nblocks):
        j = 8 * b
        flags = 0
        if b == 0:
            flags |= CHUNK_START
        if b == nblocks - 1:
            flags |= CHUNK_END | ROOT
        x0 = _x(row, j, nw)
        x1 = _x(row, j + 1, nw)
        x2 = _x(row, j + 2, nw)
        x3 = _x(row, j + 3, nw)
        x4 = _x(row, j + 4, nw)
        x5 = _x(row, j + 5, nw)
        x6 = _x(row, j + 6, nw)
        x7 = _x(row, j + 7, nw)
        c0, c1, c2, c3, c4, c5, c6, c7 = _compress_w(
            c0, c1, c2, c3, c4, c5, c6, c7, x0 & _M32, x0 >> np.uint64(32), x1 & _M32,
            x1 >> np.uint64(32), x2 & _M32, x2 >> np.uint64(32), x3 & _M32,
            x3 >> np.uint64(32), x4 & _M32, x4 >> np.uint64(32), x5 & _M32,
            x5 >> np.uint64(32), x6 & _M32, x6 >> np.uint64(32), x7 & _M32,
            x7 >> np.uint64(32), min(64, length - 64 * b), flags)
    _put(out, 0, nout, c0)
    _put(out, 1, nout, c1)
    _put(out, 2, nout, c2)
    _put(out, 3, nout, c3)
    _put(out, 4, nout, c4)
    _put(out, 5, nout, c5)
    _put(out, 6, nout, c6)
    _put(out, 7, nout, c7)


@njit(cache=True)
def _compress(cv, m, block_len, flags, s, tmp):
    """BLAKE3 compression of block words ``m`` into the chaining value ``cv`` (in place:
    cv receives the first 8 output words; counter is 0).  ``m`` is left unchanged;
    ``s`` and ``tmp`` are unused scratch (kept for callers of the array form)."""
    r = _compress_w(cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
                    m[0], m[1], m[2], m[3], m[4], m[5], m[6], m[7], m[8], m[9], m[10],
                    m[11], m[12], m[13], m[14], m[15], block_len, flags)
    for i in range(8):
        cv[i] = r[i]


@njit(cache=True)
def _hash_one(data, length, out):
    """BLAKE3 of ``data[:length]`` (≤ 1024 bytes) into ``out[:32]``."""
    _hash_msg(data, length, 0, out, 32)


@njit(parallel=True, cache=True)
def _hash_rows(data, out):
    n, L = data.shape
    for i in prange(n):
        _hash_msg(data[i], L, 0, out[i], out.shape[1])


@njit(parallel=True, cache=True)
def _hash_rows64(data, out):
    """`_hash_rows` of rows given as uint64 words (8·L-byte messages)."""
    n, nw = data.shape
    for i in prange(n):
        _hash_msg64(data[i], nw, out[i], out.shape[1])


@njit(parallel=True, cache=True)
def _hash_pairs(level, out):
    """out[i] = BLAKE3(0x01 ‖ level[2i] ‖ level[2i + 1])[:w] (level (2n, w) seen as
    (n, 2w) rows): a Merkle level's parents without a copy of the preimages."""
    n, w2 = level.shape
    for i in prange(n):
        _hash_msg(level[i], w2 + 1, 1, out[i], out.shape[1])



# -- LANES messages at a time (SIMD across messages) -----------------------------------

#: messages hashed side by side by the lane kernels (16 uint32 = one AVX-512 register)
LANES = 16
#: groups of LANES rows handed to one prange iteration (scratch allocated per chunk)
_CHUNK = 64
_IV32 = _IV.astype(np.uint32)
#: the lane kernels prefetch the rows of the group this many groups ahead
PF_GROUPS = 2


@intrinsic
def _add2(typingctx, a, b):
    """a + b mod 2^32 on uint32 (numba would promote it to 64 bits)."""
    sig = types.uint32(types.uint32, types.uint32)

    def codegen(context, builder, signature, args):
        return builder.add(args[0], args[1])

    return sig, codegen


@intrinsic
def _add3(typingctx, a, b, c):
    """a + b + c mod 2^32 on uint32."""
    sig = types.uint32(types.uint32, types.uint32, types.uint32)

    def codegen(context, builder, signature, args):
        return builder.add(builder.add(args[0], args[1]), args[2])

    return sig, codegen


@intrinsic
def _xrot(typingctx, a, b, n):
    """rotr32(a ^ b, n) on uint32, n in 0..31 (a constant at every call: a rotate
    instruction once inlined; n = 0: the xor alone)."""
    sig = types.uint32(types.uint32, types.uint32, types.intp)

    def codegen(context, builder, signature, args):
        i32 = ir.IntType(32)
        x = builder.xor(args[0], args[1])
        k = builder.trunc(args[2], i32)
        left = builder.and_(builder.sub(ir.Constant(i32, 32), k), ir.Constant(i32, 31))
        return builder.or_(builder.lshr(x, k), builder.shl(x, left))

    return sig, codegen


@intrinsic
def _ld32(typingctx, arr, pos):
    """Little-endian uint32 at byte ``pos`` of a 1-d uint8 array (one unaligned load on
    a little-endian machine; no bounds check: pos + 4 ≤ len(arr))."""
    sig = types.uint32(arr, types.intp)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        v = builder.load(builder.bitcast(ptr, ir.IntType(32).as_pointer()), align=1)
        return v

    return sig, codegen


@intrinsic
def _st32(typingctx, arr, pos, val):
    """Store uint32 ``val`` little-endian at byte ``pos`` of a 1-d uint8 array (unaligned,
    no bounds check)."""
    sig = types.void(arr, types.intp, types.uint32)

    def codegen(context, builder, signature, args):
        ary = context.make_array(signature.args[0])(context, builder, args[0])
        ptr = builder.gep(ary.data, [args[1]])
        builder.store(args[2], builder.bitcast(ptr, ir.IntType(32).as_pointer()), align=1)
        return context.get_dummy_value()

    return sig, codegen


def _t16_masks(h: int) -> tuple[list[int], list[int]]:
    """Shuffle masks of one stage of the 16×16 transpose in `_ld_t16` (on the 32 words
    of two rows a ‖ b): the h×h blocks off the diagonal swapped, (i, c) ↔ (i ^ h, c ^ h)
    where bit h of the row i and of the column c differ."""
    lo = [c if c & h == 0 else 16 + c - h for c in range(16)]
    hi = [c + h if c & h == 0 else 16 + c for c in range(16)]
    return lo, hi


def _t16_transpose(builder, vt, rows: list) -> None:
    """Transpose the 16×16 words of ``rows`` (16 vectors of type ``vt``) in place, in
    registers: four stages of two-source shuffles (`_t16_masks`)."""
    for h in (8, 4, 2, 1):
        lo, hi = _t16_masks(h)
        mlo = ir.Constant(vt, lo)
        mhi = ir.Constant(vt, hi)
        for i in range(16):
            if i & h == 0:
                a, b = rows[i], rows[i + h]
                rows[i] = builder.shuffle_vector(a, b, mlo)
                rows[i + h] = builder.shuffle_vector(a, b, mhi)


def _t16_codegen(tag: bool):
    def codegen(context, builder, signature, args):
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        vt = ir.VectorType(i32, 16)
        src = context.make_array(signature.args[0])(context, builder, args[0])
        dst = context.make_array(signature.args[3])(context, builder, args[3])
        base = builder.bitcast(src.data, i8p)
        rows = []
        for j in range(16):
            off = builder.add(args[1], builder.mul(args[2], ir.Constant(args[2].type, j)))
            ptr = builder.bitcast(builder.gep(base, [off]), vt.as_pointer())
            rows.append(builder.load(ptr, align=1))
        _t16_transpose(builder, vt, rows)
        if tag:  # word k = (u[k] << 8) | (u[k − 1] >> 24), u[−1] >> 24 = the tag 0x01
            s8, s24 = ir.Constant(vt, [8] * 16), ir.Constant(vt, [24] * 16)
            prev = [ir.Constant(vt, [1] * 16)] + [builder.lshr(r, s24) for r in rows[:15]]
            rows = [builder.or_(builder.shl(r, s8), p) for r, p in zip(rows, prev)]
        dbase = builder.bitcast(dst.data, i8p)
        for k in range(16):
            ptr = builder.bitcast(builder.gep(dbase, [ir.Constant(ir.IntType(64), 64 * k)]),
                                  vt.as_pointer())
            builder.store(rows[k], ptr, align=4)
        return context.get_dummy_value()

    return codegen


@intrinsic
def _ld_t16(typingctx, arr, pos, stride, m):
    """m[k·16 + j] = the little-endian uint32 at byte pos + j·stride + 4k of ``arr``'s
    data, j, k < 16: 16 rows of 64 bytes (unaligned vector loads; no bounds check) into
    the lane layout of `_compress_lanes` (word k of lane j), transposed in registers
    (four stages of two-source shuffles) instead of 256 strided word loads."""
    return types.void(arr, types.intp, types.intp, m), _t16_codegen(False)


@intrinsic
def _ld_t16_tag(typingctx, arr, pos, stride, m):
    """`_ld_t16` of the messages 0x01 ‖ (the 16 windows): the window's words shifted one
    byte up, the tag in byte 0 (its last byte dropped) — block 0 of `_hash_tagged_lanes`."""
    return types.void(arr, types.intp, types.intp, m), _t16_codegen(True)


@intrinsic
def _put_t16(typingctx, cv, out, pos, nout):
    """Lanes 0 … 14 of the chaining values ``cv`` (8·16 uint32, word k of lane j at
    16k + j) as 32 little-endian bytes each at byte pos + j·nout of ``out``'s data, in
    increasing j: each store's bytes past nout are overwritten by the next lane's (16 ≤
    nout ≤ 32; lane 15 is the caller's, whose bytes must not run past its row)."""
    sig = types.void(cv, out, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        vt = ir.VectorType(i32, 16)
        v8 = ir.VectorType(i32, 8)
        src = context.make_array(signature.args[0])(context, builder, args[0])
        dst = context.make_array(signature.args[1])(context, builder, args[1])
        sbase = builder.bitcast(src.data, i8p)
        rows = []
        for k in range(8):
            ptr = builder.bitcast(builder.gep(sbase, [ir.Constant(ir.IntType(64), 64 * k)]),
                                  vt.as_pointer())
            rows.append(builder.load(ptr, align=4))
        rows += [ir.Constant(vt, [0] * 16)] * 8
        _t16_transpose(builder, vt, rows)
        dbase = builder.bitcast(dst.data, i8p)
        first8 = ir.Constant(v8, list(range(8)))
        for j in range(15):
            off = builder.add(args[2], builder.mul(args[3], ir.Constant(args[3].type, j)))
            ptr = builder.bitcast(builder.gep(dbase, [off]), v8.as_pointer())
            builder.store(builder.shuffle_vector(rows[j], rows[j], first8), ptr, align=1)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _pf16(typingctx, arr, pos, stride):
    """Prefetch (into every cache level) the bytes pos + j·stride … + 63 of ``arr``'s
    data, j < 16: the windows a later `_ld_t16` reads (a hint: no fault, no bounds
    check needed)."""
    sig = types.void(arr, types.intp, types.intp)

    def codegen(context, builder, signature, args):
        i8p = ir.IntType(8).as_pointer()
        i32 = ir.IntType(32)
        fnty = ir.FunctionType(ir.VoidType(), [i8p, i32, i32, i32])
        fn = builder.module.declare_intrinsic("llvm.prefetch", [i8p], fnty)
        src = context.make_array(signature.args[0])(context, builder, args[0])
        base = builder.bitcast(src.data, i8p)
        for j in range(16):
            off = builder.add(args[1], builder.mul(args[2], ir.Constant(args[2].type, j)))
            for e in (0, 63):
                ptr = builder.gep(base, [builder.add(off, ir.Constant(off.type, e))])
                builder.call(fn, [ptr, ir.Constant(i32, 0), ir.Constant(i32, 3),
                                  ir.Constant(i32, 1)])
        return context.get_dummy_value()

    return sig, codegen


@njit(inline="always", cache=True)
def _gl(a, b, c, d, mx, my):
    """`_gw` on uint32 words (32-bit intrinsics)."""
    a = _add3(a, b, mx)
    d = _xrot(d, a, 16)
    c = _add2(c, d)
    b = _xrot(b, c, 12)
    a = _add3(a, b, my)
    d = _xrot(d, a, 8)
    c = _add2(c, d)
    b = _xrot(b, c, 7)
    return a, b, c, d


@njit(inline="always", cache=True)
def _compress_l(s0, s1, s2, s3, s4, s5, s6, s7, m0, m1, m2, m3, m4, m5, m6, m7,
                m8, m9, m10, m11, m12, m13, m14, m15, block_len, flags):
    """`_compress_w` on uint32 words, its seven rounds written out (straight-line code
    for the lane loop of `_compress_lanes`; the message permutation as renaming)."""
    s8 = np.uint32(0x6A09E667)
    s9 = np.uint32(0xBB67AE85)
    s10 = np.uint32(0x3C6EF372)
    s11 = np.uint32(0xA54FF53A)
    s12 = np.uint32(0)
    s13 = np.uint32(0)
    s14 = block_len
    s15 = flags
    # round 0
    s0, s4, s8, s12 = _gl(s0, s4, s8, s12, m0, m1)
    s1, s5, s9, s13 = _gl(s1, s5, s9, s13, m2, m3)
    s2, s6, s10, s14 = _gl(s2, s6, s10, s14, m4, m5)
    s3, s7, s11, s15 = _gl(s3, s7, s11, s15, m6, m7)
    s0, s5, s10, s15 = _gl(s0, s5, s10, s15, m8, m9)
    s1, s6, s11, s12 = _gl(s1, s6, s11, s12, m10, m11)
    s2, s7, s8, s13 = _gl(s2, s7, s8, s13, m12, m13)
    s3, s4, s9, s14 = _gl(s3, s4, s9, s14, m14, m15)
    # round 1
    s0, s4, s8, s12 = _gl(s0, s4, s8, s12, m2, m6)
    s1, s5, s9, s13 = _gl(s1, s5, s9, s13, m3, m10)
    s2, s6, s10, s14 = _gl(s2, s6, s10, s14, m7, m0)
    s3, s7, s11, s15 = _gl(s3, s7, s11, s15, m4, m13)
    s0, s5, s10, s15 = _gl(s0, s5, s10, s15, m1, m11)
    s1, s6, s11, s12 = _gl(s1, s6, s11, s12, m12, m5)
    s2, s7, s8, s13 = _gl(s2, s7, s8, s13, m9, m14)
    s3, s4, s9, s14 = _gl(s3, s4, s9, s14, m15, m8)
    # round 2
    s0, s4, s8, s12 = _gl(s0, s4, s8, s12, m3, m4)
    s1, s5, s9, s13 = _gl(s1, s5, s9, s13, m10, m12)
    s2, s6, s10, s14 = _gl(s2, s6, s10, s14, m13, m2)
    s3, s7, s11, s15 = _gl(s3, s7, s11, s15, m7, m14)
    s0, s5, s10, s15 = _gl(s0, s5, s10, s15, m6, m5)
    s1, s6, s11, s12 = _gl(s1, s6, s11, s12, m9, m0)
    s2, s7, s8, s13 = _gl(s2, s7, s8, s13, m11, m15)
    s3, s4, s9, s14 = _gl(s3, s4, s9, s14, m8, m1)
    # round 3
    s0, s4, s8, s12 = _gl(s0, s4, s8, s12, m10, m7)
    s1, s5, s9, s13 = _gl(s1, s5, s9, s13, m12, m9)
    s2, s6, s10, s14 = _gl(s2, s6, s10, s14, m14, m3)
    s3, s7, s11, s15 = _gl(s3, s7, s11, s15, m13, m15)
    s0, s5, s10, s15 = _gl(s0, s5, s10, s15, m4, m0)
    s1, s6, s11, s12 = _gl(s1, s6, s11, s12, m11, m2)
    s2, s7, s8, s13 = _gl(s2, s7, s8, s13, m5, m8)
    s3, s4, s9, s14 = _gl(s3, s4, s9, s14, m1, m6)
    # round 4
    s0, s4, s8, s12 = _gl(s0, s4, s8, s12, m12, m13)
    s1, s5, s9, s13 = _gl(s1, s5, s9, s13, m9, m11)
    s2, s6, s10, s14 = _gl(s2, s6, s10, s14, m15, m10)
    s3, s7, s11, s15 = _gl(s3, s7, s11, s15, m14, m8)
    s0, s5, s10, s15 = _gl(s0, s5, s10, s15, m7, m2)
    s1, s6, s11, s12 = _gl(s1, s6, s11, s12, m5, m3)
    s2, s7, s8, s13 = _gl(s2, s7, s8, s13, m0, m1)
    s3, s4, s9, s14 = _gl(s3, s4, s9, s14, m6, m4)
    # round 5
    s0, s4, s8, s12 = _gl(s0, s4, s8, s12, m9, m14)
    s1, s5, s9, s13 = _gl(s1, s5, s9, s13, m11, m5)
    s2, s6, s10, s14 = _gl(s2, s6, s10, s14, m8, m12)
    s3, s7, s11, s15 = _gl(s3, s7, s11, s15, m15, m1)
    s0, s5, s10, s15 = _gl(s0, s5, s10, s15, m13, m3)
    s1, s6, s11, s12 = _gl(s1, s6, s11, s12, m0, m10)
    s2, s7, s8, s13 = _gl(s2, s7, s8, s13, m2, m6)
    s3, s4, s9, s14 = _gl(s3, s4, s9, s14, m4, m7)
    # round 6
    s0, s4, s8, s12 = _gl(s0, s4, s8, s12, m11, m15)
    s1, s5, s9, s13 = _gl(s1, s5, s9, s13, m5, m0)
    s2, s6, s10, s14 = _gl(s2, s6, s10, s14, m1, m9)
    s3, s7, s11, s15 = _gl(s3, s7, s11, s15, m8, m6)
    s0, s5, s10, s15 = _gl(s0, s5, s10, s15, m14, m10)
    s1, s6, s11, s12 = _gl(s1, s6, s11, s12, m2, m12)
    s2, s7, s8, s13 = _gl(s2, s7, s8, s13, m3, m4)
    s3, s4, s9, s14 = _gl(s3, s4, s9, s14, m7, m13)

    return (_xrot(s0, s8, 0), _xrot(s1, s9, 0), _xrot(s2, s10, 0), _xrot(s3, s11, 0),
            _xrot(s4, s12, 0), _xrot(s5, s13, 0), _xrot(s6, s14, 0), _xrot(s7, s15, 0))


@njit(cache=True)
def _compress_lanes(cv, m, block_len, flags):
    """BLAKE3 compression (counter 0) of LANES messages' blocks at once: ``cv`` (8·LANES
    uint32, word k of lane j at k·LANES + j) is replaced by the new chaining values,
    ``m`` (16·LANES uint32, the same layout) holds the blocks' words; one block length
    and flags for all lanes.  The loop over the lanes is what LLVM vectorises: one zmm
    register a state word with prefer-vector-width=512 (`_wide512`; two ymm without:
    ×0.68 CPU a call, s37h7)."""
    _wide512()
    bl = np.uint32(block_len)
    fl = np.uint32(flags)
    for j in range(LANES):
        r = _compress_l(
            cv[j], cv[LANES + j], cv[2 * LANES + j], cv[3 * LANES + j],
            cv[4 * LANES + j], cv[5 * LANES + j], cv[6 * LANES + j], cv[7 * LANES + j],
            m[j], m[LANES + j], m[2 * LANES + j], m[3 * LANES + j], m[4 * LANES + j],
            m[5 * LANES + j], m[6 * LANES + j], m[7 * LANES + j], m[8 * LANES + j],
            m[9 * LANES + j], m[10 * LANES + j], m[11 * LANES + j], m[12 * LANES + j],
            m[13 * LANES + j], m[14 * LANES + j], m[15 * LANES + j], bl, fl)
        cv[j] = r[0]
        cv[LANES + j] = r[1]
        cv[2 * LANES + j] = r[2]
        cv[3 * LANES + j] = r[3]
        cv[4 * LANES + j] = r[4]
        cv[5 * LANES + j] = r[5]
        cv[6 * LANES + j] = r[6]
        cv[7 * LANES + j] = r[7]


@njit(inline="always", cache=True)
def _lanes_init(cv):
    for k in range(8):
        for j in range(LANES):
            cv[k * LANES + j] = _IV32[k]


@njit(inline="always", cache=True)
def _lanes_put(cv, out, nout, r0):
    """The first ``nout`` bytes of the LANES digests in ``cv`` into rows r0 … of the
    (n, nout) digests, ``out`` their flat 1-d uint8 array (for nout ≥ 16 lanes 0 … 14
    by `_put_t16`; the others' whole words stored unaligned, the bytes of a last partial
    word one by one)."""
    nfull = nout >> 2
    j0 = 0
    if nout >= 16:  # lanes 0 … 14 transposed, 32-byte stores
        _put_t16(cv, out, r0 * nout, nout)
        j0 = LANES - 1
    for j in range(j0, LANES):
        base = (r0 + j) * nout
        for k in range(nfull):
            _st32(out, base + 4 * k, cv[k * LANES + j])
        for t in range(4 * nfull, nout):
            out[base + t] = np.uint8((cv[(t >> 2) * LANES + j] >> np.uint32(8 * (t & 3)))
                                     & np.uint32(0xFF))


@njit(parallel=True, cache=True)
def _hash_rows32_lanes(words, out, nout):
    """`_hash_rows64` of the first LANES·⌊n/LANES⌋ rows, given as their little-endian
    uint32 words ``words`` (n, 2·nw), into ``out`` (the flat (n, nout) digests): LANES
    rows per `_compress_lanes` call; ``words`` C-contiguous (whole blocks are loaded
    by `_ld_t16`, 64 bytes of 16 rows at a time, transposed into the lanes)."""
    n, nw2 = words.shape
    n = min(n, out.shape[0] // nout)  # (rows that fit both)
    ng = n // LANES
    length = 4 * nw2
    nblocks = max(1, (nw2 + 15) // 16)
    for c in prange((ng + _CHUNK - 1) // _CHUNK):
        cv = np.empty(8 * LANES, dtype=np.uint32)
        m = np.empty(16 * LANES, dtype=np.uint32)
        for g in range(c * _CHUNK, min(ng, (c + 1) * _CHUNK)):
            r0 = g * LANES
            _lanes_init(cv)
            for b in range(nblocks):
                flags = 0
                if b == 0:
                    flags |= CHUNK_START
                if b == nblocks - 1:
                    flags |= CHUNK_END | ROOT
                w0 = 16 * b
                if w0 + 16 <= nw2:  # a whole block: 16 rows' 64 bytes, transposed
                    if g + PF_GROUPS < ng:  # the same block PF_GROUPS groups on
                        _pf16(words, 4 * ((r0 + PF_GROUPS * LANES) * nw2 + w0), 4 * nw2)
                    _ld_t16(words, 4 * (r0 * nw2 + w0), 4 * nw2, m)
                else:
                    _rows_block(words, r0, w0, nw2, m)
                _compress_lanes(cv, m, min(64, length - 64 * b), flags)
            _lanes_put(cv, out, nout, r0)


@njit(inline="always", cache=True)
def _rows_block(words, r0, w0, nw2, m):
    """The lanes' words w0 … w0 + 15 of rows r0 … r0 + LANES − 1 (zero past nw2), word
    by word (a partial last block)."""
    for k in range(16):
        if w0 + k < nw2:
            col = words[r0:r0 + LANES, w0 + k]
            for j in range(LANES):
                m[k * LANES + j] = col[j]
        else:
            for j in range(LANES):
                m[k * LANES + j] = 0


@njit(parallel=True, cache=True)
def _hash_tagged_lanes(flat, R, out, nout):
    """`_hash_pairs` (message 0x01 ‖ row, 5 ≤ R + 1 ≤ 1024 bytes) of the first
    LANES·⌊n/LANES⌋ rows of R bytes of the flat uint8 array ``flat``, into the flat
    (n, nout) digests ``out``: message words read by unaligned uint32 loads (a
    little-endian machine) into the lanes; every load lies inside its row (R ≥ 4: the
    word holding the tag reads row bytes 0–3, a last partial word the row's last 4
    bytes, shifted) — or, where the 16 rows' 64-byte windows lie inside ``flat`` (they
    may reach into the next rows: those bytes are masked off), by `_ld_t16` (block 0's
    window the row's bytes 0–63, shifted one byte up under the tag; block b ≥ 1's the
    row's bytes 64b − 1 …)."""
    nflat = flat.shape[0]
    n = min(nflat // R, out.shape[0] // nout)  # (rows that fit both)
    ng = n // LANES
    length = R + 1
    nblocks = (length + 63) // 64
    for c in prange((ng + _CHUNK - 1) // _CHUNK):
        cv = np.empty(8 * LANES, dtype=np.uint32)
        m = np.empty(16 * LANES, dtype=np.uint32)
        for g in range(c * _CHUNK, min(ng, (c + 1) * _CHUNK)):
            r0 = g * LANES
            _lanes_init(cv)
            for b in range(nblocks):
                st = 64 * b
                flags = 0
                if b == 0:
                    flags |= CHUNK_START
                if b == nblocks - 1:
                    flags |= CHUNK_END | ROOT
                b0 = r0 * R
                o = st - 1 if b else 0
                if b0 + 15 * R + o + 64 <= nflat:  # 64-byte windows, transposed
                    if g + PF_GROUPS < ng:  # the same block PF_GROUPS groups on
                        _pf16(flat, b0 + PF_GROUPS * LANES * R + o, R)
                    if b == 0:  # bytes 0–63 of the row: shifted one byte up, the tag
                        _ld_t16_tag(flat, b0, R, m)
                    else:
                        _ld_t16(flat, b0 + o, R, m)
                    for k in range(16):  # bytes past the message: zero
                        P = st + 4 * k
                        if P >= length:
                            for j in range(LANES):
                                m[k * LANES + j] = 0
                        elif P + 4 > length:
                            keep = np.uint32((1 << (8 * (length - P))) - 1)
                            for j in range(LANES):
                                m[k * LANES + j] = m[k * LANES + j] & keep
                    _compress_lanes(cv, m, min(64, length - st), flags)
                    continue
                for k in range(16):  # the word's kind is the same in every lane
                    P = st + 4 * k
                    if P >= length:
                        for j in range(LANES):
                            m[k * LANES + j] = 0
                    elif P == 0:
                        for j in range(LANES):
                            m[k * LANES + j] = np.uint32(
                                ((np.uint64(_ld32(flat, b0 + j * R)) << np.uint64(8))
                                 | np.uint64(1)) & _M32)
                    elif P + 4 <= length:
                        for j in range(LANES):
                            m[k * LANES + j] = _ld32(flat, b0 + j * R + P - 1)
                    else:
                        sh = np.uint64(8 * (4 - (length - P)))
                        for j in range(LANES):
                            m[k * LANES + j] = np.uint32(
                                np.uint64(_ld32(flat, b0 + j * R + length - 5)) >> sh)
                _compress_lanes(cv, m, min(64, length - st), flags)
            _lanes_put(cv, out, nout, r0)


@njit(cache=True)
def grind_lanes(buf, plen, mask, start):
    """Least nonce ≥ ``start`` (8 little-endian bytes after the ``plen`` prefix bytes of
    ``buf``, plen + 8 ≤ 1024) whose BLAKE3 digest's first 8 bytes, read little-endian,
    are ≡ 0 mod mask + 1 — `whir._grind_blake3`'s search (same nonce), LANES nonces per
    `_compress_lanes` call: the chaining value after the blocks holding only prefix
    bytes and the words of the (at most two) blocks holding the nonce are computed once;
    per group of LANES nonces the words are broadcast into the lanes and each lane's
    nonce, shifted to its byte offset, or-ed into (at most three) of them; the least
    nonce of the group that passes is returned."""
    length = plen + 8
    nblocks = max(1, (length + 63) // 64)
    fixed = plen // 64  # blocks before the one holding the nonce's first byte
    nvar = nblocks - fixed
    for b in range(8):
        buf[plen + b] = 0
    c0 = np.uint64(0x6A09E667)
    c1 = np.uint64(0xBB67AE85)
    c2 = np.uint64(0x3C6EF372)
    c3 = np.uint64(0xA54FF53A)
    c4 = np.uint64(0x510E527F)
    c5 = np.uint64(0x9B05688C)
    c6 = np.uint64(0x1F83D9AB)
    c7 = np.uint64(0x5BE0CD19)
    for b in range(fixed):
        st = 64 * b
        c0, c1, c2, c3, c4, c5, c6, c7 = _compress_w(
            c0, c1, c2, c3, c4, c5, c6, c7,
            _word(buf, st, length, 0), _word(buf, st + 4, length, 0),
            _word(buf, st + 8, length, 0), _word(buf, st + 12, length, 0),
            _word(buf, st + 16, length, 0), _word(buf, st + 20, length, 0),
            _word(buf, st + 24, length, 0), _word(buf, st + 28, length, 0),
            _word(buf, st + 32, length, 0), _word(buf, st + 36, length, 0),
            _word(buf, st + 40, length, 0), _word(buf, st + 44, length, 0),
            _word(buf, st + 48, length, 0), _word(buf, st + 52, length, 0),
            _word(buf, st + 56, length, 0), _word(buf, st + 60, length, 0),
            64, CHUNK_START if b == 0 else 0)
    cv0 = np.empty(8, dtype=np.uint32)
    cv0[0] = c0
    cv0[1] = c1
    cv0[2] = c2
    cv0[3] = c3
    cv0[4] = c4
    cv0[5] = c5
    cv0[6] = c6
    cv0[7] = c7
    base = np.empty(16 * nvar, dtype=np.uint32)
    for w in range(16 * nvar):
        base[w] = _word(buf, 64 * fixed + 4 * w, length, 0)
    w0 = (plen - 64 * fixed) // 4  # flat word holding the nonce's first byte
    sh = np.uint64(8 * (plen % 4))
    rsh = np.uint64(32) - sh
    cv = np.empty(8 * LANES, dtype=np.uint32)
    ms = np.empty((nvar, 16 * LANES), dtype=np.uint32)  # every block's words broadcast
    for v in range(nvar):
        for k in range(16):
            for j in range(LANES):
                ms[v, k * LANES + j] = base[16 * v + k]
    nonce0 = np.uint64(start)
    while True:
        for k in range(8):
            for j in range(LANES):
                cv[k * LANES + j] = cv0[k]
        for v in range(nvar):
            b = fixed + v
            flags = 0
            if b == 0:
                flags |= CHUNK_START
            if b == nblocks - 1:
                flags |= CHUNK_END | ROOT
            o = 16 * v
            m = ms[v]
            for j in range(LANES):  # only the nonce's words change
                nonce = nonce0 + np.uint64(j)
                if o <= w0 < o + 16:
                    m[(w0 - o) * LANES + j] = base[w0] | np.uint32((nonce << sh) & _M32)
                if o <= w0 + 1 < o + 16:
                    m[(w0 + 1 - o) * LANES + j] = base[w0 + 1] | np.uint32((nonce >> rsh)
                                                                          & _M32)
                if sh and o <= w0 + 2 < o + 16:
                    m[(w0 + 2 - o) * LANES + j] = base[w0 + 2] | np.uint32(
                        nonce >> (rsh + np.uint64(32)))
            _compress_lanes(cv, m, min(64, length - 64 * b), flags)
        for j in range(LANES):
            d = np.uint64(cv[j]) | (np.uint64(cv[LANES + j]) << np.uint64(32))
            if d & mask == 0:
                return nonce0 + np.uint64(j)
        nonce0 += np.uint64(LANES)


def hash_many(data: np.ndarray, digest: int = 32) -> np.ndarray:
    """BLAKE3 digests (n, 32) of the rows of an (n, L) uint8 array, L ≤ 1024; with
    ``digest`` < 32 only their first ``digest`` bytes, (n, digest)."""
    data = np.ascontiguousarray(data, dtype=np.uint8)
    if data.ndim != 2 or data.shape[1] > MAX_LEN:
        raise ValueError(f"hash_many needs (n, L ≤ {MAX_LEN}) bytes, got {data.shape}")
    if not 1 <= digest <= 32:
        raise ValueError(f"hash_many: digest of 1..32 bytes, got {digest}")
    if _cold(data.size):  # a cold verifier: the blake3 package, row by row
        L = data.shape[1]
        raw = data.tobytes()
        digests = b"".join(blake3.blake3(raw[i * L:(i + 1) * L]).digest()[:digest]
                           for i in range(data.shape[0]))
        return np.frombuffer(digests, dtype=np.uint8).reshape(data.shape[0], digest).copy()
    out = np.empty((data.shape[0], digest), dtype=np.uint8)
    if data.shape[1] % 8 == 0 and data.shape[1] and data.ctypes.data % 8 == 0 and _LE:
        n0 = data.shape[0] - data.shape[0] % LANES  # whole little-endian words
        if n0:
            _hash_rows32_lanes(data.view(np.uint32), out.reshape(-1), digest)  # LANES rows
        if n0 < data.shape[0]:
            _hash_rows64(data[n0:].view(np.uint64), out[n0:])
    else:
        _hash_rows(data, out)
    return out


def hash_pairs(level: np.ndarray) -> np.ndarray:
    """Parents of a Merkle level of 2n digests of w ≤ 511 bytes: (n, w), row i =
    BLAKE3(0x01 ‖ level[2i] ‖ level[2i + 1])[:w] (`merkle`'s node rule), hashed from the
    level in place (no preimage copy)."""
    level = np.ascontiguousarray(level, dtype=np.uint8)
    if level.ndim != 2 or level.shape[0] % 2 or not 1 <= level.shape[1] <= 32:
        raise ValueError(f"hash_pairs needs (2n, w ≤ 32) digests, got {level.shape}")
    n, w = level.shape[0] // 2, level.shape[1]
    rows = level.reshape(n, 2 * w)
    if _cold(rows.size):
        return hash_many(np.concatenate([np.ones((n, 1), np.uint8), rows], axis=1), w)
    out = np.empty((n, w), dtype=np.uint8)
    n0 = n - n % LANES if _LE and w >= 2 else 0  # (`_hash_tagged_lanes`: rows ≥ 4 bytes)
    if n0:
        _hash_tagged_lanes(rows.reshape(-1), 2 * w, out.reshape(-1), w)  # LANES at a time
    if n0 < n:
        _hash_pairs(rows[n0:], out[n0:])
    return out


def _cold(n: int) -> bool:
    """`goldilocks.cold` (numba not started, little work): hash without numba."""
    from .goldilocks import cold

    return n <= COLD_BYTES and cold(0)


#: a cold process hashes at most this many bytes with the ``blake3`` package
COLD_BYTES = 1 << 20
