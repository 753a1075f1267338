"""The plugin manager: loads built-in and third-party plugins through the ``zklora``
entry-point group and indexes what they contribute by kind and name."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .errors import PluginError

#: Built-in plugin modules; loaded through the same `register` path as entry points
#: (used when the package is not installed with its metadata, e.g. from a source tree).
BUILTIN_PLUGINS: tuple[str, ...] = (
    "zklora.plugins.fields.goldilocks",
    "zklora.plugins.fields.bls12_381",
    "zklora.plugins.commitments.plain",
    "zklora.plugins.commitments.ligero",
    "zklora.plugins.commitments.hyrax",
    "zklora.plugins.lookups.logup_gkr",
    "zklora.plugins.lookups.tlookup",
    "zklora.plugins.lookups.tables",
    "zklora.plugins.ops.matmul",
    "zklora.plugins.ops.elementwise",
    "zklora.plugins.ops.rope",
    "zklora.plugins.ops.layout",
    "zklora.plugins.ops.rescale",
    "zklora.plugins.ops.rmsnorm",
    "zklora.plugins.ops.silu",
    "zklora.plugins.ops.softmax",
    "zklora.plugins.ops.cross_entropy",
    "zklora.plugins.ops.embedding",
    "zklora.plugins.ops.optim",
    "zklora.plugins.ops.rmsnorm_backward",
    "zklora.plugins.ops.silu_backward",
    "zklora.plugins.ops.attention_backward",
    "zklora.plugins.ops.cross_entropy_backward",
    "zklora.plugins.models.matmul_example",
    "zklora.plugins.models.llama",
    "zklora.plugins.models.llama_train",
)

KINDS = ("field", "commitment", "lookup", "table", "op", "builder", "model")
_HOOK_OF_KIND = {
    "field": "zk_fields",
    "commitment": "zk_commitment_schemes",
    "lookup": "zk_lookup_arguments",
    "table": "zk_tables",
    "op": "zk_ops",
    "builder": "zk_builders",
    "model": "zk_models",
}


@attrs.frozen
class PluginEntry:
    """One contribution: its kind, name, the object and where it came from."""

    kind: str
    name: str
    obj: Any
    origin: str


class Registry:
    """Index of every registered contribution, rebuilt from the plugin manager."""

    def __init__(self, pm: pluggy.PluginManager):
        self.pm = pm
        self.entries: dict[tuple[str, str], PluginEntry] = {}
        self._collect()

    def _origin(self, plugin: object) -> str:
        dists = {id(p): d for p, d in self.pm.list_plugin_distinfo()}
        name = self.pm.get_name(plugin) or getattr(plugin, "__name__", repr(plugin))
        mod = getattr(plugin, "__name__", type(plugin).__module__)
        if id(plugin) in dists:
            d = dists[id(plugin)]
            return f"{mod} ({d.project_name} {d.version})"
        return f"{mod} ({name})" if name != mod else mod

    def _collect(self) -> None:
        for kind, hook in _HOOK_OF_KIND.items():
            caller = getattr(self.pm.hook, hook)
            for impl in caller.get_hookimpls():
                items = impl.function() or []
                for obj in items:
                    name = getattr(obj, "name", None)
                    if not isinstance(name, str) or not name:
                        raise PluginError(f"{kind} from {impl.plugin_name} has no name")
                    key = (kind, name)
                    origin = self._origin(impl.plugin)
                    if key in self.entries and self.entries[key].origin != origin:
                        raise PluginError(
                            f"{kind} {name!r} registered twice: by "
                            f"{self.entries[key].origin} and by {origin}"
                        )
                    self.entries[key] = PluginEntry(kind, name, obj, origin)

    def names(self, kind: str) -> list[str]:
        return sorted(n for k, n in self.entries if k == kind)

    def get(self, kind: str, name: str) -> Any:
        try:
            return self.entries[(kind, name)].obj
        except KeyError:
            avail = ", ".join(self.names(kind)) or "none"
            raise PluginError(f"unknown {kind} {name!r}; registered: {avail}") from None

    def field(self, name: str):
        return self.get("field", name)

    def commitment(self, name: str):
        return self.get("commitment", name)

    def lookup(self, name: str):
        return self.get("lookup", name)

    def table(self, name: str):
        return self.get("table", name)

    def op(self, name: str):
        return self.get("op", name)

    def builder(self, name: str):
        return self.get("builder", name)

    def model(self, name: str):
        return self.get("model", name)

    def all(self) -> list[PluginEntry]:
        return sorted(self.entries.values(), key=lambda e: (KINDS.index(e.kind), e.name))


def make_plugin_manager(extra: Iterable[ModuleType | object] = (),
                        blocked: Iterable[str] = ()) -> pluggy.PluginManager:
    """A plugin manager with the hook specs, entry-point plugins, built-ins and extras.

    Built-in modules not already loaded through entry points (a source checkout) are
    registered by the same ``register`` call as everything else.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    try:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    except Exception as e:  # a broken third-party plugin must not be a trace
        raise PluginError(f"cannot load a zklora plugin entry point: {e}") from e
    loaded = {getattr(p, "__name__", None) for p in pm.get_plugins()}
    for modname in BUILTIN_PLUGINS:
        if modname not in loaded and not pm.is_blocked(modname.rsplit(".", 1)[-1]):
            pm.register(importlib.import_module(modname), name=modname)
    try:
        for plugin in extra:
            pm.register(plugin)
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        raise PluginError(f"invalid plugin {e.plugin!r}: {e}") from e
    return pm


_DEFAULT: Registry | None = None


def registry(refresh: bool = False) -> Registry:
    """The process-wide registry of installed plugins."""
    global _DEFAULT
    if _DEFAULT is None or refresh:
        _DEFAULT = Registry(make_plugin_manager())
    return _DEFAULT


def registry_with(*extra: ModuleType | object) -> Registry:
    """A fresh registry with extra plugin objects registered (tests, embedding)."""
    return Registry(make_plugin_manager(extra))
