"""The import-isolation check: the core decides with nothing but its four pure dependencies.

A fresh venv with only phonenumbers, cachetools, tzdata and defusedxml, the checkout on
PYTHONPATH (nothing installed from it): ``import twiml``, ``from callguard import Guard,
parse_policy, DialRequest``, and one decision. Flask, SQLAlchemy, Alembic, redis, requests,
twilio, prometheus-client, click, numpy — none is there, so an import of any of them from the
core fails here.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("phonenumbers", "cachetools", "tzdata", "defusedxml")

DECIDE = """
import sys
import twiml
from callguard import DialRequest, Guard, parse_policy

main = "AC00000000000000000000000000000001"
policy = parse_policy({"accounts": {main: {"caller_ids": ["+14155550100"], "permissions": {"US": {"low_risk": True}}}}})
decision = Guard(policy).check(DialRequest(account_sid=main, to="+14155550123", from_="+14155550100"))
assert decision.header_value() == "connect; reasons=ok", decision.header_value()
refused = Guard(policy).check(DialRequest(account_sid=main, to="+4930901820", from_="+14155550100"))
assert refused.header_value() == "reject; reasons=geo.low_risk", refused.header_value()
assert twiml.dial_number("+14155550123").endswith("<Number>+14155550123</Number></Dial></Response>")
loaded = sorted(name for name in ("flask", "sqlalchemy", "alembic", "redis", "requests", "twilio", "numpy", "click") if name in sys.modules)
assert not loaded, loaded
print("isolation: ok:", decision.header_value())
"""


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="callguard-isolation-") as work:
        venv = Path(work) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", *PACKAGES], check=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "PYTHONPATH": str(ROOT), "HOME": os.environ.get("HOME", "/tmp")}
        result = subprocess.run([str(venv / "bin" / "python"), "-c", DECIDE], cwd=work, env=env, capture_output=True, text=True)
        sys.stdout.write(result.stdout)
        if result.returncode != 0:
            sys.exit(f".ci/isolation: the core does not decide with only {', '.join(PACKAGES)}:\n{result.stderr}")


if __name__ == "__main__":
    main()
