"""The plugin manager: loads built-in and third-party plugins through the ``zklora``
entry-point group and indexes what they contribute by kind and name.

The kernel names no plugin.  Built-ins are entry points of the ``zklora`` distribution
like any third party's (``[project.entry-points.zklora]`` in pyproject.toml).  In a
source checkout whose installed metadata is missing or older than its pyproject.toml
(an entry point added since ``pip install -e .``), the entry points pyproject.toml
declares are loaded too, by the same ``register`` call: one list, never a second one in
the kernel.
"""

from __future__ import annotations

import importlib
import tomllib
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType
from typing import Any

import attrs
import pluggy

from . import hookspecs
from .errors import PluginError
from .model import ModelOptions, OptionTable

KINDS = ("field", "commitment", "lookup", "table", "op", "builder", "model", "backend",
         "state_store")
_HOOK_OF_KIND = {
    "field": "zk_fields",
    "commitment": "zk_commitment_schemes",
    "lookup": "zk_lookup_arguments",
    "table": "zk_tables",
    "op": "zk_ops",
    "builder": "zk_builders",
    "model": "zk_models",
    "backend": "zk_backends",
    "state_store": "zk_state_stores",
}


@attrs.frozen
class PluginEntry:
    """One contribution: its kind, name, the object and where it came from."""

    kind: str
    name: str
    obj: Any
    origin: str

    @property
    def status(self) -> str:
        """What ``zklora plugins`` adds after the origin: a backend's availability on
        this machine (``available`` or ``unavailable: <reason>``); "" for other kinds."""
        if self.kind != "backend":
            return ""
        try:
            return str(self.obj.available())
        except Exception as e:  # a backend's probe must not be a trace
            return f"unavailable: availability check failed: {e}"


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

    def backend(self, name: str):
        """A compute backend's class (`zklora.zkcore.backend.select` instantiates it)."""
        return self.get("backend", name)

    def state_store(self, name: str):
        """The prover-cache state store of commitment scheme ``name``
        (`zklora.zkcore.provercache`), or None when no plugin contributes one."""
        e = self.entries.get(("state_store", name))
        return None if e is None else e.obj

    def all(self) -> list[PluginEntry]:
        return sorted(self.entries.values(), key=lambda e: (KINDS.index(e.kind), e.name))

    def model_options(self) -> OptionTable:
        """Every model's declared options (``zk_model_options``), validated once."""
        if getattr(self, "_options", None) is None:
            decls: list[ModelOptions] = []
            for items in self.pm.hook.zk_model_options():
                decls.extend(items or [])
            models = {n: self.get("model", n) for n in self.names("model")}
            self._options = OptionTable(models, decls)
        return self._options


def make_plugin_manager(extra: Iterable[ModuleType | object] = (),
                        blocked: Iterable[str] = ()) -> pluggy.PluginManager:
    """A plugin manager with the hook specs, the entry-point plugins and extras.

    A source checkout's own entry points (`source_entry_points`) not already loaded from
    installed metadata are registered by the same ``register`` call as everything else.
    """
    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    for name in blocked:
        pm.set_blocked(name)
    try:
        pm.load_setuptools_entrypoints(hookspecs.PROJECT)
    except Exception as e:  # a broken third-party plugin must not be a trace
        raise PluginError(f"cannot load a zklora plugin entry point: {e}") from e
    for name, value in source_entry_points().items():
        if pm.has_plugin(name) or pm.is_blocked(name):
            continue
        plugin = _load(name, value)
        if not pm.is_registered(plugin):
            pm.register(plugin, name=name)
    try:
        for plugin in extra:
            pm.register(plugin)
        pm.check_pending()
    except pluggy.PluginValidationError as e:
        raise PluginError(f"invalid plugin {e.plugin!r}: {e}") from e
    return pm


def source_entry_points() -> dict[str, str]:
    """The ``zklora`` entry points of the source checkout this package is imported from
    (its pyproject.toml, next to the package directory); {} for an installed wheel."""
    path = Path(__file__).resolve().parents[2] / "pyproject.toml"
    try:
        project = tomllib.loads(path.read_text(encoding="utf-8")).get("project", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    if not isinstance(project, dict) or project.get("name") != hookspecs.PROJECT:
        return {}
    eps = project.get("entry-points", {}).get(hookspecs.PROJECT, {})
    return {k: v for k, v in eps.items() if isinstance(v, str)} if isinstance(eps, dict) \
        else {}


def _load(name: str, value: str) -> object:
    """An entry point's object: ``module`` or ``module:attr``."""
    modname, _, attr = value.partition(":")
    try:
        obj: object = importlib.import_module(modname.strip())
        for part in filter(None, attr.strip().split(".")):
            obj = getattr(obj, part)
    except Exception as e:  # a broken plugin must not be a trace
        raise PluginError(f"cannot load the zklora plugin entry point {name} = {value!r}: "
                          f"{e}") from e
    return obj


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
