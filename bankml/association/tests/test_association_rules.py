from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from mlxtend.frequent_patterns import apriori, association_rules

from bankml.association import (ENGINES, ITEMS_ATTR, METRICS, evaluate_rules, mine_rules,
                                prune_redundant, recommend, to_transactions)
from bankml.datasets import make_customers
from bankml.errors import DataError, InvalidParameterError


def _keyed(rules):
    return {(a, c): row for a, c, row in zip(rules["antecedents"], rules["consequents"],
                                               rules[list(METRICS)].to_numpy())}


@pytest.mark.parametrize("seed", range(4))
def test_engines_give_the_same_rules_and_mlxtend_values(seed, random_onehot):
    onehot = random_onehot(seed)
    tables = {e: mine_rules(onehot, 0.05, 0.3, engine=e) for e in ENGINES}
    assert len(tables["fast"]) > 20
    assert tables["fast"].equals(tables["apriori"])
    assert tables["fast"].equals(tables["fpgrowth"])
    # the reference: mlxtend called directly on the same data
    direct = association_rules(apriori(onehot, 0.05, use_colnames=True), num_itemsets=len(onehot),
                               metric="confidence", min_threshold=0.3)
    ours, theirs = _keyed(tables["fast"]), _keyed(direct)
    assert ours.keys() == theirs.keys()
    for key, row in ours.items():
        np.testing.assert_array_equal(row, theirs[key])  # exact, not approximately


def test_metrics_match_a_hand_count(random_onehot):
    onehot = random_onehot(7)
    X = onehot.to_numpy()
    n = len(X)
    rules = mine_rules(onehot, 0.05, 0.0, engine="fast")
    for a, c, conf, lift, lev in rules[["antecedents", "consequents", "confidence", "lift",
                                        "leverage"]].itertuples(index=False):
        ha = X[:, [onehot.columns.get_loc(i) for i in a]].all(axis=1)
        hc = X[:, [onehot.columns.get_loc(i) for i in c]].all(axis=1)
        assert conf == pytest.approx((ha & hc).sum() / ha.sum(), rel=1e-12)
        assert lift == pytest.approx(conf / hc.mean(), rel=1e-12)
        assert lev == pytest.approx((ha & hc).mean() - ha.mean() * hc.mean(), abs=1e-12)


def test_rules_cover_every_split_of_every_frequent_itemset(random_onehot):
    onehot = random_onehot(3, m=5)
    rules = mine_rules(onehot, 0.1, 0.0, engine="fast")
    X = onehot.to_numpy()
    expected = set()
    for k in range(2, 6):
        for combo in combinations(range(5), k):
            if X[:, combo].all(axis=1).mean() >= 0.1:
                items = frozenset(onehot.columns[list(combo)])
                for r in range(1, k):
                    for a in combinations(sorted(items), r):
                        expected.add((frozenset(a), items - frozenset(a)))
    assert set(zip(rules["antecedents"], rules["consequents"])) == expected


@pytest.mark.parametrize("engine", ENGINES)
def test_filters_and_thresholds(engine, random_onehot):
    onehot = random_onehot(5)
    full = mine_rules(onehot, 0.05, 0.4, engine=engine)
    target = mine_rules(onehot, 0.05, 0.4, consequents=["has_p1"], engine=engine)
    assert len(target) and all(c == frozenset({"has_p1"}) for c in target["consequents"])
    expected = full[full["consequents"] == frozenset({"has_p1"})].reset_index(drop=True)
    assert target.equals(expected)
    only = mine_rules(onehot, 0.05, 0.4, antecedents=["has_p0", "has_p2"], engine=engine)
    assert all(a <= {"has_p0", "has_p2"} for a in only["antecedents"])
    lifted = mine_rules(onehot, 0.05, 0.4, min_lift=1.2, engine=engine)
    assert (lifted["lift"] >= 1.2).all() and (lifted["confidence"] >= 0.4).all()
    assert len(lifted) == int((full["lift"] >= 1.2).sum())


