"""``--prover-cache-max-gb`` (prove, commit-model, bench): the prover cache's size limit
on the command line (`provercache.parse_max_gb`, `ProverCache.open(max_bytes=)`); bad
values are usage errors, the option needs ``--prover-cache``, and a prove that stores
an entry evicts the least recently used others down to the limit (same proof)."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from click.testing import CliRunner

from zklora.zkcore import bench as benchlib
from zklora.zkcore import provercache as PC
from zklora.zkcore.cli import main
from zklora.zkcore.errors import ConfigError

TINY = "baf4528a9d24614999ecd7b5ada1d12199069c1358b6ced577cb8532a61f9021"
GIB = 1 << 30


def _run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.mark.parametrize(("text", "nbytes"), [("0", 0), ("2.5", 5 * GIB // 2), (" 1 ", GIB),
                                              (1, GIB), ("1e-9", 1), ("0.5", GIB // 2)])
def test_parse_max_gb(text, nbytes):
    assert PC.parse_max_gb(text) == nbytes


@pytest.mark.parametrize("bad", ["", "x", "-1", "-0.5", "nan", "inf", "-inf", "1e400",
                                 "1 GiB", None])
def test_parse_max_gb_bad(bad):
    with pytest.raises(ConfigError, match="WHAT must be"):
        PC.parse_max_gb(bad, "WHAT")


@pytest.mark.parametrize("bad", ["inf", "1e400", "-0.1"])
def test_env_bad_values_are_config_errors(tmp_path, monkeypatch, bad):
    monkeypatch.setenv(PC.MAX_GB_ENV, bad)
    with pytest.raises(ConfigError, match=PC.MAX_GB_ENV):
        PC.ProverCache.open(tmp_path)
    monkeypatch.setenv(PC.MAX_GB_ENV, "  ")
    assert PC.ProverCache.open(tmp_path).max_bytes is None


@pytest.mark.parametrize("cmd", ["prove", "commit-model", "bench"])
@pytest.mark.parametrize("bad", ["-1", "abc", "nan", "inf", ""])
def test_cli_bad_value_is_usage_error(tmp_path, cmd, bad):
    r = _run(cmd, "--prover-cache", tmp_path / "pc", "--prover-cache-max-gb", bad)
    assert r.exit_code == 2
    assert "--prover-cache-max-gb" in r.output and "size limit must be" in r.output
    assert not (tmp_path / "pc").exists()


@pytest.mark.parametrize("cmd", ["prove", "commit-model", "bench"])
def test_cli_needs_prover_cache(cmd):
    r = _run(cmd, "--prover-cache-max-gb", "1", "--json")
    assert r.exit_code == 2
    doc = json.loads(r.stdout.strip().splitlines()[-1])
    assert doc["ok"] is False and "needs --prover-cache" in doc["error"]


def test_cli_help_lists_option():
    for cmd in ("prove", "commit-model", "bench"):
        assert "--prover-cache-max-gb" in _run(cmd, "--help").output


def _old_entry(root, name):
    d = root / name
    d.mkdir(parents=True)
    (d / PC.ENTRY).write_bytes(b"{}")
    (d / "f.bin").write_bytes(os.urandom(1 << 16))
    os.utime(d, (1_000_000, 1_000_000))
    return d


def test_cli_prove_evicts_to_limit(tmp_path):
    """A storing prove with a zero limit keeps only its own entry; the proof is the
    tiny proof; a second prove (a hit) with the limit keeps it."""
    pc = tmp_path / "pc"
    _old_entry(pc, "0" * 64)
    out = tmp_path / "t.zkp"
    args = ("prove", "--model", "tiny", "--task", "train", "--no-zk", "--quiet", "--out",
            out, "--prover-cache", pc, "--prover-cache-max-gb", "0", "--json")
    r = _run(*args)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["prover_cache"] == "miss-stored"
    assert hashlib.sha256(out.read_bytes()).hexdigest() == TINY
    names = [p.name for p in pc.iterdir() if not p.name.startswith(".")]
    assert len(names) == 1 and names[0] != "0" * 64
    r = _run(*args)
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["prover_cache"] == "hit"
    assert hashlib.sha256(out.read_bytes()).hexdigest() == TINY
    assert [p.name for p in pc.iterdir() if not p.name.startswith(".")] == names


def test_bench_passes_limit_to_workers(tmp_path, monkeypatch):
    jobs = []

    def spawn(job, timeout):
        jobs.append(dict(job))
        return {"size": job["size"]}

    monkeypatch.setattr(benchlib, "_spawn", spawn)
    monkeypatch.setattr(benchlib, "plot", lambda results, png: None)
    doc = benchlib.run(sizes=["tiny"], out_dir=tmp_path / "b", prover_cache=tmp_path / "pc",
                       prover_cache_max_bytes=123)
    assert jobs[0]["prover_cache_max_bytes"] == 123
    assert doc["settings"]["prover_cache_max_bytes"] == 123
    jobs.clear()
    benchlib.run(sizes=["tiny"], out_dir=tmp_path / "b", prover_cache=tmp_path / "pc")
    assert "prover_cache_max_bytes" not in jobs[0]


def test_measure_opens_cache_with_limit(tmp_path, monkeypatch):
    """`bench.measure` proves with a `ProverCache` opened with the limit, closed after."""
    from zklora.zkcore import pyapi

    seen = []

    class Stop(Exception):
        pass

    def prove(**kw):
        c = kw["prover_cache"]
        seen.append(c.max_bytes)
        raise Stop

    monkeypatch.setattr(pyapi, "prove", prove)
    monkeypatch.setattr(PC.ProverCache, "close", lambda self: seen.append("closed"))
    with pytest.raises(Stop):
        benchlib.measure("tiny", prover_cache=str(tmp_path / "pc"),
                         prover_cache_max_bytes=5, workdir=str(tmp_path))
    assert seen == [5, "closed"]
