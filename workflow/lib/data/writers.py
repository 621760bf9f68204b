"""Localization files out, with a cluster column, in formats other tools reopen: MIRO's clusters
on users' acquisitions (paper Figs. 4b-e and 5c-f) taken back to the tools they came from.

The labelled table of `miro.applications.apply` (the canonical ``x``, ``y`` in nm and
``frame``/``uncertainty`` when present, every input column, then the cluster labels: 0 =
non-clustered, k > 0 = cluster k; docs/reference.md#labels) is written as

- ``thunderstorm``: a ThunderSTORM-style CSV, ``"id","frame","x [nm]","y [nm]",
  "uncertainty [nm]"``, every other input column unchanged, then ``"cluster"`` (ThunderSTORM's
  import takes any extra column; frames numbered from 1 as ThunderSTORM does);
- ``picasso``: a Picasso HDF5 file (dataset ``locs``: ``frame`` (from 0), ``x``, ``y`` and
  ``lpx``, ``lpy`` in camera pixels, float32 like Picasso's own files, every other numeric input
  column, then ``group`` (int32, replacing an input ``group``) = cluster - 1, i.e. Picasso's
  groups 0, 1, ... and -1 for non-clustered localizations (Picasso's DBSCAN drops those; here
  every localization is kept, so Picasso's Filter on ``group >= 0`` gives Picasso's own
  convention)) and the sidecar
  ``<name>.yaml`` that ``picasso.io.load_locs`` reads: the source's Picasso documents, or one with
  ``Width``, ``Height``, ``Frames`` and ``Pixelsize`` (nm), followed by one saying what
  ``group`` holds.

:func:`miro.data.readers.read_localizations` reads both back (the round trip keeps coordinates,
frames and the cluster column; tests/lib/data/test_writers.py). Files are written atomically
(:mod:`miro.files`).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from miro.files import atomic_path, write_csv_atomic, write_text_atomic

WRITE_FORMATS = ("thunderstorm", "picasso")
SUFFIXES = {"thunderstorm": (".csv",), "picasso": (".hdf5", ".yaml")}
PICASSO_NOISE_GROUP = -1
_THUNDERSTORM_NAMES = {"x": "x [nm]", "y": "y [nm]", "uncertainty": "uncertainty [nm]"}


def write_localizations(
    table: pd.DataFrame,
    path: str | os.PathLike,
    fmt: str,
    cluster: str,
    pixel_size_nm: float | None = None,
) -> list[Path]:
    """Write ``table`` with its label column ``cluster`` as ``fmt`` (one of `WRITE_FORMATS`);
    returns the written paths (Picasso: the HDF5 file and its YAML sidecar)."""
    if fmt == "thunderstorm":
        return [write_thunderstorm_csv(table, path, cluster)]
    if fmt == "picasso":
        return write_picasso_hdf5(table, path, cluster, pixel_size_nm)
    raise ValueError(f"unknown output format {fmt!r}; choose one of {WRITE_FORMATS}")


def write_thunderstorm_csv(
    table: pd.DataFrame, path: str | os.PathLike, cluster: str, name: str = "cluster"
) -> Path:
    """ThunderSTORM-style CSV of ``table`` (module docstring); ``cluster`` is written last as
    ``name``. ``id`` is kept from the input or numbered from 1."""
    labels = _labels(table, cluster)
    out = pd.DataFrame(index=table.index)
    out["id"] = table["id"] if "id" in table else np.arange(1, len(table) + 1)
    if "frame" in table:
        out["frame"] = table["frame"] + (1 - _origin(table, 1))
    for canonical, column in _THUNDERSTORM_NAMES.items():
        if canonical in table:
            out[column] = table[canonical]
    rest = [c for c in table.columns if c not in (*out.columns, *_canonical(table), cluster)]
    _check_free(out.columns, rest, name, path)
    out = pd.concat([out, table[rest]], axis=1)
    out[name] = labels
    return write_csv_atomic(out, path)


def write_picasso_hdf5(
    table: pd.DataFrame,
    path: str | os.PathLike,
    cluster: str,
    pixel_size_nm: float | None = None,
) -> list[Path]:
    """Picasso HDF5 + YAML of ``table`` (module docstring). The pixel size is ``pixel_size_nm``,
    else the source file's (``attrs["source"]``); ValueError without either."""
    import h5py  # only this writer needs it

    source = table.attrs.get("source", {})
    size = pixel_size_nm if pixel_size_nm is not None else source.get("pixel_size_nm")
    if size is None or not size > 0:
        raise ValueError(
            f"{path}: Picasso stores camera pixels: give the pixel size in nm (pixel_size_nm, "
            "CLI --pixel-size-nm); the input file does not state one"
        )
    labels = _labels(table, cluster)
    fields: dict[str, np.ndarray] = {}
    if "frame" in table:
        fields["frame"] = (table["frame"] - _origin(table, 0)).to_numpy()
        if fields["frame"].min() < 0:
            raise ValueError(f"{path}: frames must be >= 0 for Picasso, got {table['frame'].min()}")
    fields["x"] = table["x"].to_numpy() / size
    fields["y"] = table["y"].to_numpy() / size
    if "uncertainty" in table and not {"lpx", "lpy"} <= set(table.columns):
        fields["lpx"] = fields["lpy"] = table["uncertainty"].to_numpy() / size
    skip = {*_canonical(table), cluster, "group", *fields}
    for column in table.columns:
        if column not in skip and pd.api.types.is_numeric_dtype(table[column]):
            fields[column] = table[column].to_numpy()
    fields["group"] = labels - 1
    dtype = [(k, _picasso_type(k, v)) for k, v in fields.items()]
    locs = np.rec.fromarrays(
        [v.astype(t) for (_, t), v in zip(dtype, fields.values(), strict=True)], dtype
    )
    path = Path(path)
    info = [
        doc
        for doc in source.get("info", [])
        if isinstance(doc, dict) and doc.get("Generated by") != _GENERATOR
    ]
    if not info:
        info = [
            {
                "Width": int(np.ceil(max(fields["x"].max(), 0))) + 1,
                "Height": int(np.ceil(max(fields["y"].max(), 0))) + 1,
                "Frames": int(fields["frame"].max()) + 1 if "frame" in fields else 1,
                "Pixelsize": float(size),
            }
        ]
    info.append(
        {
            "Generated by": _GENERATOR,
            "Pixelsize": float(size),
            "group": f"cluster - 1 from column {cluster!r}; {PICASSO_NOISE_GROUP} = non-clustered",
        }
    )
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.create_dataset("locs", data=locs)
    sidecar = write_text_atomic(
        path.with_suffix(".yaml"), yaml.safe_dump_all(info, sort_keys=False)
    )
    return [path, sidecar]


