"""Makes ``workflow/lib`` importable as ``miro`` in any Python that runs a rule script.

Every script in this folder imports this module before anything from ``miro``. Snakemake runs a
``script:`` with the script's own folder on ``sys.path``, but nothing puts the package there: in
an environment built from ``envs/miro.yaml`` (``--software-deployment-method conda``) the
dependencies are installed and ``miro`` is not. The package lives next to the scripts, in
``../lib``, under another folder name, so it is registered from its ``__init__.py`` under the
name ``miro``; its submodules are then found in that folder. The scripts therefore always run
the package of their own checkout, installed or not. The Snakefile loads this module too, so the
Snakemake process needs the dependencies (``requirements.txt``) but not ``pip install``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

LIB = Path(__file__).resolve().parents[1] / "lib"


def register(lib: Path = LIB, name: str = "miro") -> None:
    """Import the package in ``lib`` as ``name``; a no-op when that package is already loaded
    from ``lib``, an ``ImportError`` naming both folders when another copy is."""
    lib = lib.resolve()
    loaded = sys.modules.get(name)
    if loaded is not None:
        origin = Path(loaded.__file__ or "").resolve().parent
        if origin != lib:
            raise ImportError(
                f"package {name!r} is already imported from {origin}, not from this workflow's "
                f"{lib}: uninstall the other copy or run the workflow of that checkout"
            )
        return
    spec = importlib.util.spec_from_file_location(
        name, lib / "__init__.py", submodule_search_locations=[str(lib)]
    )
    if spec is None or spec.loader is None:
        raise ImportError(f"no Python package at {lib}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise


register()