def test_order_is_by_confidence_then_lift(random_onehot):
    rules = mine_rules(random_onehot(1), 0.05, 0.2)
    key = list(zip(-rules["confidence"], -rules["lift"]))
    assert key == sorted(key)


def test_no_rules_gives_an_empty_table_with_the_columns():
    rules = mine_rules([["a"], ["b"]], 0.5, 0.5, engine="fast")
    assert list(rules.columns) == ["antecedents", "consequents", *METRICS] and len(rules) == 0
    assert mine_rules([["a", "b"], ["b"], ["a"]], 0.3, 0.99, engine="apriori").empty


def test_bad_rule_arguments_are_refused():
    baskets = [["a", "b"], ["b"]]
    with pytest.raises(DataError, match="'z'.*never appear"):
        mine_rules(baskets, 0.5, 0.5, consequents=["z"])
    with pytest.raises(InvalidParameterError, match="min_confidence"):
        mine_rules(baskets, 0.5, 1.5)
    with pytest.raises(InvalidParameterError, match="min_support"):
        mine_rules(baskets, 0, 0.5)
    with pytest.raises(InvalidParameterError, match="min_lift"):
        mine_rules(baskets, 0.5, 0.5, min_lift=-1)


def test_prune_redundant_drops_only_dominated_specialisations(random_onehot):
    rules = mine_rules(random_onehot(2), 0.05, 0.2, consequents=["has_p3"])
    pruned = prune_redundant(rules)
    assert 0 < len(pruned) < len(rules)
    conf = dict(zip(rules["antecedents"], rules["confidence"]))
    kept = set(pruned["antecedents"])
    for a, c in conf.items():
        dominated = any(b < a and cb >= c for b, cb in conf.items())
        assert (a not in kept) == dominated


def test_evaluate_rules_on_the_same_data_reproduces_the_metrics(random_onehot):
    onehot = random_onehot(6)
    rules = mine_rules(onehot, 0.05, 0.3)
    again = evaluate_rules(rules, onehot)
    for m in METRICS:
        np.testing.assert_array_equal(again[m].to_numpy(), rules[m].to_numpy())
    np.testing.assert_array_equal(again["mined confidence"], rules["confidence"])


def test_evaluate_rules_on_a_hold_out_month_recounts(random_onehot):
    train, test = random_onehot(8), random_onehot(9)
    rules = mine_rules(train, 0.05, 0.3)
    ev = evaluate_rules(rules, test)
    X = test.to_numpy()
    for a, c, s, conf in ev[["antecedents", "consequents", "support", "confidence"]].itertuples(index=False):
        ha = X[:, [test.columns.get_loc(i) for i in a]].all(axis=1)
        hc = X[:, [test.columns.get_loc(i) for i in c]].all(axis=1)
        assert s == (ha & hc).sum() / len(X)
        assert conf == pytest.approx((ha & hc).sum() / ha.sum(), rel=1e-12)
    with pytest.raises(DataError, match="has_p6"):
        evaluate_rules(rules, test.drop(columns="has_p6"))
    with pytest.raises(DataError, match="rules DataFrame"):
        evaluate_rules([1, 2], test)


def test_recommend_picks_products_not_held_whose_rules_fire(random_onehot):
    onehot = random_onehot(4)
    rules = mine_rules(onehot, 0.05, 0.3)
    calls = recommend(rules, onehot, k=2)
    assert len(calls) and calls["rank"].between(1, 2).all()
    assert not calls.duplicated(["customer", "product"]).any()
    X = onehot.to_numpy()
    for cust, product, ante, conf in calls[["customer", "product", "antecedents",
                                            "confidence"]].itertuples(index=False):
        row = X[cust]
        assert not row[onehot.columns.get_loc(product)]  # not held yet
        assert all(row[onehot.columns.get_loc(i)] for i in ante)  # the rule fires
        # no firing rule for this product is better than the one reported
        fired = [cf for a, c, cf in rules[["antecedents", "consequents", "confidence"]].itertuples(index=False)
                 if product in c and all(row[onehot.columns.get_loc(i)] for i in a)
                 and not any(row[onehot.columns.get_loc(i)] for i in c)]
        assert conf == max(fired)
    # within a customer, products come best first
    for _, g in calls.groupby("customer"):
        assert (np.diff(g["confidence"].to_numpy()) <= 0).all()



