"""StarPolicy: the published values, YAML loading and every invalid policy."""

import copy
import math

import pytest
import pandas as pd
import yaml

from bankml.errors import ConfigError, InvalidParameterError, PolicyError
from bankml.schema import STAR_INPUTS
from bankml.stars import StarPolicy, StarScorer


@pytest.fixture
def data():
    return copy.deepcopy(StarPolicy.default().to_dict())


def test_default_is_the_published_policy():
    pol = StarPolicy.default()
    # DOMAIN.md section 1: points per 10,000 yuan
    assert pol.unit == 10_000 and pol.window_months == 6
    assert dict(pol.weights) == {
        "short_term_assets": 135, "long_term_assets": 100, "mortgage_loans": 100,
        "other_loans": 200, "card_overdraft": 200, "investment_tx": 200, "card_spend": 400,
        "settlement_tx": 200}
    assert dict(pol.thresholds) == {3: 50, 4: 500, 5: 2_000, 6: 10_000, 7: 80_000}
    assert dict(pol.upgrades) == {"has_private_banking": 7, "has_premier_wealth_card": 6,
                                  "has_platinum_card": 6, "has_wm_account": 5,
                                  "has_gold_card": 5, "has_standard_card": 4}
    assert {pol.measures[c] for c in STAR_INPUTS[:5]} == {"daily_average"}
    assert {pol.measures[c] for c in STAR_INPUTS[5:]} == {"cumulative"}
    assert set(pol.products.values()) == set(STAR_INPUTS[:5])
    assert set(pol.businesses.values()) == set(STAR_INPUTS[5:])
    assert pol.fee_caps["remittance"] == 50_000 and math.isinf(pol.fee_caps["pos_credit"])


def test_round_trip_and_yaml_file(tmp_path, data):
    assert StarPolicy.from_dict(data) == StarPolicy.default()
    data["categories"]["card_spend"]["weight"] = 500
    path = tmp_path / "bank.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    pol = StarPolicy.from_yaml(path)
    assert pol.weights["card_spend"] == 500 and pol != StarPolicy.default()
    row = dict.fromkeys(STAR_INPUTS, 0.0) | {"card_spend": 10_000.0}
    assert StarScorer(pol).star_points(pd.DataFrame([row])).iloc[0] == 500.0


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("categories: [unclosed\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="not valid YAML"):
        StarPolicy.from_yaml(bad)
    with pytest.raises(PolicyError, match="cannot read"):
        StarPolicy.from_yaml(tmp_path / "absent.yaml")
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("42\n", encoding="utf-8")
    with pytest.raises(PolicyError, match="mapping"):
        StarPolicy.from_yaml(scalar)


def edit(data, path, value):
    node = data
    for k in path[:-1]:
        node = node[k]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return data


@pytest.mark.parametrize("path, value, match", [
    (("categories", "card_spend", "weight"), -400, r"card_spend.weight .* must be >= 0"),
    (("categories", "card_spend", "weight"), "400", "finite number"),
    (("categories", "card_spend", "weight"), float("nan"), "finite number"),
    (("categories", "card_spend", "measure"), "monthly", "measure must be one of"),
    (("categories", "lottery"), {"measure": "cumulative", "weight": 1}, r"unknown categories \['lottery'\]"),
    (("categories", "card_spend"), KeyError, r"categories \['card_spend'\] are missing"),
    (("levels", 4), 40, "levels must increase with the level"),
    (("levels", 7), 10_000, "levels must increase with the level"),
    (("levels", 3), 0, "levels.3 must be > 0"),
    (("levels", 8), 1e6, "exactly the levels"),
    (("products", "gold_paper"), "gold", r"products.gold_paper names unknown category 'gold'"),
    (("products", "gold_paper"), "card_spend", "measured as cumulative, not daily_average"),
    (("businesses", "remittance"), {"category": "settlement", "fee_cap": 1},
     "businesses.remittance names unknown category"),
    (("businesses", "remittance", "fee_cap"), -1, "fee_cap must be > 0"),
    (("businesses", "remittance", "fee_cap"), 0, "fee_cap must be > 0"),
    (("upgrades", "has_yacht"), 7, r"unknown holdings flags \['has_yacht'\]"),
    (("upgrades", "has_gold_card"), 8, "must be a star level"),
    (("unit",), 0, "unit must be > 0"),
    (("window_months",), 0, "window_months must be an integer >= 1"),
    (("manual_can_lower",), "yes", "manual_can_lower must be true or false"),
    (("colour",), "blue", r"unknown keys \['colour'\]"),
    (("levels",), KeyError, r"missing keys \['levels'\]"),
])
def test_invalid_policies(data, path, value, match):
    with pytest.raises(PolicyError, match=match):
        StarPolicy.from_dict(edit(data, path, value))


def test_invalid_file_names_the_file(tmp_path, data):
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(edit(data, ("categories", "card_spend", "weight"), -1)),
                    encoding="utf-8")
    with pytest.raises(PolicyError, match=f"{path.name}.*card_spend") as err:
        StarPolicy.from_yaml(path)
    assert isinstance(err.value, ConfigError)


