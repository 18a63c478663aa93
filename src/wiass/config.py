"""Configuration: typed dataclasses read from YAML presets, with clear errors.

A config has five sections (``audio``, ``side_info``, ``data``, ``model``, ``train``). Presets live
in ``wiass/configs/*.yaml`` (the repository's ``configs/`` points there); ``load_config`` takes a
preset name (``small``) or a path to a YAML file. Unknown keys, wrong types and impossible values
(NaN, negative sizes, ...) are a :class:`~wiass.errors.ConfigError` naming the file and the key.

Inheritance: a YAML file may name its base (``base: small``, or a path relative to the file's
folder) and hold only what it changes; its keys are merged section by section over the base's
(a list such as ``rate_range`` is replaced whole). A file without ``base:`` is merged over the
dataclass defaults below. So a two-line file::

    base: small
    train: {precision: 32-true}

is the ``small`` preset trained in float32.
"""

from __future__ import annotations

import dataclasses
import math
import os
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from wiass.errors import ConfigError
from wiass.transforms import STFTConfig


@dataclass
class AudioConfig:
    """Sample rate the model works at, and its STFT."""

    sample_rate: int = 16000
    n_fft: int = 1024
    hop: int = 256

    @property
    def stft(self) -> STFTConfig:
        return STFTConfig(n_fft=self.n_fft, hop=self.hop)


@dataclass
class SideInfoConfig:
    """Which side information the model gets, and the parameters of its generation.

    ``activity_threshold_db``: a frame is active when its target energy is above the loudest
    frame's energy minus this many dB. ``rate_range``: the coarser time scale of A2/A3.x/M2 is
    drawn per example from this range of frames per step. ``pad_range``: steps added at each end
    for A3.x/M2. ``warp_strength``: how far A3.2's monotonic warp departs from a uniform rate
    (0 = none). ``bands``: number of log-spaced bands of M1/M2. ``random_length_range``: length of
    BL2's meaningless sequence. ``dropout``: share of training examples that get no side
    information at all (zero steps), so that the model can also separate blind: whole-song
    alignment at separation time starts from such a blind estimate
    (:mod:`wiass.inference.alignment`).
    """

    kind: str = "A3.1"
    activity_threshold_db: float = 40.0
    rate_range: tuple[int, int] = (2, 6)
    pad_range: tuple[int, int] = (0, 16)
    warp_strength: float = 0.3
    bands: int = 12
    random_length_range: tuple[int, int] = (16, 128)
    dropout: float = 0.0


@dataclass
class DataConfig:
    """Training data: excerpts, augmentation, loader.

    ``random_mix``: every stem of a training example comes from its own random track.
    ``augment``: every stem gets a random gain drawn uniformly from ``gain_range``.
    ``cache_mb``: memory (MiB) for holding the stems a dataset reads in memory, decoded (mono
    float32 at ``audio.sample_rate``); a dataset that needs more reads its excerpts from the
    files instead, and 0 turns the cache off.
    """

    target: str = "vocals"
    excerpt_seconds: float = 6.0
    examples_per_epoch: int = 512
    validation_examples: int = 64
    validation_fraction: float = 0.1
    random_mix: bool = True
    augment: bool = True
    batch_size: int = 16
    num_workers: int = 0
    gain_range: tuple[float, float] = (0.25, 1.25)
    cache_mb: int = 2048


@dataclass
class ModelConfig:
    """Sizes of the informed separator. ``output`` is ``mask`` (a sigmoid mask applied to the
    mixture magnitude), ``clamped_mask`` (a mask clamped to [0, 1], which can be exactly 0) or
    ``magnitude`` (the paper's choice). ``position_frequencies``: K, the frequencies of the
    relative-position term of the attention score (0 = content only, as in the paper);
    ``position_prior``: its initial strength (see :mod:`wiass.model`)."""

    hidden_size: int = 513
    mix_layers: int = 2
    side_layers: int = 2
    decoder_layers: int = 2
    side_hidden_size: int = 513
    attention_size: int = 513
    output: str = "mask"
    dropout: float = 0.0
    position_frequencies: int = 0
    position_prior: float = 0.5


