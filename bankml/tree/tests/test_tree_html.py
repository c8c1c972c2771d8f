"""The HTML tree (export_html) and the depth-limited PNG (plot_tree max_depth, issue 17.1)."""

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.utils._param_validation import InvalidParameterError  # noqa: E402

from bankml.tree import ConceptHierarchyBinner, InfoGainTreeClassifier, export_html, plot_tree  # noqa: E402

HOSTILE = "<script>alert(1)</script>"


def _data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame({
        "occupation": rng.choice(["civil_servant", "professional", "retired", HOSTILE], n,
                                p=[0.4, 0.3, 0.2, 0.1]),
        "deposit": rng.gamma(2.0, 5000.0, n),
        "age": rng.integers(20, 80, n).astype(float),
    }, index=[f"C{900000 + i}" for i in range(n)])   # customer ids as the index
    logit = (X["occupation"] == "professional") * 1.5 + (X["deposit"] > 12000) * 1.2 - 1.5
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def fitted():
    X, y = _data()
    return X, y, InfoGainTreeClassifier(max_depth=4, min_samples_leaf=10).fit(X, y)


def _nodes(page, cls=None):
    pat = r'class="(?:node|leaf)( path)?" data-node="(\d+)"'
    return [int(m.group(2)) for m in re.finditer(pat, page) if cls is None or m.group(1)]


def test_page_is_one_self_contained_file_with_every_node(fitted):
    X, y, model = fitted
    page = export_html(model, lang="en")
    assert page.startswith("<!DOCTYPE html>") and 'charset="utf-8"' in page
    low = page.lower()
    for outside in ("http://", "https://", "src=", "<link", "@import", "url("):
        assert outside not in low
    assert sorted(_nodes(page)) == list(range(model.tree_.node_count))
    # an internal node is a collapsible <details>, the top levels start open
    assert page.count("<details") == int((model.tree_.feature >= 0).sum())
    assert '<details class="node" data-node="0" open>' in page


def test_hostile_category_is_escaped(fitted):
    X, y, model = fitted
    assert HOSTILE in model.tree_.categories[0]   # the hostile value is a split value
    for lang in ("zh", "en"):
        page = export_html(model, lang=lang)
        assert "<script" not in page.lower()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_zh_and_en_labels(fitted):
    X, y, model = fitted
    zh, en = export_html(model, lang="zh"), export_html(model, lang="en")
    assert "全部客户" in zh and "理财买家比例" in zh and "存款余额" in zh and "职业" in zh
    assert "all customers" in en and "WM buyer rate" in en and "deposit balance" in en
    assert not re.search("[\u4e00-\u9fff]", en)
    assert "专业人士" in zh and "professional" in en   # coded values translated
    assert "类别: 理财客户" in export_html(model, lang="zh", label_column="wm_buyer")
    assert "class: WM buyer" in export_html(model, lang="en", label_column="wm_buyer")
    with pytest.raises(InvalidParameterError, match="lang"):
        export_html(model, lang="fr")


def test_customers_rate_and_lift_per_node(fitted):
    X, y, model = fitted
    page = export_html(model, lang="en")
    t = model.tree_
    root_rate = y.mean()
    assert f"customers {len(y):,} · WM buyer rate {root_rate:.1%}" in page
    # a chosen node: its count, rate and lift from the rows that reach it
    node = int(np.flatnonzero(t.feature < 0)[0])
    reach = model.decision_path(X).toarray()[:, node].astype(bool)
    rate = y[reach].mean()
    html_node = page[page.index(f'data-node="{node}"'):].split("</div>")[0]
    assert f"customers {reach.sum():,} · WM buyer rate {rate:.1%}" in html_node
    assert f"lift vs all {rate / root_rate:.2f}" in html_node
    # given rows: counted on them, unweighted
    Xn, yn = _data(300, seed=5)
    page_n = export_html(model, X=Xn, y=yn)
    assert f"customers 300 · WM buyer rate {yn.mean():.1%}" in page_n
    assert "Customers and rates: the customers given (unweighted)" in page_n


