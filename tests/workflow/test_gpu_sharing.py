"""Several trainings per GPU (issue 18): the ``gpu_slots`` resource of the GPU rules, which
bounds concurrent trainings only when a run sets ``--resources gpu_slots=N``, and the SLURM
profile's one-job-per-GPU default with its GPU-shard sharing option (docs/slurm.md)."""

from __future__ import annotations

import re
import subprocess
import time
from pathlib import Path

import pytest
import yaml
from test_slurm import REPO, SNAKEMAKE, TINY_CONFIG, USER_PROFILE, gpu_rules

# two independent jobs of a rule that asks for a GPU slot; each records when it ran
SLOTS_SNAKEFILE = """
rule all:
    input:
        expand("t{i}.txt", i=range(2)),


rule train:
    output:
        "t{i}.txt",
    resources:
        gpu_slots=1,
    shell:
        "date +%s.%N > {output}; sleep 2; date +%s.%N >> {output}"
"""


def test_every_gpu_rule_asks_for_one_gpu_slot():
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in re.split(r"^rule ", smk.read_text(), flags=re.M)[1:]:
            name = block.split(":", 1)[0].strip()
            if name in gpu_rules():
                assert re.search(r"^\s+gpu_slots=1,$", block, flags=re.M), name


def intervals(workdir: Path, *resources: str) -> list[tuple[float, float]]:
    subprocess.run(
        [str(SNAKEMAKE), "--cores", "2", "--quiet", *resources],
        cwd=workdir,
        check=True,
        capture_output=True,
        timeout=120,
    )
    spans = [tuple(map(float, (workdir / f"t{i}.txt").read_text().split())) for i in range(2)]
    for i in range(2):
        (workdir / f"t{i}.txt").unlink()
    return sorted(spans)


@pytest.mark.slow
def test_gpu_slots_bound_concurrent_trainings_only_when_given(tmp_path):
    (tmp_path / "Snakefile").write_text(SLOTS_SNAKEFILE)
    first, second = intervals(tmp_path)  # CPU runs: no limit, both at once on 2 cores
    assert second[0] < first[1]
    first, second = intervals(tmp_path, "--resources", "gpu_slots=1")
    assert second[0] >= first[1]


def train_resources(profile: Path, workdir: Path) -> list[dict[str, str]]:
    """The resources of every train job in a dry run of the tiny workflow under ``profile``."""
    config = yaml.safe_load(TINY_CONFIG.read_text())
    for section in ("experiments", "ablations", "magik"):
        config.pop(section, None)
    config["datasets"] = dict(list(config["datasets"].items())[:1])
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    cmd = [str(SNAKEMAKE), "-n", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--configfile", str(workdir / "config.yaml"), "--directory", str(workdir / "run")]
    cmd += ["--workflow-profile", str(profile), "--until", "train"]
    start = time.perf_counter()
    log = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert log.returncode == 0, log.stderr[-3000:]
    assert time.perf_counter() - start < 300
    jobs = re.findall(r"^rule train:\n(?:    .*\n)*?    resources: (.*)$", log.stdout, flags=re.M)
    assert jobs, log.stdout[-3000:]
    return [dict(item.split("=", 1) for item in job.split(", ")) for job in jobs]


@pytest.mark.slow
def test_slurm_profile_gives_one_gpu_per_training_unless_shards_are_asked_for(tmp_path):
    for job in train_resources(USER_PROFILE, tmp_path):
        assert (job["gpu"], job["gpu_slots"], job.get("gres")) == ("1", "1", None)
    # the documented sharing option: no whole GPU, one GPU shard per training
    profile = yaml.safe_load((USER_PROFILE / "config.yaml").read_text())
    profile["set-resources"]["train"].update(gpu=0, gres="shard:1")
    sharing = tmp_path / "sharing"
    sharing.mkdir()
    (sharing / "config.yaml").write_text(yaml.safe_dump(profile))
    for job in train_resources(sharing, tmp_path):
        assert (job["gpu"], job["gres"]) == ("0", "shard:1")
