"""The ``hygie`` command line: serve, demo, admin, policy, quotas and report commands."""

from gateway.cli.app import main

__all__ = ["main"]
