"""The witness phase (`api.make_statement`: the model's integer forward of phase 1,
`graph.forward`) of a bench-path prove, an old tree against this one, interleaved in
fresh processes; each run stops after the phase (not a test).  Since s35h4 it also reports
``forward`` (`graph.forward` alone, CPU) and ``S35H4_SERIAL=0`` in the environment (the
new tree's `graph.SERIAL_TORCH` off).

    flock /tmp/heavy.lock python tests/bench/s34h4_witness_ab.py /tmp/old [ROUNDS] [SIZE]
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def prove_until(size: str, stop: type[BaseException]) -> None:
    """One bench-path prove of SIZE (fast profile, ZK off) in a temporary directory,
    ended by ``stop`` raised from a patched phase."""
    import tempfile

    from zklora.zkcore import bench, pyapi

    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        try:
            pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                        zero_knowledge=False,
                        config={"task": {"model": "llama-train"},
                                "model": {"batch": batch, "seq": seq}},
                        out=Path(tmp) / "p.zkp")
        except stop:
            pass


def one(size: str) -> None:
    from zklora.plugins.models import llama_train as lt
    from zklora.zkcore import api
    from zklora.zkcore import graph as graphlib

    if os.environ.get("S35H4_SERIAL") == "0" and hasattr(graphlib, "SERIAL_TORCH"):
        graphlib.SERIAL_TORCH = False

    class Stop(Exception):
        pass

    got: dict[str, float] = {}
    orig = api.make_statement

    def timed(*a, **kw):
        r0, w0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        try:
            return orig(*a, **kw)
        finally:
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            got["wall"] = time.perf_counter() - w0
            got["user"] = r1.ru_utime - r0.ru_utime
            got["sys"] = r1.ru_stime - r0.ru_stime

    def stop(*a, **kw):
        raise Stop

    fwd = graphlib.forward

    def forward(*a, **kw):
        c0 = time.process_time()
        try:
            return fwd(*a, **kw)
        finally:
            got["forward"] = got.get("forward", 0.0) + time.process_time() - c0

    graphlib.forward = forward
    api.make_statement = timed
    lt.LlamaTrain.witness = stop
    prove_until(size, Stop)
    got["cpu"] = got["user"] + got["sys"]
    print(json.dumps(got), flush=True)


def main(old: str, rounds: int, size: str) -> None:
    res: dict[str, list[dict]] = {"old": [], "new": []}
    for r in range(rounds):
        for side in (("old", "new") if r % 2 == 0 else ("new", "old")):
            tree = old if side == "old" else str(HERE)
            out = subprocess.run([sys.executable, __file__, "--one", size], cwd=tree,
                                 env={**os.environ, "PYTHONPATH": tree}, check=True,
                                 capture_output=True, text=True).stdout
            d = json.loads(out.strip().splitlines()[-1])
            res[side].append(d)
            print(side, r, {k: round(v, 3) for k, v in d.items()}, flush=True)
    for k in ("cpu", "user", "sys", "wall", "forward"):
        o = statistics.median(d[k] for d in res["old"])
        n = statistics.median(d[k] for d in res["new"])
        print(f"{k}: old {o:.3f} new {n:.3f} new/old {n / o:.3f}")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2])
    else:
        main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3,
             sys.argv[3] if len(sys.argv) > 3 else "25m")
