"""The one way a YAML settings file is read, with one shape of error for a missing or malformed file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from warehouse.errors import InputError

INIT_HINT = "; `mimamori init` がひな形を書きます / `mimamori init` writes a commented template"


def load_yaml(path: Path, text: str | None = None, missing_hint: str = "") -> dict[str, Any]:
    """A YAML file's top-level mapping (empty for an empty file), or an InputError naming the file.

    `text` is the file's text when it was read already (a packaged resource); the path then only names it.
    `missing_hint` ends the message for a missing file (what writes it).
    """
    if text is None:
        if not path.is_file():
            raise InputError(f"{path.name}: ファイルがありません / file not found ({path}){missing_hint}")
        text = path.read_text(encoding="utf-8")
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as problem:
        mark = getattr(problem, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{path.name}: YAML として読めません / not valid YAML{where}") from None
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise InputError(f"{path.name}: 項目の一覧が必要です / expected a mapping at the top level")
    return document
