"""Paired Wilcoxon tests, Cohen's d and stars, with hand-checkable cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from miro.evaluation.stats import cohens_d, paired_test, paired_tests, stars


@pytest.mark.parametrize("n", [10, 47])
def test_all_differences_positive_gives_maximal_w(n):
    baseline = np.linspace(0.1, 0.6, n)
    miro = baseline + np.linspace(0.01, 0.2, n)  # distinct positive differences
    result = paired_test(miro, baseline, higher_is_better=True)
    assert result["n"] == n
    assert result["W"] == n * (n + 1) / 2  # 1128 for n = 47
    assert result["p_method"] == "exact"
    assert result["p"] == pytest.approx(0.5**n)  # only one sign pattern is as extreme
    assert result["stars"] == ("***" if n == 10 else "****")  # 1/1024 > 1e-4


def test_lower_is_better_uses_the_less_alternative():
    baseline = np.linspace(1.0, 2.0, 12)
    miro = baseline - np.linspace(0.05, 0.6, 12)  # MIRO lowers the error everywhere
    result = paired_test(miro, baseline, higher_is_better=False)
    assert result["W"] == 0  # no positive difference
    assert result["p"] == pytest.approx(0.5**12)
    assert result["d"] > 0  # positive d = MIRO better
    worse = paired_test(miro, baseline, higher_is_better=True)
    assert worse["p"] == pytest.approx(1.0)
    assert worse["stars"] == "ns"


def test_small_exact_case_by_hand():
    # differences +1, +2, -3, +4: W = 1 + 2 + 4 = 7. Under H0 the 16 sign patterns are equally
    # likely; rank subsets with sum >= 7: {3,4} {1,2,4} {1,3,4} {2,3,4} {1,2,3,4} -> p = 5/16.
    baseline = np.zeros(4)
    miro = np.array([1.0, 2.0, -3.0, 4.0])
    result = paired_test(miro, baseline, higher_is_better=True)
    assert result["W"] == 7
    assert result["p"] == pytest.approx(5 / 16)


def test_ties_and_zeros_and_nans():
    baseline = np.zeros(8)
    miro = np.array([0.0, 1.0, 1.0, 2.0, 3.0, -1.0, np.nan, 4.0])
    result = paired_test(miro, baseline, higher_is_better=True)
    assert result["n"] == 7  # NaN pair dropped
    assert result["p_method"] == "asymptotic"  # tied |differences|
    same = paired_test(baseline, baseline, higher_is_better=True)
    assert (same["n"], same["W"], same["p"], same["stars"]) == (8, 0.0, 1.0, "ns")
    empty = paired_test(np.full(3, np.nan), np.zeros(3), higher_is_better=True)
    assert empty["n"] == 0 and np.isnan(empty["p"]) and empty["stars"] == "n/a"
    with pytest.raises(ValueError, match="paired"):
        paired_test(np.zeros(3), np.zeros(4), higher_is_better=True)


def test_cohens_d_pooled_sd():
    miro, baseline = np.array([1.0, 2.0, 3.0]), np.array([0.0, 1.0, 2.0])  # both sd 1
    assert cohens_d(miro, baseline) == pytest.approx(1.0)
    assert cohens_d(miro, baseline, higher_is_better=False) == pytest.approx(-1.0)
    wide = np.array([0.0, 2.0, 4.0])  # sd 2: pooled sqrt((1 + 4) / 2)
    assert cohens_d(wide + 1, np.array([0.0, 1.0, 2.0])) == pytest.approx(2 / np.sqrt(2.5))


@pytest.mark.parametrize(
    ("p", "expected"),
    [(0.2, "ns"), (0.05, "*"), (0.0500001, "ns"), (0.01, "**"), (1e-3, "***"), (1e-4, "****")],
)
def test_stars(p, expected):
    assert stars(p) == expected


def test_paired_tests_pairs_by_fov():
    rng = np.random.default_rng(0)
    rows = []
    for dataset in ("S8", "S5"):
        for fov in range(1, 21):
            base = rng.uniform(0.4, 0.6)
            for method, shift in (("MIRO", 0.05), ("DBSCAN", 0.0)):
                rows.append((dataset, fov, method, "ARI", base + shift + rng.normal(0, 0.01)))
                rows.append((dataset, fov, method, "RMSRE_N", 1 - base - shift))
    long = pd.DataFrame(rows, columns=["dataset", "fov", "method", "metric", "value"])
    long = long.drop(long.index[(long["fov"] == 3) & (long["method"] == "MIRO")])  # unpaired
    table = paired_tests(long.sample(frac=1, random_state=1))
    assert len(table) == 4
    for _, group in table.groupby("dataset"):
        assert list(group["metric"]) == ["RMSRE_N", "ARI"]  # Table 1 order
    assert (table["n"] == 19).all()
    s8 = long[(long["dataset"] == "S8") & (long["metric"] == "ARI") & (long["fov"] != 3)]
    s8 = s8.pivot(index="fov", columns="method", values="value")
    expected = paired_test(s8["MIRO"].to_numpy(), s8["DBSCAN"].to_numpy(), True)
    got = table[(table["dataset"] == "S8") & (table["metric"] == "ARI")].iloc[0]
    assert got["W"] == expected["W"] and got["p"] == pytest.approx(expected["p"])
    assert got["MIRO_mean"] == pytest.approx(s8["MIRO"].mean())
    assert got["DBSCAN_sd"] == pytest.approx(s8["DBSCAN"].std(ddof=1))
    rmsre = table[table["metric"] == "RMSRE_N"]
    assert (rmsre["W"] == 0).all() and (rmsre["stars"] == "****").all()  # lower is better
    with pytest.raises(ValueError, match="'UNET'"):
        paired_tests(long, method="UNET")


def test_paired_tests_keeps_a_row_for_metrics_without_pairs():
    rows = [
        {"dataset": "d", "fov": f, "method": m, "metric": metric, "value": value}
        for f in range(4)
        for m in ("MIRO", "DBSCAN")
        for metric, value in (("ARI", 0.5 + 0.1 * f * (m == "MIRO")), ("RMSRE_N", np.nan))
    ]
    table = paired_tests(pd.DataFrame(rows))
    rmsre = table.set_index("metric").loc["RMSRE_N"]
    assert rmsre["n"] == 0 and rmsre["stars"] == "n/a"
    assert table.set_index("metric").loc["ARI", "n"] == 4
