"""Per-op-kind work counts of a training step's graph (issue 13; not a test).

    python tests/bench/work_counts.py [--shape H F N V HEADS B T] [--json]

Builds the training graph (one AdamW step; default: the tiny model at batch 1 × 16,
``zklora bench``'s tiny shape) without any witness and counts, from the graph alone —
what prover and verifier both derive — per op kind:

* **committed**: elements of the committed tensors an op's nodes produce (outputs of
  kind "committed"; inputs of the statement under ``[input]``);
* **limbs**: elements of the range-check limbs (advice) of the checks the op declares
  (`Op.range_checks`; the graph's proven bounds under ``[bound]``), after the limb width
  is chosen by cost (`range._by_cost`);
* **looked-up**: entries looked up: the op's own `Op.lookups` plus one per element, side
  and limb (or per element and side for a direct check) of its range checks;
* per table: its rows (each table's multiplicities are committed: 2^t elements).

Run with ``PYTHONPATH=<other tree>`` to count an older tree's graph (A/B).

The totals are the work of one proof's commitment and lookup phases; the stacked
commitment pads them to powers of two (not counted here).
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from zklora.plugins.models.llama import ForwardSpec
from zklora.plugins.models.llama_train import TrainSpec, build_train_graph
from zklora.plugins.models.tiny import tiny_arch, tiny_lora
from zklora.zkcore import range as rangelib
from zklora.zkcore.graph import _bound_checks, _declared
from zklora.zkcore.plugins import registry
from zklora.zkcore.quant import QuantConfig


class _Ctx:
    """What `range._by_cost` reads: the field and the specs."""

    def __init__(self, F, specs):
        self.F, self.specs = F, specs

    def spec(self, name):
        return self.specs[name]


def graph_of(shape: tuple[int, ...] | None, batch: int, seq: int):
    if shape is None:
        arch = tiny_arch()
    else:
        h, f, n, v, heads = shape
        arch = tiny_arch(heads, hidden_size=h, intermediate_size=f, num_layers=n,
                         vocab_size=v, num_heads=heads, head_dim=h // heads)
    return build_train_graph(TrainSpec(ForwardSpec(arch, tiny_lora(), QuantConfig(),
                                                   batch, seq), 1))


def counts(g) -> dict:
    reg = registry()
    F = reg.field("goldilocks")
    kind_of = {}
    rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for n in g.nodes:
        for t in n.outputs:
            kind_of[t] = n.op
            if g.tensors[t].kind == "committed":
                rows[n.op]["committed"] += g.tensors[t].size
                rows[n.op]["committed_tensors"] += 1
    for name, s in g.tensors.items():
        if s.kind == "committed" and name not in kind_of:
            rows["[input]"]["committed"] += s.size
    # range checks, attributed to the first declarer (the graph drops repeats)
    checks: list[tuple[str, rangelib.RangeCheck]] = [("[bound]", rc) for rc in _bound_checks(g)]
    for node, declared in _declared(g, reg, "range_checks", "range checks", ValueError):
        checks += [(node.op, rc) for rc in declared]
    seen, kept = set(), []
    for who, rc in checks:
        key = (rc.tensor, int(rc.lo), int(rc.hi))
        if key not in seen:
            seen.add(key)
            kept.append((who, rc))
    ctx = _Ctx(F, g.tensors)
    costed = rangelib._by_cost(ctx, [rc for _, rc in kept])
    tables: dict[str, int] = {}
    for (who, _), rc in zip(kept, costed):
        widths = getattr(rc, "widths", ())      # (an older tree: no explicit widths)
        B, limbs, sides = rangelib._plan(F, rc.lo, rc.hi, rc.limb_bits,
                                         *([widths] if widths else []))
        size = g.tensors[rc.tensor].size
        r = rows[who]
        r["range_checks"] += 1
        r["two_sided"] += len(sides) == 2
        if rangelib._direct(ctx, rc.tensor, B, rc.limb_bits):
            r["looked_up"] += size * len(sides)
            r["range_direct_entries"] += size * len(sides)
            for side, _ in sides:
                t = rangelib._table_for(side, rc.lo, rc.hi, B)
                tables[t.name] = t.size
        else:
            r["limbs"] += size * len(sides) * len(limbs)
            r["looked_up"] += size * len(sides) * len(limbs)
            for bits in limbs:
                tables[f"range{bits}"] = 1 << bits
    for node, declared in _declared(g, reg, "lookups", "lookups", ValueError):
        for req in declared:
            n = g.tensors[req.columns[0]].size
            rows[node.op]["looked_up"] += n
            rows[node.op]["op_lookups"] += n
            tables[req.table.name] = req.table.size
    tot: dict[str, int] = defaultdict(int)
    for r in rows.values():
        for k, v in r.items():
            tot[k] += v
    return {"rows": {k: dict(v) for k, v in rows.items()}, "tables": tables,
            "total": dict(tot), "table_rows": sum(tables.values())}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shape", type=int, nargs=7, metavar=("H", "F", "N", "V", "HEADS", "B", "T"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args(argv)
    shape, b, t = (None, 1, 16) if a.shape is None else (tuple(a.shape[:5]), *a.shape[5:])
    c = counts(graph_of(shape, b, t))
    if a.json:
        print(json.dumps(c, sort_keys=True))
        return
    cols = ("committed", "limbs", "looked_up", "range_checks", "two_sided", "op_lookups")
    print(f"{'op kind':<24}" + "".join(f"{k:>14}" for k in cols))
    for k, r in sorted(c["rows"].items(), key=lambda kv: -kv[1].get("looked_up", 0)
                       - kv[1].get("committed", 0) - kv[1].get("limbs", 0)):
        print(f"{k:<24}" + "".join(f"{r.get(x, 0):>14,}" for x in cols))
    print(f"{'total':<24}" + "".join(f"{c['total'].get(x, 0):>14,}" for x in cols))
    print("tables:", ", ".join(f"{k} {v:,}" for k, v in sorted(c["tables"].items())),
          f"= {c['table_rows']:,} rows")
    t = c["total"]
    print(f"summary: committed elements (tensors + limbs) {t['committed'] + t['limbs']:,}; "
          f"looked-up entries {t['looked_up']:,}; table rows {c['table_rows']:,}; "
          f"lookup leaves (entries + rows) {t['looked_up'] + c['table_rows']:,}")


if __name__ == "__main__":
    main()
