"""The `mimamori` command line: one small module per group of commands, parsed in `main`."""

from mimamori.cli.main import main

__all__ = ["main"]
