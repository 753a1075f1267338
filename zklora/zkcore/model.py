"""Model protocol: turns configuration into a graph (public) and a witness (private).

The statement holds only ``public_params``; the verifier rebuilds the graph from them
with `build`, so `build` must depend on nothing else.  ``witness`` runs on the prover
side only and may read private data (weights, batch, seeds).

A model plugin also declares its own options (`ModelOption`, contributed through the
``zk_model_options`` hook as `ModelOptions`): the flags ``zklora prove`` adds for it,
the keywords ``zklora.prove`` accepts, the ``[model]`` keys they set and the ``--task``
alias that names the model.  `OptionTable` is the kernel's validated index of them; it
picks the model a run proves and turns flag/keyword values into model parameters.  The
kernel itself names no model and no model option.

This module is cheap to import (no torch): the command line reads the declarations.
"""

from __future__ import annotations

import math
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from .errors import ConfigError, PluginError

if TYPE_CHECKING:
    import torch

    from .graph import Graph


class Model(ABC):
    """A model plugin (registered through ``zk_models``)."""

    name: str
    description: str = ""

    @abstractmethod
    def public_params(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """Validate ``params`` (raise ConfigError naming the key) and return the public
        part that goes into the statement."""

    @abstractmethod
    def build(self, public: Mapping[str, Any]) -> Graph:
        """The graph for these public parameters (both sides call this)."""

    @abstractmethod
    def witness(self, params: Mapping[str, Any]) -> dict[str, torch.Tensor]:
        """Integer values of the graph's input tensors (prover only)."""

    def losses(self, public: Mapping[str, Any]) -> list[float]:
        """The statement's public loss(es) as real numbers, one per step (what ``prove``
        and ``verify`` print and `ProveResult.losses` holds); default: none."""
        return []

    # -- frozen base weights (optional): what `zklora commit-model` commits -------------

    def frozen_tensors(self, public: Mapping[str, Any]) -> list[str]:
        """Committed input tensors that are the frozen base model (default: none).  Their
        commitments are published once by the model owner and bound into the statement."""
        return []

    def frozen_scope(self, public: Mapping[str, Any]) -> dict[str, Any]:
        """The public description a model commitment is made for (architecture,
        quantisation); a proof's model commitment must have been made for this scope."""
        return {}

    def frozen_witness(self, params: Mapping[str, Any]
                       ) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
        """(scope, integer values of the frozen tensors) from prover-side parameters."""
        raise ConfigError(f"model {self.name!r} has no frozen base weights to commit")


# -- options a model plugin declares (the ``zk_model_options`` hook) -------------------

#: Value types of a `ModelOption`: ``path`` is any path or name (no check), ``file`` /
#: ``dir`` a path that must not be a directory / a file.
OPTION_TYPES = ("str", "int", "float", "bool", "path", "file", "dir")

#: Keywords of ``zklora.prove`` / ``commit_model`` and flags of ``zklora prove`` that the
#: kernel owns; no model option may take them.
RESERVED = frozenset({"config", "config_path", "profile", "task", "out", "out_path",
                      "adapter_out", "model_commitment", "model_commit", "progress",
                      "registry", "quiet", "json", "as_json", "help", "version", "h"})


def _identifier(_, attribute, value) -> None:
    if not isinstance(value, str) or not value.isidentifier() or value.startswith("_"):
        raise PluginError(f"model option {attribute.name} {value!r}: expected a Python "
                          f"identifier (the keyword of zklora.prove)")


@attrs.frozen
class ModelOption:
    """One option of a model plugin: the flag ``--<name>`` (underscores as dashes) of
    ``zklora prove`` and the keyword ``<name>`` of ``zklora.prove``.  A value given sets
    ``[model] <key>`` of the run's model parameters, over the config file's table; an
    option not given sets nothing (the config file and the plugin's own defaults apply).
    """

    name: str = attrs.field(validator=_identifier)
    help: str = ""
    type: str = "str"                      #: one of `OPTION_TYPES`
    key: str | None = None                 #: the [model] key it sets (default: ``name``)
    default: Any = None                    #: the plugin's default, shown in ``--help`` only
    choices: tuple[str, ...] | None = attrs.field(
        default=None, converter=lambda c: None if c is None else tuple(c))
    min: float | None = None               #: least value (``int`` / ``float``)
    #: converts a flag's string or a keyword's value to the parameter, raising
    #: `ConfigError` naming the option; replaces the type check (the flag is a string)
    parse: Callable[[Any], Any] | None = attrs.field(default=None, eq=False)
    metavar: str | None = None
    frozen: bool = False                   #: also selects ``commit-model``'s base weights

    def __attrs_post_init__(self):
        if self.type not in OPTION_TYPES:
            raise PluginError(f"model option {self.name!r}: type {self.type!r}; allowed: "
                              f"{', '.join(OPTION_TYPES)}")
        if self.choices is not None and self.type != "str":
            raise PluginError(f"model option {self.name!r}: choices need type 'str'")
        if self.name in RESERVED:
            raise PluginError(f"model option {self.name!r} is a keyword of the kernel; "
                              f"reserved: {', '.join(sorted(RESERVED))}")

    @property
    def flag(self) -> str:
        """The command-line flag."""
        return "--" + self.name.replace("_", "-")

    @property
    def param_key(self) -> str:
        """The model parameter (``[model]`` key) it sets."""
        return self.key or self.name

    @property
    def label(self) -> str:
        """``name (--flag)``, as error messages name it."""
        return f"{self.name} ({self.flag})"

    def value(self, v: Any) -> Any:
        """The model parameter for a flag's or keyword's value ``v`` (not None), checked
        against the declaration; raises `ConfigError` naming the option."""
        if self.parse is not None:
            return self.parse(v)
        t = self.type
        if t == "bool":
            if not isinstance(v, bool):
                raise ConfigError(f"{self.name} must be true or false, got {v!r}")
            return v
        if t in ("int", "float"):
            ok = isinstance(v, int) if t == "int" else isinstance(v, int | float)
            if not ok or isinstance(v, bool) or (t == "float" and not math.isfinite(v)):
                what = "an integer" if t == "int" else "a number"
                raise ConfigError(f"{self.name} must be {what}"
                                  + ("" if self.min is None else f" ≥ {self.min:g}")
                                  + f", got {v!r}")
            if self.min is not None and v < self.min:
                what = "an integer" if t == "int" else "a number"
                raise ConfigError(f"{self.name} must be {what} ≥ {self.min:g}, got {v!r}")
            return v
        if t in ("path", "file", "dir") and isinstance(v, os.PathLike):
            v = os.fspath(v)
        if not isinstance(v, str):
            what = "a path" if t in ("path", "file", "dir") else "a string"
            raise ConfigError(f"{self.name} must be {what}, got {v!r}")
        if self.choices is not None and v not in self.choices:
            raise ConfigError(f"{self.name}: {v!r}; allowed: {', '.join(self.choices)}")
        return v


@attrs.frozen
class ModelOptions:
    """What one plugin contributes to one model's options (``zk_model_options``):
    its `ModelOption` list, the ``--task`` alias naming the model (``train``), its
    priority when ``--task auto`` chooses among several models that take the options
    given (the highest wins; the config file's own model always wins), and ``example``:
    the model parameters of a small run ``zklora warmup`` proves to compile the kernels.
    Several plugins may add options to one model."""

    model: str
    options: tuple[ModelOption, ...] = attrs.field(default=(), converter=tuple)
    task: str | None = None
    priority: int = 0
    example: Mapping[str, Any] | None = None


def _has_frozen(model: object) -> bool:
    fw = getattr(type(model), "frozen_witness", None)
    return fw is not None and fw is not Model.frozen_witness


def _trains_adapter(model: object) -> bool:
    return getattr(model, "trained_adapter", None) is not None


#: Capabilities a run may need of its model, by name: (what needs it, test).
REQUIREMENTS: dict[str, tuple[str, Callable[[object], bool]]] = {
    "adapter_out": ("adapter_out (--adapter-out)", _trains_adapter),
    "frozen": ("commit_model (commit-model)", _has_frozen),
}


class OptionTable:
    """The validated index of every model's declared options (built by
    `zklora.zkcore.plugins.Registry.model_options`): which model a run proves
    (`select`) and its model parameters (`params`).  Conflicting declarations are a
    `PluginError`; a user's wrong choice is a `ConfigError` naming what is allowed."""

    def __init__(self, models: Mapping[str, object], decls: Iterable[ModelOptions]):
        self.models = dict(models)
        self.options: dict[str, dict[str, ModelOption]] = {m: {} for m in self.models}
        self.alias: dict[str, str] = {}          # task alias → model
        self.priority: dict[str, int] = {m: 0 for m in self.models}
        self.examples: dict[str, Mapping[str, Any]] = {}
        shared: dict[str, ModelOption] = {}
        for d in decls:
            if not isinstance(d, ModelOptions):
                raise PluginError(f"zk_model_options: expected ModelOptions, got {d!r}")
            if d.model not in self.models:
                raise PluginError(f"options declared for model {d.model!r}, which is not "
                                  f"registered; registered: {', '.join(sorted(self.models))}")
            if d.task is not None:
                self._add_alias(d.task, d.model)
            self.priority[d.model] = max(self.priority[d.model], int(d.priority))
            if d.example is not None:
                self.examples[d.model] = dict(d.example)
            for o in d.options:
                if not isinstance(o, ModelOption):
                    raise PluginError(f"options of model {d.model!r}: expected ModelOption, "
                                      f"got {o!r}")
                if o.name in self.options[d.model]:
                    raise PluginError(f"model {d.model!r} declares option {o.name!r} twice")
                first = shared.setdefault(o.name, o)
                if (first.type, first.choices, first.frozen) != (o.type, o.choices, o.frozen):
                    raise PluginError(f"option {o.name!r} is declared differently by two "
                                      f"models (type, choices, frozen must agree)")
                self.options[d.model][o.name] = o
        self.shared = shared

    def _add_alias(self, alias: str, model: str) -> None:
        if alias in ("auto", "config") or (alias in self.models and alias != model):
            raise PluginError(f"task alias {alias!r} of model {model!r} is reserved or "
                              f"names another model")
        if self.alias.get(alias, model) != model:
            raise PluginError(f"task alias {alias!r} is claimed by models "
                              f"{self.alias[alias]!r} and {model!r}")
        if model in self.alias.values() and alias not in self.alias:
            raise PluginError(f"model {model!r} has two task aliases")
        self.alias[alias] = model

    # -- what is declared ------------------------------------------------------------

    def names(self) -> list[str]:
        """Every option name, sorted."""
        return sorted(self.shared)

    def takers(self, name: str) -> list[str]:
        """The models that take option ``name``."""
        return sorted(m for m, opts in self.options.items() if name in opts)

    def tasks(self) -> list[str]:
        """The values ``--task`` accepts besides auto and config: aliases, model names."""
        return sorted(self.alias) + sorted(self.models)

    def task_of(self, model: str) -> str | None:
        return next((a for a, m in self.alias.items() if m == model), None)

    def describe(self, model: str) -> str:
        """``the train task (model llama-train)`` or ``model matmul-example``."""
        a = self.task_of(model)
        return f"the {a} task (model {model})" if a else f"model {model}"

    def _needs(self, models: Iterable[str]) -> str:
        names = [self.task_of(m) or m for m in models]
        return f"the {' or '.join(names)} task" if names else "a model that no plugin offers"

    # -- choosing the model and its parameters ---------------------------------------

    def model_of_task(self, task: str) -> str:
        if task in self.alias:
            return self.alias[task]
        if task in self.models:
            return task
        raise ConfigError(f"task: {task!r}; allowed: "
                          f"{', '.join(['auto', 'config', *self.tasks()])}")

    def select(self, task: str, config_model: str, given: Iterable[str],
               requires: Iterable[str] = ()) -> str:
        """The model a run proves.  ``task``: ``config`` (the config file's model),
        ``auto`` (the config's model when no option is given, else the model taking
        every option given — the config's own if it does, else the highest priority), a
        task alias or a model name.  ``given``: the options given; ``requires``: keys of
        `REQUIREMENTS` the model must meet.  Raises `ConfigError` naming the options and
        the tasks that take them."""
        given, requires = sorted(given), sorted(requires)
        unknown = [g for g in given if g not in self.shared]
        if unknown:
            raise ConfigError(f"unknown model option {unknown[0]!r}; declared: "
                              f"{', '.join(self.names()) or 'none'}")
        if task == "config" or (task == "auto" and not given and not requires):
            name = config_model
        elif task == "auto":
            name = self._auto(config_model, given, requires)
        else:
            name = self.model_of_task(task)
        self._check(name, given, requires)
        return name

    def _meets(self, model: str, given, requires) -> bool:
        obj = self.models.get(model)
        return (all(g in self.options.get(model, {}) for g in given)
                and all(REQUIREMENTS[r][1](obj) for r in requires))

    def _auto(self, config_model: str, given, requires) -> str:
        cands = [m for m in self.models if self._meets(m, given, requires)]
        if config_model in cands:
            return config_model
        if not cands:
            parts = [f"{self.shared[g].label}: {self._needs(self.takers(g))}" for g in given]
            parts += [f"{REQUIREMENTS[r][0]}: {self._needs(self._able(r))}"
                      for r in requires]
            raise ConfigError("no model takes all of the options given (" + "; ".join(parts)
                              + ")")
        top = max(self.priority[m] for m in cands)
        best = sorted(m for m in cands if self.priority[m] == top)
        if len(best) > 1:
            raise ConfigError(f"the options given fit models {', '.join(best)}; choose one "
                              f"with task (--task)")
        return best[0]

    def _able(self, req: str) -> list[str]:
        return sorted(m for m, obj in self.models.items() if REQUIREMENTS[req][1](obj))

    def _check(self, model: str, given, requires) -> None:
        own = self.options.get(model, {})
        for g in given:
            if g not in own:
                takes = ", ".join(sorted(own)) or "no options"
                raise ConfigError(f"{self.shared[g].label} needs "
                                  f"{self._needs(self.takers(g))}; {self.describe(model)} "
                                  f"takes: {takes}")
        for r in requires:
            if model in self.models and not REQUIREMENTS[r][1](self.models[model]):
                raise ConfigError(f"{REQUIREMENTS[r][0]} needs {self._needs(self._able(r))}"
                                  f"; {self.describe(model)} does not offer it")

    def params(self, model: str, config_model: str, config_params: Mapping[str, Any],
               values: Mapping[str, Any]) -> dict[str, Any]:
        """``model``'s parameters: the config file's [model] table (when the config names
        this model) with each given option's checked value set over it."""
        out = dict(config_params) if model == config_model else {}
        own = self.options.get(model, {})
        for name, v in values.items():
            if v is not None:
                out[own[name].param_key] = own[name].value(v)
        return out
