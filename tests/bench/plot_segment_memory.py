"""Plot peak RSS against layers from `segment_memory_sweep.py` outputs (issue 14).

    python tests/bench/plot_segment_memory.py OUT.png LABEL=SWEEP.txt [LABEL=SWEEP.txt ...]

Each SWEEP.txt is a sweep's printed output (its JSON lines are read; the table is
ignored); one line per file, with the ±20% band around the last file's first point.
"""

from __future__ import annotations

import json
import sys


def _rows(path: str) -> list[dict]:
    out = []
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                if "peak_rss_mib" in r:
                    out.append(r)
    return out


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out, series = argv[0], [a.split("=", 1) for a in argv[1:]]
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    shape = None
    for label, path in series:
        rows = _rows(path)
        xs = [r["layers"] for r in rows]
        ax.plot(xs, [r["peak_rss_mib"] / 1024 for r in rows], "o-", label=label)
        for r in rows:
            ax.annotate(f"{r['peak_rss_mib'] / 1024:.2f}", (r["layers"], r["peak_rss_mib"] / 1024),
                        textcoords="offset points", xytext=(4, -10), fontsize=7)
        shape = rows[0]["shape"]
        base = rows[0]["peak_rss_mib"] / 1024
    ax.axhspan(0.8 * base, 1.2 * base, alpha=0.15, color="grey",
               label=f"±20% of {series[-1][0]}, {xs[0]} layers")
    ax.set_xscale("log", base=2)
    ax.set_xticks(xs, [str(x) for x in xs])
    ax.set_xlabel("layers")
    ax.set_ylabel("peak RSS (GiB)")
    ax.set_ylim(bottom=0)
    h, f, _, v, b, t = shape
    ax.set_title(f"one proven AdamW step: hidden {h}, FFN {f}, vocab {v}, batch {b}×{t}",
                 fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)


if __name__ == "__main__":
    main()
