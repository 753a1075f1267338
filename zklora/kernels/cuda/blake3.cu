// BLAKE3 of the rows of a byte matrix and BLAKE3 Merkle layers, byte for byte what
// zklora/kernels/blake3_numba.py, the blake3 package and zklora/kernels/merkle.py compute:
//   leaf  = BLAKE3(column bytes, little-endian u64 words)
//   node  = BLAKE3(0x01 || left || right)   (65 bytes)
// A message of at most 1024 bytes is one chunk: chunk counter 0, blocks of 64 bytes (the
// last one zero-padded, its true length in block_len), CHUNK_START on the first block,
// CHUNK_END | ROOT on the last (b3_hash_rows).  A longer one is C = ceil(len / 1024)
// chunks, chunk c hashed with counter c and no ROOT flag into a chaining value
// (b3_chunk_cvs), then the chaining values are merged a level at a time: adjacent pairs
// (2j, 2j+1) become PARENT nodes (key = IV, counter 0, 64-byte block of the two CVs), an
// odd last one moves up unchanged, and the level of one node carries ROOT
// (b3_parent_cvs).  Carrying the odd node up gives BLAKE3's tree, whose left subtree
// always holds the largest power of two of chunks that leaves the right one non-empty.
#include "zk_common.cuh"

#define B3_CHUNK_START 1u
#define B3_CHUNK_END 2u
#define B3_PARENT 4u
#define B3_ROOT 8u
#define B3_CHUNK_LEN 1024u

ZK_HD u32 b3_rotr(u32 x, u32 n) { return (x >> n) | (x << (32 - n)); }

ZK_HD void b3_g(u32* s, int a, int b, int c, int d, u32 mx, u32 my) {
  s[a] = s[a] + s[b] + mx;
  s[d] = b3_rotr(s[d] ^ s[a], 16);
  s[c] = s[c] + s[d];
  s[b] = b3_rotr(s[b] ^ s[c], 12);
  s[a] = s[a] + s[b] + my;
  s[d] = b3_rotr(s[d] ^ s[a], 8);
  s[c] = s[c] + s[d];
  s[b] = b3_rotr(s[b] ^ s[c], 7);
}

ZK_HD u32 b3_iv(int i) {
  switch (i) {
    case 0: return 0x6A09E667u;
    case 1: return 0xBB67AE85u;
    case 2: return 0x3C6EF372u;
    case 3: return 0xA54FF53Au;
    case 4: return 0x510E527Fu;
    case 5: return 0x9B05688Cu;
    case 6: return 0x1F83D9ABu;
    default: return 0x5BE0CD19u;
  }
}

// The message word permutation applied between rounds.
ZK_HD int b3_perm(int i) {
  switch (i) {
    case 0: return 2;
    case 1: return 6;
    case 2: return 3;
    case 3: return 10;
    case 4: return 7;
    case 5: return 0;
    case 6: return 4;
    case 7: return 13;
    case 8: return 1;
    case 9: return 11;
    case 10: return 12;
    case 11: return 5;
    case 12: return 9;
    case 13: return 14;
    case 14: return 15;
    default: return 8;
  }
}

// Compress block words m (permuted in place) into cv, with chunk counter `counter`.
ZK_HD void b3_compress_at(u32* cv, u32* m, u64 counter, u32 block_len, u32 flags) {
  u32 s[16], tmp[16];
  for (int i = 0; i < 8; ++i) s[i] = cv[i];
  for (int i = 0; i < 4; ++i) s[8 + i] = b3_iv(i);
  s[12] = (u32)counter;
  s[13] = (u32)(counter >> 32);
  s[14] = block_len;
  s[15] = flags;
  for (int r = 0; r < 7; ++r) {
    b3_g(s, 0, 4, 8, 12, m[0], m[1]);
    b3_g(s, 1, 5, 9, 13, m[2], m[3]);
    b3_g(s, 2, 6, 10, 14, m[4], m[5]);
    b3_g(s, 3, 7, 11, 15, m[6], m[7]);
    b3_g(s, 0, 5, 10, 15, m[8], m[9]);
    b3_g(s, 1, 6, 11, 12, m[10], m[11]);
    b3_g(s, 2, 7, 8, 13, m[12], m[13]);
    b3_g(s, 3, 4, 9, 14, m[14], m[15]);
    if (r < 6) {
      for (int i = 0; i < 16; ++i) tmp[i] = m[b3_perm(i)];
      for (int i = 0; i < 16; ++i) m[i] = tmp[i];
    }
  }
  for (int i = 0; i < 8; ++i) cv[i] = s[i] ^ s[i + 8];
}

