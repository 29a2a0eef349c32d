"""`mimamori serve`: the portal under uvicorn, over the configured data home and warehouse."""

from __future__ import annotations

import logging
import sys

LOOPBACK = "127.0.0.1"


def access_logging() -> None:
    """Log each request as method, path, status and time (paths hold entry ids only, never a query)."""
    access = logging.getLogger("mimamori.portal.access")
    if not access.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
        access.addHandler(handler)
    access.setLevel(logging.INFO)
    access.propagate = False


def serve(host: str, port: int) -> None:
    """Migrate the warehouse, then serve the portal; cookies are Secure unless bound to 127.0.0.1."""
    import uvicorn

    from mimamori.context import warehouse_settings
    from portal.app import create_app

    settings = warehouse_settings()
    app = create_app(settings, secure_cookies=host != LOOPBACK)
    access_logging()
    print(f"見守りポータル / portal: http://{host}:{port}/  (Ctrl+C で停止 / to stop)", file=sys.stderr)
    # uvicorn's own access log prints query strings; ours prints paths only.
    uvicorn.run(app, host=host, port=port, access_log=False, server_header=False, log_level="info")
