from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from miro.data.calibrate import calibrate, read_labelled_folder
from miro.data.readers import LocalizationFileError
from miro.data.simulate import ClusterGroup, simulate_dataset, simulate_fov, write_fov_csv


def write_folder(fovs: list[pd.DataFrame], folder: Path) -> Path:
    folder.mkdir()
    for i, df in enumerate(fovs, 1):
        write_fov_csv(df, folder / f"fov_{i}.csv")
    return folder


def close(value: float, target: float, tolerance: float) -> bool:
    return abs(value / target - 1) <= tolerance


# ----------------------------------------------------------------------------- recovery
def test_recovers_known_settings_from_a_simulated_folder(tmp_path):
    """Simulate with known settings, write the FOVs, calibrate on the folder, compare."""
    known = {
        "groups": [{"n_clusters": 15, "molecules": 10, "sd": 30.0}],
        "clustered_fraction": 0.4,
        "fov_size": 3000.0,
    }
    folder = write_folder(simulate_dataset("benchmark", 20, 7, **known), tmp_path / "mine")
    c = calibrate(folder)
    assert c.n_fovs == 20 and c.source == str(folder)
    assert not c.blinking and c.blinks_per_molecule is None and not c.background_gradient
    [group] = c.groups
    assert (group.n_clusters, group.molecules, group.sd_minor) == (15, 10, None)
    assert close(group.sd, 30.0, 0.05)
    assert abs(c.clustered_fraction - 0.4) < 0.01
    assert close(c.fov_size, 3000.0, 0.02)


def test_recovers_two_groups_and_an_elongated_one():
    groups = [ClusterGroup(10, 8, 20.0), ClusterGroup(10, 40, 60.0, 20.0)]
    fovs = simulate_dataset("benchmark", 30, 3, groups=groups, clustered_fraction=0.5)
    small, large = calibrate(fovs).groups
    assert (small.n_clusters, small.molecules, small.sd_minor) == (10, 8, None)
    assert close(small.sd, 20.0, 0.08)
    assert (large.n_clusters, large.molecules) == (10, 40)
    assert close(large.sd, 60.0, 0.08) and close(large.sd_minor, 20.0, 0.08)


def test_recovers_blinking():
    known = {"groups": [{"n_clusters": 30, "molecules": 12, "sd": 25.0}], "blinking": True}
    known |= {"blinks_per_molecule": 3.0, "localization_precision": 10.0}
    c = calibrate(simulate_dataset("benchmark", 20, 5, **known))
    assert c.blinking
    assert close(c.blinks_per_molecule, 3.0, 0.1) and close(c.localization_precision, 10.0, 0.1)
    [group] = c.groups
    assert group.n_clusters == 30 and abs(group.molecules - 12) <= 1
    assert close(group.sd, 25.0, 0.08) and group.sd_minor is None
    assert abs(c.clustered_fraction - 0.5) < 0.02


def test_background_gradient_is_detected():
    assert calibrate(simulate_dataset("benchmark", 10, 1, scenario=10)).background_gradient
    assert not calibrate(simulate_dataset("benchmark", 10, 1, scenario=2)).background_gradient


def test_calibrated_settings_drive_the_simulator_and_are_reproducible():
    fovs = simulate_dataset("benchmark", 10, 2, scenario=3)
    c = calibrate(fovs, seed=4)
    assert c == calibrate(fovs, seed=4)
    assert c.groups[0].sd < 18  # Scenario 3's tight clusters (15 nm)
    again = simulate_dataset("benchmark", 10, 2, **c.params())
    assert abs(np.mean([len(d) for d in again]) / np.mean([len(d) for d in fovs]) - 1) < 0.02
    table = c.table("S3")
    assert set(table["parameter"]) >= {"n_clusters", "molecules", "sd", "clustered_fraction"}
    assert table["source"].str.contains("calibrated on the given FOVs").all()


# ----------------------------------------------------------------------------- bad input
def test_folder_without_labels_names_the_file(tmp_path):
    folder = tmp_path / "user"
    folder.mkdir()
    pd.DataFrame({"x": [1.0, 2, 3], "y": [1.0, 2, 3]}).to_csv(folder / "a.csv", index=False)
    with pytest.raises(LocalizationFileError, match=r"a\.csv.*index"):
        calibrate(folder)
    with pytest.raises(LocalizationFileError, match=r"a\.csv: no cluster labels"):
        read_labelled_folder(folder, fmt="generic")


def test_empty_file_and_empty_folder(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=f"{empty}: no localization files"):
        calibrate(empty)
    (empty / "b.csv").write_text("")
    with pytest.raises(LocalizationFileError, match=r"b\.csv: file is empty"):
        calibrate(empty)
    with pytest.raises(ValueError, match="not a folder"):
        calibrate(tmp_path / "missing")


def test_no_clustered_localizations_or_negative_labels():
    background = simulate_fov("benchmark", 0).assign(index=0)
    with pytest.raises(ValueError, match="no clustered localization"):
        calibrate([background])
    with pytest.raises(ValueError, match="FOV 0: negative cluster labels"):
        calibrate([background.assign(index=-1)])
    with pytest.raises(ValueError, match="no FOVs"):
        calibrate([])


# ----------------------------------------------------------------------------- real data
@pytest.mark.benchmark_data
def test_real_scenario8_folders(benchmark_dir):
    gt = calibrate(benchmark_dir / "Ground Truth - Scenario 8")
    assert [(g.n_clusters, g.molecules) for g in gt.groups] == [(10, 5), (10, 15)]
    assert all(close(g.sd, 25.0, 0.05) for g in gt.groups) and not gt.blinking
    blinking = calibrate(benchmark_dir / "Multiple Blinking - Scenario 8")
    assert blinking.blinking and len(blinking.groups) == 2
    assert close(blinking.blinks_per_molecule, 4.0, 0.15)
    assert close(blinking.localization_precision, 13.5, 0.15)
