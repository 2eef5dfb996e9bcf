import json
import logging

from odoo import api, models

from .. import chain
from ..audit_switch import is_audit_suspended

_logger = logging.getLogger(__name__)

TEXT_LIMIT = 2000


class Base(models.AbstractModel):
    """Audit hooks on every model, active only where an audit rule says so.

    Each ORM call logs all its records' events in one INSERT; a model without a
    rule pays one dictionary look-up per call.
    """

    _inherit = "base"

    def _valid_field_parameter(self, field, name):
        # ``always_audited=True``: the field is audited whatever the audit rules say
        # (see integration.audit.rule._get_specs)
        return name == "always_audited" or super()._valid_field_parameter(field, name)

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        spec = records._audit_spec("create")
        if spec and records:
            records._audit_log_create(spec, vals_list)
        return records

    def write(self, vals):
        spec = self._audit_spec("write")
        if not spec or not self:
            return super().write(vals)
        records = self._audit_filter(spec)
        field_names = [name for name in vals if name in spec.field_names]
        if not records or not field_names:
            return super().write(vals)
        line_updates = records._audit_line_updates(vals, field_names)
        before = records._audit_snapshot(field_names, line_updates)
        result = super().write(vals)
        after = records._audit_snapshot(field_names, line_updates)
        records._audit_log_write(spec, before, after)
        return result

    def unlink(self):
        spec = self._audit_spec("unlink")
        if not spec or not self:
            return super().unlink()
        records = self._audit_filter(spec)
        # the caller may delete these records: read every audited field for the log,
        # including fields the caller's groups cannot read
        records.check_access("unlink")
        entries = records.sudo()._audit_prepare_unlink(spec)
        result = super().unlink()
        self.env["integration.audit.event"].sudo()._append(entries)
        return result

    # ------------------------------------------------------------------
    # The story of a document (see integration.audit.event.action_trace_records)
    # ------------------------------------------------------------------

    def _audit_related_records(self):
        """Records whose audit events belong to the story of these records.

        Return a list of recordsets, the next steps of the story: an order gives
        its receipts and bills, a bill its payments. The audit trail follows
        them step by step, so each model names only its neighbours. Override in
        the addon that knows the relation; the default has none.

        Called as superuser, once the caller was checked (Audit Viewer, and
        allowed to read the starting records): what an Audit Viewer then sees of
        each event is limited as always (values only for models he may read).
        """
        return []

    # ------------------------------------------------------------------
    # Helpers (prefixed _audit_ to stay out of other models' way)
    # ------------------------------------------------------------------

    def _audit_spec(self, operation):
        """The audit spec of this model if ``operation`` is audited, else None."""
        # No context key is read here: clients set the context of their calls.
        if not self.pool.ready or self._transient or "integration.audit.rule" not in self.pool:
            return None
        spec = self.env["integration.audit.rule"]._get_specs().get(self._name)
        if not spec or operation not in spec.operations:
            return None
        if is_audit_suspended() and not spec.always:
            return None
        return spec

    def _audit_filter(self, spec):
        if not spec.domain:
            return self
        return self.sudo().filtered_domain(list(spec.domain)).with_env(self.env)

    def _audit_value(self, field_name, value=None):
        """JSON-safe form of a field value (read from ``self`` when not given)."""
        field = self._fields[field_name]
        if value is None:
            value = self[field_name]
        if field.type == "many2one":
            return [value.id, value.sudo().display_name] if value else None
        if field.type in ("one2many", "many2many"):
            return sorted(value.ids)
        if value is False and field.type != "boolean":
            return None
        if field.type in ("date", "datetime"):
            return value.isoformat()
        if field.type in ("char", "text", "html", "selection") and isinstance(value, str):
            return value if len(value) <= TEXT_LIMIT else value[:TEXT_LIMIT] + "…"
        if isinstance(value, (str, int, float, bool)) or value is None:
            return value
        return json.loads(chain.canonical_json(value))

    def _audit_line_updates(self, vals, field_names):
        """{one2many field: {line id: [sub-field names]}} for update commands."""
        updates = {}
        for name in field_names:
            field = self._fields[name]
            if field.type != "one2many" or not isinstance(vals[name], (list, tuple)):
                continue
            for command in vals[name]:
                if isinstance(command, (list, tuple)) and command and command[0] == 1:
                    line_fields = updates.setdefault(name, {}).setdefault(command[1], [])
                    line_fields.extend(f for f in command[2] if f not in line_fields)
        return updates

    def _audit_snapshot(self, field_names, line_updates):
        """{record id: {field: value}} with one2many line values where updated."""
        snapshot = {}
        line_values = {}
        for name, lines in line_updates.items():
            comodel = self.env[self._fields[name].comodel_name]
            for line in comodel.browse(list(lines)).exists():
                line_values[(name, line.id)] = {
                    sub: line._audit_value(sub) for sub in lines[line.id] if sub in line._fields
                }
        for record in self:
            snapshot[record.id] = {name: record._audit_value(name) for name in field_names}
        return snapshot, line_values

    def _audit_log_create(self, spec, vals_list):
        records = self._audit_filter(spec)
        vals_by_id = dict(zip(self.ids, vals_list, strict=False))
        entries = []
        for record in records:
            vals = vals_by_id.get(record.id, {})
            changes = []
            for name in vals:
                if name not in spec.field_names:
                    continue
                change = {"field": name, "old": None, "new": record._audit_value(name)}
                if self._fields[name].type == "one2many":
                    change["lines"] = self._audit_created_lines(record, name, vals[name])
                changes.append(change)
            entries.append(
                {
                    "event_type": "config_change" if spec.configuration else "record_created",
                    "summary": "Created",
                    "record": record,
                    "details": {"changes": changes},
                }
            )
        self.env["integration.audit.event"].sudo()._append(entries)

    def _audit_created_lines(self, record, name, commands):
        """Values given for new one2many lines, in line order."""
        created = [
            command[2]
            for command in commands or []
            if isinstance(command, (list, tuple)) and command and command[0] == 0
        ]
        lines = record[name].sorted("id")
        return [
            {"id": line.id, "values": json.loads(chain.canonical_json(values))}
            for line, values in zip(
                lines[-len(created) :] if created else [], created, strict=False
            )
        ]

    def _audit_log_write(self, spec, before, after):
        (old_values, old_lines), (new_values, new_lines) = before, after
        entries = []
        for record in self:
            changes = []
            for name, old in old_values[record.id].items():
                new = new_values[record.id][name]
                change = {"field": name, "old": old, "new": new}
                if self._fields[name].type in ("one2many", "many2many"):
                    change["added"] = sorted(set(new) - set(old))
                    change["removed"] = sorted(set(old) - set(new))
                    line_changes = self._audit_line_changes(name, record, old_lines, new_lines)
                    if line_changes:
                        change["lines"] = line_changes
                    if not (change["added"] or change["removed"] or line_changes):
                        continue
                elif old == new:
                    continue
                changes.append(change)
            if changes:
                entries.append(
                    {
                        "event_type": "config_change" if spec.configuration else "record_changed",
                        "summary": "Changed %s" % ", ".join(c["field"] for c in changes),
                        "record": record,
                        "details": {"changes": changes},
                    }
                )
        self.env["integration.audit.event"].sudo()._append(entries)

    def _audit_line_changes(self, name, record, old_lines, new_lines):
        changes = []
        line_ids = set(record[name].ids)
        for (field_name, line_id), old in old_lines.items():
            if field_name != name or line_id not in line_ids:
                continue
            new = new_lines.get((field_name, line_id), {})
            for sub, old_value in old.items():
                if new.get(sub) != old_value:
                    changes.append(
                        {"id": line_id, "field": sub, "old": old_value, "new": new.get(sub)}
                    )
        return changes

    def _audit_prepare_unlink(self, spec):
        field_names = [name for name in spec.field_names if self._fields[name].type != "one2many"]
        entries = []
        for record in self:
            entries.append(
                {
                    "event_type": "config_change" if spec.configuration else "record_deleted",
                    "summary": "Deleted",
                    "res_model": record._name,
                    "res_id": record.id,
                    "res_name": record.display_name,
                    "company_id": self.env["integration.audit.event"]._record_company_id(record),
                    "details": {
                        "changes": [
                            {"field": name, "old": record._audit_value(name), "new": None}
                            for name in sorted(field_names)
                        ]
                    },
                }
            )
        return entries
