"""A local HTTP server that answers Twilio's REST paths with Twilio's JSON shapes.

The real ``twilio.rest.Client`` is pointed at it through callguard's transport
(``base_url=double.url``): requests keep Twilio's paths and carry ``Host: api.twilio.com`` or
``Host: voice.twilio.com``, which the double checks. Shapes follow twilio-python's own fixtures
(tests/integration/api/v2010/test_account.py, account/test_incoming_phone_number.py,
account/test_outgoing_caller_id.py, voice/v1/dialing_permissions/test_country.py,
country/test_highrisk_special_prefix.py, test_settings.py) and Twilio's API reference: API v2010
lists page with ``next_page_uri`` (relative), Voice v1 lists with ``meta.next_page_url``
(absolute, on voice.twilio.com); errors are ``{"code", "message", "more_info", "status"}``.

Authentication is Basic, as Twilio's: an Account SID with its auth token, or an API key SID with
its secret. A main account's credentials reach its subaccounts' v2010 resources; Voice v1 only
answers for the account the credentials belong to. Tests script failures per path (429 with
Retry-After, 5xx) with :meth:`TwilioDouble.fail`, and an outage with :meth:`down`.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

API = "api.twilio.com"
VOICE = "voice.twilio.com"


@dataclass
class Country:
    iso_code: str
    name: str
    country_codes: list[str]
    continent: str
    low_risk_numbers_enabled: bool = False
    high_risk_special_numbers_enabled: bool = False
    high_risk_tollfraud_numbers_enabled: bool = False


@dataclass
class FakeAccount:
    sid: str
    auth_token: str
    friendly_name: str = "callguard test"
    owner_account_sid: str | None = None  # None: a main account (its own owner)
    status: str = "active"
    incoming: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    countries: list[Country] = field(default_factory=list)
    inherits_permissions: bool = True  # Twilio's default for a new subaccount

    @property
    def owner(self) -> str:
        return self.owner_account_sid or self.sid


@dataclass
class Failure:
    path: re.Pattern[str]
    status: int
    times: int
    headers: dict[str, str]
    after: int = 0  # matching requests answered normally before the failures start


@dataclass
class Seen:
    method: str
    host: str
    path: str
    query: dict[str, str]
    user: str | None


_ERRORS = {
    401: (20003, "Authenticate"),
    404: (20404, "The requested resource was not found"),
    429: (20429, "Too Many Requests"),
    500: (20500, "Internal Server Error"),
    503: (20503, "Service Unavailable"),
}


def error_body(status: int) -> dict[str, Any]:
    code, message = _ERRORS.get(status, (status * 100, "Error"))
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


class TwilioDouble:
    def __init__(self, *, max_page_size: int = 1000) -> None:
        self.accounts: dict[str, FakeAccount] = {}
        self.api_keys: dict[str, tuple[str, str]] = {}  # key SID -> (secret, account SID)
        self.special_prefixes: dict[str, list[str]] = {}  # ISO code -> prefixes
        self.max_page_size = max_page_size
        self.failures: list[Failure] = []
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.port = 0

    # -- scripting -------------------------------------------------------------------------

    def add(self, account: FakeAccount) -> FakeAccount:
        self.accounts[account.sid] = account
        return account

    def fail(self, path: str, status: int, *, times: int = 1, retry_after: str | None = None, after: int = 0) -> None:
        """Answer ``times`` requests whose path matches ``path`` (a regex) with ``status``, after ``after`` normal answers."""
        headers = {"Retry-After": retry_after} if retry_after is not None else {}
        self.failures.append(Failure(re.compile(path), status, times, headers, after))

    def requests(self, path: str) -> list[Seen]:
        return [s for s in self.seen if re.search(path, s.path)]

    # -- serving ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> None:
        handler = type("Handler", (_Handler,), {"double": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()

    def down(self) -> None:
        """Stop listening: connections are refused until :meth:`up` (same port)."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    # -- answers ---------------------------------------------------------------------------

    def authenticate(self, header: str | None) -> tuple[str | None, str | None, bool]:
        """(user name, the account it acts for, whether it authenticated with the account's auth token)."""
        if not header or not header.startswith("Basic "):
            return None, None, False
        user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        account = self.accounts.get(user)
        if account is not None and password == account.auth_token:
            return user, user, True
        key = self.api_keys.get(user)
        if key is not None and password == key[0]:
            return user, key[1], False
        return user, None, False

    def scripted_failure(self, path: str) -> Failure | None:
        with self._lock:
            for failure in self.failures:
                if failure.times > 0 and failure.path.search(path):
                    if failure.after > 0:
                        failure.after -= 1
                        return None
                    failure.times -= 1
                    return failure
        return None


