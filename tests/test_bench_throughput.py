"""`zklora bench`'s throughput figures (issue 13): activation elements, the per-op-kind
table, the report lines, and the float step (transformers + peft, and the plain torch
fallback)."""

from __future__ import annotations

import builtins

import pytest

from zklora.zkcore import bench


def test_activation_elements_of_tiny():
    # N = 128 tokens, 2 layers: per token 4·64 + 2·64 + 2·64 + 3·128 = 896; scores 4·4·32²;
    # logits 128·256
    assert bench.activation_elements(bench.SIZES["tiny"], 4, 32) == \
        2 * (128 * 896 + 4 * 4 * 32 * 32) + 128 * 256
    gqa = dict(bench.SIZES["tiny"], kv_heads=2, head_dim=16)
    assert bench.activation_elements(gqa, 1, 8) < bench.activation_elements(
        bench.SIZES["tiny"], 1, 8)


def test_op_table_counts_and_shares():
    rows = bench.op_table({"matmul": 2.0, "add": 0.5}, {"matmul": 7, "add": 3},
                          {"lookups": 4.0, "write": 9.0, "openings": 1.0}, 10.0)
    assert [r["kind"] for r in rows] == ["[lookups]", "matmul", "[openings]", "add"]
    assert rows[1] == {"kind": "matmul", "count": 7, "seconds": 2.0, "share": 0.2}
    assert bench.op_table({}, {}, {}, 0.0) == []


def test_counting_reporter_counts_op_nodes_not_phases():
    rep = bench._CountingReporter()
    for kind, name in [("matmul", "a"), ("matmul", "b"), ("lookups", "x"), ("add", "c")]:
        rep.profile(kind, name, 0.5)
    assert rep.op_counts == {"matmul": 2, "add": 1}
    assert rep.op_timings == {"matmul": 1.0, "add": 0.5}


def test_report_lines():
    r = {"size": "tiny", "prove_cpu_seconds": 12.0, "prove_seconds": 8.0,
         "activation_elements": 300_000, "prove_cpu_us_per_activation": 40.0,
         "float_step": {"seconds": 0.02, "cpu_seconds": 0.03, "impl": "torch", "threads": 2},
         "overhead_cpu": 400.0, "overhead_wall": 400.0,
         "op_table": bench.op_table({"matmul": 2.0}, {"matmul": 7}, {"lookups": 4.0}, 8.0)}
    lines = bench.report(r)
    assert "40.00 µs CPU per activation element" in lines[0]
    assert "×400 CPU" in lines[1]
    assert any("matmul" in ln and "25.0%" in ln for ln in lines)
    assert bench.report({"size": "tiny"}) == []  # a result without the figures


@pytest.mark.parametrize("fallback", [False, True])
def test_float_step_measured(tmp_path, monkeypatch, fallback):
    pytest.importorskip("torch")
    if fallback:
        real = builtins.__import__

        def no_peft(name, *a, **kw):
            if name in ("peft", "transformers"):
                raise ImportError(name)
            return real(name, *a, **kw)

        monkeypatch.setattr(builtins, "__import__", no_peft)
    else:
        pytest.importorskip("peft")
        pytest.importorskip("transformers")
    fs = bench.float_step_seconds("tiny", None, bench.SIZES["tiny"], 1, 8, tmp_path, rounds=1)
    assert fs["seconds"] > 0 and fs["cpu_seconds"] >= 0 and fs["rounds"] == 1
    assert ("plain LLaMA" in fs["impl"]) == fallback
