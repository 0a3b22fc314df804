"""Shared fixtures: policies, a fake clock, databases (SQLite and the real PostgreSQL), and a
Flask test client that signs requests exactly as Twilio does."""

from __future__ import annotations

import os
import signal
import socket
import textwrap
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest
from defusedxml import ElementTree
from twilio.request_validator import RequestValidator

from callguard import FakeClock, Guard, create_app, load_policy
from callguard.policy import Policy

from .sync.twilio_double import Country, FakeAccount, TwilioDouble

if TYPE_CHECKING:
    from .faults.relay import FaultRelay
    from .servers import Server

MAIN = "AC00000000000000000000000000000001"
TENANT = "AC00000000000000000000000000000002"
GRANDCHILD = "AC00000000000000000000000000000003"
SUSPENDED = "AC00000000000000000000000000000004"
STRANGER = "AC0000000000000000000000000000ffff"

MAIN_TOKEN = "main-auth-token-0123456789abcdef"
ADMIN_TOKEN = "admin-api-token-0123456789abcdef"
READ_TOKEN = "reader-api-token-0123456789abcde"
TENANT_TOKEN = "tenant-auth-token-0123456789abcd"
PUBLIC_URL = "https://callguard.example.com"

BASE_POLICY = f"""
[defaults]
fail_mode = "reject"
reject_style = "reject"
default_region = "US"

[accounts.{MAIN}]
name = "Main"
caller_ids = ["+14155550100", "+14155550101"]
default_region = "US"
outside_line_prefix = "9"

[accounts.{MAIN}.permissions]
US = {{ low_risk = true }}
CA = {{ low_risk = true }}
GB = {{ low_risk = true, high_risk_special = true }}
SG = {{ low_risk = true }}
TW = {{ low_risk = true, direct_request = true }}
JM = {{ low_risk = true }}

[accounts.{MAIN}.sip_domains."pbx.sip.twilio.com"]
default_caller_id = "+14155550101"

[accounts.{TENANT}]
name = "Tenant"
parent = "{MAIN}"
auth_token_env = "TWILIO_AUTH_TOKEN_TENANT"
caller_ids = ["+442079460000"]

[accounts.{TENANT}.permissions]
DE = {{ low_risk = true }}
GB = {{ low_risk = true }}

[accounts.{GRANDCHILD}]
name = "Grandchild"
parent = "{TENANT}"
auth_token_env = "TWILIO_AUTH_TOKEN_TENANT"

[accounts.{SUSPENDED}]
name = "Suspended"
suspended = true
suspended_reason = "unpaid invoice"
caller_ids = ["+14155550199"]

[accounts.{SUSPENDED}.permissions]
US = {{ low_risk = true }}

[[blocked_prefixes]]
prefix = "+1415555019"
reason = "fraud investigation"
expires = 2026-07-01T00:00:00Z

[[blocked_prefixes]]
prefix = "+4930"
reason = "tenant asked for Berlin to be closed"
account = "{TENANT}"
"""


