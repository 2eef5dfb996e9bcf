from odoo import _, api, models
from odoo.exceptions import AccessError
from odoo.tools import SQL


class IntegrationAuditAppendOnly(models.AbstractModel):
    """Tables the database itself keeps append-only.

    Triggers refuse UPDATE, DELETE and TRUNCATE. Two narrow exceptions, each
    switched on for one transaction by the code that needs it:

    * ``integration_audit.purge = on``: DELETE, on tables that allow a retention
      purge (``_audit_purgeable``);
    * ``integration_audit.schema = on``: UPDATE while the ORM migrates columns.

    Through the ORM nothing is written, changed or deleted, superuser included.
    """

    _name = "integration.audit.append.only"
    _description = "Append-only Audit Table"
    _audit_purgeable = False

    def init(self):
        super().init()
        if self._abstract:
            return
        self.env.cr.execute(
            """
            CREATE OR REPLACE FUNCTION integration_audit_append_only() RETURNS trigger AS $$
            BEGIN
                IF TG_OP = 'DELETE' AND TG_ARGV[0] = 'purgeable'
                   AND coalesce(current_setting('integration_audit.purge', true), '') = 'on' THEN
                    RETURN OLD;
                END IF;
                IF TG_OP = 'UPDATE'
                   AND coalesce(current_setting('integration_audit.schema', true), '') = 'on' THEN
                    RETURN NEW;
                END IF;
                RAISE EXCEPTION 'the integration audit trail is append-only: % on % refused',
                    TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END
            $$ LANGUAGE plpgsql
            """
        )
        table = SQL.identifier(self._table)
        self.env.cr.execute(
            SQL(
                """
                DROP TRIGGER IF EXISTS integration_audit_append_only ON %(table)s;
                CREATE TRIGGER integration_audit_append_only
                    BEFORE UPDATE OR DELETE ON %(table)s
                    FOR EACH ROW EXECUTE FUNCTION integration_audit_append_only(%(mode)s);
                DROP TRIGGER IF EXISTS integration_audit_no_truncate ON %(table)s;
                CREATE TRIGGER integration_audit_no_truncate
                    BEFORE TRUNCATE ON %(table)s
                    FOR EACH STATEMENT EXECUTE FUNCTION integration_audit_append_only('none');
                """,
                table=table,
                mode=SQL("'purgeable'" if self._audit_purgeable else "'none'"),
            )
        )

    def _auto_init(self):
        # Adding a column with a default makes the ORM UPDATE existing rows:
        # allow exactly that, for the duration of this model's migration only.
        self.env.cr.execute("SELECT set_config('integration_audit.schema', 'on', true)")
        try:
            return super()._auto_init()
        finally:
            self.env.cr.execute("SELECT set_config('integration_audit.schema', 'off', true)")

    @api.model_create_multi
    def create(self, vals_list):  # pylint: disable=method-required-super
        raise AccessError(
            _("%(model)s records are written by the system only.", model=self._description)
        )

    def write(self, vals):  # pylint: disable=method-required-super
        raise AccessError(
            _(
                "%(model)s records cannot be changed, not even by an administrator.",
                model=self._description,
            )
        )

    def unlink(self):  # pylint: disable=method-required-super
        raise AccessError(
            _(
                "%(model)s records cannot be deleted; only the retention purge removes old events.",
                model=self._description,
            )
        )

    def copy(self, default=None):  # pylint: disable=method-required-super
        raise AccessError(_("%(model)s records cannot be duplicated.", model=self._description))
