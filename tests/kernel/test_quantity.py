"""kernel.quantity parses exactly as the `kubernetes` client's parse_quantity (the reference
it replaces to keep the client out of start-up): same values, same refusals."""

from __future__ import annotations

from decimal import Decimal

import pytest
from kubernetes.utils.quantity import parse_quantity as reference

from remediator.kernel.quantity import parse_quantity

CASES = ["128Mi", "1Gi", "1.5Gi", "500m", "0.5", "2", "100k", "1K", "3M", "1G", "1T", "1P",
         "1E", "1Ki", "1Ei", "250n", "10u", "1e3", "1E3", "-1", "+5m", ".5", "0", "1.",
         7, 1.25, Decimal("3.5"), "1ki", "1mi", "1ni", "1ui", "lots", "", "Mi", "i", "1Zi",
         "1Xi", "12 Mi", "1e999999999Ei", "NaN", "Infinity", "1.1.1"]


@pytest.mark.parametrize("quantity", CASES, ids=[repr(c) for c in CASES])
def test_the_same_as_the_kubernetes_client(quantity: object):
    try:
        expected: Decimal | type[ValueError] = reference(quantity)
    except ValueError:
        expected = ValueError
    if expected is ValueError:
        with pytest.raises(ValueError):
            parse_quantity(quantity)
        return
    got = parse_quantity(quantity)
    assert got == expected or (got.is_nan() and expected.is_nan())  # type: ignore[union-attr]
