"""The one way services get what they work with.

Every public service function that needs the database, the settings, the object store or the data
cipher takes a `Ctx` as its only positional argument; everything else is keyword-only:

    def create_beneficiary(ctx: Ctx, *, actor: Actor, data: Mapping[str, Any]) -> Beneficiary

A Ctx is frozen and holds what stays the same for a whole use case. The actor is not in it: it is
a keyword argument, because one use case may act for several (a login acts for the user it finds,
the worker writes as the system, a CLI command as its operator).

Routes build theirs with `server.api.access.ctx()`, tasks and CLI commands with `Ctx.current()`,
both inside an app context; tests call services the same way. Private helpers (`_name`) take only
what they use. Building blocks that write inside another use case's transaction and know nothing
of settings, store or cipher (`audit.record`, `cases.open_case`, `leases.*`) take the session.
Transactions are not the services' business: see `server.db` for the unit of work.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from flask import current_app
from sqlalchemy.orm import Session

from server import db
from server.config import Settings
from server.crypto import DataCipher
from storage import ObjectStore


@dataclass(frozen=True)
class Ctx:
    """What a service call works with: a session, the settings, the object store and the data cipher."""

    session: Session
    settings: Settings
    store: ObjectStore
    cipher: DataCipher

    @classmethod
    def current(cls) -> Ctx:
        """The running application's dependencies and this app context's session."""
        return cls(
            session=db.session(),
            settings=current_app.config["FIELDCHECK"],
            store=current_app.extensions["fieldcheck.store"],
            cipher=current_app.extensions["fieldcheck.cipher"],
        )

    def using(self, session: Session) -> Ctx:
        """The same dependencies on another session (a scratch database, a second connection)."""
        return replace(self, session=session)
