"""The app of ``voice_app.py`` with callguard's checks: one decorator on the view that dials.

``CallGuard(app)`` loads the policy and serves callguard's own endpoints on the app (the
disclosure whisper, /voice/status, /v1 …); ``guard.protect`` runs the view, then checks every
``<Dial>`` target in its TwiML and rewrites the document. Written inline it is one line::

    @app.post("/voice/incoming")
    @guard.protect
    def incoming(): ...

Here it wraps the existing view without editing its file. It is configured with the usual
``CALLGUARD_*`` variables (docs/deployment.md) and the accounts' auth tokens; run it (and try it
with ``callguard simulate``, docs/examples.md):

    CALLGUARD_POLICY=examples/policy.toml TWILIO_AUTH_TOKEN=your_auth_token TWILIO_AUTH_TOKEN_TENANT_A=your_subaccount_auth_token flask --app examples/protected_app.py run --port 5000
"""  # noqa: E501 - one line, as in docs/examples.md (tests/docs/test_catalog.py compares them)

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from voice_app import create_app  # noqa: E402

from callguard import CallGuard  # noqa: E402
from callguard.runtime.settings import config_from_environment  # noqa: E402

app = create_app()
app.config.update(config_from_environment())
guard = CallGuard(app)
app.view_functions["incoming"] = guard.protect(app.view_functions["incoming"])
