"""Each addon's README.rst and static/description/index.html, generated OCA-style
from its readme/ fragments.

Wheels built by whool take their long description from the addon's README.rst
(manifestoo-core reads README.rst, else README.md), and Odoo shows
static/description/index.html as the module's description. OCA generates both with
``oca-gen-addon-readme``; here the same layout (title and summary from the manifest,
DESCRIPTION, a table of contents, CONFIGURE, USAGE, ROADMAP, bug tracker, credits) is
assembled from the Markdown fragments, converted to reStructuredText with m2r2 and to
HTML with docutils.

    python -m tests.harness.addon_readme           # write both files (make readme)
    python -m tests.harness.addon_readme --check   # exit 1 when one is out of date
"""

import ast
import re
import sys

from . import odoo_env

SECTIONS = (
    ("CONFIGURE.md", "Configuration"),
    ("USAGE.md", "Usage"),
    ("ROADMAP.md", "Known issues / Roadmap"),
)


def _demote_headings(text):
    """Fragment headings one level down, outside code blocks: sections are ``##``."""
    lines, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        lines.append("#" + line if not fenced and line.startswith("#") else line)
    return "\n".join(lines).strip()


def _anchor(title):
    return "".join(c for c in title.lower().replace(" ", "-") if c.isalnum() or c == "-")


def render(addon):
    """The README.md text of ``addon`` (a folder name under addons/)."""
    folder = odoo_env.ADDONS / addon
    manifest = ast.literal_eval((folder / "__manifest__.py").read_text())
    fragments = folder / "readme"
    title = manifest["name"]
    parts = [
        "<!-- Generated from readme/ by `make readme` (tests/harness/addon_readme.py): "
        "edit the fragments, not this file. -->",
        "",
        f"# {title}",
        "",
        f"`{addon}` {manifest['version']} · {manifest.get('license', '')} · "
        f"{manifest.get('development_status', '')} · {manifest.get('category', '')}",
        "",
        manifest.get("summary", ""),
        "",
        _demote_headings((fragments / "DESCRIPTION.md").read_text()),
        "",
    ]
    present = [(name, heading) for name, heading in SECTIONS if (fragments / name).exists()]
    toc = [*(heading for _name, heading in present), "Bug Tracker", "Credits"]
    parts += ["**Table of contents**", ""]
    parts += [f"- [{heading}](#{_anchor(heading)})" for heading in toc]
    parts.append("")
    for name, heading in present:
        parts += [f"## {heading}", "", _demote_headings((fragments / name).read_text()), ""]
    website = manifest.get("website", "")
    parts += [
        "## Bug Tracker",
        "",
        f"Bugs are tracked on the project's issues ({website}/issues). Please check there "
        "whether yours was already reported before filing one.",
        "",
        "## Credits",
        "",
        "### Authors",
        "",
        f"- {manifest.get('author', '')}",
        "",
        "### Maintainers",
        "",
        f"This module is part of the healthcare supply chain addons ({website}).",
        "",
    ]
    return "\n".join(parts)


def render_rst(addon):
    """README.rst of ``addon``: the Markdown above converted to reStructuredText (m2r2).

    HTML comments (example markers of the docs test) are left out: PyPI refuses raw HTML.
    """
    import m2r2  # noqa: PLC0415

    markdown = re.sub(r"<!--.*?-->\n?", "", render(addon), flags=re.S)
    return (
        ".. Generated from readme/ by `make readme` (tests/harness/addon_readme.py):\n"
        "   edit the fragments, not this file.\n\n" + m2r2.convert(markdown).lstrip("\n")
    )


def render_html(addon):
    """static/description/index.html of ``addon``: its README.rst as HTML (docutils)."""
    from docutils.core import publish_parts  # noqa: PLC0415

    parts = publish_parts(
        render_rst(addon),
        writer_name="html5",
        settings_overrides={"report_level": 5, "embed_stylesheet": False},
    )
    return (
        "<!-- Generated from readme/ by `make readme`: edit the fragments, not this file. -->\n"
        f'<section class="oe_container">\n{parts["html_body"]}</section>\n'
    )


def generated_files(addon):
    """(path, text) of every file generated for ``addon``."""
    folder = odoo_env.ADDONS / addon
    return [
        (folder / "README.rst", render_rst(addon)),
        (folder / "static" / "description" / "index.html", render_html(addon)),
    ]


def main(argv):
    check = "--check" in argv
    stale = []
    for addon in odoo_env.OUR_ADDONS:
        for path, text in generated_files(addon):
            if path.exists() and path.read_text() == text:
                continue
            if check:
                stale.append(str(path.relative_to(odoo_env.REPO)))
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text)
                print(f"wrote {path.relative_to(odoo_env.REPO)}", flush=True)
    if stale:
        sys.exit(f"out of date (run make readme): {', '.join(stale)}")


if __name__ == "__main__":
    main(sys.argv[1:])
