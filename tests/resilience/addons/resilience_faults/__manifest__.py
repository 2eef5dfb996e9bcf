{
    "name": "Resilience faults (tests only, never in production)",
    "summary": "Message types whose jobs kill their worker or never end, for tests/resilience",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "website": "https://github.com/hcsc-odoo/healthcare-supply-chain",
    "author": "Healthcare Supply Chain Contributors",
    "license": "LGPL-3",
    "depends": ["integration_queue"],
    "data": ["data/integration_message_type.xml"],
    "installable": True,
}
