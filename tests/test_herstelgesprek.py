"""The whole herstelgesprek, by a scripted couple through the real Vosk engine, and typed."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest

from tests.conftest import KO_VOCAB
from voicecoach import cli
from voicecoach.audio.pcm import Audio, read_wav, write_wav
from voicecoach.journal import Journal


@pytest.fixture
def talk(say, tmp_path):  # type: ignore[no-untyped-def]
    """talk(name) -> WAV: someone speaks a sentence, pauses, then says the done word on its own."""

    def make(name: str, sentence: str = "오늘은 정말 바쁜 하루였어요 그리고 내일도 바빠요") -> str:
        parts = [read_wav(say(sentence)), Audio.silence(1.2), read_wav(say("쉬자")), Audio.silence(0.3)]
        path = tmp_path / f"{name}.wav"
        write_wav(path, Audio.concat(parts))
        return str(path)

    return make


def events_of(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# Typed up to the first agreement: both want to, are calm and keep to the rules; each speaks and is mirrored.
TO_THE_AGREEMENTS = [
    "ja", "ja", "ja", "ja", "ja", "ja",
    "Ik voel me alleen", "Je voelt je alleen", "klopt", "nee",
    "Ik wil meer rust", "Je wilt meer rust", "klopt", "nee",
]


def typed_herstelgesprek(typed: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                         *args: str) -> tuple[int, str]:
    """The herstelgesprek typed by Sanne and Joris (--text --fast): its exit code, and what it printed."""
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(typed) + "\n"))
    code = cli.main(["run", "herstelgesprek", "--text", "--fast", "--names", "Sanne,Joris", *args])
    return code, capsys.readouterr().out


def test_whole_herstelgesprek_by_voice(ko_model_path, say, talk, tmp_path, capsys):
    script = [
        "silence 10",                 # samen: nobody answers in time -> a gentle reprompt
        say("네"),                    # samen: Sanne says yes
        say("네"),                    # ...and Joris, asked by name
        say("네"), say("네"),         # each is calm enough to begin
        say("네"), say("네"),         # each will keep to the three rules
        talk("speak1"),               # spiegel_een: Sanne speaks, ends early with the done word
        talk("reflect1"),             # Joris mirrors
        say("네, 아니요"),            # klopt niet -> Sanne says what was missed
        talk("correct1"),
        talk("reflect2"),             # Joris mirrors again
        say("이해"),                  # "why?" at the question
        say("마침"),                  # "repeat" the question
        say("네"),                    # klopt
        say("아니요"),                # is er nog meer? no
        say("멈춤"),                  # spiegel_twee: pause in the middle of the turn
        say("계속"),                  # resume
        talk("speak2"),
        "silence 200",                # Sanne mirrors in silence: nudge, warning, and time runs out
        say("네"),                    # klopt
        say("아니요"),                # nothing more
        talk("propose1"),             # afspraak_een
        talk("reflect3"),
        say("네"), say("네"),         # each agrees, by name
        say("네"), say("네"),         # each consents to keeping the agreement
        talk("propose2"),             # afspraak_twee
        talk("reflect4"),
        say("네"), say("네"),         # each agrees (consent already given)
    ]
    lines = [str(x) if not isinstance(x, str) else x for x in script]
    (tmp_path / "couple.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    events = tmp_path / "events.jsonl"
    code = cli.main([
        "run", "herstelgesprek", "--fast", "--answers", str(tmp_path / "couple.txt"), "--model", str(ko_model_path),
        "--vocab", str(KO_VOCAB), "--events-words", "--events", str(events), "--names", "Sanne,Joris",
        "--speaker-file", str(tmp_path / "voice.wav"),
    ])
    assert code == 0, capsys.readouterr()
    log = events_of(events)
    kinds = [e["event"] for e in log]
    states = [e["state"] for e in log if e["event"] == "state"]
    prompts = [e["text"] for e in log if e["event"] == "prompt"]
    heard = [(e["kind"], e["intent"]) for e in log if e["event"] == "heard"]

    assert log[-1] == {**log[-1], "event": "session_ended", "outcome": "completed", "state": "end"}
    # Their proposals were recorded: the consent names the recordings (typed, it does not; see below).
    assert [p for p in prompts if "hier bewaren" in p][0].startswith("Sanne, mag ik jullie afspraken van vandaag "
                                                                     "hier bewaren, met de opnames?")
    assert prompts[0].startswith("Eerst iets belangrijks")  # safety note on first use
    assert any("Veilig Thuis" in p for p in prompts)
    # silence before the first answer, with its own reprompt
    assert heard[0] == ("silence", None) and heard[1] == ("intent", "confirm")
    assert prompts[prompts.index(next(p for p in prompts if p.startswith("Sanne, wil jij"))) + 1].startswith("Ik hoorde niets")
    # the mirroring loop: klopt niet -> correct -> reflect again -> klopt
    i = states.index("spiegel_een__correct")
    assert states[i - 1] == "spiegel_een__check" and states[i + 1] == "spiegel_een__reflect"
    assert ("intent", "deny") in heard and ("intent", "why") in heard and ("intent", "repeat") in heard
    assert any("Spiegelneuronen" in p for p in prompts)  # the why of the mirroring step
    assert kinds.count("paused") == 1 and kinds.count("resumed") == 1
    turns = [e for e in log if e["event"] == "turn_ended"]
    assert turns[0]["how"] == "done" and turns[0]["seconds"] < 30  # ended early with the done word
    timed_out = [t for t in turns if t["how"] == "time"]
    assert len(timed_out) == 1 and timed_out[0]["speaker"] == "Sanne"
    assert 90 <= timed_out[0]["seconds"] < 100  # the mirror turn's 90 s, plus our own remarks
    assert any(e["event"] == "turn_warned" for e in log)
    assert any(p.startswith("Neem je tijd, Sanne") for p in prompts)
    # the agreements, kept with consent, as recordings of their own words
    assert [e["kept"] for e in log if e["event"] == "agreement"] == [True, True]
    with Journal() as journal:
        agreements = journal.agreements()
        assert len(agreements) == 2
        assert all(a.recording.exists() and read_wav(a.recording).seconds > 1 for a in agreements)
        assert journal.summary().sessions_by_exercise == {"herstelgesprek": 1}
        assert journal.load_progress() is None  # completed: nothing left to resume
    assert read_wav(tmp_path / "voice.wav").seconds > 60  # everything said went to the speaker file


def test_whole_herstelgesprek_typed(capsys, monkeypatch):
    typed = [
        "", "ja hoor", "ja",                          # samen: Enter alone is silence, then each says yes
        "ja", "nee",                                  # calm enough? Joris is not: a time-out is offered
        "time-out", "verder",                         # they take it, back early: on at once
        "ja", "ja", "ja", "ja",                       # asked again, both are; both keep to the rules
        "Ik voel me alleen als je laat thuiskomt", "Je voelt je alleen", "klopt niet",
        "Ik mis je vooral 's avonds", "Je mist me 's avonds", "waarom", "herhaal", "klopt", "nee dat was het",
        "pauze", "verder", "Ik wil meer rust", "Je wilt meer rust", "ja", "nee hoor",
        "Elke avond tien minuten praten", "Elke avond tien minuten", "ja", "ja graag", "ja", "ja",
        "Zondag samen wandelen", "Zondag wandelen", "ja", "ja",
    ]
    code, out = typed_herstelgesprek(typed, capsys, monkeypatch)
    assert code == 0, out
    assert "Ik hoorde niets" in out and "Spiegelneuronen" in out and "We pauzeren" in out
    assert "wat heeft Joris gemist" in out
    with Journal() as journal:
        texts = sorted(a.text for a in journal.agreements())
    assert texts == ["Elke avond tien minuten praten", "Zondag samen wandelen"]


def test_not_calm_offers_the_time_out_before_anyone_is_asked_again(capsys, monkeypatch):
    """After Joris's "nee" to "ben jij rustig genoeg?" the offer of a time-out was followed straight away by
    "Sanne, ben jij rustig genoeg?": now the offer waits for time-out (or stop), and after the time-out both
    are asked again, Sanne first."""
    typed = ["ja", "ja", "ja", "nee",  # both want to; Sanne is calm, Joris is not
             "ja",                      # not an answer to "zeg time-out, of stop"
             "time-out", "verder", "ja", "ja"]
    code, out = typed_herstelgesprek(typed, capsys, monkeypatch, "--no-journal")
    assert code == 2, out  # the typing ends at the rules
    offer = out.index("Dan nemen jullie eerst even afstand.")
    after = out[offer:]
    assert after.index("Je kunt nu zeggen: time-out of stop.") < after.index("We nemen een time-out van 20 minuten")
    back = after[after.index("We nemen een time-out"):]
    assert "rustig genoeg" not in after[:after.index("We nemen een time-out")]  # nobody asked before the break
    sanne, joris = back.index("Sanne, ben jij rustig genoeg"), back.index("Joris, ben jij rustig genoeg")
    assert sanne < joris < back.index("Drie afspraken voor dit gesprek")


def test_stopping_when_not_calm_resumes_with_the_calm_question(capsys, monkeypatch):
    """Stopped at "neem eerst afstand", a couple coming back is asked whether they are calm, not told to take distance."""
    monkeypatch.setattr("sys.stdin", io.StringIO("ja\nja\nnee\nstop\n"))
    assert cli.main(["run", "herstelgesprek", "--text", "--fast", "--names", "Sanne,Joris"]) == 0
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO("ja\nja\n"))
    cli.main(["resume", "--text", "--fast"])
    out = capsys.readouterr().out
    assert "Dan nemen jullie eerst even afstand" not in out
    assert out.index("Sanne, ben jij rustig genoeg") < out.index("Drie afspraken voor dit gesprek")


def test_without_names_a_sentence_starts_with_a_capital(capsys, monkeypatch):
    """ "partner één, jij begint" was printed (and spoken) lower-case at the start of a sentence."""
    monkeypatch.setattr("sys.stdin", io.StringIO("ja\n" * 6))
    cli.main(["run", "herstelgesprek", "--text", "--fast", "--no-journal"])
    out = capsys.readouterr().out
    assert "Partner één, wil jij samen met partner twee werken aan jullie relatie?" in out
    assert "Partner twee, ben jij rustig genoeg" in out and "Partner één, jij begint." in out
    assert not re.search(r"(^|[>.?!] )partner", out, re.MULTILINE)


def test_someone_talking_through_a_turn_is_not_nudged(ko_model_path, say, tmp_path):
    # 40 s of talk with short pauses in a 60 s turn: no "Neem je tijd" in the middle of it.
    sentence = read_wav(say("오늘은 정말 바쁜 하루였어요 그리고 내일도 바빠요"))
    write_wav(tmp_path / "talk.wav", Audio.concat([sentence, Audio.silence(1.5)] * 10))
    (tmp_path / "couple.txt").write_text(f"{tmp_path / 'talk.wav'}\n", encoding="utf-8")
    (tmp_path / "beurt.toml").write_text(
        '[[steps]]\nid = "beurt"\nkind = "turn"\nspeaker = 1\nseconds = 60\ntext = "Vertel, {spreker}."\n',
        encoding="utf-8")
    events = tmp_path / "events.jsonl"
    code = cli.main(["run", str(tmp_path / "beurt.toml"), "--fast", "--answers", str(tmp_path / "couple.txt"),
                     "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--events-words", "--events", str(events),
                     "--no-journal"])
    assert code == 0
    log = events_of(events)
    prompts = [e["text"] for e in log if e["event"] == "prompt"]
    assert not any(p.startswith("Neem je tijd") for p in prompts), prompts
    ended = [e for e in log if e["event"] == "turn_ended"]
    assert ended and ended[0]["how"] == "time"
    assert any(p.startswith("Nog 30 seconden") for p in prompts)  # the warning still comes


def test_klopt_dat_is_asked_again_with_its_own_words(capsys, monkeypatch):
    """ "Zeg klopt of klopt niet." then "Dat verstond ik niet. Zeg alleen ja of nee." told them two things;
    the reprompts of the check name the words it asked for (ja / nee are still heard)."""
    typed = [
        "ja", "ja", "ja", "ja", "ja", "ja",
        "Ik voel me alleen als je laat thuiskomt", "Je voelt je alleen",
        "Ik hoorde je zeggen dat je alleen bent", "", "klopt", "nee",
        "Ik wil meer rust", "Je wilt meer rust", "ja", "nee",   # ja / nee still answer it
    ]
    code, out = typed_herstelgesprek(typed, capsys, monkeypatch, "--no-journal")
    assert code == 2  # the typing ends at the agreements
    assert "Dat verstond ik niet. Zeg alleen klopt of klopt niet." in out
    assert "Ik hoorde niets. Zeg klopt of klopt niet." in out
    assert "Zeg alleen ja of nee" not in out
    assert "Nu maken jullie een concrete afspraak" in out


@pytest.mark.parametrize("journal, consent, kept, said", [
    ([], "ja", True, True), ([], "nee", False, True), (["--no-journal"], "", False, True),
    ([], "", False, False),  # Enter alone for each proposal: nothing to agree to, nor to keep
])
def test_the_closing_says_agreements_were_kept_only_when_they_were(capsys, monkeypatch, journal, consent, kept, said):
    """The closing said "Zijn jullie afspraken bewaard, dan vraag ik ..." also with --no-journal or after a no,
    and (found by tests/test_orders.py) when both agreed to proposals in which nothing was said."""
    typed = [
        *TO_THE_AGREEMENTS,
        *(["Elke avond tien minuten praten", "Elke avond tien minuten", "ja", "ja"] if said else [""]),
        *([consent, consent] if consent else []),
        *(["Zondag samen wandelen", "Zondag wandelen", "ja", "ja"] if said else [""]),
    ]
    code, out = typed_herstelgesprek(typed, capsys, monkeypatch, *journal)
    assert code == 0, out
    closing = out[out.index("Dank jullie wel. Jullie hebben naar elkaar geluisterd"):]
    assert ("Jullie afspraken zijn bewaard." in closing) is kept
    assert "bewaard" not in closing or kept
    assert "  " not in closing and "{" not in closing
    if consent:  # asked once, for both agreements, and said so: "jullie afspraak" was only Sanne's
        asked = [line for line in out.splitlines() if "hier bewaren" in line]
        assert asked and all("mag ik jullie afspraken van vandaag hier bewaren" in a for a in asked)
        assert not any("opname" in a for a in asked)  # typed: nothing was recorded, none is mentioned
        if kept:
            with Journal() as journal:
                assert len(journal.agreements()) == 2


def test_a_no_to_an_agreement_is_said_before_it_is_proposed_again(capsys, monkeypatch):
    """After Joris's no the next words were "Sanne, stel één afspraak voor." again, as if nothing was said."""
    typed = [
        *TO_THE_AGREEMENTS,
        "Elke dag sporten", "Jij wilt elke dag sporten", "ja", "nee",
        "Zondag samen wandelen", "Zondag wandelen", "ja", "ja",
    ]
    code, out = typed_herstelgesprek(typed, capsys, monkeypatch, "--no-journal")
    assert code == 2  # the typing ends at Joris's agreement
    no = out.index("Joris, ben jij het eens met deze afspraak?")
    again = out.index("Jullie zijn het nog niet allebei eens, en dat mag.", no)
    assert again < out.index("Sanne, stel één afspraak voor.", no)


