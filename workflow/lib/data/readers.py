"""Localization files in: the formats microscopists have, picked by content.

Input: one SMLM point cloud (one field of view or a whole acquisition) per file. The paper's
benchmark CSVs (``x,y,index`` in nm, index 0 = non-clustered, k > 0 = cluster k;
docs/reference.md#labels), the localization software that produced the paper's experimental data
(ThunderSTORM, Methods) and the other common tools' files are read here:

================ ==================================== ==============================================
format           file                                 columns used (unit)
================ ==================================== ==============================================
``benchmark``    CSV ``x,y,index``                    x, y (nm), index
``thunderstorm`` CSV ``"id","frame","x [nm]",...``    ``x [u]``, ``y [u]``, ``frame``,
                                                      ``uncertainty [u]`` or ``uncertainty_xy [u]``
                                                      (u = nm, µm/um, m, or px with a pixel size)
``picasso``      HDF5 dataset ``locs`` + sidecar      ``x``, ``y`` (camera pixels), ``frame``,
                 ``<name>.yaml`` (``Pixelsize``, nm)  ``lpx``, ``lpy`` (px; mean = uncertainty)
``smap``         ``*_sml.csv`` or ``.mat``            ``xnm``, ``ynm``, ``frame``, ``locprecnm``
                 (``saveloc.loc`` struct; MATLAB v7   (nm)
                 via SciPy, v7.3 = HDF5 via h5py)
``rapidstorm``   text, first line ``# <localizations  ``Position-0-0``, ``Position-1-0`` (unit from
                 ...>`` XML header naming the fields  the header: nanometer, micrometer, meter),
                                                      ``ImageNumber-0-0``, mean of
                                                      ``Position-{0,1}-0-uncertainty``
``decode``       HDF5 groups ``data``/``meta``/       ``xyz`` (-> ``x``, ``y``, ``z``),
                 ``decode`` or CSV after three ``#``  ``frame_ix``, mean of ``x_sig``/``y_sig``;
                 lines (``# DECODE EmitterSet``)      unit ``meta.xy_unit`` (px with ``px_size``
                                                      or nm)
``nstorm``       Nikon N-STORM tab-separated text     ``Xc``, ``Yc`` (drift-corrected, nm),
                 (``Channel Name  X  Y  Xc  Yc ...``) ``Frame``, ``Lateral Localization Accuracy``
``elyra``        Zeiss ELYRA tab-separated text       ``Position X [nm]``, ``Position Y [nm]``,
                 (Latin-1; metadata after a NUL byte) ``First Frame``, ``Precision [nm]``
``generic``      any CSV/TSV + a column mapping       ``x``, ``y``, ``index``, ``frame``,
                                                      ``uncertainty`` or the mapped columns
================ ==================================== ==============================================

``auto`` (:func:`detect_format`) picks the format from the file's content: the HDF5 signature and
its datasets, the MAT-file header, the rapidSTORM and DECODE header lines, then the column names;
the extension only sets the delimiter (``.tsv``/``.tab``) and names the expected kind of a binary
file in an error. Every reader returns the canonical columns ``x``, ``y`` (nm, float64) and, when
present, ``index`` (ground-truth label), ``frame`` (as numbered in the file) and ``uncertainty``
(nm), followed by every other input column unchanged (in its own unit), so that outputs can put
labels next to what the user gave and :mod:`miro.data.writers` can write the file back. Where the
file came from is in ``DataFrame.attrs["source"]`` (:class:`Source`: format, canonical -> source
column, unit and factor to nm, pixel size, first frame number, Picasso's YAML documents).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

FORMATS = (
    "auto",
    "benchmark",
    "thunderstorm",
    "picasso",
    "smap",
    "rapidstorm",
    "decode",
    "nstorm",
    "elyra",
    "generic",
)
CANONICAL = ("x", "y", "index", "frame", "uncertainty")
INTEGER_COLUMNS = ("index", "frame")
LENGTH_COLUMNS = ("x", "y", "uncertainty")
MIN_LOCALIZATIONS = 3

#: Source column candidates of each canonical column, first present wins; a pair means the mean
#: of both (an uncertainty given per axis). A name also matches ``name [unit]``/``name (unit)``.
DEFAULT_COLUMNS: dict[str, dict[str, tuple[str | tuple[str, str], ...]]] = {
    "benchmark": {"x": ("x",), "y": ("y",), "index": ("index",)},
    "thunderstorm": {
        "x": ("x",),
        "y": ("y",),
        "frame": ("frame",),
        "uncertainty": ("uncertainty", "uncertainty_xy"),
    },
    "picasso": {"x": ("x",), "y": ("y",), "frame": ("frame",), "uncertainty": (("lpx", "lpy"),)},
    "smap": {"x": ("xnm",), "y": ("ynm",), "frame": ("frame",), "uncertainty": ("locprecnm",)},
    "rapidstorm": {
        "x": ("Position-0-0",),
        "y": ("Position-1-0",),
        "frame": ("ImageNumber-0-0",),
        "uncertainty": (("Position-0-0-uncertainty", "Position-1-0-uncertainty"),),
    },
    "decode": {
        "x": ("x",),
        "y": ("y",),
        "frame": ("frame_ix",),
        "uncertainty": (("x_sig", "y_sig"),),
    },
    "nstorm": {
        "x": ("Xc",),
        "y": ("Yc",),
        "frame": ("Frame",),
        "uncertainty": ("Lateral Localization Accuracy",),
    },
    "elyra": {
        "x": ("Position X [nm]",),
        "y": ("Position Y [nm]",),
        "frame": ("First Frame",),
        "uncertainty": ("Precision [nm]",),
    },
    "generic": {name: (name,) for name in CANONICAL},
}
REQUIRED = {fmt: ("x", "y") for fmt in DEFAULT_COLUMNS} | {"benchmark": ("x", "y", "index")}
#: Number of the first frame in each tool's files (None: not fixed by the format).
FRAME_ORIGIN = {"thunderstorm": 1, "picasso": 0, "smap": 1, "rapidstorm": 0, "decode": 0}
#: Unit spellings -> nm per unit (``px`` needs a pixel size).
NM_PER_UNIT = {"nm": 1.0, "nanometer": 1.0, "µm": 1e3, "μm": 1e3, "um": 1e3, "micrometer": 1e3}
NM_PER_UNIT |= {"mm": 1e6, "m": 1e9, "meter": 1e9}
PIXEL_UNITS = ("px", "pixel", "pixels", "camera pixel")

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
_UNIT = re.compile(r"[\[(]\s*([^\])]*?)\s*[\])]\s*$")
_THUNDERSTORM_XY = re.compile(r"^[xy] [\[(]")
_SNIFF_BYTES = 65536


class LocalizationFileError(ValueError):
    """A localization file that cannot be used; the message names the file and the problem."""


@dataclass
class Source:
    """Where a table came from, so that it can be written back (``DataFrame.attrs["source"]``
    holds ``asdict`` of it): format, file, canonical name -> source column (``"a|b"`` = mean of
    both), its unit and factor to nm, the pixel size used (nm), the number of the first frame
    (None: not fixed by the format) and, for Picasso, the YAML documents of the sidecar."""

    format: str
    path: str
    columns: dict[str, str] = field(default_factory=dict)
    units: dict[str, str] = field(default_factory=dict)
    to_nm: dict[str, float] = field(default_factory=dict)
    pixel_size_nm: float | None = None
    frame_origin: int | None = None
    info: list = field(default_factory=list)


@dataclass
class _Raw:
    """A file's whole table as loaded, before the canonical columns are taken from it."""

    table: pd.DataFrame
    units: dict[str, str] = field(default_factory=dict)  # column -> unit, when not in its name
    pixel_size_nm: float | None = None
    info: list = field(default_factory=list)
    pixel_hint: str = ""  # where the pixel size should have been, for the error without one


