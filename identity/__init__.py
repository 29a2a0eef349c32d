"""Japanese identifier normalisation, linkage to the register, keyed pseudonyms and the identity vault."""

from identity.address import Address, normalise_address
from identity.dates import parse_birth_date
from identity.errors import InvalidIdentifier
from identity.kana import kana_key, normalise_kana
from identity.kanji import normalise_kanji_name
from identity.phone import normalise_phone, phone_numbers
from identity.pseudonym import is_pseudonym, pseudonymise

__all__ = [
    "Address",
    "InvalidIdentifier",
    "is_pseudonym",
    "kana_key",
    "normalise_address",
    "normalise_kana",
    "normalise_kanji_name",
    "normalise_phone",
    "parse_birth_date",
    "phone_numbers",
    "pseudonymise",
]
