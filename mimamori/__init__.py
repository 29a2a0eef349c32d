"""Mimamori: settings, the CLI and the in-process daily run."""
