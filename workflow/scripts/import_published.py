"""Rule import_published: the authors' trained MIRO for a benchmark folder, as a checkpoint."""

import tempfile
from pathlib import Path

from miro.applications.published import (
    PUBLISHED_COMMIT,
    PUBLISHED_REPO,
    checkpoint_path,
    convert_published,
    fetch_published,
    load_manifest,
)
from miro.config import execution_settings
from miro.runlog import script_logging

with script_logging(snakemake.log[0]) as log:
    settings = snakemake.params.settings
    model = settings["model"]
    published = execution_settings(snakemake.config)["published"]
    path = checkpoint_path(settings["folder"])
    output = Path(snakemake.output[0])
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".published-", dir=output.parent) as tmp:
        raw = fetch_published(
            path,
            Path(tmp) / Path(path).name,
            manifest=load_manifest(snakemake.params.manifest),
            local_file=model["published_file"],
            local_dir=published["local_dir"],
            base_url=published["base_url"],
            retries=published["retries"],
        )
        log.info("%s@%s/%s verified", PUBLISHED_REPO, PUBLISHED_COMMIT, path)
        convert_published(
            raw,
            output,
            steps=model["steps"],
            radius=model["radius"],
            source_info={"repo": PUBLISHED_REPO, "commit": PUBLISHED_COMMIT, "path": path},
        )
    log.info("converted to %s (steps %d, radius %g)", output, model["steps"], model["radius"])
