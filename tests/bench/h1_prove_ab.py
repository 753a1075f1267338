"""A whole proven step at a `zklora bench` shape, an old tree against this one,
interleaved (not a test).

    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/h1_prove_ab.py /tmp/old [ROUNDS] [SIZE] [SKIP]

Each round proves SIZE (default 25m; ZK off, profile fast = WHIR, the model `zklora
bench` writes) once per tree, each in a fresh process (``PYTHONPATH`` = the tree), the
order alternating; prints per run the prove CPU / wall, the openings phase's
(``Committer.open``) wall / CPU and the split stack reduction / WHIR opening, the
proof's SHA-256 (asserted equal), then medians and new/old ratios over the rounds after
the first SKIP (default 0; 1 when a tree's numba cache is cold: its first run compiles).

``AB_TIME`` (environment, comma-separated) times more parts the same way:
``module:Attr.path`` wraps a function (e.g. ``zklora.zkcore.graph:_recompute``,
``zklora.plugins.models.llama_train:LlamaTrain._prepare``), ``section:NAME`` a section of
the prove's recorder (e.g. ``section:commitments``: also its system time and minor
faults, ``NAME_sys`` / ``NAME_minflt``)."""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def one(size: str) -> None:
    import hashlib
    import tempfile
    import time

    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, committer, pyapi, stack

    times: dict[str, list[float]] = {}

    def timed(name, fn):
        def wrap(*args, **kw):
            w0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*args, **kw)
            finally:
                t = times.setdefault(name, [0.0, 0.0])
                t[0] += time.perf_counter() - w0
                t[1] += time.process_time() - c0
        return wrap

    _extra_timers(timed, times)
    committer.Committer.open = timed("open", committer.Committer.open)
    stack.reduce_many = timed("stack", stack.reduce_many)
    W.Whir.open = timed("whir", W.Whir.open)
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        w0, c0 = time.perf_counter(), time.process_time()
        res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq}},
                          out=Path(tmp) / "p.zkp")
        ru = resource.getrusage(resource.RUSAGE_SELF)
        out = {"prove_wall": time.perf_counter() - w0, "prove_cpu": time.process_time() - c0,
               "sys": ru.ru_stime, "peak_mib": ru.ru_maxrss / 1024,
               "sha": hashlib.sha256(res.data).hexdigest()[:24]}
    for k, v in times.items():
        out[f"{k}_wall"], out[f"{k}_cpu"] = v[0], v[1]
        if len(v) > 2:
            out[f"{k}_sys"], out[f"{k}_minflt"] = v[2], v[3]
    print(json.dumps(out), flush=True)


def _extra_timers(timed, times: dict[str, list[float]]) -> None:
    """Wrap the parts ``AB_TIME`` names (module doc)."""
    import importlib
    import time
    from contextlib import contextmanager

    for item in filter(None, os.environ.get("AB_TIME", "").split(",")):
        mod, path = item.strip().split(":")
        if mod == "section":
            from zklora.zkcore import graph

            orig = graph._SectionRecorder.section

            @contextmanager
            def section(self, name, _want=path, _orig=orig):
                if name != _want:
                    with _orig(self, name):
                        yield
                    return
                r0, w0, c0 = resource.getrusage(resource.RUSAGE_SELF), \
                    time.perf_counter(), time.process_time()
                try:
                    with _orig(self, name):
                        yield
                finally:
                    r1 = resource.getrusage(resource.RUSAGE_SELF)
                    t = times.setdefault(name, [0.0, 0.0, 0.0, 0.0])
                    t[0] += time.perf_counter() - w0
                    t[1] += time.process_time() - c0
                    t[2] += r1.ru_stime - r0.ru_stime
                    t[3] += r1.ru_minflt - r0.ru_minflt

            graph._SectionRecorder.section = section
            continue
        obj = importlib.import_module(mod)
        *owners, attr = path.split(".")
        for o in owners:
            obj = getattr(obj, o)
        setattr(obj, attr, timed(attr, getattr(obj, attr)))


def main(old: str, rounds: int, size: str, skip: int = 0) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    res: dict[str, list[dict]] = {n: [] for n in trees}
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            p = subprocess.run([sys.executable, __file__, "--one", size],
                               env=dict(os.environ, PYTHONPATH=trees[name]),
                               capture_output=True, text=True, cwd="/tmp", check=True)
            res[name].append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(name, {k: (round(v, 2) if isinstance(v, float) else v)
                         for k, v in res[name][-1].items()}, flush=True)
    shas = {r["sha"] for v in res.values() for r in v}
    assert len(shas) == 1, f"proofs differ: {shas}"
    for key in res["old"][0]:
        if key == "sha":
            continue
        mo = statistics.median(r[key] for r in res["old"][skip:])
        mn = statistics.median(r[key] for r in res["new"][skip:])
        unit = "MiB" if key == "peak_mib" else "s"
        print(f"{key:12s} old {mo:8.2f} {unit}  new {mn:8.2f} {unit}  new/old {mn / mo:.3f}")
    print(f"{size}: same proof {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 2,
             sys.argv[3] if len(sys.argv) > 3 else "25m",
             int(sys.argv[4]) if len(sys.argv) > 4 else 0)
