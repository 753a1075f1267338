"""Peak RSS against the number of layers (issue 14, acceptance 3; a benchmark).

    python tests/bench/segment_memory_sweep.py H F V B T N1 N2 ... [--plot PNG] [--limit GiB]
        [--commitment whir|ligero]

runs `tests/bench/segment_memory.py H F N V B T` once per layer count N, one process at
a time (each under ``prlimit --as`` of ``--limit`` GiB and a 40-minute timeout), prints
each run's JSON line and then a markdown table: layers, peak RSS (MiB), its ratio to
the first count's, prove seconds, proof bytes.  ``--plot`` also draws peak RSS against
the layer count (matplotlib).  ``--commitment`` is passed on to `segment_memory.py`
(default: the profile's scheme).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    for k in ("H", "F", "V", "B", "T"):
        ap.add_argument(k, type=int)
    ap.add_argument("layers", type=int, nargs="+")
    ap.add_argument("--plot")
    ap.add_argument("--limit", type=float, default=12.0)
    ap.add_argument("--commitment")
    a = ap.parse_args(argv)
    rows = []
    for n in a.layers:
        cmd = ["timeout", "2400", "prlimit", f"--as={int(a.limit * 2**30)}", sys.executable,
               str(HERE / "segment_memory.py"), str(a.H), str(a.F), str(n), str(a.V),
               str(a.B), str(a.T)] + (["--commitment", a.commitment] if a.commitment else [])
        p = subprocess.run(cmd, capture_output=True, text=True)
        line = (p.stdout.strip().splitlines() or [""])[-1]
        try:
            res = json.loads(line)
        except json.JSONDecodeError:
            res = {"error": (p.stderr.strip().splitlines() or ["?"])[-1], "rc": p.returncode}
        res["layers"] = n
        print(json.dumps(res), flush=True)
        rows.append(res)
    base = next((r["peak_rss_mib"] for r in rows if "peak_rss_mib" in r), None)
    print(f"\n| layers | peak RSS (MiB) | vs {a.layers[0]} layers | prove (s) | proof (bytes) |")
    print("|---:|---:|---:|---:|---:|")
    for r in rows:
        if "peak_rss_mib" not in r:
            print(f"| {r['layers']} | failed: {r['error']} | | | |")
            continue
        print(f"| {r['layers']} | {r['peak_rss_mib']} | {r['peak_rss_mib'] / base:.2f} | "
              f"{r['prove_s']} | {r['proof_bytes']} |")
    if a.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        ok = [r for r in rows if "peak_rss_mib" in r]
        fig, ax = plt.subplots(figsize=(5, 3.2))
        ax.plot([r["layers"] for r in ok], [r["peak_rss_mib"] / 1024 for r in ok], "o-",
                label="peak RSS")
        if base:
            ax.axhspan(0.8 * base / 1024, 1.2 * base / 1024, alpha=0.15,
                       label=f"±20% of {a.layers[0]} layers")
        ax.set_xscale("log", base=2)
        ax.set_xticks([r["layers"] for r in ok], [str(r["layers"]) for r in ok])
        ax.set_xlabel("layers")
        ax.set_ylabel("peak RSS (GiB)")
        ax.set_ylim(bottom=0)
        ax.set_title(f"one step, hidden {a.H}, FFN {a.F}, vocab {a.V}, batch {a.B}×{a.T}"
                     + (f", {a.commitment}" if a.commitment else ""), fontsize=9)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(a.plot, dpi=120)


if __name__ == "__main__":
    main()
