{
    "name": "Integration Queue",
    "summary": "Partner registry, signed idempotent gateway, cron job queue, outbound delivery",
    "version": "18.0.1.0.0",
    "category": "Technical",
    "website": "https://github.com/hcsc-odoo/healthcare-supply-chain",
    "author": "Healthcare Supply Chain Contributors",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["integration_audit"],
    "external_dependencies": {"python": ["cryptography", "requests", "jsonschema"]},
    "data": [
        "security/security.xml",
        "security/ir.model.access.csv",
        "views/menus.xml",
    ],
    "installable": True,
}
