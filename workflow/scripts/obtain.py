"""Rule obtain: a dataset's FOVs from the benchmark (download or local copy) or a simulator."""

from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)

from miro.config import execution_settings
from miro.data.benchmark import fetch_folder, fov_number, load_manifest
from miro.data.fovs import staged_dir, write_fov_dir
from miro.data.simulate import simulate_dataset, write_fov_csv
from miro.runlog import script_logging


def main(dataset: dict, access: dict, manifest: Path, out_dir: Path, log) -> None:
    with staged_dir(out_dir) as tmp:
        if dataset["source"] == "benchmark":
            benchmark = access["benchmark"]
            local = benchmark["local_dir"]
            paths = fetch_folder(
                dataset["folder"],
                tmp,
                manifest=load_manifest(manifest),
                local_dir=Path(local) if local else None,
                base_url=benchmark["base_url"],
                cache_dir=access["cache_dir"],
                retries=benchmark["retries"],
            )
            files = {fov_number(p.name): p.replace(tmp / p.name) for p in paths}
            paths[0].parent.rmdir()
            log.info("benchmark folder %r: %d FOVs verified", dataset["folder"], len(files))
        else:
            fovs = simulate_dataset(
                dataset["family"], dataset["n_fovs"], dataset["seed"], **dataset["params"]
            )
            files = {}
            for number, frame in enumerate(fovs, start=1):
                files[number] = tmp / f"fov_{number:03d}.csv"
                write_fov_csv(frame, files[number])
            log.info("simulated %d FOVs of family %r", len(files), dataset["family"])
        write_fov_dir(files, tmp)


with script_logging(snakemake.log[0]) as log:
    main(
        snakemake.params.dataset,
        execution_settings(snakemake.config),
        Path(snakemake.params.manifest),
        Path(snakemake.output[0]),
        log,
    )
