"""Revocation of consent by voice: the words each prompt language takes, and whether a callee
said one.

The shipped words, prompts and confirmations per language are in ``data/revocation_words.toml``,
with their sources. Speech is compared after folding case, accents and punctuation, and a word
or phrase counts only whole: "no me llame" is in "por favor no me llame más", "stop" is not in
"stopwatch".
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

ENGLISH = "en"


@dataclass(frozen=True)
class PromptLanguage:
    """What callguard's opt-out prompt says and hears in one language."""

    words: tuple[str, ...]  # as written (Twilio's speech hints); compared folded
    prompt: str  # {key}: the opt-out key's name
    keys: Mapping[str, str]  # "*" and "#" by name
    confirmation: str  # {organization}


def fold(text: str) -> str:
    """``text`` lower-cased, without accents, each run of other characters one space."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", text.lower()) if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", " ", bare).strip()


@lru_cache(maxsize=1)
def shipped_languages() -> Mapping[str, PromptLanguage]:
    """The languages callguard's prompt speaks and hears, by primary subtag (``"es"``)."""
    text = resources.files("callguard.policy").joinpath("data/revocation_words.toml").read_text("utf-8")
    return {
        code: PromptLanguage(
            words=tuple(entry["words"]),
            prompt=entry["prompt"],
            keys=dict(entry["keys"]),
            confirmation=entry["confirmation"],
        )
        for code, entry in tomllib.loads(text)["languages"].items()
    }


def prompt_language(language: str) -> PromptLanguage | None:
    """The shipped language of a ``<Say>``/``<Gather>`` language tag (``"es-US"``), or None."""
    return shipped_languages().get(language.split("-", 1)[0].lower())


def revocation_words(language: str) -> tuple[str, ...]:
    """The words that revoke consent at a prompt in ``language``: its own, then English's (a
    callee may say "stop" to any prompt); none for a language callguard does not ship."""
    own = prompt_language(language)
    if own is None:
        return ()
    return tuple(dict.fromkeys((*own.words, *shipped_languages()[ENGLISH].words)))


def said_any(speech: str, words: Iterable[str]) -> bool:
    """Whether ``speech`` holds one of ``words`` as whole words, both folded."""
    said = f" {fold(speech)} "
    return any(f" {fold(word)} " in said for word in words if fold(word))