def _recommend_loop(rules, onehot, k):
    """recommend() as the plain loop a branch analyst would write, one customer at a time."""
    table = list(rules[["antecedents", "consequents", "confidence", "lift"]].itertuples(index=False))
    # best rule first: confidence, then lift, then the table order
    ranked = sorted(range(len(table)), key=lambda i: (-table[i].confidence, -table[i].lift, i))
    out = []
    for cust, row in zip(onehot.index, onehot.to_dict("records")):
        best = {}  # product -> position (in ranked) of its best firing rule
        for pos, i in enumerate(ranked):
            a, c = table[i].antecedents, table[i].consequents
            if all(row[x] for x in a) and not any(row[x] for x in c):
                for product in c:
                    best.setdefault(product, pos)
        # products by their best rule; one rule carrying several products: by product name
        order = sorted(best, key=lambda p: (best[p], p))[:k]
        for rank, product in enumerate(order, 1):
            i = ranked[best[product]]
            out.append((cust, rank, product, table[i].confidence, table[i].lift,
                        table[i].antecedents))
    return out


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("k", [1, 2, 4])
def test_recommend_equals_a_plain_loop_over_customers_and_rules(seed, k, random_onehot):
    onehot = random_onehot(20 + seed, n=80, m=6)
    onehot.index = pd.Index([f"row{i}" for i in range(len(onehot))])  # not positions
    rules = mine_rules(onehot, 0.05, 0.3)
    assert (rules["consequents"].map(len) > 1).any()  # multi-product rules are exercised
    calls = recommend(rules, onehot, k=k)
    got = list(calls[["customer", "rank", "product", "confidence", "lift",
                      "antecedents"]].itertuples(index=False, name=None))
    assert got == _recommend_loop(rules, onehot, k)


def test_recommend_orders_products_tied_on_one_rule_by_name():
    rules = pd.DataFrame({"antecedents": [frozenset({"x"}), frozenset({"y"})],
                          "consequents": [frozenset({"b"}), frozenset({"a", "b"})],
                          "confidence": [0.9, 0.8], "lift": [2.0, 2.0]})
    customers = pd.DataFrame({"x": [0, 1], "y": [1, 1], "a": [0, 0], "b": [0, 0]})
    calls = recommend(rules, customers, k=2)
    assert list(zip(calls["customer"], calls["product"], calls["confidence"])) == [
        (0, "a", 0.8), (0, "b", 0.8), (1, "b", 0.9), (1, "a", 0.8)]

def test_recommend_on_the_customer_table_keeps_ids_and_speaks_chinese():
    df = make_customers(3000, seed=2)
    rules = mine_rules(to_transactions(df), 0.02, 0.3, consequents=["has_wm_account"])
    calls = recommend(rules, df, k=1, lang="zh")
    assert len(calls) and (calls["product"] == "has_wm_account").all()
    assert (df.loc[calls["customer"], "has_wm_account"] == 0).all()
    assert (calls["customer_id"].to_numpy() == df.loc[calls["customer"], "customer_id"].to_numpy()).all()
    assert calls["rule"].str.contains("持有理财账户").all()
    with pytest.raises(InvalidParameterError, match="k must be"):
        recommend(rules, df, k=0)


