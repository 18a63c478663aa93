"""The loadable separator: an ``nn.Module`` from waveforms to waveforms, its checkpoints, and
``wiass.separate`` as a thin wrapper around it."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from tiny_separators import MODEL_RATE, noise, save_tiny, tiny_config

import wiass
from wiass.errors import CheckpointError
from wiass.model import InformedSeparator
from wiass.separator import (
    NonFiniteOutputError,
    Separator,
    build_model,
    load_separator,
    ratio_mask,
    save_separator,
    separator_payload,
)
from wiass.training import SeparatorModule


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, Path]:
    return save_tiny(tmp_path_factory.mktemp("models"), ("none", "A3.1"))


def test_a_separator_is_a_module_from_waveforms_to_waveforms(checkpoints):
    separator = load_separator(checkpoints["A3.1"])
    assert isinstance(separator, torch.nn.Module) and not separator.training
    assert isinstance(separator.model, InformedSeparator)
    assert set(separator.state_dict()) == {f"model.{k}" for k in separator.model.state_dict()}
    audio = torch.from_numpy(np.stack([noise(2, 1.0, MODEL_RATE, seed) for seed in (1, 2)]))
    side = torch.tensor([[0.0, 1.0, 1.0, 0.0, 1.0]]).repeat(2, 1)[..., None]
    with torch.inference_mode():
        vocals, attention = separator(audio, side)
    assert vocals.shape == audio.shape and vocals.dtype == torch.float32
    assert attention.shape == (2, separator.stft.n_frames(audio.shape[-1]), 5)
    torch.testing.assert_close(attention.sum(dim=-1), torch.ones(attention.shape[:2]))
    assert not torch.allclose(vocals[0], vocals[1])
    assert separator.to("cpu") is separator and separator.device == torch.device("cpu")


def test_the_mask_is_the_clipped_ratio_and_zero_on_silent_bins():
    mixture = torch.tensor([[[0.0, 1.0, 2.0, 4.0]]])
    estimate = torch.tensor([[[0.5, 0.5, 3.0, 1.0]]])
    torch.testing.assert_close(
        ratio_mask(estimate, mixture), torch.tensor([[[0.0, 0.5, 1.0, 0.25]]])
    )


def test_separate_on_one_chunk_is_the_separators_forward(checkpoints):
    separator = load_separator(checkpoints["none"])
    mixture = noise(2, 2.0, MODEL_RATE, seed=4)
    result = wiass.separate(
        mixture, MODEL_RATE, separator, chunk_seconds=math.inf, precision="32-true"
    )
    with torch.inference_mode():
        vocals, attention = separator(torch.from_numpy(mixture)[None])
    np.testing.assert_array_equal(result.vocals, vocals[0].numpy())
    np.testing.assert_array_equal(result["accompaniment"], mixture - vocals[0].numpy())
    assert result.attention is None and attention is None
    assert result.frame_pool == 1 and dict(result)["sample_rate"] == MODEL_RATE


def test_non_finite_output_is_an_error(checkpoints):
    separator = load_separator(checkpoints["none"])
    separator.model.input_scale.fill_(3e38)  # finite, but the scaled input overflows
    with pytest.raises(NonFiniteOutputError, match="none.pt: the model gave non-finite output"):
        separator(torch.from_numpy(noise(1, 0.5, MODEL_RATE))[None])


def test_training_builds_the_network_the_checkpoint_restores(tmp_path):
    config = tiny_config("A3.1")
    module = SeparatorModule(config.to_dict())
    path = tmp_path / "model.pt"
    save_separator(path, module.model, config)
    loaded = load_separator(path)
    assert type(loaded.model) is type(build_model(config))
    assert str(loaded.model) == str(module.model)
    for name, value in module.model.state_dict().items():
        torch.testing.assert_close(loaded.model.state_dict()[name], value)


def test_a_checkpoint_whose_sizes_do_not_fit_its_config_is_damaged(checkpoints, tmp_path):
    payload = separator_payload(load_separator(checkpoints["A3.1"]).model, tiny_config("A3.1"))
    payload["side_dim"] = 6
    damaged = tmp_path / "damaged.pt"
    torch.save(payload, damaged)
    with pytest.raises(CheckpointError, match="damaged wiass checkpoint"):
        load_separator(damaged)


def test_separator_keeps_the_source_and_properties(checkpoints):
    separator = Separator(build_model(tiny_config("A3.1")), tiny_config("A3.1"), source="mine")
    assert separator.source == "mine" and separator.side_info_kind == "A3.1"
    assert separator.kind.name == "A3.1" and separator.sample_rate == MODEL_RATE


def test_exports_are_lazy_and_separate_is_the_function(checkpoints):
    code = (
        "import sys, numpy as np, wiass\n"
        "assert 'torch' not in sys.modules\n"
        "from wiass.inference import SeparationResult, separate\n"
        "assert wiass.separate is separate and callable(wiass.separate)\n"
        "import wiass.inference.api as api\n"
        "assert api.separate is separate\n"
        f"model = wiass.load_separator({str(checkpoints['none'])!r})\n"
        "x = np.random.default_rng(0).standard_normal(4000).astype(np.float32)\n"
        "result = wiass.separate(x, 8000, model)\n"
        "assert isinstance(result, SeparationResult)\n"
        "assert result['vocals'].shape == result.vocals.shape == (1, 4000)\n"
        "print('ok')\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "ok"
