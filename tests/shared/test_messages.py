"""The message catalogue: Accept-Language chooses, placeholders carry their text (translated
when the catalogue knows it), and anything unknown stays in English."""

from __future__ import annotations

from shared.kit.messages import Catalogue, preferred_language


def test_accept_language_picks_the_best_language_the_catalogue_has() -> None:
    have = frozenset({"en", "id"})
    assert preferred_language(None, have) == "en"
    assert preferred_language("id", have) == "id"
    assert preferred_language("id-ID,id;q=0.9,en;q=0.8", have) == "id"
    assert preferred_language("en-US,en;q=0.9,id;q=0.5", have) == "en"
    assert preferred_language("fr, id;q=0.3", have) == "id"
    assert preferred_language("fr", have) == "en"
    assert preferred_language("id;q=0", have) == "en"
    assert preferred_language("id;q=bogus", have) == "en"


def test_messages_are_translated_exactly_by_pattern_or_left_alone() -> None:
    catalogue = Catalogue()
    catalogue.add("id", {"no such thing": "tidak ada", "wrong: {what}": "salah: {what}"})
    catalogue.add("id", {"Value error, {message}": "{message}"})
    catalogue.add("id", {"Value error, {message}": "{message}"})  # again: no change
    assert catalogue.translate("no such thing", "id") == "tidak ada"
    assert catalogue.translate("wrong: no such thing", "id") == "salah: tidak ada"
    assert catalogue.translate("Value error, no such thing", "id") == "tidak ada"
    assert catalogue.translate("body.x: no such thing", "id") == "body.x: tidak ada"
    assert catalogue.translate("something else", "id") == "something else"
    assert catalogue.translate("no such thing", "en") == "no such thing"
    assert len(catalogue.patterns["id"]) == 2
