"""Argument types for the command line: a bad value is a one-line error, never a silent default."""
from __future__ import annotations

import argparse


def _number(text: str, kind, name: str):
    try:
        return kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {name}") from None


def int_at_least(minimum: int):
    """An integer >= minimum."""
    def parse(text: str) -> int:
        value = _number(text, int, "an integer")
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{value} is below the minimum {minimum}")
        return value
    parse.__name__ = f"integer >= {minimum}"
    return parse


def int_in(low: int, high: int):
    """An integer in [low, high]."""
    def parse(text: str) -> int:
        value = _number(text, int, "an integer")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside [{low}, {high}]")
        return value
    parse.__name__ = f"integer in [{low}, {high}]"
    return parse


def float_in(low: float, high: float, include_high: bool = True):
    """A float in [low, high] (or [low, high) when include_high is False)."""
    def parse(text: str) -> float:
        value = _number(text, float, "a number")
        if not (low <= value < high or (include_high and value == high)):
            bracket = "]" if include_high else ")"
            raise argparse.ArgumentTypeError(f"{value} is outside [{low}, {high}{bracket}")
        return value
    parse.__name__ = f"number in [{low}, {high}]"
    return parse
