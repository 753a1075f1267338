"""Machine-readable output (``--json``), exit codes, log lines when piped, lazy imports,
the early ``--adapter-out`` check and ``zklora bench``."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from zklora.zkcore.cli import main

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

SMALL_MM = ('profile = "debug"\n'
            "[model]\nm = 8\nk = 8\nn = 4\nbound = 100\nseed = 1\n")
TRAIN = '[task]\nmodel = "llama-train"\n[model]\nbatch = 1\nseq = 4\n'


@pytest.fixture(scope="module")
def mm(tmp_path_factory):
    d = tmp_path_factory.mktemp("json")
    (d / "mm.toml").write_text(SMALL_MM)
    return d


def run(*args):
    """(exit code, stdout only, stdout+stderr)."""
    r = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    return r.exit_code, r.stdout, r.output


def one_doc(stdout: str) -> dict:
    """stdout must be exactly one JSON document."""
    return json.loads(stdout)


def test_prove_verify_inspect_json(mm):
    out = mm / "m.zkp"
    code, stdout, _ = run("prove", "--config", mm / "mm.toml", "--out", out, "--json")
    assert code == 0
    doc = one_doc(stdout)
    assert doc["ok"] is True and doc["command"] == "prove"
    assert doc["proof_size"] == out.stat().st_size and doc["model"] == "matmul-example"
    assert set(doc["timings"]) >= {"commitments", "prove", "lookups", "openings"}
    assert doc["peak_rss"] > 0 and len(doc["statement_digest"]) == 64

    code, stdout, _ = run("verify", out, "--json")
    v = one_doc(stdout)
    assert code == 0 and v["ok"] is True and v["statement_digest"] == doc["statement_digest"]
    assert v["statement"]["model"] == "matmul-example"

    code, stdout, _ = run("inspect", out, "--json")
    i = one_doc(stdout)
    assert code == 0 and i["size"] == doc["proof_size"]
    assert sum(i["sections"].values()) < i["size"]
    assert any(name.startswith("op:matmul") for name, _ in i["stream"])


def test_failures_give_json_and_exit_codes(mm, tmp_path):
    (tmp_path / "g.zkp").write_bytes(b"hello")
    for args, want in [
        (("verify", tmp_path / "g.zkp"), 1),                        # malformed proof
        (("verify", tmp_path / "missing.zkp"), 3),                  # unreadable input
        (("inspect", tmp_path / "g.zkp"), 1),
        (("prove", "--config", mm / "mm.toml", "--profile", "nope",
          "--out", tmp_path / "x.zkp"), 3),                         # bad config value
        (("prove", "--bogus"), 2),                                  # usage error
        (("prove", "--steps", "0"), 2),
        (("commit-model", "--model", tmp_path / "nowhere", "--out", tmp_path / "c"), 3),
    ]:
        code, stdout, output = run(*args, "--json")
        doc = one_doc(stdout)
        assert code == want, (args, output)
        assert doc["ok"] is False and doc["exit_code"] == want and doc["error"], doc
        assert "error:" in output  # the human line (stderr)
    assert not (tmp_path / "x.zkp").exists()


def test_rejected_proof_json(mm, tmp_path):
    out = mm / "m2.zkp"
    assert run("prove", "--config", mm / "mm.toml", "--out", out, "--quiet")[0] == 0
    bad = bytearray(out.read_bytes())
    bad[-40] ^= 4
    (tmp_path / "bad.zkp").write_bytes(bytes(bad))
    code, stdout, _ = run("verify", tmp_path / "bad.zkp", "--json")
    doc = one_doc(stdout)
    assert code == 1 and doc["ok"] is False and doc["error"].startswith("REJECTED")
    exp = tmp_path / "e.toml"
    exp.write_text("[params]\nm = 16\n")
    code, stdout, _ = run("verify", out, "--expect", exp, "--json")
    doc = one_doc(stdout)
    assert code == 1 and doc["error_type"] == "VerificationError" and "params.m" in doc["error"]


def test_commit_model_and_plugins_json(tmp_path):
    code, stdout, _ = run("commit-model", "--out", tmp_path / "t.commit", "--json")
    doc = one_doc(stdout)
    assert code == 0 and len(doc["digest"]) == 64 and doc["tensors"] > 0
    code, stdout, _ = run("plugins", "--json")
    kinds = {p["kind"] for p in one_doc(stdout)["plugins"]}
    assert code == 0 and {"field", "op", "model"} <= kinds


def _env():
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    return env


def test_piped_run_prints_log_lines_and_json_only_on_stdout(mm):
    """stdout/stderr are pipes (not a terminal): timestamped log lines on stderr, one
    JSON document on stdout."""
    out = mm / "piped.zkp"
    p = subprocess.run([sys.executable, "-m", "zklora.zkcore.cli", "prove", "--config",
                        str(mm / "mm.toml"), "--out", str(out), "--json", "--no-zk"],
                       capture_output=True, text=True, env=_env(), timeout=600)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["ok"] is True
    stamp = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ zklora: "
    lines = [ln for ln in p.stderr.splitlines() if re.match(stamp, ln)]
    text = "\n".join(lines)
    for phase in ("commitments", "op groups", "lookups", "openings"):
        assert f"zklora: {phase}: started" in text and f"zklora: {phase}: done in" in text
    assert "phase times:" in p.stderr and "peak memory" in p.stderr


def test_adapter_out_refused_before_proving(tmp_path, monkeypatch):
    """A non-empty or unwritable --adapter-out fails at once: nothing is proven, no
    proof file is written."""
    (tmp_path / "cfg.toml").write_text(TRAIN)
    full = tmp_path / "full"
    full.mkdir()
    (full / "x").write_text("keep me")
    afile = tmp_path / "afile"
    afile.write_text("")
    from zklora.zkcore import api

    def boom(*a, **k):
        raise AssertionError("proving started")

    monkeypatch.setattr(api, "prove", boom)
    for target, words in [(full, "not empty"), (afile, "is a file"),
                          (afile / "sub", "not a writable directory")]:
        t0 = time.perf_counter()
        code, stdout, output = run("prove", "--config", tmp_path / "cfg.toml", "--steps", 1,
                                   "--out", tmp_path / "p.zkp", "--adapter-out", target,
                                   "--json")
        assert code in (2, 3) and words in one_doc(stdout)["error"], output
        assert time.perf_counter() - t0 < 30
    assert not (tmp_path / "p.zkp").exists() and (full / "x").read_text() == "keep me"
    assert not list(tmp_path.glob(".*"))


def test_out_checked_before_proving(tmp_path, monkeypatch):
    from zklora.zkcore import api

    monkeypatch.setattr(api, "prove", lambda *a, **k: pytest.fail("proving started"))
    code, stdout, _ = run("prove", "--out", tmp_path / "no" / "dir" / "p.zkp", "--json")
    assert code == 3 and "does not exist" in one_doc(stdout)["error"]
    code, stdout, _ = run("prove", "--out", tmp_path, "--json")
    assert code in (2, 3) and "is a directory" in one_doc(stdout)["error"]


def test_cli_import_is_lazy_and_version_fast():
    """``import zklora`` and the CLI module load neither torch, numba nor any plugin;
    ``zklora --version`` is measured (reported, not asserted: a loaded box is slow)."""
    code = ("import sys, zklora, zklora.zkcore.cli, zklora.zkcore.pyapi\n"
            "bad = [m for m in sys.modules if m in ('torch', 'numba', 'numpy') "
            "or m.startswith('zklora.plugins')]\n"
            "print(bad)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and p.stdout.strip() == "[]", p.stdout + p.stderr
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-m", "zklora.zkcore.cli", "--version"],
                       capture_output=True, text=True, timeout=120)
    dt = time.perf_counter() - t0
    assert p.returncode == 0 and "0.1.0" in p.stdout
    print(f"zklora --version: {dt:.3f} s")
    p = subprocess.run([sys.executable, "-m", "zklora.zkcore.cli", "--help"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0 and "warmup" in p.stdout and "bench" in p.stdout


def test_bench_writes_json_and_png_from_measurements(tmp_path, monkeypatch):
    """The sweep/plot/JSON path with canned measurements (the real sweep: slow test)."""
    pytest.importorskip("matplotlib")
    from zklora.zkcore import bench

    def fake(job, timeout):
        n = bench.param_count(bench.SIZES[job["size"]])
        return {"size": job["size"], "params": n, "steps": 1, "batch": 1, "seq": 16,
                "profile": "fast", "prove_seconds": n / 1e4, "prove_wall": n / 1e4,
                "verify_seconds": n / 1e5, "proof_size": 10 * n, "peak_rss": 2**28 + n,
                "compile_seconds": 0.0, "timings": {}}

    monkeypatch.setattr(bench, "_spawn", fake)
    code, stdout, output = run("bench", "--sizes", "tiny,small", "--out", tmp_path / "b",
                               "--json")
    assert code == 0, output
    doc = one_doc(stdout)
    png = Path(doc["png"])
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    saved = json.loads((tmp_path / "b" / "bench.json").read_text())
    assert [r["size"] for r in saved["results"]] == ["tiny", "small"]
    code, stdout, _ = run("bench", "--sizes", "huge", "--out", tmp_path / "c", "--json")
    assert code == 3 and "allowed" in one_doc(stdout)["error"]


@pytest.mark.slow
def test_bench_real_sweep(tmp_path):
    """``zklora bench --sizes tiny,small``: each size proven in a fresh process."""
    pytest.importorskip("matplotlib")
    p = subprocess.run([sys.executable, "-m", "zklora.zkcore.cli", "bench", "--sizes",
                        "tiny,small", "--seq", "8", "--out", str(tmp_path), "--json"],
                       capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    rs = doc["results"]
    assert [r["size"] for r in rs] == ["tiny", "small"] and rs[0]["params"] < rs[1]["params"]
    assert all(r["prove_seconds"] > 0 and r["peak_rss"] > 0 for r in rs)
    assert (tmp_path / "bench.png").stat().st_size > 1000


def test_compile_notice_once_and_log_mode_eta():
    """A numba compilation (a cache miss) prints the one-time notice, and is timed."""
    import io

    from numba import njit

    from zklora.zkcore.progress import COMPILE_NOTICE, Reporter

    buf = io.StringIO()
    with Reporter("log", stream=buf, log_every=0.0) as rep:
        rep.phase("prove", 3)

        @njit(cache=False)
        def f(x):
            return x + 1

        @njit(cache=False)
        def g(x):
            return x * 2

        f(1)
        g(1)
        rep.progress("prove", 1, 3)
        rep.progress("prove", 2, 3)
    text = buf.getvalue()
    assert text.count(COMPILE_NOTICE) == 1
    assert rep.compiled == 2 and rep.compile_seconds > 0
    assert "op groups: 2/3 (66%)" in text and "ETA" in text and "op groups: done in" in text
    assert set(rep.timings) == {"prove"}


@pytest.mark.slow
def test_warmup_json():
    p = subprocess.run([sys.executable, "-m", "zklora.zkcore.cli", "warmup", "--json"],
                       capture_output=True, text=True, timeout=1800)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["ok"] and doc["seconds"]["fast"] > 0
