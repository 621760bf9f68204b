"""Rule import_published_metadata: the authors' benchmark/metadata.json (their per-folder
settings and MIRO + DBSCAN parameters), pinned and verified against the manifest."""

from pathlib import Path

from miro.config import execution_settings
from miro.data.published_files import (
    PUBLISHED_COMMIT,
    PUBLISHED_REPO,
    fetch_published,
    load_manifest,
)
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    published = execution_settings(snakemake.config)["published"]
    path, output = snakemake.params.path, Path(snakemake.output[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    fetch_published(
        path,
        output,
        manifest=load_manifest(snakemake.params.manifest),
        local_dir=published["local_dir"],
        base_url=published["base_url"],
        retries=published["retries"],
    )
    log.info("%s@%s/%s verified -> %s", PUBLISHED_REPO, PUBLISHED_COMMIT, path, output)
