"""Localization files in, result files out.

Input: one SMLM point cloud (one field of view) per file, as the benchmark's CSVs (``x,y,index`` in
nm, index 0 = non-clustered, k > 0 = cluster k; docs/reference.md#labels), a ThunderSTORM export
(the paper's experimental data was processed with ThunderSTORM, Methods) or any CSV/TSV with a
column mapping. Every reader returns the canonical columns ``x``, ``y`` (nm, float64) and, when
present, ``index`` (ground-truth label), ``frame`` and ``uncertainty`` (nm), followed by all other
input columns unchanged, so that outputs can put labels next to what the user gave.

"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

FORMATS = ("auto", "benchmark", "thunderstorm", "generic")
CANONICAL = ("x", "y", "index", "frame", "uncertainty")
REQUIRED = {"benchmark": ("x", "y", "index"), "thunderstorm": ("x", "y"), "generic": ("x", "y")}
INTEGER_COLUMNS = ("index", "frame")
MIN_LOCALIZATIONS = 3

#: Default source column (or candidates, first present wins) of each canonical column.
DEFAULT_COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "benchmark": {"x": ("x",), "y": ("y",), "index": ("index",)},
    "thunderstorm": {
        "x": ("x [nm]",),
        "y": ("y [nm]",),
        "frame": ("frame",),
        "uncertainty": ("uncertainty [nm]", "uncertainty_xy [nm]"),
    },
    "generic": {name: (name,) for name in CANONICAL},
}
_UNIT = re.compile(r"[\[(]\s*([^\])]*?)\s*[\])]\s*$")
_THUNDERSTORM_XY = re.compile(r"^[xy] [\[(]")


class LocalizationFileError(ValueError):
    """A localization file that cannot be used; the message names the file and the problem."""


def read_localizations(
    path: str | os.PathLike, fmt: str = "auto", columns: Mapping[str, str] | None = None
) -> pd.DataFrame:
    """Read one field of view of localizations into the canonical columns (see module docstring).

    Args:
        path: CSV or TSV file (delimiter from the ``.tsv``/``.tab`` extension, else sniffed).
        fmt: ``benchmark`` (``x,y,index``), ``thunderstorm`` (``x [nm]``, ``y [nm]``, optional
            ``frame``, ``uncertainty [nm]``), ``generic`` (needs ``columns`` unless the file
            already has ``x``, ``y``) or ``auto`` (ThunderSTORM if its ``x [unit]`` header is
            found, else generic; a benchmark file then gets its ``index`` too).
        columns: canonical name -> column name in the file, e.g. ``{"x": "X_nm", "y": "Y_nm"}``;
            overrides the format's defaults.

    Raises:
        LocalizationFileError: missing/unreadable/empty file, missing columns, coordinates not
            in nm, non-numeric or non-finite values, non-integer labels or frames, fewer than 3
            localizations.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown localization format {fmt!r}; choose one of {FORMATS}")
    unknown = set(columns or {}) - set(CANONICAL)
    if unknown:
        raise ValueError(f"column mapping keys {sorted(unknown)} unknown; allowed: {CANONICAL}")
    path = Path(path)
    raw = _read_table(path)
    if fmt == "auto":
        fmt = "thunderstorm" if any(_THUNDERSTORM_XY.match(c) for c in raw.columns) else "generic"
    source = _source_columns(path, raw.columns, fmt, columns or {})
    extras = [c for c in raw.columns if c not in source.values()]
    clash = sorted(set(extras) & set(source))
    if clash:
        raise LocalizationFileError(
            f"{path}: columns {clash} exist besides the columns mapped to them "
            f"({[source[k] for k in clash]}); rename them in the file"
        )
    out = pd.DataFrame({name: _numeric(path, raw, name, col) for name, col in source.items()})
    out = pd.concat([out, raw[extras]], axis=1)
    if len(out) < MIN_LOCALIZATIONS:
        raise LocalizationFileError(
            f"{path}: {len(out)} localizations, at least {MIN_LOCALIZATIONS} are needed"
        )
    return out


def _read_table(path: Path) -> pd.DataFrame:
    """Read the whole file with the sniffed delimiter; every failure -> LocalizationFileError."""
    if not path.is_file():
        raise LocalizationFileError(f"{path}: no such file")
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            sample = f.read(65536)
        if not sample.strip():
            raise LocalizationFileError(f"{path}: file is empty")
        raw = pd.read_csv(path, sep=_delimiter(path, sample), encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise LocalizationFileError(f"{path}: cannot read file ({err})") from err
    if raw.empty:
        raise LocalizationFileError(f"{path}: file is empty (header only, no localizations)")
    raw.columns = [str(c).strip() for c in raw.columns]
    return raw


def _delimiter(path: Path, sample: str) -> str:
    if path.suffix.lower() in (".tsv", ".tab"):
        return "\t"
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        return ","


def _source_columns(
    path: Path, present: pd.Index, fmt: str, columns: Mapping[str, str]
) -> dict[str, str]:
    """Canonical name -> file column, for the columns that exist; checks required ones and units."""
    source = {}
    for name, candidates in DEFAULT_COLUMNS[fmt].items():
        found = [c for c in candidates if c in present]
        if found:
            source[name] = found[0]
    source.update(columns)
    wanted = dict.fromkeys(REQUIRED[fmt]) | dict.fromkeys(columns)
    missing = [
        f"{name} ({source.get(name) or ' or '.join(DEFAULT_COLUMNS[fmt].get(name, (name,)))})"
        for name in wanted
        if source.get(name) not in present
    ]
    if missing:
        hint = _unit_hint(present)
        raise LocalizationFileError(
            f"{path}: missing columns for format {fmt!r}: {', '.join(missing)}; "
            f"the file has columns {list(present)}" + (f". {hint}" if hint else "")
        )
    for name in ("x", "y", "uncertainty"):
        unit = _UNIT.search(source.get(name, ""))
        if unit and unit.group(1).lower() != "nm":
            raise LocalizationFileError(
                f"{path}: column {source[name]!r} is in {unit.group(1)!r}, coordinates must be "
                "in nm; export in nm (ThunderSTORM: set the camera pixel size and export "
                "x [nm], y [nm]) or convert the file"
            )
    return {name: source[name] for name in CANONICAL if name in source}


def _unit_hint(present: pd.Index) -> str:
    """Explain a ThunderSTORM export whose coordinates are not in nm (e.g. ``x [px]``)."""
    units = [c for c in present if _THUNDERSTORM_XY.match(c) and not c.endswith("[nm]")]
    if units:
        return f"Coordinates {units} are not in nm: export them from ThunderSTORM in nm"
    like = {a: [c for c in present if c != a and re.match(rf"(?i){a}(?![a-z])", c)] for a in "xy"}
    if {"x", "y"} - set(present) and like["x"] and like["y"]:  # e.g. X_nm, Y_nm: suggest a mapping
        pairs = " ".join(f"--column {a}={like[a][0]}" for a in "xy")
        mapping = {a: like[a][0] for a in "xy"}
        return f"Map your coordinate columns: {pairs} (miro apply), columns: {mapping} (config)"
    return ""


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
