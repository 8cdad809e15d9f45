"""Parameter checks shared by every generator; messages name the parameter, the bad value and
what is allowed, e.g. ``Data width must be from 4 to 32, not 3``."""

import numpy as np

__all__ = ["one_of", "integer_in", "shape_pair", "shape_text", "codes_in_range"]


def one_of(name, value, allowed):
    """Raise :class:`ValueError` unless ``value`` is one of ``allowed``."""
    if value not in allowed:
        choices = ", ".join(repr(choice) for choice in allowed)
        raise ValueError(f"{name} must be one of {choices}, not {value!r}")


def integer_in(name, value, low, high):
    """Raise :class:`TypeError` unless ``value`` is an integer, :class:`ValueError` unless
    ``low ≤ value ≤ high``."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if not low <= value <= high:
        raise ValueError(f"{name} must be from {low} to {high}, not {value}")


def shape_pair(name, value):
    """Raise :class:`TypeError` unless ``value`` is a ``(rows, columns)`` tuple of integers;
    returns it."""
    if (not isinstance(value, tuple) or len(value) != 2
            or not all(isinstance(size, int) and not isinstance(size, bool) for size in value)):
        raise TypeError(f"{name} must be a (rows, columns) tuple of integers, not {value!r}")
    return value


def shape_text(text):
    """``HxW`` from the command line as a tuple of integers; text that does not parse is
    returned as is, for the config's own check to name."""
    try:
        return tuple(int(part) for part in text.lower().split("x"))
    except ValueError:
        return text


def codes_in_range(name, width, *arrays):
    """Raise :class:`ValueError` unless every value of ``arrays`` lies in the ``width``-bit
    signed range."""
    low, high = -(1 << (width - 1)), (1 << (width - 1)) - 1
    for values in arrays:
        values = np.asarray(values)
        if values.size and (values.min() < low or values.max() > high):
            raise ValueError(f"{name} must lie in the {width}-bit signed range")