def _page(records: list[dict[str, Any]], query: dict[str, str], max_page_size: int) -> tuple[list[dict[str, Any]], int, int, int | None]:
    """(the page's records, page number, page size, offset of the next page or None)."""
    size = max(1, min(int(query.get("PageSize", "50")), max_page_size))
    token = query.get("PageToken", "")
    offset = int(token[2:]) if token.startswith("PT") else 0
    number = int(query.get("Page", "0"))
    following = offset + size if offset + size < len(records) else None
    return records[offset : offset + size], number, size, following


class _Handler(BaseHTTPRequestHandler):
    double: TwilioDouble  # HTTP/1.0: every answer closes its connection, so down() is an outage at once

    def log_message(self, format: str, *args: Any) -> None:  # keep pytest output clean
        return None

    def _send(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        double = self.double
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        host = (self.headers.get("Host") or "").split(":")[0]
        user, acting, by_token = double.authenticate(self.headers.get("Authorization"))
        double.seen.append(Seen("GET", host, parts.path, query, user))
        failure = double.scripted_failure(parts.path)
        if failure is not None:
            return self._send(failure.status, error_body(failure.status), failure.headers)
        if acting is None:
            return self._send(401, error_body(401))
        path = parts.path
        if host == API and path.startswith("/2010-04-01/"):
            return self._api(path, query, acting, by_token)
        if host == VOICE and path.startswith("/v1/"):
            return self._voice(path, query, acting)
        return self._send(404, error_body(404))

    def do_POST(self) -> None:  # noqa: N802 - callguard only reads; writes get scripted failures or 405
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        path = urlsplit(self.path).path
        self.double.seen.append(Seen("POST", (self.headers.get("Host") or "").split(":")[0], path, {}, None))
        failure = self.double.scripted_failure(path)
        if failure is not None:
            return self._send(failure.status, error_body(failure.status), failure.headers)
        return self._send(405, error_body(405))

    # API v2010 ----------------------------------------------------------------------------

    def _reachable(self, acting: str, sid: str) -> bool:
        account = self.double.accounts.get(sid)
        return account is not None and (sid == acting or account.owner == acting)

    def _list_2010(self, path: str, key: str, records: list[dict[str, Any]], query: dict[str, str]) -> None:
        page, number, size, following = _page(records, query, self.double.max_page_size)

        def uri(page_number: int, offset: int | None = None) -> str:
            params = {"PageSize": size, "Page": page_number, **({"PageToken": f"PT{offset}"} if offset else {})}
            return f"{path}?{urlencode(params)}"

        self._send(
            200,
            {
                "first_page_uri": uri(0),
                "end": number * size + len(page) - 1,
                "previous_page_uri": None,
                key: page,
                "uri": uri(number),
                "page_size": size,
                "start": number * size,
                "next_page_uri": uri(number + 1, following) if following is not None else None,
                "page": number,
            },
        )

    def _api(self, path: str, query: dict[str, str], acting: str, by_token: bool) -> None:
        double = self.double
        if path == "/2010-04-01/Accounts.json":
            visible = [a for a in double.accounts.values() if a.sid == acting or a.owner == acting]
            records = [
                {
                    "auth_token": a.auth_token if by_token else None,
                    "date_created": "Thu, 30 Jul 2015 20:00:00 +0000",
                    "date_updated": "Thu, 30 Jul 2015 20:00:00 +0000",
                    "friendly_name": a.friendly_name,
                    "owner_account_sid": a.owner,
                    "sid": a.sid,
                    "status": a.status,
                    "subresource_uris": {
                        "incoming_phone_numbers": f"/2010-04-01/Accounts/{a.sid}/IncomingPhoneNumbers.json",
                        "outgoing_caller_ids": f"/2010-04-01/Accounts/{a.sid}/OutgoingCallerIds.json",
                    },
                    "type": "Full",
                    "uri": f"/2010-04-01/Accounts/{a.sid}.json",
                }
                for a in visible
            ]
            return self._list_2010(path, "accounts", records, query)
        match = re.fullmatch(r"/2010-04-01/Accounts/(AC[0-9a-f]{32})/(IncomingPhoneNumbers|OutgoingCallerIds)\.json", path)
        if match is None or not self._reachable(acting, match.group(1)):
            return self._send(404, error_body(404))
        account = double.accounts[match.group(1)]
        if match.group(2) == "IncomingPhoneNumbers":
            records = [
                {
                    "account_sid": account.sid,
                    "address_requirements": "none",
                    "api_version": "2010-04-01",
                    "beta": False,
                    "capabilities": {"mms": True, "sms": True, "voice": True},
                    "date_created": "Thu, 30 Jul 2015 23:19:04 +0000",
                    "date_updated": "Thu, 30 Jul 2015 23:19:04 +0000",
                    "friendly_name": number,
                    "phone_number": number,
                    "sid": f"PN{i:032x}",
                    "status": "in-use",
                    "uri": f"/2010-04-01/Accounts/{account.sid}/IncomingPhoneNumbers/PN{i:032x}.json",
                    "voice_method": "POST",
                    "voice_url": None,
                }
                for i, number in enumerate(account.incoming)
            ]
            return self._list_2010(path, "incoming_phone_numbers", records, query)
        records = [
            {
                "account_sid": account.sid,
                "date_created": "Fri, 21 Aug 2009 00:11:24 +0000",
                "date_updated": "Fri, 21 Aug 2009 00:11:24 +0000",
                "friendly_name": number,
                "phone_number": number,
                "sid": f"PN{i + 1000:032x}",
                "uri": f"/2010-04-01/Accounts/{account.sid}/OutgoingCallerIds/PN{i + 1000:032x}.json",
            }
            for i, number in enumerate(account.verified)
        ]
        return self._list_2010(path, "outgoing_caller_ids", records, query)

    # Voice v1 -----------------------------------------------------------------------------

    def _list_v1(self, path: str, records: list[dict[str, Any]], query: dict[str, str]) -> None:
        page, number, size, following = _page(records, query, self.double.max_page_size)

        def url(page_number: int, offset: int | None = None) -> str:
            params = {"PageSize": size, "Page": page_number, **({"PageToken": f"PT{offset}"} if offset else {})}
            return f"https://{VOICE}{path}?{urlencode(params)}"

        meta = {
            "first_page_url": url(0),
            "key": "content",
            "next_page_url": url(number + 1, following) if following is not None else None,
            "page": number,
            "page_size": size,
            "previous_page_url": None,
            "url": url(number),
        }
        self._send(200, {"content": page, "meta": meta})

    def _voice(self, path: str, query: dict[str, str], acting: str) -> None:
        double = self.double
        account = double.accounts.get(acting)
        if account is None:
            return self._send(404, error_body(404))
        if path == "/v1/Settings":
            if account.owner == account.sid:
                return self._send(404, error_body(404))  # a main account has no inheritance setting
            return self._send(200, {"dialing_permissions_inheritance": account.inherits_permissions, "url": f"https://{VOICE}/v1/Settings"})
        effective = account
        if account.owner != account.sid and account.inherits_permissions:
            effective = double.accounts[account.owner]
        if path == "/v1/DialingPermissions/Countries":
            records = [
                {
                    "iso_code": c.iso_code,
                    "name": c.name,
                    "continent": c.continent,
                    "country_codes": c.country_codes,
                    "low_risk_numbers_enabled": c.low_risk_numbers_enabled,
                    "high_risk_special_numbers_enabled": c.high_risk_special_numbers_enabled,
                    "high_risk_tollfraud_numbers_enabled": c.high_risk_tollfraud_numbers_enabled,
                    "url": f"https://{VOICE}/v1/DialingPermissions/Countries/{c.iso_code}",
                    "links": {"highrisk_special_prefixes": f"https://{VOICE}/v1/DialingPermissions/Countries/{c.iso_code}/HighRiskSpecialPrefixes"},
                }
                for c in effective.countries
            ]
            return self._list_v1(path, records, query)
        match = re.fullmatch(r"/v1/DialingPermissions/Countries/([A-Z]{2})/HighRiskSpecialPrefixes", path)
        if match is not None:
            return self._list_v1(path, [{"prefix": p} for p in double.special_prefixes.get(match.group(1), [])], query)
        return self._send(404, error_body(404))
