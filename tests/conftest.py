"""Shared fixtures. ``xp``: each numeric test runs on NumPy, and on CuPy when a GPU is present."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import settings

from engine.backend import gpu_available, get_xp

# CI draws the same examples every run, so a red build is reproducible; locally hypothesis
# keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

_BACKENDS = [pytest.param("numpy", id="numpy")]
if gpu_available():
    _BACKENDS.append(pytest.param("cupy", id="cupy", marks=pytest.mark.gpu))


@pytest.fixture(params=_BACKENDS)
def xp(request):
    """The array module under test: ``numpy``, or ``cupy`` when CuPy sees a CUDA device."""
    return np if request.param == "numpy" else get_xp("gpu")
