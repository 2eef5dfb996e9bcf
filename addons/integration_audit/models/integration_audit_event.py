import json
import logging
from datetime import timedelta

from markupsafe import Markup, escape

from odoo import _, api, fields, models, tools
from odoo.exceptions import AccessError, UserError
from odoo.osv import expression
from odoo.tools import SQL

from .. import chain
from ..correlation import get_correlation_id, in_http_request

_logger = logging.getLogger(__name__)

EVENT_TYPES = [
    ("inbound_received", "Inbound received"),
    ("inbound_rejected", "Inbound rejected"),
    ("inbound_query", "Inbound status query"),
    ("job_started", "Job started"),
    ("job_done", "Job done"),
    ("job_failed", "Job failed"),
    ("outbound_sent", "Outbound sent"),
    ("outbound_failed", "Outbound failed"),
    ("record_created", "Record created"),
    ("record_changed", "Record changed"),
    ("record_deleted", "Record deleted"),
    ("business_exception", "Business exception"),
    ("manual_action", "Manual action"),
    ("config_change", "Configuration change"),
    ("retention_purge", "Retention purge"),
]

# Columns written by the single INSERT path, in order.
INSERT_COLUMNS = (
    "correlation_id",
    "event_type",
    "user_id",
    "partner_code",
    "res_model",
    "res_id",
    "res_name",
    "summary",
    "details",
    "payload_sha256",
    "company_id",
)

SEAL_LOCK_KEY = 74_211_001  # pg advisory lock taken by the sealer only

DEFAULT_RETENTION_DAYS = 2555
MIN_RETENTION_OPTION = "audit_min_retention_days"  # configuration file option
DEFAULT_MIN_RETENTION_DAYS = 365
AUDIT_MANAGER = "integration_audit.group_audit_manager"
AUDIT_VIEWER = "integration_audit.group_audit_viewer"

# Events of one transaction share its timestamp, and are not inserted in the
# order things happened: a job logs "started" when it ends, a create logs after
# the writes it caused. Within one timestamp, the trail orders them by this
# rank: a job's start, what was created, changed, deleted, then the outcomes.
CAUSAL_RANKS = {
    "inbound_received": 0,
    "inbound_rejected": 0,
    "inbound_query": 0,
    "job_started": 1,
    "manual_action": 2,
    "config_change": 3,
    "record_created": 3,
    "record_changed": 4,
    "record_deleted": 5,
    "business_exception": 6,
    "outbound_sent": 6,
    "outbound_failed": 6,
    "job_done": 7,
    "job_failed": 7,
}
DEFAULT_CAUSAL_RANK = 6
# how far, and over how many records, the story of a document is followed
STORY_MAX_STEPS = 6
STORY_MAX_RECORDS = 500


