"""Each addon's README.rst (its wheel's long description) and static/description/index.html
match its readme/ fragments."""

from tests.harness import addon_readme, odoo_env


def test_generated_addon_readmes_are_up_to_date():
    stale = [
        str(path.relative_to(odoo_env.REPO))
        for addon in odoo_env.OUR_ADDONS
        for path, text in addon_readme.generated_files(addon)
        if not path.exists() or path.read_text() != text
    ]
    assert not stale, f"run `make readme` to regenerate {', '.join(stale)}"


def test_readme_carries_every_fragment():
    for addon in odoo_env.OUR_ADDONS:
        text = addon_readme.render(addon)
        for fragment in (odoo_env.ADDONS / addon / "readme").glob("*.md"):
            first_line = fragment.read_text().strip().splitlines()[0].lstrip("#").strip()
            assert first_line in text, f"{addon}: {fragment.name} is missing from the README"


def test_readme_rst_renders_without_warnings():
    """PyPI renders the long description with docutils: no warnings, no raw HTML."""
    import io  # noqa: PLC0415

    from docutils.core import publish_parts  # noqa: PLC0415

    for addon in odoo_env.OUR_ADDONS:
        rst = addon_readme.render_rst(addon)
        assert ".. raw::" not in rst, addon
        warnings = io.StringIO()
        publish_parts(
            rst,
            writer_name="html5",
            settings_overrides={"report_level": 2, "halt_level": 5, "warning_stream": warnings},
        )
        assert not warnings.getvalue(), f"{addon}: {warnings.getvalue()}"
