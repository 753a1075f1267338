"""Interleaved A/B of the tiny training step's prove: an old tree against this one.

    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/tiny_trees_ab.py /tmp/old [ROUNDS]

One warm prover process per tree (``PYTHONPATH`` = the tree, so its plugins and kernels
are imported): each proves once and verifies (warm-up, numba caches loaded), then proves
once per round, the order alternating between rounds.  Prints per-round CPU / wall /
bytes / phase timings, the medians, CPU per activation element and the new/old ratio.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: activation elements of the tiny shape at batch 1 × 16 (`zklora bench`'s count)
ACTS = 34816
HERE = Path(__file__).resolve().parents[2]


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def serve(out: Path) -> None:
    """Warm prove + verify, then one timed prove per line read from stdin."""
    from zklora.zkcore import pyapi

    kw = dict(model="tiny", adapter=None, steps=1, profile="fast",
              config={"task": {"model": "llama-train"}, "model": {"batch": 1, "seq": 16}})
    pyapi.prove(out=out, progress=None, **kw)
    v = pyapi.verify(out)
    print(json.dumps({"ready": pyapi.__file__, "verify": v.seconds}), flush=True)
    for _ in sys.stdin:
        t, c = time.perf_counter(), _cpu()
        res = pyapi.prove(out=out, progress=None, **kw)
        print(json.dumps({"wall": time.perf_counter() - t, "cpu": _cpu() - c,
                          "bytes": res.proof_size, "timings": res.timings}), flush=True)


def main(old: str, rounds: int) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    procs = {}
    for name, tree in trees.items():
        env = dict(os.environ, PYTHONPATH=tree)
        procs[name] = subprocess.Popen(
            [sys.executable, __file__, "--serve", f"/tmp/tiny_trees_ab_{name}.zkp"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd="/tmp")
    for name, p in procs.items():
        print(name, p.stdout.readline().strip(), flush=True)
    res: dict[str, list[dict]] = {n: [] for n in procs}
    for r in range(rounds):
        for name in (("old", "new") if r % 2 == 0 else ("new", "old")):
            p = procs[name]
            p.stdin.write("go\n")
            p.stdin.flush()
            d = json.loads(p.stdout.readline())
            res[name].append(d)
            print(name, r, json.dumps(d), flush=True)
    for p in procs.values():
        p.stdin.close()
        p.wait()
    med = {}
    for name, rs in res.items():
        cpu = statistics.median(d["cpu"] for d in rs)
        wall = statistics.median(d["wall"] for d in rs)
        med[name] = cpu
        print(f"{name}: median prove CPU {cpu:.2f} s, wall {wall:.2f} s, "
              f"{cpu / ACTS * 1e6:.1f} us CPU/activation, bytes {rs[0]['bytes']}")
    print(f"new/old CPU ratio {med['new'] / med['old']:.3f}; per-round ratios",
          [round(b["cpu"] / a["cpu"], 3) for a, b in zip(res["old"], res["new"])])


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--serve":
        serve(Path(sys.argv[2]))
    elif len(sys.argv) in (2, 3):
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) == 3 else 5)
    else:
        sys.exit(__doc__)
