from . import integration_audit_export, integration_audit_verify
