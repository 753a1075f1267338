"""Whole-prove process CPU, an old tree against a new one, interleaved (not a test):
what numba's cached-kernel loading costs a prove process (`zklora.kernels.jit_util`).

    python tests/bench/s27h5_load_ab.py OLD NEW ROUNDS SIZE[,SIZE] [CACHEDIR]

(OLD / NEW: a tree, optionally with environment settings: ``TREE::VAR=VALUE``, e.g. one
tree against itself with ``ZKLORA_NUMBA_LAZY_BITCODE=0``.)

Each run is a fresh process (``PYTHONPATH`` = the tree) proving one step: ``tiny``
via ``pyapi.prove(task="train", model="tiny")``, another bench size like `zklora
bench` (its checkpoint, batch and seq) with a prover cache (``CACHEDIR/<tree>-<size>``,
filled by an uncounted first run, then hits).  Printed per run: the prove's own user +
sys CPU (getrusage around the call), the whole process's (RUSAGE_CHILDREN), the time
numba spent loading cached kernels (``Cache.load_overload``, process CPU), the proof's
sha256 (asserted equal between the trees) and the compile seconds (asserted 0).
Medians and new/old ratios at the end.  The script holds ``/tmp/heavy.lock`` (flock)
for each old/new pair of runs, not longer."""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def one(size: str, cache: str | None) -> None:
    import resource

    from numba.core import caching

    loads = [0.0, 0]
    inner = caching.Cache.load_overload

    def load_overload(self, sig, target_context):
        t0 = time.process_time()
        try:
            return inner(self, sig, target_context)
        finally:
            loads[0] += time.process_time() - t0
            loads[1] += 1

    caching.Cache.load_overload = load_overload
    from zklora.zkcore import bench, pyapi

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "p.zkp"
        if size == "tiny":
            kw = dict(task="train", model="tiny", zero_knowledge=False)
        else:
            shape = bench.SIZES[size]
            batch, seq = bench.batch_seq(size, None, None)
            m, a = bench._write_checkpoint(Path(tmp), shape)
            extra = {"act_bits": shape["act_bits"]} if "act_bits" in shape else {}
            kw = dict(model=str(m), adapter=str(a), steps=1, profile="fast",
                      zero_knowledge=False, prover_cache=cache,
                      config={"task": {"model": "llama-train"},
                              "model": {"batch": batch, "seq": seq, **extra}})
        r0 = resource.getrusage(resource.RUSAGE_SELF)
        res = pyapi.prove(out=out, **kw)
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        sha = hashlib.sha256(out.read_bytes()).hexdigest()
    print(json.dumps({"prove_user": r1.ru_utime - r0.ru_utime,
                      "prove_sys": r1.ru_stime - r0.ru_stime,
                      "load_cpu": loads[0], "loads": loads[1], "sha": sha,
                      "compile": res.compile_seconds, "cache": res.prover_cache}))


def run(spec: str, size: str, cache: str | None) -> dict:
    tree, *sets = spec.split("::")
    env = dict(os.environ, PYTHONPATH=tree, **dict(x.split("=", 1) for x in sets))
    cmd = [f"{tree}/.venv/bin/python", __file__, "--one", size, cache or ""]
    p = subprocess.Popen(cmd, env=env, cwd=tree, stdout=subprocess.PIPE, text=True)
    out, _ = p.communicate()
    if p.returncode != 0:
        raise SystemExit(f"{tree} {size}: exit {p.returncode}")
    doc = json.loads(out.strip().splitlines()[-1])
    return doc


def _lock() -> int:
    import fcntl

    fd = os.open("/tmp/heavy.lock", os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(fd, fcntl.LOCK_EX)
    return fd


def main(old: str, new: str, rounds: int, sizes: list[str], cdir: str) -> None:
    import resource

    trees = {"old": old, "new": new}
    rows: dict = {(t, s): [] for t in trees for s in sizes}
    caches = {(t, s): (None if s == "tiny" else f"{cdir}/{t}-{s}") for t in trees
              for s in sizes}
    for s in sizes:     # fill the prover caches (and warm the page cache): not counted
        for t, tree in trees.items():
            lock = _lock()
            d = run(tree, s, caches[t, s])
            os.close(lock)
            print(f"fill {t} {s}: {d['cache']} compile {d['compile']:.1f}", flush=True)
    for i in range(rounds):
        for s in sizes:
            order = list(trees.items()) if i % 2 == 0 else list(trees.items())[::-1]
            lock = _lock()
            for t, tree in order:
                c0 = resource.getrusage(resource.RUSAGE_CHILDREN)
                d = run(tree, s, caches[t, s])
                c1 = resource.getrusage(resource.RUSAGE_CHILDREN)
                d["proc_cpu"] = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
                d["prove_cpu"] = d["prove_user"] + d["prove_sys"]
                rows[t, s].append(d)
                print(f"round {i} {s} {t}: prove {d['prove_cpu']:.3f} s (user "
                      f"{d['prove_user']:.3f} sys {d['prove_sys']:.3f}) process "
                      f"{d['proc_cpu']:.3f} s load {d['load_cpu']:.3f} s ({d['loads']}) "
                      f"compile {d['compile']:.1f} {d['cache']} {d['sha'][:16]}", flush=True)
            os.close(lock)
    for s in sizes:
        shas = {d["sha"] for t in trees for d in rows[t, s]}
        assert len(shas) == 1, f"{s}: proofs differ {shas}"
        assert all(d["compile"] == 0 for t in trees for d in rows[t, s]), "compiled"
        med = {t: {k: statistics.median(d[k] for d in rows[t, s])
                   for k in ("prove_cpu", "prove_user", "prove_sys", "proc_cpu", "load_cpu")}
               for t in trees}
        for k in med["old"]:
            print(f"{s} {k:10s} old {med['old'][k]:8.3f}  new {med['new'][k]:8.3f}  "
                  f"new/old {med['new'][k] / med['old'][k]:.3f}  diff "
                  f"{med['new'][k] - med['old'][k]:+.3f}")
        print(f"{s} sha {shas.pop()}")


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3] or None)
    else:
        main(sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4].split(","),
             sys.argv[5] if len(sys.argv) > 5 else tempfile.mkdtemp(prefix="s27h5ab-"))
