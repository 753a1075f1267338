"""The ``backend`` config key, the ``--backend`` flag and the plugin listing's
availability column (issue 17: selection works here; cuda is a clear error without a GPU)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from zklora.zkcore import api, backend, config, pyapi
from zklora.zkcore.cli import main
from zklora.zkcore.errors import ConfigError

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")


def test_config_backend_key():
    assert config.from_dict({}).backend == "cpu"
    assert config.from_dict({"backend": "auto"}).backend == "auto"
    with pytest.raises(ConfigError, match="backend: 'gpu' is not a backend; allowed: cpu, cuda"):
        config.from_dict({"backend": "gpu"})
    with pytest.raises(ConfigError, match="backend"):
        config.from_dict({"backend": 1})


def test_build_config_backend_override():
    assert pyapi.build_config(backend="auto").backend == "auto"
    with pytest.raises(ConfigError, match="not a backend"):
        pyapi.build_config(backend="tpu")


def test_auto_and_cpu_prove_on_the_cpu():
    for name in ("cpu", "auto"):
        cfg = config.from_dict({"backend": name})
        assert api._compute_backend(cfg, None).name == "cpu"


@pytest.mark.skipif(backend.availability()["cuda"].ok, reason="a usable GPU is present")
def test_cuda_without_gpu_is_one_line_error(tmp_path):
    r = CliRunner().invoke(main, ["prove", "--backend", "cuda", "--quiet",
                                  "--out", str(tmp_path / "p.zkp")])
    assert r.exit_code != 0
    assert "backend 'cuda' is unavailable" in r.output
    assert "Traceback" not in r.output
    assert not (tmp_path / "p.zkp").exists()


def test_plugins_lists_backends_with_availability():
    r = CliRunner().invoke(main, ["plugins"])
    assert r.exit_code == 0
    lines = [ln for ln in r.output.splitlines() if ln.startswith("backend")]
    assert any(" cpu " in ln and "[available]" in ln for ln in lines)
    cuda = [ln for ln in lines if " cuda " in ln]
    assert len(cuda) == 1 and f"[{backend.availability()['cuda']}]" in cuda[0]
