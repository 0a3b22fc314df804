"""Reading Twilio resources through the real twilio client, against the Twilio double (callguard.sync.reader)."""

from __future__ import annotations

import pytest

from callguard.errors import TwilioSyncError
from callguard.policy.twilio_snapshot import TwilioCountry
from callguard.sync.credentials import Credentials
from callguard.sync.reader import TwilioReader

from ..conftest import MAIN, MAIN_NUMBERS, MAIN_TOKEN, MAIN_VERIFIED, MANCHESTER_DRAMA, OUTSIDER, TENANT, TENANT_TOKEN
from .twilio_double import TwilioDouble

AS_MAIN = Credentials(MAIN, MAIN_TOKEN, MAIN)
AS_TENANT = Credentials(TENANT, TENANT_TOKEN, TENANT)


def test_the_accounts_list_names_the_main_account_and_its_subaccounts_page_by_page(double: TwilioDouble, reader: TwilioReader) -> None:
    double.max_page_size = 1
    listed = reader.accounts(reader.client(AS_MAIN))
    assert set(listed) == {MAIN, TENANT, OUTSIDER}
    assert listed[TENANT].owner_account_sid == MAIN and listed[TENANT].status == "active"
    assert listed[TENANT].auth_token == TENANT_TOKEN  # what lets the parent's credentials reach the subaccount's Voice settings
    pages = double.requests(r"/Accounts\.json$")
    assert len(pages) == 3 and [p.query.get("PageToken") for p in pages] == [None, "PT1", "PT2"]
    assert {p.host for p in pages} == {"api.twilio.com"}


def test_numbers_and_verified_caller_ids_follow_next_page_uri(double: TwilioDouble, reader: TwilioReader) -> None:
    double.max_page_size = 2
    client = reader.client(AS_MAIN)
    assert reader.incoming_numbers(client, MAIN) == frozenset(MAIN_NUMBERS)
    assert reader.verified_caller_ids(client, MAIN) == frozenset(MAIN_VERIFIED)
    assert len(double.requests("IncomingPhoneNumbers")) == 3  # 5 numbers, 2 a page
    # The main account's credentials read the subaccount's API v2010 resources.
    assert reader.incoming_numbers(client, TENANT) == frozenset({"+442079460000"})
    assert double.requests("IncomingPhoneNumbers")[-1].user == MAIN


def test_dialing_permissions_follow_meta_next_page_url_on_voice(double: TwilioDouble, reader: TwilioReader) -> None:
    double.max_page_size = 4
    countries = reader.countries(reader.client(AS_MAIN))
    assert [c.iso_code for c in countries] == ["US", "GB", "DE", "JM", "SG", "FR"]
    assert countries[0] == TwilioCountry("US", ("+1",), True, False, False)
    pages = double.requests("DialingPermissions/Countries$")
    assert len(pages) == 2 and pages[1].query["PageToken"] == "PT4" and {p.host for p in pages} == {"voice.twilio.com"}
    assert reader.special_prefixes(reader.client(AS_MAIN), "GB") == [MANCHESTER_DRAMA, "+4490"]


def test_a_subaccount_reads_its_own_inheritance_setting(double: TwilioDouble, reader: TwilioReader) -> None:
    assert reader.inherits_permissions(reader.client(AS_TENANT)) is False
    double.accounts[TENANT].inherits_permissions = True
    assert reader.inherits_permissions(reader.client(AS_TENANT)) is True


def test_wrong_credentials_are_one_line_naming_the_resource(reader: TwilioReader) -> None:
    with pytest.raises(TwilioSyncError) as caught:
        reader.accounts(reader.client(Credentials(MAIN, "wrong", MAIN)))
    error = caught.value
    assert (error.kind, error.status, error.code) == ("auth", 401, 20003)
    assert str(error) == f"{MAIN}: /2010-04-01/Accounts.json: Twilio answered 401 (20003: Authenticate)"


def test_a_subaccount_cannot_read_its_parent(reader: TwilioReader) -> None:
    with pytest.raises(TwilioSyncError) as caught:
        reader.incoming_numbers(reader.client(AS_TENANT), MAIN)
    assert caught.value.kind == "not_found" and caught.value.status == 404


def test_a_429_storm_on_a_later_page_gives_up_after_the_retries(double: TwilioDouble, reader: TwilioReader, sleeps: list[float]) -> None:
    double.max_page_size = 2
    double.fail("IncomingPhoneNumbers", 429, times=100, retry_after="1", after=1)  # the first page, then 429s
    with pytest.raises(TwilioSyncError) as caught:
        reader.incoming_numbers(reader.client(AS_MAIN), MAIN)
    error = caught.value
    assert (error.kind, error.status, error.code) == ("rate_limited", 429, 20429)
    assert str(error) == (
        f"{MAIN}: /2010-04-01/Accounts/{MAIN}/IncomingPhoneNumbers.json: Twilio answered 429 (20429: Too Many Requests) after 4 attempts"
    )
    assert sleeps == [1.0, 1.0, 1.0]
    pages = double.requests("IncomingPhoneNumbers")
    assert len(pages) == 5 and all(p.query.get("PageToken") == "PT2" for p in pages[1:])  # page 2 retried, not the listing


def test_an_answer_without_a_usable_number_is_refused(double: TwilioDouble, reader: TwilioReader) -> None:
    double.accounts[MAIN].incoming.append("415 555 0199")
    with pytest.raises(TwilioSyncError) as caught:
        reader.incoming_numbers(reader.client(AS_MAIN), MAIN)
    assert caught.value.kind == "invalid_answer" and "'415 555 0199' is not in E.164 form" in str(caught.value)


def test_more_numbers_than_callguard_keeps_is_an_error(double: TwilioDouble, reader: TwilioReader, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("callguard.sync.reader.MAX_NUMBERS", 3)
    with pytest.raises(TwilioSyncError) as caught:
        reader.incoming_numbers(reader.client(AS_MAIN), MAIN)
    assert caught.value.kind == "limit" and "more than 3 records" in str(caught.value)


def test_an_unreachable_twilio_is_one_line(double: TwilioDouble, reader: TwilioReader) -> None:
    double.down()
    with pytest.raises(TwilioSyncError) as caught:
        reader.countries(reader.client(AS_MAIN))
    assert caught.value.kind == "unreachable"
    assert str(caught.value) == f"{MAIN}: /v1/DialingPermissions/Countries: Twilio unreachable (ConnectionError) after 4 attempts"
