"""``python -m gateway.cli``: the same command as ``hygie``."""

from gateway.cli.app import main

main()
