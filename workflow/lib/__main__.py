"""``python -m miro``: the command line (`miro.applications.cli`)."""

from miro.applications.cli import main

raise SystemExit(main())
