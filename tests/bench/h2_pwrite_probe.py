"""Where the WHIR streamed encoding's scratch writes spend their time in a whole bench-shape
prove (not a test): wraps ``os.pwrite`` (seen from `whir`), `Whir._encode_streamed`,
`Whir._commit_streamed`, `Whir._commit_next` and `Whir._fold_streamed` and prints per
wrapped function its calls, wall, thread CPU (``time.thread_time``: user + sys of the
calling thread) and the bytes ``pwrite`` moved, plus the process's /proc/self/io
(write_bytes: what reached the disk) and the kernel's Dirty/Writeback high-water marks
sampled by a thread every 50 ms.

    flock /tmp/heavy.lock python tests/bench/h2_pwrite_probe.py 25m /tmp/h2/p.zkp
    PYTHONPATH=/tmp/old ... (the old tree)
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path


def _io() -> dict[str, int]:
    out = {}
    with open("/proc/self/io") as f:
        for line in f:
            k, v = line.split(":")
            out[k.strip()] = int(v)
    return out


def _meminfo() -> dict[str, int]:
    out = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            if k in ("Dirty", "Writeback"):
                out[k] = int(v.split()[0]) >> 10   # MiB
    return out


def main(size: str, out: str) -> None:
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, pyapi

    stats: dict[str, list[float]] = {}

    def wrap(name, fn):
        def inner(*a, **kw):
            w0, c0 = time.perf_counter(), time.thread_time()
            try:
                return fn(*a, **kw)
            finally:
                s = stats.setdefault(name, [0, 0.0, 0.0, 0])
                s[0] += 1
                s[1] += time.perf_counter() - w0
                s[2] += time.thread_time() - c0
        return inner

    real = os.pwrite
    hist: dict[str, list] = {}

    def pw(fd, data, off):
        w0, c0 = time.perf_counter(), time.thread_time()
        n = real(fd, data, off)
        s = stats.setdefault("pwrite", [0, 0.0, 0.0, 0])
        s[0] += 1
        s[1] += time.perf_counter() - w0
        s[2] += time.thread_time() - c0
        s[3] += n
        key = f"{sys._getframe(2).f_code.co_name}:{n}"
        h = hist.setdefault(key, [0, 0.0])
        h[0] += 1
        h[1] += time.thread_time() - c0
        return n

    class _OS:   # `whir`'s view of os with pwrite wrapped
        def __getattr__(self, k):
            return pw if k == "pwrite" else getattr(os, k)

    W.os = _OS()
    for nm in ("_encode_streamed", "_commit_streamed", "_commit_next", "_fold_streamed",
               "_prove_merged", "commit", "open"):
        setattr(W.Whir, nm, wrap(nm, getattr(W.Whir, nm)))
    if hasattr(W, "_punch"):
        W._punch = wrap("_punch", W._punch)
    hw = {"Dirty": 0, "Writeback": 0}
    stop = threading.Event()

    def sampler():
        while not stop.wait(0.05):
            for k, v in _meminfo().items():
                hw[k] = max(hw[k], v)

    th = threading.Thread(target=sampler, daemon=True)
    th.start()
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        m, a = bench._write_checkpoint(Path(tmp), shape)
        extra = {"act_bits": shape["act_bits"]} if "act_bits" in shape else {}
        io0 = _io()
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        t0 = time.perf_counter()
        res = pyapi.prove(model=str(m), adapter=str(a), steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq, **extra}},
                          out=Path(out), progress=None)
        wall = time.perf_counter() - t0
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        io1 = _io()
    stop.set()
    print(json.dumps({
        "prove_wall": round(wall, 2), "user": round(r1.ru_utime - r0.ru_utime, 2),
        "sys": round(r1.ru_stime - r0.ru_stime, 2),
        "io": {k: io1[k] - io0[k] for k in io0},
        "dirty_hw_mib": hw, "rss_gib": round(r1.ru_maxrss / 2**20, 2),
        "timings": {k: round(v, 2) for k, v in res.timings.items()},
        "calls": {k: {"n": v[0], "wall": round(v[1], 2), "thread_cpu": round(v[2], 2),
                      "mib": v[3] >> 20} for k, v in stats.items()},
        "pwrite_by_caller_size": {k: [v[0], round(v[1], 2)] for k, v in
                                  sorted(hist.items(), key=lambda kv: -kv[1][1])[:20]}},
        indent=1), flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
