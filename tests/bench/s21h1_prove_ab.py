"""Whole proves of variants of trees, interleaved, with the lookups phase's CPU and the
process's user/sys/peak RSS (not a test).

    flock /tmp/heavy.lock python tests/bench/s21h1_prove_ab.py ROUNDS SIZE VARIANT...

A VARIANT is ``TREE`` or ``TREE:NAME=VALUE,...``: each NAME=VALUE sets an integer
attribute of ``zklora.plugins.lookups.logup_gkr`` before the prove (``SHARE=n`` instead
sets `scratch.working_budget`'s default share, for trees whose `_budget` passes none).
Each round proves SIZE (`h1_prove_ab.py --one`: ZK off, WHIR, the bench model) once per
variant, each in a fresh process, the order rotating; prints per run and the medians
(ratios against the first variant); asserts every proof's SHA-256 is the same."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve()


def child(size: str, sets: str) -> None:
    from zklora.plugins.lookups import logup_gkr as LG
    from zklora.zkcore import scratch

    for kv in filter(None, sets.split(",")):
        k, v = kv.split("=")
        if k == "SHARE":
            d = list(scratch.working_budget.__defaults__)
            d[0] = int(v)
            scratch.working_budget.__defaults__ = tuple(d)
        else:
            setattr(LG, k, int(v))
    t = [0.0, 0.0]
    orig = LG.LogUpGKR.prove_many

    def timed(self, ctx, committed):
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            return orig(self, ctx, committed)
        finally:
            t[0] += time.perf_counter() - w0
            t[1] += time.process_time() - c0

    LG.LogUpGKR.prove_many = timed
    import runpy
    tree = os.environ["PYTHONPATH"]
    sys.argv = ["x", "--one", size]
    import contextlib
    import io
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        runpy.run_path(f"{tree}/tests/bench/h1_prove_ab.py", run_name="__main__")
    out = json.loads(buf.getvalue().strip().splitlines()[-1])
    ru = resource.getrusage(resource.RUSAGE_SELF)
    out.update(look_wall=t[0], look_cpu=t[1], user=ru.ru_utime, sys=ru.ru_stime,
               proc_cpu=ru.ru_utime + ru.ru_stime, peak_mib=ru.ru_maxrss / 1024,
               minflt=ru.ru_minflt)
    print(json.dumps(out), flush=True)


def main(rounds: int, size: str, variants: list[str]) -> None:
    res: dict[str, list[dict]] = {v: [] for v in variants}
    for r in range(rounds):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for v in order:
            tree, _, sets = v.partition(":")
            p = subprocess.run([sys.executable, str(HERE), "--child", size, sets],
                               env=dict(os.environ, PYTHONPATH=str(Path(tree).resolve())),
                               capture_output=True, text=True, cwd="/tmp")
            if p.returncode:
                print(p.stderr[-3000:])
                raise SystemExit(f"{v} failed")
            res[v].append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(v, {k: (round(x, 2) if isinstance(x, float) else x)
                      for k, x in res[v][-1].items()}, flush=True)
    shas = {x["sha"] for rs in res.values() for x in rs}
    keys = ["prove_cpu", "look_cpu", "look_wall", "user", "sys", "proc_cpu", "peak_mib",
            "minflt", "prove_wall"]
    base = {k: statistics.median(x[k] for x in res[variants[0]]) for k in keys}
    for v in variants:
        line = []
        for k in keys:
            m = statistics.median(x[k] for x in res[v])
            line.append(f"{k} {m:.2f} ({m / base[k]:.3f})")
        print(f"{v}: " + ", ".join(line))
    assert len(shas) == 1, f"proofs differ: {shas}"
    print(f"{size}: same proof {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "")
    else:
        main(int(sys.argv[1]), sys.argv[2], sys.argv[3:])
