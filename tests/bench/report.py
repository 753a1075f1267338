"""Turn a pytest-benchmark JSON file into the tables of docs/PERFORMANCE.md.

    .venv/bin/python -m pytest -m bench --benchmark-enable --benchmark-json=bench.json tests/bench
    .venv/bin/python tests/bench/report.py bench.json > tables.md

Every figure is the median of the rounds of one run, so ratios between rows are
meaningful; absolute times move with the load of the (shared) machine.
"""

from __future__ import annotations

import json
import sys


def _ms(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def _kb(n) -> str:
    if n < 10 * 1024:
        return f"{int(n)} B"
    return f"{n / 1024:.0f} KiB" if n < 1 << 20 else f"{n / (1 << 20):.2f} MiB"


def main(path: str) -> None:
    data = json.load(open(path))
    rows = {b["fullname"].split("::", 1)[1]: b for b in data["benchmarks"]}
    mi = data.get("machine_info", {})
    print(f"Run: {data.get('datetime', '?')}, {mi.get('cpu', {}).get('brand_raw', '?')}, "
          f"{mi.get('cpu', {}).get('count', '?')} logical CPUs, Python {mi.get('python_version')}")
    print()
    print("| benchmark | median | rounds | figures |")
    print("|---|---|---|---|")
    for name, b in rows.items():
        st = b["stats"]
        info = {k: v for k, v in b.get("extra_info", {}).items() if k != "per_op"}
        figs = []
        for k, v in info.items():
            if k.endswith("bytes") and isinstance(v, int | float):
                figs.append(f"{k} {_kb(v)}")
            elif isinstance(v, float):
                figs.append(f"{k} {v:.3g}")
            else:
                figs.append(f"{k} {v}")
        print(f"| `{name}` | {_ms(st['median'])} | {st['rounds']} | {', '.join(figs)} |")
    for name, b in rows.items():
        per_op = b.get("extra_info", {}).get("per_op")
        if per_op:
            print()
            print(f"Per-phase / per-op prover time of `{name}`:")
            print()
            print("| phase or op | seconds |")
            print("|---|---|")
            for k, v in per_op.items():
                print(f"| {k} | {v:.2f} |")


if __name__ == "__main__":
    main(sys.argv[1])
