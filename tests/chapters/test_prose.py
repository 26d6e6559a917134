"""Tests of lib.chapters.prose: numbers for {eval} and the verdict tables."""

import doctest
import re

import numpy as np
import pytest

from lib.chapters import prose
from lib.chapters.prose import Values, Verdict, format_number, verdict_table


def test_doctests():
    result = doctest.testmod(prose)
    assert result.attempted >= 3 and result.failed == 0


@pytest.mark.parametrize("value, spec, shown", [
    (1.68e-9, ".1e", "1.7 × 10⁻⁹"), (1e-5, ".0e", "10⁻⁵"), (3.2e5, ".3g", "3.2 × 10⁵"),
    (-0.25, ".2f", "−0.25"), (0.5, ".0%", "50%"), (12, "", "12"), (np.int64(7), "", "7"),
    (np.float64(0.125), ".3f", "0.125"), (np.array(2.5), ".1f", "2.5"), (True, "", "yes"),
    ("text", "", "text"), (float("inf"), ".2f", "∞"), (1234567, ",", "1,234,567"),
    (0.0, ".1e", "0"), (-0.0, ".2e", "0"),
])
def test_numbers_are_formatted_for_reading(value, spec, shown):
    assert format_number(value, spec) == shown


def test_bad_values_and_specs_raise():
    with pytest.raises(TypeError, match="value"):
        format_number(1 + 2j, ".2f")
    with pytest.raises(TypeError, match="spec"):
        format_number(1.0, 2)
    v = Values()
    with pytest.raises(ValueError, match="identifier"):
        v.add("1e-8", 1.0)
    with pytest.raises(AttributeError, match="add it"):
        v.missing
    with pytest.raises(AttributeError, match="Values.add"):
        v.x = 1


def test_values_show_without_quotes_and_keep_the_raw_value():
    v = Values()
    assert v.add("p", 0.0123, ".2g") is None
    assert repr(v.p) == "0.012" and str(v.p) == "0.012" and v.raw("p") == 0.0123
    assert len(v) == 1 and dir(v) == ["p"]


def test_verdicts_are_checked_and_rendered_with_links():
    with pytest.raises(ValueError, match="verdict must be one of"):
        Verdict("Eq. (1)", "x", "probably", "", "sec-x")
    rows = (Verdict("Eq. (5)", "closed form | a bar", "holds with correction", "product from $j=1$", "sec-a"),
            Verdict("Prop. 1", "H increases", "fails", "", "sec-b"))
    text = verdict_table(rows).data
    lines = text.splitlines()
    assert len(lines) == 4 and lines[0].count("|") == 4
    assert "{ref}`Eq. (5) <sec-a>`" in lines[2] and "closed form \\| a bar" in lines[2]
    assert re.search(r"\*\*holds with correction\*\*: product from \$j=1\$", lines[2])
    assert lines[3].endswith("**fails** |")
    ledger = verdict_table({"forward_process": rows[:1], "entropy": rows[1:]}).data.splitlines()
    assert ledger[0].startswith("| Chapter |") and len(ledger) == 4
    assert ledger[2].startswith("| {doc}`forward_process` |") and ledger[3].startswith("| {doc}`entropy` |")
    numbered = verdict_table({"forward_process": rows[:1]}, numbers={"forward_process": 1}).data
    assert numbered.splitlines()[2].startswith("| {doc}`1 <forward_process>` |")
    with pytest.raises(TypeError, match="Verdict"):
        verdict_table([("Eq. (5)",)])
    with pytest.raises(TypeError, match="Verdict"):
        verdict_table({"entropy": ()})
