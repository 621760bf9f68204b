"""Rule import_published: one of the authors' trained MIRO models (a benchmark folder's, the
multishape, multiscale or a single-shot model; docs/published.md), as a checkpoint."""

import tempfile
from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.applications.published import (
    PUBLISHED_COMMIT,
    PUBLISHED_REPO,
    convert_published,
    fetch_published,
    load_manifest,
)
from miro.config import execution_settings
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    settings = snakemake.params.settings  # miro.config.published_import
    access = execution_settings(snakemake.config)
    published = access["published"]
    path = settings["path"]
    output = Path(snakemake.output[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".published-", dir=output.parent) as tmp:
        raw = fetch_published(
            path,
            Path(tmp) / Path(path).name,
            manifest=load_manifest(snakemake.params.manifest),
            local_file=settings["published_file"],
            local_dir=published["local_dir"],
            base_url=published["base_url"],
            cache_dir=access["cache_dir"],
            retries=published["retries"],
        )
        log.info("%s@%s/%s verified", PUBLISHED_REPO, PUBLISHED_COMMIT, path)
        convert_published(
            raw,
            output,
            steps=settings["steps"],
            radius=settings["radius"],
            fov_nm=settings["fov_nm"],
            k_star=settings["k_star"],
            class_names=settings["class_names"],
            source_info={"repo": PUBLISHED_REPO, "commit": PUBLISHED_COMMIT, "path": path},
        )
    log.info(
        "converted to %s (steps %d, radius %g, k_star %s, classes %s, FOV %g nm)",
        output,
        settings["steps"],
        settings["radius"],
        settings["k_star"],
        settings["class_names"] or "none",
        settings["fov_nm"],
    )
