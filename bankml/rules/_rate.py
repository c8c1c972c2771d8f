"""Rules for a rare target by rate, not by majority: which leaves become rules, and the
record that lets every export carry each rule's score so a branch can sort by it.

A rate-based RuleSet is an ordinary RuleSet (rules predict the target, the default the
other customers) plus ``provenance[RATE_KEY]``: the model's score per rule id, the
pooled rate of the other customers and how the leaves were chosen. Plain JSON, so it
survives ``to_json``/``from_json`` without a new field on Rule.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from ..errors import InvalidParameterError

__all__ = ["RATE_KEY", "check_rate_params", "select_leaves", "rate_record", "rule_scores",
           "is_rate_based", "renumber_scores"]

#: The provenance key of a rate-based rule set.
RATE_KEY = "rate_rules"


def check_rate_params(min_lift, top_fraction) -> None:
    """``min_lift`` > 0 or None, ``top_fraction`` in (0, 1] or None, not both."""
    for name, v in (("min_lift", min_lift), ("top_fraction", top_fraction)):
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0:
            raise InvalidParameterError(f"The {name!r} parameter must be a number > 0 or None, "
                                        f"got {v!r}")
    if top_fraction is not None and top_fraction > 1:
        raise InvalidParameterError(f"The 'top_fraction' parameter must be in (0, 1], got "
                                    f"{top_fraction!r}")
    if min_lift is not None and top_fraction is not None:
        raise InvalidParameterError("pass either 'min_lift' or 'top_fraction', not both: they "
                                    "are two ways of choosing the same leaves")


def select_leaves(scores, sizes, prior, *, min_lift=None, top_fraction=None) -> list:
    """Positions of the chosen leaves, highest score first.

    The model ranks customers by its score, so leaves are chosen and ordered by it: with
    ``min_lift`` every leaf whose score is at least ``min_lift`` x the target's base rate;
    with ``top_fraction`` the best leaves until they hold that share of the training rows.
    Leaves tied with the last one chosen are always taken too: a cut inside a tie would
    split customers the model cannot tell apart.
    """
    scores = np.asarray(scores, dtype=float)
    sizes = np.asarray(sizes, dtype=float)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    if min_lift is not None:
        return [i for i in order if scores[i] >= min_lift * prior]
    total = sizes.sum()
    chosen, held = [], 0.0
    for i in order:
        if held >= top_fraction * total and chosen and scores[i] < scores[chosen[-1]]:
            break
        chosen.append(i)
        held += sizes[i]
    return chosen


def rate_record(target, scores, default_rate, base_rate, min_lift, top_fraction) -> dict:
    """The provenance record: ``scores`` is [[rule_id, score], ...] in rule order."""
    return {"target": target, "scores": [[int(r), float(s)] for r, s in scores],
            "default_rate": None if default_rate is None else float(default_rate),
            "base_rate": float(base_rate), "min_lift": min_lift, "top_fraction": top_fraction}


def is_rate_based(ruleset) -> bool:
    return isinstance(getattr(ruleset, "provenance", None), dict) and \
        isinstance(ruleset.provenance.get(RATE_KEY), dict)


def rule_scores(ruleset):
    """``({rule_id: score}, default_rate)`` of a rate-based rule set, else None."""
    if not is_rate_based(ruleset):
        return None
    rec = ruleset.provenance[RATE_KEY]
    scores = {int(r): float(s) for r, s in rec.get("scores") or []}
    return scores, rec.get("default_rate")


def renumber_scores(ruleset, old_ids) -> None:
    """After a converter rebuilt the rules (``old_ids[k]`` = the id rule k came from), key
    the scores by the new ids: a piece of a leaf has the leaf's score."""
    if not is_rate_based(ruleset):
        return
    rec = dict(ruleset.provenance[RATE_KEY])
    old = {int(r): float(s) for r, s in rec["scores"]}
    rec["scores"] = [[r.rule_id, old[o]] for r, o in zip(ruleset.rules, old_ids)]
    ruleset.provenance = {**ruleset.provenance, RATE_KEY: rec}
