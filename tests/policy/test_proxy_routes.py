"""The policy's proxy routes (callguard.policy.proxy_routes): paths, upstreams, timeouts, and
the paths callguard keeps for itself."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from callguard import ConfigError, load_policy
from callguard.policy.proxy_routes import ROUTE_PATH


def test_proxy_routes(write_policy: Callable[..., Path]) -> None:
    policy = load_policy(
        write_policy(
            """
            [campaigns.spring]
            purpose = "informational"
            [proxy]
            connect_timeout = 1.5
            [[proxy.routes]]
            path = "/voice/sales"
            upstream = "https://app.internal.example/twilio/voice"
            campaign = "spring"
            [[proxy.routes]]
            path = "/ivr/"
            upstream = "http://10.0.0.7:8080/ivr/"
            read_timeout = 4
            [[proxy.routes]]
            path = "/ivr/deep/"
            upstream = "http://10.0.0.8/"
            """
        )
    )
    sales = policy.proxy.match("/voice/sales")
    assert sales is not None and (sales.campaign, sales.connect_timeout, sales.read_timeout) == ("spring", 1.5, 8.0)
    assert sales.upstream_url("/voice/sales") == "https://app.internal.example/twilio/voice"
    ivr = policy.proxy.match("/ivr/menu/2")
    assert ivr is not None and ivr.upstream_url("/ivr/menu/2") == "http://10.0.0.7:8080/ivr/menu/2" and ivr.read_timeout == 4.0
    deep = policy.proxy.match("/ivr/deep/x")  # the longest prefix wins
    assert deep is not None and deep.upstream_url("/ivr/deep/x") == "http://10.0.0.8/x"
    assert policy.proxy.match("/voice/sales/") is None and policy.proxy.match("/ivr") is None


@pytest.mark.parametrize(
    "text, key, fragment",
    [
        ('[proxy]\ntimeout = 3\n', "proxy.timeout", "did you mean 'read_timeout'"),
        ('[proxy]\nread_timeout = 0\n', "proxy.read_timeout", "above 0 and at most 15"),
        ('[proxy]\nroutes = "x"\n', "proxy.routes", "array of tables"),
        ('[[proxy.routes]]\nupstream = "https://a.example/v"\n', "proxy.routes[0].path", "missing"),
        ('[[proxy.routes]]\npath = "voice"\nupstream = "https://a.example/v"\n', "proxy.routes[0].path", "not a URL path"),
        ('[[proxy.routes]]\npath = "/voice/outbound"\nupstream = "https://a.example/v"\n',
         "proxy.routes[0].path", "callguard's own /voice/outbound"),
        ('[[proxy.routes]]\npath = "/voice/"\nupstream = "https://a.example/"\n',
         "proxy.routes[0].path", "callguard's own /voice/outbound"),
        ('[[proxy.routes]]\npath = "/v1/calls"\nupstream = "https://a.example/v"\n', "proxy.routes[0].path", "callguard's own /v1/"),
        ('[[proxy.routes]]\npath = "/a"\n', "proxy.routes[0].upstream", "missing"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "a.example/v"\n', "proxy.routes[0].upstream", "absolute http(s) URL"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v?x=1"\n', "proxy.routes[0].upstream", "query or fragment"),
        ('[[proxy.routes]]\npath = "/a/"\nupstream = "https://a.example/v"\n', "proxy.routes[0].upstream", "must end with '/'"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v"\ncampaign = "x"\n', "proxy.routes[0].campaign", "not a campaign"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v"\nread_timeout = 13.5\nconnect_timeout = 2\n',
         "proxy.routes[0].read_timeout", "Twilio gives up after 15 s"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v"\n'
         '[[proxy.routes]]\npath = "/a"\nupstream = "https://b.example/v"\n',
         "proxy.routes[1].path", "routed twice"),
        ('[[proxy.routes]]\npath = "/a"\nupstream = "https://a.example/v"\nupstrem = "x"\n',
         "proxy.routes[0].upstrem", "did you mean 'upstream'"),
    ],
)
def test_proxy_route_errors_name_the_key(write_policy: Callable[..., Path], text: str, key: str, fragment: str) -> None:
    path = write_policy(text)
    with pytest.raises(ConfigError) as caught:
        load_policy(path)
    assert caught.value.key == key and fragment in caught.value.problem
    assert str(caught.value).startswith(f"{path}: {key}: ")


OLD_ROUTE_PATH = re.compile(r"/(?:[A-Za-z0-9._~!$&'()*+,;=:@%-]+/?)*")  # the form fuzzing found slow


@given(st.text(alphabet="/ab-~%\"?", max_size=14).map(lambda tail: "/" + tail))
def test_a_route_path_is_read_as_before(path: str) -> None:
    assert bool(ROUTE_PATH.fullmatch(path)) == bool(OLD_ROUTE_PATH.fullmatch(path))


def test_a_long_path_with_a_bad_character_is_refused_at_once() -> None:
    """Found by fuzzing the policy loader: the earlier pattern took 165 s over a path of twenty
    dashes and a bad character; over this one it would not have ended."""
    path = "/voice/call-st" + "-" * 5000 + 'a"tus'
    started = time.perf_counter()
    assert ROUTE_PATH.fullmatch(path) is None
    assert time.perf_counter() - started < 1.0
