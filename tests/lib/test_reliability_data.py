"""Data-error probes replayed end to end through the rule scripts (metrics, cluster, tables) on
real small files: stale per-FOV results, a duplicated FOV, a degenerate FOV (docs/flags.md)."""

from __future__ import annotations

import runpy
import shutil
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from miro.data.fovs import write_fov_dir, write_per_fov
from miro.data.split import write_split
from miro.evaluation.dbscan import dbscan_labels

SCRIPTS = Path(__file__).resolve().parents[2] / "workflow" / "scripts"
METHODS = ["MIRO", "DBSCAN"]


def run_script(name: str, **snakemake) -> None:
    """Run a rule script as Snakemake does: with a global ``snakemake`` object."""
    runpy.run_path(str(SCRIPTS / name), init_globals={"snakemake": SimpleNamespace(**snakemake)})


def fov_frame(seed: int, n: int = 800) -> pd.DataFrame:
    """``n`` localizations: 3 clusters of 100 in 2 µm of background."""
    rng = np.random.default_rng(seed)
    centres = rng.uniform(300, 1700, (3, 2))
    clustered = np.concatenate([c + rng.normal(0, 12, (100, 2)) for c in centres])
    coords = np.vstack([rng.uniform(0, 2000, (n - 300, 2)), clustered])
    index = np.r_[np.zeros(n - 300, dtype=int), np.repeat([1, 2, 3], 100)]
    return pd.DataFrame({"x": coords[:, 0], "y": coords[:, 1], "index": index})


@pytest.fixture
def dataset(tmp_path: Path) -> dict[str, Path]:
    """FOVs 1, 2, 5 (800 localizations), 3 = a copy of FOV 1's file, 4 = 3 clustered points;
    FOV 5 trains. Labels: MIRO = ground truth, DBSCAN = real DBSCAN (nothing found in FOV 4)."""
    fovs = tmp_path / "data" / "fovs"
    fovs.mkdir(parents=True)
    frames = {f: fov_frame(f) for f in (1, 2, 5)}
    frames[4] = pd.DataFrame({"x": [100.0, 110, 100], "y": [100.0, 100, 112], "index": 1})
    for f, frame in frames.items():
        frame.to_csv(fovs / f"fov_{f}.csv", index=False)
    shutil.copy(fovs / "fov_1.csv", fovs / "fov_3.csv")
    frames[3] = frames[1]
    write_fov_dir({f: fovs / f"fov_{f}.csv" for f in frames}, fovs)
    labels = tmp_path / "labels"
    labels.mkdir()
    write_per_fov(
        {f: fr["index"].to_numpy() for f, fr in frames.items()}, ["label"], labels / "MIRO.csv.gz"
    )
    dbscan = {f: dbscan_labels(fr[["x", "y"]].to_numpy(), 30.0, 10) for f, fr in frames.items()}
    write_per_fov(dbscan, ["label"], labels / "DBSCAN.csv.gz")
    return {
        "root": tmp_path,
        "fovs": fovs,
        "split": write_split({"train": [5], "test": [1, 2, 3, 4]}, tmp_path / "split.json"),
        "labels": labels,
    }


def run_metrics(dataset: dict[str, Path], labels: list[Path]) -> Path:
    out = dataset["root"] / "metrics.csv"
    run_script(
        "metrics.py",
        input=SimpleNamespace(
            fovs=str(dataset["fovs"]), split=str(dataset["split"]), labels=labels
        ),
        output=[str(out)],
        log=[str(dataset["root"] / "metrics.log")],
        params=SimpleNamespace(methods=METHODS, truth="index"),
        wildcards=SimpleNamespace(ds="toy", run="miro"),
    )
    return out


def test_probe1_stale_labels_name_both_files_the_fov_and_the_remedy(dataset):
    """FOV 2 has 800 localizations but the DBSCAN labels file only 400 rows for it."""
    stale = dataset["labels"] / "DBSCAN.csv.gz"
    table = pd.read_csv(stale)
    table = table.drop(table.index[table["fov"] == 2][400:])
    table.to_csv(stale, index=False, compression="gzip")
    labels = [dataset["labels"] / f"{m}.csv.gz" for m in METHODS]
    with pytest.raises(ValueError) as error:
        run_metrics(dataset, labels)
    message = str(error.value)
    assert f"{stale}: FOV 2 has 400 rows" in message
    assert f"{dataset['fovs'] / 'fov_2.csv'} has 800 localizations" in message
    assert "the labels are stale" in message and "re-run clustering (rule cluster)" in message
    assert message in (dataset["root"] / "metrics.log").read_text()