def test_zero_weight_allowed_and_scorer_rejects_other_policies(data):
    pol = StarPolicy.from_dict(edit(data, ("categories", "card_spend", "weight"), 0))
    assert pol.weights["card_spend"] == 0
    with pytest.raises(InvalidParameterError, match="StarPolicy.from_dict"):
        StarScorer({"unit": 1})


def test_default_codes_follow_the_published_item_lists():
    # DOMAIN.md section 1, item by item: which balance or business counts where.
    pol = StarPolicy.default()
    published_products = {
        "short_term_assets": ["demand_savings", "custody_cash", "overnight_wm",
                              "money_market_fund", "credit_card_deposit"],
        "long_term_assets": ["time_deposit", "flexible_deposit", "provident_fund", "wm_product",
                             "fund", "treasury_bond", "insurance", "gold_paper", "gold_physical",
                             "gold_branded"],
        "mortgage_loans": ["housing_mortgage"],
        "other_loans": ["consumer_loan", "business_loan"],
        "card_overdraft": ["card_overdraft"],
    }
    published_businesses = {
        "investment_tx": ["fund_subscription", "fund_redemption", "wm_purchase", "bond_trade",
                          "insurance_trade", "gold_trade", "fx_trade"],
        "card_spend": ["pos_debit", "pos_wealth", "pos_credit"],
        "settlement_tx": ["offsite_deposit", "offsite_withdrawal", "remittance",
                          "interbank_transfer", "express_transfer"],
    }
    assert dict(pol.products) == {p: c for c, ps in published_products.items() for p in ps}
    assert dict(pol.businesses) == {b: c for c, bs in published_businesses.items() for b in bs}
    # overnight WM and money-market funds are short-term even though WM and funds are not
    assert pol.products["overnight_wm"] != pol.products["wm_product"]
    assert pol.products["money_market_fund"] != pol.products["fund"]


# Issue 12.13: a level key 3.7 was read as level 3 (int() truncates).
@pytest.mark.parametrize("key", [3.7, 3.0, True, "three", "3.7", None])
def test_level_keys_must_be_whole_levels(data, key):
    levels = {k: v for k, v in data["levels"].items() if k != 3}
    with pytest.raises(PolicyError, match="levels keys must be the whole-number star levels"):
        StarPolicy.from_dict({**data, "levels": {key: 50, **levels}})


def test_level_key_37_in_a_yaml_file_is_refused(tmp_path):
    text = config_text().replace("\n  3: 50\n", "\n  3.7: 50\n")
    assert "3.7: 50" in text
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match=r"p\.yaml.*levels keys.*got 3\.7"):
        StarPolicy.from_yaml(path)


def test_level_keys_as_text_are_read_and_not_doubled(data):
    as_text = {str(k): v for k, v in data["levels"].items()}
    assert StarPolicy.from_dict({**data, "levels": as_text}) == StarPolicy.from_dict(data)
    with pytest.raises(PolicyError, match="gives level 3 twice"):
        StarPolicy.from_dict({**data, "levels": {**data["levels"], "3": 50}})


def test_duplicate_weight_in_a_policy_file_is_refused(tmp_path):
    # Issue 12.6: card_spend's weight given twice; the last one silently won.
    text = config_text().replace("card_spend:        {measure: cumulative, weight: 400}",
                                 "card_spend:        {measure: cumulative, weight: 400, weight: 4}")
    path = tmp_path / "p.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(PolicyError, match="duplicate key 'weight'"):
        StarPolicy.from_yaml(path)


def config_text():
    from bankml._resources import config_path
    return config_path("star_policy.yaml").read_text(encoding="utf-8")
