from collections import namedtuple

from odoo import _, api, fields, models, tools
from odoo.exceptions import ValidationError
from odoo.tools.safe_eval import safe_eval

# What the ORM hooks need to know of a rule, cached per registry.
AuditSpec = namedtuple("AuditSpec", "rule_id operations field_names domain configuration always")

# The audit configuration audits itself whatever its rules say: switching a
# rule off, or narrowing it, must leave a trace.
ALWAYS_AUDITED = ("integration.audit.rule", "integration.audit.legal.hold")

# Fields never worth an audit line: bookkeeping, chatter and followers.
IGNORED_FIELDS = frozenset(
    {"create_uid", "create_date", "write_uid", "write_date", "__last_update", "display_name"}
)
IGNORED_PREFIXES = ("message_", "activity_", "website_message", "rating_")


class IntegrationAuditRule(models.Model):
    """Which model's creates, writes and deletes are audited, and which fields."""

    _name = "integration.audit.rule"
    _description = "Audit Rule"
    _inherit = ["mail.thread"]
    _order = "model_id, id"

    name = fields.Char(required=True, tracking=True)
    active = fields.Boolean(default=True, tracking=True)
    model_id = fields.Many2one(
        "ir.model",
        required=True,
        ondelete="cascade",
        tracking=True,
        domain=[("transient", "=", False)],
    )
    model_name = fields.Char("Model Name", related="model_id.model", store=True, index=True)
    log_create = fields.Boolean("Log Creation", default=True, tracking=True)
    log_write = fields.Boolean("Log Changes", default=True, tracking=True)
    log_unlink = fields.Boolean("Log Deletion", default=True, tracking=True)
    field_ids = fields.Many2many(
        "ir.model.fields",
        string="Fields",
        domain="[('model_id', '=', model_id), ('store', '=', True)]",
        help="Leave empty to audit every stored field.",
    )
    domain = fields.Char(
        default="[]", help="Only records matching this domain are audited.", tracking=True
    )
    configuration = fields.Boolean(
        help="Changes to this model are configuration changes (logged as such).",
        tracking=True,
    )
    action_id = fields.Many2one(
        "ir.actions.server", "Trace Action", readonly=True, copy=False, ondelete="set null"
    )

    _sql_constraints = [
        ("model_unique", "UNIQUE(model_id)", "A model has one audit rule."),
    ]

    @api.constrains("domain")
    def _check_domain(self):
        for rule in self:
            try:
                domain = safe_eval(rule.domain or "[]")
                self.env[rule.model_name].sudo().search_count(domain, limit=1)
            except Exception as error:
                raise ValidationError(
                    _(
                        "The domain of audit rule %(rule)s is not valid: %(error)s",
                        rule=rule.name,
                        error=error,
                    )
                ) from error

    @api.model_create_multi
    def create(self, vals_list):
        self._check_manager()
        rules = super().create(vals_list)
        rules._sync_trace_action()
        self.env.registry.clear_cache()
        return rules

    def write(self, vals):
        self._check_manager()
        res = super().write(vals)
        if {"model_id", "active"} & set(vals):
            self._sync_trace_action()
        self.env.registry.clear_cache()
        return res

    def unlink(self):
        self._check_manager()
        # the caller was checked just above; server actions are admin-only
        self.sudo().action_id.unlink()
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    def _check_manager(self):
        """Only Audit Managers (or server code) change, (de)activate or delete rules."""
        self.env["integration.audit.event"]._check_audit_group(
            "integration_audit.group_audit_manager", _("change audit rules")
        )

    def _sync_trace_action(self):
        """Offer "Audit Trace" in the Action menu of audited models.

        Callers are Audit Managers (checked in create/write); the server action
        is written as superuser because only administrators may create actions.
        """
        for rule in self.sudo():
            if not rule.active:
                rule.action_id.unlink()
                continue
            # The action belongs to the audit event model and is only bound to the
            # audited one: Odoo runs a server action on the records of its own model
            # only for users who may write them, and an auditor reads. The records are
            # the bound model's active ids; action_trace_records checks they are readable.
            model = rule.model_id.model
            vals = {
                "name": _("Audit Trace"),
                "model_id": self.env["ir.model"]._get_id("integration.audit.event"),
                "binding_model_id": rule.model_id.id,
                "binding_view_types": "form,list",
                "state": "code",
                "groups_id": [(6, 0, [self.env.ref("integration_audit.group_audit_viewer").id])],
                "code": (
                    "action = env['integration.audit.event'].action_trace_records("
                    f"env[{model!r}].browse(env.context.get('active_ids')"
                    " or env.context.get('active_id') or []))"
                ),
            }
            if rule.action_id:
                rule.action_id.write(vals)
            else:
                rule.action_id = rule.env["ir.actions.server"].create(vals)

    @api.model
    @tools.ormcache()
    def _get_specs(self):
        """{model name: AuditSpec} for active rules; cached until a rule changes."""
        specs = {}
        # whatever context filled the cache first, only active rules count
        for rule in self.sudo().with_context(active_test=True).search([]):
            operations = frozenset(
                op
                for op, flag in (
                    ("create", rule.log_create),
                    ("write", rule.log_write),
                    ("unlink", rule.log_unlink),
                )
                if flag
            )
            if rule.model_name not in self.env:
                continue
            field_names = (
                frozenset(rule.field_ids.mapped("name"))
                if rule.field_ids
                else self._default_field_names(self.env[rule.model_name])
            )
            domain = safe_eval(rule.domain or "[]")
            specs[rule.model_name] = AuditSpec(
                rule.id,
                operations,
                field_names,
                tuple(domain) if domain else None,
                rule.configuration,
                False,
            )
        self._add_always_audited_fields(specs)
        for model_name in ALWAYS_AUDITED:
            if model_name in self.env:
                rule_id = specs[model_name].rule_id if model_name in specs else None
                specs[model_name] = AuditSpec(
                    rule_id,
                    frozenset({"create", "write", "unlink"}),
                    self._default_field_names(self.env[model_name]),
                    None,
                    True,
                    True,
                )
        return specs

    @api.model
    def _add_always_audited_fields(self, specs):
        """Audit the fields declared ``always_audited=True`` whatever the rules say.

        Such fields (an integration partner's scope: company, message types,
        facilities, suppliers...) are declared in code by each addon that adds
        one: no rule, no rule's field list or domain, and no deactivated rule can
        leave them unaudited, on new and existing databases alike.
        """
        for model_name, model in self.env.registry.items():
            if model._abstract or model._transient:
                continue
            forced = frozenset(
                name
                for name, field in model._fields.items()
                if field.store and getattr(field, "always_audited", False)
            )
            if not forced:
                continue
            spec = specs.get(model_name)
            specs[model_name] = AuditSpec(
                spec.rule_id if spec else None,
                frozenset({"create", "write", "unlink"}),
                (spec.field_names if spec else frozenset()) | forced,
                None,  # a rule's domain narrows no always-audited field
                spec.configuration if spec else True,
                False,
            )

    @api.model
    def _default_field_names(self, model):
        return frozenset(
            name
            for name, field in model._fields.items()
            if field.store
            and field.type != "binary"
            and not field.groups  # tokens and the like: audited only when named
            and name not in IGNORED_FIELDS
            and not name.startswith(IGNORED_PREFIXES)
        )
