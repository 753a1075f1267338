"""`zklora bench --warmup N`: N untimed proves of the same step before the timed one."""

from __future__ import annotations

from types import SimpleNamespace

from click.testing import CliRunner

from zklora.zkcore import bench, cli, pyapi


def _fake(monkeypatch, calls):
    def prove(**kw):
        calls.append(("prove", kw["config"]["model"], kw["prover_cache"]))
        return SimpleNamespace(prove_seconds=1.0, compile_seconds=0.0, op_timings={},
                               timings={}, proof_size=10, prover_cache="hit")

    monkeypatch.setattr(pyapi, "prove", prove)
    monkeypatch.setattr(pyapi, "verify", lambda path: SimpleNamespace(seconds=0.1))
    monkeypatch.setattr(bench, "_write_checkpoint", lambda d, shape: ("m", "a"))
    monkeypatch.setattr(bench, "float_step_seconds",
                        lambda *a, **k: {"seconds": 0.01, "cpu_seconds": 0.01})


def test_warmup_proves_the_same_step_first_untimed(monkeypatch, tmp_path):
    calls = []
    _fake(monkeypatch, calls)
    r = bench.measure("25m", warmup=2, prover_cache=str(tmp_path / "pc"),
                      workdir=str(tmp_path))
    # two warm-up proves and the timed one, all of the same step and cache
    assert calls == [("prove", {"batch": 1, "seq": 64}, str(tmp_path / "pc"))] * 3
    assert r["warmup"] == 2 and len(r["warmup_cpu_seconds"]) == 2
    calls.clear()
    r = bench.measure("25m", workdir=str(tmp_path))
    assert len(calls) == 1 and r["warmup"] == 0 and r["warmup_cpu_seconds"] == []


def test_cli_passes_warmup(monkeypatch, tmp_path):
    seen = {}

    def run(**kw):
        seen.update(kw)
        return {"results": [], "json": str(tmp_path / "bench.json"), "png": None}

    monkeypatch.setattr(bench, "run", run)
    res = CliRunner().invoke(cli.main, ["bench", "--sizes", "tiny", "--warmup", "1",
                                        "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert seen["warmup"] == 1
    res = CliRunner().invoke(cli.main, ["bench", "--sizes", "tiny", "--warmup", "-1",
                                        "--out", str(tmp_path)])
    assert res.exit_code != 0 and "warmup" in res.output


def test_report_says_warmup():
    r = {"size": "25m", "prove_cpu_seconds": 2.0, "prove_seconds": 1.0,
         "activation_elements": 10, "prove_cpu_us_per_activation": 2e5,
         "float_step": {"seconds": 0.01, "cpu_seconds": 0.01, "impl": "x", "threads": 2},
         "overhead_cpu": 200, "overhead_wall": 100, "op_table": [],
         "warmup": 1, "warmup_cpu_seconds": [3.5]}
    lines = bench.report(r)
    assert any("after 1 untimed warm-up prove(s)" in ln and "3.50" in ln for ln in lines)
    r["warmup"] = 0
    assert not any("warm-up" in ln for ln in bench.report(r))