NOTHING_PROPOSED = "Ik hoorde geen voorstel; deze keer is er dus geen afspraak om te bewaren, en dat mag."


def test_an_empty_proposal_is_not_agreed_to_and_the_step_is_done_as_before(capsys, monkeypatch):
    """Both were asked to agree to, and to keep, a proposal in which nothing was said (Enter alone): now it
    is said kindly that there is nothing to keep, and the next partner proposes; a stop there resumes there."""
    code, out = typed_herstelgesprek([*TO_THE_AGREEMENTS, ""], capsys, monkeypatch)
    assert code == 2, out  # the typing ends in Joris's proposal
    after = out[out.index("Sanne, stel één afspraak voor."):]
    assert after.index(NOTHING_PROPOSED) < after.index("Joris, nu stel jij één afspraak voor.")
    assert "herhaal de afspraak" not in after and "eens met deze afspraak" not in after and "bewaren?" not in after

    monkeypatch.setattr("sys.stdin", io.StringIO("Zondag samen wandelen\nZondag wandelen\nja\nja\nja\nja\n"))
    assert cli.main(["resume", "--text", "--fast"]) == 0
    out = capsys.readouterr().out
    assert "Joris stelt er een voor" in out and NOTHING_PROPOSED not in out
    with Journal() as journal:
        [(session, _, outcome)] = journal.outcomes()  # the resume went on as the same session
        steps = journal.steps(session)
        assert [a.text for a in journal.agreements()] == ["Zondag samen wandelen"]
    assert outcome == "completed"
    assert steps[-3:] == ["afspraak_een", "afspraak_twee", "afsluiting"]  # each once: done, as when agreed to


