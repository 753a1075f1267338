"""Model protocol: turns configuration into a graph (public) and a witness (private).

The statement holds only ``public_params``; the verifier rebuilds the graph from them
with `build`, so `build` must depend on nothing else.  ``witness`` runs on the prover
side only and may read private data (weights, batch, seeds).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

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
        from .errors import ConfigError

        raise ConfigError(f"model {self.name!r} has no frozen base weights to commit")
