"""Consent forms: the initial import and a later file with one withdrawal and one new grant."""

from __future__ import annotations

import datetime
import random
from dataclasses import dataclass, replace

from mimamori_demo.town.lives import Timeline
from mimamori_demo.town.names import load_name_pool
from mimamori_demo.town.partners import PARTNERS
from mimamori_demo.town.population import Town, age_on
from mimamori_demo.town.scenarios import Cast

__all__ = ["CONSENT_COLUMNS", "Consent", "ConsentBook", "build_consents"]

CONSENT_COLUMNS = (
    "resident_id", "consent_id", "scope_partners", "scope_sectors", "purpose", "granted_on",
    "expires_on", "withdrawn_on", "method", "evidence_ref", "proxy_name", "proxy_relation",
)  # fmt: skip
_PROXY_RELATIONS = ("長男", "長女", "成年後見人")


@dataclass(frozen=True)
class Consent:
    """One consent form as a steward digitised it."""

    resident_id: str
    consent_id: str
    scope_partners: str
    scope_sectors: str
    granted_on: datetime.date
    expires_on: datetime.date
    method: str
    evidence_ref: str
    proxy_name: str = ""
    proxy_relation: str = ""
    withdrawn_on: datetime.date | None = None

    def row(self) -> list[str]:
        """The CSV row in CONSENT_COLUMNS order."""
        withdrawn = self.withdrawn_on.isoformat() if self.withdrawn_on else ""
        return [
            self.resident_id,
            self.consent_id,
            self.scope_partners,
            self.scope_sectors,
            "watch_over",
            self.granted_on.isoformat(),
            self.expires_on.isoformat(),
            withdrawn,
            self.method,
            self.evidence_ref,
            self.proxy_name,
            self.proxy_relation,
        ]

    def covers(self, partner_id: str, sector: str) -> bool:
        """Whether the scope includes a partner of a sector."""
        partner_ok = self.scope_partners == "*" or partner_id in self.scope_partners.split(";")
        return partner_ok and (self.scope_sectors == "*" or sector in self.scope_sectors.split(";"))


@dataclass(frozen=True)
class ConsentBook:
    """Both consent files and the facts the truth file reports about them."""

    initial: tuple[Consent, ...]
    later: tuple[Consent, ...]
    later_day: int

    def active_on_start(self) -> dict[str, Consent]:
        """Consents in the initial file, by resident id."""
        return {c.resident_id: c for c in self.initial}


def _scope(rng: random.Random, forced: bool) -> tuple[str, str]:
    roll = rng.random()
    if forced or roll < 0.8:
        return "*", "*"
    if roll < 0.9:
        return ";".join(sorted(rng.sample([p.id for p in PARTNERS], rng.randint(2, 3)))), "*"
    return "*", ";".join(sorted(rng.sample(["delivery", "utility", "insurer", "clinic"], 2)))


def _proxy(rng: random.Random, family: str) -> tuple[str, str]:
    pool = load_name_pool()
    relation = rng.choice(_PROXY_RELATIONS)
    sex = "M" if relation == "長男" else "F" if relation == "長女" else rng.choice("MF")
    surname = family if relation == "長男" else pool.family_name(rng)[0]
    return f"{surname}\u3000{pool.given_name(rng, sex, 1975)[0]}", relation


def _form(
    rng: random.Random, town: Town, rid: str, granted: datetime.date, expires: datetime.date, forced: bool
) -> Consent:
    method = rng.choices(("paper", "online", "proxy"), weights=(0.6, 0.25, 0.15), k=1)[0]
    proxy_name, relation = (
        _proxy(rng, town.residents[rid].name.family_kanji) if method == "proxy" else ("", "")
    )
    evidence = (
        f"WEB-{rng.getrandbits(32):08x}"
        if method == "online"
        else f"SCAN-{granted:%Y%m%d}-{rng.randint(1, 9999):04d}"
    )
    partners, sectors = _scope(rng, forced)
    return Consent(rid, "", partners, sectors, granted, expires, method, evidence, proxy_name, relation)


def build_consents(rng: random.Random, town: Town, cast: Cast, tl: Timeline) -> ConsentBook:
    """Grant consent to ~70% of elders living alone and ~20% of other elders, then number the forms."""
    forms: list[Consent] = []
    end = tl.date(tl.days)
    for rid, person in town.residents.items():
        if rid in cast.unconsenting or age_on(person.birth, tl.start) < 65:
            continue
        alone = len(town.households[person.household_id]) == 1
        forced = rid in cast.lives or rid in cast.expiring
        if not forced and rng.random() >= (0.7 if alone else 0.2):
            continue
        granted = tl.start - datetime.timedelta(days=rng.randint(20, 700))
        years = [y for y in (1, 2, 3) if granted + datetime.timedelta(days=365 * y) > end] or [3]
        expires = granted + datetime.timedelta(days=365 * rng.choice(years))
        if rid in cast.expiring:
            expires = tl.date(rng.randint(1, max(1, tl.days - 1)))
            granted = expires - datetime.timedelta(days=365 * rng.randint(1, 3))
        forms.append(_form(rng, town, rid, granted, expires, forced))
    later_day = max(1, min(rng.randint(8, 10), tl.days - 1))
    later = tl.date(later_day)
    grant = _form(rng, town, cast.new_grant, later, later + datetime.timedelta(days=730), True)
    numbered = _number(rng, [*forms, grant])
    by_resident = {c.resident_id: c for c in numbered}
    withdrawing = next(rid for rid, life in cast.lives.items() if life.scenario == "withdrawal")
    withdrawal = replace(by_resident[withdrawing], withdrawn_on=later)
    initial = tuple(by_resident[c.resident_id] for c in forms)
    return ConsentBook(initial, (withdrawal, by_resident[cast.new_grant]), later_day)


def _number(rng: random.Random, forms: list[Consent]) -> list[Consent]:
    """Consent ids run in order of signing, C<year>-<sequence>, with gaps for voided forms."""
    seq = rng.randint(100, 300)
    numbered = []
    for form in sorted(forms, key=lambda c: (c.granted_on, c.resident_id)):
        seq += rng.randint(1, 3)
        numbered.append(replace(form, consent_id=f"C{form.granted_on.year}-{seq:06d}"))
    return numbered
