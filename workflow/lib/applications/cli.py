"""The ``miro`` command line: ``miro apply`` runs a trained MIRO on your localization files.

Example::

    miro apply cell1.csv cell2.csv --checkpoint model.pt --eps 20 --min-samples 5 \\
        --baseline-eps 60 --baseline-min-samples 5 --out results/
    miro apply cells/ --checkpoint model.pt --clusterer hdbscan --min-cluster-size 10 \\
        --unit um --out results/

Subcommands keep room for more tools. Exit codes: 0 success, 2 bad input (unreadable or invalid
file, checkpoint or option, existing outputs without ``--force``; one line naming the file), all
checked before the squeeze.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from miro.applications.apply import CLUSTERERS, INPUT_SUFFIXES, UNITS, apply_to_files
from miro.data.readers import CANONICAL, FORMATS
from miro.data.writers import WRITE_FORMATS

BAD_INPUT = 2


def _column(text: str) -> tuple[str, str]:
    """``x=X_COL`` -> ("x", "X_COL")."""
    name, sep, column = text.partition("=")
    if not sep or not column or name not in CANONICAL:
        raise argparse.ArgumentTypeError(
            f"expected NAME=COLUMN with NAME one of {', '.join(CANONICAL)}, got {text!r}"
        )
    return name, column


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="miro", description=__doc__.split("\n")[0])
    commands = main.add_subparsers(dest="command", required=True)
    apply = commands.add_parser(
        "apply",
        help="squeeze localization files with a trained MIRO, then cluster them with DBSCAN",
        description=(
            "Writes <stem>.labels.csv (input columns + x_squeezed, y_squeezed, miro_cluster [+ "
            "miro_class] [+ dbscan_cluster]), <stem>.clusters_miro.csv [+ _dbscan], "
            "<stem>.map.png and <stem>.histograms.png per input file into OUT, then a summary "
            "line per file. Details: docs/apply.md."
        ),
    )
    apply.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUT",
        help="localization files (ThunderSTORM, Picasso, SMAP, rapidSTORM, DECODE, N-STORM, "
        "ELYRA, CSV/TSV; the reader is picked by content), or folders (their files with "
        "suffixes " + ", ".join(INPUT_SUFFIXES) + ")",
    )
    apply.add_argument("--checkpoint", required=True, help="trained MIRO checkpoint (model.pt)")
    apply.add_argument(
        "--clusterer",
        choices=CLUSTERERS,
        default="dbscan",
        help="clustering of the squeezed localizations (default: dbscan, as in the paper)",
    )
    apply.add_argument(
        "--eps",
        type=float,
        help="DBSCAN eps after MIRO, nm of the squeezed space (required with dbscan)",
    )
    apply.add_argument(
        "--min-samples",
        type=int,
        help="min_samples after MIRO (required with dbscan; optional with hdbscan)",
    )
    apply.add_argument(
        "--min-cluster-size", type=int, help="HDBSCAN min_cluster_size (required with hdbscan)"
    )
    apply.add_argument(
        "--baseline-eps", type=float, help="also run plain DBSCAN with this eps (nm)"
    )
    apply.add_argument("--baseline-min-samples", type=int, help="min_samples of plain DBSCAN")
    apply.add_argument("--format", choices=FORMATS, default="auto", help="input format")
    apply.add_argument(
        "--column",
        type=_column,
        action="append",
        default=[],
        metavar="NAME=COLUMN",
        help="map a canonical column to a file column, e.g. --column x=X_nm (repeatable)",
    )
    apply.add_argument(
        "--unit",
        choices=tuple(UNITS),
        default="nm",
        help="unit of the x, y (and uncertainty) columns (default nm; px needs --pixel-size)",
    )
    apply.add_argument(
        "--pixel-size",
        type=float,
        help="camera pixel size in nm: for --unit px, and for files in pixels by their format "
        "(Picasso, DECODE, 'x [px]'), overriding the file's own",
    )
    apply.add_argument(
        "--output-format",
        choices=WRITE_FORMATS,
        action="append",
        default=[],
        help="also write the MIRO clusters as <stem>.thunderstorm.csv (cluster column) or "
        "<stem>.picasso.hdf5 + .yaml (group column) (repeatable)",
    )
    apply.add_argument(
        "--window-nm",
        type=float,
        help="window size in nm = extent of the training FOVs (default: from the checkpoint)",
    )
    apply.add_argument(
        "--overlap-nm",
        type=float,
        help="halo around each window core in nm (default: one connectivity radius)",
    )
    apply.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto")
    apply.add_argument("--out", required=True, help="output folder")
    apply.add_argument("--force", action="store_true", help="overwrite existing outputs")
    apply.set_defaults(run=_apply)
    return main


def _apply(args: argparse.Namespace) -> None:
    if (args.baseline_eps is None) != (args.baseline_min_samples is None):
        raise ValueError("give both --baseline-eps and --baseline-min-samples, or neither")
    baseline = None
    if args.baseline_eps is not None:
        baseline = {"eps": args.baseline_eps, "min_samples": args.baseline_min_samples}
    if args.clusterer == "dbscan":
        if args.eps is None or args.min_samples is None or args.min_cluster_size is not None:
            raise ValueError(
                "--clusterer dbscan takes --eps and --min-samples (not --min-cluster-size)"
            )
        params = {"miro_dbscan": {"eps": args.eps, "min_samples": args.min_samples}}
    else:
        if args.min_cluster_size is None or args.eps is not None:
            raise ValueError(
                "--clusterer hdbscan takes --min-cluster-size and optionally --min-samples "
                "(not --eps)"
            )
        hdbscan = {"min_cluster_size": args.min_cluster_size, "min_samples": args.min_samples}
        params = {"miro_hdbscan": hdbscan}
    written = apply_to_files(
        args.inputs,
        args.checkpoint,
        **params,
        clusterer=args.clusterer,
        baseline_dbscan=baseline,
        out_dir=args.out,
        fmt=args.format,
        columns=dict(args.column) or None,
        unit=args.unit,
        pixel_size_nm=args.pixel_size,
        window_nm=args.window_nm,
        overlap_nm=args.overlap_nm,
        device=args.device,
        force=args.force,
        output_formats=args.output_format,
    )
    for applied in written:
        print(applied.paths["labels"])
    print("summary:")
    for applied in written:
        print(f"  {applied.summary}")
        for warning in applied.warnings:
            print(f"  WARNING {warning}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (2 on bad input, with the reason on stderr)."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        return int(exit_.code or 0)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        args.run(args)
    except (ValueError, FileNotFoundError) as err:  # LocalizationFileError is a ValueError
        print(f"miro {args.command}: error: {err}", file=sys.stderr)
        return BAD_INPUT
    return 0


if __name__ == "__main__":
    sys.exit(main())