@dataclass
class TrainConfig:
    """Optimisation. ``precision``: Lightning's training precision; ``bf16-mixed`` runs the
    matrix products and LSTMs in bfloat16 under autocast (weights stay float32), about 1.6-2x
    faster on CPUs with AVX512-BF16 and on recent GPUs; ``auto`` picks ``bf16-mixed`` where the
    device runs a bfloat16 LSTM and ``32-true`` elsewhere
    (:func:`wiass.training.resolve_precision`). ``symbol_weight``: for lyrics (the ``phonemes``
    kind), the weight of the loss that teaches the model's symbol recogniser which symbol is
    sung at every frame (:func:`wiass.training.symbol_loss`), added to the separation loss.
    """

    loss: str = "l1"
    symbol_weight: float = 0.05
    learning_rate: float = 1e-3
    weight_decay: float = 0.0
    max_epochs: int = 100
    max_minutes: float | None = None
    early_stopping_patience: int = 20
    lr_patience: int = 8
    lr_factor: float = 0.5
    gradient_clip: float = 5.0
    seed: int = 0
    precision: str = "auto"


@dataclass
class Config:
    """A whole wiass configuration."""

    name: str = "custom"
    audio: AudioConfig = field(default_factory=AudioConfig)
    side_info: SideInfoConfig = field(default_factory=SideInfoConfig)
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def to_dict(self) -> dict[str, Any]:
        return _to_plain(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "config") -> Config:
        return _build(cls, data, source)


def _to_plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_to_plain(v) for v in value]
    return value


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where}: expected a mapping, got {type(data).__name__}")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(
            f"{where}: unknown key '{unknown[0]}' (known: {', '.join(sorted(names))})"
        )
    kwargs = {key: _convert(hints[key], value, f"{where}.{key}") for key, value in data.items()}
    return cls(**kwargs)


def _convert(hint: Any, value: Any, where: str) -> Any:
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where)
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _convert(inner, value, where)
    if origin is tuple:
        if not isinstance(value, (list, tuple)) or len(value) != len(args):
            raise ConfigError(f"{where}: expected a list of {len(args)} values, got {value!r}")
        return tuple(
            _convert(a, v, f"{where}[{i}]")
            for i, (a, v) in enumerate(zip(args, value, strict=True))
        )
    if hint is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    if hint in (int, str, bool) and type(value) is hint:
        return value
    raise ConfigError(f"{where}: expected {getattr(hint, '__name__', hint)}, got {value!r}")


def preset_names() -> list[str]:
    """Names of the presets shipped with wiass."""
    folder = resources.files("wiass") / "configs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def load_config(name_or_path: str | os.PathLike[str]) -> Config:
    """Load a preset by name (``small``) or a YAML file by path, following its ``base:``
    chain; the values are checked (:func:`check_values`)."""
    path = _config_path(str(name_or_path), None)
    data = _merged_data(path, ())
    data.setdefault("name", path.stem)
    config = Config.from_dict(data, source=str(path))
    check_values(config, str(path))
    return config


def _config_path(name: str, folder: Path | None) -> Path:
    """The file that ``name`` names: a path (relative to ``folder`` when given), else a
    preset's name."""
    path = Path(name) if folder is None else folder / name
    if not path.exists() and name in preset_names():
        path = Path(str(resources.files("wiass") / "configs" / f"{name}.yaml"))
    if not path.is_file():
        known = ", ".join(preset_names())
        raise ConfigError(f"{name}: no such config file or preset (presets: {known})")
    return path


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read YAML ({_yaml_reason(exc)})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections, got {type(data).__name__}")
    return data


def _yaml_reason(exc: Exception) -> str:
    """Why a YAML file could not be read, on one line (a syntax error: where and what)."""
    mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
    if mark is not None and problem:
        return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
    return " ".join(str(exc).split())


