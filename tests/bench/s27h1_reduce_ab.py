"""A streamed batch reduction (`Whir._reduce_streamed`) or first folding round
(`Whir._fold_streamed`) at real sizes, an old tree against this one, interleaved (not
a test).

    flock /tmp/heavy.lock python tests/bench/s27h1_reduce_ab.py OLDTREE ROUNDS CASE...

CASE = reduce:n:T:q (T memory-mapped base tables of 2^n entries, q claims each, the
default openings budget) or fold:n:T:q (a first round on one table, T = 1, or on a
batch's combination).  Each (case, tree) runs in a fresh process (``PYTHONPATH`` = the
tree; the tables are written once to a temporary directory and shared), the order
alternating; prints process CPU (user + sys), its sys part, minor faults and wall of
the call, the transcript's SHA-256 (asserted equal), then medians and new/old ratios."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def one(case: str, tdir: str) -> None:
    import hashlib
    import resource
    import time

    import attrs
    import numpy as np

    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import scratch
    from zklora.zkcore.plugins import registry
    from zklora.zkcore.transcript import ProverChannel, Transcript

    kind, n, T, q = case.split(":")
    n, T, q = int(n), int(T), int(q)
    rng = np.random.default_rng(n * 1000 + T * 10 + q)
    P = (1 << 64) - (1 << 32) + 1
    tabs = [np.load(Path(tdir) / f"t{n}_{i}.npy", mmap_mode="r") for i in range(T)]
    s = W.Whir(registry().field("goldilocks"), {"regime": "conjectured", "direct_vars": 0})

    @attrs.define
    class St:
        table: np.ndarray

    def ext(*shape):
        return rng.integers(0, P, size=shape + (2,), dtype=np.uint64)

    def ru():
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime, r.ru_stime, r.ru_minflt

    for t in tabs:   # the page cache warm, the mapped pages given back: as a cache hit
        np.asarray(t[::512]).sum()
        scratch.drop(t)
    ch = ProverChannel(Transcript(b"s27h1"))
    with scratch.session():
        u0, s0, f0 = ru()
        w0 = time.perf_counter()
        if kind == "reduce":
            group = [(St(t), []) for t in tabs]
            cons = [(ext(q, n), ext(q)) for _ in range(T)]
            out = s._reduce_streamed(ch, n, group, cons, ext(), ext(T))
            outs = [out]
        else:
            rd = s.plan(n).rounds[0]
            st = W._Stream(tuple(tabs) if T > 1 else tabs[0], ext(q, n), ext(q),
                           mu=ext(T) if T > 1 else None)
            outs = list(s._fold_streamed(ch, rd, st))
        w1 = time.perf_counter()
        u1, s1, f1 = ru()
    h = hashlib.sha256(bytes(ch.proof_bytes()))
    for o in outs:
        h.update(np.ascontiguousarray(o).tobytes())
    print(json.dumps({"cpu": u1 - u0 + s1 - s0, "sys": s1 - s0, "flt": f1 - f0,
                      "wall": w1 - w0, "sha": h.hexdigest()[:16]}), flush=True)


def main(old: str, rounds: int, cases: list[str]) -> None:
    import numpy as np
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    with tempfile.TemporaryDirectory(dir="/tmp") as tdir:
        for case in cases:
            _, n, T, _ = case.split(":")
            for i in range(int(T)):
                p = Path(tdir) / f"t{n}_{i}.npy"
                if not p.exists():
                    rng = np.random.default_rng(int(n) * 100 + i)
                    np.save(p, rng.integers(0, (1 << 64) - (1 << 32) + 1, size=1 << int(n),
                                            dtype=np.uint64))
        for case in cases:
            res: dict[str, list[dict]] = {k: [] for k in trees}
            for r in range(rounds):
                for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
                    p = subprocess.run([sys.executable, __file__, "--one", case, tdir],
                                       env=dict(os.environ, PYTHONPATH=trees[name]),
                                       capture_output=True, text=True, cwd="/tmp")
                    assert p.returncode == 0, p.stderr[-3000:]
                    res[name].append(json.loads(p.stdout.strip().splitlines()[-1]))
                    print(case, name, res[name][-1], flush=True)
            shas = {d["sha"] for v in res.values() for d in v}
            assert len(shas) == 1, f"outputs differ: {shas}"
            for key in ("cpu", "sys", "flt", "wall"):
                mo = statistics.median(d[key] for d in res["old"])
                mn = statistics.median(d[key] for d in res["new"])
                print(f"{case} {key}: old {mo:.4g} new {mn:.4g} x{mn / mo:.3f}", flush=True)


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3:])
