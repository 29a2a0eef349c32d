"""Linkage quality on the generated benchmark: precision, recall and F1 of *link*, share sent to review.

    .venv/bin/python bench/linkage_quality.py [--residents 10000 --customers 10000 --seed 11 --cases 400]

First per class of address, date and phone forms (bench/linkage_classes.py: each class decided by the
field it is about, wrong merges counted as false links), then on the generated town.

The partner-side copies carry the variations of docs/feeds.md (half-width kana, hiragana, old kanji,
era and compact birth dates, five address styles, phone punctuation), 5% typing slips, namesakes,
residents without consent and outsiders (whose right answer is no match).
"""

from __future__ import annotations

import argparse
import time

from linkage_classes import CLASSES, Row
from linkage_classes import generate as generate_cases
from linkage_data import generate, register_keys

from identity.link import LINK, REVIEW, Linker, identity_keys
from mimamori_demo.town.population import CITY, PREFECTURE


def _keys(row: Row):  # type: ignore[no-untyped-def]
    return identity_keys(row.kana, row.kanji, row.birth, row.address, row.phone, row.prefecture, row.city)


def _figures(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def per_class(cases: int, seed: int) -> None:
    """Print precision, recall and F1 of each class of forms, and of all of them together."""
    print(f"{'class':24s} {'P':>7s} {'R':>7s} {'F1':>7s} {'false links':>12s} {'customers':>10s}")
    total = [0, 0, 0]
    for number, (name, maker) in enumerate(CLASSES.items()):
        found = generate_cases(maker, cases, seed + number)
        linker = Linker({f"R{i}": _keys(case.register) for i, case in enumerate(found)})
        customers: list[tuple[Row, str | None]] = [
            (case.partner, f"R{i}") for i, case in enumerate(found) if case.partner.kana or case.partner.kanji
        ]
        customers += [(case.namesake, None) for case in found if case.namesake is not None]
        tp = fp = fn = 0
        for row, truth in customers:
            decision = linker.decide(_keys(row))
            linked = decision.resident if decision.outcome == LINK else None
            tp += linked is not None and linked == truth
            fp += linked is not None and linked != truth
            fn += truth is not None and linked != truth
        total = [total[0] + tp, total[1] + fp, total[2] + fn]
        precision, recall, f1 = _figures(tp, fp, fn)
        print(f"{name:24s} {precision:7.4f} {recall:7.4f} {f1:7.4f} {fp:12d} {len(customers):10d}")
    precision, recall, f1 = _figures(*total)
    print(f"{'all classes':24s} {precision:7.4f} {recall:7.4f} {f1:7.4f} {total[1]:12d}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--cases", type=int, default=400, help="cases per class of forms")
    args = parser.parse_args()
    per_class(args.cases, args.seed)
    people, customers = generate(args.residents, args.customers, seed=args.seed)
    start = time.monotonic()
    linker = Linker(register_keys(people))
    tp = fp = fn = review = 0
    wrong: list[tuple[str, str | None, str | None]] = []
    for c in customers:
        _, kana, kanji, birth, address, phone = c.identity
        decision = linker.decide(identity_keys(kana, kanji, birth, address, phone, PREFECTURE, CITY))
        linked = decision.resident if decision.outcome == LINK else None
        review += decision.outcome == REVIEW
        if linked is not None and linked == c.truth:
            tp += 1
        elif linked is not None:
            fp += 1
            wrong.append((c.customer_id, c.truth, linked))
        if c.truth is not None and linked != c.truth:
            fn += 1
    took = time.monotonic() - start
    precision, recall, f1 = _figures(tp, fp, fn)
    matches = sum(c.truth is not None for c in customers)
    print(
        f"generated: {len(people)} residents, {len(customers)} customers ({matches} are consented residents)"
    )
    print(
        f"link: precision {precision:.4f}  recall {recall:.4f}  F1 {f1:.4f}  false links {fp} "
        f"({fp / len(customers) * 10_000:.1f} per 10,000)  review {review / len(customers):.2%}  "
        f"wall {took:.1f} s"
    )
    for customer_id, truth, linked in wrong[:5]:
        print(f"  false link {customer_id}: truth {truth} linked {linked}")


if __name__ == "__main__":
    main()
