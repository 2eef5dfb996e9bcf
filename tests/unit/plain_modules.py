"""Load the addons' plain-python modules by path, without Odoo."""

import importlib.util
import sys
from pathlib import Path

ADDONS = Path(__file__).resolve().parents[2] / "addons"


def load(addon, module):
    """Import ``addons/<addon>/<module>.py`` as a stand-alone module (no ORM, no Odoo)."""
    name = f"_plain_{addon}_{module}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ADDONS / addon / f"{module}.py")
    loaded = importlib.util.module_from_spec(spec)
    sys.modules[name] = loaded
    spec.loader.exec_module(loaded)
    return loaded
