"""A whole proven step, an old tree against this one, interleaved, one lock hold per run
(not a test; s28h1).

    python tests/bench/s28h1_ab.py OLD_TREE ROUNDS [SIZE] [CACHE_DIR] [SKIP]

Each run proves SIZE (default 25m; ZK off, profile fast = WHIR, the model `zklora bench`
writes; from the prover cache CACHE_DIR when given, ``-`` for none) in a fresh process
(``PYTHONPATH`` = the tree) under ``flock /tmp/heavy.lock``, the order alternating; prints
the prove CPU (user + sys), the openings (``Committer.open``) and ``Whir.open`` CPU, and
the CPU inside `whir_open.split_rows` / `whir_eq.pow_eq_accumulate`, the proof's SHA-256
(asserted equal), then medians and new/old ratios over the rounds after the first SKIP."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def _cpu() -> float:
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def one(size: str, cache: str) -> None:
    import hashlib
    import tempfile
    import time

    from zklora.kernels import whir_eq, whir_open
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, committer, pyapi

    times: dict[str, float] = {}

    def timed(name, fn):
        def wrap(*args, **kw):
            c0 = _cpu()
            try:
                return fn(*args, **kw)
            finally:
                times[name] = times.get(name, 0.0) + _cpu() - c0
        return wrap

    committer.Committer.open = timed("open", committer.Committer.open)
    W.Whir.open = timed("whir", W.Whir.open)
    whir_open.split_rows = timed("split_rows", whir_open.split_rows)
    whir_eq.pow_eq_accumulate = timed("pow_eq", whir_eq.pow_eq_accumulate)
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        w0, c0 = time.perf_counter(), _cpu()
        res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq}},
                          prover_cache=None if cache == "-" else cache,
                          out=Path(tmp) / "p.zkp")
        out = {"prove_wall": time.perf_counter() - w0, "prove_cpu": _cpu() - c0,
               "sha": hashlib.sha256(res.data).hexdigest()[:24]}
    out.update(times)
    print(json.dumps(out), flush=True)


def main(old: str, rounds: int, size: str, cache: str, skip: int) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    res: dict[str, list[dict]] = {n: [] for n in trees}
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            p = subprocess.run(["flock", "/tmp/heavy.lock", sys.executable, __file__,
                                "--one", size, cache],
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
        mo = statistics.median(r.get(key, 0.0) for r in res["old"][skip:])
        mn = statistics.median(r.get(key, 0.0) for r in res["new"][skip:])
        print(f"{key:12s} old {mo:8.3f} s  new {mn:8.3f} s  new/old {mn / max(mo, 1e-9):.3f}")
    print(f"{size}: same proof {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else "-")
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2,
             sys.argv[3] if len(sys.argv) > 3 else "25m",
             sys.argv[4] if len(sys.argv) > 4 else "-",
             int(sys.argv[5]) if len(sys.argv) > 5 else 0)