def _fires(rules, tx):
    """The first rule whose antecedent items a customer all has, as the association rules say."""
    out = np.zeros(len(tx), dtype=bool)
    for a in rules["antecedents"]:
        out |= tx[list(a)].all(axis=1).to_numpy()
    return out


def test_rules_from_association_predicts_on_the_raw_table_what_the_rules_say():
    from bankml.rules import rules_from_association

    df = make_customers(2000, seed=5)
    tx = to_transactions(df, bands={"age": [30, 55]})
    rules = mine_rules(tx, 0.02, 0.3, consequents=["has_wm_account"])
    rs = rules_from_association(rules)
    assert len(rs) == len(rules) and rs.label_column == "has_wm_account"
    # the RuleSet reads the raw customer table: bands became numeric conditions on age
    assert any(c.feature == "age" for r in rs for c in r.conditions)
    np.testing.assert_array_equal(np.asarray(rs.predict(df)) == 1, _fires(rules, tx))
    with pytest.raises(DataError, match="consequent"):
        rules_from_association(mine_rules(tx, 0.05, 0.3))


def test_rules_from_association_flags_exact_bands_and_text_items_on_every_row():
    # issue 12.9: a text item age_group=18-30 was parsed as an interval, and the band cut
    # 1,234,567 was labelled 1.23e+06 and became 1,230,000 in the rule
    from bankml.rules import Condition, rules_from_association, to_sql

    rng = np.random.default_rng(3)
    n = 3000
    balance = rng.choice([1_234_566.0, 1_234_567.0, 1_234_568.0, 1_230_000.0, 1_240_000.0,
                          500_000.0, 2_000_000.0], n)
    df = pd.DataFrame({
        "has_fund": rng.integers(0, 2, n), "has_gold": rng.random(n) < 0.4,
        "age_group": rng.choice(["18-30", "31-50", ">50", "<=17"], n).astype(object),
        "balance": balance, "has_wm_account": rng.integers(0, 2, n)})
    df.loc[rng.random(n) < 0.05, "balance"] = np.nan
    df.loc[rng.random(n) < 0.05, "age_group"] = None
    tx = to_transactions(df, items=["has_fund", "has_gold", "has_wm_account"],
                         attributes=["age_group"], bands={"balance": [1_234_567, 1_500_000]})
    assert "balance=<=1,234,567" in tx.columns and "balance=1,234,567-1,500,000" in tx.columns
    assert not any("e+" in c for c in tx.columns)
    rules = mine_rules(tx, 0.005, 0.0, consequents=["has_wm_account"])
    items = set().union(*rules["antecedents"])
    assert {"age_group=18-30", "balance=<=1,234,567", "has_fund", "has_gold"} <= items
    rs = rules_from_association(rules)
    conds = {c for r in rs for c in r.conditions}
    assert Condition("age_group", "==", "18-30") in conds
    assert Condition("balance", "<=", 1_234_567.0) in conds
    assert Condition("has_fund", "==", 1) in conds and Condition("has_gold", "==", 1) in conds
    assert not any(c.feature == "age_group" and c.op in ("<=", ">") for c in conds)
    fires = _fires(rules, tx)
    np.testing.assert_array_equal(rs.predict(df) == 1, fires)
    # and the SQL a branch runs on the same raw table says the same on every row
    import sqlite3
    con = sqlite3.connect(":memory:")
    df.assign(id=np.arange(n)).to_sql("c", con, index=False)
    got = {row[0]: row[1] for row in con.execute(to_sql(rs, "c", "id"))}
    assert np.array_equal(np.array([got[i] for i in range(n)]) == 1, fires)


