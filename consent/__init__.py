"""Consent records and their lifecycle, scope checks at the ingest boundary."""
