"""Block configurations: each block's parameters written once.

Every block has one frozen dataclass (``FFTConfig``, ``MACConfig``, ``PoolConfig``,
``PWLConfig``) whose fields are its parameters, each declared with :func:`parameter`: default,
help text and, where the command line spells it differently, a parser. The dataclass validates
itself in ``__post_init__`` (a bad value raises :class:`TypeError` or :class:`ValueError` with a
message naming the parameter, the value and what is allowed) and offers derived figures as
read-only properties. From it derive:

* the golden model (:class:`BlockModel` takes a config, or its fields as keywords);
* the Amaranth component (it takes a config, so a bad one fails before any ``Elaboratable``
  exists);
* the JSON sidecar's ``parameters`` (:meth:`BlockConfig.parameters`);
* the command-line options (``fdcnn.scripts.cli`` builds them from :func:`dataclasses.fields`).

Adding a parameter is a new field here plus the code that uses it.
"""

import dataclasses
import json
import tomllib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = ["parameter", "BlockConfig", "BlockModel", "json_value", "load_config_file"]


def parameter(default: Any, help: str, *, parse: Callable[[str], Any] | None = None,
              cli_default: Any = dataclasses.MISSING, flag: bool = False) -> Any:
    """A config field with its documentation.

    Parameters
    ----------
    default
        The value when none is given (immutable: tuples, not lists).
    help
        One line for ``--help`` and the documentation.
    parse
        Turns the command line's text into a value (default: the field's type, for ``int`` and
        ``str``); text that does not parse is passed on as is, so the config's own check names
        the error.
    cli_default
        The command line's default where it differs from ``default``.
    flag
        A boolean given as ``--name`` / ``--no-name``.
    """
    metadata = {"help": help, "parse": parse, "flag": flag}
    if cli_default is not dataclasses.MISSING:
        metadata["cli_default"] = cli_default
    return dataclasses.field(default=default, metadata=metadata)


def json_value(value: Any) -> Any:
    """``value`` as JSON has it: tuples as lists, fixed-point formats as ``[width, fraction]``,
    named objects (activations) by name."""
    if isinstance(value, (tuple, list)):
        return [json_value(item) for item in value]
    if hasattr(value, "width") and hasattr(value, "fraction"):
        return [value.width, value.fraction]
    if hasattr(value, "name") and not isinstance(value, str):
        return value.name
    return value


def _tuples(value: Any) -> Any:
    """Lists (as JSON and TOML have them) as tuples, nested ones too."""
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value


class BlockConfig:
    """Behaviour every block config shares (the configs are frozen dataclasses)."""

    def parameters(self) -> dict:
        """Every field by name, JSON-ready: the sidecar's ``parameters``."""
        return {field.name: json_value(getattr(self, field.name))
                for field in dataclasses.fields(self)}

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]):
        """A config from the entries of ``values`` that name its fields (others are ignored;
        lists become tuples, as a JSON round trip leaves them)."""
        names = {field.name for field in dataclasses.fields(cls)}
        return cls(**{name: _tuples(value) for name, value in values.items() if name in names})

    def _set(self, name: str, value: Any) -> None:
        """Store a normalized field value (for ``__post_init__`` of a frozen dataclass)."""
        object.__setattr__(self, name, value)


class BlockModel:
    """Base of the golden models: built from the block's config (or from its fields as
    keywords), whose fields and derived figures read as the model's own attributes."""

    config_class: type = BlockConfig

    def __init__(self, config=None, /, **parameters):
        if config is None:
            config = self.config_class(**parameters)
        elif parameters:
            raise TypeError("Give a config or its parameters as keywords, not both")
        elif not isinstance(config, self.config_class):
            raise TypeError(f"Config must be a {self.config_class.__name__}, not {config!r}")
        self.config = config

    def __getattr__(self, name):
        if name.startswith("__") or name == "config":
            raise AttributeError(name)
        return getattr(self.config, name)


def load_config_file(path, config_class: type) -> dict:
    """A block's parameters from a TOML (``.toml``) or JSON (``.json``) file: a table of
    ``config_class``'s field names to values (lists, returned as tuples). Checks the file and
    the names; the values are the config's to check."""
    path = Path(path)
    if path.suffix not in (".toml", ".json"):
        raise ValueError(f"Config file must end in .toml or .json, not {str(path)!r}")
    if not path.is_file():
        raise ValueError(f"Config file {str(path)!r} does not exist")
    text = path.read_text()
    try:
        values = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"Config file {str(path)!r} does not parse: {error}") from None
    if not isinstance(values, dict):
        raise ValueError(f"Config file {str(path)!r} must hold a table of parameters")
    known = [field.name for field in dataclasses.fields(config_class)]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ValueError(f"Config file {str(path)!r} has unknown parameter {unknown[0]!r}; "
                         f"known: {', '.join(known)}")
    return {name: _tuples(value) for name, value in values.items()}
