#!/usr/bin/env python3
"""Compare the tables and metric files of two workflow runs (e.g. before and after a refactor).

    python scripts/compare_results.py BEFORE_DIR AFTER_DIR

Every CSV under ``results/tables`` and ``results/ablations`` and every per-FOV ``metrics.csv``
(``results/<dataset>/metrics.csv`` before the run layout, ``results/<dataset>/miro/metrics.csv``
after; the multiscale and adjacent summaries) is read from both folders and compared value by
value, on the columns it had before (columns added since, such as flags, are listed, not
compared); columns measuring time (``*seconds*``) are left out. Prints one line per file
(identical, or the largest absolute difference and where) and exits 1 when anything differs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def tables(root: Path) -> dict[str, Path]:
    """Comparable files of one run by a layout-independent name."""
    results = root / "results"
    files = {}
    for folder in ("tables", "ablations"):
        files |= {f"{folder}/{p.name}": p for p in (results / folder).glob("*.csv")}
    for path in results.glob("*/metrics.csv"):
        files[f"{path.parent.name}/metrics.csv"] = path
    for path in results.glob("*/miro/metrics.csv"):
        files[f"{path.parent.parent.name}/metrics.csv"] = path
    for path in [*results.glob("*/multiscale/*.csv"), *results.glob("adjacent/*/*.csv")]:
        files[str(path.relative_to(results))] = path
    return files


def difference(before: pd.DataFrame, after: pd.DataFrame) -> str | None:
    """None when equal, else a short description of the first difference."""
    keep = [c for c in before.columns if "seconds" not in c]
    missing = [c for c in keep if c not in after.columns]
    if missing:
        return f"columns {missing} missing after"
    before, after = before[keep], after[keep]
    if before.shape != after.shape:
        return f"shape {before.shape} vs {after.shape}"
    numeric = before.select_dtypes("number").columns
    other = [c for c in keep if c not in numeric]
    if not before[other].astype(str).equals(after[other].astype(str)):
        return "non-numeric values differ"
    a, b = before[numeric].to_numpy(float), after[numeric].to_numpy(float)
    same = (a == b) | (np.isnan(a) & np.isnan(b))
    if same.all():
        return None
    delta = np.where(same, 0.0, np.abs(a - b))
    row, col = np.unravel_index(np.nanargmax(np.nan_to_num(delta, nan=np.inf)), delta.shape)
    return f"max |diff| {delta[row, col]:.3g} in column {numeric[col]!r}, row {row}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    args = parser.parse_args()
    old, new = tables(args.before), tables(args.after)
    differ = 0
    for name in sorted(old.keys() | new.keys()):
        if name not in old or name not in new:
            print(f"{name}: only in {'after' if name in new else 'before'}")
            differ += 1
            continue
        before, after = pd.read_csv(old[name]), pd.read_csv(new[name])
        found = difference(before, after)
        added = [c for c in after.columns if c not in before.columns]
        print(f"{name}: {found or 'identical'}" + (f" (added columns {added})" if added else ""))
        differ += found is not None
    print(f"{len(old.keys() & new.keys())} files compared, {differ} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
