"""Where the commitments phase's time goes (not a test): one bench-shape prove (ZK off,
WHIR) with getrusage wrappers on the commitment code — the encoder (`ntt.rs_encode_cols`,
`kernels.whir.twist_dft_tiles`, Möbius passes), the hashing (`blake3_numba.hash_many` /
`hash_pairs`), the level files (`_MerkleBlocks.add` less its hashing), scratch-file I/O
and the waits on the I/O threads — each figure (calls, wall, process user / sys CPU,
minor faults) charged to the prove phase it ran in (`progress.Reporter`).  Process CPU
includes the I/O helper threads running at the same time.

    cd TREE && PYTHONPATH=$PWD flock /tmp/heavy.lock .venv/bin/python \
        tests/bench/s28h3_commit_split.py 25m [--cache DIR]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import resource
import tempfile
import time
from pathlib import Path

CUR = ["-"]
STATS: dict[tuple[str, str], list[float]] = {}
SHAPES: dict[tuple, list[float]] = {}


def _shape_key(label: str, a, kw) -> tuple | None:
    """The encoder calls' shapes (what a microbench must reproduce)."""
    if label == "ntt.rs_encode_cols":
        return (label, a[0].shape, len(a[1]), a[2])
    if label == "whir.twist_dft_tiles":
        return (label, a[0].shape, a[1].shape, a[3], a[4], a[5], a[6], a[7])
    if label in ("blake3_numba.hash_many", "blake3_numba.hash_pairs"):
        return (label, a[0].shape)
    return None


def _snap() -> tuple[float, float, float, int]:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return time.perf_counter(), r.ru_utime, r.ru_stime, r.ru_minflt


def _wrap(owner, attr: str, label: str) -> None:
    fn = getattr(owner, attr)

    def wrapped(*a, **kw):
        s0 = _snap()
        try:
            return fn(*a, **kw)
        finally:
            s1 = _snap()
            st = STATS.setdefault((CUR[0], label), [0, 0.0, 0.0, 0.0, 0])
            st[0] += 1
            for i in range(4):
                st[i + 1] += s1[i] - s0[i]
            key = _shape_key(label, a, kw)
            if key is not None:
                sh = SHAPES.setdefault((CUR[0],) + key, [0, 0.0, 0.0])
                sh[0] += 1
                sh[1] += s1[0] - s0[0]
                sh[2] += s1[1] + s1[2] - s0[1] - s0[2]

    wrapped.__wrapped__ = fn
    setattr(owner, attr, wrapped)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("size")
    ap.add_argument("--cache", help="prover cache directory")
    a = ap.parse_args()

    from zklora.kernels import blake3_numba, merkle, ntt
    from zklora.kernels import whir as K
    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, committer, graph, lookup, op, progress, pyapi, scratch, stack
    from zklora.zkcore import range as rangelib

    phase_t: dict[str, list[float]] = {}
    start, end = progress.Reporter._start_phase, progress.Reporter._end_phase
    ph0: list = [None]

    def start_phase(self, phase, total):
        start(self, phase, total)
        CUR[0] = phase
        ph0[0] = _snap()

    def end_phase(self, ok):
        if self._phase is not None and ph0[0] is not None:
            s1 = _snap()
            t = phase_t.setdefault(self._phase, [0.0, 0.0, 0.0, 0])
            for i in range(4):
                t[i] += s1[i] - ph0[0][i]
            ph0[0] = None
        end(self, ok)
        CUR[0] = "-"

    progress.Reporter._start_phase = start_phase
    progress.Reporter._end_phase = end_phase

    for owner, attrs_ in [
        (W.Whir, ["commit", "_commit_table", "_commit_streamed", "_encode_streamed",
                  "_commit_next", "_horner_tiles", "_merkle_streamed"]),
        (W._MerkleBlocks, ["add", "finish"]),
        (W._Job, ["wait"]),
        (W, ["_pwrite", "_pread", "_punch"]),
        (ntt, ["rs_encode_cols", "rs_encode"]),
        (K, ["twist_dft_tiles", "twist_dft_block", "encode_leaves", "mobius", "mobius_low",
             "mobius_high", "horner"]),
        (merkle, ["hash_leaves", "hash_nodes", "build"]),
        (blake3_numba, ["hash_many", "hash_pairs"]),
        (scratch, ["drop_pages", "drop"]),
        (committer.Committer, ["commit", "flush", "flush_packed"]),
        (graph, ["_commit_lookups", "static_range_checks"]),
        (graph.Witness, ["spill"]),
        (rangelib, ["range_limbs", "padded_checks", "choose_widths", "_self_check",
                    "_limb"]),
        (stack.StackLayout, ["stack_from"]),
        (scratch.Store, ["build", "discard", "save"]),
        (scratch.Spilled, ["read_range"]),
        (graph.Witness, ["__getitem__", "__setitem__"]),
        (lookup, ["witness", "commit"]),
        (op.ProverContext, ["_make_table", "advice", "commit_advice"]),
        (op, ["_u64_view"]),
    ]:
        for at in attrs_:
            if not hasattr(owner, at):
                continue
            lab = f"{getattr(owner, '__name__', owner)}.{at}".split(".")[-2:]
            _wrap(owner, at, ".".join(lab))

    shape = bench.SIZES[a.size]
    batch, seq = bench.batch_seq(a.size)
    rep = progress.Reporter(mode="none")
    with tempfile.TemporaryDirectory() as tmp:
        m, ad = bench._write_checkpoint(Path(tmp), shape)
        t0, c0 = time.perf_counter(), time.process_time()
        with rep:
            res = pyapi.prove(model=str(m), adapter=str(ad), steps=1, profile="fast",
                              zero_knowledge=False, progress=rep,
                              prover_cache=a.cache,
                              config={"task": {"model": "llama-train"},
                                      "model": {"batch": batch, "seq": seq}},
                              out=Path(tmp) / "p.zkp")
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(json.dumps({"size": a.size, "prove_wall": round(wall, 2),
                      "prove_cpu": round(cpu, 2),
                      "sha": hashlib.sha256(res.data).hexdigest()[:24]}))
    print(f"{'phase':22s} {'wall':>7s} {'user':>7s} {'sys':>7s} {'minflt':>8s}")
    for p, (w, u, s, f) in phase_t.items():
        print(f"{p:22s} {w:7.2f} {u:7.2f} {s:7.2f} {int(f):8d}")
    print()
    print(f"{'phase':14s} {'function':28s} {'calls':>6s} {'wall':>7s} {'user':>7s} "
          f"{'sys':>7s} {'minflt':>8s}")
    for (p, lab), (n, w, u, s, f) in sorted(STATS.items()):
        print(f"{p:14s} {lab:28s} {int(n):6d} {w:7.3f} {u:7.3f} {s:7.3f} {int(f):8d}")
    print()
    for key, (n, w, c) in sorted(SHAPES.items(), key=lambda kv: -kv[1][2]):
        if c > 0.02:
            print(f"{n:5d} {w:7.3f} {c:7.3f}  {key}")


if __name__ == "__main__":
    main()
