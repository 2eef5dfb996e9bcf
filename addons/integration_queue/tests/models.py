"""Models of the queue tests' own, loaded with odoo-test-helper's FakeModelLoader.

Jobs and messages in the tests run these instead of ``integration.ping`` or a
business model, so that what a test sees is what the queue did: the handler's
behaviour, its message type's lane, retries and ordering are set by the test,
not by data a partner relies on or by another addon's overrides. Import this
module only inside ``setUpClass`` (after ``backup_registry``), never at a test
module's top: an import registers the classes with the addon and a later
registry load would keep them.
"""

from odoo import api, fields, models
from odoo.tools import SQL

from ..exceptions import BusinessError
from ..registry import job_target, message_handler
from .common import CONTENDED_TABLE, TEST_TYPE


class IntegrationQueueTestRecord(models.Model):
    """A record the test handler resolves by reference, as a business handler would."""

    _name = "integration.queue.test.record"
    _description = "Queue Test Record"
    _order = "id"

    name = fields.Char(required=True)
    ref = fields.Char()


class IntegrationQueueTestCall(models.Model):
    """One successful call of the test handler, in the order of the calls."""

    _name = "integration.queue.test.call"
    _description = "Queue Test Handler Call"
    _order = "id"

    message_id = fields.Many2one("integration.message", ondelete="cascade")
    note = fields.Char()


class IntegrationQueueTestHandler(models.AbstractModel):
    """Handler of the ``test.queue.record`` message type and the tests' job targets.

    A payload's ``outcome`` (``business`` or ``technical``) makes it fail that
    way; ``ref`` must name an ``integration.queue.test.record`` (else a business
    exception on field ``ref``), which is then linked to the message.
    """

    _name = "integration.queue.test.handler"
    _description = "Queue Test Handler"

    @message_handler(TEST_TYPE)
    @api.model
    def _handle(self, message, payload):
        self._raise_outcome(payload.get("outcome"))
        if payload.get("ref"):
            record = self.env["integration.queue.test.record"].search(
                [("ref", "=", payload["ref"])], limit=1
            )
            if not record:
                raise BusinessError(
                    f"no test record with reference {payload['ref']!r}", field="ref"
                )
            message._link_records(record)
        self.env["integration.queue.test.call"].create(
            {"message_id": message.id, "note": payload.get("note", "")}
        )
        return {"echo": payload.get("note", ""), "message": message.external_id}

    @job_target
    @api.model
    def _job_echo(self, note="", outcome=None):
        """A job of no message: echoes ``note`` or fails as ``outcome`` asks."""
        self._raise_outcome(outcome)
        return {"echo": note}

    @job_target
    @api.model
    def _job_set_contended(self, row_id, value):
        """Update a row of the runner tests' table, which another session may hold."""
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET value = %s WHERE id = %s",
                SQL.identifier(CONTENDED_TABLE),
                value,
                row_id,
            )
        )
        return {"updated": self.env.cr.rowcount}

    @api.model
    def _raise_outcome(self, outcome):
        # not a job target: a job naming it is refused
        if outcome == "business":
            raise BusinessError("the test asked for a business exception", field="outcome")
        if outcome == "technical":
            raise RuntimeError("the test asked for a technical failure")


class IntegrationQueueTestHandlerExtension(models.AbstractModel):
    """Another module's override of the declared handler, without the decorator."""

    _inherit = "integration.queue.test.handler"

    def _handle(self, message, payload):
        return super()._handle(message, payload)


class IntegrationQueueTestRivalHandler(models.AbstractModel):
    """A second handler of the test message type: loaded alone, it must stop the load."""

    _name = "integration.queue.test.rival.handler"
    _description = "Queue Test Rival Handler"

    @message_handler(TEST_TYPE)
    @api.model
    def _handle_too(self, message, payload):
        return None
