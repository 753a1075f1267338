"""The WHIR prover-cache store accepts a state stored before a parameter existed (made
under that parameter's default) and refuses every other difference."""

from __future__ import annotations

import attrs

from zklora.plugins.commitments import whir as W
from zklora.plugins.commitments.whir_cache import same_params


def _cfg(**params):
    return W.WhirParams.parse({"regime": "conjectured", "first_shrink": 3, **params})


def test_a_state_without_a_newer_default_parameter_is_the_same():
    cfg = _cfg()
    stored = attrs.asdict(cfg)
    assert same_params(stored, cfg)
    for key in ("first_fold_from", "first_fold"):
        old = {k: v for k, v in stored.items() if k != key}   # made before `key` existed
        assert same_params(old, cfg)


def test_a_missing_parameter_set_off_its_default_refuses():
    cfg = _cfg(first_fold=5, first_shrink=4, first_fold_from=23)
    stored = attrs.asdict(cfg)
    assert same_params(stored, cfg)
    assert not same_params({k: v for k, v in stored.items() if k != "first_fold_from"}, cfg)
    assert not same_params({k: v for k, v in stored.items() if k != "first_fold"}, cfg)


def test_any_other_difference_refuses():
    cfg = _cfg()
    stored = attrs.asdict(cfg)
    assert not same_params({**stored, "later_shrink": 2}, cfg)
    assert not same_params({**stored, "unknown": 1}, cfg)
    assert not same_params({**stored, "rate_log": 2}, cfg)
    assert not same_params(None, cfg) and not same_params([], cfg)
