"""`pyapi.warmup` compiles both zero-knowledge settings and, in a child process with tiny
memory budgets, the streamed variants (the real run is `test_cli_json.test_warmup_json`,
slow)."""

import subprocess

import pytest

from zklora.zkcore import pyapi
from zklora.zkcore.errors import ConfigError, ProverError


class _Res:
    data = b"proof"


def _fake(monkeypatch, refuse=()):
    calls = []

    def prove(**kw):
        calls.append(("prove", kw["profile"], kw["zero_knowledge"]))
        if kw["zero_knowledge"] in refuse:
            raise ConfigError("no such setting")
        return _Res()

    monkeypatch.setattr(pyapi, "prove", prove)
    monkeypatch.setattr(pyapi, "verify", lambda data: calls.append(("verify", data)))
    monkeypatch.setattr(pyapi, "example_config", lambda: {})
    return calls


def test_warm_pass_proves_and_verifies_both_settings(monkeypatch):
    calls = _fake(monkeypatch)
    pyapi._warm_pass("fast")
    assert calls == [("prove", "fast", True), ("verify", b"proof"),
                     ("prove", "fast", False), ("verify", b"proof")]


def test_warm_pass_skips_a_refused_setting_but_not_both(monkeypatch):
    calls = _fake(monkeypatch, refuse=(True,))
    pyapi._warm_pass("paper")
    assert ("prove", "paper", False) in calls and ("verify", b"proof") in calls
    _fake(monkeypatch, refuse=(True, False))
    with pytest.raises(ConfigError):
        pyapi._warm_pass("paper")


def test_warmup_runs_the_streamed_pass_in_a_child_with_tiny_budgets(monkeypatch):
    _fake(monkeypatch)
    seen = {}

    def run(cmd, env, **kw):
        seen["cmd"], seen["env"] = cmd, env
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(subprocess, "run", run)
    assert pyapi.warmup("fast") >= 0
    assert "_warm_pass('fast')" in seen["cmd"][-1]
    for k, v in pyapi.WARMUP_STREAMED_ENV.items():
        assert seen["env"][k] == v
    seen.clear()
    pyapi.warmup("fast", streamed=False)
    assert not seen


def test_warmup_reports_a_failed_streamed_pass(monkeypatch):
    _fake(monkeypatch)
    monkeypatch.setattr(subprocess, "run", lambda cmd, **kw: subprocess.CompletedProcess(
        cmd, 1, "", "Traceback\nZkLoraError: boom"))
    with pytest.raises(ProverError, match="streamed pass failed.*boom"):
        pyapi.warmup("fast")
