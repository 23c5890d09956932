"""Where the chart fonts are found: Debian's folders or a Python package, the first found per role."""

from __future__ import annotations

import json
from pathlib import Path

from bot.presentation.fonts import EXTRA_FONTS, font_files


def test_the_first_font_found_of_each_role_is_used(tmp_path: Path) -> None:
    debian = tmp_path / "noto"
    debian.mkdir()
    (debian / "NotoSansCJK-Regular.ttc").write_bytes(b"cjk")
    (debian / "Symbola_hint.ttf").write_bytes(b"emoji")
    roles = (
        (("no_such_package_anywhere", "cjk.ttc"), (str(debian), "NotoSansCJK-Regular.ttc")),
        ((str(debian), "Symbola_hint.ttf"), (str(debian), "NotoSansCJK-Regular.ttc")),
        ((str(tmp_path / "missing"), "x.ttf"),),  # a role with no font installed is skipped
    )
    assert font_files(roles) == (debian / "NotoSansCJK-Regular.ttc", debian / "Symbola_hint.ttf")


def test_a_python_package_is_looked_in_where_it_is_installed() -> None:
    assert font_files(((("json", "__init__.py"),),)) == (Path(json.__file__),)
    assert font_files(((("json.no_such_module", "x.ttf"), ("no_such_package", "x.ttf")),)) == ()


def test_every_role_names_a_debian_path() -> None:
    # The Docker image has no pip fonts: each role must be findable from Debian's packages.
    for places in EXTRA_FONTS:
        assert any(where.startswith("/usr/share/fonts/") for where, _name in places), places
