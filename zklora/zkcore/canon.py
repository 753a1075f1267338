"""Canonical JSON: sorted keys, no spaces, numpy scalars as plain numbers — the one
encoding every digest and every absorbed description is taken of."""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np


def _jsonable(x):
    if isinstance(x, Mapping):
        return {str(k): _jsonable(v) for k, v in sorted(x.items())}
    if isinstance(x, list | tuple):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.integer):
        return int(x)
    if isinstance(x, np.floating):
        return float(x)
    return x


def canonical_json(obj) -> bytes:
    """``obj`` as canonical JSON bytes."""
    return json.dumps(_jsonable(obj), sort_keys=True, separators=(",", ":")).encode()
