from pathlib import Path

import h5py
import numpy as np
import pandas as pd
import pytest
import scipy.io
from localization_files import (
    FORMAT_FILES,
    FRAMES,
    PICASSO_DTYPE,
    PIXEL,
    RNG_XY,
    decode_csv_text,
    elyra_bytes,
    format_file,
    nstorm_text,
    rapidstorm_text,
    smap_csv_text,
    smap_loc,
    thunderstorm_file,
    write,
    write_decode_h5,
    write_mat_v7,
    write_picasso,
    write_smap_mat73,
)

from miro.data.readers import (
    FRAME_ORIGIN,
    LocalizationFileError,
    detect_format,
    read_localizations,
)


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
        ("x [px],y [px]\n1,2\n3,4\n5,6\n", "auto", r"'x \[px\]' is in camera pixels.*unknown"),
        ("x [ly],y [ly]\n1,2\n3,4\n5,6\n", "thunderstorm", "in 'ly'; coordinates must be in nm"),
        ("X (in),Y (in)\n1,2\n3,4\n5,6\n", "generic", r"X \(in\).*must be in nm"),
        ("x,y,frame\n1,2,1\n3,4,1.5\n5,6,2\n", "auto", "'frame' must hold an integer"),
    ],
)
def test_bad_files_are_rejected_with_file_and_problem(tmp_path, text, fmt, message):
    path = write(tmp_path, "bad.csv", text)
    columns = {"x": "X (in)", "y": "Y (in)"} if text.startswith("X (in)") else None
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


@pytest.mark.parametrize("kind", FORMAT_FILES)
def test_each_format_is_detected_by_content_and_read_in_nm(tmp_path, kind):
    """Same localizations written by each tool (a misleading .dat name, so only the content can
    tell), read back: x, y, uncertainty in nm and the frames as the tool numbers them."""
    _, origin, precision = FORMAT_FILES[kind]
    path = format_file(tmp_path, kind)
    fmt = kind.split("_")[0]
    assert detect_format(path) == fmt
    df = read_localizations(path)
    assert list(df.columns[:4]) == ["x", "y", "frame", "uncertainty"]
    np.testing.assert_allclose(df[["x", "y"]].to_numpy(), RNG_XY, rtol=1e-6)
    np.testing.assert_allclose(df["uncertainty"], precision, rtol=1e-6)
    np.testing.assert_array_equal(df["frame"], FRAMES - 1 + origin)
    assert df["frame"].dtype == np.int64 and df["x"].dtype == np.float64
    source = df.attrs["source"]
    assert source["format"] == fmt and source["path"] == str(path)
    assert source["frame_origin"] == FRAME_ORIGIN.get(fmt)
    pd.testing.assert_frame_equal(read_localizations(path, fmt=fmt), df)  # explicit = detected


def test_every_input_column_is_kept(tmp_path):
    nstorm = read_localizations(format_file(tmp_path, "nstorm"))
    assert nstorm.columns[4:].tolist()[:3] == ["Channel Name", "X", "Y"]
    assert "Xwc" in nstorm and "Lateral Localization Accuracy" not in nstorm  # it is uncertainty
    np.testing.assert_allclose(nstorm["X"], RNG_XY[:, 0] + 3)
    picasso = read_localizations(format_file(tmp_path, "picasso", "p.hdf5"))
    names = [n for n, _ in PICASSO_DTYPE if n not in ("frame", "x", "y")]  # lpx, lpy stay
    assert picasso.columns[4:].tolist() == names
    elyra = read_localizations(format_file(tmp_path, "elyra"))
    assert elyra["Index"].tolist() == [1, 2, 3, 4, 5, 6] and elyra["Z Slice"].eq(0).all()
    decode = read_localizations(format_file(tmp_path, "decode", "d.h5"))
    assert {"z", "x_sig", "y_sig", "z_sig", "phot", "id", "prob", "bg"} <= set(decode.columns)
    assert "x_cr" not in decode  # DECODE writes an all-NaN column as an empty dataset


