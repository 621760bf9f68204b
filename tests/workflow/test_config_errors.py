"""A config that cannot run stops the workflow before any job, with a short message naming the
key path (dry runs of the real Snakefile); config files and overrides combine as documented."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from workflow_run import REPO, TINY, snakemake

TINY_CONFIG = yaml.safe_load(TINY.read_text())


def write_config(workdir: Path, **changes) -> str:
    config = {**TINY_CONFIG, **changes}
    path = workdir / "config.yaml"
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return str(path)


def assert_stopped(workdir: Path, run, *messages: str) -> None:
    """Failed before any job: the messages in the output, no results folder."""
    output = run.stdout + run.stderr
    assert run.returncode != 0
    for message in messages:
        assert message in output, output[-3000:]
    assert "Job stats" not in output
    assert not (workdir / "results").exists()


def test_unknown_key(tmp_path):
    datasets = {**TINY_CONFIG["datasets"]}
    datasets["Rings"] = {**datasets["Rings"], "n_fov": 5}
    run = snakemake(tmp_path, "-n", "--configfile", write_config(tmp_path, datasets=datasets))
    assert_stopped(tmp_path, run, "datasets.Rings.n_fov: unknown key (did you mean 'n_fovs'?)")
    assert len(run.stdout + run.stderr) < 1500  # the problem, not the schema


def test_reversed_eps_range(tmp_path):
    # a file: Snakemake's --config gives the numbers of nested values as strings
    dbscan = {**TINY_CONFIG["defaults"]["dbscan"], "eps_nm": [200, 150]}
    defaults = {**TINY_CONFIG["defaults"], "dbscan": dbscan}
    path = write_config(tmp_path, defaults=defaults)
    run = snakemake(tmp_path, "-n", "--configfile", path)
    assert_stopped(tmp_path, run, f"{path}: defaults.dbscan.eps_nm: [200, 150] is not increasing")


def test_published_model_on_simulated_data_and_too_many_training_fovs(tmp_path):
    defaults = {**TINY_CONFIG["defaults"], "n_train": 5, "model": {"source": "published"}}
    run = snakemake(tmp_path, "-n", "--configfile", write_config(tmp_path, defaults=defaults))
    assert_stopped(
        tmp_path,
        run,
        "defaults.model.source: 'published' on simulated dataset 'S8'",
        "defaults.n_train: 5 training FOVs leave no test FOV of dataset 'S8' (5 FOVs)",
    )


def test_paper_preset_replaces_config_yaml_and_checks_the_local_benchmark(tmp_path):
    override = f"benchmark={{'local_dir': '{tmp_path}'}}"
    run = snakemake(
        tmp_path, "-n", "--configfile", str(REPO / "presets" / "paper.yaml"), "--config", override
    )
    assert_stopped(
        tmp_path, run, f"benchmark.local_dir: {tmp_path} has no folder 'Ground Truth - Scenario 2'"
    )


def test_config_override_applies_to_the_default_config(tmp_path):
    run = snakemake(tmp_path, "-n", "--config", "seed=1", "example_fov=99")
    assert_stopped(tmp_path, run, "config.yaml: example_fov: 99 is not among FOVs 1-50")
    run = snakemake(tmp_path, "-n", "--config", "seed=1")
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ds=GT8" in run.stdout and "ds=Rings" in run.stdout
    assert not (tmp_path / "results").exists()


def test_configfile_replaces_the_default_config(tmp_path):
    run = snakemake(tmp_path, "-n", "--configfile", str(TINY))
    assert run.returncode == 0, run.stderr[-3000:]
    assert "ds=S8" in run.stdout and "ds=GT8" not in run.stdout


@pytest.fixture
def fake_root(tmp_path) -> Path:
    """run.sh in a copy of the repository layout whose set-up does nothing and whose snakemake
    records its arguments (the real Python checks the config files)."""
    root = tmp_path / "root"
    (root / "scripts").mkdir(parents=True)
    (root / ".venv" / "bin").mkdir(parents=True)
    (root / "run.sh").write_text((REPO / "run.sh").read_text())
    (root / "scripts" / "setup-env.sh").write_text("#!/usr/bin/env bash\n")
    (root / ".venv" / "bin" / "python").symlink_to(sys.executable)
    (root / ".venv" / "bin" / "snakemake").write_text(
        '#!/usr/bin/env bash\nprintf "%s\\n" "$@" > "$(dirname "$0")/snakemake-args"\n'
    )
    for path in ("run.sh", "scripts/setup-env.sh", ".venv/bin/snakemake"):
        (root / path).chmod(stat.S_IRWXU)
    return root


def test_run_sh_reports_a_yaml_error_with_its_line(fake_root, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text("seed: 1\ndatasets:\n  a: {source: simulate\n  b: 2\n")
    package = tmp_path / "package"  # `miro` for the base interpreter (an editable install is
    package.mkdir()  # found through the venv's site-packages, which that interpreter lacks)
    (package / "miro").symlink_to(REPO / "workflow" / "lib")
    paths = [str(package), *(p for p in sys.path if p)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(paths))
    run_sh = [str(fake_root / "run.sh")]
    run = subprocess.run(
        [*run_sh, "-n", "--configfile", str(broken)], capture_output=True, text=True, env=env
    )
    assert run.returncode == 2
    assert f"{broken}: line 4, column 4: expected ',' or '}}'" in run.stderr
    assert not (fake_root / ".venv" / "bin" / "snakemake-args").exists()
    run = subprocess.run(
        [*run_sh, "-n", f"--configfile={TINY}"], capture_output=True, text=True, env=env
    )
    assert run.returncode == 0, run.stderr
    args = (fake_root / ".venv" / "bin" / "snakemake-args").read_text().split()
    assert args == ["-n", f"--configfile={TINY}", "--cores", "all"]
