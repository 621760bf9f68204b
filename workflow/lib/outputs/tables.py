"""Result tables: the paper's Table 1, a scorecard against the paper, and the statistics table.

Inputs are the long metrics table (columns ``dataset, fov, method, metric, value``; methods
``MIRO`` = MIRO + DBSCAN and ``DBSCAN`` = plain DBSCAN) and the statistics table of
``miro.evaluation.stats.paired_tests``. Cells are printed as ``mean ± sd`` with the paper's rounding
(:func:`format_pm`). RMSE_x,y comes in two conventions (docs/reference.md#metrics): ``RMSE_xy`` is
the paper's equation (root mean square centroid distance, nm) and ``RMSE_xy_published`` is
sqrt(mean centroid distance) (√nm), the convention behind the paper's printed numbers.
Every writer is atomic (:func:`miro.files.atomic_path`).

Flagged FOVs (``miro.evaluation.metrics``: ``duplicate_of`` and ``degenerate`` columns of the
long table) are counted, not averaged silently: a FOV whose localizations duplicate another
test FOV is left out, so each distinct FOV counts once (:func:`distinct_fovs`, also the input
of the statistics); a degenerate FOV × method keeps the reference's score in the means (the
paper's conventions) and is counted per dataset × method. Table 1 carries the counts
(``n_duplicates``, ``n_degenerate``, ``flags``) and every written table says in a note how
many FOVs were flagged and why (:func:`flag_notes`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from miro.evaluation.landscape import SUMMARY_COLUMNS, TOLERANCE
from miro.evaluation.metrics import DEGENERATE, LONG_COLUMNS, METRICS, distinct_fovs
from miro.files import write_csv_atomic, write_text_atomic

METHODS = ("MIRO", "DBSCAN")
"""Row order of Table 1: MIRO + DBSCAN, then plain DBSCAN."""

TABLE1_COLUMNS = METRICS
"""Table 1 columns as written here: the paper's 8, then ``RMSE_xy_published``."""

TABLE1_METRICS = METRICS[:8]
"""The paper's Table 1 columns, in its order (RMSE_xy here in the paper-equation convention)."""

STATS_COLUMNS = (
    *("dataset", "metric", "n", "MIRO_mean", "MIRO_sd", "DBSCAN_mean", "DBSCAN_sd"),
    *("W", "p", "d", "stars"),
)
SCORECARD_COLUMNS = (
    *("dataset", "paper_dataset", "method", "metric", "ours_mean", "ours_sd"),
    *("paper_mean", "paper_sd"),
    *("diff", "diff_in_paper_sd", "convention"),
)

LABELS = {
    "ARI_dagger": "ARI†",
    "IoU": "IoU",
    "JI_c": "JI_c",
    "RMSRE_N": "RMSRE_N",
    "RMSE_xy": "RMSE_x,y (nm)",
    "AMI": "AMI",
    "ARI_c": "ARI_c",
    "ARI": "ARI",
    "RMSE_xy_published": "RMSE_x,y published (√nm)",
}
"""Plain-text (Markdown) column labels."""

LATEX_LABELS = {
    "ARI_dagger": r"ARI$^\dagger$",
    "IoU": "IoU",
    "JI_c": r"JI$_c$",
    "RMSRE_N": r"RMSRE$_N$",
    "RMSE_xy": r"RMSE$_{x,y}$ (nm)",
    "AMI": "AMI",
    "ARI_c": r"ARI$_c$",
    "ARI": "ARI",
    "RMSE_xy_published": r"RMSE$_{x,y}$ published ($\sqrt{\mathrm{nm}}$)",
}
"""LaTeX labels; also valid matplotlib mathtext, so ``miro.outputs.figures`` reuses them."""

RMSE_NOTE = (
    "RMSE_x,y (nm) follows the paper's equation: root mean square of the centroid distances of "
    "paired clusters. RMSE_x,y published (√nm) is sqrt(mean centroid distance), the convention "
    "that produced the paper's printed RMSE_x,y numbers."
)
PUBLISHED_CONVENTION = "ours RMSE_xy_published (sqrt of mean centroid distance, √nm) vs paper"
SAME_CONVENTION = "same definition"


