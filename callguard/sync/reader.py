"""Read an account's picture from Twilio's REST API with the ``twilio`` client.

Each method reads one resource, page by page (the client's ``stream`` follows
``next_page_uri`` on API v2010 and ``meta.next_page_url`` on Voice v1), checks the fields
callguard relies on, and turns every failure into a one-line :class:`TwilioSyncError`:

========================================================  =====================================
resource                                                  fields read
========================================================  =====================================
``GET api.twilio.com/2010-04-01/Accounts.json``           ``sid``, ``owner_account_sid``,
                                                          ``friendly_name``, ``status``,
                                                          ``auth_token``
``GET …/Accounts/{Sid}/IncomingPhoneNumbers.json``        ``phone_number``
``GET …/Accounts/{Sid}/OutgoingCallerIds.json``           ``phone_number``
``GET voice.twilio.com/v1/Settings``                      ``dialing_permissions_inheritance``
``GET voice.twilio.com/v1/DialingPermissions/Countries``  ``iso_code``, ``country_codes``,
                                                          ``low_risk_numbers_enabled``,
                                                          ``high_risk_special_numbers_enabled``,
                                                          ``high_risk_tollfraud_numbers_enabled``
``GET …/Countries/{IsoCode}/HighRiskSpecialPrefixes``     ``prefix``
========================================================  =====================================
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client

from ..errors import TwilioSyncError
from ..numbers.risk import validate_e164_prefix
from ..policy.twilio_snapshot import TwilioCountry
from .credentials import Credentials
from .transport import TwilioTransport

# What one sync keeps at most, so a runaway answer cannot exhaust a worker's memory.
MAX_NUMBERS = 100_000  # incoming numbers, and separately verified caller IDs, per account
MAX_COUNTRIES = 1_000  # Twilio lists about 250
MAX_PREFIXES = 10_000  # high-risk special prefixes per country
MAX_ACCOUNTS = 10_000  # a main account and its subaccounts (Twilio's default limit is 1000)
PAGE_SIZE = 1_000  # Twilio's largest page


@dataclass(frozen=True)
class ListedAccount:
    """One entry of the Accounts list."""

    sid: str
    owner_account_sid: str | None
    friendly_name: str | None
    status: str | None
    auth_token: str | None = field(repr=False)  # given to a parent for its subaccounts; never stored or shown


def _twilio_error(exc: BaseException) -> tuple[str, int | None, int | None, str]:
    """(kind, HTTP status, Twilio error code, detail) for an exception raised while reading."""
    status: int | None = None
    code: int | None = None
    detail = ""
    if isinstance(exc, TwilioRestException):
        status, code, detail = exc.status, exc.code, exc.msg or ""
    elif isinstance(exc, TwilioException) and len(exc.args) > 1 and hasattr(exc.args[1], "status_code"):
        # A listing's page that was not 200: twilio raises TwilioException(message, response).
        response = exc.args[1]
        status = int(response.status_code)
        try:
            body = json.loads(response.text or "{}")
            code, detail = body.get("code"), body.get("message") or ""
        except (ValueError, AttributeError):
            pass
    elif isinstance(exc, (requests.ConnectionError, requests.Timeout)):
        return "unreachable", None, None, type(exc).__name__
    else:
        return "invalid_answer", None, None, str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if status == 429:
        kind = "rate_limited"
    elif status is not None and status >= 500:
        kind = "server_error"
    elif status in (401, 403):
        kind = "auth"
    elif status == 404:
        kind = "not_found"
    else:
        kind = "rejected"
    return kind, status, code, detail


class TwilioReader:
    """Reads Twilio resources through one :class:`TwilioTransport` (its retries and routing)."""

    def __init__(self, transport: TwilioTransport, *, page_size: int = PAGE_SIZE) -> None:
        self.transport = transport
        self.page_size = page_size

    def client(self, credentials: Credentials) -> Client:
        return Client(credentials.username, credentials.password, account_sid=credentials.account_sid, http_client=self.transport)

    @contextmanager
    def _reading(self, account_sid: str, resource: str) -> Iterator[None]:
        try:
            yield
        except TwilioSyncError:
            raise
        except Exception as exc:  # whatever the client raised, as one line naming the resource
            kind, status, code, detail = _twilio_error(exc)
            tries = f" after {self.transport.retry.attempts} attempts" if kind in ("unreachable", "rate_limited", "server_error") else ""
            if status is not None:
                what = f"Twilio answered {status}" + (f" ({code}{': ' + detail if detail else ''})" if code or detail else "")
            elif kind == "unreachable":
                what = f"Twilio unreachable ({detail})"
            else:
                what = f"unexpected answer from Twilio ({detail})"
            raise TwilioSyncError(
                f"{resource}: {what}{tries}", kind=kind, account_sid=account_sid, resource=resource, status=status, code=code
            ) from exc

    def _limited(self, records: Iterable[Any], limit: int, account_sid: str, resource: str) -> list[Any]:
        out = list(records)
        if len(out) > limit:
            raise TwilioSyncError(
                f"{resource}: more than {limit} records; callguard keeps at most {limit}",
                kind="limit",
                account_sid=account_sid,
                resource=resource,
            )
        return out

    @staticmethod
    def _invalid(account_sid: str, resource: str, problem: str) -> TwilioSyncError:
        return TwilioSyncError(
            f"{resource}: unexpected answer from Twilio ({problem})", kind="invalid_answer", account_sid=account_sid, resource=resource
        )

    # -- API v2010 (the main account's credentials reach its subaccounts here) ----------------

    def accounts(self, client: Client) -> dict[str, ListedAccount]:
        """The account the credentials belong to and its subaccounts, by SID."""
        resource = "/2010-04-01/Accounts.json"
        with self._reading(client.account_sid, resource):
            records = self._limited(
                client.api.v2010.accounts.stream(page_size=self.page_size, limit=MAX_ACCOUNTS + 1),
                MAX_ACCOUNTS,
                client.account_sid,
                resource,
            )
        listed = {}
        for record in records:
            if not isinstance(record.sid, str) or not record.sid.startswith("AC"):
                raise self._invalid(client.account_sid, resource, f"an account without a valid sid: {record.sid!r}")
            listed[record.sid] = ListedAccount(record.sid, record.owner_account_sid, record.friendly_name, record.status, record.auth_token)
        return listed

    def _numbers(self, stream: Any, account_sid: str, resource: str) -> frozenset[str]:
        with self._reading(account_sid, resource):
            records = self._limited(stream(page_size=self.page_size, limit=MAX_NUMBERS + 1), MAX_NUMBERS, account_sid, resource)
        numbers = set()
        for record in records:
            number = record.phone_number
            if not isinstance(number, str) or not number.startswith("+") or not number[1:].isdigit():
                raise self._invalid(account_sid, resource, f"phone_number {number!r} is not in E.164 form")
            numbers.add(number)
        return frozenset(numbers)

    def incoming_numbers(self, client: Client, account_sid: str) -> frozenset[str]:
        """The phone numbers the account owns (``IncomingPhoneNumbers``)."""
        resource = f"/2010-04-01/Accounts/{account_sid}/IncomingPhoneNumbers.json"
        return self._numbers(client.api.v2010.accounts(account_sid).incoming_phone_numbers.stream, account_sid, resource)

    def verified_caller_ids(self, client: Client, account_sid: str) -> frozenset[str]:
        """The numbers verified as caller IDs on the account (``OutgoingCallerIds``)."""
        resource = f"/2010-04-01/Accounts/{account_sid}/OutgoingCallerIds.json"
        return self._numbers(client.api.v2010.accounts(account_sid).outgoing_caller_ids.stream, account_sid, resource)

    # -- Voice v1 (only the account's own credentials reach these) ----------------------------

    def inherits_permissions(self, client: Client) -> bool:
        """Whether a subaccount inherits its parent's dialing permissions (``dialing_permissions_inheritance``)."""
        resource = "/v1/Settings"
        with self._reading(client.account_sid, resource):
            value = client.voice.v1.dialing_permissions.settings().fetch().dialing_permissions_inheritance
        if not isinstance(value, bool):
            raise self._invalid(client.account_sid, resource, f"dialing_permissions_inheritance is {value!r}")
        return value

    def countries(self, client: Client) -> tuple[TwilioCountry, ...]:
        """The account's Voice Dialing Permissions, one entry per country."""
        resource = "/v1/DialingPermissions/Countries"
        with self._reading(client.account_sid, resource):
            records = self._limited(
                client.voice.v1.dialing_permissions.countries.stream(page_size=self.page_size, limit=MAX_COUNTRIES + 1),
                MAX_COUNTRIES, client.account_sid, resource,
            )
        countries = []
        for record in records:
            flags = (record.low_risk_numbers_enabled, record.high_risk_special_numbers_enabled, record.high_risk_tollfraud_numbers_enabled)
            codes = record.country_codes or []
            if not isinstance(record.iso_code, str) or not record.iso_code or not all(isinstance(f, bool) for f in flags):
                raise self._invalid(client.account_sid, resource, f"country {record.iso_code!r} lacks its iso_code or permission flags")
            if not isinstance(codes, list) or not all(isinstance(c, str) and c.startswith("+") and c[1:].isdigit() for c in codes):
                raise self._invalid(client.account_sid, resource, f"country {record.iso_code}: country_codes {codes!r}")
            countries.append(TwilioCountry(record.iso_code.upper(), tuple(codes), *flags))
        return tuple(countries)

    def special_prefixes(self, client: Client, iso_code: str) -> list[str]:
        """Twilio's high-risk special-services prefixes for one country (E.164, e.g. ``+37181``)."""
        resource = f"/v1/DialingPermissions/Countries/{iso_code}/HighRiskSpecialPrefixes"
        with self._reading(client.account_sid, resource):
            records = self._limited(
                client.voice.v1.dialing_permissions.countries(iso_code).highrisk_special_prefixes.stream(
                    page_size=self.page_size, limit=MAX_PREFIXES + 1
                ),
                MAX_PREFIXES,
                client.account_sid,
                resource,
            )
        prefixes = []
        for record in records:
            problem = validate_e164_prefix(record.prefix)
            if problem:
                raise self._invalid(client.account_sid, resource, problem)
            prefixes.append(record.prefix)
        return prefixes
