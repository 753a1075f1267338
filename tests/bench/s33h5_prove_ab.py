"""h1_prove_ab with the witness phase's parts timed (not a test): per run the prove CPU,
and CPU (user + sys, getrusage) of `LlamaTrain._prepare` (the statement's integer run:
inputs, graph, forward), `LlamaTrain.build`, `graph._recompute` (segment set-up) and
`Witness.spill`; old and new trees interleaved, each run a fresh process.

    flock /tmp/heavy.lock python tests/bench/s33h5_prove_ab.py /tmp/old [ROUNDS] [SIZE] [SKIP]
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def one(size: str) -> None:
    import hashlib
    import tempfile
    import time

    from zklora.plugins.models import llama_train as lt
    from zklora.zkcore import bench, graph, pyapi

    times: dict[str, float] = {}

    def timed(name, fn):
        def wrap(*args, **kw):
            c0 = _cpu()
            try:
                return fn(*args, **kw)
            finally:
                times[name] = times.get(name, 0.0) + _cpu() - c0
        return wrap

    lt.LlamaTrain._prepare = timed("prepare", lt.LlamaTrain._prepare)
    lt.LlamaTrain.build = timed("build", lt.LlamaTrain.build)
    graph._recompute = timed("recompute", graph._recompute)
    graph.Witness.spill = timed("spill", graph.Witness.spill)
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        c0 = time.process_time()
        res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq}},
                          out=Path(tmp) / "p.zkp")
        ru = resource.getrusage(resource.RUSAGE_SELF)
        out = {"prove_cpu": time.process_time() - c0, "sys": ru.ru_stime,
               "peak_mib": ru.ru_maxrss / 1024,
               "sha": hashlib.sha256(res.data).hexdigest()[:24]}
    out.update(times)
    print(json.dumps(out), flush=True)


def main(old: str, rounds: int, size: str, skip: int = 0) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    res: dict[str, list[dict]] = {n: [] for n in trees}
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            p = subprocess.run([sys.executable, __file__, "--one", size],
                               env=dict(os.environ, PYTHONPATH=trees[name]),
                               capture_output=True, text=True, cwd="/tmp", check=True)
            res[name].append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(name, {k: (round(v, 3) if isinstance(v, float) else v)
                         for k, v in res[name][-1].items()}, flush=True)
    shas = {r["sha"] for v in res.values() for r in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in res["old"][0]:
        if key == "sha":
            continue
        mo = statistics.median(r[key] for r in res["old"][skip:])
        mn = statistics.median(r[key] for r in res["new"][skip:])
        print(f"{key:12s} old {mo:8.3f}  new {mn:8.3f}  new/old {mn / mo:.3f}")
    print(f"{size}: same proof {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2,
             sys.argv[3] if len(sys.argv) > 3 else "25m",
             int(sys.argv[4]) if len(sys.argv) > 4 else 0)
