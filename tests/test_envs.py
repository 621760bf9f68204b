"""The conda environment mirrors the pinned requirements (it cannot be exercised here)."""

import re

import yaml


def _pins(lines):
    return dict(
        m.groups() for line in lines if (m := re.match(r"\s*([A-Za-z0-9_.-]+)==(\S+)", line))
    )


def test_conda_env_matches_requirements(repo_root):
    required = _pins((repo_root / "requirements.txt").read_text().splitlines())
    env = yaml.safe_load((repo_root / "envs" / "miro.yaml").read_text())
    pip_deps = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    conda_pins = _pins(pip_deps)
    runtime = {k: v for k, v in required.items() if k not in {"pytest", "ruff", "snakefmt"}}
    assert conda_pins == runtime


def test_constraints_agree_with_requirements(repo_root):
    required = _pins((repo_root / "requirements.txt").read_text().splitlines())
    constraints = {
        k.lower(): v
        for k, v in _pins((repo_root / "constraints.txt").read_text().splitlines()).items()
    }
    for name, version in required.items():
        assert constraints[name.lower()] == version, name
