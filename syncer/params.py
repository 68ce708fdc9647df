"""Click parameter types the commands share (the tool's and the emulator's)."""

from __future__ import annotations

import math
from typing import Any

import click


class FiniteRange(click.FloatRange):
    """click's FloatRange lets `nan` (and, unbounded, `inf`) through: a number of seconds or
    milliseconds must be a real one."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number.", param, ctx)
        return number