def test_units_are_converted_to_nm(tmp_path):
    micrometres = write(
        tmp_path, "um.csv", "x [µm],y [µm],uncertainty [µm]\n1,2,0.01\n3,4,0.02\n5,6.5,0.03\n"
    )
    df = read_localizations(micrometres)
    assert df["x"].tolist() == [1000.0, 3000.0, 5000.0] and df["y"].iloc[2] == 6500.0
    np.testing.assert_allclose(df["uncertainty"], [10, 20, 30])
    assert df.attrs["source"]["units"] == {"x": "µm", "y": "µm", "uncertainty": "µm"}
    assert df.attrs["source"]["to_nm"]["x"] == 1000.0
    pixels = write(tmp_path, "px.csv", "x [px],y [px]\n1,2\n3,4\n5,6\n")
    df = read_localizations(pixels, pixel_size_nm=107.0)
    assert df["x"].tolist() == [107.0, 321.0, 535.0] and df.attrs["source"]["pixel_size_nm"] == 107
    metres = tmp_path / "m.txt"
    metres.write_text(rapidstorm_text("meter", 1e-9))
    np.testing.assert_allclose(read_localizations(metres)[["x", "y"]].to_numpy(), RNG_XY)
    nm_decode = tmp_path / "nm.csv"
    nm_decode.write_text(decode_csv_text("nm"))
    np.testing.assert_allclose(read_localizations(nm_decode)[["x", "y"]].to_numpy(), RNG_XY)
    generic = write(tmp_path, "g.csv", "PosX (um),PosY (um)\n1,2\n3,4\n5,6\n")
    df = read_localizations(generic, columns={"x": "PosX (um)", "y": "PosY (um)"})
    assert df["y"].tolist() == [2000.0, 4000.0, 6000.0]


def test_pixel_size_argument_overrides_the_files(tmp_path):
    path = format_file(tmp_path, "picasso", "p.hdf5")
    df = read_localizations(path, pixel_size_nm=2 * PIXEL)
    np.testing.assert_allclose(df[["x", "y"]].to_numpy(), 2 * RNG_XY, rtol=1e-6)
    assert df.attrs["source"]["pixel_size_nm"] == 2 * PIXEL


def test_pixelsize_found_in_any_yaml_document_and_info_kept(tmp_path):
    path = write_picasso(tmp_path / "p.hdf5", info=[{"Width": 64, "Height": 64, "Pixelsize": 65}])
    df = read_localizations(path)
    np.testing.assert_allclose(df["x"], RNG_XY[:, 0] / PIXEL * 65, rtol=1e-6)
    assert df.attrs["source"]["info"] == [{"Height": 64, "Pixelsize": 65, "Width": 64}]


def test_unknown_layout_lists_formats_and_columns(tmp_path):
    path = write(tmp_path, "odd.txt", "a\tb\tc\n1\t2\t3\n4\t5\t6\n7\t8\t9\n")
    with pytest.raises(LocalizationFileError) as info:
        read_localizations(path)
    message = str(info.value)
    assert str(path) in message and "['a', 'b', 'c']" in message
    assert "thunderstorm" in message and "picasso" in message and "elyra" in message


def test_explicit_format_overrides_detection(tmp_path):
    path = format_file(tmp_path, "nstorm")  # read as generic: its X, Y are the raw positions
    df = read_localizations(path, fmt="generic", columns={"x": "X", "y": "Y"})
    np.testing.assert_allclose(df["x"], RNG_XY[:, 0] + 3)
    with pytest.raises(LocalizationFileError, match="not an HDF5 file"):
        read_localizations(path, fmt="picasso")
    decode = write_decode_h5(tmp_path / "d.h5")
    with pytest.raises(LocalizationFileError, match=r"no Picasso 'locs' table.*\['data'"):
        read_localizations(decode, fmt="picasso")


def _truncated(path: Path) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _without_locs(path: Path) -> Path:
    return write_picasso(path, locs=False)


def _yaml_without_pixelsize(path: Path) -> Path:
    return write_picasso(path, info=[{"Width": 64, "Height": 64, "Frames": 10}])


def _no_yaml(path: Path) -> Path:
    write_picasso(path).with_suffix(".yaml").unlink()
    return path


def _bad_yaml(path: Path) -> Path:
    write_picasso(path).with_suffix(".yaml").write_text("Width: [64\n")
    return path


def _mat_without_xnm(path: Path) -> Path:
    return write_mat_v7(path, {k: v for k, v in smap_loc().items() if k != "xnm"})


