"""The CLI verifier's cost, several builds interleaved (issue 12: verify ≤ 1/20 of prove):

    python tests/bench/verify_cost.py PROOF.zkp LABEL=ZKLORA [LABEL=ZKLORA ...] [--rounds N]

Each round runs ``ZKLORA verify PROOF.zkp`` once per build, in the given order, and records
the CLI's own "verified in" time (what PERFORMANCE.md reports), the process's wall time and
its CPU time (user + system, of the child process).  Prints one line per run, then the
medians per build.  ``--no-bytecode`` runs with PYTHONDONTWRITEBYTECODE=1 (every process
compiles the sources again, as in a sandbox that sets it); by default the variable is
removed, as for an installed package, whose bytecode pip compiles at install.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import statistics
import subprocess
import time


def _run(exe: str, proof: str, env: dict) -> tuple[float, float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([exe, "verify", proof], capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{exe} verify {proof} failed:\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
    m = re.search(r"verified in ([0-9.]+) s", p.stdout)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(m.group(1)) if m else float("nan"), wall, cpu


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("proof")
    ap.add_argument("builds", nargs="+", help="LABEL=path/to/zklora")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-bytecode", action="store_true")
    a = ap.parse_args()
    env = dict(os.environ)
    if a.no_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
    builds = [b.split("=", 1) for b in a.builds]
    for _, exe in builds:  # warm-up: bytecode and numba caches
        _run(exe, a.proof, env)
    res: dict[str, list[tuple[float, float, float]]] = {label: [] for label, _ in builds}
    for i in range(a.rounds):
        for label, exe in builds:
            r = _run(exe, a.proof, env)
            res[label].append(r)
            print(f"{label} round {i + 1} verified_in {r[0]:.3f} wall {r[1]:.3f} "
                  f"cpu {r[2]:.3f}", flush=True)
    print("medians:")
    for label, rs in res.items():
        med = [statistics.median(x[k] for x in rs) for k in range(3)]
        print(f"  {label}: verified_in {med[0]:.3f} s, process wall {med[1]:.3f} s, "
              f"process cpu {med[2]:.3f} s")


if __name__ == "__main__":
    main()
