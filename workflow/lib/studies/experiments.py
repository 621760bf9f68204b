"""The config section ``experiments``: which configured datasets play which role in the
experiments beyond Table 1 (checked by `miro.config.load_settings`), and the files those
experiments end in.

- ``shapes``: shape mixtures (family ``multishape``), clustered and classified (paper Fig. 3);
- ``multiscale``: NPC-like datasets (``table1: false``, ``train.k_star`` set), clustered at the
  spot and ring levels (paper Figs. 1, 5a-b);
- ``adjacent``: an ``adjacent_pairs`` dataset whose model and DBSCAN parameters are scanned over
  pair distances (paper Fig. 4a).
"""

from __future__ import annotations

from collections.abc import Mapping

from miro.studies.runs import MAIN, run_dir

FIGURE_TYPES = ("png", "pdf")


def experiment_targets(settings: Mapping, results: str = "results") -> list[str]:
    """Final files of every configured experiment; [] when there is none."""
    experiments = settings["experiments"]
    tables, figures = [], []
    for ds in experiments["shapes"]:
        tables.append(f"{run_dir(results, ds, MAIN)}/shapes/confusion.csv")
        figures.append(f"fig3_{ds}")
    for ds in experiments["multiscale"]:
        tables += [f"{results}/{ds}/multiscale/{name}.csv" for name in ("metrics", "stats")]
        figures.append(f"fig5_{ds}")
    if experiments["adjacent"]:
        ds = experiments["adjacent"]["dataset"]
        tables += [f"{results}/adjacent/{ds}/{name}.csv" for name in ("jic", "summary")]
        figures.append(f"fig4a_{ds}")
    return tables + [f"{results}/figures/{f}.{ext}" for f in figures for ext in FIGURE_TYPES]
