"""The examples of docs/feeds.md are read by the real connectors: a manifest, a registry, a CSV per sector."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
import yaml

from connectors import READY, canonicalise, check_delivery, load_registry
from connectors.read import iter_table

pytestmark = pytest.mark.unit

DOC = Path(__file__).resolve().parents[2] / "docs" / "feeds.md"
SECTIONS = re.compile(r"^### (\w+)（", re.M)


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)


def sector_examples() -> dict[str, str]:
    """The CSV example under each sector's heading."""
    text = DOC.read_text(encoding="utf-8")
    found = {}
    for heading in SECTIONS.finditer(text):
        example = re.search(r"```csv\n(.*?)```", text[heading.end() :], re.S)
        assert example is not None
        found[heading.group(1)] = example.group(1)
    return found


def test_the_annex_is_versioned_and_has_an_example_per_sector():
    assert re.search(r"\*\*版 \d{4}\.\d{2}\*\*", DOC.read_text(encoding="utf-8"))
    assert set(sector_examples()) == {"delivery", "utility", "insurer", "clinic"}


@pytest.mark.parametrize("sector", ["delivery", "utility", "insurer", "clinic"])
def test_each_sector_example_is_read_without_a_rejected_row(sector: str, tmp_path: Path):
    registry = yaml.safe_load(blocks("yaml")[0])
    entry = {**registry["partners"][0], "id": f"p-{sector}", "sector": sector, "encoding": "utf-8"}
    if sector != "delivery":  # the registry example maps delivery codes
        entry["codes"] = {}
    (tmp_path / "partners.yaml").write_text(yaml.safe_dump({"partners": [entry]}), encoding="utf-8")
    partners = load_registry(tmp_path / "partners.yaml")
    body = sector_examples()[sector].encode()
    folder = tmp_path / "inbox" / entry["id"] / "20261126-01"
    folder.mkdir(parents=True)
    (folder / "data.csv").write_bytes(body)
    manifest = json.loads(blocks("json")[0].replace("9f2c…", "x"))
    rows = len(body.decode().strip().splitlines()) - 1
    manifest.update(
        partner_id=entry["id"],
        sector=sector,
        files=[{"name": "data.csv", "sha256": hashlib.sha256(body).hexdigest(), "rows": rows}],
    )
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    check = check_delivery(folder, partners)
    assert check.status == READY, check.reason
    assert check.manifest is not None
    [chunk] = iter_table(folder / "data.csv", "utf-8")
    canonical = canonicalise(chunk, partners[entry["id"]], check.manifest)
    assert dict(canonical.rejected.counts) == {} and len(canonical.rows) == rows


def test_the_readme_and_the_code_point_only_to_documents_inside_the_repository():
    root = DOC.parents[1]
    readme = (root / "README.md").read_text(encoding="utf-8")
    assert "(docs/feeds.md)" in readme and "(docs/architecture.md)" in readme
    outside = re.compile(r"ARCHITECTURE\.md|\.\./shared|(?<!docs/)FEEDS\.md")
    texts = [
        root / "README.md",
        *sorted((root / "mimamori").rglob("*.py")),
        *sorted((root / "docs").glob("*.md")),
    ]
    assert [str(p.relative_to(root)) for p in texts if outside.search(p.read_text(encoding="utf-8"))] == []
    for link in re.findall(r"\]\((docs/[\w.]+)\)", readme):
        assert (root / link).is_file(), link
