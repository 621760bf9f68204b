"""The authors' Scenario 8 weights and parameters reproduce the paper's Table 1 rows (issue #15).

Real data (CI has ``../shared/benchmark`` and ``../shared/weights``): the 47 test FOVs of a
folder (its three training FOVs, ``resources/benchmark_settings.csv``, left out) are squeezed
by the imported model, clustered with the authors' ``MIRO_DBSCAN_params`` and, for plain DBSCAN,
with the benchmark's published parameters, and scored as the workflow scores them.

Tolerance: the paper prints the means with two decimals, so a printed 0.72 stands for a value in
[0.715, 0.725]; we allow 0.01 around the printed value (the rounding half-width plus the same
again for float32 inference on another CPU and library versions), far below the paper's standard
deviations (0.04-0.11) and the MIRO - DBSCAN differences the test also asserts.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from miro.applications.published import load_published
from miro.config import benchmark_row
from miro.core.squeeze import squeeze_many
from miro.data.benchmark import list_fovs
from miro.data.published_files import checkpoint_path, read_authors_dbscan
from miro.evaluation.dbscan import dbscan_labels
from miro.evaluation.metrics import evaluate_fov

TOLERANCE = 0.01
METRICS = ("ARI_dagger", "IoU", "JI_c")
FOLDERS = ["Ground Truth - Scenario 8", "Multiple Blinking - Scenario 8"]


def _paper(repo_root, folder: str) -> pd.DataFrame:
    table = pd.read_csv(repo_root / "resources" / "paper_table1.csv")
    return table[table["dataset"] == folder].set_index("method")


@pytest.mark.parametrize("folder", FOLDERS)
def test_authors_weights_and_parameters_give_the_papers_row(
    folder, benchmark_dir, weights_dir, repo_root
):
    torch.manual_seed(0)
    settings = benchmark_row(folder)
    train = {int(n) for n in str(settings["train_fovs"]).split()}
    files = {n: p for n, p in list_fovs(benchmark_dir / folder).items() if n not in train}
    fovs = [pd.read_csv(path) for path in files.values()]
    assert len(fovs) == 47
    model = load_published(
        weights_dir / checkpoint_path(folder), steps=int(settings["recurrent_steps"])
    )
    coords = [f[["x", "y"]].to_numpy(float) for f in fovs]
    squeezed = squeeze_many(
        model, coords, float(settings["connectivity_radius_normalized"]), device="cpu"
    )
    miro = read_authors_dbscan(weights_dir / "benchmark" / "metadata.json", folder)
    dbscan = {
        "eps": float(settings["baseline_dbscan_eps_nm"]),
        "min_samples": int(settings["baseline_dbscan_min_samples"]),
    }
    rows = []
    for frame, xy, result in zip(fovs, coords, squeezed, strict=True):
        labels = {
            "MIRO": dbscan_labels(result.squeezed_nm, miro["eps"], miro["min_samples"]),
            "DBSCAN": dbscan_labels(xy, dbscan["eps"], dbscan["min_samples"]),
        }
        rows.append(evaluate_fov(xy, frame["index"].to_numpy(), labels, METRICS))
    means = pd.concat(rows).groupby("method")[list(METRICS)].mean()
    paper = _paper(repo_root, folder)
    for metric in METRICS:
        for method in ("MIRO", "DBSCAN"):
            ours, printed = means.loc[method, metric], paper.loc[method, metric]
            assert abs(ours - printed) <= TOLERANCE, (folder, method, metric, ours, printed)
    for metric in ("IoU", "JI_c"):  # MIRO ahead, as in Table 1
        assert means.loc["MIRO", metric] > means.loc["DBSCAN", metric] + 0.02
    assert np.isfinite(means.to_numpy()).all()
