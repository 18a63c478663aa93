"""What a run's scores say, in words and tables: the sentences, tables and marks of the report
and of ``wiass demo``'s printout.

Everything here reads the scores of a :class:`wiass.runs.Run` (dB; None where undefined) and
is only used for runs that have scores (``run.scores`` is not None). The word timing of a
system with lyrics is scored from the files (:func:`word_onsets`): the found timing in its
output folder's ``lyrics.json``, the true timing in the ``lyrics.json`` beside a track's true
vocals (``wiass demo`` writes it there).
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from wiass.data.tracks import track_lyrics
from wiass.errors import MetricsError
from wiass.lyrics import ONSET_TOLERANCE_S, LyricsTiming, onset_summary, word_onset_errors
from wiass.runs import METRICS, TABLE_STATISTIC, Run, System, Track

LOWER_IS_BETTER = frozenset({"PES", "EPS"})
METRIC_LEGEND = (
    "SDR, SIR, SAR: BSSEval v4 signal-to-distortion, -interference and -artifact ratios, median "
    "over tracks, dB, higher is better. PES: energy of the estimate where the true vocals are "
    "silent; EPS: energy of the true vocals where the estimate is silent; mean over tracks, dB, "
    "lower is better."
)
KIND_PHRASES = {
    "none": "no side information",
    "random": "meaningless random side information",
    "A1": "frame-aligned vocal-activity information",
    "A2": "coarse vocal-activity information",
    "A3.1": "vocal-activity information",
    "A3.2": "time-warped vocal-activity information",
    "M1": "frame-aligned vocal-magnitude information",
    "M2": "coarse vocal-magnitude information",
    "phonemes": "the lyrics as text",
}
_CHANGE_DB = 0.05
"""Differences smaller than this (dB) are reported as no change."""
_TIE_DB = 0.005
"""Values closer than this (dB) print the same with two decimals and count as equal."""
FLOOR_DB = -120.0
"""``10 log10(0 + 1e-12)``: the level of an exactly silent signal, the lowest PES/EPS can be."""


def format_db(value: float | None, digits: int = 2) -> str:
    """``value`` with a typographic minus, or an em dash where it is undefined."""
    if value is None:
        return "—"
    return f"{value:.{digits}f}".replace("-", "−")


def kind_phrase(system: System) -> str:
    """A few words on what side information a system gets (e.g. 'vocal-activity information')."""
    return KIND_PHRASES.get(system.kind, f"{system.kind} side information")


def table_value(run: Run, system: str, metric: str) -> float | None:
    """The value of ``metric`` in the summary table: median (SDR/SIR/SAR) or mean (PES/EPS)."""
    return _summary(run)[system][metric].get(TABLE_STATISTIC[metric])


def _better(value: float, base: float, metric: str) -> bool:
    """Whether ``value`` beats ``base`` on ``metric`` by more than _CHANGE_DB."""
    diff = value - base
    return diff < -_CHANGE_DB if metric in LOWER_IS_BETTER else diff > _CHANGE_DB


def song_count(run: Run, system: str, baseline: str, metric: str) -> tuple[int, int]:
    """``(better, songs)``: on how many songs ``system`` beats ``baseline`` on ``metric`` (by
    more than _CHANGE_DB), of the songs where both values are defined."""
    pairs = [
        (_scores(run)[system][t.name][metric], _scores(run)[baseline][t.name][metric])
        for t in run.tracks
    ]
    defined = [(v, b) for v, b in pairs if v is not None and b is not None]
    return sum(_better(v, b, metric) for v, b in defined), len(defined)


def songs_phrase(count: tuple[int, int], metric: str) -> str:
    """'lower on 2 of 3 songs' (PES/EPS) or 'higher on all 3 songs' (SDR...); '' for < 2 songs."""
    better, songs = count
    if songs < 2:
        return ""
    direction = "lower" if metric in LOWER_IS_BETTER else "higher"
    if better == songs:
        return f"{direction} on {'both' if songs == 2 else f'all {songs}'} songs"
    if better == 0:
        return f"{direction} on none of the {songs} songs"
    return f"{direction} on {better} of {songs} songs"


def _numbers(label: str, value: float, base: float, count: tuple[int, int], metric: str) -> str:
    """'(PES −92.5 vs −84.5 dB; lower on 2 of 3 songs)' (one decimal for PES/EPS, two else)."""
    digits = 1 if metric in LOWER_IS_BETTER else 2
    songs = songs_phrase(count, metric)
    return (
        f"({label}{format_db(value, digits)} vs {format_db(base, digits)} dB"
        f"{'; ' + songs if songs else ''})"
    )


def _pes_clause(
    value: float | None, base: float | None, baseline: str, count: tuple[int, int]
) -> str:
    if value is None or base is None:
        return (
            f"its energy where the voice is silent (PES) cannot be compared with {baseline} "
            "(undefined: no silent vocal frames)"
        )
    diff = value - base
    numbers = _numbers("PES ", value, base, count, "PES")
    if abs(diff) < _CHANGE_DB:
        return (
            f"the estimate puts as much energy as {baseline} into the parts where the voice is "
            f"silent {numbers}"
        )
    more_less = "less" if diff < 0 else "more"
    return (
        f"the estimate puts {abs(diff):.1f} dB {more_less} energy than {baseline} into the parts "
        f"where the voice is silent {numbers}"
    )


def _sdr_clause(
    value: float | None, base: float | None, count: tuple[int, int], subject: str = "the"
) -> str:
    if value is None or base is None:
        return f"{subject} median SDR cannot be compared (undefined)"
    diff = value - base
    numbers = _numbers("", value, base, count, "SDR")
    if abs(diff) < _CHANGE_DB:
        return f"{subject} median SDR is unchanged {numbers}"
    verb = "rises" if diff > 0 else "drops"
    return f"{subject} median SDR {verb} by {abs(diff):.2f} dB {numbers}"


def summary_sentences(run: Run) -> list[str]:
    """One sentence per informed system on what its side information changed against BL1,
    with the number of songs on which it did better.

    Without a baseline in the run, each system's own PES and SDR are stated instead.
    """
    baseline = run.baseline
    sentences = []
    for system in run.systems:
        if not system.informed:
            continue
        pes, sdr = table_value(run, system.name, "PES"), table_value(run, system.name, "SDR")
        opening = f"With {kind_phrase(system)} ({system.name}), "
        if baseline is None:
            sentences.append(
                f"{opening}the estimate has a median SDR of {format_db(sdr)} dB and a PES of "
                f"{format_db(pes, 1)} dB."
            )
            continue
        base = baseline.name
        pes_clause = _pes_clause(
            pes, table_value(run, base, "PES"), base, song_count(run, system.name, base, "PES")
        )
        sdr_clause = _sdr_clause(
            sdr, table_value(run, base, "SDR"), song_count(run, system.name, base, "SDR")
        )
        sentences.append(f"{opening}{pes_clause}, and {sdr_clause}.")
    if not sentences:
        sentences.append(
            "No system in this run received side information; the table compares them."
        )
    return sentences


def _leader(run: Run, metric: str, names: Sequence[str]) -> str | None:
    """The system among ``names`` with the best defined table value of ``metric``."""
    values = {n: v for n in names if (v := table_value(run, n, metric)) is not None}
    if not values:
        return None
    pick = min if metric in LOWER_IS_BETTER else max
    return pick(values, key=lambda name: values[name])


def _sdr_spread(run: Run) -> str:
    """How far apart the systems' median SDRs are, e.g. 'the median SDR differs by at most
    0.91 dB between systems (9.80 to 10.70 dB; highest: M2)'."""
    names = [s.name for s in run.systems]
    values = [v for name in names if (v := table_value(run, name, "SDR")) is not None]
    if not values:
        return "the median SDR is undefined for every system"
    low, high = min(values), max(values)
    if len(values) == 1 or high - low < _CHANGE_DB:
        return f"the median SDR is the same for every system ({format_db(high)} dB)"
    return (
        f"the median SDR differs by at most {high - low:.2f} dB between systems "
        f"({format_db(low)} to {format_db(high)} dB; highest: {_leader(run, 'SDR', names)})"
    )


