"""`_MerkleBlocks.add` with the level pages given back after every block
(``MERKLE_HELD_BYTES`` = 0, the session-23 behaviour) against the held pages (the
default), interleaved in one process (not a test).

    flock /tmp/heavy.lock python tests/bench/s24h4_merkle_ab.py [ROUNDS]

Builds the tree of one streamed codeword of the 25m bench's largest shape (S = 2^14,
blocks of 2^17 leaf rows of 16 u64, G = 512 runs) both ways, asserts the roots and the
level files equal, prints process CPU (user + sys) and minor faults per build, then the
medians and the ratio."""

from __future__ import annotations

import resource
import statistics
import sys
import time

import numpy as np

from zklora.plugins.commitments import whir as W
from zklora.zkcore import scratch


def build(whir, store, blocks, S, per, digest, held):
    W.MERKLE_HELD_BYTES = held
    L = blocks[0].shape[0] * S // per
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    mk = W._MerkleBlocks(whir, store, L, per, digest)
    for i, a0 in enumerate(range(0, S, per)):
        mk.add(blocks[i % len(blocks)], a0, S)
    handles, root, skip = mk.finish()
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime
    files = [h.load().tobytes() for h in handles]
    for h in handles:
        store.discard(h)
    return cpu, r1.ru_minflt - r0.ru_minflt, time.perf_counter() - t0, root, files


def main(rounds: int) -> None:
    from zklora.zkcore.plugins import registry
    whir = W.Whir(registry().field("goldilocks"), {})
    S, per, G = 1 << 14, 256, 512
    rng = np.random.default_rng(1)
    blocks = [rng.integers(0, 2**63, size=(G * per, 16), dtype=np.uint64) for _ in range(2)]
    digest = W.digest_bytes(whir.cfg.security_bits)
    res = {0: [], W.MERKLE_HELD_BYTES: []}
    with scratch.session() as store:
        ref = None
        for r in range(rounds):
            for held in (list(res) if r % 2 == 0 else list(res)[::-1]):
                cpu, flt, wall, root, files = build(whir, store, blocks, S, per, digest, held)
                if ref is None:
                    ref = (root, files)
                assert (root, files) == ref
                res[held].append(cpu)
                print(f"held={held} cpu={cpu:.3f} faults={flt} wall={wall:.3f}", flush=True)
    a, b = (statistics.median(v) for v in res.values())
    print(f"median old {a:.3f} new {b:.3f} ratio {b / a:.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