def test_a_silent_proposal_keeps_no_recording_of_the_room(ko_model_path, tmp_path):
    """By voice a silent proposal was agreed to and consented to, and 20 s of the room's silence kept as an
    agreement: nobody spoke, so there is nothing to agree to or keep."""
    (tmp_path / "afspraak.toml").write_text(
        '[[steps]]\nid = "afspraak"\nkind = "agreement"\nspeaker = 1\nseconds = 20\nmirror = false\n'
        'text = "Stel een afspraak voor, {spreker}."\n', encoding="utf-8")
    (tmp_path / "couple.txt").write_text("silence 40\n", encoding="utf-8")
    events = tmp_path / "events.jsonl"
    code = cli.main(["run", str(tmp_path / "afspraak.toml"), "--fast", "--answers", str(tmp_path / "couple.txt"),
                     "--model", str(ko_model_path), "--vocab", str(KO_VOCAB), "--events-words", "--events", str(events)])
    assert code == 0
    log = events_of(events)
    prompts = [e["text"] for e in log if e["event"] == "prompt"]
    assert prompts[-1] == NOTHING_PROPOSED
    assert [e["kept"] for e in log if e["event"] == "agreement"] == [False]
    with Journal() as journal:
        [(session, _, _)] = journal.outcomes()
        assert journal.agreements() == [] and journal.steps(session) == ["afspraak"]
