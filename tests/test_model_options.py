"""Model plugins declare their own options (``zk_model_options``): the CLI and the Python
API build their flags and keywords from the declarations, pick the model from the
options given, and the kernel names no model, no option and no plugin."""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

from zklora.plugins.models.matmul_example import MatmulExample
from zklora.zkcore import pyapi
from zklora.zkcore.cli import main
from zklora.zkcore.errors import ConfigError, PluginError
from zklora.zkcore.hookspecs import hookimpl
from zklora.zkcore.model import ModelOption, ModelOptions
from zklora.zkcore.plugins import registry_with, source_entry_points

# the ZK-off paths (executors, model commitments, adapter checks, WHIR): pinned
pytestmark = pytest.mark.usefixtures("zk_off")

ROOT = Path(__file__).resolve().parents[1]


class Toy(MatmulExample):
    """A third-party model: the matmul example under another name."""

    name = "toy-matmul"
    description = "a toy matmul"


def _plugin(*decls):
    mod = types.ModuleType("toy_zk_plugin")

    @hookimpl
    def zk_models():
        return [Toy()]

    @hookimpl
    def zk_model_options():
        return list(decls)

    mod.zk_models, mod.zk_model_options = zk_models, zk_model_options
    return mod


TOY = ModelOptions("toy-matmul", (
    ModelOption("size", "m = k = n", type="int", key="m", min=2),
    ModelOption("bound", "entry bound", type="int", min=1, default=1024),
    ModelOption("mode", "a choice", choices=("a", "b")),
), task="toy")


def test_builtin_declarations():
    table = pyapi.option_table()
    assert table.alias == {"forward": "llama", "train": "llama-train"}
    assert {"model", "adapter", "data", "steps", "optimizer", "lr", "betas", "eps",
            "weight_decay", "resume"} <= set(table.names())
    assert table.takers("steps") == ["llama-train"]
    assert table.takers("model") == ["llama", "llama-train"]
    assert table.examples["llama-train"] == {"model": "tiny", "steps": 1}


def test_selection_and_params():
    """auto: the config's model when no option is given; else the model taking them all
    (the config's own first, then the higher priority); explicit tasks are checked."""
    cfg = pyapi.build_config()
    assert cfg.model == "matmul-example"
    assert pyapi.build_config(steps=2).model == "llama-train"
    assert pyapi.build_config(model="tiny").model == "llama-train"  # priority: training
    fwd = pyapi.build_config(config={"task": {"model": "llama"}, "model": {"seq": 4}},
                             model="tiny")
    assert fwd.model == "llama" and dict(fwd.model_params) == {"seq": 4, "model": "tiny"}
    tr = pyapi.build_config(task="train", betas="0.8,0.9", lr=1e-2)
    assert dict(tr.model_params) == {"betas": [0.8, 0.9], "lr": 1e-2}
    assert pyapi.build_config(task="llama", data="x.jsonl").model == "llama"
    assert pyapi.build_config(adapter_out="somewhere").model == "llama-train"
    with pytest.raises(ConfigError, match=r"steps \(--steps\) needs the train task; the "
                                          r"forward task \(model llama\) takes: adapter"):
        pyapi.build_config(task="forward", steps=1)
    with pytest.raises(ConfigError, match="needs the forward or train task"):
        pyapi.build_config(task="config", model="tiny")
    with pytest.raises(ConfigError, match=r"adapter_out \(--adapter-out\) needs the train"):
        pyapi.build_config(task="forward", adapter_out="x")
    with pytest.raises(ConfigError, match="task: 'nope'; allowed: auto, config, forward"):
        pyapi.build_config(task="nope")
    with pytest.raises(ConfigError, match="optimizer: 'lion'; allowed: adamw, adam, sgd"):
        pyapi.build_config(optimizer="lion")
    with pytest.raises(ConfigError, match="lr must be a number"):
        pyapi.build_config(lr="fast")


def test_unknown_keyword_names_the_allowed_ones():
    with pytest.raises(ConfigError, match=r"prove: unknown keyword 'stepz'; allowed: .*"
                                          r"adapter_out.*config.*steps"):
        pyapi.prove(stepz=2)
    with pytest.raises(ConfigError, match=r"commit_model: unknown keyword 'steps'; "
                                          r"allowed: config, model, out"):
        pyapi.commit_model(steps=2)