def _pes_lead(run: Run) -> str:
    """Which informed system leaks least into the pauses (lowest PES), by how much against
    the baseline and on how many songs; the lowest PES of all where there is nothing to
    compare."""
    baseline = run.baseline
    best = _leader(run, "PES", [s.name for s in run.systems if s.informed])
    base_pes = None if baseline is None else table_value(run, baseline.name, "PES")
    pes = None if best is None else table_value(run, best, "PES")
    if baseline is None or best is None or pes is None or base_pes is None:
        leader = _leader(run, "PES", [s.name for s in run.systems])
        if leader is None:
            return "PES is undefined for every system (no silent vocal frames)"
        value = format_db(table_value(run, leader, "PES"), 1)
        return f"{leader} leaks least into the pauses (PES {value} dB)"
    base = baseline.name
    numbers = _numbers("PES ", pes, base_pes, song_count(run, best, base, "PES"), "PES")
    diff = pes - base_pes
    if diff < -_CHANGE_DB:
        return (
            f"{best} leaks least into the pauses: {-diff:.1f} dB less energy than {base} where "
            f"the voice is silent {numbers}"
        )
    if diff > _CHANGE_DB:
        return (
            f"No side information lowers the energy where the voice is silent below {base}'s: "
            f"the best informed system, {best}, puts {diff:.1f} dB more there {numbers}"
        )
    return f"{best} leaks as much as {base} into the pauses {numbers}"


