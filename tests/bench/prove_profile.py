"""cProfile of one proven training step at a `zklora bench` shape (not a test).

    flock /tmp/heavy.lock python tests/bench/prove_profile.py H F N V B T [--top K] [--dump FILE]

Same model/adapter/batch as ``segment_memory.py``; prints prove wall / CPU, the wall
seconds between progress phases, and the TOP functions by own time and by cumulative
time (numba kernels show as their dispatcher calls)."""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    for k in ("H", "F", "N", "V", "B", "T"):
        ap.add_argument(k, type=int)
    ap.add_argument("--top", type=int, default=40)
    ap.add_argument("--dump", help="write the pstats file here")
    ap.add_argument("--out", help="write the proof here")
    a = ap.parse_args(argv)
    from zklora.plugins.models import llama
    from zklora.plugins.models.hf import save_adapter, save_model
    from zklora.plugins.models.tiny import tiny_adapter, tiny_arch, tiny_lora, tiny_weights
    from zklora.zkcore import api, config

    heads = a.H // 32
    arch = tiny_arch(heads, hidden_size=a.H, intermediate_size=a.F, num_layers=a.N,
                     vocab_size=a.V, num_heads=heads, head_dim=32)
    d = Path(tempfile.mkdtemp(prefix="profstep-"))
    ck = tiny_weights(arch, seed=0)
    save_model(d / "model", arch, ck.weights)
    save_adapter(d / "adapter", tiny_adapter(arch, tiny_lora(targets=("q", "v")),
                                             init="random"))
    np.save(d / "batch.npy", llama.random_batch(a.V, a.B, a.T, 3).numpy())
    cfg = config.from_dict({"task": {"model": "llama-train"},
                            "model": {"model": str(d / "model"),
                                      "adapter": str(d / "adapter"),
                                      "data": str(d / "batch.npy"), "steps": 1}})
    marks: list[tuple[str, float, float]] = []
    last = [None]

    def progress(phase, i, n):
        if phase != last[0]:
            last[0] = phase
            marks.append((phase, time.perf_counter(), time.process_time()))

    prof = cProfile.Profile()
    w0, c0 = time.perf_counter(), time.process_time()
    prof.enable()
    res = api.prove(cfg, progress=progress)
    prof.disable()
    w1, c1 = time.perf_counter(), time.process_time()
    if a.out:
        Path(a.out).write_bytes(res.data)
    print(f"prove wall {w1 - w0:.1f} s, CPU {c1 - c0:.1f} s, proof {len(res.data)} B")
    marks.append(("end", w1, c1))
    for (p, w, c), (_, w2, c2) in zip(marks, marks[1:]):
        print(f"  {p:30s} wall {w2 - w:8.2f} s  CPU {c2 - c:8.2f} s")
    st = pstats.Stats(prof, stream=sys.stdout)
    if a.dump:
        st.dump_stats(a.dump)
    st.sort_stats("tottime").print_stats(a.top)
    st.sort_stats("cumulative").print_stats(a.top)


if __name__ == "__main__":
    main()
