import contextlib
import json
import uuid
from unittest.mock import patch

from odoo_test_helper import FakeModelLoader

from odoo.tests import HttpCase, TransactionCase, new_test_user
from odoo.tools import config

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

    @classmethod
    def set_retention_floor(cls, days):
        """Set the configuration file's retention floor for this class's tests."""
        cls.startClassPatcher(patch.dict(config.options, {"audit_min_retention_days": days}))

    @classmethod
    def tamper(cls, sql, params=()):
        """Change rows behind the triggers' back, as a DBA with superuser rights could."""
        cls.env.cr.execute("SET LOCAL session_replication_role = replica")
        cls.env.cr.execute(sql, list(params))
        rows = cls.env.cr.fetchall() if cls.env.cr.description else None
        cls.env.cr.execute("SET LOCAL session_replication_role = origin")
        cls.env.invalidate_all()
        return rows

    @classmethod
    def backdate(cls, events, days):
        """Move unsealed events ``days`` into the past (test set-up, before sealing)."""
        cls.tamper(
            "UPDATE integration_audit_event SET timestamp = timestamp - make_interval(days => %s)"
            " WHERE id = ANY(%s)",
            [days, events.ids],
        )


class FakeModelsMixin:
    """Give a test class the models of tests/models.py for audit rules of its own.

    Call ``_load_fake_models()`` in ``setUpClass`` before creating records; the
    registry is restored when the class is done, also when its set-up fails.
    """

    @classmethod
    def _load_fake_models(cls):
        cls.loader = FakeModelLoader(cls.env, cls.__module__)
        cls.loader.backup_registry()
        # imported here, after the backup, so that the registry forgets them again
        from .models import IntegrationAuditTestRecord, IntegrationAuditTestTag  # noqa: PLC0415

        # class cleanups rather than tearDownClass: they also run when setUpClass
        # fails later on, and before the cleanups of TransactionCase (LIFO), whose
        # registry reset then rebuilds the restored models; last, check that no
        # fake model is left for the test classes that follow
        cls.addClassCleanup(cls._check_fake_models_removed)
        cls.addClassCleanup(cls.loader.restore_registry)
        cls.loader.update_registry((IntegrationAuditTestTag, IntegrationAuditTestRecord))
        cls.Record = cls.env["integration.audit.test.record"]
        cls.Tag = cls.env["integration.audit.test.tag"]
        # internal users may edit them, as they may the business records rules audit
        cls.env["ir.model.access"].create(
            [
                {
                    "name": "%s: internal users" % model._name,
                    "model_id": cls.env["ir.model"]._get_id(model._name),
                    "group_id": cls.env.ref("base.group_user").id,
                    "perm_read": True,
                    "perm_write": True,
                    "perm_create": True,
                    "perm_unlink": True,
                }
                for model in (cls.Tag, cls.Record)
            ]
        )

    @classmethod
    def _check_fake_models_removed(cls):
        left = {"integration.audit.test.record", "integration.audit.test.tag"} & set(cls.registry)
        if left:
            raise AssertionError("fake models left in the registry: %s" % sorted(left))

    @classmethod
    def _create_audit_rule(cls, model_name, field_names=(), **vals):
        """An audit rule on ``model_name``, auditing ``field_names`` (all when empty)."""
        fields = cls.env["ir.model.fields"].search(
            [("model", "=", model_name), ("name", "in", list(field_names))]
        )
        if len(fields) != len(field_names):
            raise ValueError("%s lacks a field of %s" % (model_name, field_names))
        return cls.env["integration.audit.rule"].create(
            dict(
                {
                    "name": model_name,
                    "model_id": cls.env["ir.model"]._get_id(model_name),
                    "field_ids": [(6, 0, fields.ids)],
                },
                **vals,
            )
        )


class AuditRpcCase(HttpCase):
    """Attacks over JSON-RPC, as a browser or script would send them."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True, mail_notrack=True))
        cls.Event = cls.env["integration.audit.event"]

    @classmethod
    def audit_user(cls, login, groups, company=None, companies=None):
        """An internal user with ``groups`` (comma-separated XML ids); password = login."""
        company = company or cls.env.company
        return new_test_user(
            cls.env,
            login=login,
            password=login + "-pass-1234",
            groups="base.group_user" + ("," + groups if groups else ""),
            company_id=company.id,
            company_ids=[(6, 0, (companies or company).ids)],
        )

    def login(self, user):
        self.authenticate(user.login, user.login + "-pass-1234")

    def call(self, model, method, *args, **kwargs):
        """``/web/dataset/call_kw``; returns the result or raises JsonRpcException."""
        return self.make_jsonrpc_request(
            "/web/dataset/call_kw",
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def call_error(self, model, method, *args, **kwargs):
        """The error of a call that must fail: (exception class name, message)."""
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "id": 1,
                    "params": {
                        "model": model,
                        "method": method,
                        "args": list(args),
                        "kwargs": kwargs,
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200)
        error = response.json().get("error")
        if not error:
            raise AssertionError(
                "%s.%s was allowed: %s" % (model, method, response.json().get("result"))
            )
        return error["data"]["name"], error["data"]["message"]

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
