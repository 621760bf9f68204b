from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import yaml
from localization_files import (
    FRAMES,
    PIXEL,
    RNG_XY,
    THUNDERSTORM_HEADER,
    format_file,
    thunderstorm_file,
)

from miro.data.readers import read_localizations
from miro.data.writers import write_localizations, write_picasso_hdf5, write_thunderstorm_csv

LABELS = np.array([0, 1, 1, 2, 0, 2])


def labelled(path: Path) -> pd.DataFrame:
    """What apply writes: the table read from ``path`` plus a cluster label column."""
    table = read_localizations(path)
    out = table.copy()
    out["miro_cluster"] = LABELS[: len(out)]
    return out


def test_thunderstorm_csv_keeps_every_column_and_reads_back(tmp_path):
    table = labelled(thunderstorm_file(tmp_path, n=6))
    path = write_thunderstorm_csv(table, tmp_path / "out.csv", "miro_cluster")
    header = path.read_text().splitlines()[0]
    assert header.startswith("id,frame,x [nm],y [nm],uncertainty [nm],sigma [nm],intensity")
    assert header.endswith(",cluster")
    back = read_localizations(path)
    assert back.attrs["source"]["format"] == "thunderstorm"
    np.testing.assert_array_equal(back[["x", "y"]], table[["x", "y"]])
    np.testing.assert_array_equal(back["frame"], table["frame"])  # both number from 1
    np.testing.assert_array_equal(back["uncertainty"], table["uncertainty"])
    np.testing.assert_array_equal(back["cluster"], LABELS)
    extras = THUNDERSTORM_HEADER.replace('"', "").split(",")
    for column in ("id", "sigma [nm]", "intensity [photon]", "offset [photon]", "bkgstd [photon]"):
        assert column in extras
        np.testing.assert_array_equal(back[column], table[column])


@pytest.mark.parametrize("kind", ["picasso", "rapidstorm", "decode", "nstorm"])
def test_thunderstorm_csv_from_other_tools_numbers_frames_from_one(tmp_path, kind):
    table = labelled(format_file(tmp_path, kind))
    back = read_localizations(
        write_localizations(table, tmp_path / "o.csv", "thunderstorm", "miro_cluster")[0]
    )
    np.testing.assert_allclose(back[["x", "y"]].to_numpy(), RNG_XY, rtol=1e-6)
    assert back["frame"].min() == 1  # FRAMES start at 1 in ThunderSTORM numbering
    np.testing.assert_array_equal(back["frame"], FRAMES)
    np.testing.assert_array_equal(back["cluster"], LABELS)


def test_picasso_round_trip_keeps_coordinates_group_and_metadata(tmp_path):
    source = format_file(tmp_path, "picasso", "in.hdf5")
    table = labelled(source)
    hdf5, sidecar = write_picasso_hdf5(table, tmp_path / "out.hdf5", "miro_cluster")
    assert sidecar == tmp_path / "out.yaml"
    with h5py.File(hdf5) as f:
        locs = f["locs"][()]
    assert locs.dtype["group"] == np.int32 and locs.dtype["frame"] == np.uint32
    np.testing.assert_array_equal(locs["group"], LABELS - 1)  # Picasso groups from 0, -1 = noise
    with h5py.File(source) as f:
        original = f["locs"][()]
    for name in original.dtype.names:  # every Picasso field comes back unchanged
        np.testing.assert_array_equal(locs[name], original[name])
    info = list(yaml.safe_load_all(sidecar.read_text()))
    assert info[:3] == list(yaml.safe_load_all(source.with_suffix(".yaml").read_text()))
    assert info[3]["Pixelsize"] == PIXEL and "non-clustered" in info[3]["group"]
    back = read_localizations(hdf5)
    np.testing.assert_allclose(back[["x", "y"]].to_numpy(), table[["x", "y"]].to_numpy())
    np.testing.assert_array_equal(back["frame"], table["frame"])
    np.testing.assert_array_equal(back["group"] + 1, LABELS)
    again = write_picasso_hdf5(labelled(hdf5), tmp_path / "again.hdf5", "miro_cluster")[1]
    assert len(list(yaml.safe_load_all(again.read_text()))) == 4  # our document is replaced


def test_picasso_from_a_thunderstorm_csv(tmp_path):
    table = labelled(thunderstorm_file(tmp_path, n=6))
    with pytest.raises(ValueError, match="give the pixel size in nm"):
        write_picasso_hdf5(table, tmp_path / "out.hdf5", "miro_cluster")
    assert not (tmp_path / "out.hdf5").exists()
    hdf5, sidecar = write_localizations(
        table, tmp_path / "out.hdf5", "picasso", "miro_cluster", 100.0
    )
    info = list(yaml.safe_load_all(sidecar.read_text()))
    assert info[0]["Pixelsize"] == 100.0 and info[0]["Frames"] == table["frame"].max()
    assert info[0]["Width"] >= table["x"].max() / 100
    with h5py.File(hdf5) as f:
        locs = f["locs"][()]
    np.testing.assert_allclose(locs["lpx"], table["uncertainty"] / 100, rtol=1e-6)
    assert "sigma [nm]" in locs.dtype.names and "id" in locs.dtype.names
    back = read_localizations(hdf5)
    np.testing.assert_allclose(back[["x", "y"]].to_numpy(), table[["x", "y"]].to_numpy(), atol=1e-3)
    np.testing.assert_array_equal(back["frame"], table["frame"] - 1)  # Picasso counts from 0
    np.testing.assert_allclose(back["uncertainty"], table["uncertainty"], rtol=1e-6)
    np.testing.assert_array_equal(back["group"], LABELS - 1)


def test_bad_label_column_and_format(tmp_path):
    table = labelled(format_file(tmp_path, "nstorm"))
    with pytest.raises(ValueError, match="no label column 'nope'"):
        write_thunderstorm_csv(table, tmp_path / "o.csv", "nope")
    table["miro_cluster"] = -1
    with pytest.raises(ValueError, match="integers >= 0"):
        write_thunderstorm_csv(table, tmp_path / "o.csv", "miro_cluster")
    with pytest.raises(ValueError, match="unknown output format"):
        write_localizations(table, tmp_path / "o.csv", "excel", "miro_cluster")
    assert not list(tmp_path.glob("o.*"))
    table = labelled(format_file(tmp_path, "nstorm"))
    table["cluster"] = 5
    with pytest.raises(ValueError, match=r"\['cluster'\] would be written twice"):
        write_thunderstorm_csv(table, tmp_path / "o.csv", "miro_cluster")