def test_rules_from_association_reads_item_names_it_has_no_meaning_for_as_columns():
    from bankml.rules import Condition, rules_from_association

    baskets = [["has_fund", "age=30-55", "has_wm_account"]] * 3 + [["has_fund"]]
    rules = mine_rules(baskets, 0.5, 0.9, consequents=["has_wm_account"])
    assert ITEMS_ATTR not in rules.attrs
    rs = rules_from_association(rules)
    # no recorded meaning: never parsed, the item is a 0/1 column of the one-hot table
    assert {c for r in rs for c in r.conditions} <= {Condition("has_fund", "==", 1),
                                                     Condition("age=30-55", "==", 1)}
    with pytest.raises(DataError, match="no rule has the consequent 'has_gold'"):
        rules_from_association(rules, consequent="has_gold")


def test_the_items_meaning_survives_filtering_pruning_and_hold_out_evaluation():
    df = make_customers(1500, seed=2)
    tx = to_transactions(df, bands={"age": [30, 55]})
    rules = mine_rules(tx, 0.02, 0.3, consequents=["has_wm_account"])
    assert rules.attrs[ITEMS_ATTR] == tx.attrs[ITEMS_ATTR]
    assert rules.attrs[ITEMS_ATTR]["age=30-55"] == (("age", ">", 30.0), ("age", "<=", 55.0))
    assert prune_redundant(rules).attrs[ITEMS_ATTR] == tx.attrs[ITEMS_ATTR]
    assert rules[rules["lift"] > 1].attrs[ITEMS_ATTR] == tx.attrs[ITEMS_ATTR]
    assert evaluate_rules(rules, tx).attrs[ITEMS_ATTR] == tx.attrs[ITEMS_ATTR]


def test_association_does_not_import_the_rules_package():
    # data flows models -> rules: bankml.association must work without bankml.rules
    import subprocess
    import sys
    code = ("import sys, bankml.association as a; from bankml.datasets import make_customers; "
            "a.mine_rules(a.to_transactions(make_customers(300, seed=1)), 0.05, 0.3); "
            "print(any(m.startswith('bankml.rules') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fast_engine_rules_from_basket_lists_equal_the_frame_path(random_onehot):
    onehot = random_onehot(12)
    baskets = [list(onehot.columns[row]) for row in onehot.to_numpy()]
    for kwargs in ({}, {"consequents": ["has_p2"]}, {"antecedents": ["has_p0", "has_p1", "has_p4"]}):
        from_lists = mine_rules(baskets, 0.05, 0.3, engine="fast", **kwargs)
        from_frame = mine_rules(onehot, 0.05, 0.3, engine="fpgrowth", **kwargs)
        assert len(from_lists) and from_lists.equals(from_frame), kwargs


def test_a_known_but_infrequent_consequent_gives_no_rules_not_an_error():
    baskets = [["a", "b"]] * 5 + [["rare"]]
    for engine in ENGINES:
        assert mine_rules(baskets, 0.3, 0.1, consequents=["rare"], engine=engine).empty


def test_evaluate_rules_marks_an_antecedent_that_never_occurs():
    rules = mine_rules([["a", "b"]] * 3 + [["c"]], 0.5, 0.5, consequents=["b"])
    ev = evaluate_rules(rules, [["b"], ["c"]])
    assert ev["support"].iloc[0] == 0 and np.isnan(ev["confidence"].iloc[0])


def test_recommend_with_no_rules_is_an_empty_call_list():
    rules = mine_rules([["a"], ["b"]], 0.5, 0.5)
    calls = recommend(rules, pd.DataFrame({"a": [1, 0], "b": [0, 1]}))
    assert calls.empty and "product" in calls.columns


def test_too_many_candidate_rules_are_refused_up_front():
    from bankml.errors import ResourceLimitError

    # 40 identical baskets of 12 items: 4,095 itemsets but 531,440 candidate rules
    baskets = [[f"i{j}" for j in range(12)]] * 40
    with pytest.raises(ResourceLimitError, match="candidate rules.*max_len="):
        mine_rules(baskets, 0.5, 0.5, max_itemsets=10_000)
    assert len(mine_rules(baskets, 0.5, 0.5, max_len=3, max_itemsets=10_000)) == 12 * 11 + 220 * 6