_GENERATOR = "miro (miro.data.writers)"


def _picasso_type(name: str, values: np.ndarray) -> str:
    """Picasso's field types (``picasso.localize``): frame u4, group i4, other numbers f4."""
    if name == "frame":
        return "u4"
    if name == "group":
        return "i4"
    return "i4" if np.issubdtype(values.dtype, np.integer) else "f4"


def _labels(table: pd.DataFrame, cluster: str) -> np.ndarray:
    if cluster not in table:
        raise ValueError(f"no label column {cluster!r}; columns are {list(table.columns)}")
    labels = table[cluster].to_numpy()
    if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0:
        raise ValueError(f"label column {cluster!r} must hold integers >= 0 (0 = non-clustered)")
    return labels.astype(np.int64)


def _canonical(table: pd.DataFrame) -> list[str]:
    """The canonical columns of ``table`` that the writers write under their own names."""
    return [c for c in ("x", "y", "frame", "uncertainty") if c in table]


def _origin(table: pd.DataFrame, default: int) -> int:
    """Number of the source's first frame (``attrs["source"]``), else ``default`` (keep)."""
    origin = table.attrs.get("source", {}).get("frame_origin")
    return default if origin is None else origin


def _check_free(written: pd.Index, rest: list[str], name: str, path) -> None:
    clash = sorted(set(rest) & {*written, name})
    if clash:
        raise ValueError(
            f"{path}: input columns {clash} would be written twice (ThunderSTORM names); "
            "rename them in the input"
        )
