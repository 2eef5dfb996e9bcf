import json
import logging

from odoo import api, models

from odoo.addons.integration_audit.correlation import new_correlation_id, with_correlation_id

_logger = logging.getLogger(__name__)

LANES = ("critical", "standard", "bulk")


class IntegrationDemo(models.AbstractModel):
    """Demo data loaders: the demo story goes through the product's own paths.

    Inbound messages enter through the gateway below its HTTP and signature layer
    (:meth:`_demo_receive`), and the runner processes them (:meth:`_demo_run_jobs`),
    so the handlers create the records exactly as for a partner's request. The
    business addons inherit this model and add their chapters of the story.
    """

    _name = "integration.demo"
    _description = "Integration Demo Data Loader"

    @api.model
    def _demo_receive(self, partner_code, message_type, payload, external_id):
        """Store ``payload`` as ``partner_code``'s message, as the gateway does; no jobs run.

        The demo has no partner secrets (they are made by ``make run``), so the
        signature check is the one step skipped: rate limit, type, schema and the
        partner's scope are checked as for a real request.
        """
        partner = self.env["integration.partner"]._get_gateway_info(partner_code)
        if not partner:
            raise ValueError(f"demo partner {partner_code} is missing or inactive")
        body = json.dumps(payload).encode()
        headers = {"webhook-id": external_id, "content-type": "application/json"}
        # each demo request is a trace of its own, as each HTTP request would be
        gateway = with_correlation_id(self.env["integration.gateway"], new_correlation_id())
        answer = gateway._receive_authenticated(partner, message_type, headers, body)
        if answer.status not in (200, 202):
            raise ValueError(f"demo message {external_id} refused: {answer.body}")
        return self._demo_message(partner_code, external_id)

    @api.model
    def _demo_message(self, partner_code, external_id):
        return self.env["integration.message"].search(
            [
                ("partner_id.code", "=", partner_code),
                ("external_id", "=", external_id),
                ("direction", "=", "inbound"),
            ],
            limit=1,
        )

    @api.model
    def _demo_process(self, partner_code, message_type, payload, external_id):
        """Receive a message and run the ready jobs, as a lane cron would next."""
        self._demo_receive(partner_code, message_type, payload, external_id)
        self._demo_run_jobs()
        return self._demo_message(partner_code, external_id)

    @api.model
    def _demo_run_jobs(self, max_batches=50):
        """Run the ready jobs of every lane through the runner, without committing:
        the module installation owns the cursor."""
        Job = self.env["integration.job"]
        for _round in range(max_batches):
            if not sum(Job._run_batch(lane, 20) for lane in LANES):
                break

    @api.model
    def _demo_run_to_the_end(self, message):
        """Run a failing message's job attempt after attempt, until it is dead.

        Its retries wait for an eta in the future; the demo does not wait for
        them, it runs the same claimed-job step the runner would run then.
        """
        job = message.job_ids.filtered(lambda j: j.state == "pending")[:1]
        for _attempt in range(job.max_attempts):
            if job.state != "pending" or job._run() is None:
                break
        return message

    @api.model
    def _demo_load_queue_story(self):
        """Pings of the demo EHR in every final message state: processed, business
        exception, dead (failed on every attempt, each failure in its trace), and an
        exception replayed once its cause was fixed.

        A failed message waiting for its retry is not left behind: the lane crons
        (and the tests' runs) would pick it up a few seconds later.
        """
        code = "DEMO-EHR"
        self._demo_process(code, "integration.ping", {"note": "hello"}, "demo-ping-done")
        self._demo_process(code, "integration.ping", {"fail": "business"}, "demo-ping-exception")
        poison = self._demo_process(
            code, "integration.ping", {"fail": "technical"}, "demo-ping-poison"
        )
        self._demo_run_to_the_end(poison)
        replayed = self._demo_process(
            code, "integration.ping", {"lookup": "DEMO-EHR-CONTACT"}, "demo-ping-replayed"
        )
        # the fix: the contact the EHR looked up now exists; a manager replays
        self.env["res.partner"].create({"name": "Demo EHR contact", "ref": "DEMO-EHR-CONTACT"})
        admin = self.env.ref("base.user_admin")
        replayed.with_user(admin).action_replay()
        self._demo_run_jobs()
        _logger.info("demo queue story loaded")
