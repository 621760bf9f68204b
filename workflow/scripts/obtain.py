"""Rule obtain: a dataset's FOVs from the benchmark (download or local copy), a simulator, or
the user's annotated files (source local: every file is checked before any is written)."""

from pathlib import Path

import _miro_path  # noqa: F401  (makes workflow/lib importable as miro)
import pandas as pd

from miro.config import execution_settings
from miro.data.benchmark import fetch_folder, fov_number, load_manifest
from miro.data.fovs import staged_dir, write_fov_dir
from miro.data.local import extent_warnings, fov_summary, read_local
from miro.data.simulate import simulate_dataset, write_fov_csv
from miro.runlog import script_logging


def write_fovs(frames: dict[int, pd.DataFrame], names: dict[int, str], tmp: Path) -> dict:
    """Each FOV as ``tmp/<name>``; FOV number -> file."""
    files = {number: tmp / names[number] for number in frames}
    for number, frame in frames.items():
        write_fov_csv(frame, files[number])
    return files


def annotated(dataset: dict, inputs: list[str], tmp: Path, log) -> dict:
    """The user's files, FOV 1..N in input order (miro.data.local.local_files)."""
    paths = {number: Path(f) for number, f in enumerate(inputs, start=1)}
    local = dataset["local"]
    frames = read_local(
        paths, fmt=local["format"], columns=local["columns"], label_column=local["label_column"]
    )
    summary = fov_summary(frames)
    summary.insert(1, "file", [str(paths[n]) for n in summary["fov"]])
    log.info("%d annotated FOVs:\n%s", len(frames), summary.to_string(index=False))
    for warning in extent_warnings(summary, {n: p.name for n, p in paths.items()}):
        log.warning("%s", warning)
    return write_fovs(frames, {n: f"{p.stem}.csv" for n, p in paths.items()}, tmp)


def main(
    dataset: dict, inputs: list[str], access: dict, manifest: Path, out_dir: Path, log
) -> None:
    with staged_dir(out_dir) as tmp:
        if dataset["source"] == "local":
            files = annotated(dataset, inputs, tmp, log)
        elif dataset["source"] == "benchmark":
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
            frames = dict(enumerate(fovs, start=1))
            files = write_fovs(frames, {n: f"fov_{n:03d}.csv" for n in frames}, tmp)
            log.info("simulated %d FOVs of family %r", len(files), dataset["family"])
        write_fov_dir(files, tmp)


with script_logging(snakemake.log[0]) as log:
    main(
        snakemake.params.dataset,
        list(snakemake.input.files),
        execution_settings(snakemake.config),
        Path(snakemake.params.manifest),
        Path(snakemake.output[0]),
        log,
    )
