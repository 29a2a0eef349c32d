"""The portal: signed-in, district-scoped web pages and a small JSON API over the watchlist."""

__all__ = ["account_admin", "accounts", "passwords", "second_factor", "websessions"]
