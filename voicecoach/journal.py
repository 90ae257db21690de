"""The couple's private journal: sessions, values, agreements and progress in SQLite."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from voicecoach.device.wallclock import SystemWallClock, WallClock
from voicecoach.errors import StorageError
from voicecoach.forgetting import forget_everything
from voicecoach.journal_file import SIDE_SUFFIXES, JournalFile
from voicecoach.journal_records import (
    FOLLOW_UP_WORDS,
    FOLLOW_UPS,
    GOAL_WORDS,
    OUTCOMES,
    Agreement,
    Goal,
    Progress,
    Reading,
    Speaking,
    Summary,
    ValueMap,
)
from voicecoach.paths import data_dir, private_dir

log = logging.getLogger(__name__)

__all__ = ["FOLLOW_UP_WORDS", "GOAL_WORDS", "Agreement", "Goal", "Journal", "Progress", "Speaking", "Summary", "ValueMap"]
GOAL_TERMS = tuple(GOAL_WORDS)


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False)


class Journal:
    """The journal: what a session keeps, and what the overview, the menu and the follow-up read."""

    def __init__(self, path: Path | None = None, wall: WallClock | None = None,
                 tell: Callable[[str], None] | None = None) -> None:
        self._db = JournalFile(Path(path) if path else data_dir() / "journal.sqlite3")
        self.path = self._db.path
        self.recovered_from = self._db.recovered_from
        self.wall = wall or SystemWallClock()  # every time it writes; tests and --wall-start move it
        self._read = Reading(self.path, tell)  # `tell` hears once that a row another program changed is unreadable

    @property
    def unreadable(self) -> list[str]:
        """What was read and could not be, so far ("the date of agreement 3"); it is left in the journal as it is."""
        return list(self._read.unreadable)

    def now(self) -> datetime:
        """The time of day, with its zone, by the journal's wall clock."""
        return datetime.fromtimestamp(self.wall.time()).astimezone()

    def _now(self) -> str:
        return self.now().isoformat(timespec="seconds")

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Every write inside is one transaction (an agreement, its recording and the next step's progress)."""
        return self._db.batch()

    def _tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return self._db.tx()

    def _write(self, sql: str, *args: Any) -> int:
        return self._db.write(sql, *args)

    def _rows(self, sql: str, *args: Any) -> list[sqlite3.Row]:
        return self._db.rows(sql, *args)

    def start_session(self, exercise: str, names: tuple[str, str]) -> int:
        session_id = self._write("INSERT INTO sessions (exercise, partner_a, partner_b, started_at)"
                                 " VALUES (?, ?, ?, ?)", exercise, names[0], names[1], self._now())
        log.info("session %d started: %s", session_id, exercise)
        return session_id

    def reopen_session(self, session_id: int) -> bool:
        """A resumed session goes on as the same session; False if it is not in the journal."""
        with self._tx() as c:
            found = c.execute("UPDATE sessions SET ended_at = NULL, outcome = NULL WHERE id = ?", (session_id,))
        if found.rowcount != 1:
            return False
        log.info("session %d goes on", session_id)
        return True

    def mark_interrupted(self) -> int:
        """Sessions that never ended (a kill, a power cut) were interrupted; only call it holding the session lock."""
        with self._tx() as c:
            n = c.execute("UPDATE sessions SET outcome = 'interrupted' WHERE outcome IS NULL").rowcount
        if n:
            log.info("%d session(s) that never ended marked as interrupted", n)
        return int(n)

    def outcomes(self) -> list[tuple[int, str, str | None]]:
        """(id, exercise, outcome) of every session, oldest first."""
        return [(r["id"], r["exercise"], r["outcome"]) for r in self._rows(
            "SELECT id, exercise, outcome FROM sessions ORDER BY id")]

    def end_session(self, session_id: int, outcome: str) -> None:
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES)}, not {outcome!r}")
        self._write("UPDATE sessions SET ended_at = ?, outcome = ? WHERE id = ?",
                    self._now(), outcome, session_id)
        log.info("session %d ended: %s", session_id, outcome)

    def step_completed(self, session_id: int, step: str) -> None:
        self._write("INSERT INTO steps (session_id, step, at) VALUES (?, ?, ?)",
                    session_id, step, self._now())

    def turn(self, session_id: int, step: str, speaker: str, seconds: float) -> None:
        self._write("INSERT INTO turns (session_id, step, speaker, seconds) VALUES (?, ?, ?, ?)",
                    session_id, step, speaker, float(seconds))

    def speaking(self, session_id: int, step: str, partner: str, seconds: float, interruptions: int = 0,
                 attributed: bool = False) -> None:
        """A completed step's speaking time for one partner; a step done twice in a session adds up."""
        self._write("INSERT INTO speaking VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (session_id, step, partner) DO UPDATE"
                    " SET seconds = seconds + excluded.seconds, interruptions = interruptions + excluded.interruptions,"
                    " attributed = MAX(attributed, excluded.attributed)",
                    session_id, step, partner, max(0.0, float(seconds)), int(interruptions), int(attributed))

    def speaking_times(self, session_id: int | None = None) -> list[Speaking]:
        """Per session (oldest first, or just `session_id`): seconds each partner spoke in its turns."""
        where = "" if session_id is None else " WHERE s.id = ?"
        args = () if session_id is None else (session_id,)
        rows = self._rows("SELECT s.id, s.exercise, s.started_at, s.partner_a, s.partner_b, k.partner,"
                          " SUM(k.seconds) AS seconds, SUM(k.interruptions) AS interruptions"
                          f" FROM speaking k JOIN sessions s ON s.id = k.session_id{where}"
                          " GROUP BY s.id, k.partner ORDER BY s.id", *args)
        out: dict[int, Speaking] = {}
        read = self._read
        for r in rows:
            sid = r["id"]
            names = self._names(r)
            entry = out.get(sid)
            if entry is None:
                entry = out[sid] = Speaking(sid, read.text(r["exercise"], f"the exercise of session {sid}") or "",
                                            read.when(r["started_at"], f"the start of session {sid}"),
                                            dict.fromkeys(names, 0.0), dict.fromkeys(names, 0))
            partner = read.text(r["partner"], f"a name in session {sid}'s speaking times") or ""
            entry.seconds[partner] = entry.seconds.get(partner, 0.0) + float(r["seconds"])
            entry.interruptions[partner] = entry.interruptions.get(partner, 0) + int(r["interruptions"])
        return list(out.values())

    def steps(self, session_id: int) -> list[str]:
        return [r["step"] for r in self._rows(
            "SELECT step FROM steps WHERE session_id = ? ORDER BY id", session_id)]

    def set_values(self, session_id: int, partner: str, values: list[str]) -> None:
        self._write("INSERT OR REPLACE INTO partner_values VALUES (?, ?, ?)",
                    session_id, partner, _json(values))
        log.info("session %d: %d values stored for one partner", session_id, len(values))

    def set_shared_values(self, session_id: int, values: list[str], sentence: str | None,
                          recording: Path | None = None) -> None:
        """The shared values and the sentence (typed, or a recording of it); calling again replaces both."""
        with self._tx() as c:
            c.execute("INSERT OR REPLACE INTO shared_values VALUES (?, ?, ?)", (session_id, _json(values), sentence))
            c.execute("DELETE FROM sentence_recordings WHERE session_id = ?", (session_id,))
            if recording is not None:
                c.execute("INSERT INTO sentence_recordings VALUES (?, ?)", (session_id, self._relative(recording)))
        log.info("session %d: %d shared values stored", session_id, len(values))

    def latest_value_map(self) -> ValueMap:
        """The newest session with shared values (else with any partner's values)."""
        sid = self._rows("SELECT COALESCE((SELECT MAX(session_id) FROM shared_values),"
                         " (SELECT MAX(session_id) FROM partner_values)) AS sid")[0]["sid"]
        if sid is None:
            return ValueMap()
        read = self._read
        shared = self._rows("SELECT items, sentence FROM shared_values WHERE session_id = ?", sid)
        partners: dict[str, tuple[str, ...]] = {}
        for r in self._rows("SELECT partner, items FROM partner_values WHERE session_id = ? ORDER BY rowid", sid):
            partner = read.text(r["partner"], f"a partner's name in session {sid}'s values") or ""
            own = read.items(r["items"], f"a partner's values in session {sid}")
            if own is not None:
                partners[partner] = own
        if not shared:
            return ValueMap(partners=partners)
        rec = self._rows("SELECT recording FROM sentence_recordings WHERE session_id = ?", sid)
        return ValueMap(read.items(shared[0]["items"], f"the shared values of session {sid}") or (),
                        read.text(shared[0]["sentence"], f"the shared sentence of session {sid}"), partners,
                        self._recording_path(rec[0]["recording"]) if rec else None)

    def latest_shared_values(self) -> list[str]:
        return list(self.latest_value_map().shared)

    def gratitude(self, session_id: int, partner: str, count: int) -> None:
        """One partner's count for a session; calling again replaces it, so retries don't add up."""
        self._write("INSERT OR REPLACE INTO gratitude VALUES (?, ?, ?)", session_id, partner, count)

    def gratitude_total(self) -> int:
        return int(self._rows("SELECT COALESCE(SUM(count), 0) AS n FROM gratitude")[0]["n"])

    def recordings_dir(self) -> Path:
        return private_dir(self.path.parent / "recordings")

    def store_recording(self, session_id: int, wav_bytes: bytes) -> Path:
        """Write a WAV atomically, 0600 from the first byte, so no half file is ever seen."""
        folder = self.recordings_dir()
        stamp = self.now().strftime("%Y%m%d-%H%M%S")
        tmp = ""
        try:
            fd, tmp = tempfile.mkstemp(prefix=f"session-{session_id}-{stamp}-", suffix=".part", dir=folder)
            with os.fdopen(fd, "wb") as f:
                f.write(wav_bytes)
                f.flush()
                os.fsync(f.fileno())
            target = Path(tmp).with_suffix(".wav")
            os.replace(tmp, target)
        except BaseException as exc:
            if tmp:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            if isinstance(exc, OSError):
                raise StorageError(f"The recording of what you agreed could not be saved in {folder} "
                                f"({exc.strerror or exc}).", "Free some disk space, then run `voicecoach resume`: "
                                "you go on at that agreement.") from exc
            raise
        log.info("session %d: recording of %d bytes stored", session_id, len(wav_bytes))
        return target

    def remove_orphan_recordings(self) -> int:
        """Delete recordings no row refers to (a kill between writing the file and its row); hold the session lock."""
        folder = self.path.parent / "recordings"
        if not folder.is_dir():
            return 0
        used = {os.fsdecode(r["recording"]) for r in self._rows(
            "SELECT recording FROM agreements WHERE recording IS NOT NULL UNION SELECT recording FROM goals"
            " WHERE recording IS NOT NULL UNION SELECT recording FROM sentence_recordings")}
        removed = 0
        # Only files named as store_recording names them: the folder may be a link to one they keep other files in.
        for p in folder.glob("session-*"):
            if p.is_file() and p.suffix in (".part", ".wav") and (p.suffix == ".part" or p.name not in used):
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                removed += 1
        if removed:
            log.info("%d recording file(s) without a journal row removed", removed)
        return removed

    def add_agreement(self, session_id: int, text: str | None, recording: Path | None) -> int:
        if text is None and recording is None:
            raise ValueError("an agreement needs text or a recording")
        stored = None if recording is None else self._relative(recording)
        agreement_id = self._write("INSERT INTO agreements (session_id, text, recording, created_at)"
                                   " VALUES (?, ?, ?, ?)", session_id, text, stored, self._now())
        log.info("session %d: agreement %d added", session_id, agreement_id)
        return agreement_id

    def _relative(self, recording: Path) -> str:
        # Relative to our folder, so the journal still works if the data folder moves.
        rec, folder = Path(recording).resolve(), self.recordings_dir().resolve()
        return str(rec.relative_to(folder) if rec.is_relative_to(folder) else rec)

    def _recording_path(self, stored: str | bytes | None) -> Path | None:
        # A blob (another program wrote it) is read as the file system would read the name.
        return None if stored is None else self.path.parent / "recordings" / os.fsdecode(stored)

    def _agreement(self, r: sqlite3.Row) -> Agreement:
        read, n = self._read, r["id"]
        return Agreement(n, r["session_id"], read.text(r["text"], f"the text of agreement {n}"),
                         self._recording_path(r["recording"]), read.when(r["created_at"], f"the date of agreement {n}"),
                         r["follow_up"])

    def agreements(self) -> list[Agreement]:
        """All agreements, newest first."""
        return [self._agreement(r) for r in self._rows("SELECT * FROM agreements ORDER BY id DESC")]

    def open_agreements(self) -> list[Agreement]:
        """Every agreement not followed up yet, of any session, oldest first."""
        return [self._agreement(r) for r in self._rows("SELECT * FROM agreements WHERE follow_up IS NULL ORDER BY id")]

    def due_agreements(self, after: timedelta) -> list[Agreement]:
        """The open agreements made at least `after` ago (by the wall clock), oldest first; one whose date
        cannot be read too (asked about, it is not forgotten)."""
        now = self.now()
        return [a for a in self.open_agreements() if a.created_at is None or now - a.created_at.astimezone() >= after]

    def follow_up(self, agreement_id: int, how: str) -> None:
        if how not in FOLLOW_UPS:
            raise ValueError(f"how must be one of {sorted(FOLLOW_UPS)}, not {how!r}")
        with self._tx() as c:
            cur = c.execute("UPDATE agreements SET follow_up = ?, followed_up_at = ? WHERE id = ?",
                            (how, self._now(), agreement_id))
            if cur.rowcount != 1:
                raise KeyError(f"no agreement {agreement_id}")
        log.info("agreement %d followed up: %s", agreement_id, how)

    def add_goal(self, session_id: int, term: str, text: str | None, recording: Path | None) -> None:
        """A goal of the toekomstbeeld ("kort" or "lang"); a session's later one of the same term replaces it."""
        if term not in GOAL_TERMS or (text is None and recording is None):
            raise ValueError(f"a goal needs a term ({' or '.join(GOAL_TERMS)}) and text or a recording")
        stored = None if recording is None else self._relative(recording)
        with self._tx() as c:
            c.execute("DELETE FROM goals WHERE session_id = ? AND term = ?", (session_id, term))
            c.execute("INSERT INTO goals (session_id, term, text, recording, created_at) VALUES (?, ?, ?, ?, ?)",
                      (session_id, term, text, stored, self._now()))
        log.info("session %d: a goal for the %s term kept", session_id, term)

    def kept_in(self, session_id: int) -> bool:
        """Whether the session kept an agreement, a goal or the shared sentence: what the closing may say."""
        found = [f"EXISTS (SELECT 1 FROM {t} WHERE session_id = ?{w})" for t, w in (
            ("agreements", ""), ("goals", ""), ("shared_values", " AND sentence IS NOT NULL"), ("sentence_recordings", ""))]
        return bool(self._rows(f"SELECT {' OR '.join(found)} AS kept", *[session_id] * len(found))[0]["kept"])

    def latest_goals(self) -> list[Goal]:
        """The newest goal of each term (short first), whichever session set it."""
        rows = self._rows("SELECT * FROM goals WHERE id IN (SELECT MAX(id) FROM goals GROUP BY term)"
                          " ORDER BY term = 'lang', id")
        read = self._read
        return [Goal(r["term"], read.text(r["text"], f"the text of goal {r['id']}"), self._recording_path(r["recording"]),
                     read.when(r["created_at"], f"the date of goal {r['id']}")) for r in rows]

    def save_progress(self, exercise: str, state: str, data: dict[str, Any]) -> None:
        self._write("INSERT OR REPLACE INTO progress VALUES (1, ?, ?, ?, ?)",
                    exercise, state, _json(data), self._now())

    def load_progress(self) -> Progress | None:
        rows = self._rows("SELECT * FROM progress WHERE id = 1")
        if not rows:
            return None
        r = rows[0]
        return Progress(r["exercise"], r["state"], json.loads(r["data"]),
                        datetime.fromisoformat(r["saved_at"]))

    def clear_progress(self) -> None:
        self._write("DELETE FROM progress")

    def summary(self) -> Summary:
        counts: dict[str, int] = {}
        for r in self._rows("SELECT exercise, COUNT(*) AS n FROM sessions GROUP BY exercise ORDER BY exercise"):
            name = self._read.text(r["exercise"], "the exercise of a session") or ""
            counts[name] = counts.get(name, 0) + r["n"]
        last = self._last_session()
        seconds = self._rows("SELECT COALESCE(SUM(seconds), 0) AS s FROM turns")[0]["s"]
        return Summary(counts, self._read.when(last["started_at"], f"the start of session {last['id']}") if last else None,
                       tuple(self.latest_shared_values()), tuple(self.open_agreements()),
                       self.gratitude_total(), float(seconds) / 60)

    def _last_session(self) -> sqlite3.Row | None:
        # By id, not by time: the clock may jump (DST, travel), the order of sessions doesn't.
        rows = self._rows("SELECT * FROM sessions ORDER BY id DESC LIMIT 1")
        return rows[0] if rows else None

    def last_names(self) -> tuple[str, str] | None:
        last = self._last_session()
        return self._names(last) if last else None

    def _names(self, session: sqlite3.Row) -> tuple[str, str]:
        what = f"the names in session {session['id']}"
        return (self._read.text(session["partner_a"], what) or "", self._read.text(session["partner_b"], what) or "")

    def suggest_next(self) -> str | None:
        if self.open_agreements():
            return "dagelijks-gesprek"
        last = self._last_session()
        if last and last["exercise"] == "herstelgesprek":
            return "dankbaarheid"
        if not self.latest_shared_values():
            return "waardenkaart"
        return None

    def forget(self) -> None:
        """Close the journal and delete it (damaged copies and recordings too), and everything else
        voicecoach wrote about them (see `forget_everything`)."""
        self.close()
        doomed = [self.path, *(self.path.with_name(self.path.name + s) for s in SIDE_SUFFIXES)]
        doomed += self.path.parent.glob(f"{self.path.name}.broken-*")
        for p in doomed:
            with contextlib.suppress(FileNotFoundError):
                p.unlink()
        shutil.rmtree(self.path.parent / "recordings", ignore_errors=True)
        forget_everything()

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

