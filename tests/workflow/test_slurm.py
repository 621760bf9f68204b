"""SLURM support (issue 6): the cluster profiles, and workflows run through a real single-node
SLURM cluster on 127.0.0.1 that scripts/slurm/start.sh brings up (root, Debian packages)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from fnmatch import fnmatch
from pathlib import Path

import pandas as pd
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts" / "slurm"
USER_PROFILE = REPO / "profiles" / "slurm"
TEST_PROFILE = REPO / "profiles" / "slurm-test"
TINY_CONFIG = REPO / ".test" / "config" / "config.yaml"
SNAKEMAKE = Path(sys.executable).with_name("snakemake")
LOCAL_PARTITION = "local"  # start.sh's default partition name

# Profile keys (paths into the YAML, fnmatch patterns) where the test profile may differ.
ALLOWED_DIFFERENCES = (
    ("slurm-status-command",),
    ("slurm-init-seconds-before-status-checks",),
    ("default-resources", "slurm_partition"),
    ("set-resources", "*", "slurm_partition"),
    ("set-resources", "*", "gpu"),
    ("set-resources", "*", "gpu_model"),
)
SUBMITTED = re.compile(r"Job (\d+) has been submitted with SLURM jobid (\d+)")

# Two chained rules named like the workflow's (train asks for a GPU, which the test profile maps
# away), then a rule that fails on its first attempt and succeeds on the retry. Every job writes
# the SLURM job id it ran under ($SLURM_JOB_ID is unset outside SLURM, which fails `set -u`).
RETRY_SNAKEFILE = '''
localrules: all


rule all:
    input:
        "metrics.txt",


rule augment:
    output:
        "augment.txt",
    shell:
        "echo $SLURM_JOB_ID > {output}"


rule train:
    input:
        "augment.txt",
    output:
        "train.txt",
    resources:
        gpu=1,
    shell:
        "echo $SLURM_JOB_ID > {output}"


rule metrics:
    input:
        "train.txt",
    output:
        "metrics.txt",
    shell:
        """
        echo $SLURM_JOB_ID >> attempts.txt
        if [ ! -e first_attempt_failed ]; then touch first_attempt_failed; exit 1; fi
        echo $SLURM_JOB_ID > {output}
        """
'''


def load_profile(profile: Path) -> dict:
    return yaml.safe_load((profile / "config.yaml").read_text())


def flatten(tree: dict, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], object]:
    """Nested mappings as {key path: leaf value}."""
    flat = {}
    for key, value in tree.items():
        path = (*prefix, str(key))
        flat.update(flatten(value, path) if isinstance(value, dict) else {path: value})
    return flat


def is_allowed(path: tuple[str, ...]) -> bool:
    return any(
        len(path) == len(allowed) and all(map(fnmatch, path, allowed))
        for allowed in ALLOWED_DIFFERENCES
    )


def partitions(profile: dict) -> list[str]:
    return [value for path, value in flatten(profile).items() if path[-1] == "slurm_partition"]


def test_profiles_differ_only_where_allowed():
    user, test = flatten(load_profile(USER_PROFILE)), flatten(load_profile(TEST_PROFILE))
    missing = object()
    changed = {p for p in user.keys() | test.keys() if user.get(p, missing) != test.get(p, missing)}
    assert changed, "the test profile should map the GPU and partitions to the local cluster"
    assert sorted(p for p in changed if not is_allowed(p)) == []


def gpu_rules() -> set[str]:
    """Rules of the workflow that declare a GPU resource (``gpu=1`` in their resources)."""
    rules = set()
    for smk in (REPO / "workflow" / "rules").glob("*.smk"):
        for block in re.split(r"^rule ", smk.read_text(), flags=re.M)[1:]:
            if re.search(r"^\s+gpu=\d", block, flags=re.M):
                rules.add(block.split(":", 1)[0].strip())
    return rules


def test_profiles_request_gpu_for_train_and_map_it_away_for_tests():
    user, test = load_profile(USER_PROFILE), load_profile(TEST_PROFILE)
    assert user["executor"] == test["executor"] == "slurm"
    assert {"train", "magik_train"} <= gpu_rules()
    for rule in gpu_rules():  # every GPU rule goes to the GPU partition, none in the tests
        assert user["set-resources"][rule]["gpu"] >= 1, rule
        assert "gpu" in user["set-resources"][rule]["slurm_partition"], rule
        assert not test["set-resources"][rule].get("gpu"), rule
    assert test["slurm-status-command"] == "squeue"
    # squeue forgets a job MinJobAge (300 s in start.sh) after it ends; the plugin needs 3x margin
    assert 3 * test["slurm-init-seconds-before-status-checks"] <= 300
    assert set(partitions(test)) == {LOCAL_PARTITION}
    assert all("EDIT_ME" in p for p in partitions(user)), "user partitions must be marked EDIT ME"


def loud_skip(reason: str) -> None:
    message = f"SLURM INTEGRATION TESTS SKIPPED: {reason}"
    print(f"\n{'!' * 80}\n{message}\n{'!' * 80}", file=sys.stderr)
    pytest.skip(message)


def run_script(name: str, *args: str, timeout: int) -> None:
    subprocess.run(["bash", str(SCRIPTS / name), *args], check=True, timeout=timeout)


OWNER_FILE = "pytest.pid"  # in a state directory: the test session that started the cluster


def stop_orphaned_cluster(link: Path = Path("/run/slurm/conf")) -> None:
    """Stop the cluster of an earlier test session that was killed before its teardown: its
    daemons (setsid, so they outlive the session) would keep /run/slurm/conf, and start.sh would
    refuse. Only clusters whose recorded session no longer runs are touched."""
    owner = Path(os.path.realpath(link)).parent.parent
    pid_file = owner / OWNER_FILE
    if not pid_file.is_file():
        return
    try:
        os.kill(int(pid_file.read_text()), 0)
    except ProcessLookupError:
        run_script("stop.sh", str(owner), timeout=120)


def claim_conf_link(link: Path, state: Path) -> subprocess.CompletedProcess:
    """common.sh's claim_conf_link LINK STATE_DIR, as start.sh runs it for /run/slurm/conf."""
    script = f'source "{SCRIPTS / "common.sh"}"; claim_conf_link "$1" "$2"'
    return subprocess.run(
        ["bash", "-c", script, "claim", str(link), str(state)],
        capture_output=True,
        text=True,
        timeout=30,
    )


