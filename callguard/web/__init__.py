"""Flask blueprints and the app factory."""

from .app import create_app
from .extension import CallGuard
from .state import CallguardState, current_state

__all__ = ["CallGuard", "CallguardState", "create_app", "current_state"]