def _merged_data(path: Path, seen: tuple[Path, ...]) -> dict[str, Any]:
    """The raw mapping of ``path`` merged over its base's (recursively). Every file's own keys
    and types are checked with its own name, so an error names the file that holds the key."""
    if path.resolve() in seen:
        chain = " -> ".join(str(p) for p in (*seen, path.resolve()))
        raise ConfigError(f"{path}: base: the bases form a cycle ({chain})")
    data = _read_yaml(path)
    base = data.pop("base", None)
    Config.from_dict(data, source=str(path))
    if base is None:
        return data
    if not isinstance(base, str) or not base:
        raise ConfigError(f"{path}: base: expected a preset name or a file path, got {base!r}")
    try:
        base_path = _config_path(base, path.parent)
    except ConfigError as exc:
        raise ConfigError(f"{path}: base: {exc}") from None
    merged = _merged_data(base_path, (*seen, path.resolve()))
    merged.pop("name", None)
    return _deep_merge(merged, data)


def _deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes`` merged in: mappings key by key, anything else replaced."""
    merged = dict(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# ---------------------------------------------------------------------------------------------
# Values


_AT_LEAST_ONE = (
    "audio.sample_rate", "audio.n_fft", "audio.hop", "side_info.bands",
    "data.examples_per_epoch", "data.validation_examples", "data.batch_size",
    "model.hidden_size", "model.mix_layers", "model.side_layers", "model.decoder_layers",
    "model.side_hidden_size", "model.attention_size", "train.max_epochs",
)  # fmt: skip
_AT_LEAST_ZERO = (
    "data.num_workers", "data.cache_mb", "model.position_frequencies",
    "train.early_stopping_patience", "train.lr_patience", "train.seed",
    "side_info.warp_strength", "model.position_prior", "train.weight_decay",
    "train.gradient_clip", "train.symbol_weight",
)  # fmt: skip
_ABOVE_ZERO = ("data.excerpt_seconds", "side_info.activity_threshold_db", "train.learning_rate")
_FRACTIONS = ("data.validation_fraction", "model.dropout", "side_info.dropout")
"""Values in [0, 1)."""
MAX_SEED = 2**32 - 1
"""Largest seed that Lightning's ``seed_everything`` takes."""


def check_values(config: Config, source: str | None = None) -> None:
    """Raise :class:`ConfigError` naming the key (and ``source``, the file) of the first value
    that is NaN, infinite, negative or otherwise impossible. Values that depend on the data (an
    excerpt longer than every track) are checked where the data is known."""
    prefix = f"{source}: " if source else ""
    for key, ok, expected in _value_rules(config):
        if not ok:
            raise ConfigError(f"{prefix}{key}: expected {expected}, got {_get(config, key)!r}")


def _value_rules(config: Config) -> list[tuple[str, bool, str]]:
    """``(key, whether its value is fine, what it should be)`` for every checked key."""
    rules = [(key, _number(_get(config, key)) >= 1, "at least 1") for key in _AT_LEAST_ONE]
    rules += [(key, _number(_get(config, key)) >= 0, "a number >= 0") for key in _AT_LEAST_ZERO]
    rules += [(key, _number(_get(config, key)) > 0, "a number > 0") for key in _ABOVE_ZERO]
    rules += [
        (key, 0 <= _number(_get(config, key)) < 1, "a number in [0, 1)") for key in _FRACTIONS
    ]
    low, high = config.data.gain_range
    train = config.train
    rules += [
        ("audio.hop", config.audio.hop <= config.audio.n_fft, "at most audio.n_fft"),
        ("data.gain_range", 0 <= _number(low) <= _number(high), "0 <= low <= high"),
        ("train.lr_factor", 0 < _number(train.lr_factor) < 1, "a number in (0, 1)"),
        ("train.seed", train.seed <= MAX_SEED, f"at most {MAX_SEED}"),
        (
            "train.max_minutes",
            train.max_minutes is None or _number(train.max_minutes) > 0,
            "a number > 0 (or null: no limit)",
        ),
    ]
    return rules


def _get(config: Config, key: str) -> Any:
    section, name = key.split(".")
    return getattr(getattr(config, section), name)


def _number(value: float) -> float:
    """``value``, or NaN when it is not finite (NaN fails every comparison)."""
    return value if math.isfinite(value) else math.nan
