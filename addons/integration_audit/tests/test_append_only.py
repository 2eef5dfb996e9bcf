import psycopg2

from odoo.exceptions import AccessError
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import AuditCase


@tagged("post_install", "-at_install")
class TestAppendOnly(AuditCase):
    @classmethod
    def _setup_records(cls):
        cls.event = cls.env["integration.audit.event"]._log("manual_action", "append-only probe")

    def test_orm_refuses_create_write_unlink_even_as_superuser(self):
        events = self.event.sudo()
        with self.assertRaises(AccessError):
            events.write({"summary": "rewritten"})
        with self.assertRaises(AccessError):
            events.unlink()
        with self.assertRaises(AccessError):
            events.create({"event_type": "manual_action", "summary": "forged"})
        self.assertEqual(self.event.summary, "append-only probe")

    @mute_logger("odoo.sql_db")
    def test_database_refuses_update_delete_and_truncate(self):
        for statement in (
            "UPDATE integration_audit_event SET summary = 'x' WHERE id = %s",
            "DELETE FROM integration_audit_event WHERE id = %s",
            "UPDATE integration_audit_seal SET chain_hash = 'x' WHERE event_id = %s",
            "DELETE FROM integration_audit_seal WHERE event_id = %s",
        ):
            self.Event._seal_pending()
            with (
                self.subTest(statement=statement),
                self.assertRaises(psycopg2.errors.InsufficientPrivilege),
                self.env.cr.savepoint(),
            ):
                self.env.cr.execute(statement, [self.event.id])
        for table in ("integration_audit_event", "integration_audit_seal"):
            with self.assertRaises(psycopg2.errors.InsufficientPrivilege), self.env.cr.savepoint():
                self.env.cr.execute(f"TRUNCATE {table}")  # pylint: disable=sql-injection

    def test_delete_allowed_only_inside_the_purge_switch(self):
        with self.env.cr.savepoint(flush=False) as savepoint:
            self.env.cr.execute("SELECT set_config('integration_audit.purge', 'on', true)")
            self.env.cr.execute(
                "DELETE FROM integration_audit_event WHERE id = %s", [self.event.id]
            )
            self.assertEqual(self.env.cr.rowcount, 1)
            savepoint.rollback()
