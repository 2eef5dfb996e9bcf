"""Install Odoo 18.0 into ``.venv`` when the chosen interpreter cannot import it.

``make run``, ``make test`` and ``make bench`` call :func:`ensure_odoo` first. An
interpreter that already imports Odoo 18 is used as is; otherwise this module

1. finds a Python 3.10 to 3.12 on PATH (3.12 preferred; ``HCSC_BOOTSTRAP_PYTHON``
   overrides) and creates ``.venv`` in the repository with it;
2. gets Odoo's source from ``ODOO_SOURCE``: a source directory, a ``.tar.gz`` /
   ``.tgz`` / ``.zip`` archive, or a URL (default: Odoo's official 18.0 branch
   archive, :data:`DEFAULT_ODOO_SOURCE`), unpacked under ``.local/odoo-src``;
3. fills the wheelhouse ``.local/wheelhouse`` (``HCSC_WHEELHOUSE``) with wheels
   for Odoo's requirements (``psycopg2-binary`` for ``psycopg2``, without
   ``python-ldap``), ours and the test tools, every version pinned by
   ``requirements-lock.txt``; binary wheels only, except the three pure-Python
   packages PyPI has no wheel for (:data:`PURE_PYTHON_SDISTS`), built into
   wheels without a compiler;
4. installs from that wheelhouse alone, then Odoo itself, editable in compat
   mode (a path entry, so addon wheels that install into
   ``site-packages/odoo/addons`` do not hide the source tree).

Standard library only, so any Python 3 can run it.

    python -m tests.harness.bootstrap install     # .venv, as make does
    python -m tests.harness.bootstrap wheelhouse  # only download/build the wheels
    python -m tests.harness.bootstrap lock        # rewrite requirements-lock.txt from .venv
    python -m tests.harness.bootstrap constraints lint  # a lock section as a constraints file
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.request
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOCAL = REPO / ".local"
VENV = REPO / ".venv"
LOCK = REPO / "requirements-lock.txt"
DEFAULT_ODOO_SOURCE = "https://github.com/odoo/odoo/archive/refs/heads/18.0.tar.gz"
SUPPORTED_PYTHONS = ("3.12", "3.11", "3.10")
# Requirement files installed into .venv besides Odoo's own.
PROJECT_REQUIREMENTS = ("requirements.txt", "tests/requirements.txt")
# Needed before Odoo's editable install (which runs without build isolation).
BUILD_TOOLS = ("setuptools", "wheel")
# Pure-Python packages Odoo 18.0 pins that PyPI has as source only: built into
# wheels by pip, which needs no compiler for them.
PURE_PYTHON_SDISTS = ("docopt", "ofxparse", "vobject")
# Odoo pins with no wheel for Python 3.12 on PyPI: the nearest release that has one.
WHEEL_REPLACEMENTS = {"rjsmin": "1.2.2"}
EXCLUDED = ("python-ldap",)  # only auth_ldap needs it, and it has no wheel


class BootstrapError(SystemExit):
    """Odoo could not be installed: exits with one sentence saying what to do."""

    def __init__(self, sentence):
        super().__init__(f"error: {sentence}")


def say(text):
    print(text, flush=True)


def run(command, **kwargs):
    say("+ " + " ".join(str(part) for part in command))
    return subprocess.run([str(part) for part in command], **kwargs)


def odoo_major(python):
    """The major version of the Odoo ``python`` imports, or None."""
    result = subprocess.run(
        [str(python), "-c", "import odoo.release as r; print(r.version_info[0])"],
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        return None
    try:
        return int(result.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return None


def python_version(python):
    """``"3.12"`` for a Python 3.12 interpreter, None when it does not run."""
    try:
        result = subprocess.run(
            [str(python), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return result.stdout.strip() if result.returncode == 0 else None


def venv_python():
    return VENV / "bin" / "python"


def find_base_python():
    """A Python 3.10-3.12 to build ``.venv`` with, 3.12 preferred."""
    override = os.environ.get("HCSC_BOOTSTRAP_PYTHON")
    if override:
        version = python_version(override)
        if version not in SUPPORTED_PYTHONS:
            raise BootstrapError(
                f"HCSC_BOOTSTRAP_PYTHON={override} is Python {version}; "
                "Odoo 18.0 needs 3.10 to 3.12."
            )
        return override, version
    found = {}
    for name in ("python3.12", "python3.11", "python3.10", "python3", "python"):
        path = shutil.which(name)
        version = path and python_version(path)
        if version in SUPPORTED_PYTHONS and version not in found:
            found[version] = path
    for version in SUPPORTED_PYTHONS:
        if version in found:
            return found[version], version
    raise BootstrapError(
        "no Python 3.10, 3.11 or 3.12 found on PATH to install Odoo 18.0 with; install one "
        "(3.12 preferred) or set HCSC_BOOTSTRAP_PYTHON=/path/to/python3.12."
    )


# ---------------------------------------------------------------- Odoo source


def _is_source_tree(path):
    return (path / "setup.py").exists() and (path / "odoo" / "release.py").exists()


def _source_major(path):
    text = (path / "odoo" / "release.py").read_text(errors="replace")
    match = re.search(r"^version_info\s*=\s*\(\s*'?(?:saas~)?(\d+)", text, re.M)
    return int(match.group(1)) if match else None


def _download(url, destination):
    say(f"Downloading Odoo's source from {url} ...")
    partial = destination.with_suffix(destination.suffix + ".part")
    try:
        with urllib.request.urlopen(url, timeout=60) as response, partial.open("wb") as out:
            total = 0
            next_report = 50 << 20
            while chunk := response.read(1 << 20):
                out.write(chunk)
                total += len(chunk)
                if total >= next_report:
                    say(f"  {total >> 20} MB")
                    next_report += 50 << 20
    except (OSError, ValueError) as error:
        partial.unlink(missing_ok=True)
        raise BootstrapError(
            f"could not download Odoo's source from {url} ({error}); set ODOO_SOURCE to a "
            "local Odoo 18.0 source directory, a local .tar.gz/.zip archive of it, or another URL."
        ) from None
    partial.rename(destination)


def _unpack(archive):
    """Unpack an archive under .local/odoo-src once; return the source tree in it."""
    digest = hashlib.sha256(str(archive.resolve()).encode()).hexdigest()[:8]
    target = LOCAL / "odoo-src" / f"{archive.name.split('.')[0]}-{digest}"
    if not target.exists():
        say(f"Unpacking {archive} into {target} ...")
        partial = target.with_name(target.name + ".part")
        shutil.rmtree(partial, ignore_errors=True)
        partial.mkdir(parents=True)
        try:
            if archive.name.endswith(".zip"):
                with zipfile.ZipFile(archive) as zipped:
                    zipped.extractall(partial)
            else:
                with tarfile.open(archive) as tarred:
                    if hasattr(tarfile, "data_filter"):
                        tarred.extractall(partial, filter="data")
                    else:
                        tarred.extractall(partial)
        except (OSError, tarfile.TarError, zipfile.BadZipFile) as error:
            raise BootstrapError(
                f"{archive} is not a readable Odoo source archive ({error}); set ODOO_SOURCE "
                "to a local Odoo 18.0 source directory or archive."
            ) from None
        partial.rename(target)
    candidates = [target, *sorted(p for p in target.iterdir() if p.is_dir())]
    for candidate in candidates:
        if _is_source_tree(candidate):
            return candidate
    raise BootstrapError(
        f"{archive} holds no Odoo source tree (setup.py and odoo/release.py); set ODOO_SOURCE "
        "to an Odoo 18.0 source directory or archive."
    )


def resolve_source(spec=None):
    """The Odoo source tree named by ``ODOO_SOURCE`` (downloaded/unpacked as needed)."""
    spec = spec or os.environ.get("ODOO_SOURCE") or DEFAULT_ODOO_SOURCE
    if re.match(r"^(https?|ftp|file)://", spec):
        downloads = LOCAL / "downloads"
        downloads.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^A-Za-z0-9._-]", "_", spec.rstrip("/").rsplit("/", 1)[-1]) or "odoo"
        archive = downloads / f"{hashlib.sha256(spec.encode()).hexdigest()[:8]}-{name}"
        if not archive.exists():
            _download(spec, archive)
        source = _unpack(archive)
    else:
        path = Path(spec).expanduser().resolve()
        if path.is_dir():
            source = path
        elif path.is_file():
            source = _unpack(path)
        else:
            raise BootstrapError(
                f"ODOO_SOURCE={spec} is neither a URL nor an existing directory or archive; "
                "set ODOO_SOURCE to an Odoo 18.0 source directory, archive or URL."
            )
    if not _is_source_tree(source):
        raise BootstrapError(
            f"{source} is not an Odoo source tree (no setup.py and odoo/release.py); set "
            "ODOO_SOURCE to an Odoo 18.0 source directory, archive or URL."
        )
    major = _source_major(source)
    if major != 18:
        raise BootstrapError(
            f"{source} holds Odoo {major}, not 18.0; set ODOO_SOURCE to an Odoo 18.0 source."
        )
    return source


# ---------------------------------------------------------------- requirements


def odoo_requirements(source, python_version_text):
    """Odoo's requirements as installable from wheels: write them to .local and return the path.

    On the locked Python (3.12) names only, so the lock decides every version;
    elsewhere Odoo's own per-version pins.
    """
    lines = []
    for raw in (source / "requirements.txt").read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        requirement, _sep, marker = line.partition(";")
        name = re.split(r"[=<>!~ \[]", requirement.strip(), maxsplit=1)[0]
        if name.lower() in EXCLUDED:
            continue
        if name.lower() == "psycopg2":
            requirement = requirement.replace("psycopg2", "psycopg2-binary", 1)
            name = "psycopg2-binary"
        if python_version_text == locked_python():
            requirement = name
        elif name.lower() in WHEEL_REPLACEMENTS:
            requirement = f"{name}=={WHEEL_REPLACEMENTS[name.lower()]}"
        lines.append(f"{requirement.strip()} ; {marker.strip()}" if marker else requirement)
    path = LOCAL / "odoo-requirements.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "# Generated by tests/harness/bootstrap.py from Odoo's requirements.txt\n"
        + "\n".join(lines)
        + "\n"
    )
    return path


def locked_python():
    """The Python version the lock file was made with (its ``# python:`` line)."""
    match = re.search(r"^# python: (\d+\.\d+)", LOCK.read_text(), re.M)
    return match.group(1) if match else "3.12"


def constraints_for(python_version_text, odoo_requirement_file):
    """The lock's runtime section, or on another Python that less what Odoo pins for it."""
    runtime = lock_section("runtime")
    if python_version_text == locked_python():
        return runtime
    odoo_names = {
        re.split(r"[=<>!~ ;\[]", line, maxsplit=1)[0].lower()
        for line in odoo_requirement_file.read_text().splitlines()
        if line and not line.startswith("#")
    }
    kept = [
        line
        for line in runtime.read_text().splitlines()
        if line.startswith("#") or line.split("==")[0].lower() not in odoo_names
    ]
    path = LOCAL / f"constraints-py{python_version_text}.txt"
    path.write_text("\n".join(kept) + "\n")
    say(
        f"Python {python_version_text}: {LOCK.name} is made for {locked_python()}; Odoo's own "
        f"pins for {python_version_text} apply to its requirements, the lock to the rest."
    )
    return path


def wheelhouse_dir():
    return Path(os.environ.get("HCSC_WHEELHOUSE") or LOCAL / "wheelhouse")


def _requirement_args(requirement_files):
    args = []
    for path in requirement_files:
        args += ["-r", path]
    return args


def fill_wheelhouse(python, requirement_files, constraints, extra=()):
    """Download (and, for pure-Python sources, build) every wheel the install needs.

    A stamp named after the inputs skips the work when nothing changed, so a second
    run needs no network.
    """
    wheelhouse = wheelhouse_dir()
    wheelhouse.mkdir(parents=True, exist_ok=True)
    inputs = hashlib.sha256()
    inputs.update(str(python_version(python)).encode())
    for path in [*requirement_files, constraints]:
        inputs.update(Path(path).read_bytes())
    inputs.update(" ".join(extra).encode())
    stamp = wheelhouse / f".complete-{inputs.hexdigest()[:16]}"
    if stamp.exists():
        say(f"Wheelhouse {wheelhouse} is complete for these requirements.")
        return wheelhouse
    say(f"Filling the wheelhouse {wheelhouse} (binary wheels; pinned by {LOCK.name}) ...")
    command = [
        python,
        "-m",
        "pip",
        "wheel",
        "--quiet",
        "--disable-pip-version-check",
        f"--wheel-dir={wheelhouse}",
        f"--find-links={wheelhouse}",
        "--only-binary=:all:",
        f"--no-binary={','.join(PURE_PYTHON_SDISTS)}",
        f"--constraint={constraints}",
        *_requirement_args(requirement_files),
        *extra,
    ]
    if run(command, check=False).returncode != 0:
        raise BootstrapError(
            "could not download the Python packages Odoo needs (see pip's message above); "
            "check the connection to the package index (PIP_INDEX_URL), or fill "
            f"HCSC_WHEELHOUSE={wheelhouse} with the wheels from a machine that has one."
        )
    stamp.touch()
    return wheelhouse


def pip_offline(python, *args):
    """pip install from the wheelhouse alone: what is installed is what the lock says."""
    wheelhouse = wheelhouse_dir()
    command = [
        python,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-index",
        f"--find-links={wheelhouse}",
        # Python compiles on first import anyway; compiling ~100 packages here costs minutes
        "--no-compile",
        *args,
    ]
    if run(command, check=False).returncode != 0:
        raise BootstrapError(
            f"pip could not install from the wheelhouse {wheelhouse} (see above); delete it "
            "and run again with access to the package index."
        )


def create_venv(base_python):
    if VENV.exists():
        say(f"Recreating {VENV}: its Python cannot import Odoo 18.0.")
        shutil.rmtree(VENV)
    run([base_python, "-m", "venv", VENV], check=True)
    return venv_python()


def install_odoo(source=None):
    """Create ``.venv`` with Odoo 18.0 and every locked requirement; return its python."""
    base_python, version = find_base_python()
    source = resolve_source(source)
    say(f"Installing Odoo 18.0 from {source} into {VENV} with Python {version} ({base_python}).")
    python = create_venv(base_python)
    odoo_reqs = odoo_requirements(source, version)
    constraints = constraints_for(version, odoo_reqs)
    requirement_files = [odoo_reqs, *(REPO / name for name in PROJECT_REQUIREMENTS)]
    offline = os.environ.get("HCSC_OFFLINE") == "1"
    if not offline:
        fill_wheelhouse(python, requirement_files, constraints, extra=(*BUILD_TOOLS, "pgserver"))
    pip_offline(python, f"--constraint={constraints}", *BUILD_TOOLS)
    pip_offline(
        python,
        "--only-binary=:all:",
        f"--constraint={constraints}",
        *_requirement_args(requirement_files),
    )
    # Compat mode puts the source folder on sys.path: a plain editable install's
    # import hook would lose to site-packages/odoo/ once an addon wheel creates it.
    pip_offline(
        python,
        "--no-deps",
        "--no-build-isolation",
        "--use-pep517",
        "--config-settings",
        "editable_mode=compat",
        "--editable",
        source,
    )
    if odoo_major(python) != 18:
        raise BootstrapError(f"Odoo was installed into {VENV} but does not import there.")
    report(python, source)
    return python


def report(python, source):
    """Print what is installed in the venv and from where."""
    frozen = subprocess.run(
        [str(python), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    (LOCAL / "venv-packages.txt").write_text("\n".join(frozen) + "\n")
    say(
        f"Installed in {VENV}: Odoo 18.0 (editable, from {source}) and {len(frozen)} packages "
        f"from {wheelhouse_dir()}, versions pinned by {LOCK.name} (list in "
        f"{LOCAL / 'venv-packages.txt'}): " + ", ".join(frozen)
    )


def ensure_odoo():
    """The interpreter to run the harness with: this one when it imports Odoo 18, else .venv's.

    Installs Odoo into ``.venv`` when neither can import it.
    """
    if odoo_major(sys.executable) == 18:
        return Path(sys.executable)
    if venv_python().exists() and odoo_major(venv_python()) == 18:
        return venv_python()
    say(f"Odoo 18.0 is not importable from {sys.executable}: installing it into {VENV}.")
    return install_odoo()


def lock_section(name="runtime"):
    """One section of the lock file as a constraints file under .local; return its path.

    The lint tools run in pre-commit's own environments and pin some packages
    differently from Odoo (polib), so they have their own section.
    """
    lines, current = [], None
    for line in LOCK.read_text().splitlines():
        match = re.match(r"^# \[(\w+)\]", line)
        if match:
            current = match.group(1)
        elif current == name and line and not line.startswith("#"):
            lines.append(line)
    path = LOCAL / f"constraints-{name}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"# [{name}] section of {LOCK.name}\n" + "\n".join(lines) + "\n")
    return path


def _frozen(python):
    frozen = subprocess.run(
        [str(python), "-m", "pip", "freeze", "--all", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    return sorted(
        (
            line
            for line in frozen
            if "==" in line and not line.lower().startswith(("#", "odoo==", "pip==", "-e"))
        ),
        key=str.lower,
    )


LINT_TOOLS = (
    "ruff==0.17.5",
    "pylint-odoo==10.0.12",
    "pre-commit-hooks==6.0.0",
    "oca-odoo-pre-commit-hooks==0.2.27",
)


def write_lock(python=None):
    """Rewrite the lock file from real installs: ``.venv`` plus a venv of the lint tools.

    Run after ``install`` when a requirement changed; it adds the benchmark
    requirements and the embedded PostgreSQL to ``.venv`` first.
    """
    python = python or venv_python()
    version = python_version(python)
    bench = REPO / "tests" / "benchmarks" / "requirements.txt"
    # the addon wheels depend on "odoo", whose metadata asks for psycopg2 (we have -binary)
    run(
        [python, "-m", "pip", "install", "--only-binary=:all:", "--no-deps", "-r", bench],
        check=True,
    )
    run([python, "-m", "pip", "install", "--only-binary=:all:", "pgserver"], check=True)
    lint_venv = LOCAL / "lint-venv"
    shutil.rmtree(lint_venv, ignore_errors=True)
    run([python, "-m", "venv", lint_venv], check=True)
    lint_python = lint_venv / "bin" / "python"
    run([lint_python, "-m", "pip", "install", "--only-binary=:all:", *LINT_TOOLS], check=True)
    runtime, lint = _frozen(python), _frozen(lint_python)
    LOCK.write_text(
        "# Every Python package the project installs, pinned, from a real install made by\n"
        "#   python -m tests.harness.bootstrap install --force\n"
        "#   .venv/bin/python -m tests.harness.bootstrap lock\n"
        "# (run both again after changing a requirement). tests/harness uses each section as pip\n"
        "# constraints (-c); make lint gives the lint section to pre-commit as PIP_CONSTRAINT.\n"
        f"# python: {version}\n"
        "# [runtime] Odoo 18.0's requirements (wheels: psycopg2-binary, no python-ldap),\n"
        "# requirements.txt, tests/requirements.txt, tests/benchmarks/requirements.txt, the\n"
        "# embedded PostgreSQL (pgserver) and the build tools\n"
        + "\n".join(runtime)
        + "\n# [lint] the pre-commit hooks' environments (.pre-commit-config.yaml)\n"
        + "\n".join(lint)
        + "\n"
    )
    say(f"Wrote {LOCK} ({len(runtime)} + {len(lint)} pins, Python {version}).")


def main(argv=None):
    """Command line: ``install``, ``wheelhouse`` or ``lock``."""
    argv = sys.argv[1:] if argv is None else argv
    command = argv[0] if argv else "install"
    if command == "install":
        python = ensure_odoo() if "--force" not in argv else install_odoo()
        say(f"Odoo 18.0 is importable from {python}.")
    elif command == "wheelhouse":
        base_python, version = find_base_python()
        source = resolve_source()
        odoo_reqs = odoo_requirements(source, version)
        constraints = constraints_for(version, odoo_reqs)
        requirement_files = [odoo_reqs, *(REPO / name for name in PROJECT_REQUIREMENTS)]
        fill_wheelhouse(
            base_python, requirement_files, constraints, extra=(*BUILD_TOOLS, "pgserver")
        )
    elif command == "lock":
        write_lock()
    elif command == "constraints":
        print(lock_section(argv[1] if len(argv) > 1 else "runtime"))
    else:
        raise SystemExit(
            "usage: python -m tests.harness.bootstrap install [--force]|wheelhouse|lock|"
            "constraints [runtime|lint]"
        )


if __name__ == "__main__":
    main()