class IntegrationAuditEvent(models.Model):
    """One fact of the audit trail. Append-only: inserted, sealed, never changed.

    Other addons log with :meth:`log`; record changes are logged by audit rules.
    """

    _name = "integration.audit.event"
    _inherit = ["integration.audit.append.only"]
    _description = "Integration Audit Event"
    _order = "timestamp desc, id desc"
    _rec_name = "summary"
    _log_access = False
    _audit_purgeable = True

    timestamp = fields.Datetime(required=True, readonly=True, index=True)
    correlation_id = fields.Char(readonly=True, index=True)
    event_type = fields.Selection(EVENT_TYPES, required=True, readonly=True, index=True)
    user_id = fields.Many2one("res.users", "User", readonly=True, ondelete="restrict")
    partner_code = fields.Char("Integration Partner", readonly=True, index=True)
    res_model = fields.Char("Model", readonly=True, index=True)
    res_id = fields.Many2oneReference("Record ID", model_field="res_model", readonly=True)
    res_name = fields.Char("Record", readonly=True)
    summary = fields.Char(readonly=True)
    details = fields.Text(readonly=True, help="Canonical JSON; part of the sealed content.")
    details_html = fields.Html("Changes", compute="_compute_details_html", sanitize=False)
    payload_sha256 = fields.Char("Payload SHA-256", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True, ondelete="restrict", index=True)
    seal_sequence = fields.Integer(compute="_compute_seal", string="Chain Position")
    causal_rank = fields.Integer(
        compute="_compute_causal_rank",
        help="Order of the event among those of its transaction (same timestamp):"
        " a job's start, then records created, changed, deleted, then outcomes.",
    )
    description = fields.Char(
        compute="_compute_description",
        help="The summary with field labels instead of technical names.",
    )
    res_model_label = fields.Char("Document Type", compute="_compute_res_model_label")
    event_hash = fields.Char(compute="_compute_seal")
    chain_hash = fields.Char(compute="_compute_seal")

    def _compute_details_html(self):
        for event in self:
            event.details_html = self._render_details(event.details, event.res_model)

    def _compute_causal_rank(self):
        for event in self:
            event.causal_rank = CAUSAL_RANKS.get(event.event_type, DEFAULT_CAUSAL_RANK)

    def _compute_description(self):
        for event in self:
            event.description = event._describe()

    def _compute_res_model_label(self):
        for event in self:
            model = event.res_model
            event.res_model_label = (
                self.env[model]._description if model and model in self.env else model
            )

    def _field_to_sql(self, alias, fname, query=None, flush=True):
        # the causal rank is a function of the stored event type: sortable in SQL
        # without a column, which an append-only, sealed table could not gain
        if fname != "causal_rank":
            return super()._field_to_sql(alias, fname, query, flush)
        event_type = super()._field_to_sql(alias, "event_type", query, flush)
        return SQL(
            "(CASE %s ELSE %s END)",
            SQL(" ").join(
                SQL("WHEN %s = %s THEN %s", event_type, code, rank)
                for code, rank in CAUSAL_RANKS.items()
            ),
            DEFAULT_CAUSAL_RANK,
        )

    def _compute_seal(self):
        seals = self.env["integration.audit.seal"].sudo().search([("event_id", "in", self.ids)])
        by_event = {seal.event_id: seal for seal in seals}
        for event in self:
            seal = by_event.get(event.id)
            event.seal_sequence = seal.sequence if seal else 0
            event.event_hash = seal.event_hash if seal else False
            event.chain_hash = seal.chain_hash if seal else False

    def _read_format(self, fnames, load="_classic_read"):
        """Hide the field values of events on models the reader may not read.

        An Audit Viewer sees every event of his companies, but the old and new
        values an event carries are the audited record's data: only those who
        may read that model (or Audit Managers) see them.
        """
        result = super()._read_format(fnames, load=load)
        hidden = {"details", "details_html"}.intersection(fnames)
        if not hidden or self.env.su or self.env.user.has_group(AUDIT_MANAGER):
            return result
        readable = {}
        for values in result:
            model = self.browse(values["id"]).res_model
            if not model:
                continue
            if model not in readable:
                readable[model] = model in self.env and self.env[model].has_access("read")
            if not readable[model]:
                note = _("Hidden: you may not read %(model)s records.", model=model)
                if "details" in hidden:
                    values["details"] = json.dumps({"hidden": note})
                if "details_html" in hidden:
                    values["details_html"] = Markup("<p>%s</p>") % note
        return result

    def export_data(self, fields_to_export):
        """Exports read field values directly: the values are for Audit Managers."""
        wanted = {path.split("/")[0] for path in fields_to_export}
        if wanted & {"details", "details_html"}:
            self._check_audit_group(AUDIT_MANAGER, _("export the values events carry"))
        return super().export_data(fields_to_export)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------

    def action_open_trace(self):
        """Every event of this event's correlation ID, oldest first."""
        self.ensure_one()
        self._check_audit_group("integration_audit.group_audit_viewer", _("open audit traces"))
        return self._action_trace([self.correlation_id] if self.correlation_id else [], self)

    @api.model
    def action_trace_records(self, records):
        """The story of ``records``, oldest first, across correlation IDs.

        The events of the records and of every record their story leads to
        (see ``_audit_related_records``: an order's receipts, bills and
        payments), and the events of each unit of work that touched one of them.
        """
        self._check_audit_group(AUDIT_VIEWER, _("open audit traces"))
        if not isinstance(records, models.BaseModel):
            raise UserError(_("records: a trace is opened from the records' Action menu."))
        # the caller may read the documents he starts from; the story behind them
        # is followed as superuser (see _audit_related_records)
        records.check_access("read")
        story = self._story_records(records.sudo())
        events = self.search(self._story_domain(story)) if story else self.browse()
        cids = sorted(set(events.mapped("correlation_id")) - {False})
        action = self._action_trace(cids, events, group=False)
        if len(records) == 1:
            action["name"] = _("Audit Trail: %(record)s", record=records.display_name)
        return action

    @api.model
    def _story_records(self, records):
        """{model: set of ids}: ``records`` and those their story leads to, step by step."""
        story = {}
        frontier = [records]
        for _step in range(STORY_MAX_STEPS):
            following = []
            for batch in frontier:
                new_ids = set(batch.exists().ids) - story.get(batch._name, set())
                if not new_ids:
                    continue
                story.setdefault(batch._name, set()).update(new_ids)
                if sum(len(ids) for ids in story.values()) >= STORY_MAX_RECORDS:
                    return story
                following.extend(
                    related
                    for related in batch.browse(sorted(new_ids))._audit_related_records()
                    if related
                )
            if not following:
                break
            frontier = following
        return story

    @api.model
    def _story_domain(self, story):
        return expression.OR(
            [
                [("res_model", "=", model), ("res_id", "in", sorted(ids))]
                for model, ids in sorted(story.items())
            ]
        )

    @api.model
    def _check_audit_group(self, group_xmlid, what):
        """Raise AccessError unless the real caller holds ``group_xmlid``.

        Server code running as superuser passes: it is not a client's call.
        """
        if self.env.su or self.env.user.has_group(group_xmlid):
            return
        group = self.env.ref(group_xmlid, raise_if_not_found=False)
        raise AccessError(
            _(
                "You need the group %(group)s to %(what)s.",
                group=group.sudo().name if group else group_xmlid,
                what=what,
            )
        )

    @api.model
    def _action_trace(self, correlation_ids, events, group=True):
        domain = ["|", ("id", "in", events.ids), ("correlation_id", "in", correlation_ids)]
        return {
            "type": "ir.actions.act_window",
            "name": _("Audit Trace"),
            "res_model": self._name,
            "view_mode": "list,form",
            "views": [
                (
                    self.env.ref("integration_audit.integration_audit_event_view_list_trace").id,
                    "list",
                ),
                (False, "form"),
            ],
            "domain": domain,
            # a document's story is one timeline; grouping would split it per unit of work
            "context": {"search_default_group_by_correlation": group and len(correlation_ids) > 1},
        }

    # ------------------------------------------------------------------
    # Logging API
    # ------------------------------------------------------------------

    @api.model
    def _log(
        self,
        event_type,
        summary,
        records=None,
        details=None,
        payload=None,
        partner_code=None,
        correlation_id=None,
    ):
        """Append one event per record in ``records`` (or one event without record).

        :param event_type: a key of :data:`EVENT_TYPES`
        :param summary: short text for people
        :param records: the record(s) concerned, optional
        :param details: JSON-able structure, optional
        :param payload: bytes or str whose SHA-256 is kept (the payload itself is not)
        :param partner_code: the integration partner acting, when known
        :return: the new events
        """
        payload_sha = None
        if payload is not None:
            payload_sha = chain.sha256_hex(payload)
        base = {
            "event_type": event_type,
            "summary": summary,
            "details": details,
            "payload_sha256": payload_sha,
            "partner_code": partner_code,
            "correlation_id": correlation_id,
        }
        if not records:
            return self._append([base])
        return self._append([dict(base, record=record) for record in records])

    @api.model
    def _append(self, entries):
        """Insert events in one statement and queue them for sealing.

        Each entry is a dict with the keys of :data:`INSERT_COLUMNS` (any may be
        missing) and optionally ``record``, from which model, id, display name and
        company are taken.
        """
        if not entries:
            return self.browse()
        env = self.env
        default_cid = get_correlation_id(env)
        default_partner = self._context_partner_code()
        rows = []
        for entry in entries:
            record = entry.get("record")
            details = entry.get("details")
            if details is not None and not isinstance(details, str):
                details = chain.canonical_json(details)
            company_id = entry.get("company_id")
            if record is not None:
                company_id = company_id or self._record_company_id(record)
            rows.append(
                (
                    (entry.get("correlation_id") or default_cid)[:128],
                    entry["event_type"],
                    entry.get("user_id") or env.uid,
                    entry.get("partner_code") or default_partner,
                    record._name if record is not None else entry.get("res_model"),
                    record.id if record is not None else entry.get("res_id"),
                    entry.get("res_name") or (record.display_name if record is not None else None),
                    (entry.get("summary") or "")[:500],
                    details,
                    entry.get("payload_sha256"),
                    company_id or env.company.id,
                )
            )
        placeholders = SQL(", ").join(
            SQL("((now() at time zone 'UTC'), %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)", *row)
            for row in rows
        )
        env.cr.execute(
            SQL(
                """
                WITH inserted AS (
                    INSERT INTO integration_audit_event (timestamp, %s) VALUES %s RETURNING id
                ), pending AS (
                    INSERT INTO integration_audit_pending (event_id) SELECT id FROM inserted
                )
                SELECT id FROM inserted ORDER BY id
                """,
                SQL(", ").join(SQL.identifier(col) for col in INSERT_COLUMNS),
                placeholders,
            )
        )
        return self.browse([row[0] for row in env.cr.fetchall()])

    @api.model
    def _context_partner_code(self):
        """The partner a job acts for, from the job runner's context.

        Within an HTTP request the context is the client's to choose: there a
        partner code only comes explicitly from the code that logs.
        """
        code = self.env.context.get("integration_partner_code")
        if not code or in_http_request():
            return None
        return code

    @api.model
    def _record_company_id(self, record):
        field = record._fields.get("company_id")
        if field is not None and field.type == "many2one" and field.comodel_name == "res.company":
            return record.company_id.id or None
        return None

    # ------------------------------------------------------------------
    # Sealing and verification
    # ------------------------------------------------------------------

    @api.model
    def _seal_pending(self, limit=10000):
        """Seal committed, unsealed events in order; return how many were sealed.

        Only the sealer serialises (on an advisory lock it merely tries): writers
        never wait for it. Events committed later are sealed by the next run.
        """
        cr = self.env.cr
        cr.execute("SELECT pg_try_advisory_xact_lock(%s)", [SEAL_LOCK_KEY])
        if not cr.fetchone()[0]:
            return 0
        cr.execute(
            "SELECT sequence, chain_hash FROM integration_audit_seal ORDER BY sequence DESC LIMIT 1"
        )
        last = cr.fetchone()
        sequence, prev_hash = last if last else (0, chain.GENESIS)
        cr.execute(
            """
            SELECT e.* FROM integration_audit_pending p
              JOIN integration_audit_event e ON e.id = p.event_id
             ORDER BY e.id LIMIT %s
            """,
            [limit],
        )
        rows = cr.dictfetchall()
        if not rows:
            return 0
        seals = []
        for row in rows:
            sequence += 1
            ev_hash = chain.event_hash(row)
            prev_hash = chain.chain_hash(prev_hash, ev_hash, row["timestamp"])
            seals.append(
                (sequence, row["id"], ev_hash, prev_hash, row["timestamp"], row["company_id"])
            )
        cr.execute(
            SQL(
                """
                INSERT INTO integration_audit_seal
                       (sequence, event_id, event_hash, chain_hash, event_timestamp, company_id,
                        sealed_at)
                VALUES %s
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s, %s, %s, %s, now() at time zone 'UTC')", *seal)
                    for seal in seals
                ),
            )
        )
        cr.execute(
            "DELETE FROM integration_audit_pending WHERE event_id = ANY(%s)",
            [[seal[1] for seal in seals]],
        )
        return len(seals)

    @api.model
    def _cron_seal(self):
        """Seal every pending event, committing after each batch (the cron owns its cursor)."""
        total = 0
        while True:
            sealed = self._seal_pending()
            # commit per batch: a crash keeps the batches already sealed
            self.env.cr.commit()  # pylint: disable=invalid-commit
            total += sealed
            if not sealed:
                break
        return total

    @api.model
    def _verify_chain(self, batch_size=5000, anchor=None):
        """Verify the whole chain; return a report dict.

        ``ok`` is False when a link is broken (``error`` says which and why), an
        event exists that is neither sealed nor waiting to be sealed, or, given
        an ``anchor`` (see :meth:`_chain_anchor`), the chain no longer passes
        through the anchored head. Deleted events must be vouched for by a sealed
        retention checkpoint (:func:`..chain.checkpoint_problem`).
        """
        cr = self.env.cr
        checkpoints, rejected = self._sealed_checkpoints()
        verifier = chain.ChainVerifier(checkpoints=checkpoints, rejected=rejected, anchor=anchor)
        after = 0
        while True:
            cr.execute(
                """
                SELECT s.sequence, s.event_id, s.event_hash, s.chain_hash, s.event_timestamp, e.*
                  FROM integration_audit_seal s
                  LEFT JOIN integration_audit_event e ON e.id = s.event_id
                 WHERE s.sequence > %s
                 ORDER BY s.sequence
                 LIMIT %s
                """,
                [after, batch_size],
            )
            links = cr.dictfetchall()
            if not links:
                break
            for link in links:
                link["event"] = link if link["id"] is not None else None
                if not verifier.check(link):
                    return self._verify_report(verifier)
            after = links[-1]["sequence"]
        if not verifier.check_anchor_reached():
            return self._verify_report(verifier)
        cr.execute(
            """
            SELECT e.id FROM integration_audit_event e
             WHERE NOT EXISTS (SELECT 1 FROM integration_audit_seal s WHERE s.event_id = e.id)
               AND NOT EXISTS (SELECT 1 FROM integration_audit_pending p WHERE p.event_id = e.id)
             ORDER BY e.id LIMIT 1
            """
        )
        stray = cr.fetchone()
        if stray:
            verifier.error = {
                "sequence": None,
                "event_id": stray[0],
                "reason": "event was inserted outside the audit API (never queued for sealing)",
            }
        return self._verify_report(verifier)

    @api.model
    def _sealed_checkpoints(self):
        """Retention checkpoints sealed in the chain: (valid ones, {sequence: why not}).

        Only a sealed checkpoint whose content still matches its seal may vouch
        for deleted events; an unsealed or forged one vouches for nothing.
        """
        self.env.cr.execute(
            """
            SELECT s.sequence, s.event_hash AS seal_event_hash, e.*
              FROM integration_audit_event e
              JOIN integration_audit_seal s ON s.event_id = e.id
             WHERE e.event_type = 'retention_purge'
            """
        )
        now = fields.Datetime.now()
        checkpoints, rejected = [], {}
        for row in self.env.cr.dictfetchall():
            if chain.event_hash(row) != row["seal_event_hash"]:
                continue  # the walk reports the altered content at this link
            problem = chain.checkpoint_problem(row, now=now)
            if problem:
                rejected[row["sequence"]] = problem
                continue
            details = json.loads(row["details"])
            checkpoints.append(
                chain.Checkpoint(
                    row["id"],
                    row["sequence"],
                    chain.parse_timestamp(details["cutoff"]),
                    details["retention_days"],
                    [tuple(pair) for pair in details["purged_ranges"]],
                )
            )
        return checkpoints, rejected

    @api.model
    def _chain_anchor(self):
        """The sealed chain's head, to be stored outside the database.

        Seal what is pending first; the anchor names the last link's sequence
        (the count of links), event id, chain hash, its time and the retention
        in force, which later checkpoints may not undercut.
        """
        self._seal_pending()
        self.env.cr.execute(
            """
            SELECT sequence, event_id, chain_hash, sealed_at FROM integration_audit_seal
             ORDER BY sequence DESC LIMIT 1
            """
        )
        head = self.env.cr.fetchone()
        if not head:
            return chain.anchor(0, None, chain.GENESIS, None, self._retention_days())
        return chain.anchor(*head, retention_days=self._retention_days())

    @api.model
    def _verify_report(self, verifier):
        self.env.cr.execute("SELECT count(*) FROM integration_audit_pending")
        return {
            "ok": verifier.error is None,
            "checked": verifier.checked,
            "pending": self.env.cr.fetchone()[0],
            "error": verifier.error,
        }

    # ------------------------------------------------------------------
    # Rendering
    # ------------------------------------------------------------------

    def _describe(self):
        """The summary, with the labels of the fields a record event changed."""
        self.ensure_one()
        changes = self._changes()
        if (
            self.event_type in ("record_changed", "config_change")
            and changes
            and ((self.summary or "").startswith("Changed"))
        ):
            labels = [self._field_label(self.res_model, c.get("field")) for c in changes]
            return _("Changed %(fields)s", fields=", ".join(labels))
        if self.event_type == "record_created" or (self.summary or "") == "Created":
            return _("Created")
        if self.event_type == "record_deleted":
            return _("Deleted")
        return self.summary

    def _changes(self):
        try:
            details = json.loads(self.details or "null")
        except ValueError:
            return []
        changes = details.get("changes") if isinstance(details, dict) else None
        return [c for c in changes if isinstance(c, dict)] if isinstance(changes, list) else []

    @api.model
    def _field_label(self, model_name, field_name):
        """The field's label in the user's language; its technical name when unknown."""
        if not model_name or model_name not in self.env or not field_name:
            return field_name or ""
        field = self.env[model_name]._fields.get(field_name)
        return field._description_string(self.env) if field else field_name

    @api.model
    def _render_details(self, details_text, model_name=None):
        if not details_text:
            return False
        try:
            details = json.loads(details_text)
        except ValueError:
            return Markup("<pre>%s</pre>") % details_text
        changes = details.get("changes") if isinstance(details, dict) else None
        if not changes:
            return Markup("<pre>%s</pre>") % json.dumps(details, indent=2, ensure_ascii=False)
        rows = Markup("").join(
            Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
            % (
                self._field_label(model_name, change.get("field")),
                self._render_value(change.get("old")),
                self._render_value(change.get("new")),
            )
            for change in changes
        )
        return (
            Markup(
                '<table class="table table-sm o_audit_changes"><thead><tr><th>%s</th><th>%s</th>'
                "<th>%s</th></tr></thead><tbody>"
            )
            % (_("Field"), _("Old value"), _("New value"))
            + rows
            + Markup("</tbody></table>")
        )

    @api.model
    def _render_value(self, value):
        if value is None:
            return ""
        if isinstance(value, (dict, list)):
            return escape(json.dumps(value, ensure_ascii=False))
        return escape(str(value))

    # ------------------------------------------------------------------
    # Retention
    # ------------------------------------------------------------------

    @api.model
    def _retention_days(self):
        """Days events are kept: the system parameter, never below the file's floor.

        The floor (``audit_min_retention_days`` in the configuration file) keeps
        anyone who can only change data from purging the trail by shortening
        retention.
        """
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("integration_audit.retention_days", str(DEFAULT_RETENTION_DAYS))
        )
        try:
            days = int(value)
        except ValueError:
            _logger.warning("integration_audit.retention_days is not a number: %r", value)
            days = DEFAULT_RETENTION_DAYS
        floor = tools.config.get(MIN_RETENTION_OPTION) or DEFAULT_MIN_RETENTION_DAYS
        try:
            floor = int(floor)
        except ValueError:
            floor = DEFAULT_MIN_RETENTION_DAYS
        return max(days, floor, 1)

    @api.model
    def _purge_batch(self, cutoff, batch_size=1000):
        """Delete one batch of sealed events older than ``cutoff`` and not held.

        The deletion and its checkpoint event (which lists the purged ids, the
        cutoff and the retention in force, so that the chain verifies without
        them) are one transaction. A cutoff inside the retention period is
        refused. Return the number of events purged.
        """
        cr = self.env.cr
        retention_days = self._retention_days()
        cr.execute("SELECT now() at time zone 'UTC'")
        latest_cutoff = cr.fetchone()[0] - timedelta(days=retention_days)
        if cutoff > latest_cutoff:
            raise UserError(
                _(
                    "cutoff: %(cutoff)s is inside the retention period of %(days)s days.",
                    cutoff=cutoff,
                    days=retention_days,
                )
            )
        held = self.env["integration.audit.legal.hold"]._held_events_condition("e")
        cr.execute(
            SQL(
                """
                SELECT e.id FROM integration_audit_event e
                 WHERE e.timestamp < %s
                   AND e.event_type != 'retention_purge'
                   AND EXISTS (SELECT 1 FROM integration_audit_seal s WHERE s.event_id = e.id)
                   AND NOT %s
                 ORDER BY e.id
                 LIMIT %s
                """,
                cutoff,
                held,
                batch_size,
            )
        )
        ids = [row[0] for row in cr.fetchall()]
        if not ids:
            return 0
        cr.execute("SELECT set_config('integration_audit.purge', 'on', true)")
        cr.execute("DELETE FROM integration_audit_event WHERE id = ANY(%s)", [ids])
        cr.execute("SELECT set_config('integration_audit.purge', 'off', true)")
        self.sudo()._log(
            "retention_purge",
            "Retention purge of %s events older than %s" % (len(ids), cutoff),
            details={
                "cutoff": chain.normalise_timestamp(cutoff),
                "retention_days": retention_days,
                "count": len(ids),
                "purged_ranges": chain.compress_ranges(ids),
            },
        )
        return len(ids)

    @api.model
    def _cron_purge(self, batch_size=1000, max_batches=1000):
        """Purge events past retention in batches, sealing first so none is lost."""
        self._cron_seal()
        # the database's clock, as the checkpoint's own time comes from it
        self.env.cr.execute("SELECT now() at time zone 'UTC'")
        cutoff = self.env.cr.fetchone()[0] - timedelta(days=self._retention_days())
        total = 0
        for _batch in range(max_batches):
            purged = self._purge_batch(cutoff, batch_size=batch_size)
            # commit per batch: each batch and its checkpoint stand together
            self.env.cr.commit()  # pylint: disable=invalid-commit
            total += purged
            if purged < batch_size:
                break
        if total:
            _logger.info("audit retention purged %s events older than %s", total, cutoff)
        return total
