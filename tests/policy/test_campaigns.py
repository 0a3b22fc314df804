"""Campaigns (callguard.policy.campaigns) and the calling-hours section of the policy."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest

from callguard import ConfigError, load_policy
from callguard.policy import OptOutScope, Purpose

A = "AC" + "a" * 32
B = "AC" + "b" * 32

CAMPAIGN = """
[campaigns.spring]
purpose = "telemarketing"
organization = "Acme Solar"
disclosure = "This is Acme Solar calling about our spring offer."
"""


def test_campaigns_load(write_policy: Callable[..., Path]) -> None:
    path = write_policy(
        CAMPAIGN
        + f"""
opt_out_digit = "*"
opt_out_scope = "campaign"
registries = ["us_ftc"]
answer_urls = ["https://app.example.com/twiml/"]
calling_hours = {{ all = "10:00-19:00", sat = "closed" }}

[campaigns.reminders]
purpose = "informational"

[accounts.{A}]
campaign = "spring"
[accounts.{B}]
parent = "{A}"
"""
    )
    policy = load_policy(path)
    spring = policy.campaigns["spring"]
    assert spring.purpose is Purpose.TELEMARKETING and spring.telemarketing
    assert spring.opt_out_digit == "*" and spring.opt_out_scope is OptOutScope.CAMPAIGN
    assert spring.registries == ("us_ftc",) and spring.answer_urls == ("https://app.example.com/twiml/",)
    assert spring.calling_hours is not None and spring.calling_hours.describe(date(2026, 6, 6)) == "closed"
    assert spring.prompt_text() == 'To stop receiving these calls, press star or say "stop" now.'
    assert "Acme Solar" in spring.confirmation()
    assert not policy.campaigns["reminders"].telemarketing
    assert policy.accounts[A].default_campaign == "spring"
    assert policy.accounts[B].default_campaign == "spring"  # inherited


def test_a_language_without_shipped_words_takes_the_key_only(write_policy: Callable[..., Path]) -> None:
    path = write_policy(CAMPAIGN + 'language = "de-DE"\n')
    campaign = load_policy(path).campaigns["spring"]
    assert not campaign.speech_opt_out and campaign.prompt_text() == "To stop receiving these calls, press 9 now."


def test_its_own_words_make_any_language_listen(write_policy: Callable[..., Path]) -> None:
    path = write_policy(CAMPAIGN + 'language = "de-DE"\nopt_out_words = ["Stopp", "nicht mehr anrufen"]\n')
    campaign = load_policy(path).campaigns["spring"]
    assert campaign.speech_opt_out and campaign.revocation_words == ("stopp", "nicht mehr anrufen")


@pytest.mark.parametrize(
    "language, prompt, confirmation",
    [
        ("es-MX", 'Para dejar de recibir estas llamadas, marque asterisco o diga "alto" ahora.', "No recibirá más llamadas de Acme"),
        (
            "fr-FR",
            "Pour ne plus recevoir ces appels, appuyez sur étoile ou dites « stop » maintenant.",
            "Vous ne recevrez plus d'appels de Acme",
        ),
        ("en-GB", 'To stop receiving these calls, press star or say "stop" now.', "You will not receive further calls from Acme"),
    ],
)
def test_the_prompt_and_confirmation_speak_the_campaigns_language(
    write_policy: Callable[..., Path], language: str, prompt: str, confirmation: str
) -> None:
    path = write_policy(CAMPAIGN + f'language = "{language}"\nopt_out_digit = "*"\n')
    campaign = load_policy(path).campaigns["spring"]
    assert campaign.prompt_text() == prompt
    assert confirmation in campaign.confirmation()


@pytest.mark.parametrize(
    "text, key, fragment",
    [
        ("[campaigns.spring]\norganization = \"x\"\n", "campaigns.spring.purpose", "missing"),
        ("[campaigns.spring]\npurpose = \"sales\"\n", "campaigns.spring.purpose", "expected one of"),
        ("[campaigns.spring]\npurpose = \"telemarketing\"\ndisclosure = \"hi\"\n", "campaigns.spring.organization", "who is calling"),
        ("[campaigns.spring]\npurpose = \"telemarketing\"\norganization = \"Acme\"\n", "campaigns.spring.disclosure", "needs disclosure"),
        (CAMPAIGN + "opt_out_digit = \"99\"\n", "campaigns.spring.opt_out_digit", "not one key"),
        (CAMPAIGN + "registries = [\"US FTC\"]\n", "campaigns.spring.registries[0]", "not a registry name"),
        (CAMPAIGN + "answer_urls = [\"app.example.com\"]\n", "campaigns.spring.answer_urls[0]", "absolute http(s) URL"),
        (CAMPAIGN + "disclosure_url = \"file:///etc/passwd\"\n", "campaigns.spring.disclosure_url", "absolute http(s) URL"),
        (CAMPAIGN + "calling_hours = { all = \"9-17\" }\n", "campaigns.spring.calling_hours.all", "HH:MM-HH:MM"),
        (CAMPAIGN + "opt_out_scop = \"account\"\n", "campaigns.spring.opt_out_scop", "did you mean 'opt_out_scope'"),
        ("[campaigns.\"spring sale\"]\npurpose = \"informational\"\n", "campaigns.\"spring sale\"", "campaign ID"),
        (f"[accounts.{A}]\ncampaign = \"autumn\"\n", f"accounts.{A}.campaign", "not a campaign"),
        ("[calling_hours.countries.UK]\nall = \"09:00-20:00\"\n", "calling_hours.countries.UK", "not a region"),
    ],
)
def test_campaign_errors_name_the_key(write_policy: Callable[..., Path], text: str, key: str, fragment: str) -> None:
    path = write_policy(text)
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert caught.value.key == key and fragment in caught.value.problem
