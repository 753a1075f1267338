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
