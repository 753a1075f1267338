"""The witness spill's own CPU inside a whole prove, two trees interleaved (not a test).

    python tests/bench/s22h4_spill_ab.py OLD_TREE NEW_TREE [ROUNDS] [SIZE]

Each run proves SIZE (as tests/bench/h1_prove_ab.py ``--one``) in a fresh process with
``PYTHONPATH`` = the tree, under ``flock /tmp/heavy.lock``, with `graph.Witness.spill`
wrapped to sum the calling thread's user / sys time (``RUSAGE_THREAD``) and wall;
prints each run, medians and new/old ratios, and asserts equal proofs."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys


def one(size: str) -> None:
    import resource
    import time

    from zklora.zkcore import graph

    acc = [0.0, 0.0, 0.0, 0]
    real = graph.Witness.spill

    def spill(self, *a, **k):
        r0, w0 = resource.getrusage(resource.RUSAGE_THREAD), time.perf_counter()
        try:
            return real(self, *a, **k)
        finally:
            r1 = resource.getrusage(resource.RUSAGE_THREAD)
            acc[0] += r1.ru_utime - r0.ru_utime
            acc[1] += r1.ru_stime - r0.ru_stime
            acc[2] += time.perf_counter() - w0
            acc[3] += 1

    graph.Witness.spill = spill
    sys.argv = ["h1_prove_ab.py", "--one", size]
    import contextlib
    import io
    import runpy

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        runpy.run_path(os.path.join(os.environ["PYTHONPATH"], "tests/bench/h1_prove_ab.py"),
                       run_name="__main__")
    r = json.loads(buf.getvalue().strip().splitlines()[-1])
    print(json.dumps({"prove_cpu": r["prove_cpu"], "spill_user": acc[0], "spill_sys": acc[1],
                      "spill_cpu": acc[0] + acc[1], "spill_wall": acc[2], "calls": acc[3],
                      "sha": r["sha"]}), flush=True)


def main(old: str, new: str, rounds: int, size: str) -> None:
    trees = {"old": old, "new": new}
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            p = subprocess.run(["flock", "/tmp/heavy.lock", sys.executable, __file__, "--one",
                                size], env=dict(os.environ, PYTHONPATH=trees[name]),
                               capture_output=True, text=True, cwd="/tmp", check=True)
            res[name].append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(name, {k: round(v, 3) if isinstance(v, float) else v
                         for k, v in res[name][-1].items()}, flush=True)
    shas = {x["sha"] for v in res.values() for x in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in ("prove_cpu", "spill_user", "spill_sys", "spill_cpu", "spill_wall"):
        mo = statistics.median(x[key] for x in res["old"])
        mn = statistics.median(x[key] for x in res["new"])
        print(f"{key:10s} old {mo:8.3f}  new {mn:8.3f}  new/old {mn / mo:.3f}")
    print(f"{size}: same proof {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        a = sys.argv[1:]
        main(a[0], a[1], int(a[2]) if len(a) > 2 else 2, a[3] if len(a) > 3 else "25m")