def read_localizations(
    path: str | os.PathLike,
    fmt: str = "auto",
    columns: Mapping[str, str] | None = None,
    pixel_size_nm: float | None = None,
) -> pd.DataFrame:
    """Read one file of localizations into the canonical columns (see module docstring).

    Args:
        path: a localization file of one of the formats of the module docstring.
        fmt: one of `FORMATS`; ``auto`` picks it from the content (:func:`detect_format`), an
            explicit format overrides the detection.
        columns: canonical name -> column name in the file, e.g. ``{"x": "X_nm", "y": "Y_nm"}``;
            overrides the format's defaults (any format; ``generic`` needs it unless the file
            already has ``x``, ``y``).
        pixel_size_nm: camera pixel size for coordinates in pixels (ThunderSTORM ``x [px]``,
            DECODE ``xy_unit: px``, Picasso); overrides the size the file states.

    Raises:
        LocalizationFileError: missing/unreadable/empty/truncated file, layout of no known
            format, missing columns or pixel size, unknown units, non-numeric or non-finite
            values, non-integer labels or frames, fewer than 3 localizations.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown localization format {fmt!r}; choose one of {FORMATS}")
    unknown = set(columns or {}) - set(CANONICAL)
    if unknown:
        raise ValueError(f"column mapping keys {sorted(unknown)} unknown; allowed: {CANONICAL}")
    if pixel_size_nm is not None and not (np.isfinite(pixel_size_nm) and pixel_size_nm > 0):
        raise ValueError(f"pixel size must be a positive number of nm, got {pixel_size_nm!r}")
    path = Path(path)
    if fmt == "auto":
        fmt = detect_format(path)
    raw = LOADERS[fmt](path)
    if pixel_size_nm is not None:
        raw.pixel_size_nm = float(pixel_size_nm)
    if raw.table.empty:
        raise LocalizationFileError(f"{path}: file is empty (header only, no localizations)")
    source = _source_columns(path, raw.table, fmt, columns or {})
    used = {spec[0] for spec in source.values() if len(spec) == 1}  # per-axis pairs stay too
    extras = [c for c in raw.table.columns if c not in used]
    clash = sorted(set(extras) & set(source))
    if clash:
        raise LocalizationFileError(
            f"{path}: columns {clash} exist besides the columns mapped to them "
            f"({['|'.join(source[k]) for k in clash]}); rename them in the file"
        )
    meta = Source(fmt, str(path), frame_origin=FRAME_ORIGIN.get(fmt), info=raw.info)
    meta.pixel_size_nm = raw.pixel_size_nm
    out = {}
    for name, spec in source.items():
        values = [_numeric(path, raw.table, name, col) for col in spec]
        out[name] = values[0] if len(values) == 1 else (values[0] + values[1]) / 2
        meta.columns[name] = "|".join(spec)
        if name in LENGTH_COLUMNS:
            unit, factor = _to_nm(path, raw, spec)
            out[name] = out[name] * factor
            meta.units[name], meta.to_nm[name] = unit, factor
    table = pd.concat([pd.DataFrame(out), raw.table[extras]], axis=1)
    if len(table) < MIN_LOCALIZATIONS:
        raise LocalizationFileError(
            f"{path}: {len(table)} localizations, at least {MIN_LOCALIZATIONS} are needed"
        )
    table.attrs["source"] = asdict(meta)
    return table


# ----------------------------------------------------------------------------- detection
def detect_format(path: str | os.PathLike) -> str:
    """The format of ``path`` from its content (module docstring): HDF5 with ``locs`` (Picasso),
    ``data`` + ``meta`` (DECODE) or ``saveloc`` (SMAP v7.3); a MAT-file header (SMAP); the
    first line ``# <localizations`` (rapidSTORM) or ``# DECODE`` (DECODE CSV); then the header
    row: ``Position X [nm]`` (ELYRA), ``Xc``/``Yc``/``Frame`` (N-STORM), ``xnm``/``ynm``
    (SMAP), ``x [unit]`` (ThunderSTORM), else ``generic``."""
    path = Path(path)
    head = _head(path)
    if head.startswith(b"MATLAB"):
        return "smap"
    if head.startswith(HDF5_SIGNATURE):
        keys = _hdf5_keys(path)
        if "locs" in keys:
            return "picasso"
        if {"data", "meta"} <= keys:
            return "decode"
        if "saveloc" in keys:
            return "smap"
        raise LocalizationFileError(
            f"{path}: HDF5 file of no known localization format: it has {sorted(keys)}, "
            "expected 'locs' (Picasso), 'data' + 'meta' (DECODE) or 'saveloc' (SMAP)"
        )
    first = head.split(b"\n", 1)[0].lstrip(b"\xef\xbb\xbf").strip()
    if first.startswith(b"# <localizations"):
        return "rapidstorm"
    if first.startswith(b"# DECODE"):
        return "decode"
    header = set(_header(path, first))
    if "Position X [nm]" in header:
        return "elyra"
    if {"Xc", "Yc", "Frame"} <= header:
        return "nstorm"
    if {"xnm", "ynm"} <= header:
        return "smap"
    if any(_THUNDERSTORM_XY.match(c) for c in header):
        return "thunderstorm"
    return "generic"


def _head(path: Path) -> bytes:
    if not path.is_file():
        raise LocalizationFileError(f"{path}: no such file")
    try:
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError as err:
        raise LocalizationFileError(f"{path}: cannot read file ({err})") from err
    if not head.strip():
        raise LocalizationFileError(f"{path}: file is empty")
    return head


def _header(path: Path, first: bytes) -> list[str]:
    """Column names of a text file's first line (Latin-1: ELYRA's encoding; only names)."""
    line = first.decode("latin-1")
    sep = "\t" if "\t" in line else _delimiter(path, line)
    return [c.strip().strip('"') for c in next(csv.reader([line], delimiter=sep))]


def _hdf5_keys(path: Path) -> set[str]:
    with _open_hdf5(path) as f:
        return set(f.keys())


def _open_hdf5(path: Path):
    import h5py  # only the binary formats need it

    try:
        return h5py.File(path, "r")
    except OSError as err:
        raise LocalizationFileError(
            f"{path}: cannot read HDF5 file, truncated or corrupt? ({err})"
        ) from err


# ----------------------------------------------------------------------------- text formats
def _load_text(path: Path) -> _Raw:
    """Whole delimited text file (UTF-8, BOM allowed; ELYRA: Latin-1, cut at the first NUL)."""
    head = _head(path)
    if head.startswith((HDF5_SIGNATURE, b"MATLAB")):
        raise LocalizationFileError(f"{path}: binary (HDF5/MAT) file, not a text table")
    elyra = b"Position X [nm]" in head.split(b"\n", 1)[0]
    try:
        if elyra:  # Latin-1, metadata after a NUL byte
            source = io.StringIO(path.read_bytes().decode("latin-1").split("\x00")[0])
            sample = source.getvalue()[:_SNIFF_BYTES]
        else:
            sample = head.decode(
                "utf-8-sig", errors="strict" if len(head) < _SNIFF_BYTES else "ignore"
            )
            if "\x00" in sample:
                raise UnicodeDecodeError("utf-8", head, sample.index("\x00"), 0, "NUL byte")
            source = path
        sep = "\t" if "\t" in sample.split("\n", 1)[0] else _delimiter(path, sample)
        table = pd.read_csv(source, sep=sep, encoding=None if elyra else "utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise LocalizationFileError(f"{path}: cannot read file ({err})") from err
    table.columns = [str(c).strip() for c in table.columns]
    return _Raw(table)


def _delimiter(path: Path, sample: str) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _load_rapidstorm(path: Path) -> _Raw:
    """rapidSTORM: an XML header line ``# <localizations ...><field identifier=... unit=...
    />...</localizations>`` naming the whitespace-separated columns of the rows below."""
    text = _text(path)
    first, _, body = text.partition("\n")
    try:
        root = ET.fromstring(first.lstrip("#").strip())
    except ET.ParseError as err:
        raise LocalizationFileError(f"{path}: rapidSTORM header is not valid XML ({err})") from err
    fields = root.findall("field")
    names = [f.get("identifier", "") for f in fields]
    if not fields or not all(names):
        raise LocalizationFileError(f"{path}: rapidSTORM header names no fields")
    try:
        table = pd.read_csv(io.StringIO(body), sep=r"\s+", header=None, names=names)
    except (pd.errors.ParserError, pd.errors.EmptyDataError):
        table = pd.DataFrame(columns=names)
    units = {f.get("identifier"): f.get("unit", "") for f in fields}
    return _Raw(table, units=units)


def _text(path: Path) -> str:
    _head(path)
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise LocalizationFileError(f"{path}: cannot read file ({err})") from err


# ----------------------------------------------------------------------------- binary formats
def _load_picasso(path: Path) -> _Raw:
    """Picasso: HDF5 dataset ``locs`` (structured: ``frame``, ``x``, ``y`` in camera pixels,
    ``photons``, ``sx``, ``sy``, ``bg``, ``lpx``, ``lpy``, ... , ``group`` after clustering)
    and the sidecar ``<name>.yaml`` (documents as ``picasso.io.load_info``; ``Pixelsize`` in
    nm, in whichever document states it)."""
    if not _head(path).startswith(HDF5_SIGNATURE):
        raise LocalizationFileError(f"{path}: not an HDF5 file (Picasso writes .hdf5)")
    with _open_hdf5(path) as f:
        locs = f.get("locs")
        if locs is None or locs.dtype.names is None:
            raise LocalizationFileError(
                f"{path}: no Picasso 'locs' table (structured dataset); the file has "
                f"{sorted(f.keys())}"
            )
        table = pd.DataFrame(_read_dataset(path, locs))
    sidecar = path.with_suffix(".yaml")
    info: list = []
    if sidecar.is_file():
        try:
            info = [d for d in yaml.safe_load_all(sidecar.read_text(encoding="utf-8")) if d]
        except (yaml.YAMLError, UnicodeDecodeError) as err:
            raise LocalizationFileError(f"{sidecar}: cannot read Picasso YAML ({err})") from err
    sizes = [d["Pixelsize"] for d in info if isinstance(d, dict) and "Pixelsize" in d]
    units = {c: "px" for c in ("x", "y", "lpx", "lpy")}
    problem = "no 'Pixelsize' entry" if sidecar.is_file() else "no such file"
    hint = f"{sidecar}: {problem} (Picasso's metadata with the camera pixel size in nm)"
    return _Raw(table, units, _pixel_size(sidecar, sizes), info, hint)


def _pixel_size(where: Path, sizes: list) -> float | None:
    if not sizes:
        return None
    try:
        size = float(sizes[-1])
    except (TypeError, ValueError):
        size = float("nan")
    if not (np.isfinite(size) and size > 0):
        raise LocalizationFileError(f"{where}: pixel size {sizes[-1]!r} is not a positive number")
    return size


def _read_dataset(path: Path, dataset) -> np.ndarray:
    try:
        return dataset[()]
    except (OSError, ValueError, KeyError) as err:
        raise LocalizationFileError(f"{path}: cannot read {dataset.name} ({err})") from err


def _load_decode(path: Path) -> _Raw:
    """DECODE: HDF5 (``emitter_io.save_h5``: group ``data`` with ``xyz`` (n, 3), ``phot``,
    ``frame_ix``, ``id``, ``prob``, ``bg``, ``xyz_sig``, ``xyz_cr``...; ``meta`` attributes
    ``xy_unit`` (``px``/``nm``) and ``px_size``) or CSV (``save_csv``: ``# DECODE
    EmitterSet``, a JSON line of DECODE's and one of the emitters' metadata, then ``x,y,z,phot,
    frame_ix,...``)."""
    head = _head(path)
    if head.startswith(HDF5_SIGNATURE):
        with _open_hdf5(path) as f:
            if "data" not in f or "xyz" not in f["data"]:
                raise LocalizationFileError(
                    f"{path}: no DECODE 'data/xyz' dataset; the file has {sorted(f.keys())}"
                )
            meta = dict(f["meta"].attrs) if "meta" in f else {}
            columns = {}
            for key, dataset in f["data"].items():
                if dataset.shape is None:  # DECODE stores an all-NaN column as empty
                    continue
                values = _read_dataset(path, dataset)
                if key.startswith("xyz"):
                    suffix = key[3:]
                    for i, axis in enumerate("xyz"[: values.shape[1] if values.ndim > 1 else 0]):
                        columns[axis + suffix] = values[:, i]
                elif values.ndim == 1:
                    columns[key] = values
            table = pd.DataFrame(columns)
    else:
        lines = _text(path).split("\n", 3)
        if len(lines) < 4 or not lines[0].startswith("# DECODE"):
            raise LocalizationFileError(
                f"{path}: not a DECODE file (HDF5, or CSV starting with '# DECODE EmitterSet')"
            )
        try:
            meta = json.loads(lines[2].lstrip("#").strip())
        except json.JSONDecodeError as err:
            raise LocalizationFileError(
                f"{path}: line 3 is not DECODE's emitter metadata (JSON) ({err})"
            ) from err
        table = _read_csv_text(path, lines[3])
    unit = meta.get("xy_unit", "nm")
    unit = unit.decode() if isinstance(unit, bytes) else str(unit)
    size = meta.get("px_size")
    sizes = np.atleast_1d(np.asarray(size, dtype=float)) if size is not None else []
    if len(sizes) and not np.allclose(sizes, sizes[0]):
        raise LocalizationFileError(f"{path}: unequal pixel sizes {list(sizes)} not supported")
    units = {c: unit for c in ("x", "y", "x_sig", "y_sig")}
    hint = "DECODE's metadata has no px_size"
    return _Raw(table, units, _pixel_size(path, list(sizes[:1])), pixel_hint=hint)


def _read_csv_text(path: Path, text: str) -> pd.DataFrame:
    try:
        table = pd.read_csv(io.StringIO(text))
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise LocalizationFileError(f"{path}: cannot read table ({err})") from err
    table.columns = [str(c).strip() for c in table.columns]
    return table


def _load_smap(path: Path) -> _Raw:
    """SMAP: ``*_sml.csv`` (columns ``xnm``, ``ynm``, ``frame``, ``locprecnm``, ``phot``,
    ``bg``...) or a ``.mat`` with the ``saveloc.loc`` struct of the same fields (MATLAB v7 via
    ``scipy.io.loadmat``, v7.3 = HDF5 via h5py); struct fields of another length than ``frame``
    (none in SMAP's files) are left out."""
    head = _head(path)
    if head.startswith(b"MATLAB 7.3") or head.startswith(HDF5_SIGNATURE):
        with _open_hdf5(path) as f:
            loc = f.get("saveloc/loc")
            if loc is None or not hasattr(loc, "keys"):
                raise LocalizationFileError(
                    f"{path}: no SMAP 'saveloc.loc' struct; the file has {sorted(f.keys())}"
                )
            fields = {
                k: np.ravel(_read_dataset(path, v)) for k, v in loc.items() if hasattr(v, "shape")
            }
    elif head.startswith(b"MATLAB"):
        fields = _mat_fields(path)
    else:
        return _load_text(path)
    n = len(fields.get("xnm", fields.get("frame", ())))
    return _Raw(pd.DataFrame({k: v for k, v in fields.items() if len(v) == n}))


def _mat_fields(path: Path) -> dict[str, np.ndarray]:
    from scipy.io import loadmat

    try:
        mat = loadmat(path, simplify_cells=True, variable_names=["saveloc"])
    except (ValueError, OSError, TypeError, NotImplementedError) as err:
        raise LocalizationFileError(f"{path}: cannot read MAT-file ({err})") from err
    loc = mat.get("saveloc", {})
    loc = loc.get("loc") if isinstance(loc, dict) else None
    if not isinstance(loc, dict):
        raise LocalizationFileError(
            f"{path}: no SMAP 'saveloc.loc' struct (variables: {sorted(mat)})"
        )
    return {k: np.atleast_1d(np.asarray(v)).ravel() for k, v in loc.items()}


LOADERS = {
    "benchmark": _load_text,
    "thunderstorm": _load_text,
    "generic": _load_text,
    "nstorm": _load_text,
    "elyra": _load_text,
    "smap": _load_smap,
    "rapidstorm": _load_rapidstorm,
    "decode": _load_decode,
    "picasso": _load_picasso,
}


# ----------------------------------------------------------------------------- columns, units
def _match(present: pd.Index, name: str) -> str | None:
    """``name`` itself, else a column ``name [unit]``/``name (unit)``."""
    if name in present:
        return name
    for col in present:
        if col.startswith(name + " ") and _UNIT.search(col[len(name) :]):
            return col
    return None


def _source_columns(
    path: Path, raw: pd.DataFrame, fmt: str, columns: Mapping[str, str]
) -> dict[str, tuple[str, ...]]:
    """Canonical name -> file column(s), for the columns that exist; checks required ones."""
    present = raw.columns
    source: dict[str, tuple[str, ...]] = {}
    for name, candidates in DEFAULT_COLUMNS[fmt].items():
        for candidate in candidates:
            spec = (candidate,) if isinstance(candidate, str) else candidate
            found = tuple(_match(present, c) for c in spec)
            if all(found) and not all(raw[c].isna().all() for c in found):
                source[name] = found
                break
    source.update({name: (col,) for name, col in columns.items()})
    wanted = dict.fromkeys(REQUIRED[fmt]) | dict.fromkeys(columns)
    missing = [
        f"{name} ({columns.get(name) or _describe(DEFAULT_COLUMNS[fmt].get(name, (name,)))})"
        for name in wanted
        if not all(c in present for c in source.get(name, (None,)))
    ]
    if missing:
        known = ", ".join(f for f in FORMATS if f not in ("auto", "generic"))
        raise LocalizationFileError(
            f"{path}: missing columns for format {fmt!r}: {', '.join(missing)}; "
            f"the file has columns {list(present)}. {_mapping_hint(present)}Known formats: "
            f"{known}, or generic with a column mapping (CLI --column x=NAME)"
        )
    return {name: source[name] for name in CANONICAL if name in source}


def _mapping_hint(present: pd.Index) -> str:
    """Columns that look like coordinates under another name (e.g. ``X_nm``, ``Y_nm``): the
    mapping that reads them."""
    like = {a: [c for c in present if c != a and re.match(rf"(?i){a}(?![a-z])", c)] for a in "xy"}
    if {"x", "y"} - set(present) and like["x"] and like["y"]:
        pairs = " ".join(f"--column {a}={like[a][0]}" for a in "xy")
        mapping = {a: like[a][0] for a in "xy"}
        return f"Map your coordinate columns: {pairs} (miro apply), columns: {mapping} (config). "
    return ""


def _describe(candidates) -> str:
    return " or ".join(c if isinstance(c, str) else " and ".join(c) for c in candidates)


def _to_nm(path: Path, raw: _Raw, spec: tuple[str, ...]) -> tuple[str, float]:
    """Unit of the source column(s) (from ``[unit]`` in the name, else the format's) and nm per
    unit."""
    units = set()
    for col in spec:
        unit = _UNIT.search(col)
        units.add((unit.group(1) if unit else raw.units.get(col, "nm")).strip())
    if len(units) > 1:
        raise LocalizationFileError(f"{path}: columns {list(spec)} have different units {units}")
    unit = units.pop()
    if unit.lower() in PIXEL_UNITS:
        if raw.pixel_size_nm is None:
            where = f" ({raw.pixel_hint})" if raw.pixel_hint else ""
            raise LocalizationFileError(
                f"{path}: column {spec[0]!r} is in camera pixels and the pixel size is unknown"
                f"{where}; give it (pixel_size_nm, CLI --pixel-size-nm) or export in nm"
            )
        return unit, raw.pixel_size_nm
    factor = NM_PER_UNIT.get(unit) or NM_PER_UNIT.get(unit.lower())
    if factor is None:
        raise LocalizationFileError(
            f"{path}: column {spec[0]!r} is in {unit!r}; coordinates must be in nm, µm, m or "
            "camera pixels (with a pixel size); export in nm or convert the file"
        )
    return unit, factor


def _numeric(path: Path, raw: pd.DataFrame, name: str, col: str) -> pd.Series:
    """Column ``col`` as float64 (int64 for labels/frames); names the first bad line otherwise."""
    values = pd.to_numeric(raw[col], errors="coerce").astype("float64")
    bad = ~np.isfinite(values.to_numpy())
    if name in INTEGER_COLUMNS:
        bad |= values.to_numpy() % 1 != 0
    if name == "index":
        bad |= values.to_numpy() < 0
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        kind = "a non-negative integer" if name == "index" else "an integer"
        want = kind if name in INTEGER_COLUMNS else "a finite number"
        raise LocalizationFileError(
            f"{path}: column {col!r} must hold {want} on every row; data row {row + 1} has "
            f"{raw[col].iloc[row]!r} ({int(bad.sum())} bad rows in total)"
        )
    return values.astype("int64") if name in INTEGER_COLUMNS else values
