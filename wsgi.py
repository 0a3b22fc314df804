"""The gunicorn entry point: ``gunicorn wsgi:app``, configured from the environment."""

from callguard import create_app

app = create_app()
