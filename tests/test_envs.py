"""The conda environment mirrors the pinned requirements, and the rule scripts find ``miro``
in an environment that does not provide it (conda itself cannot be exercised here)."""

import ast
import os
import re
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TINY = REPO / ".test" / "config" / "config.yaml"


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


# --- `miro` inside an environment that lacks it (--software-deployment-method conda) ---------

SCRIPTS = REPO / "workflow" / "scripts"
LIB = REPO / "workflow" / "lib"


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A Python with the dependencies and without ``miro``, as in a conda environment built from
    envs/miro.yaml: a package-less venv given this interpreter's site-packages on ``PYTHONPATH``
    (no ``.pth`` file runs from there, so the editable install of ``miro`` stays inactive)."""
    root = tmp_path_factory.mktemp("bare")
    venv.create(root / "env", with_pip=False, symlinks=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = os.pathsep.join(site.getsitepackages())
    python = root / "env" / "bin" / "python"
    missing = subprocess.run([python, "-c", "import miro"], env=env, capture_output=True)
    assert b"No module named 'miro'" in missing.stderr  # the environment really lacks it
    return python, env


def test_every_script_imports_the_package_path_first():
    for script in sorted(SCRIPTS.glob("*.py")):
        if script.name == "_miro_path.py":
            continue
        tree = ast.parse(script.read_text())
        imports = [
            node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
            for node in tree.body
            if isinstance(node, ast.Import | ast.ImportFrom)
        ]
        miro = [i for i, name in enumerate(imports) if name.split(".")[0] == "miro"]
        assert "_miro_path" in imports, script.name
        assert miro and imports.index("_miro_path") < miro[0], script.name


def test_the_package_path_registers_workflow_lib_as_miro(bare_python):
    python, env = bare_python
    code = (
        f"import sys; sys.path.append({str(SCRIPTS)!r}); import _miro_path, miro.data.split; "
        "print(miro.__file__); print(miro.data.split.__file__)"
    )
    run = subprocess.run([python, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == [str(LIB / "__init__.py"), str(LIB / "data" / "split.py")]


def test_the_package_path_refuses_another_copy_of_miro(tmp_path, monkeypatch):
    import _miro_path

    other = tmp_path / "lib"
    other.mkdir()
    (other / "__init__.py").write_text("")
    _miro_path.register(LIB)  # the copy already imported: nothing to do
    with pytest.raises(ImportError, match=f"already imported from {LIB}, not from .*{other}"):
        _miro_path.register(other)
    monkeypatch.delitem(sys.modules, "miro_copy", raising=False)
    _miro_path.register(other, name="miro_copy")
    assert Path(sys.modules["miro_copy"].__file__) == other / "__init__.py"


@pytest.mark.slow
def test_rules_run_in_an_environment_without_miro(bare_python, tmp_path):
    """The Snakefile and the rule scripts (augment with worker processes included) run in a
    Python whose environment does not provide ``miro``, as under ``--sdm conda``."""
    python, env = bare_python
    targets = ["results/S8/split.json", "results/S8/augment/graphs.pt"]
    cmd = [python, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile")]
    cmd += ["--directory", str(tmp_path), "--configfile", str(TINY), "--cores", "2", *targets]
    run = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stderr[-4000:]
    assert all((tmp_path / target).is_file() for target in targets)
