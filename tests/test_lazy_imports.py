"""The IRI grammar jsonschema would compile at import is deferred, with the same answers."""

import subprocess
import sys

import pytest

CODE = """
import sys
import eksaudit, nbformat
from jsonschema import FormatChecker
print("syntax_helpers" in " ".join(sys.modules), end=" ")
fc = FormatChecker()
print(fc.conforms("https://example.org/a?b#c", "iri"), fc.conforms("no iri", "iri"), end=" ")
print("rfc3987_syntax.syntax_helpers" in sys.modules)
"""


def test_grammar_is_loaded_only_when_an_iri_is_checked():
    pytest.importorskip("rfc3987_syntax")
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["False", "True", "False", "True"]
