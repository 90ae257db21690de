"""Steps that work with items: naming values, choosing shared ones, and counting turns."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from voicecoach.engine.machine import PICK, split_state
from voicecoach.engine.texts import join, ordinal
from voicecoach.errors import UserError

if TYPE_CHECKING:
    from voicecoach.engine.exercise import Step

log = logging.getLogger(__name__)

LIST_KINDS = ("values", "shared")
MIN_ITEM_SECONDS = 4.0  # a counted turn this short, with nothing typed, named nothing
EXAMPLES = 3  # values named as examples when someone is stuck

DEFAULTS = {
    "ask": "{waarde}. Wat is je {nummer} waarde, {spreker}?",
    "check_values": "{spreker}, ik hoorde: {waarden}. Klopt dat? Zeg {ja}. "
                    "Moet er een anders? Zeg dan {verander}, en die waarde.",
    "check_shared": "Jullie gezamenlijke waarden: {waarden}. Zijn jullie het hier allebei over eens? Zeg {ja}. "
                    "Wil je er een ruilen? Zeg dan {verander}, en die waarde.",
    "which": "Welke waarde wil je veranderen? Zeg er één: {keuze}.",
    "change": "Wat komt er in de plaats van {waarde}?",
    "both": "Jullie kozen allebei: {allebei}.",
    "none": "Jullie kozen geen dezelfde waarden. Dat is heel gewoon: zo vullen jullie elkaar aan.",
    "item": "Wat is de {nummer}, {spreker}? Zeg {klaar} als je klaar bent.",
    "counted": "Dat was de {nummer}.",
}


def propose(one: list[str], two: list[str], count: int) -> list[str]:
    """Shared values: first those both chose, then one from each partner in turn (their highest named first)."""
    chosen = [v for v in one if v in two][:count]
    rest = [[v for v in one if v not in chosen], [v for v in two if v not in chosen]]
    turn = 0
    while len(chosen) < count and any(rest):
        mine = rest[turn % 2]
        while mine and mine[0] in chosen:
            mine.pop(0)
        if mine:
            chosen.append(mine.pop(0))
        turn += 1
    return chosen


class ListSteps:
    """The values, shared and count steps of Session: a mixin, for the size of session.py."""

    if TYPE_CHECKING:  # provided by Session
        lists: dict[str, list[str]]
        target: str | None
        picked: str | None
        counted: int
        empties: int
        conv: Any
        texts: Any
        names: Any
        journal: Any
        session_id: int | None
        activity: Any
        exercise: Any

        @property
        def step(self) -> Step: ...

        @property
        def phase(self) -> str | None: ...

        def _question(self, answers: list[str] | None = None, again: Any = None) -> str | None: ...

        def _turn(self) -> str | None: ...

        def _say(self, text: str, remember: bool = True) -> None: ...

        def _emit(self, kind: str, **fields: Any) -> None: ...

        def _new_activity(self) -> None: ...

    # -- values and shared values ------------------------------------------------

    def _check_lists(self) -> None:
        """A values step needs its list in the vocabulary: say so before anything is spoken."""
        for step in self.exercise.steps:
            name = str(step.extra.get("list", "values"))
            if step.kind == "values" and not self.conv.vocab.lists.get(name):
                raise UserError(f"The vocabulary {self.conv.vocab.source} has no list of {name} for the step "
                                f"{step.id!r}.", f"Add `{name} = [...]` under [lists], as in voicecoach/lang/nl.toml.")

    def _list_key(self, step: Step | None = None) -> str:
        step = step or self.step
        return "shared" if step.kind == "shared" else str(step.speaker)

    def _items(self, step: Step | None = None) -> list[str]:
        return self.lists.setdefault(self._list_key(step), [])

    def _catalogue(self) -> tuple[str, ...]:
        return tuple(self.conv.vocab.lists.get(str(self.step.extra.get("list", "values")), ()))

    def _wanted(self) -> int:
        return int(self.step.extra.get("count", 5 if self.step.kind in LIST_KINDS else 3))

    def _examples(self) -> str:
        taken = set(self._items())
        return join([v for v in self._catalogue() if v not in taken][:EXAMPLES], "of")

    def _list_fill(self, text: str, **extra: Any) -> str:
        items = self._items()
        values = {"waarden": join(items), "keuze": join(items, "of"), "voorbeeld": self._examples(),
                  "waarde": self.target or (items[-1] if items else ""), **extra}
        return self.texts.fill(text, self.step.speaker, **values)

    def _list_prompt(self) -> str:
        step, phase, items = self.step, self.phase, self._items()
        if step.kind == "count":
            if self.empties:
                return self.texts.get("count_empty", step.speaker)
            text = step.text if self.counted == 0 else step.say("item", DEFAULTS["item"], self.counted - 1)
            return self.texts.fill(text, step.speaker, nummer=ordinal(self.counted + 1))
        if phase == "name":
            if not items:
                return self._list_fill(step.text)
            return self._list_fill(step.say("ask", DEFAULTS["ask"], len(items) - 1), waarde=items[-1],
                                   nummer=ordinal(len(items) + 1))
        if phase == "check":
            return self._list_fill(step.say("check", DEFAULTS[f"check_{step.kind}"]))
        return self._list_fill(step.say(phase or "", DEFAULTS.get(phase or "", "")))

    def _list_step(self) -> str | None:
        phase, items = self.phase, self._items()
        if phase == "propose":
            self._propose()
            return "next"
        if phase in ("name", "change"):
            heard = self._question([f"item:{v}" for v in self._catalogue()], self._value_again)
            if heard is None or not heard.startswith("item:"):
                return heard
            return self._take(heard.partition(":")[2])
        if phase == "check":
            answers = ["confirm", "deny", "change", *(f"change:{v}" for v in items), *(f"item:{v}" for v in items)]
            return self._picked(self._question(answers, self._check_again))
        return self._picked(self._question([f"item:{v}" for v in items], self._which_again))  # which

    def _take(self, value: str) -> str | None:
        """A value heard while naming or changing: keep it, or say why not."""
        items = self._items()
        if value in items and value != self.target:
            self._say(self._list_fill(self.texts.common["value_twice"], waarde=value), remember=False)
            return None
        if self.phase == "change":
            self.picked = value
            return PICK
        items.append(value)
        self._emit("value", step=self.step.id, n=len(items))
        if len(items) >= self._wanted():
            self._emit("values_named", step=self.step.id, partner=self.names.of(self.step.speaker),
                       values=list(items))
            return "next"
        self._new_activity()  # the next value gets its own question
        return None

    def _picked(self, heard: str | None) -> str | None:
        if heard == "change":
            return "deny"  # "verander" alone: ask which one
        if heard is not None and ":" in heard:
            self.picked = heard.partition(":")[2]
            return PICK
        return heard

    def _value_again(self, key: str, n: int) -> str:
        return self.texts.nth("value_silence" if key == "silence" else "value_again", n, voorbeeld=self._examples())

    def _check_again(self, key: str, n: int) -> str:
        items = self._items()
        return self.texts.nth("silence" if key == "silence" else "list_again", n, waarde=items[0] if items else "")

    def _which_again(self, key: str, n: int) -> str:
        return self._list_fill(self.texts.common["which_again"])

    def _list_help(self) -> str:
        phase = self.phase
        if phase in ("name", "change"):
            return self.texts.get("value_help", voorbeeld=self._examples(), woorden=self._command_words())
        if phase == "which":
            return self._list_fill(self.texts.common["which_again"])
        items = self._items()
        return self.texts.nth("list_again", 1, waarde=items[0] if items else "")

    def _command_words(self) -> str:
        vocab = self.conv.vocab
        return join([vocab.first(c) for c in ("repeat", "why", "pause", "stop") if c in vocab.intents], "of")

    def _propose(self) -> None:
        one, two = self.lists.get("1", []), self.lists.get("2", [])
        both = [v for v in one if v in two]
        shared = propose(one, two, self._wanted())
        self.lists["shared"] = shared
        self._emit("shared_proposed", step=self.step.id, both=both, proposal=list(shared))
        step = self.step
        opening = step.say("both", DEFAULTS["both"]) if both else step.say("none", DEFAULTS["none"])
        text = self._list_fill(opening, allebei=join(both)) + " " + self._list_fill(step.text, voorstel=join(shared))
        self._say(text.strip())

    # -- machine callbacks -------------------------------------------------------

    def aim(self, event: Any) -> None:
        self.target = self.picked

    def replace_value(self, event: Any) -> None:
        step = self.exercise.step(split_state(event.transition.source)[0])
        items = self._items(step)
        old, new = self.target, self.picked
        if old in items and new is not None:
            items[items.index(old)] = new
        self._emit("value_changed", step=step.id, old=old, new=new)
        self.target = self.picked = None

    def keep_values(self, event: Any) -> None:
        step = self.exercise.step(split_state(event.transition.source)[0])
        items = list(self._items(step))
        partner = "samen" if step.kind == "shared" else self.names.of(step.speaker)
        self._emit("values_confirmed", step=step.id, partner=partner, values=items)
        if self.journal is None or self.session_id is None:
            return
        if step.kind == "shared":
            self.journal.set_shared_values(self.session_id, items, None)
            # After a resume the partners' lists were confirmed in an earlier session: keep the map whole.
            for own in (s for s in self.exercise.steps if s.kind == "values" and self._items(s)):
                self.journal.set_values(self.session_id, self.names.of(own.speaker), list(self._items(own)))
        else:
            self.journal.set_values(self.session_id, partner, items)

    # -- counting ----------------------------------------------------------------

    def _count_step(self) -> str | None:
        trigger = self._turn()
        if trigger != "next":
            return trigger
        step, a = self.step, self.activity
        spoke = bool(a.said) or self.conv.clock.now() - a.started >= MIN_ITEM_SECONDS
        if not spoke:
            self.empties += 1
            if self.empties < 2:
                self._new_activity()  # once more, gently; a second empty turn means they are done
                return None
            self._say(self.texts.get("count_stop_early", step.speaker), remember=False)
            return self._count_done()
        self.empties = 0
        self.counted += 1
        self._emit("counted", step=step.id, partner=self.names.of(step.speaker), n=self.counted)
        said = step.say("counted", DEFAULTS["counted"], self.counted - 1)
        self._say(self.texts.fill(said, step.speaker, nummer=ordinal(self.counted)), remember=False)
        if self.counted < self._wanted():
            self._new_activity()
            return None
        return self._count_done()

    def _count_done(self) -> str:
        step = self.step
        partner = self.names.of(step.speaker)
        if step.extra.get("keep") == "gratitude":
            self._emit("gratitude", step=step.id, partner=partner, count=self.counted)
            if self.journal is not None and self.session_id is not None:
                self.journal.gratitude(self.session_id, partner, self.counted)
        return "next"
