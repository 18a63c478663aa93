"""Config presets load, and bad configs give one clear error naming the file and key."""

import math
import re
from dataclasses import replace
from pathlib import Path

import pytest

from wiass.config import (
    Config,
    ModelConfig,
    TrainConfig,
    check_values,
    load_config,
    preset_names,
)
from wiass.errors import ConfigError


def test_presets_load_by_name_and_by_path():
    assert {"small", "paper"} <= set(preset_names())
    small = load_config("small")
    assert small.name == "small"
    assert small.model.hidden_size < load_config("paper").model.hidden_size
    assert load_config(Path("configs/small.yaml")).to_dict() == small.to_dict()


def test_round_trip_through_dict():
    config = load_config("paper")
    assert Config.from_dict(config.to_dict()) == config


@pytest.mark.parametrize(
    ("yaml_text", "message"),
    [
        ("model:\n  hiden_size: 3\n", "unknown key 'hiden_size'"),
        ("model:\n  hidden_size: big\n", "model.hidden_size: expected int"),
        ("side_info:\n  rate_range: [2]\n", "side_info.rate_range: expected a list of 2"),
        ("data: 3\n", "data: expected a mapping"),
        ("model: [1, 2\n", "cannot read YAML"),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, yaml_text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml_text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(path)
    assert str(path) in str(info.value)


def test_missing_config_lists_presets(tmp_path):
    with pytest.raises(ConfigError, match="presets: .*small"):
        load_config(tmp_path / "nope.yaml")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_presets_and_defaults_choose_precision_by_capability():
    assert TrainConfig().precision == "auto"
    for name in preset_names():
        assert load_config(name).train.precision == "auto", name


def test_two_lines_give_the_small_preset_in_fp32(tmp_path):
    mine = write(tmp_path / "my.yaml", "base: small\ntrain: {precision: 32-true}\n")
    config = load_config(mine)
    small = load_config("small")
    assert config.train.precision == "32-true" and config.name == "my"
    assert config.model == small.model and config.data == small.data
    assert config.audio == small.audio and config.side_info == small.side_info
    assert replace(config.train, precision="auto") == small.train


def test_bases_merge_section_by_section_and_chain_by_relative_path(tmp_path):
    write(tmp_path / "bases" / "wide.yaml", "base: small\nmodel:\n  hidden_size: 200\n")
    mine = write(
        tmp_path / "runs" / "mine.yaml",
        "base: ../bases/wide.yaml\nmodel: {attention_size: 32}\nside_info: {rate_range: [3, 4]}\n",
    )
    config = load_config(mine)
    small = load_config("small")
    assert config.model.hidden_size == 200, "the middle file's change was lost"
    assert config.model.attention_size == 32
    assert config.model.side_hidden_size == small.model.side_hidden_size, "not merged per key"
    assert config.side_info.rate_range == (3, 4)
    assert config.side_info.kind == small.side_info.kind
    assert config.train == small.train and config.name == "mine"


def test_a_file_without_base_merges_over_the_dataclass_defaults(tmp_path):
    config = load_config(write(tmp_path / "plain.yaml", "model: {hidden_size: 7}\n"))
    assert config.model == replace(ModelConfig(), hidden_size=7)
    assert config.train == TrainConfig()


@pytest.mark.parametrize(
    ("base_text", "child_text", "culprit", "message"),
    [
        ("model: {hidden_size: 3}\n", "base: b.yaml\nmodel: {hiden: 3}\n", "c", "'hiden'"),
        ("model: {bogus: 3}\n", "base: b.yaml\n", "b", "unknown key 'bogus'"),
        ("train: {seed: 1}\n", "base: nowhere.yaml\n", "c", "base: nowhere.yaml: no such"),
        ("base: c.yaml\n", "base: b.yaml\n", "c", "cycle"),
        ("train: {seed: 1}\n", "base: [small]\n", "c", "base: expected a preset name"),
    ],
)
def test_bad_bases_name_the_file_and_key(tmp_path, base_text, child_text, culprit, message):
    write(tmp_path / "b.yaml", base_text)
    child = write(tmp_path / "c.yaml", child_text)
    with pytest.raises(ConfigError, match=message) as info:
        load_config(child)
    assert str(tmp_path / f"{culprit}.yaml") in str(info.value)


@pytest.mark.parametrize(
    ("yaml_text", "key"),
    [
        ("train: {learning_rate: .nan}\n", "train.learning_rate"),
        ("train: {learning_rate: -0.1}\n", "train.learning_rate"),
        ("train: {weight_decay: .inf}\n", "train.weight_decay"),
        ("train: {lr_factor: 1.5}\n", "train.lr_factor"),
        ("train: {max_minutes: .nan}\n", "train.max_minutes"),
        ("train: {seed: -1}\n", "train.seed"),
        ("train: {max_epochs: 0}\n", "train.max_epochs"),
        ("data: {excerpt_seconds: -4.0}\n", "data.excerpt_seconds"),
        ("data: {excerpt_seconds: .nan}\n", "data.excerpt_seconds"),
        ("data: {batch_size: 0}\n", "data.batch_size"),
        ("data: {gain_range: [1.0, 0.5]}\n", "data.gain_range"),
        ("data: {validation_fraction: 1.0}\n", "data.validation_fraction"),
        ("model: {hidden_size: -3}\n", "model.hidden_size"),
        ("model: {dropout: 1.0}\n", "model.dropout"),
        ("audio: {hop: 2048}\n", "audio.hop"),
        ("audio: {sample_rate: 0}\n", "audio.sample_rate"),
    ],
)
def test_impossible_values_name_the_file_and_key(tmp_path, yaml_text, key):
    path = write(tmp_path / "bad.yaml", "base: small\n" + yaml_text)
    with pytest.raises(ConfigError, match=rf"bad\.yaml: {re.escape(key)}: expected") as info:
        load_config(path)
    assert str(info.value).count("\n") == 0


def test_values_changed_in_code_are_checked_too():
    config = load_config("small")
    check_values(config)
    config.train = replace(config.train, learning_rate=math.nan)
    with pytest.raises(ConfigError, match="^train.learning_rate: expected a number > 0, got nan"):
        check_values(config)
