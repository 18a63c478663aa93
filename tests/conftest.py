"""Run folders shared by the report and run-folder tests, built once per session by the real
commands (:mod:`run_folders`). Read-only: a test that changes one works on a copy
(:func:`run_folders.copy_run`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from run_folders import demo_run, separate_run, write_mixture
from tiny_separators import save_tiny

LABELS = "1.0\t3.5\tverse\n6.0\t9.0\tchorus\n"
"""The sung regions of the 12 s mixture of the ``one`` separate run."""
LYRICS = (
    "[Verse 1]\nLove me tender, love me sweet\n\nnever let me go\nYou have made my life complete\n"
)
"""The lyrics text of the ``lyrics`` separate run: three sung lines, 15 words."""


@pytest.fixture(scope="session")
def demo_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``wiass demo`` run: three 3 s songs, BL1, A3.1 and M2 (tiny untrained models)."""
    return demo_run(tmp_path_factory.mktemp("demo") / "run", songs=3, seconds=3.0)


@pytest.fixture(scope="session")
def separate_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``wiass separate`` runs: ``one``, a 12 s 22.05 kHz stereo mixture with an A3.1 model and
    an Audacity label file (output folder = OUT); ``several``, two mixtures with an M2 model
    and a band .npy file (OUT/<stem>/); ``bl1``, one mixture with BL1 (no alignment)."""
    root = tmp_path_factory.mktemp("separate")
    models = save_tiny(root / "models", ("A3.1", "M2", "none"))
    song = write_mixture(root / "mixtures" / "song.wav", 12.0)
    labels = root / "mixtures" / "song labels.txt"
    labels.write_text(LABELS, encoding="utf-8")
    first = write_mixture(root / "mixtures" / "first.wav", 4.0, rate=16000, seed=1)
    second = write_mixture(root / "mixtures" / "second.wav", 3.0, rate=44100, seed=2)
    bands = root / "mixtures" / "bands.npy"
    np.save(bands, np.random.default_rng(3).random((20, 6)).astype(np.float32))
    return {
        "one": separate_run(root / "one", [song], models["A3.1"], "--labels", str(labels)),
        "several": separate_run(
            root / "several", [first, second], models["M2"], "--side-info", str(bands)
        ),
        "bl1": separate_run(root / "bl1", [second], models["none"]),
    }


@pytest.fixture(scope="session")
def lyrics_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``wiass separate --lyrics`` run: a 12 s 22.05 kHz stereo mixture, a tiny untrained
    phonemes model and the lyrics :data:`LYRICS` (output folder = OUT; the mixture and the
    lyrics file in ``mixtures/`` beside it)."""
    root = tmp_path_factory.mktemp("lyrics")
    model = save_tiny(root / "models", ("phonemes",))["phonemes"]
    song = write_mixture(root / "mixtures" / "song.wav", 12.0, seed=4)
    lyrics = root / "mixtures" / "lyrics.txt"
    lyrics.write_text(LYRICS, encoding="utf-8")
    return separate_run(root / "out", [song], model, "--lyrics", str(lyrics))
