"""Running a servicer's methods in-process, inside an import chunk's transaction: the servicer context of
such a call, and the session makers its methods are handed instead of the service's (a savepoint per
call, or the chunk's session as is)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, event
from sqlalchemy.orm import Session


class Call:
    """The servicer context of an in-process call: no metadata (so no idempotency key)."""

    def invocation_metadata(self) -> tuple[()]:
        return ()

    def send_initial_metadata(self, _metadata: Any) -> None:
        pass


class SavepointSession:
    """The chunk's session seen through one savepoint: `commit` releases it, `rollback` undoes it and
    `close` leaves the chunk's transaction open."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self._savepoint = session.begin_nested()

    def commit(self) -> None:
        self._savepoint.commit()

    def rollback(self) -> None:
        if self._savepoint.is_active:
            self._savepoint.rollback()

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class Savepoints:
    """Stands in for the service's sessionmaker: each session it makes is a savepoint of the chunk."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.kw = {"bind": session.get_bind()}

    def __call__(self) -> SavepointSession:
        return SavepointSession(self._session)


class Borrowed:
    """The chunk's session as is: the service's commit, rollback and close leave the chunk's transaction
    alone (the fast attempt: see rows.Rows.apply)."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.kw = {"bind": session.get_bind()}

    def __call__(self) -> Borrowed:
        return self

    def commit(self) -> None:
        pass

    def rollback(self) -> None:
        pass

    def close(self) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._session, name)


class WriteCounter:
    """Counts the statements that write, on one connection, while it is open."""

    _WRITES = ("INSERT", "UPDATE", "DELETE")

    def __init__(self, connection: Connection) -> None:
        self.count = 0
        self._connection = connection
        event.listen(connection, "before_cursor_execute", self._seen)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        if statement.lstrip()[:6].upper() in self._WRITES:
            self.count += 1

    def close(self) -> None:
        event.remove(self._connection, "before_cursor_execute", self._seen)
