"""A whole proven step at a bench shape, an old tree against this one, interleaved, with
the WHIR commitments' and openings' CPU split out (not a test).

    git worktree add /tmp/old <rev>
    flock /tmp/heavy.lock python tests/bench/h2_enc_ab.py /tmp/old ROUNDS SIZE OUTDIR [SKIP]

Each round proves SIZE (ZK off, profile fast = WHIR; `h3_prove_shape.py`'s model) once
per tree, each in a fresh process (``PYTHONPATH`` = the tree), the order alternating,
writing the proofs to OUTDIR/<tree>-<round>.zkp (compared with ``cmp``: asserted equal);
prints per run the prove CPU / wall, the phases' walls (`pyapi.prove` timings), the CPU
of every `Whir.commit` call ("whir_commit") and of `Committer.open` ("open"), and the
peak RSS, then medians and new/old ratios over the rounds after the first SKIP."""

from __future__ import annotations

import filecmp
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parents[2]


def one(size: str, out: str) -> None:
    import resource
    import tempfile
    import time

    from zklora.plugins.commitments import whir as W
    from zklora.zkcore import bench, committer, pyapi

    times: dict[str, list[float]] = {}

    def cpu() -> float:
        r = resource.getrusage(resource.RUSAGE_SELF)
        return r.ru_utime + r.ru_stime

    def timed(name, fn):
        def wrap(*args, **kw):
            w0, c0 = time.perf_counter(), cpu()
            try:
                return fn(*args, **kw)
            finally:
                t = times.setdefault(name, [0.0, 0.0])
                t[0] += time.perf_counter() - w0
                t[1] += cpu() - c0
        return wrap

    committer.Committer.open = timed("open", committer.Committer.open)
    W.Whir.commit = timed("whir_commit", W.Whir.commit)
    W.Whir.open = timed("whir_open", W.Whir.open)
    shape = bench.SIZES[size]
    batch, seq = bench.batch_seq(size)
    with tempfile.TemporaryDirectory() as tmp:
        if size == "tiny":
            model, adapter = "tiny", None
        else:
            m, a = bench._write_checkpoint(Path(tmp), shape)
            model, adapter = str(m), str(a)
        extra = {"act_bits": shape["act_bits"]} if "act_bits" in shape else {}
        w0, c0 = time.perf_counter(), cpu()
        s0 = resource.getrusage(resource.RUSAGE_SELF).ru_stime
        res = pyapi.prove(model=model, adapter=adapter, steps=1, profile="fast",
                          zero_knowledge=False,
                          config={"task": {"model": "llama-train"},
                                  "model": {"batch": batch, "seq": seq, **extra}},
                          out=Path(out), progress=None)
        res_out = {"prove_wall": time.perf_counter() - w0, "prove_cpu": cpu() - c0,
                   "prove_sys": resource.getrusage(resource.RUSAGE_SELF).ru_stime - s0}
    for k, v in res.timings.items():
        if k in ("commitments", "openings", "lookups"):
            res_out[f"{k}_wall"] = v
    for k, (w, c) in times.items():
        res_out[f"{k}_wall"], res_out[f"{k}_cpu"] = w, c
    res_out["rss_gib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(json.dumps(res_out), flush=True)


def main(old: str, rounds: int, size: str, outdir: str, skip: int = 0) -> None:
    trees = {"old": str(Path(old).resolve()), "new": str(HERE)}
    res: dict[str, list[dict]] = {n: [] for n in trees}
    os.makedirs(outdir, exist_ok=True)
    proofs = []
    for r in range(rounds):
        for name in (["old", "new"] if r % 2 == 0 else ["new", "old"]):
            path = os.path.join(outdir, f"{name}-{r}.zkp")
            p = subprocess.run([sys.executable, __file__, "--one", size, path],
                               env=dict(os.environ, PYTHONPATH=trees[name]),
                               capture_output=True, text=True, cwd="/tmp")
            if p.returncode:
                sys.exit(p.stderr[-4000:])
            proofs.append(path)
            res[name].append(json.loads(p.stdout.strip().splitlines()[-1]))
            print(name, {k: round(v, 2) for k, v in res[name][-1].items()}, flush=True)
    same = all(filecmp.cmp(proofs[0], q, shallow=False) for q in proofs[1:])
    for key in res["old"][0]:
        mo = statistics.median(r[key] for r in res["old"][skip:])
        mn = statistics.median(r[key] for r in res["new"][skip:])
        print(f"{key:18s} old {mo:8.2f}  new {mn:8.2f}  new/old {mn / mo:.3f}")
    print(f"{size}: {len(proofs)} proofs, {os.path.getsize(proofs[0])} B, "
          f"byte-identical: {same}")
    assert same, "proofs differ"


if __name__ == "__main__":
    if sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4],
             int(sys.argv[5]) if len(sys.argv) > 5 else 0)