def test_probe1_stale_squeezed_coordinates_stop_clustering(dataset, tmp_path):
    squeezed = tmp_path / "squeezed.csv.gz"
    coords = {f: fov_frame(f)[["x", "y"]].to_numpy() for f in (1, 2, 3, 5)}
    coords[4] = np.zeros((2, 2))  # FOV 4 has 3 localizations
    write_per_fov(coords, ["x", "y"], squeezed)
    params = tmp_path / "params.json"
    params.write_text('{"eps": 30.0, "min_samples": 10}')
    with pytest.raises(ValueError, match=r"FOV 4 has 2 rows but its localization file .*fov_4.csv"):
        run_script(
            "cluster.py",
            input=SimpleNamespace(
                fovs=str(dataset["fovs"]), params=str(params), coords=[str(squeezed)]
            ),
            output=[str(tmp_path / "MIRO.csv.gz")],
            log=[str(tmp_path / "cluster.log")],
            wildcards=SimpleNamespace(method="MIRO"),
        )
    assert "re-run squeezing (rule transform)" in (tmp_path / "cluster.log").read_text()


def test_probes2_and_3_duplicate_and_degenerate_fovs_are_flagged_and_counted_once(
    dataset, repo_root
):
    long_path = run_metrics(dataset, [dataset["labels"] / f"{m}.csv.gz" for m in METHODS])
    log = (dataset["root"] / "metrics.log").read_text()
    assert "WARNING" in log and "FOV 3 (" in log and "has exactly the same localizations as" in log
    assert "fov_3.csv" in log and "fov_1.csv" in log

    long_df = pd.read_csv(long_path)
    assert list(long_df.columns[:5]) == ["dataset", "fov", "method", "metric", "value"]
    per_fov = long_df.drop_duplicates(["fov", "method"]).set_index(["fov", "method"])
    assert per_fov["duplicate_of"].dropna().to_dict() == {(3, "MIRO"): 1, (3, "DBSCAN"): 1}
    ari = long_df[(long_df["metric"] == "ARI")].set_index(["fov", "method"])["value"]
    assert ari[4, "DBSCAN"] == 1.0  # the reference's value for two one-label partitions ...
    assert "trivial_partitions" in per_fov.loc[(4, "DBSCAN"), "degenerate"]  # ... flagged
    assert pd.isna(per_fov.loc[(1, "DBSCAN"), "degenerate"])  # "" in the CSV: not flagged

    tables = dataset["root"] / "tables"
    names = ["table1_csv", "table1_md", "table1_tex", "stats", "stats_md"]
    out = {name: str(tables / f"{name}.txt") for name in names}
    run_script(
        "tables.py",
        input=[str(long_path)],
        output=SimpleNamespace(**out),
        log=[str(dataset["root"] / "tables.log")],
        params=SimpleNamespace(preset="probe"),
    )
    table = pd.read_csv(out["table1_csv"]).set_index("method")
    assert (table["n"] == 3).all() and (table["n_duplicates"] == 1).all()
    assert table.loc["DBSCAN", "n_degenerate"] == 1 and table.loc["MIRO", "n_degenerate"] == 1
    assert "FOV 4" in table.loc["DBSCAN", "degenerate"]
    distinct = long_df[(long_df["fov"] != 3) & (long_df["method"] == "DBSCAN")]
    assert table.loc["DBSCAN", "ARI"] == pytest.approx(
        distinct.loc[distinct["metric"] == "ARI", "value"].mean()
    )
    stats = pd.read_csv(out["stats"])
    assert (stats["n"] <= 3).all()
    for md in (out["table1_md"], out["stats_md"]):
        text = Path(md).read_text()
        assert "left out as exact duplicates of another test FOV (FOV 3 = FOV 1)" in text
        assert "DBSCAN: 1 of 3 FOVs degenerate" in text