def test_weighted_tree_needs_rows_not_weighted_counts():
    # regression guard: a class-weighted tree's stored counts are weighted, so its
    # "buyer rate" would be wrong -- ask for X, y instead of printing it
    X, y = _data()
    model = InfoGainTreeClassifier(max_depth=3, class_weight="balanced").fit(X, y)
    with pytest.raises(InvalidParameterError, match="pass X and y"):
        export_html(model)
    page = export_html(model, X=X, y=y)
    assert f"WM buyer rate {y.mean():.1%}" in page
    with pytest.raises(InvalidParameterError, match="together"):
        export_html(model, X=X)


@pytest.mark.parametrize("row", [0, 7, 123, 599])
def test_chosen_customer_path_equals_decision_path(fitted, row):
    X, y, model = fitted
    customer = X.iloc[[row]]
    page = export_html(model, lang="zh", customer=customer)
    want = sorted(model.decision_path(customer).indices.tolist())
    assert sorted(_nodes(page, cls="path")) == want
    assert want[-1] == model.apply(customer)[0]
    assert f'class="leaf path" data-node="{model.apply(customer)[0]}"' in page
    # the path is opened; no customer id or row value is written
    for node in want[:-1]:
        assert f'data-node="{node}" open>' in page
    assert "C9" not in page and f"{customer['deposit'].iloc[0]:.2f}" not in page
    # a Series row works too; two rows are refused
    assert _nodes(export_html(model, customer=X.iloc[row]), cls="path") == _nodes(page, cls="path")
    with pytest.raises(InvalidParameterError, match="one row"):
        export_html(model, customer=X.iloc[:2])


def test_pipeline_with_binner_writes_band_labels_and_routes_raw_rows():
    X, y = _data()
    pipe = Pipeline([("bands", ConceptHierarchyBinner({"age": [30, 55]})),
                     ("tree", InfoGainTreeClassifier(max_depth=4, min_samples_leaf=10))]).fit(X, y)
    page = export_html(pipe, lang="en", customer=X.iloc[[3]])
    tree, Xt = pipe[-1], pipe[:-1].transform(X.iloc[[3]])
    assert sorted(_nodes(page, cls="path")) == sorted(tree.decision_path(Xt).indices.tolist())
    assert sorted(_nodes(page)) == list(range(tree.tree_.node_count))
    if 2 in set(tree.tree_.feature):   # age used: its conditions read on the band labels
        assert re.search(r"age (not )?in \{[^}]*(&lt;=30|30-55|&gt;55)", page)
    # a one-step Pipeline has nothing in front to transform with
    one = Pipeline([("tree", InfoGainTreeClassifier(max_depth=2))]).fit(X, y)
    assert _nodes(export_html(one, customer=X.iloc[[3]]), cls="path") == sorted(
        one[-1].decision_path(X.iloc[[3]]).indices.tolist())
    # a plain array model and a 1-d array row
    Xa = X[["deposit", "age"]].to_numpy()
    arr = InfoGainTreeClassifier(max_depth=3).fit(Xa, y)
    assert _nodes(export_html(arr, customer=Xa[9]), cls="path") == sorted(
        arr.decision_path(Xa[[9]]).indices.tolist())


def test_plot_tree_max_depth_draws_only_the_top_levels(fitted):
    X, y, model = fitted
    t = model.tree_
    ax = plot_tree(model, max_depth=1)
    boxes = [tx for tx in ax.texts if tx.get_bbox_patch() is not None]
    assert len(boxes) == int((t.depth <= 1).sum())
    assert sum("..." in b.get_text() for b in boxes) == int(((t.depth == 1) & (t.feature >= 0)).sum())
    w, h = ax.figure.get_size_inches()
    assert w <= 24 and h <= 12
    plt.close(ax.figure)
    full = plot_tree(model)   # None draws the whole tree, as before
    assert sum(tx.get_bbox_patch() is not None for tx in full.texts) == t.node_count
    plt.close(full.figure)
    for bad in (-1, 1.5, "2", True):
        with pytest.raises(InvalidParameterError, match="max_depth"):
            plot_tree(model, max_depth=bad)


