"""Objects every request handler uses: settings, the engine, departments, the agent, media."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session as DatabaseSession

from medrecord.departments import DepartmentRegistry
from medrecord_api.agent.protocol import IntakeAgent
from medrecord_api.attachments import MediaStore
from medrecord_api.settings import Settings

__all__ = ["AppContext", "app_context"]


@dataclass(frozen=True)
class AppContext:
    """The app's long-lived objects: one engine, one registry, one agent per app."""

    settings: Settings
    engine: Engine
    registry: DepartmentRegistry
    agent: IntakeAgent
    media: MediaStore

    def database(self) -> DatabaseSession:
        """Open a database session; the caller closes it, usually with ``with``.

        NOTE: on SQLite every transaction holds the database's write lock until it ends
        (the engine begins with BEGIN IMMEDIATE), so handlers keep transactions short
        and never open a second session while the first is in a transaction.
        """
        return DatabaseSession(self.engine, expire_on_commit=False)


def app_context(request: Request) -> AppContext:
    """Return the context of the app serving a request (a FastAPI dependency)."""
    context: AppContext = request.app.state.medrecord
    return context
