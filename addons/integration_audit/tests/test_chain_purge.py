import json
from datetime import timedelta

from odoo.tests import tagged

from .. import chain
from .common import AuditCase

RETENTION_DAYS = 30


class ChainTamperCase(AuditCase):
    """Old and recent sealed events, one legitimate purge, and a DBA's tools."""

    @classmethod
    def _setup_records(cls):
        cls.set_retention_floor(1)
        cls.env["ir.config_parameter"].sudo().set_param(
            "integration_audit.retention_days", str(RETENTION_DAYS)
        )
        cls.old = cls.Event.browse()
        for index in range(4):
            cls.old |= cls.Event._log("manual_action", f"old {index}")
        cls.backdate(cls.old, RETENTION_DAYS * 2)
        cls.recent = cls.Event.browse()
        for index in range(3):
            cls.recent |= cls.Event._log("manual_action", f"recent {index}")
        cls.Event._seal_pending()

    @classmethod
    def db_now(cls):
        cls.env.cr.execute("SELECT now() at time zone 'UTC'")
        return cls.env.cr.fetchone()[0]

    def seal_of(self, event_id):
        self.env.cr.execute(
            "SELECT sequence FROM integration_audit_seal WHERE event_id = %s", [event_id]
        )
        return self.env.cr.fetchone()[0]

    def forge_checkpoint(self, ids, cutoff_days=RETENTION_DAYS + 1, retention_days=RETENTION_DAYS):
        """Insert a retention checkpoint by SQL (as a DBA would) listing ``ids``."""
        details = {
            "cutoff": chain.normalise_timestamp(self.db_now() - _days(cutoff_days)),
            "retention_days": retention_days,
            "count": len(ids),
            "purged_ranges": chain.compress_ranges(ids),
        }
        return self.tamper(
            "INSERT INTO integration_audit_event"
            " (timestamp, event_type, summary, details, user_id, company_id)"
            " VALUES (now() at time zone 'UTC', 'retention_purge', 'Retention purge', %s, 1, %s)"
            " RETURNING id",
            [chain.canonical_json(details), self.env.company.id],
        )[0][0]

    def queue_for_sealing(self, event_id):
        self.tamper("INSERT INTO integration_audit_pending (event_id) VALUES (%s)", [event_id])

    def delete_events(self, events):
        self.tamper("DELETE FROM integration_audit_event WHERE id = ANY(%s)", [events.ids])

    def assert_broken_at(self, event, reason_part, report=None):
        report = report or self.Event._verify_chain()
        self.assertFalse(report["ok"], report)
        self.assertEqual(report["error"]["event_id"], event.id, report)
        self.assertEqual(report["error"]["sequence"], self.seal_of(event.id), report)
        self.assertIn(reason_part, report["error"]["reason"])
        return report


def _days(days):
    return timedelta(days=days)


@tagged("post_install", "-at_install")
class TestChainPurge(ChainTamperCase):
    def purge(self):
        while self.Event._purge_batch(self.db_now() - _days(RETENTION_DAYS)):
            pass
        self.Event._seal_pending()

    def test_legitimate_purge_verifies(self):
        self.purge()
        self.assertFalse(self.old.exists())
        report = self.Event._verify_chain()
        self.assertTrue(report["ok"], report)

    def test_deleted_event_without_checkpoint_is_found(self):
        victim = self.old[1]
        self.delete_events(victim)
        self.assert_broken_at(victim, "outside a sealed retention purge")

    def test_forged_unsealed_checkpoint_vouches_for_nothing(self):
        victim = self.old[2]
        self.forge_checkpoint(victim.ids)
        self.delete_events(victim)
        self.assert_broken_at(victim, "outside a sealed retention purge")

    def test_checkpoint_awaiting_seal_vouches_for_nothing(self):
        victim = self.old[0]
        self.queue_for_sealing(self.forge_checkpoint(victim.ids))
        self.delete_events(victim)
        self.assert_broken_at(victim, "outside a sealed retention purge")

    def test_sealed_checkpoint_over_events_newer_than_its_cutoff_is_refused(self):
        victim = self.recent[1]
        self.queue_for_sealing(self.forge_checkpoint(victim.ids))
        self.Event._seal_pending()  # what audit-verify does before it checks
        self.delete_events(victim)
        self.assert_broken_at(victim, "newer than its cutoff")

    def test_sealed_checkpoint_with_cutoff_inside_its_retention_is_refused(self):
        victim = self.recent[0]
        forged = self.forge_checkpoint(victim.ids, cutoff_days=0)
        self.queue_for_sealing(forged)
        self.Event._seal_pending()
        report = self.Event._verify_chain()
        self.assertFalse(report["ok"])
        self.assertEqual(report["error"]["event_id"], forged)
        self.assertIn("not past its retention", report["error"]["reason"])
        self.delete_events(victim)
        self.assert_broken_at(victim, "outside a sealed retention purge")

    def test_checkpoint_listing_later_events_is_refused(self):
        forged = self.forge_checkpoint(self.old[3].ids)
        later = self.Event._log("manual_action", "after the checkpoint")
        self.queue_for_sealing(forged)
        self.tamper(
            "UPDATE integration_audit_event SET details = %s WHERE id = %s",
            [
                json.dumps(
                    {
                        "cutoff": chain.normalise_timestamp(self.db_now() - _days(31)),
                        "retention_days": RETENTION_DAYS,
                        "count": 1,
                        "purged_ranges": [[later.id, later.id]],
                    }
                ),
                forged,
            ],
        )
        self.Event._seal_pending()
        self.delete_events(later)
        report = self.Event._verify_chain()
        self.assertFalse(report["ok"], report)
        self.assertEqual(report["error"]["event_id"], forged)
        self.assertIn("newer than itself", report["error"]["reason"])

    def test_widened_legitimate_checkpoint_breaks_its_seal(self):
        self.purge()
        checkpoint = self.events(event_type="retention_purge")[-1]
        victim = self.recent[2]
        details = json.loads(checkpoint.details)
        details["purged_ranges"].append([victim.id, victim.id])
        details["count"] += 1
        self.tamper(
            "UPDATE integration_audit_event SET details = %s WHERE id = %s",
            [chain.canonical_json(details), checkpoint.id],
        )
        self.delete_events(victim)
        # the altered checkpoint vouches for nothing: its first purged event is the break
        self.assert_broken_at(self.old[0], "outside a sealed retention purge")

    def test_backdated_seal_time_breaks_the_chain(self):
        victim = self.recent[0]
        self.tamper(
            "UPDATE integration_audit_seal"
            " SET event_timestamp = event_timestamp - interval '90 days' WHERE event_id = %s",
            [victim.id],
        )
        self.queue_for_sealing(self.forge_checkpoint(victim.ids))
        self.Event._seal_pending()
        self.delete_events(victim)
        self.assert_broken_at(victim, "chain hash")