def left_cluster(root: Path, slurmd_pid: int) -> tuple[Path, Path]:
    """A state directory as a run of start.sh leaves it, and the conf link its slurmd made."""
    owner = root / "pytest-4" / "slurm0"
    (owner / "spool" / "conf-cache").mkdir(parents=True)
    (owner / "slurmd.pid").write_text(f"{slurmd_pid}\n")
    link = root / "conf"
    link.symlink_to(owner / "spool" / "conf-cache")
    return owner, link


def fake_slurmd(tmp_path: Path) -> subprocess.Popen:
    """A running process whose command name is slurmd (a copy of sleep)."""
    binary = tmp_path / "bin" / "slurmd"
    binary.parent.mkdir()
    shutil.copy(shutil.which("sleep"), binary)
    return subprocess.Popen([str(binary), "60"])


def test_the_cluster_of_a_killed_test_session_is_stopped_by_the_next(tmp_path):
    live = fake_slurmd(tmp_path)
    dead_session = subprocess.Popen(["true"])
    dead_session.wait()
    try:
        owner, link = left_cluster(tmp_path, live.pid)
        (owner / OWNER_FILE).write_text(f"{os.getpid()}\n")  # this session runs: untouched
        stop_orphaned_cluster(link)
        assert live.poll() is None
        (owner / OWNER_FILE).write_text(f"{dead_session.pid}\n")
        stop_orphaned_cluster(link)
        assert live.wait(timeout=30) is not None
        assert not (owner / "slurmd.pid").exists()
    finally:
        live.kill()


def test_start_removes_the_conf_link_of_a_killed_cluster(tmp_path):
    """The CI failure of stop 26: a run killed before stop.sh left /run/slurm/conf pointing
    into its state directory; the next start must not refuse because of it."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    _, link = left_cluster(tmp_path, dead.pid)
    done = claim_conf_link(link, tmp_path / "slurm1")
    assert done.returncode == 0, done.stderr
    assert not link.is_symlink()
    assert "slurmd no longer runs" in done.stderr


def test_start_refuses_a_live_cluster_and_names_how_to_stop_it(tmp_path):
    live = fake_slurmd(tmp_path)
    try:
        owner, link = left_cluster(tmp_path, live.pid)
        done = claim_conf_link(link, tmp_path / "slurm1")
    finally:
        live.kill()
        live.wait()
    assert done.returncode == 1
    assert link.is_symlink()
    assert f"slurmd pid {live.pid}" in done.stderr
    assert f"stop.sh {owner}" in done.stderr


def test_start_keeps_its_own_link_and_refuses_a_foreign_one(tmp_path):
    state = tmp_path / "slurm0"
    (state / "spool" / "conf-cache").mkdir(parents=True)
    own = tmp_path / "own"
    own.symlink_to(state / "spool" / "conf-cache")
    assert claim_conf_link(own, state).returncode == 0
    assert own.is_symlink()
    foreign = tmp_path / "foreign"
    foreign.symlink_to(tmp_path)  # an existing directory that is no cluster's conf-cache
    done = claim_conf_link(foreign, state)
    assert done.returncode == 1
    assert "was not made by a local cluster of these scripts" in done.stderr


@pytest.fixture(scope="session")
def slurm_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """Environment for Snakemake and SLURM clients that reaches a live local cluster; the
    cluster's daemons are stopped at teardown, whatever the tests did."""
    if os.geteuid() != 0:
        loud_skip("not root: the local cluster installs slurm-wlm/munge and runs slurmd as root")
    if shutil.which("slurmctld") is None and shutil.which("apt-get") is None:
        loud_skip("SLURM is not installed and apt-get is unavailable to install it")
    state = tmp_path_factory.mktemp("slurm")
    run_script("install.sh", timeout=900)
    stop_orphaned_cluster()
    (state / OWNER_FILE).write_text(f"{os.getpid()}\n")
    try:
        run_script("start.sh", str(state), timeout=180)
        yield {
            **os.environ,
            "SLURM_CONF": str(state / "slurm.conf"),
            "PATH": f"{SNAKEMAKE.parent}{os.pathsep}{os.environ['PATH']}",
        }
    finally:
        run_script("stop.sh", str(state), timeout=120)


