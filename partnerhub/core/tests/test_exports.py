from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from partnerhub.core.exports import csv_lines, safe_cell, safe_row, streaming_csv_response


@pytest.mark.parametrize("text", ["=1+1", "+41 44 000", "-x", "@cmd", "\tx", "\r=1", '=HYPERLINK("a","b")'])
def test_safe_cell_escapes_formula_starts(text):
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["", "plain", "a=b", " =1", "'=already", "e-mail", "1-2"])
def test_safe_cell_keeps_harmless_text(text):
    assert safe_cell(text) == text


@pytest.mark.parametrize("value", [None, 7, -7, Decimal("-1.50"), 2.5, date(2026, 1, 2)])
def test_safe_cell_keeps_non_text_values_for_typed_formats(value):
    assert safe_cell(value) is value


def test_safe_row():
    assert safe_row(["=a", 1, "b"]) == ["'=a", 1, "b"]


def test_csv_lines_quote_with_the_csv_module_and_sanitise_every_cell():
    text = "".join(csv_lines(["a", "b"], [['x,"y"', "=1"], ["line\nbreak", -3]]))
    assert text.startswith("\ufeff")
    assert list(csv.reader(io.StringIO(text.removeprefix("\ufeff")))) == [
        ["a", "b"],
        ['x,"y"', "'=1"],
        ["line\nbreak", "-3"],
    ]


def test_streaming_csv_response_is_lazy_and_a_download():
    consumed = []

    def rows():
        for i in range(3):
            consumed.append(i)
            yield [i]

    response = streaming_csv_response("report 1.csv", ["n"], rows())
    assert consumed == []
    assert response["Content-Disposition"] == 'attachment; filename="report 1.csv"'
    assert response.getvalue().decode("utf-8-sig").splitlines() == ["n", "0", "1", "2"]
