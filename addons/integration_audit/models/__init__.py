from . import (
    base,
    integration_audit_append_only,
    integration_audit_event,
    integration_audit_legal_hold,
    integration_audit_rule,
    integration_audit_seal,
    ir_cron,
    ir_http,
)
