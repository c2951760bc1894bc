"""Matching found reps to the simulator's true reps (tests, benchmarks, tools)."""

from __future__ import annotations


def iou(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Intersection over union of two ``(start_s, end_s)`` time spans (a found rep and a
    true one): 0 for disjoint or touching spans, and 0 when both are the same instant
    (the union is empty)."""
    inter = max(0.0, min(a[1], b[1]) - max(a[0], b[0]))
    union = max(a[1], b[1]) - min(a[0], b[0])
    return inter / union if union > 0 else 0.0
