"""The Flask extension: ``CallGuard(app)`` or ``guard.init_app(app, runtime=None)``.

Without a runtime it reads the ``CALLGUARD_*`` settings from the app's config, loads and
validates the policy (a bad policy stops start-up with one line naming file, key and problem),
resolves every account's auth token and the API tokens, and builds a
:class:`~callguard.runtime.runtime.Runtime` (:func:`~callguard.runtime.assemble.assemble`); given
one, it serves that one. Either way it starts the runtime and registers the webhook, API and
health routes and the policy's proxy routes. Its state lives in ``app.extensions["callguard"]``.
``@guard.protect`` puts the checks on a view of the app that answers Twilio with TwiML.
"""

from __future__ import annotations

from flask import Flask

from ..deadline import end_answer
from ..loggers import get_logger
from ..policy.auth_tokens import resolve_auth_tokens
from ..policy.loader import load_policy
from ..runtime.admin_tokens import parse_admin_tokens
from ..runtime.assemble import assemble
from ..runtime.runtime import Runtime
from ..runtime.settings import Settings
from .admin import api, api_routing_error
from .compliance import compliance
from .health import health
from .protect import protect
from .proxy import proxy_hook
from .signature import SignatureValidator
from .state import CallguardState
from .status import status
from .upstream import UpstreamClient
from .voice import voice

log = get_logger("callguard")


class CallGuard:
    def __init__(self, app: Flask | None = None, *, register_routes: bool = True, runtime: Runtime | None = None) -> None:
        self.register_routes = register_routes
        if app is not None:
            self.init_app(app, runtime)

    # ``@guard.protect`` / ``@guard.protect(campaign="…")``: see callguard.web.protect.
    protect = staticmethod(protect)

    def init_app(self, app: Flask, runtime: Runtime | None = None) -> CallguardState:
        """Serve ``runtime`` (built from ``app.config`` when None) from ``app``, and start it.

        The auth tokens of the policy's accounts and the API tokens are read from ``app.config``,
        the configuration a given runtime was assembled with, or the environment; closing the
        state (``app.extensions["callguard"].close()``) closes the runtime too."""
        if runtime is None:
            settings = Settings.from_mapping(app.config)
            policy = load_policy(settings.policy_path)
            tokens, default = resolve_auth_tokens(policy, app.config)
            api_tokens = parse_admin_tokens(app.config)  # every setting checked before anything is opened
            runtime = assemble(settings, app.config, policy=policy)
        else:
            config = {**runtime.config, **app.config}
            tokens, default = resolve_auth_tokens(runtime.refresher.base_policy, config)
            api_tokens = parse_admin_tokens(config)
        state = CallguardState(
            runtime=runtime, validator=SignatureValidator(tokens, default), api_tokens=api_tokens,
            upstream=UpstreamClient(cool_off=runtime.settings.breaker_cool_off),
        )
        runtime.start()
        app.extensions["callguard"] = state
        app.teardown_request(_end_answer)  # a webhook's deadline ends with its request, whichever view served it
        if self.register_routes:
            app.register_blueprint(voice)
            app.register_blueprint(compliance)
            app.register_blueprint(status)
            app.register_blueprint(api)
            app.before_request(api_routing_error)  # not an error handler: those would replace the app's own
            app.register_blueprint(health)
            app.before_request(proxy_hook(state))
        policy = runtime.refresher.base_policy
        log.info(
            "callguard ready: policy %s (%d accounts), registries %s",
            policy.source, len(policy.accounts), ", ".join(sorted(runtime.registries.names())) or "none",
        )
        return state


def _end_answer(_exc: BaseException | None) -> None:
    end_answer()
