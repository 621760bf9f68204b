"""Paired statistics of MIRO against DBSCAN (paper Fig. 2 caption;
``docs/reference.md#statistics``).

On the same FOVs, a one-sided Wilcoxon signed-rank test of the differences MIRO − DBSCAN
(alternative "greater" for scores, "less" for RMSRE_N and the RMSEs), W as SciPy reports it
(sum of the ranks of the positive differences; zero differences dropped), and Cohen's d.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import wilcoxon

from miro.evaluation.metrics import HIGHER_IS_BETTER, METRICS, distinct_fovs

#: Star thresholds of the paper (Fig. 2 caption; its "p ≤ 0.5" for one star is a typo of 0.05).
STARS: tuple[tuple[float, str], ...] = ((1e-4, "****"), (1e-3, "***"), (1e-2, "**"), (5e-2, "*"))


def stars(p: float) -> str:
    """Significance stars of p: **** ≤ 0.0001, *** ≤ 0.001, ** ≤ 0.01, * ≤ 0.05, else "ns"."""
    return next((s for threshold, s in STARS if p <= threshold), "ns")


def cohens_d(miro: np.ndarray, baseline: np.ndarray, higher_is_better: bool = True) -> float:
    """Cohen's d with the pooled (average-variance) standard deviation,

        d = (mean(MIRO) − mean(DBSCAN)) / sqrt((sd(MIRO)² + sd(DBSCAN)²) / 2),  sd with ddof=1,

    signed so that d > 0 means MIRO is better (negated when lower is better), as the paper
    reports positive d for RMSRE_N. The pooled sd (not the sd of the differences, d_z) fits the
    paper: Scenario 8 ARI† 0.83 ± 0.04 vs 0.81 ± 0.04 gives the reported d = 0.5, and its
    RMSRE_N d = 0.48 with W = 21 (nearly all differences favour MIRO) is only possible with the
    large pooled sd (DBSCAN 0.3 ± 0.2). NaN when both samples are constant.
    """
    miro, baseline = np.asarray(miro, float), np.asarray(baseline, float)
    pooled = np.sqrt((miro.var(ddof=1) + baseline.var(ddof=1)) / 2)
    diff = miro.mean() - baseline.mean()
    d = diff / pooled if pooled > 0 else float("nan")
    return float(d if higher_is_better else -d)


def paired_test(
    miro_values: np.ndarray, baseline_values: np.ndarray, higher_is_better: bool
) -> dict[str, float | int | str]:
    """One-sided paired Wilcoxon signed-rank test of MIRO against the baseline.

    Returns n (pairs), W (sum of ranks of positive differences MIRO − baseline), p (exact where
    SciPy allows: n ≤ 50 without ties or zero differences, else the normal approximation),
    p_method ("exact" or "asymptotic"), d (:func:`cohens_d`) and stars (:func:`stars`).
    NaN pairs are dropped. Degenerate samples have defined results instead of an error: when
    every difference is zero there is no evidence for MIRO (W = 0, p = 1, p_method
    "no differences", stars "ns"); with no finite pair, W, p and d are NaN (p_method
    "no pairs", stars "n/a").
    """
    miro, base = np.asarray(miro_values, float), np.asarray(baseline_values, float)
    if miro.shape != base.shape or miro.ndim != 1:
        raise ValueError(f"need two paired 1-D samples, got shapes {miro.shape}, {base.shape}")
    keep = np.isfinite(miro) & np.isfinite(base)
    miro, base = miro[keep], base[keep]
    diff = miro - base
    nonzero = diff[diff != 0]
    if miro.size == 0:
        nan = float("nan")
        return {"n": 0, "W": nan, "p": nan, "p_method": "no pairs", "d": nan, "stars": "n/a"}
    if nonzero.size == 0:
        return {
            "n": int(miro.size),
            "W": 0.0,
            "p": 1.0,
            "p_method": "no differences",
            "d": cohens_d(miro, base, higher_is_better),
            "stars": "ns",
        }
    exact = nonzero.size <= 50 and np.unique(np.abs(nonzero)).size == nonzero.size
    result = wilcoxon(
        miro,
        base,
        alternative="greater" if higher_is_better else "less",
        method="exact" if exact else "asymptotic",
    )
    return {
        "n": int(miro.size),
        "W": float(result.statistic),
        "p": float(result.pvalue),
        "p_method": "exact" if exact else "asymptotic",
        "d": cohens_d(miro, base, higher_is_better),
        "stars": stars(result.pvalue),
    }


def paired_tests(
    long_df: pd.DataFrame, method: str = "MIRO", baseline: str = "DBSCAN"
) -> pd.DataFrame:
    """:func:`paired_test` for every (dataset, metric) of a long metrics table (columns dataset,
    fov, method, metric, value, as from :func:`miro.evaluation.metrics.evaluate_fovs`), pairing the
    two methods by FOV (FOVs where either value is missing or NaN are dropped, and FOVs flagged
    as duplicates of another, :func:`~miro.evaluation.metrics.distinct_fovs`); rows in dataset
    order of appearance, metrics in :data:`miro.evaluation.metrics.METRICS` order.

    Columns: dataset, metric, n, ``{method}_mean``, ``{method}_sd``, ``{baseline}_mean``,
    ``{baseline}_sd`` (sd with ddof=1, over the paired FOVs), W, p, p_method, d, stars.
    """
    missing = {"dataset", "fov", "method", "metric", "value"} - set(long_df.columns)
    if missing:
        raise ValueError(f"metrics table lacks columns {sorted(missing)}")
    for name in (method, baseline):
        if name not in set(long_df["method"]):
            raise ValueError(f"method {name!r} not in the metrics table")
    unknown = set(long_df["metric"]) - set(METRICS)
    if unknown:
        raise ValueError(f"unknown metrics {sorted(unknown)}: no direction for the test")
    long_df = distinct_fovs(long_df)
    wide = long_df[long_df["method"].isin([method, baseline])].pivot_table(
        index=["dataset", "metric", "fov"],
        columns="method",
        values="value",
        aggfunc="first",
        dropna=False,
    )
    groups = dict(
        list(wide.reindex(columns=[method, baseline]).groupby(level=["dataset", "metric"]))
    )
    rows = []
    for dataset in long_df["dataset"].unique():
        for metric in [m for m in METRICS if (dataset, m) in groups]:
            pairs = groups[dataset, metric].dropna()
            a, b = (pairs[name].to_numpy() for name in (method, baseline))
            rows.append(
                {
                    "dataset": dataset,
                    "metric": metric,
                    f"{method}_mean": _mean(a),
                    f"{method}_sd": _sd(a),
                    f"{baseline}_mean": _mean(b),
                    f"{baseline}_sd": _sd(b),
                }
                | paired_test(a, b, HIGHER_IS_BETTER[metric])
            )
    columns = ["dataset", "metric", "n", f"{method}_mean", f"{method}_sd"]
    columns += [f"{baseline}_mean", f"{baseline}_sd", "W", "p", "p_method", "d", "stars"]
    return pd.DataFrame(rows).reindex(columns=columns)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if values.size else float("nan")


def _sd(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if values.size > 1 else float("nan")
