from odoo import _, api, models
from odoo.exceptions import AccessError

from .. import guard


class ContractProcurementGuarded(models.AbstractModel):
    """Fields that change only through their guarded methods (states, approvals).

    ``create``, ``write`` and imports (``load`` creates and writes) refuse them for
    every user, the superuser included; the guarded method writes them inside
    :func:`guard.guarded_write`, which no client can open.
    """

    _name = "contract.procurement.guarded"
    _description = "Fields Changed Only by Their Guarded Methods"

    # names of the guarded fields, and the values a plain create may carry (defaults)
    _guarded_fields = ()
    _guarded_create_defaults = {}

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_guarded_vals(vals, self._guarded_create_defaults)
        return super().create(vals_list)

    def write(self, vals):
        self._check_guarded_vals(vals)
        return super().write(vals)

    @api.model
    def _check_guarded_vals(self, vals, defaults=None):
        refused = guard.refused_fields(self._guarded_fields, vals, defaults)
        if refused:
            raise AccessError(
                _(
                    "%(fields)s of %(model)s change only through their actions "
                    "(submit, approve, override...), not by editing or importing.",
                    fields=", ".join(f"{self._fields[name].string} ({name})" for name in refused),
                    model=self._description,
                )
            )
