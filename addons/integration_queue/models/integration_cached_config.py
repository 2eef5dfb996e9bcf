from odoo import api, models


class IntegrationCachedConfig(models.AbstractModel):
    """Configuration the gateway caches per registry: any change clears the caches
    (in every worker, through Odoo's registry signalling)."""

    _name = "integration.cached.config"
    _description = "Integration Configuration Cached by the Gateway"

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        res = super().write(vals)
        if self._clears_cache(vals):
            self.env.registry.clear_cache()
        return res

    def unlink(self):
        res = super().unlink()
        self.env.registry.clear_cache()
        return res

    def _clears_cache(self, vals):
        """Whether writing ``vals`` changes what is cached (override to narrow it)."""
        return True
