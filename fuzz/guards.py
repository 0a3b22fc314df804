"""The policies the harnesses decide with: one that permits a mix of countries and blocks a
prefix, so that fuzzed documents meet every outcome."""

from __future__ import annotations

import textwrap
import tomllib

from callguard import FakeClock, Guard, parse_policy

ACCOUNT = "AC" + "1" * 32
CALLER_ID = "+14155550100"
POLICY = f"""
[defaults]
fail_mode = "reject"
reject_style = "reject"
non_pstn = "reject"
[accounts.{ACCOUNT}]
caller_ids = ["{CALLER_ID}"]
[accounts.{ACCOUNT}.permissions]
US = {{ low_risk = true }}
GB = {{ low_risk = true, high_risk_special = true }}
DE = {{ low_risk = true }}
[[blocked_prefixes]]
prefix = "+493012345678"
reason = "closed"
"""


def mixed_guard() -> Guard:
    return Guard(parse_policy(tomllib.loads(textwrap.dedent(POLICY)), source="fuzz.toml"), clock=FakeClock(1_780_000_000.0))
