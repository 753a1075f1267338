"""A whole proven step at a `zklora bench` shape, an old tree against a new one,
interleaved, with process CPU and the process CPU spent inside `whir.horner` /
`whir.mobius` / `whir.mobius_pairs` (not a test).

    flock /tmp/heavy.lock python tests/bench/s24h2_ab.py OLD NEW [ROUNDS] [SIZE]

Each run is a fresh process (``PYTHONPATH`` = the tree) running ``--one SIZE``
(`h1_prove_ab.one` with those functions wrapped: process user + sys CPU and wall while
inside them); user / sys / max RSS of the whole process come from wait4.  The proofs'
hashes are asserted equal; medians and new/old ratios are printed."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

NAMES = ("horner", "mobius", "mobius_pairs")


def one(size: str) -> None:
    import resource
    import time

    sys.path.insert(0, str(Path(os.environ["PYTHONPATH"]) / "tests" / "bench"))
    import h1_prove_ab

    from zklora.kernels import whir as K

    acc = {"in_cpu": 0.0, "in_wall": 0.0}
    depth = [0]

    def wrap(inner):
        def f(*a, **kw):
            if depth[0]:
                return inner(*a, **kw)
            depth[0] += 1
            r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
            try:
                return inner(*a, **kw)
            finally:
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                depth[0] -= 1
                acc["in_wall"] += time.perf_counter() - w0
                acc["in_cpu"] += (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
        return f

    for n in NAMES:
        if hasattr(K, n):
            setattr(K, n, wrap(getattr(K, n)))
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
    res.update(user=ru.ru_utime, sys=ru.ru_stime, cpu=ru.ru_utime + ru.ru_stime,
               rss_mib=ru.ru_maxrss / 1024)
    return res


def main(old: str, new: str, rounds: int, size: str) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(Path(new).resolve())}
    res: dict[str, list[dict]] = {n: [] for n in trees}
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            res[name].append(run(trees[name], size))
            print(name, {k: (round(v, 3) if isinstance(v, float) else v)
                         for k, v in res[name][-1].items()}, flush=True)
    shas = {x["sha"] for v in res.values() for x in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in ("cpu", "user", "sys", "prove_cpu", "prove_wall", "in_cpu", "in_wall",
                "rss_mib"):
        o = statistics.median(x[key] for x in res["old"])
        n = statistics.median(x[key] for x in res["new"])
        print(f"{key:10s} old {o:8.3f} new {n:8.3f} x{n / o:.3f}")
    print("sha", shas.pop())


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
        sys.exit(0)
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 3,
         sys.argv[4] if len(sys.argv) > 4 else "25m")