def _require_columns(df: pd.DataFrame, columns: Sequence[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what} lacks columns {missing} (has {list(df.columns)})")


def check_long(long_df: pd.DataFrame, metrics: Sequence[str]) -> None:
    """Raise ``ValueError`` unless every dataset has every method × metric, each FOV once."""
    _require_columns(long_df, LONG_COLUMNS, "metrics table")
    if long_df.empty:
        raise ValueError("metrics table is empty")
    keys = list(LONG_COLUMNS[:4])
    duplicated = long_df.duplicated(keys)
    if duplicated.any():
        first = long_df.loc[duplicated, keys].iloc[0].to_dict()
        raise ValueError(f"metrics table has duplicated rows, e.g. {first}")
    present = set(zip(long_df["dataset"], long_df["method"], long_df["metric"], strict=True))
    for dataset in long_df["dataset"].unique():
        for method in METHODS:
            missing = [m for m in metrics if (dataset, method, m) not in present]
            if missing:
                raise ValueError(
                    f"metrics table: dataset {dataset!r}, method {method!r} lacks metrics {missing}"
                )


#: Table 1's count columns: the distinct FOVs, the FOVs left out as duplicates and which, the
#: degenerate FOVs of the method and why.
FLAG_COLUMNS = ("n", "n_duplicates", "duplicates", "n_degenerate", "degenerate")


def table1(long_df: pd.DataFrame) -> pd.DataFrame:
    """Table 1: per dataset × method, mean and sample sd (ddof = 1) over the distinct test FOVs.

    Columns ``dataset, method``, :data:`FLAG_COLUMNS`, then ``<metric>, <metric>_sd`` for
    :data:`TABLE1_COLUMNS` (the layout of ``resources/paper_table1.csv`` plus the counts and
    ``RMSE_xy_published``). Rows: datasets in order of first appearance, MIRO before DBSCAN.
    ``n`` counts the distinct FOVs (:func:`distinct_fovs`); ``n_duplicates`` the FOVs left out
    and ``duplicates`` which (``FOV 12 = FOV 3``); ``n_degenerate`` the distinct FOVs with a
    degenerate score for that method (kept in the means) and ``degenerate`` why, per
    :data:`~miro.evaluation.metrics.DEGENERATE` code (``no_predicted_cluster: FOVs 5, 9``). A
    missing (NaN) metric value is left out of that metric's mean and sd.
    """
    check_long(long_df, TABLE1_COLUMNS)
    data = long_df[long_df["metric"].isin(TABLE1_COLUMNS) & long_df["method"].isin(METHODS)]
    data = data.assign(value=pd.to_numeric(data["value"]))
    kept = distinct_fovs(data)
    rows = pd.MultiIndex.from_product([data["dataset"].unique(), METHODS])
    grouped = kept.groupby(["dataset", "method", "metric"])["value"]
    mean = grouped.mean().unstack("metric").reindex(rows)
    sd = grouped.std(ddof=1).unstack("metric").reindex(rows)
    flags = pd.DataFrame.from_dict(
        {key: _flags(group) for key, group in data.groupby(["dataset", "method"])},
        orient="index",
        columns=list(FLAG_COLUMNS),
    )
    out = flags.reindex(rows)
    for metric in TABLE1_COLUMNS:
        out[metric] = mean[metric]
        out[f"{metric}_sd"] = sd[metric]
    return out.rename_axis(["dataset", "method"]).reset_index()


def _flags(group: pd.DataFrame) -> tuple[int, int, str, int, str]:
    """The :data:`FLAG_COLUMNS` of one dataset × method (``group``: its long rows)."""
    per_fov = group.drop_duplicates("fov").set_index("fov").sort_index()
    copies = pd.Series(dtype="Int64")
    if "duplicate_of" in per_fov.columns:
        copies = per_fov["duplicate_of"].dropna().astype(int)
    codes = pd.Series(dtype=str)
    if "degenerate" in per_fov.columns:
        codes = per_fov["degenerate"].drop(copies.index).fillna("").astype(str)
        codes = codes[codes != ""]
    reasons = []
    for code in DEGENERATE:
        fovs = [str(f) for f, c in codes.items() if code in c.split(";")]
        if fovs:
            reasons.append(f"{code}: FOV{'s' if len(fovs) > 1 else ''} {', '.join(fovs)}")
    return (
        len(per_fov) - len(copies),
        len(copies),
        ", ".join(f"FOV {c} = FOV {o}" for c, o in copies.items()),
        len(codes),
        "; ".join(reasons),
    )


def flag_notes(table: pd.DataFrame) -> list[str]:
    """Sentences for a table's note, from :func:`table1`'s :data:`FLAG_COLUMNS`: per dataset
    the FOVs left out as duplicates, per dataset × method the degenerate FOVs and why, then
    what each degenerate code means; a single sentence when nothing was flagged."""
    notes = []
    for dataset, group in table.groupby("dataset", sort=False):
        first = group.iloc[0]
        if first["n_duplicates"]:
            notes.append(
                f"{dataset}: {first['n_duplicates']} FOV(s) left out as exact duplicates of "
                f"another test FOV ({first['duplicates']}); each distinct FOV is counted once."
            )
        for rec in group[group["n_degenerate"] > 0].to_dict("records"):
            notes.append(
                f"{dataset}, {rec['method']}: {rec['n_degenerate']} of {rec['n']} FOVs "
                f"degenerate ({rec['degenerate']}), scored by the reference conventions and "
                "kept in the means."
            )
    text = " ".join(table["degenerate"].astype(str))
    notes += [f"{code}: {DEGENERATE[code]}." for code in DEGENERATE if f"{code}:" in text]
    return notes or ["No FOV flagged: no duplicated test FOV and no degenerate score."]


def format_pm(mean: float, sd: float) -> str:
    """``"mean ± sd"`` rounded like the paper's Table 1.

    The sd keeps one significant digit, two when its leading digit is 1 (0.04, 0.13, 0.011);
    the mean is printed to the same decimal place. A zero or undefined sd gives 2 decimals; an
    undefined mean (a metric no FOV defines, e.g. RMSE without any paired cluster) gives "–".
    """
    if not np.isfinite(mean):
        return "–"
    if np.isfinite(sd) and sd > 0:
        mantissa, exponent = f"{sd:.1e}".split("e")
        decimals = max(0, -int(exponent) + mantissa.startswith("1"))
    else:
        decimals = 2
    return f"{mean:.{decimals}f} ± {sd:.{decimals}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A pipe table; Markdown syntax characters in cells escaped."""
    lines = ["| " + " | ".join(map(md_escape, header)) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(map(md_escape, row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def md_escape(text: str) -> str:
    return "".join("\\" + c if c in "\\_*|" else c for c in str(text))


def _latex_escape(text: str) -> str:
    special = {c: "\\" + c for c in "&%$#_{}"}
    special |= {"~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}"}
    return "".join(special.get(c, c) for c in str(text))


def _table1_cells(df: pd.DataFrame) -> list[list[str]]:
    """Rows of Table 1 as text; the dataset name printed only on its first row, as in the paper."""
    rows, previous = [], None
    for rec in df.to_dict("records"):
        first = rec["dataset"] != previous
        previous = rec["dataset"]
        cells = [format_pm(rec[m], rec[f"{m}_sd"]) for m in TABLE1_COLUMNS]
        rows.append([rec["dataset"] if first else "", rec["method"], str(rec["n"]), *cells])
    return rows


TABLE1_TITLE = "Table 1. Clustering metrics, mean ± sd over the test FOVs"
SINGLE_SHOT_TITLE = (
    "Supplementary Table 5. Single-shot training (one annotated cluster): clustering metrics, "
    "mean ± sd over the test FOVs"
)


def _caption(preset: str, title: str = TABLE1_TITLE) -> str:
    return f"{title} (preset: {preset})."


def write_table1(
    df: pd.DataFrame,
    csv_path: str | os.PathLike,
    md_path: str | os.PathLike,
    tex_path: str | os.PathLike,
    preset: str = "unspecified",
    title: str = TABLE1_TITLE,
) -> None:
    """Write :func:`table1` as CSV (numbers), Markdown and LaTeX (``mean ± sd`` cells).

    Markdown and LaTeX carry a caption (``title``, naming ``preset``) and footnotes: the flagged
    FOVs (:func:`flag_notes`) and the RMSE conventions; the LaTeX table uses the ``booktabs``
    package. The same layout serves the single-shot table (Supplementary Table 5,
    ``SINGLE_SHOT_TITLE``).
    """
    _require_columns(df, ["dataset", "method", *FLAG_COLUMNS, *TABLE1_COLUMNS], "Table 1")
    rows = _table1_cells(df)
    write_csv_atomic(df, csv_path)
    notes = [*flag_notes(df), RMSE_NOTE]

    header = ["Dataset", "Method", "n", *(LABELS[m] for m in TABLE1_COLUMNS)]
    md = f"**{_caption(preset, title)}**\n\n" + markdown_table(header, rows)
    write_text_atomic(md_path, md + "".join(f"\n{md_escape(note)}\n" for note in notes))

    tex_header = ["Dataset", "Method", "$n$", *(LATEX_LABELS[m] for m in TABLE1_COLUMNS)]
    tex_rows = [[_latex_escape(c).replace("±", r"$\pm$") for c in row] for row in rows]
    body = [" & ".join(tex_header) + r" \\", r"\midrule"]
    for i, row in enumerate(tex_rows):
        if i and row[0]:
            body.append(r"\addlinespace")
        body.append(" & ".join(row) + r" \\")
    caption = _latex_escape(_caption(preset, title)).replace("±", r"$\pm$")
    note = r" \par ".join(
        _latex_escape(n).replace("√nm", r"$\sqrt{\mathrm{nm}}$").replace("†", r"$^\dagger$")
        for n in notes
    )
    tex = "\n".join(
        [
            r"\begin{table}",
            r"\centering",
            rf"\caption{{{caption}}}",
            r"\begin{tabular}{ll" + "r" * (len(tex_header) - 2) + "}",
            r"\toprule",
            *body,
            r"\bottomrule",
            r"\end{tabular}",
            rf"\par\smallskip\footnotesize {note}",
            r"\end{table}",
        ]
    )
    write_text_atomic(tex_path, tex + "\n")


def read_paper_table1(paper_csv: str | os.PathLike) -> pd.DataFrame:
    """The paper's Table 1 (``resources/paper_table1.csv``), checked for the expected columns."""
    paper = pd.read_csv(paper_csv)
    columns = ["dataset", "method", *(c for m in TABLE1_METRICS for c in (m, f"{m}_sd"))]
    _require_columns(paper, columns, f"paper table {paper_csv}")
    return paper


def scorecard(
    long_df: pd.DataFrame,
    paper_csv: str | os.PathLike,
    paper_names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Our Table 1 against the paper's, for every paper dataset present in ``long_df``.

    ``paper_names`` maps our dataset names to the paper table's (default: the same name); the
    ``dataset`` column keeps ours.

    One row per dataset × method × Table 1 metric: our mean and sd, the paper's, ``diff`` =
    ours − paper and ``diff_in_paper_sd`` = diff / paper sd. Our ``RMSE_xy_published`` is set
    against the paper's RMSE_x,y (its printed convention), flagged in ``convention``.
    """
    ours = table1(long_df)
    paper = read_paper_table1(paper_csv)
    names = {d: (paper_names or {}).get(d, d) for d in ours["dataset"].unique()}
    common = [d for d, name in names.items() if name in set(paper["dataset"])]
    if not common:
        raise ValueError(
            f"scorecard: no dataset of the metrics table {list(ours['dataset'].unique())} is in "
            f"the paper table {paper_csv} ({list(paper['dataset'].unique())})"
        )
    paper = paper.set_index(["dataset", "method"])
    records = []
    for rec in ours[ours["dataset"].isin(common)].to_dict("records"):
        for metric in TABLE1_METRICS:
            ours_metric = "RMSE_xy_published" if metric == "RMSE_xy" else metric
            ref = paper.loc[(names[rec["dataset"]], rec["method"])]
            diff = rec[ours_metric] - ref[metric]
            records.append(
                {
                    "dataset": rec["dataset"],
                    "paper_dataset": names[rec["dataset"]],
                    "method": rec["method"],
                    "metric": metric,
                    "ours_mean": rec[ours_metric],
                    "ours_sd": rec[f"{ours_metric}_sd"],
                    "paper_mean": ref[metric],
                    "paper_sd": ref[f"{metric}_sd"],
                    "diff": diff,
                    "diff_in_paper_sd": diff / ref[f"{metric}_sd"],
                    "convention": PUBLISHED_CONVENTION if metric == "RMSE_xy" else SAME_CONVENTION,
                }
            )
    return pd.DataFrame.from_records(records, columns=SCORECARD_COLUMNS)


def write_scorecard(
    df: pd.DataFrame,
    csv_path: str | os.PathLike,
    md_path: str | os.PathLike,
    preset: str = "unspecified",
) -> None:
    """Write :func:`scorecard` as CSV and as Markdown (one ``mean ± sd`` row per metric)."""
    _require_columns(df, SCORECARD_COLUMNS, "scorecard")
    write_csv_atomic(df, csv_path)
    header = ["Dataset", "Paper dataset", "Method", "Metric", "Ours", "Paper", "Ours − paper"]
    header.append("In paper sd")
    rows = [
        [
            rec["dataset"],
            rec["paper_dataset"],
            rec["method"],
            "RMSE_x,y (√nm, published)" if rec["metric"] == "RMSE_xy" else LABELS[rec["metric"]],
            format_pm(rec["ours_mean"], rec["ours_sd"]),
            format_pm(rec["paper_mean"], rec["paper_sd"]),
            f"{rec['diff']:+.3g}",
            f"{rec['diff_in_paper_sd']:+.1f}",
        ]
        for rec in df.to_dict("records")
    ]
    title = f"**Scorecard: this workflow vs the paper's Table 1 (preset: {preset}).**\n\n"
    note = (
        "\nRMSE_x,y is compared in the paper's printed convention: our RMSE_x,y published "
        "(sqrt of the mean centroid distance, √nm) against the paper's RMSE_x,y column.\n"
    )
    write_text_atomic(md_path, title + markdown_table(header, rows) + note)


def write_stats(
    stats_df: pd.DataFrame,
    csv_path: str | os.PathLike,
    md_path: str | os.PathLike | None = None,
    preset: str = "unspecified",
    notes: Sequence[str] = (),
) -> None:
    """Write the paired-test table as CSV (full precision), optionally Markdown (p as 9.3e-04)
    with ``notes`` (e.g. :func:`flag_notes` of the same FOVs' Table 1) below the table."""
    _require_columns(stats_df, STATS_COLUMNS, "statistics table")
    write_csv_atomic(stats_df, csv_path)
    if md_path is None:
        return
    header = ["Dataset", "Metric", "n", "MIRO", "DBSCAN", "W", "p", "Cohen's d", "Stars"]
    rows = [
        [
            rec["dataset"],
            LABELS.get(rec["metric"], rec["metric"]),
            f"{rec['n']:g}",
            format_pm(rec["MIRO_mean"], rec["MIRO_sd"]),
            format_pm(rec["DBSCAN_mean"], rec["DBSCAN_sd"]),
            f"{rec['W']:g}",
            f"{rec['p']:.1e}",
            f"{rec['d']:.2f}",
            rec["stars"] if isinstance(rec["stars"], str) and rec["stars"] else "ns",
        ]
        for rec in stats_df.to_dict("records")
    ]
    legend = md_escape("Stars: * p ≤ 0.05, ** ≤ 0.01, *** ≤ 0.001, **** ≤ 0.0001.")
    title = (
        "**Paired one-sided Wilcoxon signed-rank tests, MIRO + DBSCAN vs DBSCAN "
        f"(preset: {preset}).** {legend}\n\n"
    )
    body = title + markdown_table(header, rows)
    write_text_atomic(md_path, body + "".join(f"\n{md_escape(note)}\n" for note in notes))


# ------------------------------------------------------ DBSCAN parameters (Supp. Tables 1-2)
DBSCAN_TABLE_COLUMNS = (
    *("dataset", "method", "eps_nm", "min_samples", "source", "n_trials"),
    *("authors_eps_nm", "authors_min_samples", "authors_source"),
)
DBSCAN_TABLE_TITLE = (
    "Supplementary Tables 1-2. DBSCAN parameters of every dataset and method: ours (published, "
    "the authors', or our Optuna study) next to the authors' published values"
)


def dbscan_row(
    dataset: str,
    method: str,
    params: Mapping,
    trials: pd.DataFrame,
    authors: Mapping | None,
) -> dict:
    """One row of the DBSCAN-parameter table: the ``params`` a run used (its
    ``dbscan/<method>.json``: eps in nm, min_samples, source), the completed trials of its
    Optuna study (``trials``, its ``_trials.csv``; 0 for published parameters) and the authors'
    values (``authors``: eps nm, min_samples, source, or None where they published none)."""
    missing = sorted({"eps", "min_samples", "source"} - set(params))
    if missing:
        raise ValueError(f"{dataset} {method}: DBSCAN parameters lack {missing}: {dict(params)}")
    _require_columns(trials, ["state"], f"{dataset} {method} Optuna trials")
    authors = authors or {}
    return {
        "dataset": dataset,
        "method": method,
        "eps_nm": float(params["eps"]),
        "min_samples": int(params["min_samples"]),
        "source": params["source"],
        "n_trials": int((trials["state"] == "COMPLETE").sum()),
        "authors_eps_nm": authors.get("eps"),
        "authors_min_samples": authors.get("min_samples"),
        "authors_source": authors.get("source"),
    }


def dbscan_table(rows: Sequence[Mapping]) -> pd.DataFrame:
    """The DBSCAN-parameter table (paper Supp. Tables 1-2) from :func:`dbscan_row` rows, in
    their order; the authors' min_samples stays empty where they published none."""
    table = pd.DataFrame(list(rows), columns=list(DBSCAN_TABLE_COLUMNS))
    table["authors_eps_nm"] = table["authors_eps_nm"].astype(float)
    return table.astype({"authors_min_samples": "Int64"})


def write_dbscan_table(
    table: pd.DataFrame,
    csv_path: str | os.PathLike,
    md_path: str | os.PathLike,
    preset: str = "unspecified",
) -> None:
    """Write :func:`dbscan_table` as CSV and as Markdown (eps to 0.01 nm, "–" where the authors
    published no value)."""
    _require_columns(table, DBSCAN_TABLE_COLUMNS, "DBSCAN-parameter table")
    write_csv_atomic(table, csv_path)
    header = ["Dataset", "Method", "eps (nm)", "min_samples", "Source", "Optuna trials"]
    header += ["Authors' eps (nm)", "Authors' min_samples", "Authors' source"]
    rows = [
        [
            rec["dataset"],
            "MIRO + DBSCAN" if rec["method"] == "MIRO" else rec["method"],
            f"{rec['eps_nm']:.2f}",
            str(rec["min_samples"]),
            rec["source"],
            str(rec["n_trials"]) if rec["n_trials"] else "–",
            "–" if pd.isna(rec["authors_eps_nm"]) else f"{rec['authors_eps_nm']:.2f}",
            "–" if pd.isna(rec["authors_min_samples"]) else str(rec["authors_min_samples"]),
            "–" if pd.isna(rec["authors_source"]) else rec["authors_source"],
        ]
        for rec in table.to_dict("records")
    ]
    write_text_atomic(
        md_path, f"**{_caption(preset, DBSCAN_TABLE_TITLE)}**\n\n" + markdown_table(header, rows)
    )


LANDSCAPE_TITLE = (
    "DBSCAN parameter landscapes (Supplementary Fig. 1): best score over the eps x min_samples "
    "grid and the parameters used, the score of the parameters used, and the part of the grid "
    "within 0.05 of the best"
)


def write_landscape_table(
    table: pd.DataFrame,
    csv_path: str | os.PathLike,
    md_path: str | os.PathLike,
    preset: str = "unspecified",
) -> None:
    """Write the landscape summary (`miro.evaluation.landscape.summary`) as CSV and Markdown;
    the near-best area in decades of eps x min_samples."""
    _require_columns(table, SUMMARY_COLUMNS, "landscape table")
    write_csv_atomic(table, csv_path)
    header = ["Dataset", "Method", "Metric", "Best", "at eps (nm), min_samples", "Chosen"]
    header += ["at eps (nm), min_samples", f"Cells within {TOLERANCE:g}", "Area (dec x minPts)"]
    rows = [
        [
            rec["dataset"],
            "MIRO + DBSCAN" if rec["method"] == "MIRO" else rec["method"],
            LABELS[rec["metric"]],
            f"{rec['best']:.3f}",
            f"{rec['best_eps']:.1f}, {rec['best_min_samples']}",
            f"{rec['chosen']:.3f}" + (" (near best)" if rec["chosen_near_best"] else ""),
            f"{rec['chosen_eps']:.1f}, {rec['chosen_min_samples']}",
            f"{rec['near_best_fraction']:.0%} of {rec['n_cells']}",
            f"{rec['near_best_area']:.2f}",
        ]
        for rec in table.to_dict("records")
    ]
    n_fovs = sorted(set(table["n_fovs"]))
    note = f"Means over {', '.join(map(str, n_fovs))} test FOVs per dataset."
    write_text_atomic(
        md_path,
        f"**{_caption(preset, LANDSCAPE_TITLE)}**\n\n"
        + markdown_table(header, rows)
        + f"\n{note}\n",
    )