@pytest.fixture
def write_policy(tmp_path: Path) -> Callable[[str], Path]:
    """Write policy text (dedented) to a file and return its path."""

    def write(text: str, name: str = "policy.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write


@pytest.fixture
def policy_path(write_policy: Callable[[str], Path]) -> Path:
    return write_policy(BASE_POLICY)


@pytest.fixture
def policy(policy_path: Path) -> Policy:
    return load_policy(policy_path)


@pytest.fixture
def clock() -> FakeClock:
    # A Monday in June 2026, 15:00 UTC: before the +1415555019 block expires.
    return FakeClock(datetime(2026, 6, 1, 15, 0, tzinfo=UTC))


@pytest.fixture
def guard(policy: Policy, clock: FakeClock) -> Guard:
    return Guard(policy, clock=clock)


# -- databases ------------------------------------------------------------------------------

POSTGRES_URL = os.environ.get("CALLGUARD_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_reachable() -> str | None:
    try:
        import psycopg

        with psycopg.connect(POSTGRES_URL.replace("postgresql://", "postgresql://", 1), connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable"
        return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


@pytest.fixture(scope="session")
def postgres_server() -> str:
    """The PostgreSQL URL; skips (or, with CI=true, fails) when the server is unreachable."""
    problem = _postgres_reachable()
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is unreachable: {problem}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return POSTGRES_URL


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    import psycopg

    schema = f"cg_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in postgres_server else "?"
    yield f"{postgres_server}{separator}{urlencode({'options': f'-csearch_path={schema}'})}"
    with psycopg.connect(postgres_server, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


REDIS_URL = os.environ.get("CALLGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_server() -> str:
    """The Redis URL; skips (or, with CI=true, fails) when the server is unreachable."""
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        message = f"Redis at {REDIS_URL} is unreachable: {exc}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def redis_prefix(redis_server: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards (never FLUSHDB: shared server)."""
    import redis

    prefix = f"cgtest:{uuid.uuid4().hex[:12]}:"
    yield prefix
    client = redis.Redis.from_url(redis_server)
    keys = list(client.scan_iter(match=prefix + "*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


class TcpProxy:
    """A loopback TCP forwarder to a real server that can be cut and restored: a database or
    Redis that becomes unreachable (connections dropped, the port closed) and comes back."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._stop = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._serve()

    def url(self, url: str) -> str:
        """``url`` with its port replaced by the proxy's."""
        return url.replace(f":{self.target_port}/", f":{self.port}/", 1)

    def _serve(self) -> None:
        self._listener.settimeout(0.05)  # the accept loop checks for cut() this often
        self._stop.clear()
        self._acceptor = threading.Thread(target=self._accept, args=(self._listener,), daemon=True)
        self._acceptor.start()

    def _accept(self, listener: socket.socket) -> None:
        while not self._stop.is_set():
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        """Drop every connection and close the port: new connections are refused."""
        self._stop.set()
        self._acceptor.join(timeout=5)  # the port is free only once nothing waits on it
        self._listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def restore(self) -> None:
        """Listen on the same port again."""
        self._listener = socket.create_server(("127.0.0.1", self.port))
        self._serve()


@pytest.fixture
def tcp_proxy() -> Iterator[Callable[[int], TcpProxy]]:
    """Start proxies to loopback ports; all are cut after the test."""
    proxies: list[TcpProxy] = []

    def start(target_port: int) -> TcpProxy:
        proxies.append(TcpProxy(target_port))
        return proxies[-1]

    yield start
    for proxy in proxies:
        proxy.cut()


@pytest.fixture
def fault_relay() -> Iterator[Callable[[int], FaultRelay]]:
    """Start fault-injecting relays to loopback ports (tests/faults/relay.py); all are closed after the test."""
    from .faults.relay import FaultRelay

    relays: list[FaultRelay] = []

    def start(target_port: int) -> FaultRelay:
        relays.append(FaultRelay(target_port))
        return relays[-1]

    yield start
    for relay in relays:
        relay.close()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'callguard.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """Each store test runs on the embedded SQLite default and on the real PostgreSQL."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_url")
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def engine(database_url: str) -> Iterator[Any]:
    """The records database of ``database_url`` (each backend in turn), migrated to the code's schema."""
    from callguard.store import create_database_engine, ensure_schema

    engine = create_database_engine(database_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


# -- the web app ----------------------------------------------------------------------------


class TwilioClient:
    """Sends requests to the app the way Twilio does: form-encoded and signed."""

    def __init__(self, flask_client: Any, public_url: str = PUBLIC_URL) -> None:
        self.client = flask_client
        self.public_url = public_url

    def sign(self, path: str, params: Mapping[str, str], token: str) -> str:
        return RequestValidator(token).compute_signature(self.public_url + path, dict(params))

    def post(
        self,
        path: str,
        params: Mapping[str, str],
        *,
        token: str = MAIN_TOKEN,
        signature: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        sig = self.sign(path, params, token) if signature is None else signature
        return self.client.post(path, data=dict(params), headers={"X-Twilio-Signature": sig, **(headers or {})})

    def get(self, path_with_query: str, *, token: str = MAIN_TOKEN) -> Any:
        sig = RequestValidator(token).compute_signature(self.public_url + path_with_query, {})
        return self.client.get(path_with_query, headers={"X-Twilio-Signature": sig})


def dial_params(to: str, from_: str = "+14155550100", account: str = MAIN, **extra: str) -> dict[str, str]:
    """The parameters Twilio sends with an outbound dial webhook."""
    params = {
        "AccountSid": account,
        "ApiVersion": "2010-04-01",
        "CallSid": "CA" + uuid.uuid4().hex,
        "CallStatus": "ringing",
        "Direction": "inbound",
        "From": from_,
        "To": to,
        "Caller": from_,
        "Called": to,
    }
    params.update(extra)
    return params


def parse_twiml(data: bytes) -> Any:
    """The parsed TwiML document (defusedxml); asserts it is a <Response>."""
    root = ElementTree.fromstring(data)
    assert root.tag == "Response", data
    return root


@pytest.fixture
def app_config(policy_path: Path, sqlite_url: str, clock: FakeClock, tmp_path: Path) -> dict[str, Any]:
    return {
        "CALLGUARD_REGISTRY_DIR": str(tmp_path / "registries"),
        "CALLGUARD_COUNTERS_PATH": str(tmp_path / "counters.db"),
        "CALLGUARD_POLICY": str(policy_path),
        "CALLGUARD_DATABASE_URL": sqlite_url,
        "CALLGUARD_PUBLIC_URL": PUBLIC_URL,
        "CALLGUARD_CLOCK": clock,
        "CALLGUARD_AUDIT_MODE": "sync",
        "TWILIO_AUTH_TOKEN": MAIN_TOKEN,
        "TWILIO_AUTH_TOKEN_TENANT": TENANT_TOKEN,
        "CALLGUARD_REFRESH_INTERVAL": 0,  # tests call refresher.refresh_now() when they need it
        "CALLGUARD_TWILIO_SYNC_INTERVAL": 0,  # and state.twilio_sync.run(...) when they sync
        "CALLGUARD_ADMIN_TOKEN": ADMIN_TOKEN,
        "CALLGUARD_ADMIN_TOKENS": f"reader={READ_TOKEN}:ro",
        "TESTING": True,
    }


@pytest.fixture
def make_app() -> Iterator[Callable[[dict[str, Any]], Any]]:
    apps = []

    def make(config: dict[str, Any]) -> Any:
        app = create_app(config)
        apps.append(app)
        return app

    yield make
    for app in apps:
        app.extensions["callguard"].close()


@pytest.fixture
def app(make_app: Callable[[dict[str, Any]], Any], app_config: dict[str, Any]) -> Any:
    return make_app(app_config)


@pytest.fixture
def twilio(app: Any) -> TwilioClient:
    return TwilioClient(app.test_client())


# -- Twilio: a double on loopback and a policy that follows it ------------------------------

OUTSIDER = "AC00000000000000000000000000000009"  # a subaccount Twilio lists that the policy does not name

SYNC_POLICY = f"""
[defaults]
fail_mode = "reject"
default_region = "US"

[accounts.{MAIN}]
name = "Main"
twilio = "mirror"
default_region = "US"

[accounts.{TENANT}]
name = "Tenant"
parent = "{MAIN}"
auth_token_env = "TWILIO_AUTH_TOKEN_TENANT"
twilio = "stricter"
caller_ids = ["+442079460000", "+442079460001"]
default_region = "GB"

[accounts.{TENANT}.permissions]
GB = {{ low_risk = true, high_risk_special = true }}
DE = {{ low_risk = true }}
FR = {{ low_risk = true }}
"""

MAIN_NUMBERS = ["+14155550100", "+14155550101", "+14155550102", "+14155550103", "+14155550104"]
MAIN_VERIFIED = ["+12025550123"]
MANCHESTER_DRAMA = "+44161496"  # fixed-line by phonenumbers; listed by Twilio as a high-risk special prefix below


def main_countries() -> list[Country]:
    return [
        Country("US", "United States/Canada", ["+1"], "NORTH_AMERICA", True),
        Country("GB", "United Kingdom", ["+44"], "EUROPE", True, False, False),
        Country("DE", "Germany", ["+49"], "EUROPE", False),
        Country("JM", "Jamaica", ["+1876"], "NORTH_AMERICA", False),
        Country("SG", "Singapore", ["+65"], "ASIA", True),
        Country("FR", "France", ["+33"], "EUROPE", True),
    ]


def tenant_countries() -> list[Country]:
    return [
        Country("GB", "United Kingdom", ["+44"], "EUROPE", True, True, False),
        Country("DE", "Germany", ["+49"], "EUROPE", True),
        Country("FR", "France", ["+33"], "EUROPE", False),
    ]


@pytest.fixture
def double() -> Iterator[TwilioDouble]:
    """Twilio on loopback: the main account, its subaccount (own permissions), and one the policy does not name."""
    twilio = TwilioDouble()
    twilio.add(FakeAccount(MAIN, MAIN_TOKEN, "Main", incoming=list(MAIN_NUMBERS), verified=list(MAIN_VERIFIED), countries=main_countries()))
    twilio.add(
        FakeAccount(
            TENANT, TENANT_TOKEN, "Tenant", owner_account_sid=MAIN, incoming=["+442079460000"], countries=tenant_countries(),
            inherits_permissions=False,
        )
    )
    twilio.add(FakeAccount(OUTSIDER, "outsider-token-0123456789abcdef", "Outsider", owner_account_sid=MAIN))
    twilio.special_prefixes = {"GB": [MANCHESTER_DRAMA, "+4490"]}
    twilio.up()
    yield twilio
    twilio.down()


@pytest.fixture
def sync_policy_path(write_policy: Callable[[str], Path]) -> Path:
    return write_policy(SYNC_POLICY, "sync-policy.toml")


@pytest.fixture
def sleeps() -> list[float]:
    """What the transport would have slept, in order (it never really sleeps in tests)."""
    return []


# -- HTTP servers on loopback ---------------------------------------------------------------


def free_port() -> int:
    """A TCP port on 127.0.0.1 nothing listens on (just now)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def wsgi_server() -> Iterator[Callable[[Any], str]]:
    """Serve a WSGI app on 127.0.0.1 (a real TCP server in a thread); returns its base URL."""
    import threading

    from werkzeug.serving import make_server

    servers: list[Any] = []

    def serve(app: Any) -> str:
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, name="test-wsgi-server", daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def servers() -> Iterator[list[Server]]:
    """Collects servers started by a test and makes sure none outlives it."""
    started: list[Server] = []
    yield started
    for server in started:
        if server.process.poll() is None:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=30)
