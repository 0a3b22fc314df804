"""The WSGI entry point, with callguard in front of the voice view.

``GuardMiddleware`` checks the Twilio signature of requests to /twilio/voice, lets Django
answer, and checks every ``<Dial>`` target of the TwiML before Twilio sees it. It also serves
callguard's own endpoints (/voice/status, /voice/disclosure, /healthz …); everything else goes
to Django untouched. callguard reads its ``CALLGUARD_*`` settings from the environment
(docs/deployment.md). Run it from the checkout's root (docs/examples.md tries it):

    cd examples/django_project
    CALLGUARD_POLICY=../policy.toml TWILIO_AUTH_TOKEN=your_auth_token TWILIO_AUTH_TOKEN_TENANT_A=your_subaccount_auth_token gunicorn --bind 127.0.0.1:8000 voicesite.wsgi
"""  # noqa: E501 - one line, as in docs/examples.md (tests/docs/test_catalog.py compares them)

import os

from django.core.wsgi import get_wsgi_application

from callguard import GuardMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voicesite.settings")

application = GuardMiddleware(get_wsgi_application(), paths=["/twilio/voice"])
