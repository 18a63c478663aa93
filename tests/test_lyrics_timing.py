"""Tests of the timed lyrics: JSON form, label and LRC writers, MUSDB18 lyrics annotations,
timings from side-information steps and the word-onset metrics."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from wiass.errors import LyricsError, MetricsError
from wiass.lyrics import (
    LyricLine,
    LyricsTiming,
    TimedPhoneme,
    TimedWord,
    lrc_text,
    lrc_time,
    onset_summary,
    parse_lyrics,
    read_line_annotations,
    read_musdb_lyrics,
    timing_from_json,
    timing_from_steps,
    word_onset_errors,
    write_lrc,
    write_phoneme_labels,
    write_timing_json,
    write_word_labels,
)


def tiny_timing() -> LyricsTiming:
    """Two lines, three words, hand-made times."""
    love = TimedWord(
        "Love",
        0,
        1.23,
        1.61,
        (TimedPhoneme("L", 1.23, 1.3), TimedPhoneme("AH", 1.3, 1.5), TimedPhoneme("V", 1.5, 1.61)),
    )
    me = TimedWord("me", 0, 1.7, 2.0, (TimedPhoneme("M", 1.7, 1.8), TimedPhoneme("IY", 1.8, 2.0)))
    go = TimedWord("go", 1, 62.5, 63.256, (TimedPhoneme("G", 62.5, 62.6),))
    return LyricsTiming(("Love me,", "go!"), (love, me, go))


def test_json_form_and_round_trip():
    timing = tiny_timing()
    data = timing.to_json()
    assert data["lines"] == ["Love me,", "go!"]
    assert data["words"][1] == {
        "text": "me",
        "line": 0,
        "start": 1.7,
        "end": 2.0,
        "phonemes": [
            {"symbol": "M", "start": 1.7, "end": 1.8},
            {"symbol": "IY", "start": 1.8, "end": 2.0},
        ],
    }
    assert timing_from_json(json.loads(json.dumps(data)), "t.json") == timing
    assert timing_from_json({"notes": [], "lines": []}, "old.json") is None
    assert timing.line_spans() == [(1.23, 2.0), (62.5, 63.256)]


def test_write_timing_json(tmp_path):
    path = tmp_path / "song.lyrics.json"
    write_timing_json(path, tiny_timing())
    assert json.loads(path.read_text(encoding="utf-8")) == tiny_timing().to_json()


def good_json() -> dict:
    return tiny_timing().to_json()


def with_change(path: tuple, value) -> dict:
    data = good_json()
    target = data
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([], "expected a JSON object"),
        ({"words": []}, "'lines' must be a list of strings"),
        ({"lines": ["a"], "words": {}}, "'words' must be a list"),
        (with_change(("words", 0, "line"), 2), r"words\[0\]\.line must be a line index"),
        (with_change(("words", 1, "text"), ""), r"words\[1\]\.text"),
        (with_change(("words", 1, "start"), "soon"), r"words\[1\]\.start must be a number"),
        (with_change(("words", 1, "end"), 1.0), r"words\[1\] ends \(1\.0\) before it starts"),
        (with_change(("words", 2, "start"), float("nan")), r"words\[2\]\.start must be finite"),
        (
            with_change(("words", 0, "phonemes", 1, "symbol"), "AH1"),
            r"words\[0\]\.phonemes\[1\]\.symbol 'AH1' is not an ARPAbet phoneme",
        ),
    ],
)
def test_malformed_timing_json_names_source_and_key(data, message):
    with pytest.raises(LyricsError, match=message) as caught:
        timing_from_json(data, "notes.json")
    assert str(caught.value).startswith("notes.json: ")


def test_label_files(tmp_path):
    words, phonemes = tmp_path / "words.txt", tmp_path / "phonemes.txt"
    write_word_labels(words, tiny_timing())
    write_phoneme_labels(phonemes, tiny_timing())
    assert words.read_text(encoding="utf-8") == (
        "1.230000\t1.610000\tLove\n1.700000\t2.000000\tme\n62.500000\t63.256000\tgo\n"
    )
    assert phonemes.read_text(encoding="utf-8") == (
        "1.230000\t1.300000\tL\n1.300000\t1.500000\tAH\n1.500000\t1.610000\tV\n"
        "1.700000\t1.800000\tM\n1.800000\t2.000000\tIY\n62.500000\t62.600000\tG\n"
    )


def test_lrc_files(tmp_path):
    path = tmp_path / "song.lrc"
    write_lrc(path, tiny_timing())
    assert path.read_text(encoding="utf-8") == (
        "[00:01.23] <00:01.23> Love <00:01.70> me <00:02.00>\n[01:02.50] <01:02.50> go <01:03.26>\n"
    )
    write_lrc(path, tiny_timing(), words=False, length=200.4)
    assert path.read_text(encoding="utf-8") == (
        "[length: 3:20]\n[00:01.23]Love me,\n[01:02.50]go!\n"
    )


def test_lrc_times_round_to_hundredths():
    assert lrc_time(0.0) == "00:00.00"
    assert lrc_time(83.456) == "01:23.46"
    assert lrc_time(59.999) == "01:00.00"
    assert lrc_time(6000.0) == "100:00.00"


def test_lrc_leaves_out_lines_without_words():
    timing = LyricsTiming(("sung", "silent"), (TimedWord("sung", 0, 1.0, 2.0),))
    assert lrc_text(timing) == "[00:01.00] <00:01.00> sung <00:02.00>\n"


def test_timing_from_steps():
    lyrics = parse_lyrics("Love me\nTender\n", "two.txt")
    steps = len(lyrics.symbols())
    starts = np.arange(steps, dtype=np.float64)
    timing = timing_from_steps(lyrics, starts, starts + 0.5)
    love, me, tender = timing.words
    assert timing.lines == ("Love me", "Tender")
    assert (love.start, love.end, love.line) == (1.0, 3.5, 0)
    assert [p.symbol for p in love.phonemes] == ["L", "AH", "V"]
    assert (me.start, me.end) == (5.0, 6.5)
    assert (tender.start, tender.end, tender.line) == (8.0, 12.5, 1)
    with pytest.raises(ValueError, match="steps"):
        timing_from_steps(lyrics, starts[:-1], starts[:-1])


MUSDB = (
    "00:12 00:15 a Love me tender\n"
    "\n"
    "* 00:16 00:18 a rejected line\n"
    "00:19 00:20 d\n"
    "01:02.5 01:05 b go, go!\n"
    "01:06 01:08 c (x2)\n"
)


def test_musdb_annotation_lines(tmp_path):
    path = tmp_path / "Artist - Song.txt"
    path.write_text(MUSDB, encoding="utf-8")
    assert read_line_annotations(path) == [
        LyricLine(12.0, 15.0, "a", "Love me tender"),
        LyricLine(16.0, 18.0, "a", "rejected line", rejected=True),
        LyricLine(19.0, 20.0, "d", ""),
        LyricLine(62.5, 65.0, "b", "go, go!"),
        LyricLine(66.0, 68.0, "c", "(x2)"),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("0:12 a love", "expected 'mm:ss mm:ss type lyrics'"),
        ("00:12 00:15 q love", "line type 'q' is not one of a, b, c, d"),
        ("00:12 00:75 a love", "'00:75' has 75 seconds"),
        ("00:15 00:12 a love", "ends .* before it starts"),
    ],
)
def test_malformed_musdb_lines_name_file_and_line(tmp_path, line, message):
    path = tmp_path / "track.txt"
    path.write_text(f"00:01 00:02 a fine\n\n{line}\n", encoding="utf-8")
    with pytest.raises(LyricsError, match=message) as caught:
        read_line_annotations(path)
    assert str(caught.value).startswith(f"{path}:3: ")


def test_musdb_without_lines(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("\n\n", encoding="utf-8")
    with pytest.raises(LyricsError, match="no annotated lines"):
        read_line_annotations(path)


def test_read_musdb_lyrics_inline(tmp_path):
    path = tmp_path / "Artist - Song.txt"
    path.write_text(MUSDB, encoding="utf-8")
    timing = read_musdb_lyrics(path)
    assert timing.lines == ("Love me tender", "go, go!")
    assert [w.text for w in timing.words] == ["Love", "me", "tender", "go", "go"]
    assert timing.line_spans() == [(12.0, 15.0), (62.5, 65.0)]
    love, me, tender = timing.words[:3]
    counts = [len(w.phonemes) for w in (love, me, tender)]
    total = sum(counts)
    assert love.end == pytest.approx(12.0 + 3.0 * counts[0] / total)
    assert me.start == love.end and tender.start == me.end
    for word in timing.words:
        assert word.phonemes[0].start == word.start and word.phonemes[-1].end == word.end


def test_read_musdb_lyrics_pairs_a_separate_text(tmp_path):
    annotations = tmp_path / "times.txt"
    annotations.write_text("00:01 00:03 a\n00:04 00:06 d\n00:07 00:09 a\n", encoding="utf-8")
    text = tmp_path / "lyrics.txt"
    text.write_text("love me\n\nhum\nlet me go\n", encoding="utf-8")
    timing = read_musdb_lyrics(text, annotations)
    assert timing.lines == ("love me", "let me go")
    assert timing.line_spans() == [(1.0, 3.0), (7.0, 9.0)]
    text.write_text("love me\nlet me go\n", encoding="utf-8")
    with pytest.raises(LyricsError, match="2 lyric lines, but .*times.txt annotates 3") as caught:
        read_musdb_lyrics(text, annotations)
    assert str(caught.value).startswith(str(text))


def timing_with_onsets(onsets: list[float]) -> LyricsTiming:
    return LyricsTiming(
        ("x",), tuple(TimedWord(f"w{i}", 0, t, t + 0.1) for i, t in enumerate(onsets))
    )


def test_word_onset_errors_and_summary():
    reference = timing_with_onsets([1.0, 2.0, 3.0, 4.0])
    estimate = timing_with_onsets([1.1, 1.8, 3.5, 4.0])
    errors = word_onset_errors(estimate, reference)
    np.testing.assert_allclose(errors, [0.1, 0.2, 0.5, 0.0], atol=1e-12)
    summary = onset_summary(errors)
    assert summary["mean_abs_error_s"] == pytest.approx(0.2)
    assert summary["median_abs_error_s"] == pytest.approx(0.15)
    assert summary["share_within"] == 0.75
    assert summary["words"] == 4
    assert onset_summary(errors, tolerance=0.15)["share_within"] == 0.5
    empty = onset_summary([])
    assert empty["words"] == 0 and math.isnan(empty["mean_abs_error_s"])


def test_word_onset_errors_need_the_same_words():
    with pytest.raises(MetricsError, match="estimate has 2 words, the reference 3"):
        word_onset_errors(timing_with_onsets([1.0, 2.0]), timing_with_onsets([1.0, 2.0, 3.0]))
