"""Commitment benchmark: ligero against whir (both regimes) at 2^20 and 2^24 elements,
interleaved in one run (issue 12, acceptance point 2).

    .venv/bin/python tests/bench/bench_pcs.py --sizes 20 24 --reps 3 5 --json out.json

For each size (smallest first) and each repetition, every scheme in turn commits to the
same random Goldilocks table, opens one claim at a random point of goldilocks-ext2 and
verifies it ``--verify-reps`` times (fresh transcript each time, the proof consumed
exactly; the rep's verify time is their median, and the smallest time over all reps is
shown too: on a loaded 2-core machine a few-millisecond verifier is often descheduled);
per (size, scheme) the
medians of commit / open / verify times, the proof bytes and the soundness the
scheme states (`CommitmentScheme.soundness`) are printed, then the ratios against
ligero.  One warm-up round at 2^12 compiles every numba kernel first.  States are
dropped after each measurement, so the peak memory is one scheme's state at the
largest size (reported as the process' max RSS).
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import resource
import statistics
import sys
import time

import numpy as np

from zklora.zkcore import mle
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

SCHEMES = {
    "ligero": ("ligero", {}),
    "whir": ("whir", {}),
    "whir-conjectured": ("whir", {"regime": "conjectured"}),
}


def measure(scheme, F, table, n, rng, verify_reps=1):
    E = F.ext
    t0 = time.perf_counter()
    com, st = scheme.commit(table)
    t_commit = time.perf_counter() - t0
    r = E.random(rng, n)
    v = mle.evaluate(E, table, r, base=True)
    ev = [Evaluation(r, v)]
    t0 = time.perf_counter()
    ch = ProverChannel(Transcript(b"bench_pcs", "blake3"))
    scheme.open(ch, [OpenItem(st, ev)])
    proof = ch.proof_bytes()
    t_open = time.perf_counter() - t0
    del st
    gc.collect()
    times = []
    for _ in range(verify_reps):  # cheap: the median of a few damps scheduler noise
        t0 = time.perf_counter()
        vc = VerifierChannel(Transcript(b"bench_pcs", "blake3"), proof)
        scheme.verify(vc, [CheckItem(com, n, ev)])
        vc.finish()
        times.append(time.perf_counter() - t0)
    return t_commit, t_open, statistics.median(times), len(proof), min(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[20, 24])
    ap.add_argument("--reps", type=int, nargs="+", default=[3, 1],
                    help="repetitions per size (one number per size, or one for all)")
    ap.add_argument("--schemes", nargs="+", default=list(SCHEMES), choices=list(SCHEMES))
    ap.add_argument("--verify-reps", type=int, default=5,
                    help="verifications per opening (their median is the rep's verify time)")
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)
    reps = args.reps * len(args.sizes) if len(args.reps) == 1 else args.reps
    if len(reps) != len(args.sizes):
        ap.error("--reps: one number, or one per size")
    reg = registry()
    F = reg.field("goldilocks")
    schemes = {name: reg.commitment(SCHEMES[name][0])(F, dict(SCHEMES[name][1]))
               for name in args.schemes}
    rng = np.random.default_rng(12)
    for s in schemes.values():  # warm-up: numba compilation and caches
        measure(s, F, F.random(rng, 1 << 12), 12, rng)
    load = os.getloadavg()
    print(f"load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}", file=sys.stderr)
    results = []
    for n, nrep in zip(args.sizes, reps):
        runs: dict[str, list] = {name: [] for name in schemes}
        for rep in range(nrep):
            table = F.random(rng, 1 << n)
            for name, s in schemes.items():
                runs[name].append(measure(s, F, table, n, rng, args.verify_reps))
                gc.collect()
                print(f"  2^{n} rep {rep} {name}: commit {runs[name][-1][0]:.3f} s, open "
                      f"{runs[name][-1][1]:.3f} s, verify {1e3 * runs[name][-1][2]:.2f} ms, "
                      f"{runs[name][-1][3]} B", file=sys.stderr, flush=True)
            del table
        for name, rs in runs.items():
            bits = min(t.bits for t in schemes[name].soundness(F.ext, 1 << 20))
            results.append({
                "log_size": n, "scheme": name, "params": SCHEMES[name][1], "reps": nrep,
                "commit_s": statistics.median(r[0] for r in rs),
                "open_s": statistics.median(r[1] for r in rs),
                "verify_ms": 1e3 * statistics.median(r[2] for r in rs),
                "verify_min_ms": 1e3 * min(r[4] for r in rs),
                "proof_bytes": statistics.median(r[3] for r in rs),
                "security_bits": round(bits, 1),
            })
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"{'N':>5} {'scheme':<17} {'commit s':>9} {'open s':>8} {'verify ms':>10} "
          f"{'(min)':>6} {'proof B':>10} {'bits':>6} {'commit/ligero':>14}")
    for r in results:
        lig = next((x for x in results if x["log_size"] == r["log_size"]
                    and x["scheme"] == "ligero"), None)
        ratio = f"{r['commit_s'] / lig['commit_s']:.2f}" if lig else "-"
        print(f"2^{r['log_size']:<3} {r['scheme']:<17} {r['commit_s']:9.3f} {r['open_s']:8.3f} "
              f"{r['verify_ms']:10.2f} {r['verify_min_ms']:6.2f} {r['proof_bytes']:10.0f} "
              f"{r['security_bits']:6.1f} "
              f"{ratio:>14}")
    print(f"max RSS {rss:.2f} GiB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"results": results, "max_rss_gib": rss, "loadavg_start": load,
                       "argv": sys.argv}, f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
