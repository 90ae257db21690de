"""What the journal holds, as printed lines and as spoken parts (`voicecoach journal`)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from voicecoach.journal import FOLLOW_UP_WORDS, GOAL_WORDS, Journal

log = logging.getLogger(__name__)

SPOKEN_AGREEMENTS = 3  # told by voice: the newest few; all of them are printed
SPEAKING_SESSIONS = 5  # printed: how long each spoke in the newest few sessions


def minutes(seconds: float) -> str:
    """"2,5 min": a speaking time as the journal and the fridge page print it."""
    return f"{seconds / 60:.1f}".replace(".", ",") + " min"


@dataclass
class Overview:
    """What the journal holds, as printed lines and as spoken parts (text, or a recording to play)."""

    lines: list[str] = field(default_factory=list)
    spoken: list[str | Path] = field(default_factory=list)


def overview(journal: Journal) -> Overview:
    """The printed lines (for the screen) and what is said (texts from _common.toml, their recordings)."""
    from voicecoach.engine.texts import fill_in, join, load_common, spoken_parts
    from voicecoach.export import dutch_date, spoken_in

    said = load_common()
    out = Overview()
    summary = journal.summary()
    if summary.sessions == 0:
        out.lines.append("Er staat nog niets in jullie dagboek.")
        out.spoken.append(said["journal_empty"])
        return out
    done = ", ".join(f"{name} {n}x" for name, n in summary.sessions_by_exercise.items())
    last = f"; laatste keer {dutch_date(summary.last_session.date())}" if summary.last_session else ""
    out.lines.append(f"Sessies: {summary.sessions} ({done}){last}.")
    out.spoken.append(fill_in(said["journal_sessions"], aantal=summary.sessions))
    values = journal.latest_value_map()
    if values.shared:
        out.lines.append(f"Gezamenlijke waarden: {', '.join(values.shared)}.")
        out.spoken.append(fill_in(said["journal_values"], waarden=join(values.shared)))
        if values.sentence or values.recording:
            out.lines.append(f"Jullie zin: {values.sentence or '(ingesproken)'}")
            out.spoken.append(said["journal_sentence"])
            out.spoken += [values.recording] if values.recording else spoken_parts(values.sentence or "")
    for partner, own in values.partners.items():
        out.lines.append(f"Waarden van {partner}: {', '.join(own)}.")
    for goal in journal.latest_goals():
        what = goal.text or spoken_in("ingesproken", goal.created_at)
        out.lines.append(f"{GOAL_WORDS[goal.term]}: {what}")
        out.spoken.append(said[f"journal_goal_{goal.term}"])  # "Jullie doel voor dit jaar:", then their words
        out.spoken += [goal.recording] if goal.recording is not None and goal.recording.exists() else spoken_parts(
            goal.text or "")
    agreements = journal.agreements()
    if agreements:
        out.lines.append("Afspraken:")
        for a in agreements:
            what = a.text or spoken_in("ingesproken afspraak", a.created_at)
            how = FOLLOW_UP_WORDS.get(a.follow_up, a.follow_up) if a.follow_up else "nog open"
            out.lines.append(f"  - {what} ({how})")
        out.spoken.append(said["journal_agreements" if len(agreements) > 1 else "journal_agreement"])
        for a in agreements[:SPOKEN_AGREEMENTS]:
            if a.recording is not None and a.recording.exists():
                out.spoken.append(a.recording)
            else:
                out.spoken += spoken_parts(a.text or "")
    else:
        out.lines.append("Afspraken: nog geen.")
    out.lines.append(f"Dankbaarheid: {summary.gratitude_total} keer iets genoemd waar jullie dankbaar voor zijn.")
    minutes = round(summary.turn_minutes)
    out.lines.append(f"Samen aan het woord: {minutes} {'minuut' if minutes == 1 else 'minuten'}.")
    _speaking(journal, said, out)
    if summary.gratitude_total:
        out.spoken.append(fill_in(said["journal_gratitude"], aantal=summary.gratitude_total))
    out.spoken.append(said["journal_end"])
    return out


def _speaking(journal: Journal, said: dict[str, object], out: Overview) -> None:
    """Who spoke how long (their voices, measured in the turns), in the newest sessions."""
    from voicecoach.engine.texts import fill_in
    from voicecoach.export import dutch_date
    from voicecoach.turns import spoken_duration

    kept = journal.speaking_times()
    if not kept:
        return
    out.lines.append("Wie kwam aan het woord (stem gemeten in de beurten):")
    for s in kept[-SPEAKING_SESSIONS:]:
        who = ", ".join(f"{name} {minutes(sec)}" for name, sec in s.seconds.items())
        talked_over = sum(s.interruptions.values())
        note = f" ({talked_over}x door de ander heen gepraat)" if talked_over else ""
        day = dutch_date(s.started_at.date()) if s.started_at is not None else "datum onbekend"
        out.lines.append(f"  {day}, {s.exercise}: {who}{note}")
    pairs = list(kept[-1].seconds.items())
    if len(pairs) != 2:
        return
    (one, first), (two, second) = pairs
    out.spoken.append(fill_in(str(said["turns.speaking_time"]), een=one, twee=two,
                              tijd_een=spoken_duration(first), tijd_twee=spoken_duration(second)))
