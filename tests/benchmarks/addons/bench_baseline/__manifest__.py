{
    "name": "Benchmark baseline (not for production)",
    "summary": "A bare insert route and no-op jobs, to measure the queue against",
    "version": "18.0.1.0.0",
    "category": "Hidden",
    "website": "https://github.com/hcsc-odoo/healthcare-supply-chain",
    "author": "Healthcare Supply Chain Contributors",
    "license": "LGPL-3",
    "depends": ["integration_queue", "queue_job"],
    "data": ["security/ir.model.access.csv"],
    "installable": True,
}
