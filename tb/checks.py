"""Checks shared by the block tests."""

import pytest

__all__ = ["assert_parameter_error"]


def assert_parameter_error(constructors, parameters, error, message):
    """Each of ``constructors`` (a golden model and its generator) rejects ``parameters`` with
    ``error`` and exactly ``message``."""
    for constructor in constructors:
        with pytest.raises(error) as raised:
            constructor(**parameters)
        assert str(raised.value) == message
