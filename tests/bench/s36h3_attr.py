"""Attribution of `Whir.commit` inside one proven step (not a test).

    flock /tmp/heavy.lock env PYTHONPATH=TREE python tests/bench/s36h3_attr.py SIZE

Proves SIZE (25m / 84m, as `h1_prove_ab.py`) once with the WHIR commit's parts wrapped:
per (part, table log-size n) the calls, wall and process CPU (every thread's; the I/O
helpers' `_pwrite` / `_pread` also their own thread CPU), and the two phases
(`commit_frozen` = the model commitment, the recorder's ``commitments`` section)."""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

CUR = threading.local()
T: dict = {}


def _add(key, w, c, tc=0.0, rf=None):
    t = T.setdefault(key, [0, 0.0, 0.0, 0.0, 0.0, 0])
    t[0] += 1
    t[1] += w
    t[2] += c
    t[3] += tc
    if rf is not None:
        t[4] += rf[0]
        t[5] += rf[1]


def wrap(owner, attr, name=None, setn=False, rus=False):
    fn = getattr(owner, attr)
    name = name or attr

    def w(*a, **k):
        if setn:
            t = a[1]
            CUR.n = t.shape[0].bit_length() - 1
        n = getattr(CUR, "n", -1)
        r0 = resource.getrusage(resource.RUSAGE_SELF) if rus else None
        w0, c0, t0 = time.perf_counter(), time.process_time(), time.thread_time()
        try:
            return fn(*a, **k)
        finally:
            rf = None
            if rus:
                r1 = resource.getrusage(resource.RUSAGE_SELF)
                rf = (r1.ru_stime - r0.ru_stime, r1.ru_minflt - r0.ru_minflt)
            _add((name, n), time.perf_counter() - w0, time.process_time() - c0,
                 time.thread_time() - t0, rf)
    setattr(owner, attr, w)


def main(size: str) -> None:
    from zklora.kernels import merkle, ntt
    from zklora.kernels import whir as K
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import api, bench, graph, pyapi

    wrap(W.Whir, "_commit_streamed", "commit_streamed", setn=True, rus=True)
    wrap(W.Whir, "_commit_table", "commit_table", setn=True, rus=True)
    wrap(W.Whir, "_encode_streamed", "encode_streamed")
    wrap(W.Whir, "_horner_tiles", "horner_tiles")
    wrap(W.Whir, "_ood_points", "ood_points")
    wrap(K, "mobius_low")
    wrap(K, "mobius_high")
    wrap(K, "mobius")
    wrap(K, "encode_leaves")
    wrap(K, "twist_dft_tiles")
    wrap(ntt, "rs_encode_cols")
    wrap(merkle, "hash_leaves")
    wrap(merkle, "hash_nodes")
    wrap(merkle, "build")
    wrap(W._MerkleBlocks, "add", "merkle_add")
    wrap(W._MerkleBlocks, "finish", "merkle_finish")
    wrap(W, "_pwrite")
    wrap(W, "_pread")
    wrap(W._Tiled, "tile", "tiled_tile")
    wrap(api, "commit_frozen", rus=True)
    orig = graph._SectionRecorder.section
    from contextlib import contextmanager

    @contextmanager
    def section(self, name):
        if name != "commitments":
            with orig(self, name):
                yield
            return
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            with orig(self, name):
                yield
        finally:
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            _add(("section:commitments", -1), time.perf_counter() - w0,
                 time.process_time() - c0, 0.0,
                 (r1.ru_stime - r0.ru_stime, r1.ru_minflt - r0.ru_minflt))
    graph._SectionRecorder.section = section

    if size.startswith("mb"):   # mbN,N,...: random tables committed in a scratch session
        import numpy as np

        from zklora.zkcore import scratch
        from zklora.zkcore.plugins import registry
        F = registry().field("goldilocks")
        s = W.Whir(F, {"regime": "conjectured"})
        rng = np.random.default_rng(7)
        with scratch.session(threshold=0):
            s.commit(F.random(rng, 1 << 14))
            T.clear()
            for n in map(int, size[2:].split(",")):
                t = F.random(rng, 1 << n)
                t.flags.writeable = False
                w0, c0 = time.perf_counter(), time.process_time()
                com, _ = s.commit(t)
                print(json.dumps({"n": n, "wall": time.perf_counter() - w0,
                                  "cpu": time.process_time() - c0, "com": com.hex()[:16]}))
        _report()
        return
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
        import hashlib
        print(json.dumps({"prove_wall": time.perf_counter() - w0,
                          "prove_cpu": time.process_time() - c0,
                          "sha": hashlib.sha256(res.data).hexdigest()[:24]}))
    _report()


def _report() -> None:
    print(f"{'part':22s} {'n':>3s} {'calls':>6s} {'wall':>7s} {'cpu':>7s} {'thrcpu':>7s}"
          f" {'sys':>6s} {'minflt':>7s}")
    for (name, n), t in sorted(T.items(), key=lambda kv: (kv[0][1], -kv[1][1])):
        print(f"{name:22s} {n:3d} {t[0]:6d} {t[1]:7.3f} {t[2]:7.3f} {t[3]:7.3f}"
              f" {t[4]:6.2f} {t[5]:7d}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "25m")
