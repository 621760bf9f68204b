from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from miro.data.readers import LocalizationFileError, read_localizations

THUNDERSTORM_HEADER = (
    '"id","frame","x [nm]","y [nm]","sigma [nm]","intensity [photon]","offset [photon]",'
    '"bkgstd [photon]","uncertainty [nm]"'
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def thunderstorm_file(tmp_path: Path, n: int = 5, header: str = THUNDERSTORM_HEADER) -> Path:
    rng = np.random.default_rng(1)
    lines = [header]
    for i in range(n):
        x, y = rng.uniform(0, 2000, 2)
        lines.append(f"{i + 1},{i // 2 + 1}.0,{x},{y},120.5,900,10,5,{rng.uniform(5, 20)}")
    return write(tmp_path, "ts.csv", "\n".join(lines) + "\n")


def test_benchmark_file_round_trips_with_exact_values(benchmark_dir):
    path = next((benchmark_dir / "Ground Truth - Scenario 5").glob("*.csv"))
    df = read_localizations(path, fmt="benchmark")
    plain = pd.read_csv(path)
    assert list(df.columns) == ["x", "y", "index"]
    assert df["x"].dtype == np.float64 and df["index"].dtype == np.int64
    np.testing.assert_array_equal(df[["x", "y"]].to_numpy(), plain[["x", "y"]].to_numpy())
    np.testing.assert_array_equal(df["index"].to_numpy(), plain["index"].to_numpy())
    pd.testing.assert_frame_equal(read_localizations(path), df)  # auto detects it


def test_thunderstorm_renames_and_keeps_other_columns(tmp_path):
    path = thunderstorm_file(tmp_path)
    raw = pd.read_csv(path)
    for fmt in ("thunderstorm", "auto"):
        df = read_localizations(path, fmt=fmt)
        assert list(df.columns[:4]) == ["x", "y", "frame", "uncertainty"]
        assert list(df.columns[4:]) == [
            "id",
            "sigma [nm]",
            "intensity [photon]",
            "offset [photon]",
            "bkgstd [photon]",
        ]
        np.testing.assert_array_equal(df["x"], raw["x [nm]"])
        np.testing.assert_array_equal(df["uncertainty"], raw["uncertainty [nm]"])
        assert df["frame"].dtype == np.int64
        np.testing.assert_array_equal(df["frame"], raw["frame"].astype(int))
        pd.testing.assert_series_equal(df["sigma [nm]"], raw["sigma [nm]"])


def test_thunderstorm_3d_uncertainty_column(tmp_path):
    path = write(tmp_path, "a.csv", "x [nm],y [nm],uncertainty_xy [nm]\n1,2,3\n4,5,6\n7,8,9\n")
    assert read_localizations(path)["uncertainty"].tolist() == [3.0, 6.0, 9.0]


@pytest.mark.parametrize(("name", "sep"), [("a.tsv", "\t"), ("a.csv", ";"), ("a.txt", "\t")])
def test_generic_with_mapping_and_delimiters(tmp_path, name, sep):
    rows = [["PosX", "PosY", "label", "note"], ["1.5", "2", "0", "a"], ["3", "4", "2", "b"]]
    rows.append(["5", "6.25", "2", "c"])
    path = write(tmp_path, name, "\n".join(sep.join(r) for r in rows) + "\n")
    df = read_localizations(
        path, fmt="generic", columns={"x": "PosX", "y": "PosY", "index": "label"}
    )
    assert list(df.columns) == ["x", "y", "index", "note"]
    assert df["x"].tolist() == [1.5, 3.0, 5.0] and df["y"].tolist() == [2.0, 4.0, 6.25]
    assert df["index"].tolist() == [0, 2, 2] and df["note"].tolist() == ["a", "b", "c"]


def test_auto_with_plain_xy_columns_has_no_index(tmp_path):
    path = write(tmp_path, "a.csv", "y,x,z\n1,2,0\n3,4,0\n5,6,0\n")
    df = read_localizations(path)
    assert list(df.columns) == ["x", "y", "z"] and df["x"].tolist() == [2, 4, 6]


def test_byte_order_mark_and_quoted_header(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes('\ufeff"x","y","index"\n1,2,0\n3,4,1\n5,6,1\n'.encode())
    assert read_localizations(path, fmt="benchmark")["index"].tolist() == [0, 1, 1]


@pytest.mark.parametrize(
    ("text", "fmt", "message"),
    [
        ("", "auto", "empty"),
        ("x,y,index\n", "benchmark", "empty"),
        ("x,y\n1,2\n3,4\n5,6\n", "benchmark", r"missing columns.*: index \(index\)"),
        ("a,b\n1,2\n3,4\n5,6\n", "auto", r"x \(x\), y \(y\).*columns \['a', 'b'\]"),
        ("x,y,index\n1,2,0\n3,abc,0\n5,6,0\n", "benchmark", "column 'y'.*data row 2.*'abc'"),
        ("x,y,index\n1,2,0\n3,,0\n5,6,0\n", "benchmark", "column 'y'.*data row 2"),
        ("x,y,index\n1,2,0\n3,4,0\ninf,6,0\n", "benchmark", "column 'x'.*data row 3"),
        ("x,y,index\n1,2,0\n3,4,0\nnan,6,0\n", "benchmark", "column 'x'.*data row 3"),
        ("x,y,index\n1,2,0\n3,4,0.5\n5,6,0\n", "benchmark", "non-negative integer.*row 2"),
        ("x,y,index\n1,2,0\n3,4,-1\n5,6,0\n", "benchmark", "non-negative integer.*row 2"),
        ("x,y,index\n1,2,0\n3,4,0\n", "benchmark", "2 localizations, at least 3"),
        ("x [px],y [px]\n1,2\n3,4\n5,6\n", "auto", "not in nm: export them from ThunderSTORM"),
        ("x [µm],y [µm]\n1,2\n3,4\n5,6\n", "thunderstorm", "not in nm"),
        ("X (um),Y (um)\n1,2\n3,4\n5,6\n", "generic", "X \\(um\\).*must be in nm"),
        ("x,y,frame\n1,2,1\n3,4,1.5\n5,6,2\n", "auto", "'frame' must hold an integer"),
    ],
)
def test_bad_files_are_rejected_with_file_and_problem(tmp_path, text, fmt, message):
    path = write(tmp_path, "bad.csv", text)
    columns = {"x": "X (um)", "y": "Y (um)"} if text.startswith("X (um)") else None
    with pytest.raises(LocalizationFileError, match=message) as info:
        read_localizations(path, fmt=fmt, columns=columns)
    assert str(path) in str(info.value)


def test_missing_and_unreadable_files(tmp_path):
    with pytest.raises(LocalizationFileError, match="no such file") as info:
        read_localizations(tmp_path / "nope.csv")
    assert "nope.csv" in str(info.value)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"x,y\n\xff\xfe\x00\x81\n")
    with pytest.raises(LocalizationFileError, match="cannot read"):
        read_localizations(binary)


def test_mapping_names_missing_source_columns(tmp_path):
    path = write(tmp_path, "a.csv", "PosX,PosY\n1,2\n3,4\n5,6\n")
    with pytest.raises(LocalizationFileError, match=r"y \(Y\).*\['PosX', 'PosY'\]"):
        read_localizations(path, fmt="generic", columns={"x": "PosX", "y": "Y"})
    with pytest.raises(LocalizationFileError, match=r"frame \(T\)"):
        read_localizations(path, fmt="generic", columns={"x": "PosX", "y": "PosY", "frame": "T"})


def test_column_that_would_be_shadowed_is_rejected(tmp_path):
    path = write(tmp_path, "a.csv", "x,PosX,PosY\n9,1,2\n9,3,4\n9,5,6\n")
    with pytest.raises(LocalizationFileError, match=r"\['x'\] exist besides"):
        read_localizations(path, fmt="generic", columns={"x": "PosX", "y": "PosY"})


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown localization format"):
        read_localizations("a.csv", fmt="excel")
    with pytest.raises(ValueError, match="column mapping keys \\['z'\\]"):
        read_localizations("a.csv", columns={"z": "Z"})
