"""Reading partner deliveries: registry, manifests, decoding, canonical rows, feed health."""

from connectors.canonical import Canonical, canonicalise
from connectors.delivery import READY, REFUSED, WAITING, Check, Manifest, check_delivery, scan_inbox
from connectors.read import read_table
from connectors.registry import Partner, load_registry
from connectors.sectors import IDENTIFIER_COLUMNS, SECTORS

__all__ = [
    "IDENTIFIER_COLUMNS",
    "READY",
    "REFUSED",
    "SECTORS",
    "WAITING",
    "Canonical",
    "Check",
    "Manifest",
    "Partner",
    "canonicalise",
    "check_delivery",
    "load_registry",
    "read_table",
    "scan_inbox",
]