def reading(run: Run) -> str:
    """The run in one sentence, from its numbers: the informed system that leaks least into the
    pauses (lowest PES), by how much against the baseline and on how many songs, and how far
    apart the systems' median SDRs are."""
    return f"{_pes_lead(run)}; {_sdr_spread(run)}."


@dataclass(frozen=True)
class SongCount:
    """'2 of 3': on how many songs a system beats the baseline on one metric; ``mixed`` when
    the songs do not all go the same way."""

    text: str
    mixed: bool


def song_table(run: Run) -> dict[str, list[SongCount]]:
    """Per informed system and metric: on how many songs it beats the baseline.

    Empty without a baseline or with fewer than two songs.
    """
    baseline = run.baseline
    if baseline is None or len(run.tracks) < 2:
        return {}
    table = {}
    for system in run.systems:
        if system.informed:
            counts = [song_count(run, system.name, baseline.name, m) for m in METRICS]
            table[system.name] = [
                SongCount(f"{better} of {songs}" if songs else "—", 0 < better < songs)
                for better, songs in counts
            ]
    return table


@dataclass(frozen=True)
class Cell:
    """One metric cell of a table: formatted text, whether it is the best of its column, and
    whether every value of its column is the same (so none is best)."""

    text: str
    best: bool
    tie: bool = False


def _is_tie(values: Sequence[float | None]) -> bool:
    """Whether at least two values are defined and all defined ones print the same."""
    defined = [v for v in values if v is not None]
    return len(defined) >= 2 and max(defined) - min(defined) < _TIE_DB


def _best_flags(values: Sequence[float | None], lower_is_better: bool) -> list[bool]:
    """Which values are the best of a column; none when fewer than two values are defined or
    when they are all the same."""
    defined = [v for v in values if v is not None]
    if len(defined) < 2 or _is_tie(values):
        return [False] * len(values)
    best = min(defined) if lower_is_better else max(defined)
    return [v is not None and abs(v - best) < _TIE_DB for v in values]


def tie_note(metric: str, values: Sequence[float | None]) -> str | None:
    """A sentence for a column in which every system has the same value, else None."""
    if not _is_tie(values):
        return None
    value = min(v for v in values if v is not None)
    if value <= FLOOR_DB + _TIE_DB:
        return (
            f"{metric}: every system is at {format_db(FLOOR_DB)} dB, the floor (an exactly "
            "silent signal), so this column does not tell them apart."
        )
    return (
        f"{metric}: every system has {format_db(value)} dB, so this column does not tell them "
        "apart."
    )


def metric_rows(values: Mapping[str, Mapping[str, float | None]]) -> dict[str, list[Cell]]:
    """``values[row][metric]`` as formatted cells per row, with the best value per column marked
    (none in a column where all values are the same)."""
    rows = list(values)
    cells: dict[str, list[Cell]] = {row: [] for row in rows}
    for metric in METRICS:
        column = [values[row][metric] for row in rows]
        tie = _is_tie(column)
        for row, value, best in zip(
            rows, column, _best_flags(column, metric in LOWER_IS_BETTER), strict=True
        ):
            cells[row].append(Cell(format_db(value), best, tie))
    return cells


def summary_values(run: Run) -> dict[str, dict[str, float | None]]:
    """``values[system][metric]``: the summary table's numbers."""
    return {s.name: {m: table_value(run, s.name, m) for m in METRICS} for s in run.systems}


def _statistics_legend() -> str:
    """'SDR, SIR, SAR: median over songs, higher is better. PES, EPS: mean ...' from
    TABLE_STATISTIC and LOWER_IS_BETTER."""
    groups: dict[tuple[str, bool], list[str]] = {}
    for metric in METRICS:
        groups.setdefault((TABLE_STATISTIC[metric], metric in LOWER_IS_BETTER), []).append(metric)
    return " ".join(
        f"{', '.join(metrics)}: {statistic} over songs, {'lower' if lower else 'higher'} is better."
        for (statistic, lower), metrics in groups.items()
    )


