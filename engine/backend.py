"""The one array-module seam: NumPy on the CPU, CuPy on a GPU when one is present.

Every other module either receives ``xp`` or asks ``array_module(*arrays)``; only this
module imports CuPy, and only lazily, so the engine imports and runs without it.
"""

from __future__ import annotations

import functools

import numpy as np


@functools.lru_cache(maxsize=1)
def _cupy():
    """CuPy if it imports and sees a CUDA device, else None."""
    try:
        import cupy  # noqa: PLC0415 - the one lazy GPU import

        if cupy.cuda.runtime.getDeviceCount() < 1:
            return None
        return cupy
    except Exception:  # ImportError, or a CUDA runtime/driver error
        return None


def gpu_available() -> bool:
    """True when CuPy imports and a CUDA device is visible."""
    return _cupy() is not None


def array_module(*arrays):
    """The module (numpy or cupy) that owns ``arrays``; numpy when none is a CuPy array."""
    cp = _cupy()
    if cp is not None:
        return cp.get_array_module(*arrays)
    return np


def get_xp(device: str = "auto"):
    """The array module for a device name: ``cpu``, ``gpu`` or ``auto`` (GPU when present).

    Raises:
        UserError: ``gpu`` was asked for and no CuPy/CUDA device is usable.
    """
    if device == "cpu":
        return np
    cp = _cupy()
    if device == "gpu" and cp is None:
        from engine.errors import UserError

        raise UserError("--device gpu: CuPy with a CUDA device is not available "
                        "(install the 'gpu' extra, or use --device cpu)")
    return cp if cp is not None else np


def to_numpy(a):
    """A NumPy copy/view of ``a`` (a no-op for NumPy arrays)."""
    if isinstance(a, np.ndarray):
        return a
    get = getattr(a, "get", None)
    return get() if get is not None else np.asarray(a)