def test_third_party_model_adds_options():
    reg = registry_with(_plugin(TOY))
    table = reg.model_options()
    assert table.alias["toy"] == "toy-matmul" and table.takers("size") == ["toy-matmul"]
    cfg = pyapi.build_config(registry=reg, size=8, mode="b")
    assert cfg.model == "toy-matmul" and dict(cfg.model_params) == {"m": 8, "mode": "b"}
    with pytest.raises(ConfigError, match="size must be an integer ≥ 2, got 1"):
        pyapi.build_config(registry=reg, size=1)
    with pytest.raises(ConfigError, match=r"no model takes all of the options given"):
        pyapi.build_config(registry=reg, size=8, steps=2)
    res = pyapi.prove(registry=reg, profile="debug", task="toy", size=8, bound=50)
    assert res.model == "toy-matmul" and res.statement["params"]["m"] == 8
    assert res.statement["params"]["bound"] == 50


@pytest.mark.parametrize("decls, match", [
    ((ModelOptions("no-such-model", ()),), "not registered"),
    ((TOY, ModelOptions("llama", (), task="toy")), "task alias 'toy' is claimed"),
    ((ModelOptions("toy-matmul", (ModelOption("steps", type="str"),)),),
     "option 'steps' is declared differently"),
    ((ModelOptions("toy-matmul", (), task="auto"),), "reserved"),
    (("not a declaration",), "expected ModelOptions"),
])
def test_bad_declarations_are_plugin_errors(decls, match):
    with pytest.raises(PluginError, match=match):
        registry_with(_plugin(*decls)).model_options()


def test_option_declaration_checks():
    with pytest.raises(PluginError, match="reserved"):
        ModelOption("out")
    with pytest.raises(PluginError, match="identifier"):
        ModelOption("not-an-identifier")
    with pytest.raises(PluginError, match="type 'list'"):
        ModelOption("x", type="list")
    assert ModelOption("weight_decay").flag == "--weight-decay"


def test_prove_help_groups_options_by_model():
    r = CliRunner().invoke(main, ["prove", "--help"])
    assert r.exit_code == 0, r.output
    text = r.output
    shared = text.index("Options of models llama, llama-train (--task forward, train):")
    train = text.index("Options of model llama-train (--task train):")
    assert shared < text.index("--adapter DIRECTORY") < train < text.index("--steps")
    assert "[default: adamw]" in text and re.search(r"--task \[auto\|config\|forward", text)
    r = CliRunner().invoke(main, ["commit-model", "--help"])
    assert "--model" in r.output and "--steps" not in r.output


def test_top_level_help_loads_no_plugin():
    """``zklora --help`` and ``--version`` stay fast: no plugin, no torch."""
    code = ("import sys\nfrom zklora.zkcore.cli import main\n"
            "for args in (['--help'], ['--version']):\n"
            "    try:\n        main(args)\n    except SystemExit:\n        pass\n"
            "bad = [m for m in sys.modules if m == 'torch' or m.startswith('zklora.plugins')]\n"
            "print('BAD', bad)")
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=120)
    assert p.returncode == 0 and "BAD []" in p.stdout, p.stdout + p.stderr


def test_kernel_lists_no_plugin_module():
    """The kernel keeps no list of built-in plugin modules (the imports themselves:
    tests/test_plugin_boundaries.py): the built-ins are pyproject.toml's entry points,
    read from a source checkout too when its installed metadata is older."""
    for path in (ROOT / "zklora" / "zkcore").rglob("*.py"):
        src = path.read_text(encoding="utf-8")
        assert not re.search(r"""["']zklora\.plugins\.\w+\.\w+["']""", src), path
    eps = source_entry_points()
    assert eps["llama_train"] == "zklora.plugins.models.llama_train" and len(eps) > 20


def test_statement_losses_are_read_by_the_model():
    """The kernel reads no model's statement fields: `Model.losses` does."""
    q = {"act_scale": 16}
    assert pyapi.statement_losses({"model": "llama",
                                   "params": {"loss": 3 << 15, "quant": q}}) == [1.5]
    assert pyapi.statement_losses({"model": "llama-train", "params": {
        "losses": [1 << 17, 1 << 16], "quant": q}}) == [2.0, 1.0]
    assert pyapi.statement_losses({"model": "matmul-example", "params": {"m": 8}}) == []
    assert pyapi.statement_losses({"model": "llama", "params": {"loss": 1}}) == []
    assert pyapi.statement_losses({"model": "nope", "params": {}}) == []