def text_table(run: Run, width: int = 100) -> str:
    """The summary table as plain text for a terminal, the best of each column marked *,
    followed by what the columns mean and any column that does not tell the systems apart
    (lines wrapped at ``width``)."""
    values = summary_values(run)
    cells = metric_rows(values)
    name_width = max(len("system"), *(len(name) for name in values))
    lines = [
        f"Scores over {len(run.tracks)} song{'s' if len(run.tracks) != 1 else ''}, vocals, dB:",
        f"{'system':<{name_width}}" + "".join(f"{m:>10}" for m in METRICS),
    ]
    for name, row in cells.items():
        numbers = [
            "n/a " if v is None else f"{v:.2f}{'*' if c.best else ' '}"
            for v, c in zip(values[name].values(), row, strict=True)
        ]
        lines.append((f"{name:<{name_width}}" + "".join(f"{n:>10}" for n in numbers)).rstrip())
    notes = [tie_note(m, [values[n][m] for n in values]) for m in METRICS]
    legend = " ".join(
        [_statistics_legend(), "Marked *: the best of each column.", *filter(None, notes)]
    )
    lines += textwrap.wrap(legend, width)
    return "\n".join(lines)


def _scores(run: Run) -> dict[str, dict[str, dict[str, float | None]]]:
    if run.scores is None:
        raise ValueError(f"{run.root}: the run has no scores")
    return run.scores


def _summary(run: Run) -> dict[str, dict[str, dict[str, float | None]]]:
    if run.summary is None:
        raise ValueError(f"{run.root}: the run has no scores")
    return run.summary


# --------------------------------------------------------------------------- word timing


def true_lyrics(run: Run, track: Track) -> LyricsTiming | None:
    """The true timed lyrics of a track: ``lyrics.json`` beside its true vocals, where known."""
    if track.vocals is None:
        return None
    return track_lyrics(run.path(track.vocals).parent)


def found_lyrics(folder: Path) -> LyricsTiming | None:
    """The timed lyrics a separation found: ``lyrics.json`` of its output ``folder``, if any."""
    return track_lyrics(folder) if (folder / "lyrics.json").is_file() else None


def song_onsets(found: LyricsTiming | None, truth: LyricsTiming | None) -> dict[str, float] | None:
    """:func:`wiass.lyrics.onset_summary` of one song's found word onsets against the true ones;
    None when either is missing, has no words, or they do not time the same words."""
    if found is None or truth is None or not truth.words:
        return None
    if [w.text.lower() for w in found.words] != [w.text.lower() for w in truth.words]:
        return None
    try:
        return onset_summary(word_onset_errors(found, truth), ONSET_TOLERANCE_S)
    except MetricsError:
        return None


@dataclass(frozen=True)
class WordOnsets:
    """How well a system timed the words, in the Jamendo/MIREX protocol: per song the mean and
    median absolute word-onset error (s) and the share of onsets within
    :data:`~wiass.lyrics.ONSET_TOLERANCE_S`, then the mean over ``songs``; ``words`` in all."""

    mean_s: float
    median_s: float
    share_within: float
    songs: int
    words: int


def word_onsets(run: Run) -> dict[str, WordOnsets]:
    """For every system that found the timing of lyrics whose true timing the run knows: its
    :class:`WordOnsets` over the songs where both are there (systems without any are left
    out)."""
    result = {}
    truths = {track.name: true_lyrics(run, track) for track in run.tracks}
    for system in run.systems:
        songs = [
            summary
            for track in run.tracks
            if (
                summary := song_onsets(
                    found_lyrics(run.output_dir(track, system.name)), truths[track.name]
                )
            )
            is not None
        ]
        if songs:
            result[system.name] = WordOnsets(
                mean_s=float(np.mean([s["mean_abs_error_s"] for s in songs])),
                median_s=float(np.mean([s["median_abs_error_s"] for s in songs])),
                share_within=float(np.mean([s["share_within"] for s in songs])),
                songs=len(songs),
                words=int(sum(s["words"] for s in songs)),
            )
    return result


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def onset_sentence(system: System, onsets: WordOnsets) -> str:
    """What a system's word timing came to, in one sentence."""
    over = (
        f"over {_count(onsets.words, 'word')}"
        if onsets.songs == 1
        else f"mean over {onsets.songs} songs, {_count(onsets.words, 'word')}"
    )
    return (
        f"From {kind_phrase(system)} alone, {system.name} found the words with a mean onset "
        f"error of {onsets.mean_s:.2f} s (median {onsets.median_s:.2f} s), "
        f"{100 * onsets.share_within:.0f} % of the onsets within {ONSET_TOLERANCE_S:g} s of "
        f"the true ones ({over})."
    )


def onset_sentences(run: Run) -> list[str]:
    """:func:`onset_sentence` of every system of the run with scored word timing."""
    onsets = word_onsets(run)
    return [onset_sentence(s, onsets[s.name]) for s in run.systems if s.name in onsets]
