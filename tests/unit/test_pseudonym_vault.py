from __future__ import annotations

import pytest

from identity.keys import KeyRing
from identity.pseudonym import is_pseudonym, pseudonymise
from identity.vault import seal, seal_bytes, unseal, unseal_bytes
from warehouse.errors import ConfigurationError

pytestmark = pytest.mark.unit
RING = KeyRing("k1", {"k1": b"a" * 32})
OTHER = KeyRing("k2", {"k2": b"b" * 32})


def test_pseudonym_is_stable_keyed_and_carries_its_key_id():
    first = pseudonymise(RING, "0001234567")
    assert first == pseudonymise(RING, " 0001234567 ")
    assert first.startswith("k1:") and is_pseudonym(first)
    assert first != pseudonymise(RING, "0001234568")
    assert pseudonymise(OTHER, "0001234567").split(":")[1] != first.split(":")[1]
    assert "0001234567" not in first


def test_vault_round_trip_and_binding_to_the_pseudonym():
    key_id, blob = seal(RING, "k1:abc", {"name_kanji": "山田　花子"})
    assert "山田".encode() not in blob
    assert unseal(RING, key_id, "k1:abc", blob) == {"name_kanji": "山田　花子"}
    with pytest.raises(ConfigurationError):
        unseal(RING, key_id, "k1:other", blob)  # moved to another resident's row
    with pytest.raises(ConfigurationError):
        unseal(RING, "k9", "k1:abc", blob)


def test_sealed_bytes_need_the_right_context():
    blob = seal_bytes(RING, "quarantine/p/d/f.csv", b"raw,identifiers")
    assert unseal_bytes(RING, "quarantine/p/d/f.csv", blob) == b"raw,identifiers"
    with pytest.raises(ConfigurationError):
        unseal_bytes(RING, "quarantine/p/d/g.csv", blob)
