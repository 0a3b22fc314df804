"""The rule for URLs callguard may send Twilio on to: only those under a URL the policy lists."""

from __future__ import annotations

import re
from urllib.parse import unquote, urlsplit

_UNSAFE = re.compile(r"[\s\\\x00-\x1f\x7f]")


def url_allowed(url: str | None, prefixes: tuple[str, ...]) -> bool:
    """Whether ``url`` lies under one of ``prefixes``: same scheme and host, path under the prefix's path.

    This is what keeps ``next=`` parameters from being an open redirect: only URLs the policy
    lists (``answer_urls``) are followed.
    """
    if not url or _UNSAFE.search(url):
        return False
    try:
        target = urlsplit(url)
    except ValueError:
        return False
    if target.scheme not in ("http", "https") or not target.hostname or "@" in target.netloc:
        return False
    # "/calls/../admin" lies textually under "/calls/" but is fetched as "/admin".
    if any(unquote(segment) in (".", "..") for segment in target.path.split("/")):
        return False
    for prefix in prefixes:
        allowed = urlsplit(prefix)
        if (target.scheme, target.netloc.lower()) != (allowed.scheme, allowed.netloc.lower()):
            continue
        base = allowed.path or "/"
        path = target.path or "/"
        if path == base or path.startswith(base if base.endswith("/") else base + "/"):
            return True
    return False
