"""Rule import_published_metadata: one of the authors' files other than checkpoints (their
benchmark/metadata.json or single-shot/metadata.json: per-folder settings and DBSCAN
parameters; the single-shot training clusters), pinned and verified against the manifest."""

from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.config import execution_settings
from miro.data.published_files import (
    PUBLISHED_COMMIT,
    PUBLISHED_REPO,
    fetch_published,
    load_manifest,
)
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    access = execution_settings(snakemake.config)
    published = access["published"]
    path, output = snakemake.wildcards.path, Path(snakemake.output[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    fetch_published(
        path,
        output,
        manifest=load_manifest(snakemake.params.manifest),
        local_dir=published["local_dir"],
        base_url=published["base_url"],
        cache_dir=access["cache_dir"],
        retries=published["retries"],
    )
    log.info("%s@%s/%s verified -> %s", PUBLISHED_REPO, PUBLISHED_COMMIT, path, output)
