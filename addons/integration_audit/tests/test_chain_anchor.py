from odoo.tests import tagged

from .. import chain
from .test_chain_purge import RETENTION_DAYS, ChainTamperCase, _days


@tagged("post_install", "-at_install")
class TestChainAnchor(ChainTamperCase):
    """The head kept outside the database catches what the chain alone cannot."""

    def rehash_chain(self):
        """Recompute every seal from the events, as a DBA covering his tracks would."""
        self.env.cr.execute(
            "SELECT s.sequence, s.event_timestamp, e.* FROM integration_audit_seal s"
            " LEFT JOIN integration_audit_event e ON e.id = s.event_id ORDER BY s.sequence"
        )
        prev = chain.GENESIS
        for row in self.env.cr.dictfetchall():
            if row["id"] is None:
                continue
            ev_hash = chain.event_hash(row)
            prev = chain.chain_hash(prev, ev_hash, row["event_timestamp"])
            self.tamper(
                "UPDATE integration_audit_seal SET event_hash = %s, chain_hash = %s"
                " WHERE sequence = %s",
                [ev_hash, prev, row["sequence"]],
            )

    def test_anchor_names_the_sealed_head(self):
        pending = self.Event._log("manual_action", "sealed by the anchor")
        anchor = self.Event._chain_anchor()
        self.env.cr.execute(
            "SELECT sequence, event_id, chain_hash FROM integration_audit_seal"
            " ORDER BY sequence DESC LIMIT 1"
        )
        sequence, event_id, chain_hash = self.env.cr.fetchone()
        self.assertEqual(event_id, pending.id)
        self.assertEqual(
            (anchor["sequence"], anchor["count"], anchor["event_id"], anchor["chain_hash"]),
            (sequence, sequence, event_id, chain_hash),
        )
        self.assertEqual(anchor["retention_days"], RETENTION_DAYS)
        self.assertTrue(anchor["timestamp"])

    def test_chain_that_extends_the_anchor_verifies(self):
        anchor = self.Event._chain_anchor()
        self.Event._log("manual_action", "after the anchor")
        self.Event._seal_pending()
        report = self.Event._verify_chain(anchor=anchor)
        self.assertTrue(report["ok"], report)

    def test_rewritten_and_rehashed_history_differs_from_the_anchor(self):
        anchor = self.Event._chain_anchor()
        victim = self.recent[1]
        self.tamper(
            "UPDATE integration_audit_event SET summary = 'nothing happened' WHERE id = %s",
            [victim.id],
        )
        self.rehash_chain()
        self.assertTrue(self.Event._verify_chain()["ok"], "a rehashed chain fools the chain alone")
        report = self.Event._verify_chain(anchor=anchor)
        self.assertFalse(report["ok"])
        self.assertEqual(report["error"]["sequence"], anchor["sequence"])
        self.assertIn("differs from the anchor", report["error"]["reason"])

    def test_chain_cut_back_before_the_anchor_is_found(self):
        anchor = self.Event._chain_anchor()
        self.env.cr.execute(
            "SELECT event_id FROM integration_audit_seal ORDER BY sequence DESC LIMIT 2"
        )
        newest = [row[0] for row in self.env.cr.fetchall()]
        self.tamper(
            "DELETE FROM integration_audit_seal WHERE event_id = ANY(%s);"
            " DELETE FROM integration_audit_event WHERE id = ANY(%s)",
            [newest, newest],
        )
        self.assertTrue(self.Event._verify_chain()["ok"], "a cut chain fools the chain alone")
        report = self.Event._verify_chain(anchor=anchor)
        self.assertFalse(report["ok"])
        self.assertIn("cut back", report["error"]["reason"])

    def test_other_head_hash_is_refused(self):
        anchor = dict(self.Event._chain_anchor(), chain_hash="0" * 64)
        report = self.Event._verify_chain(anchor=anchor)
        self.assertFalse(report["ok"])
        self.assertIn("differs from the anchor", report["error"]["reason"])

    def test_purge_under_a_shortened_retention_after_the_anchor_is_refused(self):
        anchor = self.Event._chain_anchor()
        victim = self.Event._log("manual_action", "ten days old")
        self.backdate(victim, 10)
        self.Event._seal_pending()
        # the DBA shortens retention in the database and lets the purge run
        self.env["ir.config_parameter"].sudo().set_param("integration_audit.retention_days", "1")
        while self.Event._purge_batch(self.db_now() - _days(1)):
            pass
        self.Event._seal_pending()
        self.assertFalse(victim.exists())
        self.assertTrue(self.Event._verify_chain()["ok"])
        report = self.Event._verify_chain(anchor=anchor)
        self.assertFalse(report["ok"])
        self.assertIn("shorter retention than the anchor", report["error"]["reason"])
