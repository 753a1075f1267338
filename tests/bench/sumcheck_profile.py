"""Where the prover's sumcheck time goes on the tiny training step (issue 13; not a test).

    python tests/bench/sumcheck_profile.py [--record FILE] [--replay FILE] [--repeat K]

``--record``: proves the tiny step of ``tests/bench/test_bench_train.py`` (fast profile)
twice in-process (the first run warms numba), recording during the second run every
`zklora.zkcore.sumcheck.prove` call's arguments, and pickles them to FILE.
``--replay``: proves every recorded sumcheck again ``K`` times (fresh transcripts, so
different challenges but the same work; ``--ab``: interleaved with `sumcheck.FUSED` on
and off) and prints one JSON line: calls, rounds, the
sumcheck wall time (median over the K passes), the time inside numba kernels (every
numba dispatcher of `zklora.kernels.goldilocks` and `zklora.kernels.sumcheck` called
from Python, timed), and the Python time per round: wall − kernel wall, and the main thread's
CPU time − its CPU time inside kernels (the Python code runs on the main thread: its CPU
time is what it costs on an idle machine, the robust figure on a shared one), over the
rounds.  Calls made inside a
timed kernel wrapper (the wrapper's own cost, ~0.3 µs) count as kernel time.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.getcwd())


def record(path: str, warm: bool = True) -> None:
    from tests.bench.test_bench_train import _setup
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import sumcheck as SC
    from zklora.zkcore.config import PROFILES, resolve
    from zklora.zkcore.plugins import registry

    be = resolve(PROFILES["fast"], registry())
    spec, ck, ad, ids, g, inputs, statement = _setup()
    if warm:
        graphlib.prove(g, inputs, be, statement)
    rec = []
    orig = SC.prove

    def wrapped(ch, F, tables, terms, claim, **kw):
        if kw.get("mask") is None:
            rec.append(dict(F=F.name, tables=[np.array(t) for t in tables], terms=list(terms),
                            claim=np.array(claim), label=kw.get("label", "sumcheck"),
                            public=list(kw.get("public", ()))))
        return orig(ch, F, tables, terms, claim, **kw)

    SC.prove = wrapped
    try:
        graphlib.prove(g, inputs, be, statement)
    finally:
        SC.prove = orig
    with open(path, "wb") as f:
        pickle.dump(rec, f)
    print(json.dumps({"recorded": len(rec), "file": path}))


class _Timer:
    """Wraps every numba dispatcher attribute of some modules with a timer (outermost
    calls only)."""

    def __init__(self, modules):
        from numba.core.dispatcher import Dispatcher

        self.total = 0.0
        self.cpu = 0.0
        self.calls = 0
        self.depth = 0
        self.saved = []
        for m in modules:
            for name in dir(m):
                obj = getattr(m, name)
                if isinstance(obj, Dispatcher):
                    self.saved.append((m, name, obj))
                    setattr(m, name, self._wrap(obj))

    def _wrap(self, fn):
        def w(*a):
            if self.depth:
                return fn(*a)
            self.depth += 1
            t0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*a)
            finally:
                self.total += time.perf_counter() - t0
                self.cpu += time.thread_time() - c0
                self.calls += 1
                self.depth -= 1
        return w

    def restore(self):
        for m, name, obj in self.saved:
            setattr(m, name, obj)


def replay(path: str, repeat: int, modes=(None,)) -> dict:
    from zklora.kernels import goldilocks as K
    from zklora.kernels import sumcheck as KS
    from zklora.zkcore import sumcheck as SC
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    with open(path, "rb") as f:
        rec = pickle.load(f)
    reg = registry()
    fields = {}
    for r in rec:
        if r["F"] not in fields:
            base = next(n for n in reg.names("field")
                        if reg.field(n).ext.name == r["F"] or reg.field(n).name == r["F"])
            F = reg.field(base)
            fields[r["F"]] = F.ext if F.ext.name == r["F"] else F
    rounds = sum(int(r["tables"][0].shape[0]).bit_length() - 1 for r in rec)

    cpu = {}

    def once(mode=None):
        if mode is not None:
            SC.FUSED = mode
        t0, c0 = time.perf_counter(), time.thread_time()
        for r in rec:
            ch = ProverChannel(Transcript("replay"))
            SC.prove(ch, fields[r["F"]], r["tables"], r["terms"], r["claim"], label=r["label"],
                     public=r["public"])
        cpu["last"] = time.thread_time() - c0
        return time.perf_counter() - t0

    walls = {m: [] for m in modes}
    kern = {m: [] for m in modes}
    pycpu = {m: [] for m in modes}
    for m in modes:
        once(m)  # warm
    for _ in range(repeat):  # interleaved: mode A, mode B, … per pass
        for m in modes:
            walls[m].append(once(m))
            tm = _Timer([K, KS])
            try:
                once(m)
            finally:
                tm.restore()
            kern[m].append(tm.total)
            pycpu[m].append(cpu["last"] - tm.cpu)
    out = {"calls": len(rec), "rounds": rounds}
    for m in modes:
        wall, k = statistics.median(walls[m]), statistics.median(kern[m])
        out[_NAME[m]] = {"wall_s": round(wall, 4), "kernel_s": round(k, 4),
                         "python_us_per_round": round((wall - k) / rounds * 1e6, 1),
                         "python_cpu_us_per_round": round(
                             statistics.median(pycpu[m]) / rounds * 1e6, 1),
                         "walls": [round(w, 4) for w in walls[m]]}
    return out


_NAME = {None: "current", True: "fused", False: "unfused"}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--record")
    ap.add_argument("--replay")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--ab", action="store_true",
                    help="replay with sumcheck.FUSED on and off, interleaved")
    a = ap.parse_args(argv)
    if a.record:
        record(a.record)
    if a.replay:
        print(json.dumps(replay(a.replay, a.repeat, (True, False) if a.ab else (None,))))


if __name__ == "__main__":
    main()
