"""The journal's SQLite file: made whole, opened safely (a damaged one set aside), written in transactions."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from voicecoach.errors import StorageError, UserError
from voicecoach.paths import data_dir, private_dir, refuse_missing_link

log = logging.getLogger(__name__)

SCHEMA_VERSION = 2  # 2: a follow-up may be 'beetje' (een beetje)
# SQLite's side files; they hold the same private data as the database itself.
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
# Error names meaning "the file is damaged", as opposed to "cannot write here".
CORRUPT = ("SQLITE_NOTADB", "SQLITE_CORRUPT")
IO_TROUBLE = ("SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_BUSY")

# How an agreement went: 'beetje' since version 2; 'matig' was never written, 'overgeslagen' only before
# version 2 (no answer: now the agreement stays open and is asked again). Old journals keep theirs.
AGREEMENTS = """CREATE TABLE IF NOT EXISTS agreements (id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        text TEXT, recording TEXT, created_at TEXT NOT NULL, followed_up_at TEXT,
        follow_up TEXT CHECK (follow_up IN ('goed', 'beetje', 'matig', 'niet', 'overgeslagen')),
        CHECK (text IS NOT NULL OR recording IS NOT NULL))"""

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS sessions (id INTEGER PRIMARY KEY, exercise TEXT NOT NULL,
        partner_a TEXT NOT NULL, partner_b TEXT NOT NULL, started_at TEXT NOT NULL,
        ended_at TEXT, outcome TEXT CHECK (outcome IN ('completed', 'stopped', 'interrupted')))""",
    """CREATE TABLE IF NOT EXISTS steps (id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        step TEXT NOT NULL, at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS turns (id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        step TEXT NOT NULL, speaker TEXT NOT NULL, seconds REAL NOT NULL CHECK (seconds >= 0))""",
    # Value lists are JSON arrays: they are only ever read and written whole.
    """CREATE TABLE IF NOT EXISTS partner_values (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        partner TEXT NOT NULL, items TEXT NOT NULL, PRIMARY KEY (session_id, partner))""",
    """CREATE TABLE IF NOT EXISTS shared_values (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
        items TEXT NOT NULL, sentence TEXT)""",
    """CREATE TABLE IF NOT EXISTS gratitude (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        partner TEXT NOT NULL, count INTEGER NOT NULL CHECK (count >= 0),
        PRIMARY KEY (session_id, partner))""",
    AGREEMENTS,
    """CREATE TABLE IF NOT EXISTS progress (id INTEGER PRIMARY KEY CHECK (id = 1),
        exercise TEXT NOT NULL, state TEXT NOT NULL, data TEXT NOT NULL, saved_at TEXT NOT NULL)""",
    # The shared sentence in their own voice. A table added later needs no new schema version:
    # CREATE IF NOT EXISTS adds it to an older journal, and an older voicecoach ignores it.
    """CREATE TABLE IF NOT EXISTS sentence_recordings (
        session_id INTEGER PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE, recording TEXT NOT NULL)""",
    # Turn awareness: seconds each partner's voice was heard in a step's turns (added when the step is
    # completed, with its progress), how often the listener talked over it, and whether voices were told apart.
    """CREATE TABLE IF NOT EXISTS speaking (
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE, step TEXT NOT NULL,
        partner TEXT NOT NULL, seconds REAL NOT NULL CHECK (seconds >= 0),
        interruptions INTEGER NOT NULL CHECK (interruptions >= 0), attributed INTEGER NOT NULL,
        PRIMARY KEY (session_id, step, partner))""",
    # The toekomstbeeld's goals for the short ('kort') and the long term ('lang'), typed or in their voice.
    """CREATE TABLE IF NOT EXISTS goals (id INTEGER PRIMARY KEY,
        session_id INTEGER NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
        term TEXT NOT NULL CHECK (term IN ('kort', 'lang')), text TEXT, recording TEXT, created_at TEXT NOT NULL,
        CHECK (text IS NOT NULL OR recording IS NOT NULL))""",
]


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring an older journal up to this version, keeping every row (inside _open's transaction)."""
    found = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'agreements'").fetchone()
    if found is not None and "'beetje'" not in found[0]:
        # Version 1 -> 2: SQLite changes a CHECK only by rebuilding the table (its documented 12-step way;
        # no other table refers to agreements, so nothing else changes).
        conn.execute(AGREEMENTS.replace("EXISTS agreements (", "EXISTS agreements_v2 (", 1))
        conn.execute("INSERT INTO agreements_v2 (id, session_id, text, recording, created_at, followed_up_at, follow_up)"
                     " SELECT id, session_id, text, recording, created_at, followed_up_at, follow_up FROM agreements")
        conn.execute("DROP TABLE agreements")
        conn.execute("ALTER TABLE agreements_v2 RENAME TO agreements")
        log.info("journal: agreements may now be followed up with 'een beetje' (schema version 2)")


def _error_name(exc: sqlite3.Error) -> str:
    return str(getattr(exc, "sqlite_errorname", ""))


def _chmod_private(db: Path) -> None:
    """Keep the database and any side file it has owner-only (0600)."""
    for p in [db, *(db.with_name(db.name + s) for s in SIDE_SUFFIXES)]:
        with contextlib.suppress(FileNotFoundError):
            os.chmod(p, 0o600)


def progress_saved(path: Path | None = None) -> bool:
    """Whether the journal holds an unfinished exercise, looked at without changing anything (after a crash:
    no new journal, no migration, no lock); a journal that cannot be read holds none that `resume` could use."""
    path = Path(path) if path else data_dir() / "journal.sqlite3"
    try:
        if not path.is_file():
            return False
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT 1 FROM progress WHERE id = 1").fetchone() is not None
        finally:
            conn.close()
    except (OSError, sqlite3.Error):
        return False


class JournalFile:
    """One connection to the journal's database, guarded by a lock since audio threads may write too."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.recovered_from: Path | None = None
        self._lock = threading.RLock()
        self._depth = 0  # > 0 inside a batch: writes join its one transaction
        refuse_missing_link(self.path, "The journal")  # read or written, never replaced by a new one
        try:
            private_dir(self.path.parent)
            try:
                self._conn = self._open()
            except sqlite3.DatabaseError as exc:
                if not isinstance(exc, _Corrupt) and not _error_name(exc).startswith(CORRUPT):
                    raise
                self.recovered_from = self._move_aside()
                self._conn = self._open()
        except (OSError, sqlite3.Error) as exc:
            raise self.user_error(exc) from exc

    def _open(self) -> sqlite3.Connection:
        if not self.path.exists():
            self._create()
        elif _empty(self.path):
            # SQLite would take a 0-byte file for a new journal: theirs was lost (a bad copy, a
            # full disk, a tool that truncated it). Ours are never empty (see _create), so keep it.
            raise _Corrupt("the journal file is empty")
        # Autocommit mode: transactions are explicit BEGINs, so DDL is transactional too.
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5)
        try:
            check = conn.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise _Corrupt(check)
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: a finished step survives a power cut, not only a crash.
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA foreign_keys=ON")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise UserError(f"The journal {self.path} was written by a newer voicecoach.",
                                "Update voicecoach to open it.")
            tables = conn.execute("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
            if version < SCHEMA_VERSION or tables < len(SCHEMA):
                # Only when something is missing: a reader (`voicecoach journal`) must not wait for a session's write.
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    for statement in SCHEMA:
                        conn.execute(statement)
                    _migrate(conn)
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except BaseException:
            conn.close()
            raise
        _chmod_private(self.path)
        return conn

    def _create(self) -> None:
        """A new journal appears whole or not at all: made aside, 0600 from the first byte, then renamed."""
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".new", dir=self.path.parent)
        os.close(fd)
        try:
            conn = sqlite3.connect(tmp, isolation_level=None)
            try:
                with conn:
                    conn.execute("BEGIN IMMEDIATE")
                    for statement in SCHEMA:
                        conn.execute(statement)
                    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            finally:
                conn.close()
            with open(tmp, "rb") as f:
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def _move_aside(self) -> Path:
        """Keep a damaged file under a new name (never delete their data) and start afresh."""
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.broken-{stamp}")
        n = 1
        while target.exists():
            n += 1
            target = self.path.with_name(f"{self.path.name}.broken-{stamp}-{n}")
        os.replace(self.path, target)
        for suffix in SIDE_SUFFIXES:
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                os.replace(side, target.with_name(target.name + suffix))
        log.warning("journal was damaged; kept it as %s and started a new one", target)
        return target

    def user_error(self, exc: Exception) -> UserError:
        if isinstance(exc, sqlite3.Error) and _error_name(exc).startswith("SQLITE_BUSY"):
            # Not voicecoach (that is the session lock): a database viewer or a backup tool holds it.
            return UserError(f"Another program is holding the journal {self.path} open ({exc}).",
                             "Close it (a database viewer, a backup or sync tool), then run `voicecoach resume`.")
        return StorageError(f"Could not use the journal at {self.path} ({exc}).",
                            "Check that the disk is not full and the folder is writable, then run `voicecoach resume`.")

    @contextlib.contextmanager
    def tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: all of it is stored, or none of it. Inside a batch, part of the batch's."""
        with self._lock:
            if self._depth:
                yield self._conn
                return
            try:
                with self._conn:
                    self._conn.execute("BEGIN IMMEDIATE")
                    self._depth += 1
                    try:
                        yield self._conn
                    finally:
                        self._depth -= 1
            except sqlite3.OperationalError as exc:
                if _error_name(exc).startswith(IO_TROUBLE):
                    raise self.user_error(exc) from exc
                raise

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside is one transaction (an agreement, its recording and the next step's progress)."""
        with self.tx():
            yield

    def write(self, sql: str, *args: Any) -> int:
        """One statement in its own transaction; returns the new row's id."""
        with self.tx() as c:
            return int(c.execute(sql, args).lastrowid or 0)

    def rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        with self._lock:
            cur = self._conn.execute(sql, args)
            cur.row_factory = sqlite3.Row
            return cur.fetchall()

    def close(self) -> None:
        with self._lock:
            self._conn.close()


def _empty(path: Path) -> bool:
    """A 0-byte journal whose write-ahead log holds nothing either: nothing SQLite can recover."""
    wal = path.with_name(path.name + "-wal")
    try:
        return path.stat().st_size == 0 and (not wal.exists() or wal.stat().st_size == 0)
    except OSError:
        return False


class _Corrupt(sqlite3.DatabaseError):
    """`PRAGMA integrity_check` found damage."""