def _mat_without_saveloc(path: Path) -> Path:
    scipy.io.savemat(path, {"other": np.ones(3)})
    return path


def _mat73_without_xnm(path: Path) -> Path:
    return write_smap_mat73(path, {k: v for k, v in smap_loc().items() if k != "xnm"})


def _hdf5_unknown(path: Path) -> Path:
    with h5py.File(path, "w") as f:
        f.create_dataset("images", data=np.zeros((2, 2)))
    return path


def _decode_px_without_size(path: Path) -> Path:
    write_decode_h5(path)
    with h5py.File(path, "a") as f:
        del f["meta"].attrs["px_size"]
    return path


def _rapidstorm_bad_header(path: Path) -> Path:
    path.write_text('# <localizations><field identifier="Position-0-0" \n1 2\n')
    return path


def _rapidstorm_two_rows(path: Path) -> Path:
    path.write_text("\n".join(rapidstorm_text().splitlines()[:3]) + "\n")
    return path


def _header_only(text: str):
    def make(path: Path) -> Path:
        path.write_text(text.splitlines()[0] + "\n" if text else "")
        return path

    return make


def _nstorm_nan(path: Path) -> Path:
    lines = nstorm_text().splitlines()
    cells = lines[2].split("\t")
    cells[3] = "NaN"  # Xc
    path.write_text("\n".join([*lines[:2], "\t".join(cells), *lines[3:]]) + "\n")
    return path


def _picasso_nan(path: Path) -> Path:
    write_picasso(path)
    with h5py.File(path, "a") as f:
        locs = f["locs"][()]
        locs["x"][3] = np.nan
        f["locs"][...] = locs
    return path


def _decode_bad_meta(path: Path) -> Path:
    lines = decode_csv_text().splitlines()
    path.write_text("\n".join([*lines[:2], "# {xy_unit: px", *lines[3:]]) + "\n")
    return path


def _smap_two_rows(path: Path) -> Path:
    path.write_text("\n".join(smap_csv_text().splitlines()[:3]) + "\n")
    return path


def _garbage(path: Path) -> Path:
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: _truncated(write_picasso(p)), "cannot read HDF5 file, truncated or corrupt"),
        (_without_locs, r"no known localization format: it has \['drift'\]"),
        (_yaml_without_pixelsize, r"pixel size is unknown.*yaml: no 'Pixelsize' entry"),
        (_no_yaml, r"pixel size is unknown.*yaml: no such file"),
        (_bad_yaml, "cannot read Picasso YAML"),
        (_hdf5_unknown, r"HDF5 file of no known localization format.*\['images'\]"),
        (lambda p: _truncated(write_decode_h5(p)), "truncated or corrupt"),
        (_decode_px_without_size, "camera pixels.*DECODE's metadata has no px_size"),
        (_mat_without_xnm, r"missing columns for format 'smap': x \(xnm\)"),
        (_mat_without_saveloc, "no SMAP 'saveloc.loc' struct"),
        (_mat73_without_xnm, r"missing columns for format 'smap': x \(xnm\)"),
        (lambda p: _truncated(write_mat_v7(p, smap_loc())), "cannot read MAT-file"),
        (_rapidstorm_bad_header, "rapidSTORM header is not valid XML"),
        (_rapidstorm_two_rows, "2 localizations, at least 3"),
        (_header_only(rapidstorm_text()), "header only"),
        (_header_only(nstorm_text()), "header only"),
        (_header_only(elyra_bytes().decode("latin-1")), "header only"),
        (_nstorm_nan, "column 'Xc' must hold a finite number.*data row 2"),
        (_picasso_nan, "column 'x' must hold a finite number.*data row 4"),
        (_decode_bad_meta, "line 3 is not DECODE's emitter metadata"),
        (_smap_two_rows, "2 localizations, at least 3"),
        (_garbage, "cannot read file"),
        (_header_only(""), "file is empty"),
    ],
)
def test_malformed_binary_and_tool_files_give_one_clear_error(tmp_path, make, message):
    path = make(tmp_path / "bad file ü.hdf5")  # spaces and non-ASCII in the path
    with pytest.raises(LocalizationFileError, match=message) as info:
        read_localizations(path)
    assert str(path.with_suffix("")) in str(info.value)
