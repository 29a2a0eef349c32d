"""The portal: signed-in, district-scoped web pages and a small JSON API over the watchlist."""

__all__ = ["accounts", "passwords", "websessions"]
