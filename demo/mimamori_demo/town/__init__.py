"""Synthetic town generator: register, consents, partner registry and messy daily deliveries for a demo.

`generate_town(home)` writes a whole fictional city (みどり市) into a data home and a ground-truth
file beside it, deterministically for a seed.
"""

from mimamori_demo.town.consents import CONSENT_COLUMNS
from mimamori_demo.town.generate import TownSummary, default_truth_path, generate_town
from mimamori_demo.town.partners import (
    CANONICAL_EVENTS,
    IDENTIFIER_COLUMNS,
    PARTNERS,
    SECTOR_COLUMNS,
    PartnerSpec,
)
from mimamori_demo.town.register import REGISTER_COLUMNS
from mimamori_demo.town.scenarios import SCENARIOS

__all__ = [
    "CANONICAL_EVENTS",
    "CONSENT_COLUMNS",
    "IDENTIFIER_COLUMNS",
    "PARTNERS",
    "REGISTER_COLUMNS",
    "SCENARIOS",
    "SECTOR_COLUMNS",
    "PartnerSpec",
    "TownSummary",
    "default_truth_path",
    "generate_town",
]
