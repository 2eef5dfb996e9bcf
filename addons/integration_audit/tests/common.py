import contextlib
import uuid

from odoo.tests import TransactionCase

from ..correlation import CONTEXT_KEY


class AuditCase(TransactionCase):
    """Base for audit tests: a tracking-free env and helpers to read events."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_env()
        cls._setup_records()

    @classmethod
    def _setup_env(cls):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.Event = cls.env["integration.audit.event"]

    @classmethod
    def _setup_records(cls):
        """Override to create records shared by the class."""

    def new_cid(self):
        return "test-" + uuid.uuid4().hex

    @contextlib.contextmanager
    def correlated(self, records=None):
        """Yield (cid, env) where env carries a fresh correlation ID."""
        cid = self.new_cid()
        yield cid, self.env(context=dict(self.env.context, **{CONTEXT_KEY: cid}))

    def events(self, **where):
        domain = [(key, "=", value) for key, value in where.items()]
        return self.Event.sudo().search(domain, order="id")


@contextlib.contextmanager
def thread_env(registry, uid=1):
    """A committed-on-exit environment for a helper thread of a test.

    The test runner holds the registry lock while tests run; giving the cursor
    its transaction up front keeps a thread from waiting for that lock.
    """
    from odoo import api  # noqa: PLC0415

    with registry.cursor() as cr:
        cr.transaction = api.Transaction(registry)
        yield api.Environment(cr, uid, {})