// The same with counter 0 (single-chunk messages and Merkle nodes).
ZK_HD void b3_compress(u32* cv, u32* m, u32 block_len, u32 flags) {
  b3_compress_at(cv, m, 0, block_len, flags);
}

// BLAKE3 of data[0..len) (len <= 1024) into out[0..32).
ZK_HD void b3_hash_one(const u8* data, u64 len, u8* out) {
  u32 cv[8], m[16];
  for (int i = 0; i < 8; ++i) cv[i] = b3_iv(i);
  u64 nblocks = len == 0 ? 1 : (len + 63) / 64;
  for (u64 b = 0; b < nblocks; ++b) {
    u64 start = b * 64;
    u64 blen = len - start < 64 ? len - start : 64;
    for (int w = 0; w < 16; ++w) {
      u32 v = 0;
      for (int q = 0; q < 4; ++q) {
        u64 pos = start + 4 * w + q;
        if (pos < len) v |= (u32)data[pos] << (8 * q);
      }
      m[w] = v;
    }
    u32 flags = 0;
    if (b == 0) flags |= B3_CHUNK_START;
    if (b == nblocks - 1) flags |= B3_CHUNK_END | B3_ROOT;
    b3_compress(cv, m, (u32)blen, flags);
  }
  for (int w = 0; w < 8; ++w)
    for (int q = 0; q < 4; ++q) out[4 * w + q] = (u8)((cv[w] >> (8 * q)) & 0xFFu);
}

// The same for a message of whole 32-bit words (len = 4 nw bytes, little-endian words,
// 4-byte aligned): word loads instead of byte loads.
ZK_HD void b3_hash_words(const u32* words, u64 nw, u32* out) {
  u32 cv[8], m[16];
  for (int i = 0; i < 8; ++i) cv[i] = b3_iv(i);
  u64 nblocks = nw == 0 ? 1 : (nw + 15) / 16;
  for (u64 b = 0; b < nblocks; ++b) {
    u64 start = b * 16;
    u64 bw = nw - start < 16 ? nw - start : 16;
    for (u64 w = 0; w < 16; ++w) m[w] = w < bw ? words[start + w] : 0u;
    u32 flags = 0;
    if (b == 0) flags |= B3_CHUNK_START;
    if (b == nblocks - 1) flags |= B3_CHUNK_END | B3_ROOT;
    b3_compress(cv, m, (u32)(4 * bw), flags);
  }
  for (int w = 0; w < 8; ++w) out[w] = cv[w];
}

// Digests (n, 32) of the rows of data (n, L), L <= 1024.  words = 1: the caller
// guarantees L % 4 == 0 and 4-byte alignment (word loads); 0: byte loads.
ZK_KERNEL(b3_hash_rows)(const u8* data, u64 n, u64 L, u64 words, u8* out) {
  ZK_FOR(i, n) {
    if (words)
      b3_hash_words((const u32*)(data + i * L), L / 4, (u32*)(out + i * 32));
    else
      b3_hash_one(data + i * L, L, out + i * 32);
  }
}

