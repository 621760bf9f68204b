"""MIRO core library: graphs, model, training, metrics, statistics, data, plots.

Installed as the ``miro`` package (``pyproject.toml`` maps ``workflow/lib`` to ``miro``).
Nothing here imports Snakemake: rules call thin scripts in ``workflow/scripts`` that parse
their inputs and call these functions.
"""

__version__ = "0.1.0"
