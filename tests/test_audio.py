"""Tests of wiass.audio: reading, writing, resampling and every bad-file path."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from wiass.audio import (
    audio_info,
    check_audio,
    read_audio,
    read_excerpt,
    resample,
    wav_header_frames,
    write_audio,
)
from wiass.errors import AudioError, OutputError, WiassWarning


def _tone(seconds: float, rate: int, channels: int = 2, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    mono = 0.5 * np.sin(2 * np.pi * freq * t)
    return np.stack([mono * (c + 1) / channels for c in range(channels)]).astype(np.float32)


def _one_line(exc: pytest.ExceptionInfo, name: str) -> str:
    message = str(exc.value)
    assert "\n" not in message
    assert name in message
    return message


@pytest.mark.parametrize("suffix,subtype,tol", [(".wav", "FLOAT", 0), (".flac", "PCM_24", 1e-6)])
def test_write_read_roundtrip(tmp_path, suffix, subtype, tol):
    audio = _tone(0.5, 8000)
    path = tmp_path / f"x{suffix}"
    assert write_audio(path, audio, 8000, subtype=subtype) == path
    back, rate = read_audio(path)
    assert rate == 8000
    assert back.dtype == np.float32 and back.shape == audio.shape
    np.testing.assert_allclose(back, audio, atol=tol)
    assert audio_info(path) == (8000, 2, audio.shape[1])


def test_ogg_roundtrip(tmp_path):
    audio = _tone(0.5, 16000, channels=1)
    write_audio(tmp_path / "x.ogg", audio, 16000)
    back, rate = read_audio(tmp_path / "x.ogg")
    assert rate == 16000 and back.shape[0] == 1
    assert abs(back.shape[1] - audio.shape[1]) < 100


def test_mono_file_gives_one_channel(tmp_path):
    sf.write(tmp_path / "m.wav", np.linspace(-0.5, 0.5, 100), 8000, subtype="FLOAT")
    back, _ = read_audio(tmp_path / "m.wav")
    assert back.shape == (1, 100)


def test_pcm16_clips_and_quantises(tmp_path):
    audio = np.array([[0.0, 0.25, 2.0, -3.0]], dtype=np.float32)
    write_audio(tmp_path / "c.wav", audio, 8000)
    back, _ = read_audio(tmp_path / "c.wav")
    np.testing.assert_allclose(back, [[0.0, 0.25, 32767 / 32768, -1.0]], atol=1e-6)


def test_write_is_atomic_and_leaves_no_temporary(tmp_path):
    write_audio(tmp_path / "a.wav", _tone(0.1, 8000), 8000)
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]


def test_write_bad_audio_leaves_previous_file(tmp_path):
    path = tmp_path / "a.wav"
    write_audio(path, _tone(0.1, 8000), 8000)
    before = path.read_bytes()
    with pytest.raises(AudioError) as exc:
        write_audio(path, np.full((2, 10), np.nan, dtype=np.float32), 8000)
    _one_line(exc, "a.wav")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]


def test_write_unsupported_extension_and_subtype(tmp_path):
    with pytest.raises(OutputError) as exc:
        write_audio(tmp_path / "a.mp4", _tone(0.1, 8000), 8000)
    _one_line(exc, "a.mp4")
    with pytest.raises(OutputError) as exc:
        write_audio(tmp_path / "a.flac", _tone(0.1, 8000), 8000, subtype="FLOAT")
    assert "FLOAT" in _one_line(exc, "a.flac")
    assert list(tmp_path.iterdir()) == []


def test_read_resamples_with_soxr(tmp_path):
    audio = _tone(1.0, 8000, freq=200.0)
    write_audio(tmp_path / "a.wav", audio, 8000, subtype="FLOAT")
    back, rate = read_audio(tmp_path / "a.wav", sample_rate=16000)
    assert rate == 16000 and back.shape == (2, 16000)
    expected = _tone(1.0, 16000, freq=200.0)
    np.testing.assert_allclose(back[:, 200:-200], expected[:, 200:-200], atol=1e-3)


def test_resample_shapes_and_identity():
    audio = _tone(0.5, 44100)
    out = resample(audio, 44100, 16000)
    assert out.dtype == np.float32 and out.shape == (2, 8000)
    np.testing.assert_array_equal(resample(audio, 8000, 8000), audio)
    assert resample(audio[0], 44100, 22050).shape == (1, audio.shape[1] // 2)
    with pytest.raises(ValueError):
        resample(audio, 0, 8000)


def test_read_excerpt_middle_and_past_end(tmp_path):
    audio = _tone(0.25, 8000)
    write_audio(tmp_path / "a.wav", audio, 8000, subtype="FLOAT")
    np.testing.assert_array_equal(read_excerpt(tmp_path / "a.wav", 100, 50), audio[:, 100:150])
    tail = read_excerpt(tmp_path / "a.wav", 1990, 30)
    assert tail.shape == (2, 30)
    np.testing.assert_array_equal(tail[:, :10], audio[:, 1990:])
    assert not tail[:, 10:].any()
    assert not read_excerpt(tmp_path / "a.wav", 5000, 7).any()
    with pytest.raises(ValueError):
        read_excerpt(tmp_path / "a.wav", -1, 7)


def test_missing_file(tmp_path):
    for call in (read_audio, audio_info, lambda p: read_excerpt(p, 0, 10)):
        with pytest.raises(AudioError) as exc:
            call(tmp_path / "nope.wav")
        assert "no such file" in _one_line(exc, "nope.wav")


def test_folder_instead_of_file(tmp_path):
    (tmp_path / "dir.wav").mkdir()
    with pytest.raises(AudioError) as exc:
        read_audio(tmp_path / "dir.wav")
    assert "folder" in _one_line(exc, "dir.wav")


def test_corrupt_file(tmp_path):
    path = tmp_path / "corrupt.wav"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4000, dtype=np.uint8).tobytes())
    for call in (read_audio, audio_info):
        with pytest.raises(AudioError) as exc:
            call(path)
        assert "not a readable audio file" in _one_line(exc, "corrupt.wav")


def test_zero_byte_file(tmp_path):
    (tmp_path / "zero.wav").write_bytes(b"")
    with pytest.raises(AudioError) as exc:
        read_audio(tmp_path / "zero.wav")
    _one_line(exc, "zero.wav")


def test_wav_without_samples(tmp_path):
    sf.write(tmp_path / "empty.wav", np.zeros((0, 2), dtype=np.float32), 8000)
    for call in (read_audio, audio_info):
        with pytest.raises(AudioError) as exc:
            call(tmp_path / "empty.wav")
        assert "no samples" in _one_line(exc, "empty.wav")


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_non_finite_float_wav(tmp_path, bad):
    audio = _tone(0.1, 8000).T.copy()
    audio[123, 1] = bad
    sf.write(tmp_path / "nan.wav", audio, 8000, subtype="FLOAT")
    with pytest.raises(AudioError) as exc:
        read_audio(tmp_path / "nan.wav")
    message = _one_line(exc, "nan.wav")
    assert "non-finite" in message and "sample 123" in message
    with pytest.raises(AudioError):
        read_excerpt(tmp_path / "nan.wav", 100, 50)
    np.testing.assert_array_equal(read_excerpt(tmp_path / "nan.wav", 0, 100), audio[:100].T)


def test_silent_file_refused_only_when_asked(tmp_path):
    sf.write(tmp_path / "silent.wav", np.zeros((800, 2), dtype=np.float32), 8000)
    audio, _ = read_audio(tmp_path / "silent.wav")
    assert audio.shape == (2, 800) and not audio.any()
    with pytest.raises(AudioError) as exc:
        read_audio(tmp_path / "silent.wav", allow_silent=False)
    assert "silent" in _one_line(exc, "silent.wav")


def test_check_audio():
    out = check_audio(np.arange(5, dtype=np.float64), "x")
    assert out.shape == (1, 5) and out.dtype == np.float32
    for bad, word in [
        (np.zeros((2, 0)), "no samples"),
        (np.zeros((1, 2, 3)), "shape"),
        (np.array([[1.0, np.nan]]), "non-finite"),
        (np.array([["a", "b"]]), "dtype"),
    ]:
        with pytest.raises(AudioError) as exc:
            check_audio(bad, "my input")
        assert word in _one_line(exc, "my input")
    with pytest.raises(AudioError):
        check_audio(np.zeros((2, 4)), "quiet", allow_silent=False)


def test_a_truncated_wav_is_read_as_far_as_it_goes_with_a_warning(tmp_path, recwarn):
    audio = _tone(1.0, 8000)
    full = tmp_path / "full.wav"
    sf.write(full, audio.T, 8000, subtype="PCM_16")
    assert wav_header_frames(full) == 8000
    audio_info(full)
    read_audio(full)
    assert not recwarn.list
    cut = tmp_path / "cut.wav"
    data = full.read_bytes()
    cut.write_bytes(data[: len(data) - 4 * 3000])  # 3000 stereo 16-bit frames missing
    with pytest.warns(WiassWarning, match="cut.wav: the WAV header promises 8000 samples"):
        assert audio_info(cut) == (8000, 2, 5000)
    with pytest.warns(WiassWarning, match="the file holds 5000 .truncated.*using the 5000"):
        back, _ = read_audio(cut)
    np.testing.assert_allclose(back, audio[:, :5000], atol=1e-4)


def test_wav_header_frames_of_other_files(tmp_path):
    flac = tmp_path / "x.flac"
    sf.write(flac, _tone(0.1, 8000).T, 8000)
    assert wav_header_frames(flac) is None
    streamed = tmp_path / "streamed.wav"
    sf.write(streamed, _tone(0.1, 8000).T, 8000, subtype="PCM_16")
    data = bytearray(streamed.read_bytes())
    at = data.index(b"data")
    data[at + 4 : at + 8] = (0xFFFFFFFF).to_bytes(4, "little")  # "unknown", as streams write
    streamed.write_bytes(bytes(data))
    assert wav_header_frames(streamed) is None
