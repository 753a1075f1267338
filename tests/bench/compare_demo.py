"""Compare `zklora demo --steps N` (the demo model's training step through the CLI, with
its statement commitments) across source trees in one interleaved run.

    git worktree add /tmp/old <commit>
    .venv/bin/python tests/bench/compare_demo.py /tmp/old . --reps 3 --steps 1

Each (tree, repetition) runs in a fresh process with the tree first on ``sys.path``, in
interleaved order (old, new, old, new, …), so machine noise hits every tree alike; one
untimed warm-up process per tree first (numba compiles into the tree's cache).  Each
process runs the tree's own ``zklora demo`` (prove + verify); the figures are parsed
from its report, the process CPU time (all threads) from ``resource``.  Extra
``--env K=V`` pairs go to the children of the tree at the same position (``--env``
may be given once per tree, e.g. to pick a profile setting).  Prints one JSON line per
process and, at the end, the medians per tree and the ratios against the first tree.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import time

_CHILD = ("import sys; sys.path.insert(0, sys.argv[1]); sys.argv = ['zklora', *sys.argv[2:]];"
          " from zklora.zkcore.cli import main; main()")
_FIGS = {"prove": r"prove\s+([\d.]+) s", "verify": r"verify\s+([\d.]+) s",
         "proof": r"proof\s+(\d+) bytes"}


def run_once(tree: str, steps: int, env: dict[str, str]) -> dict:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _CHILD, tree, "demo", "--steps", str(steps)],
                       cwd=tree, capture_output=True, text=True,
                       env={**os.environ, **env}, check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0 or "OK" not in p.stdout:
        raise SystemExit(f"{tree}: demo failed (rc {p.returncode})\n{p.stdout}\n{p.stderr}")
    out = {"tree": tree, "process_wall": round(wall, 3),
           "process_cpu": round(after.ru_utime + after.ru_stime
                                - before.ru_utime - before.ru_stime, 3),
           "peak_rss_mib": round(after.ru_maxrss / 1024)}
    for k, pat in _FIGS.items():
        m = re.search(pat, p.stdout)
        out[k] = float(m.group(1)) if m else None
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("trees", nargs="+")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--env", action="append", default=[],
                    help="K=V[,K=V] for the tree at the same position")
    a = ap.parse_args(argv)
    envs = [dict(kv.split("=", 1) for kv in e.split(",") if kv) for e in a.env]
    envs += [{}] * (len(a.trees) - len(envs))
    for t, e in zip(a.trees, envs):
        run_once(t, a.steps, e)                       # warm-up: compile, caches
    rows: dict[str, list[dict]] = {t: [] for t in a.trees}
    for _ in range(a.reps):
        for t, e in zip(a.trees, envs):
            r = run_once(t, a.steps, e)
            print(json.dumps(r), flush=True)
            rows[t].append(r)
    keys = ["prove", "verify", "proof", "process_cpu", "peak_rss_mib"]
    med = {t: {k: statistics.median(r[k] for r in rs) for k in keys} for t, rs in rows.items()}
    base = med[a.trees[0]]
    print("| tree | " + " | ".join(keys) + " | prove × | verify × | proof × |")
    print("|---" * (len(keys) + 4) + "|")
    for t in a.trees:
        m = med[t]
        print(f"| {t} | " + " | ".join(f"{m[k]:g}" for k in keys) + " | "
              + " | ".join(f"{m[k] / base[k]:.2f}" for k in ("prove", "verify", "proof"))
              + " |")


if __name__ == "__main__":
    main()
