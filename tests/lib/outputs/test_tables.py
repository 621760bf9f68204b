"""Tests for miro.outputs.tables: Table 1, the scorecard against the paper, the statistics table."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from miro.evaluation.metrics import DEGENERATE, distinct_fovs
from miro.evaluation.stats import paired_tests
from miro.outputs.tables import (
    DBSCAN_TABLE_COLUMNS,
    METHODS,
    PUBLISHED_CONVENTION,
    SINGLE_SHOT_TITLE,
    STATS_COLUMNS,
    TABLE1_COLUMNS,
    TABLE1_METRICS,
    TABLE1_TITLE,
    dbscan_row,
    dbscan_table,
    flag_notes,
    format_pm,
    md_escape,
    read_paper_table1,
    scorecard,
    table1,
    write_dbscan_table,
    write_landscape_table,
    write_scorecard,
    write_stats,
    write_table1,
)

PAPER_DATASET = "Multiple Blinking - Scenario 8"
OTHER_DATASET = "toy_rings"


@pytest.fixture
def long_df() -> pd.DataFrame:
    """Two datasets (one reported by the paper), 6 FOVs, both methods, all metrics, in an
    order (DBSCAN first) that the table must not follow."""
    rng = np.random.default_rng(7)
    rows = [
        {"dataset": d, "fov": f, "method": m, "metric": k, "value": rng.uniform(0, 3)}
        for d in (OTHER_DATASET, PAPER_DATASET)
        for m in ("DBSCAN", "MIRO")
        for f in (4, 9, 15, 16, 23, 42)
        for k in TABLE1_COLUMNS
    ]
    return pd.DataFrame(rows)


@pytest.fixture
def paper_csv(repo_root):
    return repo_root / "resources" / "paper_table1.csv"


def _values(long_df, dataset, method, metric) -> list[float]:
    sel = (
        (long_df["dataset"] == dataset)
        & (long_df["method"] == method)
        & (long_df["metric"] == metric)
    )
    return list(long_df.loc[sel, "value"])


def test_table1_rows_and_columns_in_paper_order(long_df):
    t = table1(long_df)
    assert list(zip(t["dataset"], t["method"], strict=True)) == [
        (OTHER_DATASET, "MIRO"),
        (OTHER_DATASET, "DBSCAN"),
        (PAPER_DATASET, "MIRO"),
        (PAPER_DATASET, "DBSCAN"),
    ]
    expected = ["dataset", "method", "n", "n_duplicates", "duplicates", "n_degenerate"]
    expected.append("degenerate")
    for metric in (*TABLE1_METRICS, "RMSE_xy_published"):
        expected += [metric, f"{metric}_sd"]
    assert list(t.columns) == expected
    assert list(TABLE1_METRICS)[4] == "RMSE_xy"
    assert (t["n"] == 6).all() and (t[["n_duplicates", "n_degenerate"]] == 0).all().all()
    assert flag_notes(t) == ["No FOV flagged: no duplicated test FOV and no degenerate score."]


def _flagged(long_df: pd.DataFrame) -> pd.DataFrame:
    """``long_df`` with evaluate_fovs' flags: FOV 16 of the paper dataset copies FOV 4 (same
    values), DBSCAN is degenerate on FOVs 9 and 23 of it, MIRO on FOV 16 (the copy)."""
    paper = long_df["dataset"] == PAPER_DATASET
    copy, original = paper & (long_df["fov"] == 16), paper & (long_df["fov"] == 4)
    long_df = long_df.assign(degenerate="", duplicate_of=pd.array([pd.NA] * len(long_df), "Int64"))
    long_df.loc[copy, "value"] = long_df.loc[original, "value"].to_numpy()
    long_df.loc[copy, "duplicate_of"] = 4
    dbscan = paper & (long_df["method"] == "DBSCAN")
    long_df.loc[dbscan & (long_df["fov"] == 9), "degenerate"] = "no_predicted_cluster"
    long_df.loc[dbscan & (long_df["fov"] == 23), "degenerate"] = (
        "no_predicted_cluster;trivial_partitions"
    )
    long_df.loc[copy & (long_df["method"] == "MIRO"), "degenerate"] = "no_true_cluster"
    return long_df


def test_table1_counts_each_distinct_fov_once_and_counts_degenerate_fovs(long_df, tmp_path):
    """Probes 2 and 3 in Table 1: the copy is left out of n and the means (the paper dataset's
    n is 5), and degenerate FOVs are counted per method, their scores kept in the means."""
    flagged = _flagged(long_df)
    path = tmp_path / "metrics.csv"
    flagged.to_csv(path, index=False)  # as the tables rule reads it: "" comes back as NaN
    t = table1(pd.read_csv(path)).set_index(["dataset", "method"])
    miro, dbscan = t.loc[(PAPER_DATASET, "MIRO")], t.loc[(PAPER_DATASET, "DBSCAN")]
    assert miro["n"] == dbscan["n"] == 5 and t.loc[(OTHER_DATASET, "MIRO"), "n"] == 6
    assert miro["n_duplicates"] == dbscan["n_duplicates"] == 1
    assert dbscan["duplicates"] == "FOV 16 = FOV 4"
    assert miro["n_degenerate"] == 0  # its only degenerate FOV is the copy, left out
    assert dbscan["n_degenerate"] == 2
    assert dbscan["degenerate"] == "no_predicted_cluster: FOVs 9, 23; trivial_partitions: FOV 23"
    distinct = _values(flagged[flagged["fov"] != 16], PAPER_DATASET, "DBSCAN", "IoU")
    assert len(_values(flagged, PAPER_DATASET, "DBSCAN", "IoU")) == 6 and len(distinct) == 5
    assert dbscan["IoU"] == pytest.approx(np.mean(distinct))
    assert dbscan["IoU_sd"] == pytest.approx(np.std(distinct, ddof=1))
    assert len(distinct_fovs(flagged)) == len(flagged) - len(METHODS) * len(TABLE1_COLUMNS)
    assert distinct_fovs(long_df) is long_df  # a table without flags: every row


def test_flag_notes_say_how_many_fovs_were_flagged_and_why(long_df, tmp_path):
    t = table1(_flagged(long_df))
    notes = flag_notes(t)
    assert notes[0].startswith(f"{PAPER_DATASET}: 1 FOV(s) left out as exact duplicates")
    assert "(FOV 16 = FOV 4)" in notes[0]
    assert notes[1].startswith(f"{PAPER_DATASET}, DBSCAN: 2 of 5 FOVs degenerate")
    assert notes[2:] == [
        f"no_predicted_cluster: {DEGENERATE['no_predicted_cluster']}.",
        f"trivial_partitions: {DEGENERATE['trivial_partitions']}.",
    ]
    paths = [tmp_path / f"t.{ext}" for ext in ("csv", "md", "tex")]
    write_table1(t, *paths, preset="quick")
    md, tex = paths[1].read_text(), paths[2].read_text()
    assert md_escape(notes[1]) in md and "FOV 16 = FOV 4" in md
    assert "FOV 16 = FOV 4" in tex and r"ARI$^\dagger$ = 1 by convention" in tex
    write_stats(paired_tests(_flagged(long_df)), *paths[:2], notes=notes)
    assert md_escape(notes[0]) in paths[1].read_text()


def test_table1_mean_and_sample_sd_by_hand(long_df):
    t = table1(long_df).set_index(["dataset", "method"])
    for metric in ("JI_c", "RMSE_xy_published"):
        x = _values(long_df, PAPER_DATASET, "DBSCAN", metric)
        mean = sum(x) / len(x)
        sd = math.sqrt(sum((v - mean) ** 2 for v in x) / (len(x) - 1))
        assert t.loc[(PAPER_DATASET, "DBSCAN"), metric] == pytest.approx(mean)
        assert t.loc[(PAPER_DATASET, "DBSCAN"), f"{metric}_sd"] == pytest.approx(sd)


def test_table1_leaves_nan_values_out(long_df):
    sel = (long_df["metric"] == "RMSE_xy") & (long_df["fov"] == 4)
    long_df.loc[sel, "value"] = np.nan
    t = table1(long_df).set_index(["dataset", "method"])
    x = [v for v in _values(long_df, OTHER_DATASET, "MIRO", "RMSE_xy") if not math.isnan(v)]
    assert t.loc[(OTHER_DATASET, "MIRO"), "RMSE_xy"] == pytest.approx(sum(x) / len(x))
    assert t.loc[(OTHER_DATASET, "MIRO"), "n"] == 6


def test_table1_metrics_follow_the_paper_csv(paper_csv):
    header = pd.read_csv(paper_csv, nrows=0).columns
    assert [c for c in header[2:] if not c.endswith("_sd")] == list(TABLE1_METRICS)
    assert TABLE1_COLUMNS == (*TABLE1_METRICS, "RMSE_xy_published")


def test_format_pm_reproduces_the_papers_printing(paper_csv):
    paper = pd.read_csv(paper_csv, dtype=str)
    for rec in paper.to_dict("records"):
        for metric in TABLE1_METRICS:
            mean, sd = rec[metric], rec[f"{metric}_sd"]
            assert format_pm(float(mean), float(sd)) == f"{mean} ± {sd}"


def test_format_pm_degenerate_sd():
    assert format_pm(0.5, 0.0) == "0.50 ± 0.00"
    assert format_pm(float("nan"), float("nan")) == "–"
    assert format_pm(0.5, float("nan")).startswith("0.50 ± ")


@pytest.mark.parametrize(
    ("drop", "message"),
    [
        (lambda d: d[d["method"] != "DBSCAN"], "DBSCAN"),
        (lambda d: d[~((d["metric"] == "AMI") & (d["dataset"] == OTHER_DATASET))], "AMI"),
        (lambda d: d.drop(columns="fov"), "fov"),
        (lambda d: pd.concat([d, d.iloc[:1]]), "duplicated"),
        (lambda d: d.iloc[:0], "empty"),
    ],
)
def test_table1_rejects_incomplete_input(long_df, drop, message):
    with pytest.raises(ValueError, match=message):
        table1(drop(long_df))


def test_write_table1(long_df, tmp_path):
    t = table1(long_df.replace({OTHER_DATASET: "toy_rings & more"}))
    write_table1(t, tmp_path / "t1.csv", tmp_path / "t1.md", tmp_path / "t1.tex", preset="quick")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t1.csv", "t1.md", "t1.tex"]

    text = {"duplicates": str, "degenerate": str}
    back = pd.read_csv(tmp_path / "t1.csv", dtype=text).fillna({c: "" for c in text})
    pd.testing.assert_frame_equal(back, t, check_dtype=False)

    cell = format_pm(t.loc[2, "ARI_dagger"], t.loc[2, "ARI_dagger_sd"])
    md = (tmp_path / "t1.md").read_text()
    assert "preset: quick" in md and "ARI†" in md and cell in md
    assert "RMSE\\_x,y published (√nm)" in md and "sqrt(mean centroid distance)" in md
    assert md.count("| MIRO |") == 2 and md.count("| DBSCAN |") == 2

    tex = (tmp_path / "t1.tex").read_text()
    assert "preset: quick" in tex and cell.replace("±", r"$\pm$") in tex
    assert r"toy\_rings \& more" in tex and "toy_rings" not in tex
    assert r"ARI$^\dagger$" in tex and r"\begin{tabular}{ll" + "r" * 10 + "}" in tex
    assert tex.count(r"\\") == 1 + len(t)


def test_write_table1_title(long_df, tmp_path):
    paths = [tmp_path / f"t.{ext}" for ext in ("csv", "md", "tex")]
    write_table1(table1(long_df), *paths, preset="paper", title=SINGLE_SHOT_TITLE)
    assert SINGLE_SHOT_TITLE in paths[1].read_text()
    for path in paths[1:]:
        text = path.read_text()
        assert "Supplementary Table 5. Single-shot training" in text and "preset: paper" in text
        assert TABLE1_TITLE.split(",")[0] not in text


def test_scorecard_against_paper(long_df, paper_csv):
    card = scorecard(long_df, paper_csv)
    assert set(card["dataset"]) == {PAPER_DATASET}
    assert len(card) == len(METHODS) * len(TABLE1_METRICS)
    paper = read_paper_table1(paper_csv).set_index(["dataset", "method"])

    row = card[(card["method"] == "MIRO") & (card["metric"] == "IoU")].iloc[0]
    x = _values(long_df, PAPER_DATASET, "MIRO", "IoU")
    assert row["ours_mean"] == pytest.approx(np.mean(x))
    assert row["paper_mean"] == paper.loc[(PAPER_DATASET, "MIRO"), "IoU"]
    assert row["diff"] == pytest.approx(np.mean(x) - row["paper_mean"])
    assert row["diff_in_paper_sd"] == pytest.approx(row["diff"] / row["paper_sd"])

    rmse = card[(card["method"] == "DBSCAN") & (card["metric"] == "RMSE_xy")].iloc[0]
    published = _values(long_df, PAPER_DATASET, "DBSCAN", "RMSE_xy_published")
    assert rmse["ours_mean"] == pytest.approx(np.mean(published))
    assert rmse["ours_sd"] == pytest.approx(np.std(published, ddof=1))
    assert rmse["paper_mean"] == paper.loc[(PAPER_DATASET, "DBSCAN"), "RMSE_xy"]
    assert rmse["convention"] == PUBLISHED_CONVENTION
    assert (card.loc[card["metric"] != "RMSE_xy", "convention"] != PUBLISHED_CONVENTION).all()


def test_scorecard_maps_dataset_names(long_df, paper_csv):
    card = scorecard(long_df, paper_csv, paper_names={OTHER_DATASET: "Rings"})
    assert list(card["dataset"].unique()) == [OTHER_DATASET, PAPER_DATASET]
    rings = card[(card["dataset"] == OTHER_DATASET) & (card["method"] == "MIRO")]
    paper = read_paper_table1(paper_csv).set_index(["dataset", "method"])
    assert list(rings["paper_mean"]) == list(paper.loc[("Rings", "MIRO"), list(TABLE1_METRICS)])


def test_scorecard_skips_datasets_without_a_paper_name(long_df, paper_csv):
    """The user's own data (source local: paper_name None) has no scorecard row, even when it
    is named like a dataset of the paper."""
    own = long_df.replace({"dataset": {OTHER_DATASET: "Rings"}})
    names = {"Rings": None, PAPER_DATASET: PAPER_DATASET}
    card = scorecard(own, paper_csv, paper_names=names)
    assert set(card["dataset"]) == {PAPER_DATASET}
    assert set(scorecard(own, paper_csv)["dataset"]) == {"Rings", PAPER_DATASET}


def test_scorecard_needs_a_paper_dataset(long_df, paper_csv, tmp_path):
    with pytest.raises(ValueError, match="no dataset"):
        scorecard(long_df[long_df["dataset"] == OTHER_DATASET], paper_csv)
    bad = tmp_path / "paper.csv"
    pd.read_csv(paper_csv).drop(columns="IoU_sd").to_csv(bad, index=False)
    with pytest.raises(ValueError, match="IoU_sd"):
        scorecard(long_df, bad)


def test_write_scorecard(long_df, paper_csv, tmp_path):
    card = scorecard(long_df, paper_csv)
    write_scorecard(card, tmp_path / "s.csv", tmp_path / "s.md", preset="paper")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "s.csv"), card)
    md = (tmp_path / "s.md").read_text()
    assert "preset: paper" in md and "√nm, published" in md
    assert format_pm(card.loc[0, "paper_mean"], card.loc[0, "paper_sd"]) in md


def test_write_stats(tmp_path):
    stats = pd.DataFrame(
        [
            [PAPER_DATASET, "ARI_dagger", 47, 0.84, 0.04, 0.82, 0.05, 956.0, 5.9e-6, 0.75, "****"],
            [PAPER_DATASET, "AMI", 47, 0.77, 0.05, 0.76, 0.04, 600.0, 0.2, 0.1, ""],
        ],
        columns=STATS_COLUMNS,
    )
    write_stats(stats, tmp_path / "st.csv", tmp_path / "st.md", preset="quick")
    back = pd.read_csv(tmp_path / "st.csv", keep_default_na=False)
    assert back.loc[0, "p"] == stats.loc[0, "p"]
    md = (tmp_path / "st.md").read_text()
    assert "5.9e-06" in md and "2.0e-01" in md and "| ns |" in md and "preset: quick" in md
    assert r"| \*\*\*\* |" in md
    with pytest.raises(ValueError, match="stars"):
        write_stats(stats.drop(columns="stars"), tmp_path / "x.csv")


def test_write_stats_takes_paired_tests_output(long_df, tmp_path):
    stats = paired_tests(long_df)
    write_stats(stats, tmp_path / "st.csv", tmp_path / "st.md")
    md = (tmp_path / "st.md").read_text()
    assert md.count("\n| ") == len(stats) + 1
    assert f"{stats.loc[0, 'p']:.1e}" in md


# ---------------------------------------------------------------- DBSCAN parameters (Supp. T1-2)
def test_dbscan_table_sets_ours_next_to_the_authors(tmp_path):
    trials = pd.DataFrame({"number": [0, 1, 2], "state": ["COMPLETE", "COMPLETE", "FAIL"]})
    published = pd.DataFrame(columns=["number", "value", "eps", "min_samples", "state"])
    authors = {"eps": 40.62, "min_samples": 4, "source": "published (metadata.json)"}
    rows = [
        dbscan_row(
            "GT8", "DBSCAN", {"eps": 50, "min_samples": 4, "source": "bench"}, published, None
        ),
        dbscan_row(
            "GT8", "MIRO", {"eps": 37.123, "min_samples": 5, "source": "optuna"}, trials, authors
        ),
    ]
    table = dbscan_table(rows)
    assert list(table.columns) == list(DBSCAN_TABLE_COLUMNS)
    assert table["n_trials"].tolist() == [0, 2]  # completed trials only
    assert table["authors_min_samples"].isna().tolist() == [True, False]
    csv, md = tmp_path / "dbscan.csv", tmp_path / "dbscan.md"
    write_dbscan_table(table, csv, md, preset="published")
    back = pd.read_csv(csv)
    assert back["eps_nm"].tolist() == [50.0, 37.123] and back["authors_eps_nm"].iloc[1] == 40.62
    text = md.read_text()
    assert "Supplementary Tables 1-2" in text and "preset: published" in text
    assert "| GT8 | MIRO + DBSCAN | 37.12 | 5 | optuna | 2 | 40.62 | 4 |" in text
    assert "| GT8 | DBSCAN | 50.00 | 4 | bench | – | – | – | – |" in text
    with pytest.raises(ValueError, match=r"GT8 MIRO: DBSCAN parameters lack \['source'\]"):
        dbscan_row("GT8", "MIRO", {"eps": 1, "min_samples": 2}, trials, None)


def test_write_landscape_table(tmp_path):
    rows = [
        {
            "dataset": "S5",
            "method": method,
            "metric": metric,
            "best": 0.9,
            "best_eps": 40.0,
            "best_min_samples": 10,
            "chosen": chosen,
            "chosen_eps": 35.0,
            "chosen_min_samples": 34,
            "chosen_near_best": chosen >= 0.85,
            "near_best_fraction": 0.25,
            "near_best_area": 3.5,
            "n_cells": 192,
            "n_fovs": 5,
        }
        for method, chosen in (("DBSCAN", 0.6), ("MIRO", 0.88))
        for metric in ("ARI_dagger", "JI_c")
    ]
    table = pd.DataFrame(rows)
    write_landscape_table(table, tmp_path / "l.csv", tmp_path / "l.md", preset="default")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "l.csv"), table)
    md = (tmp_path / "l.md").read_text()
    assert "Supplementary Fig. 1" in md and "(preset: default)" in md
    assert "| S5 | MIRO + DBSCAN | JI\\_c | 0.900 | 40.0, 10 | 0.880 (near best) |" in md
    assert "| S5 | DBSCAN | ARI† | 0.900 | 40.0, 10 | 0.600 | 35.0, 34 | 25% of 192 | 3.50 |" in md
    assert "5 test FOVs" in md
    with pytest.raises(ValueError, match="near_best_area"):
        write_landscape_table(table.drop(columns="near_best_area"), tmp_path / "x", tmp_path / "y")
