"""The systems of Table 1: a name and a side-information kind each, and the choice of some."""

from __future__ import annotations

from dataclasses import dataclass

from wiass.errors import ConfigError


@dataclass(frozen=True)
class System:
    """A trained system of Table 1: its name and side-information kind."""

    name: str
    kind: str


SYSTEMS: tuple[System, ...] = (
    System("BL1", "none"),
    System("BL2", "random"),
    System("A1", "A1"),
    System("A2", "A2"),
    System("A3.1", "A3.1"),
    System("A3.2", "A3.2"),
    System("M1", "M1"),
    System("M2", "M2"),
    System("phonemes", "phonemes"),
)


def select_systems(names: str | None) -> tuple[System, ...]:
    """The systems named in a comma-separated list (all when None), in Table 1's order."""
    if not names:
        return SYSTEMS
    wanted = [name.strip() for name in names.split(",") if name.strip()]
    known = {system.name: system for system in SYSTEMS}
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise ConfigError(f"--systems: unknown system '{unknown[0]}' (known: {', '.join(known)})")
    return tuple(system for system in SYSTEMS if system.name in wanted)
