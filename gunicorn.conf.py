"""Read by gunicorn from its working directory: ``gunicorn wsgi:app`` gets callguard's checks and hooks."""

from callguard.cli.gunicorn_conf import (  # noqa: F401  (gunicorn reads these names as its settings)
    child_exit,
    control_socket_disable,
    limit_request_fields,
    limit_request_line,
    logger_class,
    on_starting,
    post_worker_init,
    worker_exit,
)