def test_pipeline_png_is_bounded_and_html_written_beside_it(tmp_path):
    # regression (issue 17): the main job's tree.png was 9,520 x 960 px
    from PIL import Image

    from bankml.pipeline._plots import _plot_tree

    rng = np.random.default_rng(1)
    n = 4000
    X = pd.DataFrame({f"c{j}": rng.choice([f"v{i}" for i in range(12)], n) for j in range(3)})
    y = (rng.random(n) < 0.2 + 0.05 * (X["c0"] == "v1") + 0.05 * (X["c1"] == "v2")).astype(int)
    pipe = Pipeline([("tree", InfoGainTreeClassifier(max_depth=5, min_samples_leaf=5))]).fit(X, y)
    assert pipe[-1].get_n_leaves() > 100   # a wide multiway tree
    png = _plot_tree(pipe, tmp_path / "tree.png", "zh")
    w, h = Image.open(png).size
    assert w <= 2400 and h <= 1000
    for lang in ("zh", "en"):
        page = (tmp_path / f"tree_{lang}.html").read_text(encoding="utf-8")
        assert sorted(_nodes(page)) == list(range(pipe[-1].tree_.node_count))


@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="needs /usr/bin/chromium")
def test_page_renders_in_headless_chromium(fitted, tmp_path):
    X, y, model = fitted
    page = tmp_path / "tree.html"
    page.write_text(export_html(model, lang="en", customer=X.iloc[[0]]), encoding="utf-8")
    shot = tmp_path / "shot.png"
    subprocess.run([shutil.which("chromium") or "/usr/bin/chromium", "--headless", "--no-sandbox",
                    "--disable-gpu", "--disable-background-networking", "--window-size=1000,800",
                    f"--screenshot={shot}", page.as_uri()],
                   capture_output=True, timeout=120, check=False)
    from PIL import Image

    img = np.asarray(Image.open(shot).convert("RGB"))
    assert img.shape[:2] == (800, 1000)
    # the path highlight (#fff3c4) is painted: the page rendered its CSS, not a blank page
    assert (np.abs(img.astype(int) - [0xff, 0xf3, 0xc4]).sum(axis=2) < 12).sum() > 1000


def test_run_logs_both_html_trees_to_mlflow(tmp_path, monkeypatch):
    # issue 17.1: the HTML tree is written beside tree.png and logged with the reports folder
    from mlflow import MlflowClient
    from PIL import Image

    from bankml.pipeline import run

    monkeypatch.chdir(tmp_path)
    store = "sqlite:///" + str(tmp_path / "mlflow.db")
    cfg = {"data": {"synthetic": {"n": 1500, "seed": 4}},
           "segments": {"enabled": False}, "association": {"enabled": False},
           "outliers": {"enabled": False}, "output": {"progress": False, "plots": True},
           "mlflow": {"experiment": "t", "registered_model": "t-model"}}
    result = run(cfg, tracking_uri=store, verbose=False)
    logged = {a.path for a in MlflowClient(store).list_artifacts(result.run_id, "reports/plots")}
    assert {"reports/plots/tree.png", "reports/plots/tree_zh.html",
            "reports/plots/tree_en.html"} <= logged
    plots = tmp_path / "outputs" / "plots"
    assert Image.open(plots / "tree.png").size[0] <= 2400
    zh = (plots / "tree_zh.html").read_text(encoding="utf-8")
    assert "全部客户" in zh and ("类别: 理财客户" in zh or "类别: 非理财客户" in zh)
    # counted on the run's customers (the default tree is class-weighted)
    assert "客户数 1,500 · " in zh and "所给客户（不加权）" in zh
    assert sorted(_nodes(zh)) == list(range(result.model[-1].tree_.node_count))
