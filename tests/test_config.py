"""Config presets load, and bad configs give one clear error naming the file and key."""

from pathlib import Path

import pytest

from wiass.config import Config, load_config, preset_names
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
