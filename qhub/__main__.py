"""`python -m qhub`: the command-line interface."""

from qhub.cli.main import main

raise SystemExit(main())
