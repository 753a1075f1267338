"""Plugin boundaries (docs/architecture.md, "Plugin boundaries"): the kernel imports no
plugin, and no plugin module imports another plugin's module — plugins share code only
through `zklora.zkcore` (builders by name: `zklora.zkcore.build.builder`, tables by name:
`zklora.zkcore.build.named_table`).  The multi-module plugins are the LLaMA plugin
(`LLAMA`) and the WHIR commitment with its prover-cache state store (`WHIR`), whose
modules import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from zklora.zkcore.build import builder
from zklora.zkcore.errors import PluginError
from zklora.zkcore.plugins import registry

ROOT = Path(__file__).resolve().parents[1] / "zklora"
#: the modules of the LLaMA model plugin (two entry points, llama and llama_train: it
#: contributes two models); they may import each other
LLAMA = {f"zklora.plugins.models.{m}" for m in ("llama", "llama_train", "hf", "tiny",
                                                "reference", "padding", "data")}
#: the modules of the WHIR commitment plugin (two entry points: the scheme, and its
#: prover-cache state store, which reads the scheme's prover states)
WHIR = {f"zklora.plugins.commitments.{m}" for m in ("whir", "whir_cache")}


def _module(path: Path) -> str:
    rel = path.relative_to(ROOT.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; ``from X import y`` gives X and
    X.y, since y may be a submodule)."""
    mod = _module(path)
    pkg = mod.split(".") if path.name == "__init__.py" else mod.split(".")[:-1]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = pkg[: len(pkg) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            out.add(name)
            out.update(f"{name}.{a.name}" for a in node.names)
    return out


def _group(mod: str) -> str:
    return "llama" if mod in LLAMA else "whir" if mod in WHIR else mod


def _is_plugin_module(name: str) -> bool:
    parts = name.split(".")
    # zklora.plugins.<kind>.<module>[...]; the packages zklora.plugins(.<kind>) are empty
    return len(parts) >= 4 and parts[:2] == ["zklora", "plugins"]


def test_kernel_imports_no_plugin():
    bad = [(_module(p), m) for p in sorted((ROOT / "zkcore").rglob("*.py"))
           for m in _imports(p) if m == "zklora.plugins" or m.startswith("zklora.plugins.")]
    assert not bad, f"kernel modules import plugins: {bad}"


def test_no_plugin_imports_another_plugin():
    bad = []
    for p in sorted((ROOT / "plugins").rglob("*.py")):
        me = _module(p)
        for m in _imports(p):
            if not _is_plugin_module(m):
                continue
            target = ".".join(m.split(".")[:4])
            if _group(target) != _group(".".join(me.split(".")[:4])):
                bad.append((me, m))
    assert not bad, f"plugin modules import other plugins: {sorted(set(bad))}"


def test_builders_are_published_by_name():
    names = set(registry().names("builder"))
    for n in ("rmsnorm", "swiglu", "attention", "embedding", "cross_entropy", "shift_labels",
              "transpose", "rope.tables", "rmsnorm_backward", "swiglu_backward",
              "attention_backward", "cross_entropy_backward", "adam", "sgd"):
        assert n in names
        assert callable(builder(n))


def test_unknown_builder_is_a_plugin_error():
    with pytest.raises(PluginError, match="unknown builder 'no-such'"):
        builder("no-such")
