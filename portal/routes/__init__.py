"""The portal's routers: health, sign-in, lists, entries and the JSON API."""
