"""Streamed WHIR commitments (`Whir._commit_streamed`) alone, an old tree against this one,
interleaved (not a test): each run, in a fresh process (``PYTHONPATH`` = the tree),
commits REPS random base tables of 2^n elements for each n of NS inside one scratch
session (default spill threshold: the 25m shape's tables stream) and prints its wall,
user/sys CPU and minor faults over the commits (the first table's commit excluded:
numba loading) and a hash of the commitments (asserted equal across trees).

    python tests/bench/h5_commit_mb.py OLD ROUNDS [NS=22,23,24] [REPS=3]
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def one(ns: list[int], reps: int) -> None:
    import resource
    import time

    import numpy as np

    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import scratch
    from zklora.zkcore.plugins import registry

    F = registry().field("goldilocks")
    s = W.Whir(F, {})
    rng = np.random.default_rng(5)
    h = hashlib.sha256()
    tabs = []
    for n in ns:
        t = F.random(rng, 1 << n)
        t.flags.writeable = False
        tabs.append(t)
    with scratch.session():
        com, st = s.commit(F.random(rng, 1 << 14))   # warm the kernels
        r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        for _ in range(reps):
            for t in tabs:
                com, st = s.commit(t)
                h.update(com)
                st.tree.discard(scratch.current())
                del st
        w = time.perf_counter() - w0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"wall": w, "user": r1.ru_utime - r0.ru_utime,
                      "sys": r1.ru_stime - r0.ru_stime, "minflt": r1.ru_minflt - r0.ru_minflt,
                      "rss": r1.ru_maxrss / 2**20, "hash": h.hexdigest()}))


def main(old: str, rounds: int, ns: list[int], reps: int) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for r in range(rounds):
        order = ["old", "new"] if r % 2 == 0 else ["new", "old"]
        for k in order:
            env = dict(os.environ, PYTHONPATH=trees[k])
            p = subprocess.run([sys.executable, __file__, "--one", ",".join(map(str, ns)),
                                str(reps)], env=env, cwd=trees[k], capture_output=True,
                               text=True, check=True)
            d = json.loads(p.stdout.strip().splitlines()[-1])
            res[k].append(d)
            print(k, r, {x: (round(y, 3) if isinstance(y, float) else y)
                         for x, y in d.items()}, flush=True)
    assert len({d["hash"] for v in res.values() for d in v}) == 1, "commitments differ"
    for f in ("wall", "user", "sys", "minflt", "rss"):
        mo = statistics.median(d[f] for d in res["old"])
        mn = statistics.median(d[f] for d in res["new"])
        print(f"{f}: old {mo:.3f} new {mn:.3f} x{mn / mo:.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one([int(x) for x in sys.argv[2].split(",")], int(sys.argv[3]))
    else:
        main(sys.argv[1], int(sys.argv[2]),
             [int(x) for x in (sys.argv[3] if len(sys.argv) > 3 else "22,23,24").split(",")],
             int(sys.argv[4]) if len(sys.argv) > 4 else 3)
