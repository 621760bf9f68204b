"""Send a rule script's logging, warnings and progress bars to the rule's log file."""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def script_logging(log_path: str | Path | None) -> Iterator[logging.Logger]:
    """Log to ``log_path`` (and stderr, tqdm included, into the same file) for the block.

    Exceptions are logged with their traceback and re-raised, so a failing rule's log says why.
    """
    logger = logging.getLogger("miro")
    if log_path is None:
        logging.basicConfig(level=logging.INFO)
        yield logger
        return
    Path(log_path).parent.mkdir(parents=True, exist_ok=True)
    with open(log_path, "w", buffering=1) as stream:
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        logging.captureWarnings(True)
        old_stderr, sys.stderr = sys.stderr, stream
        try:
            yield logger
        except BaseException:
            logger.exception("rule failed")
            raise
        finally:
            sys.stderr = old_stderr
            root.removeHandler(handler)
