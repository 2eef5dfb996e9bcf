"""pytest hooks for the addon suite run by pytest-odoo (``make test``, README "Tests").

pytest-odoo skips an ``HttpCase`` when ``--odoo-http`` is missing, and a test can
skip itself when something it needs is not installed. In this repository every
addon test must run: a skipped Odoo test case is reported as a failure that says
which option or module was missing, so a partial run can never look green.
"""

import pytest


def _odoo_test_case(item):
    """The Odoo test case instance behind a collected item, or None."""
    instance = getattr(item, "instance", None)
    if instance is None:
        return None
    try:
        from odoo.tests.common import BaseCase  # noqa: PLC0415
    except ImportError:
        return None
    return instance if isinstance(instance, BaseCase) else None


def _http_enabled(config):
    try:
        return bool(config.getoption("--odoo-http"))
    except ValueError:
        return False


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """Refuse to run an HttpCase without a server instead of letting it be skipped."""
    case = _odoo_test_case(item)
    if case is None:
        return
    from odoo.tests.common import HttpCase  # noqa: PLC0415

    if isinstance(case, HttpCase) and not _http_enabled(item.config):
        pytest.fail(
            f"{item.nodeid} is an HttpCase: run the addon suite with --odoo-http "
            "(see README, Tests)",
            pytrace=False,
        )


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Report a skipped Odoo test case as failed, with the reason it gave."""
    outcome = yield
    report = outcome.get_result()
    if not report.skipped or _odoo_test_case(item) is None:
        return
    if getattr(report, "wasxfail", None) is not None:
        return
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
    report.outcome = "failed"
    report.longrepr = f"addon test skipped, which this suite counts as a failure: {reason}"
