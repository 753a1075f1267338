"""CPU profile (cProfile timed by process CPU, both threads) of the openings phase of
one proven step (not a test; s28h1).

    flock /tmp/heavy.lock python tests/bench/s28h1_open_profile.py [SIZE] [--top K] [--dump F]

Proves the `zklora bench` shape SIZE (default 25m; ZK off, profile fast = WHIR) in this
process, with cProfile enabled only inside ``Committer.open`` (the openings phase: the
stack reduction sumchecks and the one batched WHIR opening).  Prints the opening's wall /
CPU, the split between `stack.reduce_many` and the scheme's ``open``, and the TOP
functions by own and cumulative time."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("size", nargs="?", default="25m")
    ap.add_argument("--top", type=int, default=45)
    ap.add_argument("--dump")
    a = ap.parse_args(argv)
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, committer, pyapi, stack

    prof = cProfile.Profile(time.process_time)
    times: dict[str, list[float]] = {}

    def timed(name, fn, profile=False):
        def wrap(*args, **kw):
            w0, c0 = time.perf_counter(), time.process_time()
            if profile:
                prof.enable()
            try:
                return fn(*args, **kw)
            finally:
                if profile:
                    prof.disable()
                t = times.setdefault(name, [0.0, 0.0])
                t[0] += time.perf_counter() - w0
                t[1] += time.process_time() - c0
        return wrap

    committer.Committer.open = timed("open", committer.Committer.open, profile=True)
    stack.reduce_many = timed("reduce_many", stack.reduce_many)
    W.Whir.open = timed("whir.open", W.Whir.open)
    shape = bench.SIZES[a.size]
    batch, seq = bench.batch_seq(a.size)
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        w0, c0 = time.perf_counter(), time.process_time()
        res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq}},
                          out=Path(tmp) / "p.zkp")
        print(f"prove wall {time.perf_counter() - w0:.1f} s CPU "
              f"{time.process_time() - c0:.1f} s proof {res.proof_size} B")
    for k, (w, c) in times.items():
        print(f"  {k:14s} wall {w:8.2f} s  CPU {c:8.2f} s")
    st = pstats.Stats(prof, stream=sys.stdout)
    if a.dump:
        st.dump_stats(a.dump)
    st.sort_stats("tottime").print_stats(a.top)
    st.sort_stats("cumulative").print_stats(a.top)


if __name__ == "__main__":
    main()
