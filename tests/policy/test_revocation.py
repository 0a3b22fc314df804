"""Revocation words per prompt language (callguard.policy.revocation)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callguard.policy.revocation import fold, prompt_language, revocation_words, said_any, shipped_languages


def test_folding_drops_case_accents_and_punctuation() -> None:
    assert fold("¡No me llame MÁS!") == "no me llame mas"
    assert fold("Ne m'appelez plus.") == "ne m appelez plus"
    assert fold("  désinscrivez-moi ") == "desinscrivez moi"


@given(st.text())
def test_folded_text_is_lower_case_ascii_words(text: str) -> None:
    folded = fold(text)
    assert folded == fold(folded)
    assert all(part.isascii() and part.isalnum() and part == part.lower() for part in folded.split(" ") if part)


@pytest.mark.parametrize(
    "speech, language, said",
    [
        ("Stop calling me.", "en-US", True),
        ("stopwatch", "en-US", False),
        ("please take me off your list", "en-US", True),
        ("Alto", "es-US", True),
        ("no me llamen nunca más", "es-MX", True),
        ("Stop", "es-US", True),  # English words are heard at every shipped language's prompt
        ("altavoz", "es-US", False),
        ("Arrêtez !", "fr-FR", True),
        ("ne m’appelez plus", "fr-CA", True),  # a typographic apostrophe
        ("c'est intéressant", "fr-FR", False),
        ("alto", "en-US", False),  # a Spanish word at an English prompt: Twilio hears English there
    ],
)
def test_a_revocation_is_a_whole_word_or_phrase_of_the_prompts_language(speech: str, language: str, said: bool) -> None:
    assert said_any(speech, revocation_words(language)) is said


def test_english_and_spanish_are_shipped_with_the_words_the_fcc_rule_names() -> None:
    english = revocation_words("en-US")
    assert {"stop", "quit", "end", "revoke", "opt out", "cancel", "unsubscribe"} <= set(english)
    assert {"alto", "basta", "cancelar", "no me llame"} <= set(revocation_words("es-US"))
    assert revocation_words("de-DE") == () and prompt_language("de-DE") is None


def test_every_shipped_prompt_names_its_key_and_every_confirmation_its_organization() -> None:
    for code, spoken in shipped_languages().items():
        assert "{key}" in spoken.prompt and "{organization}" in spoken.confirmation, code
        assert set(spoken.keys) == {"*", "#"}, code
        assert all(fold(word) for word in spoken.words), code
