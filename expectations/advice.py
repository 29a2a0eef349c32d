"""What a held-back delivery's recorded reason means in Japanese, and what the steward should do next.

Reasons are recorded by ingest in their own words (some bilingual, some English); this table reads them by
pattern, first match wins, so a new reason falls through to the general advice rather than to nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Advice:
    """A reason in Japanese and the next step."""

    kind: str
    what_ja: str
    next_ja: str


_TABLE: tuple[tuple[str, Advice], ...] = (
    (
        r"not valid \S+ at line|declared \S+ but|encoding|decode|文字コード",
        Advice(
            "encoding",
            "ファイルが協定で決めた文字コードになっていません。",
            "事業者に、宣言した文字コード（協定の encoding）で保存し直して再送するよう依頼してください。"
            "再送が届いたらこの配信は破棄します。",
        ),
    ),
    (
        r"expectations failed",
        Advice(
            "validation",
            "データの検証（必須項目・値の範囲など）に失敗しました。",
            "検証結果の項目名を事業者に伝え、修正版の再送を依頼してください。誤検知と判断した場合のみ解放します。",
        ),
    ),
    (
        r"SHA-256|checksum|changed while being read",
        Advice(
            "checksum",
            "ファイルの内容がマニフェストのチェックサムと一致しません（転送途中の破損など）。",
            "事業者に同じ配信の再送を依頼してください。",
        ),
    ),
    (
        r"manifest|マニフェスト",
        Advice(
            "manifest",
            "マニフェスト（manifest.json）の内容が正しくありません。",
            "事業者にマニフェストを直して再送するよう依頼してください。",
        ),
    ),
    (
        r"symbolic link|not a regular file|リンク",
        Advice(
            "folder",
            "受信フォルダに通常のファイル以外（リンクなど）がありました。安全のため読んでいません。",
            "システム担当に受信フォルダの設定を確認してもらい、事業者に再送を依頼してください。",
        ),
    ),
    (
        r"agreement|unknown partner|協定",
        Advice(
            "agreement",
            "協定の範囲外（期間外・未登録の事業者など）の配信です。",
            "協定の内容と期間を確認してください。範囲外なら破棄します。",
        ),
    ),
    (
        r"CSV cannot be parsed|not valid JSON|not a JSON object|columns missing",
        Advice(
            "format",
            "ファイルの形式（列・CSV/JSON の構造）が正しくありません。",
            "事業者に協定どおりの形式で再送するよう依頼してください。",
        ),
    ),
    (
        r"unexpected error|予期しないエラー",
        Advice(
            "unexpected",
            "処理中に予期しないエラーが起きました。データ自体の問題とは限りません。",
            "システム担当に連絡し、原因が直ってから解放してください。",
        ),
    ),
)
GENERAL = Advice(
    "other",
    "この配信は保留されています。",
    "理由を確認し、事業者に再送を依頼するか、問題がなければ解放してください。",
)


def advise(reason: str | None) -> Advice:
    """The advice for a recorded reason (the general advice when no pattern matches)."""
    for pattern, advice in _TABLE:
        if reason and re.search(pattern, reason, flags=re.IGNORECASE):
            return advice
    return GENERAL