// Parents (n, 32) of a Merkle level (2n, 32): BLAKE3(0x01 || left || right), 65 bytes:
// block 0 is 0x01 and the first 63 bytes of left || right (as words: byte shifts of the
// 16 input words W), block 1 the last byte.
ZK_KERNEL(b3_merkle_parents)(const u8* level, u64 n, u8* out) {
  ZK_FOR(i, n) {
    const u32* W = (const u32*)(level + i * 64);
    u32 cv[8], m[16];
    for (int q = 0; q < 8; ++q) cv[q] = b3_iv(q);
    u32 prev = W[0];
    m[0] = 1u | (prev << 8);
    for (int k = 1; k < 16; ++k) {
      u32 cur = W[k];
      m[k] = (prev >> 24) | (cur << 8);
      prev = cur;
    }
    b3_compress(cv, m, 64, B3_CHUNK_START);
    m[0] = prev >> 24;
    for (int k = 1; k < 16; ++k) m[k] = 0;
    b3_compress(cv, m, 1, B3_CHUNK_END | B3_ROOT);
    u32* o = (u32*)(out + i * 32);
    for (int q = 0; q < 8; ++q) o[q] = cv[q];
  }
}

// Block words of bytes [0, len) at p (len <= 64; the rest zero).  words = 1: p is 4-byte
// aligned (word loads of the whole words, then the bytes of a partial last word).
ZK_HD void b3_load_block(const u8* p, u64 len, u64 words, u32* m) {
  for (u64 w = 0; w < 16; ++w) {
    u64 at = 4 * w;
    u32 v = 0;
    if (words && at + 4 <= len) {
      v = ((const u32*)p)[w];
    } else {
      for (u64 q = 0; q < 4; ++q)
        if (at + q < len) v |= (u32)p[at + q] << (8 * q);
    }
    m[w] = v;
  }
}

// Chaining values (n, C, 8 words) of the C >= 2 chunks of every row of data (n, L),
// C = ceil(L / 1024): chunk c of row i is bytes [1024 c, min(L, 1024 (c + 1))), hashed
// with counter c, CHUNK_START on its first block and CHUNK_END on its last, no ROOT.
// words = 1: L % 4 == 0 and data 4-byte aligned (every chunk starts on a word).
ZK_KERNEL(b3_chunk_cvs)(const u8* data, u64 n, u64 L, u64 C, u64 words, u8* cvs) {
  ZK_FOR(t, n * C) {
    u64 i = t / C, c = t % C;
    u64 start = c * B3_CHUNK_LEN;
    u64 len = L - start < B3_CHUNK_LEN ? L - start : B3_CHUNK_LEN;
    const u8* p = data + i * L + start;
    u32 cv[8], m[16];
    for (int q = 0; q < 8; ++q) cv[q] = b3_iv(q);
    u64 nblocks = (len + 63) / 64;
    for (u64 b = 0; b < nblocks; ++b) {
      u64 bs = b * 64;
      u64 blen = len - bs < 64 ? len - bs : 64;
      b3_load_block(p + bs, blen, words, m);
      u32 flags = 0;
      if (b == 0) flags |= B3_CHUNK_START;
      if (b == nblocks - 1) flags |= B3_CHUNK_END;
      b3_compress_at(cv, m, c, (u32)blen, flags);
    }
    u32* o = (u32*)(cvs + t * 32);
    for (int q = 0; q < 8; ++q) o[q] = cv[q];
  }
}

// One level of the chunk tree of every row: in (n, cin, 8 words) -> out (n, cout, 8),
// cout = ceil(cin / 2): node j is PARENT(in[2j], in[2j+1]), or in[2j] moved up when it
// has no right sibling.  root = 1 on the last level (cin = 2, cout = 1): the ROOT flag,
// and out (n, 32 bytes) is the rows' digests.
ZK_KERNEL(b3_parent_cvs)(const u8* in, u64 n, u64 cin, u64 cout, u64 root, u8* out) {
  ZK_FOR(t, n * cout) {
    u64 i = t / cout, j = t % cout;
    const u32* l = (const u32*)(in + (i * cin + 2 * j) * 32);
    u32* o = (u32*)(out + t * 32);
    if (2 * j + 1 < cin) {
      u32 cv[8], m[16];
      for (int q = 0; q < 16; ++q) m[q] = l[q];  // left || right, adjacent
      for (int q = 0; q < 8; ++q) cv[q] = b3_iv(q);
      b3_compress(cv, m, 64, B3_PARENT | (root ? B3_ROOT : 0u));
      for (int q = 0; q < 8; ++q) o[q] = cv[q];
    } else {
      for (int q = 0; q < 8; ++q) o[q] = l[q];
    }
  }
}