def snakemake(args: list[str], cwd: Path, env: dict[str, str], timeout: int) -> str:
    """Run Snakemake under `timeout -k` (a stuck status loop ignores SIGTERM); its log."""
    cmd = ["timeout", "-k", "10", str(timeout), str(SNAKEMAKE), *args]
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    log = done.stdout + done.stderr
    if done.returncode != 0:
        workdir = Path(args[args.index("--directory") + 1]) if "--directory" in args else cwd
        # the logs of the failed rules (their tracebacks), then the SLURM job logs
        logs = dict.fromkeys(workdir / name for name in re.findall(r"log: ([^\s,]+)", log))
        logs.update(dict.fromkeys(sorted(workdir.glob(".snakemake/slurm_logs/**/*.log"))))
        failed = [p for p in logs if p.is_file()][:4]
        tails = "".join(
            f"\n--- {p}:\n" + "\n".join(p.read_text().splitlines()[-15:]) for p in failed
        )
        pytest.fail(f"{' '.join(cmd)} exited {done.returncode}:\n{log[-5000:]}{tails}")
    return log


def job_field(job_id: str, field: str, env: dict[str, str]) -> str:
    """One field of `scontrol show job` (finished jobs are kept for MinJobAge = 300 s)."""
    out = subprocess.run(
        ["scontrol", "-o", "show", "job", job_id],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    return re.search(rf"\b{field}=(\S*)", out).group(1)


@pytest.mark.slurm
def test_every_job_goes_through_sbatch_and_failures_are_retried(
    slurm_env: dict[str, str], tmp_path: Path
):
    (tmp_path / "Snakefile").write_text(RETRY_SNAKEFILE)
    log = snakemake(["--workflow-profile", str(TEST_PROFILE)], tmp_path, slurm_env, timeout=300)

    submitted = [slurm_id for _, slurm_id in SUBMITTED.findall(log)]
    attempts = (tmp_path / "attempts.txt").read_text().split()
    ran_in = [(tmp_path / f"{rule}.txt").read_text().strip() for rule in ("augment", "train")]
    assert len(attempts) == 2, "metrics should have failed once, then run again"
    assert attempts[-1] == (tmp_path / "metrics.txt").read_text().strip()
    assert sorted(submitted) == sorted({*ran_in, *attempts}), "one sbatch job per attempt"
    assert [job_field(j, "JobState", slurm_env) for j in attempts] == ["FAILED", "COMPLETED"]
    assert {job_field(j, "Partition", slurm_env) for j in submitted} == {LOCAL_PARTITION}


def final_tables(workdir: Path) -> dict[str, pd.DataFrame]:
    """Table 1 and the long metrics CSVs of a workflow run, by path relative to workdir."""
    paths = [*workdir.glob("results/**/table1.csv"), *workdir.glob("results/**/metrics*.csv")]
    return {str(p.relative_to(workdir)): pd.read_csv(p) for p in sorted(paths)}


@pytest.mark.slurm
@pytest.mark.slow
def test_tiny_workflow_gives_the_same_tables_on_slurm_and_locally(
    slurm_env: dict[str, str], tmp_path: Path
):
    # the tiny config's Table 1 datasets only: every SLURM job costs ~14 s here, and the
    # experiment / ablation rules are the same kind of jobs (tested locally by test_e2e.py)
    config = yaml.safe_load(TINY_CONFIG.read_text())
    config.pop("experiments", None)
    config.pop("ablations", None)
    config["datasets"] = {
        name: entry for name, entry in config["datasets"].items() if entry.get("table1", True)
    }
    config["datasets"] = dict(list(config["datasets"].items())[:2])
    reduced = tmp_path / "config-slurm.yaml"
    reduced.write_text(yaml.safe_dump(config))
    common = ["--snakefile", str(REPO / "Snakefile"), "--configfile", str(reduced)]
    on_slurm, local = tmp_path / "slurm", tmp_path / "local"
    snakemake(
        [*common, "--directory", str(on_slurm), "--workflow-profile", str(TEST_PROFILE)],
        REPO,
        slurm_env,
        timeout=1800,
    )
    snakemake(
        [*common, "--directory", str(local), "--workflow-profile", "none", "--cores", "2"],
        REPO,
        slurm_env,
        timeout=1800,
    )
    slurm_tables, local_tables = final_tables(on_slurm), final_tables(local)
    assert any(name.endswith("table1.csv") for name in slurm_tables), sorted(slurm_tables)
    assert sorted(slurm_tables) == sorted(local_tables)
    for name, table in slurm_tables.items():
        pd.testing.assert_frame_equal(table, local_tables[name], check_exact=True, obj=name)
