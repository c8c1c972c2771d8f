"""Association rules for cross-selling: which products go together, whom to call next.

Customer rows become baskets (:func:`to_transactions`), frequent itemsets are mined with
mlxtend's Apriori / FP-growth or the C-backed ``fast`` engine (pyfim), all giving the same
table; rules carry mlxtend's metrics and turn into a branch call list (:func:`recommend`)
or, through :func:`bankml.rules.rules_from_association`, into exportable IF-THEN rules.
"""

from ._itemsets import ENGINES, frequent_itemsets
from ._rules import METRICS, evaluate_rules, mine_rules, prune_redundant, recommend
from ._transactions import ITEMS_ATTR, to_baskets, to_onehot, to_transactions

__all__ = ["to_transactions", "to_onehot", "to_baskets", "frequent_itemsets", "mine_rules",
           "prune_redundant", "evaluate_rules", "recommend", "ENGINES", "METRICS", "ITEMS_ATTR"]
