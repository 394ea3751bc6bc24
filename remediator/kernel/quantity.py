"""Kubernetes quantities (`200Mi`, `500m`, `1.5`) as decimals.

The same parsing as the `kubernetes` client's `kubernetes.utils.quantity.parse_quantity`
(Apache-2.0, kubernetes-client/python; tests/kernel/test_quantity.py compares the two), kept
here because importing that one module loads the whole client package (about half a second
before `remediator validate` can start; bench/startup.py).
"""

from __future__ import annotations

from decimal import Decimal, DecimalException, InvalidOperation
from typing import Any

_EXPONENTS = {"n": -3, "u": -2, "m": -1, "K": 1, "k": 1, "M": 2, "G": 3, "T": 4, "P": 5,
              "E": 6}
#: the only prefixes with a base-1024 form (Ki, Mi, Gi, Ti, Pi, Ei)
_BINARY_PREFIXES = "KMGTPE"


def parse_quantity(quantity: Any) -> Decimal:
    """``quantity`` as a Decimal; ValueError on a malformed number or an unknown suffix."""
    if isinstance(quantity, (int, float, Decimal)):
        return Decimal(quantity)
    text = str(quantity)
    number, suffix = text, ""
    if len(text) >= 2 and text[-1] == "i":
        if text[-2] in _EXPONENTS:
            number, suffix = text[:-2], text[-2:]
    elif text and text[-1] in _EXPONENTS:
        number, suffix = text[:-1], text[-1:]
    try:
        value = Decimal(number)
    except InvalidOperation:
        raise ValueError(f"Invalid number format: {number}") from None
    if not suffix:
        return value
    if suffix.endswith("i"):
        if suffix[0] not in _BINARY_PREFIXES:  # "ki", "mi", "ni", "ui" are not binary
            raise ValueError(f"{text} has unknown suffix")
        base = 1024
    else:
        base = 1000
    try:
        return value * (base ** Decimal(_EXPONENTS[suffix[0]]))
    except DecimalException as exc:
        raise ValueError(f"Invalid quantity: {text}") from exc
