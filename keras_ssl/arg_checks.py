"""Argument checks shared by losses, layers and methods: each raises a
`ValueError` naming the argument and the value it received."""

import math
import numbers

import numpy as np


def check_positive(name, value):
    """Raises `ValueError` naming `name` unless a number (Python or NumPy) is
    finite and > 0. Tensors and variables (scheduled values) pass unchecked."""
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if value is None or isinstance(value, (str, bytes, bool)) or (
        isinstance(value, numbers.Real) and not (math.isfinite(value) and value > 0)
    ):
        raise ValueError(f"`{name}` must be a finite number > 0. Received: {name}={value!r}")


def check_temperature(temperature):
    """Raises `ValueError` unless a number temperature is finite and > 0."""
    check_positive("temperature", temperature)
