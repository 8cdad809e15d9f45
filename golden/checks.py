"""Parameter checks shared by every generator; messages name the parameter, the bad value and
what is allowed, e.g. ``Data width must be from 4 to 32, not 3``."""

__all__ = ["one_of", "integer_in"]


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
