import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .. import signing
from .common import QueueHttpCase, set_jobs


@tagged("post_install", "-at_install")
class TestAccessOverRpc(QueueHttpCase):
    """Users attack the queue as a real client would: JSON-RPC on /web/dataset/call_kw."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Queue Company B"})
        common = {"company_id": cls.company_a.id, "company_ids": [(6, 0, cls.company_a.ids)]}
        cls.iq_user = new_test_user(
            cls.env,
            "iq_user",
            groups="base.group_user,integration_queue.group_integration_user",
            **common,
        )
        cls.iq_manager = new_test_user(
            cls.env,
            "iq_manager",
            groups="base.group_user,integration_queue.group_integration_manager",
            **common,
        )
        cls.partner_b = cls.env["integration.partner"].create(
            {
                "code": "TEST-EHR-B",
                "name": "Test EHR of company B",
                "company_id": cls.company_b.id,
                "rate_limit": 1000,
                "message_type_ids": [(6, 0, cls.ping_type.ids)],
            }
        )
        cls.secret_b = signing.generate_secret()
        cls.env["integration.partner.secret"]._store(cls.partner_b, cls.secret_b)

    def _dead_ping(self, msg_id):
        self.ping_type.max_attempts = 1
        self.receive({"fail": "technical"}, msg_id=msg_id)
        self.run_jobs()
        message = self.message(msg_id)
        self.assertEqual(message.job_ids.state, "dead")
        return message

    # ------------------------------------------------------------------
    # Point 1: jobs run only registered code
    # ------------------------------------------------------------------

    def test_manager_cannot_retarget_a_dead_job_and_requeue_it(self):
        job = self._dead_ping("msg_retarget").job_ids
        system = self.env.ref("base.group_system")
        self.authenticate("iq_manager", "iq_manager")
        attack = {
            "model_name": "res.users",
            "method_name": "write",
            "record_ids": json.dumps(self.iq_manager.ids),
            "kwargs": json.dumps({"vals": {"groups_id": [(4, system.id)]}}),
        }
        self.assertRefused("integration.job", "write", job.ids, attack)
        for name, value in attack.items():
            self.assertRefused("integration.job", "write", job.ids, {name: value})
        self.assertRefused("integration.job", "write", job.ids, {"lane": "bulk"})
        # requeue is allowed and re-runs exactly what was stored
        _result, error = self.rpc("integration.job", "action_requeue", job.ids)
        self.assertIsNone(error)
        job.invalidate_recordset()
        self.assertEqual(job.state, "pending")
        self.run_jobs()
        self.assertEqual((job.model_name, job.method_name), ("integration.ping", "_handle"))
        self.assertEqual(job.state, "dead")
        self.assertNotIn(system, self.iq_manager.groups_id)

    def test_manager_cannot_change_which_code_a_message_type_runs(self):
        self.authenticate("iq_manager", "iq_manager")
        for vals in (
            {"code": "inventory.snapshot"},
            {"direction": "outbound"},
            {"handler_model": "res.users", "handler_method": "write"},
            {"schema": "{}"},
        ):
            self.assertRefused("integration.message.type", "write", self.ping_type.ids, vals)
        self.assertRefused(
            "integration.message.type", "create", {"code": "evil.type", "name": "Evil"}
        )
        self.assertRefused("integration.message.type", "unlink", self.ping_type.ids)
        self.assertEqual(self.ping_type.handler_model, "integration.ping")
        self.assertEqual(self.ping_type.handler_method, "_handle")
        # not even an administrator re-routes an existing type: messages are routed by code
        with self.assertRaises(UserError):
            self.ping_type.write({"code": "inventory.snapshot"})

    def test_nobody_creates_a_job_with_a_target_of_their_choosing(self):
        evil = {
            "name": "evil",
            "model_name": "res.users",
            "method_name": "write",
            "record_ids": json.dumps(self.iq_manager.ids),
            "kwargs": json.dumps({"vals": {"login": "pwned"}}),
        }
        self.authenticate("iq_manager", "iq_manager")
        self.assertRefused("integration.job", "create", evil)
        # superuser included, through the ORM
        with self.assertRaises(AccessError):
            self.env["integration.job"].sudo().create(evil)
        with self.assertRaises(AccessError):
            self.env["integration.job"]._enqueue(
                "res.users", "write", record_ids=self.iq_manager.ids, kwargs={"vals": {}}
            )
        # private and undecorated methods are not targets, whatever their name
        with self.assertRaises(AccessError):
            self.env["integration.job"]._enqueue("integration.ping", "_fail_as_asked")
        with self.assertRaises(AccessError):
            self.env["integration.job"]._enqueue("integration.message", "_deliver_outbound")

    def test_stored_target_that_is_not_registered_is_never_run(self):
        """Even a row changed behind the ORM's back runs nothing but registered code."""
        job = self._dead_ping("msg_sql_tamper").job_ids
        set_jobs(job, model_name="res.users", method_name="write", state="pending", eta=None)
        self.run_jobs()
        self.assertEqual(job.state, "exception")
        self.assertIn("not registered", job.last_error)

    def test_message_content_and_routing_cannot_be_rewritten(self):
        self.receive({"note": "original"}, msg_id="msg_rewrite")
        message = self.message("msg_rewrite")
        self.authenticate("iq_manager", "iq_manager")
        for vals in (
            {"payload": '{"note": "forged"}'},
            {"message_type_id": self.ping_type.id, "message_type": "inventory.snapshot"},
            {"partner_id": self.partner_b.id},
            {"external_id": "msg_other"},
            {"direction": "outbound"},
            {"state": "done"},
        ):
            self.assertRefused("integration.message", "write", message.ids, vals)
        with self.assertRaises(AccessError):
            message.sudo().write({"payload": '{"note": "forged"}'})
        self.assertEqual(message.payload, '{"note": "original"}')

    # ------------------------------------------------------------------
    # Point 11: buttons check groups
    # ------------------------------------------------------------------

    def test_integration_user_buttons_are_refused_naming_the_group(self):
        message = self._dead_ping("msg_buttons")
        self.authenticate("iq_user", "iq_user")
        for model, method, ids in (
            ("integration.job", "action_requeue", message.job_ids.ids),
            ("integration.job", "action_cancel", message.job_ids.ids),
            ("integration.message", "action_replay", message.ids),
            ("integration.message", "action_cancel", message.ids),
            ("integration.partner", "action_rotate_secret", self.partner.ids),
        ):
            text = self.assertRefused(model, method, ids)
            # refused up front by the button's own check, not by a later write
            self.assertIn("needs the group Integration / Integration Manager", text, method)
        self.assertEqual(message.job_ids.state, "dead")
        self.assertEqual(len(self.partner.secret_ids), 1)
        # what an Integration User may do
        _result, error = self.rpc("integration.message", "action_view_trace", message.ids)
        self.assertIsNone(error)
        _result, error = self.rpc("integration.partner", "action_view_messages", self.partner.ids)
        self.assertIsNone(error)

    def test_manager_rotates_secret_of_own_company_only(self):
        self.authenticate("iq_manager", "iq_manager")
        result, error = self.rpc("integration.partner", "action_rotate_secret", self.partner.ids)
        self.assertIsNone(error)
        self.assertEqual(result["res_model"], "integration.secret.reveal")
        self.assertRefused("integration.partner", "action_rotate_secret", self.partner_b.ids)
        self.assertEqual(len(self.partner_b.secret_ids), 1)

    def test_secret_records_cannot_be_forged(self):
        self.authenticate("iq_manager", "iq_manager")
        secret = self.partner.secret_ids
        self.assertRefused(
            "integration.partner.secret",
            "create",
            {"partner_id": self.partner.id, "fingerprint": secret.fingerprint},
        )
        self.assertRefused(
            "integration.partner.secret", "write", secret.ids, {"fingerprint": "000000000000"}
        )
        self.assertRefused(
            "integration.partner.secret", "write", secret.ids, {"partner_id": self.partner_b.id}
        )

    def test_server_setup_methods_are_not_callable(self):
        self.authenticate("iq_user", "iq_user")
        self.assertRefused("integration.queue.stat", "init", [])
        self.assertRefused("integration.job", "init", [])

    # ------------------------------------------------------------------
    # Point 9: multi-company isolation
    # ------------------------------------------------------------------

    def test_company_a_user_reads_nothing_of_company_b(self):
        contact = self.env["res.partner"].create({"name": "Ward B", "ref": "WARD-B"})
        self.receive({"note": "a", "lookup": "WARD-B"}, msg_id="msg_company_a")
        self.receive(
            {"note": "b", "lookup": "WARD-B"},
            msg_id="msg_company_b",
            secret=self.secret_b,
            partner_code=self.partner_b.code,
        )
        rejected_b = self.receive(
            {"note": 42}, secret=self.secret_b, partner_code=self.partner_b.code
        )
        self.assertEqual(rejected_b.status, 400)
        self.run_jobs()
        message_b = self.env["integration.message"].search([("external_id", "=", "msg_company_b")])
        self.assertEqual(message_b.company_id, self.company_b)
        self.assertEqual(message_b.link_ids.res_id, contact.id)
        b_records = {
            "integration.partner": self.partner_b.ids,
            "integration.partner.secret": self.partner_b.secret_ids.ids,
            "integration.message": message_b.ids,
            "integration.job": message_b.job_ids.ids,
            "integration.message.link": message_b.link_ids.ids,
            "integration.queue.stat": self.env["integration.queue.stat"]
            .search([("partner_id", "=", self.partner_b.id)])
            .ids,
            "integration.queue.counter": self.env["integration.queue.counter"]
            .search([("company_id", "=", self.company_b.id)])
            .ids,
        }
        for user in ("iq_user", "iq_manager"):
            self.authenticate(user, user)
            for model, ids in b_records.items():
                self.assertTrue(ids, model)
                if model == "integration.queue.counter" and user == "iq_user":
                    self.assertRefused(model, "search", [])  # managers only
                    continue
                found, error = self.rpc(model, "search", [])
                self.assertIsNone(error, model)
                self.assertFalse(set(found) & set(ids), f"{user} finds {model} of company B")
                self.assertRefused(model, "read", ids, ["id"])
            found, error = self.rpc("integration.message", "search", [])
            self.assertIn(self.message("msg_company_a").id, found)
        # the audit events of company B's partner, its rejections included, stay in company B
        events_b = self.env["integration.audit.event"].search(
            [("partner_code", "=", self.partner_b.code)]
        )
        self.assertIn("inbound_rejected", events_b.mapped("event_type"))
        self.assertEqual(events_b.company_id, self.company_b)
