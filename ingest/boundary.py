"""The ingest boundary for rows: link each identity, gate on consent, keep only what may cross.

A delivery is read in chunks; `Batch` carries what must span them (resolutions, duplicate hashes,
rejected and held rows, counts), so a chunk's identifier columns are gone before the next is read.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from connectors import IDENTIFIER_COLUMNS, SECTORS, Canonical, Partner
from connectors.archive import members_of
from connectors.canonical import RowHashes
from consent.book import NO_CONSENT, ConsentBook
from identity.keys import KeyRing
from identity.pseudonym import keyed_digest
from identity.resolver import ENDED, Resolution, Resolver
from warehouse.load import SIGNAL_COLUMNS

HELD = "held_for_review"
# Column names that may be recorded by name when dropped: the contract's own (of any sector) and the
# usual labels of free-text columns. Any other header may carry an identifier: only counted and digested.
KNOWN_COLUMNS = frozenset(
    {*IDENTIFIER_COLUMNS, *(c for s in SECTORS.values() for c in s.columns)}
    | {
        "備考",
        "摘要",
        "メモ",
        "コメント",
        "特記事項",
        "notes",
        "note",
        "remarks",
        "memo",
        "comment",
        "comments",
    }
)
UNKNOWN_COLUMNS = "unknown_columns"


def dropped_columns(names: list[str], keys: KeyRing) -> dict[str, int]:
    """What may be recorded of dropped columns: known names by name, the others as a count under a digest."""
    found = {name: 1 for name in names if name in KNOWN_COLUMNS}
    unknown = sorted(name for name in names if name not in KNOWN_COLUMNS)
    if unknown:
        digest = keyed_digest(keys, "columns", *unknown)[:24]
        found[f"{UNKNOWN_COLUMNS}:{digest}"] = len(unknown)
    return found


@dataclass(frozen=True)
class Linked:
    """Per row: the resident, the review holding it, or why a known customer is no longer taken in."""

    residents: pd.Series
    reviews: pd.Series
    ended: pd.Series
    outcomes: Counter[str]
    refused: Counter[str] = field(default_factory=Counter)


def link_rows(
    rows: pd.DataFrame,
    resolver: Resolver,
    partner_id: str,
    decided: dict[tuple[str, ...], Resolution] | None = None,
) -> Linked:
    """Resolve each distinct identity once (not each row; `decided` carries them over chunks)."""
    identity = list(IDENTIFIER_COLUMNS)
    decided = {} if decided is None else decided
    outcomes: Counter[str] = Counter()
    refused: Counter[str] = Counter()
    groups = rows.groupby(identity, sort=False, dropna=False).ngroup().to_numpy()
    distinct = rows.loc[:, identity].drop_duplicates().itertuples(index=False, name=None)
    answers = []
    for values in distinct:
        if values not in decided:
            decided[values] = resolver.resolve(partner_id, values)
            outcomes[decided[values].outcome] += 1
            refused.update(decided[values].refused)
        answers.append(decided[values])

    def spread(values: list[object]) -> pd.Series:
        return pd.Series(np.array(values, dtype=object)[groups], index=rows.index, dtype=object)

    return Linked(
        residents=spread([r.resident for r in answers]),
        reviews=spread([r.review_id for r in answers]),
        ended=spread([r.outcome if r.outcome in ENDED else None for r in answers]),
        outcomes=outcomes,
        refused=refused,
    )


def gate(
    rows: pd.DataFrame, residents: pd.Series, book: ConsentBook, partner: Partner
) -> tuple[pd.Series, pd.Series]:
    """Per row: the consent id that allows it, or why it is dropped (checked once per resident and day)."""
    keys = pd.MultiIndex.from_arrays([residents.fillna(""), rows["event_start"].dt.normalize()])
    unique = keys.unique()
    verdicts = [
        book.check(resident, partner.id, partner.sector, day.date()) if resident else (None, NO_CONSENT)
        for resident, day in unique
    ]
    where = unique.get_indexer(keys)
    consent_ids = pd.Series(
        np.array([v[0] for v in verdicts], dtype=object)[where], index=rows.index, dtype=object
    )
    reasons = pd.Series(
        np.array([v[1] for v in verdicts], dtype=object)[where], index=rows.index, dtype=object
    )
    return consent_ids, reasons


def pseudonymous_frame(
    rows: pd.DataFrame, residents: pd.Series, consent_ids: pd.Series, partner: Partner
) -> pd.DataFrame:
    """The rows as they may cross the boundary: pseudonym and consent id, no identifier column."""
    frame = rows.assign(
        resident=residents, consent_id=consent_ids, partner_id=partner.id, sector=partner.sector
    )
    return frame.loc[:, list(SIGNAL_COLUMNS)].reset_index(drop=True)


@dataclass
class Batch:
    """One delivery's rows as they pass the boundary chunk by chunk."""

    partner: Partner
    resolver: Resolver
    book: ConsentBook
    rows_read: int = 0
    hashes: RowHashes = field(default_factory=RowHashes)
    decided: dict[tuple[str, ...], Resolution] = field(default_factory=dict)
    signals: list[pd.DataFrame] = field(default_factory=list)
    rejected: dict[int, str] = field(default_factory=dict)
    rejected_rows: list[pd.DataFrame] = field(default_factory=list)
    held: dict[int, list[pd.DataFrame]] = field(default_factory=dict)
    rejected_counts: Counter[str] = field(default_factory=Counter)
    dropped: Counter[str] = field(default_factory=Counter)
    dropped_columns: dict[str, int] = field(default_factory=dict)
    link_outcomes: Counter[str] = field(default_factory=Counter)
    identifiers_refused: Counter[str] = field(default_factory=Counter)
    members: list[pd.DataFrame] = field(default_factory=list)  # (resident, row_no) for the archive

    def add(self, canonical: Canonical, rows_read: int) -> None:
        """Take one canonicalised chunk: link, gate, keep its signals and set aside the rest."""
        self.rows_read += rows_read
        self.rejected.update(canonical.rejected.rows)
        self.rejected_counts.update(canonical.rejected.counts)
        if canonical.rejected.rows:
            source = canonical.source
            self.rejected_rows.append(source.loc[source["row_no"].isin(canonical.rejected.rows)])
        self.dropped_columns.update(dropped_columns(canonical.dropped_columns, self.resolver.keys))
        rows = canonical.rows
        linked = link_rows(rows, self.resolver, self.partner.id, self.decided)
        self.link_outcomes.update(linked.outcomes)
        self.identifiers_refused.update(linked.refused)
        self.members.append(members_of(rows, linked.residents))
        consent_ids, reasons = gate(rows, linked.residents, self.book, self.partner)
        reasons = reasons.mask(linked.reviews.notna(), HELD).mask(linked.ended.notna(), linked.ended)
        kept = reasons.isna()
        self.dropped.update(Counter(reasons.dropna().tolist()))
        waiting = linked.reviews.notna()
        for review_id, held in rows.loc[waiting].groupby(linked.reviews.loc[waiting]):
            self.held.setdefault(int(review_id), []).append(held)
        self.signals.append(
            pseudonymous_frame(
                rows.loc[kept], linked.residents.loc[kept], consent_ids.loc[kept], self.partner
            )
        )

    def frame(self) -> pd.DataFrame:
        """Every signal of the delivery that may be loaded."""
        if not self.signals:
            return pd.DataFrame(columns=list(SIGNAL_COLUMNS))
        return pd.concat(self.signals, ignore_index=True)

    def rejected_source(self) -> pd.DataFrame:
        """The source rows that row checks rejected (sealed into quarantine with their reasons)."""
        return pd.concat(self.rejected_rows, ignore_index=True) if self.rejected_rows else pd.DataFrame()
