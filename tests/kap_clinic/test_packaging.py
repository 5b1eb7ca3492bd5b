"""pyproject.toml's license in the form setuptools ≥ 77 wants (PEP 639): `make install` builds the
editable install with the newest setuptools (pip's build isolation), which warns, three times per
build, about the old `license = { text = ... }` table."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_license_is_an_spdx_expression():
    assert PYPROJECT["project"]["license"] == "AGPL-3.0-or-later"
    # Each license-files pattern must match a file (setuptools warns, later fails, otherwise).
    for pattern in PYPROJECT["project"].get("license-files", []):
        assert list(ROOT.glob(pattern)), pattern


def test_build_requires_a_setuptools_that_reads_it():
    (setuptools,) = [r for r in PYPROJECT["build-system"]["requires"] if "setuptools" in r]
    minimum = re.fullmatch(r"setuptools>=(\d+)(\.\d+)*", setuptools)
    assert minimum, setuptools
    assert int(minimum.group(1)) >= 77
