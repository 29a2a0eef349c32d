from __future__ import annotations

import pytest

from identity.link import LINK, NO_MATCH, REVIEW, Linker, identity_keys

pytestmark = pytest.mark.unit
PREF, CITY = "神奈川県", "みどり市"


def keys(kana: str, kanji: str, birth: str, address: str, phone: str = ""):
    return identity_keys(kana, kanji, birth, address, phone, PREF, CITY)


REGISTER = {
    "r-hanako": keys(
        "ヤマダ　ハナコ", "山田　花子", "1945-03-02", "神奈川県みどり市本町1丁目2番3号", "045-111-2222"
    ),
    # a namesake: same name and reading, another birth date and address
    "r-hanako2": keys("ヤマダ　ハナコ", "山田　花子", "1950-07-10", "神奈川県みどり市栄町4丁目5番6号"),
    "r-kyoko": keys(
        "タカハシ　キョウコ", "高橋　京子", "1940-01-15", "神奈川県みどり市桜台2丁目3番4号　ハイツ101"
    ),
}


@pytest.mark.parametrize(
    ("partner_identity", "expected"),
    [
        (("ﾔﾏﾀﾞ ﾊﾅｺ", "", "19450302", "本町一丁目二番三号", ""), "r-hanako"),
        (("やまだ はなこ", "山田花子", "昭和20年3月2日", "本町１－２－３", "(045)111-2222"), "r-hanako"),
        (("ヤマダハナコ", "山田 花子", "S25.7.10", "みどり市栄町4-5-6", ""), "r-hanako2"),
        (("ﾀｶﾊｼ ｷﾖｳｺ", "髙橋京子", "1940/1/15", "桜台2ー3ー4", ""), "r-kyoko"),
    ],
)
def test_variants_link_to_the_right_resident(partner_identity, expected):
    decision = Linker(REGISTER).decide(keys(*partner_identity))
    assert (decision.outcome, decision.resident) == (LINK, expected)


def test_a_stranger_is_no_match_and_a_partial_match_goes_to_review():
    linker = Linker(REGISTER)
    assert linker.decide(keys("スズキ　イチロウ", "鈴木一郎", "1944-04-04", "本町9-9-9")).outcome == NO_MATCH
    # same name and address, birth date missing: not enough to link, enough to ask a steward
    partial = linker.decide(keys("ヤマダ　ハナコ", "", "", "本町1-2-3"))
    assert partial.outcome == REVIEW and partial.resident == "r-hanako"


def test_birth_date_outweighs_a_namesakes_address():
    # Hanako (1945) at the namesake's address: the birth date decides, the address alone does not.
    decision = Linker(REGISTER).decide(keys("ヤマダ　ハナコ", "山田花子", "1945-03-02", "栄町4-5-6"))
    assert (decision.outcome, decision.resident) == (LINK, "r-hanako")
