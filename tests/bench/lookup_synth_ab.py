"""Interleaved A/B of the LogUp-GKR prover on a synthetic lookup in the streamed regime
(not a test): two source trees (e.g. a `git worktree` of an older commit and one with the
change), one process per measurement, alternating.

    flock /tmp/heavy.lock .venv/bin/python tests/bench/lookup_synth_ab.py OLD_TREE NEW_TREE [K]

Each process proves 2^LG + 2^(LG−1) rows into a 2^16 range table and 2^(LG−2) rows into a
SiLU table (`zklora.zkcore.testing.lookup_suite`) three times with
``STREAM_BYTES`` = 2^SB and ``KEEP_LAYERS`` = KEEP (defaults LG 21, SB 24, KEEP 14: deep
layers summed from the leaves, streamed rounds, windows); the last two runs' CPU seconds
of `LogUpGKR.prove_many` count.  Prints every run, the medians and new/old, and whether
every proof had the same hash.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys

CHILD = r'''
import hashlib, os, sys, time
sys.path.insert(0, os.getcwd())
from zklora.plugins.lookups import logup_gkr as L
from zklora.plugins.lookups.logup_gkr import LogUpGKR
from zklora.plugins.lookups.tables import silu_table
from zklora.zkcore.range import range_table
from zklora.zkcore.testing import lookup_suite as S
L.STREAM_BYTES = 1 << int(os.environ.get("SB", 24))
L.KEEP_LAYERS = int(os.environ.get("KEEP", 14))
lg = int(os.environ.get("LG", 21))
lk = S._many([range_table(16), silu_table(4, 6, 6)],
             [(1 << lg, 1 << (lg - 1)), (1 << (lg - 2),)], 0)
T = []
orig = LogUpGKR.prove_many
def pm(self, ctx, cs):
    t0 = time.process_time(); orig(self, ctx, cs); T.append(time.process_time() - t0)
LogUpGKR.prove_many = pm
for it in range(3):
    g, be, proof, sec = S.prove_tables(LogUpGKR(), "goldilocks", lk)
    print("RUN", T[-1], hashlib.sha256(proof).hexdigest(), flush=True)
'''


def main(old: str, new: str, K: int) -> None:
    res: dict = {"old": [], "new": []}
    hashes = set()
    for _ in range(K):
        for name, tree in (("old", old), ("new", new)):
            out = subprocess.run([sys.executable, "-c", CHILD], cwd=tree, check=True,
                                 capture_output=True, text=True).stdout
            runs = [ln.split() for ln in out.splitlines() if ln.startswith("RUN")]
            for _, cpu, h in runs[1:]:
                res[name].append(float(cpu))
                hashes.add(h)
            print(name, [round(float(r[1]), 3) for r in runs], flush=True)
    mo, mn = statistics.median(res["old"]), statistics.median(res["new"])
    print(f"median lookups CPU old {mo:.3f} s, new {mn:.3f} s, old/new {mo / mn:.2f}; "
          f"same proof in every run: {len(hashes) == 1}")


if __name__ == "__main__":
    main(os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2]),
         int(sys.argv[3]) if len(sys.argv) > 3 else 4)
