"""SQL expression builders for the generator: weighted picks, skewed owners, timelines.

Every builder returns a SQL fragment. Literals come only from the constants of this package
(never from user input) and are quoted with ``lit``; numbers reach the server as psycopg
parameters (``%(name)s``).
"""

import math
from collections.abc import Sequence

# Naive timestamps (the application writes UTC without a zone) spread over the life of the
# platform; ``created_at`` grows with the id, as it does in a table filled by an application.
EPOCH = "2024-01-01 00:00:00"
NOW = "2025-09-03 12:00:00"

GOLDEN = 0.6180339887


def stride(count: int) -> int:
    """A step near ``count / golden ratio``, coprime with ``count``: ``rank * stride mod count``
    is a permutation that scatters neighbouring ranks far apart (the busiest users are then
    not simply the oldest ones)."""
    step = max(1, round(count * GOLDEN))
    while math.gcd(step, count) != 1:
        step += 1
    return step


def lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def text_array(values: Sequence[str]) -> str:
    return "ARRAY[" + ", ".join(lit(v) for v in values) + "]::text[]"


def pick(values: Sequence[str]) -> str:
    """A uniformly random element (a fresh ``random()`` per evaluation)."""
    return f"({text_array(values)})[1 + floor(random() * {len(values)})::int]"


def pick_by(index: str, values: Sequence[str]) -> str:
    """The element at ``index`` modulo the list's length (deterministic)."""
    return f"({text_array(values)})[1 + mod(({index})::bigint, {len(values)})::int]"


def weighted(draw: str, choices: Sequence[tuple[str, float]]) -> str:
    """A CASE on one uniform ``draw`` in [0, 1): each value with its share of probability."""
    total = sum(weight for _, weight in choices)
    branches, bound = [], 0.0
    for value, weight in choices[:-1]:
        bound += weight / total
        branches.append(f"WHEN {draw} < {bound:.6f} THEN {lit(value)}")
    return f"(CASE {' '.join(branches)} ELSE {lit(choices[-1][0])} END)"


def skewed(first: str, count: str, skew: str, step: str) -> str:
    """An id in [first, first + count) drawn with a power law, scattered by a permutation.

    ``floor(count * random() ^ skew)`` puts most draws on a few small values (skew 2.5: the
    top 1 % of ids get about 16 % of the rows); ``rank * step mod count`` (``stride``) maps
    those values onto ids spread over the whole range.
    """
    rank = f"floor({count} * power(random(), {skew}))::bigint"
    return f"({first} + mod({rank} * {step}, {count}))::int"


def timeline(position: str, count: str, jitter: str = "2 hours") -> str:
    """A naive timestamp at ``position / count`` of the platform's life, plus some jitter."""
    return (
        f"(timestamp {lit(EPOCH)} + ({position})::float8 / {count} "
        f"* (timestamp {lit(NOW)} - timestamp {lit(EPOCH)}) "
        f"+ random() * interval {lit(jitter)})"
    )


def hex_chars(length: int, salt: str = "random()") -> str:
    """``length`` lowercase hex characters (md5 of a random value, repeated as needed)."""
    parts = -(-length // 32)
    digest = " || ".join(f"md5(({salt})::text || {i})" for i in range(parts))
    return f"substr({digest}, 1, {length})"


def digits(length: int) -> str:
    """A random string of ``length`` decimal digits."""
    return f"lpad(floor(random() * 1e{min(length, 15)})::bigint::text, {length}, '0')"
