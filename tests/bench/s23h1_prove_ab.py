"""A whole proven step at a `zklora bench` shape, an old tree against this one,
interleaved, with process user / sys CPU, peak RSS and the lookups phase (not a test).

    flock /tmp/heavy.lock python tests/bench/s23h1_prove_ab.py OLD [ROUNDS] [SIZE]

Each run is a fresh process (``PYTHONPATH`` = the tree) running
this script's ``--one SIZE`` (`h1_prove_ab.one` with ``LogUpGKR.prove_many`` timed:
its process user / sys CPU); user / sys / max RSS of the whole process come from wait4.
The proofs' hashes are asserted equal; medians and new/old ratios are printed."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def one(size: str) -> None:
    import resource
    import time

    sys.path.insert(0, str(Path(os.environ["PYTHONPATH"]) / "tests" / "bench"))
    import h1_prove_ab

    from zklora.plugins.lookups.logup_gkr import LogUpGKR as LG

    acc = {"look_wall": 0.0, "look_user": 0.0, "look_sys": 0.0}
    inner = LG.prove_many

    def wrap(*a, **kw):
        r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        try:
            return inner(*a, **kw)
        finally:
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            acc["look_wall"] += time.perf_counter() - w0
            acc["look_user"] += r1.ru_utime - r0.ru_utime
            acc["look_sys"] += r1.ru_stime - r0.ru_stime

    LG.prove_many = wrap
    h1_prove_ab.one(size)
    print(json.dumps(acc), flush=True)


def run(tree: str, size: str) -> dict:
    p = subprocess.Popen([sys.executable, __file__, "--one", size],
                         env=dict(os.environ, PYTHONPATH=tree), cwd="/tmp",
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    assert status == 0, out
    lines = out.strip().splitlines()
    res = json.loads(lines[-2])
    res.update(json.loads(lines[-1]))
    res["look_cpu"] = res["look_user"] + res["look_sys"]
    res.update(user=ru.ru_utime, sys=ru.ru_stime, cpu=ru.ru_utime + ru.ru_stime,
               rss_mib=ru.ru_maxrss / 1024)
    return res


def main(old: str, rounds: int, size: str) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    res: dict[str, list[dict]] = {n: [] for n in trees}
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            res[name].append(run(trees[name], size))
            print(name, {k: (round(v, 2) if isinstance(v, float) else v)
                         for k, v in res[name][-1].items()}, flush=True)
    shas = {x["sha"] for v in res.values() for x in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in ("cpu", "user", "sys", "prove_cpu", "prove_wall", "look_cpu", "look_user",
                "look_sys", "look_wall", "rss_mib"):
        o = statistics.median(x[key] for x in res["old"])
        n = statistics.median(x[key] for x in res["new"])
        print(f"{key:10s} old {o:8.2f} new {n:8.2f} x{n / o:.3f}")
    print("sha", shas.pop())


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
        sys.exit(0)
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3,
         sys.argv[3] if len(sys.argv) > 3 else "25m")
