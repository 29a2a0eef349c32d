"""Linkage quality on the generated benchmark: precision, recall and F1 of *link*, share sent to review.

    .venv/bin/python bench/linkage_quality.py [--residents 10000 --customers 10000 --seed 11]

The partner-side copies carry the variations of docs/feeds.md (half-width kana, hiragana, old kanji,
era and compact birth dates, five address styles, phone punctuation), 5% typing slips, namesakes,
residents without consent and outsiders (whose right answer is no match).
"""

from __future__ import annotations

import argparse
import time

from linkage_data import generate, register_keys

from identity.link import LINK, REVIEW, Linker, identity_keys
from mimamori_demo.town.population import CITY, PREFECTURE


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--residents", type=int, default=10_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
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
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
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
