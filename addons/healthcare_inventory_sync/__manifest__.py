{
    "name": "Healthcare Inventory Sync",
    "summary": "Facilities, partner stock messages with lot/expiry, cross-facility visibility",
    "version": "18.0.1.0.0",
    "category": "Inventory/Inventory",
    "website": "https://github.com/hcsc-odoo/healthcare-supply-chain",
    "author": "Healthcare Supply Chain Contributors",
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": ["stock", "product_expiry", "integration_queue"],
    "external_dependencies": {"python": ["biip"]},
    "data": [
        "security/security.xml",
        "views/stock_warehouse_views.xml",
        "views/menus.xml",
    ],
    "installable": True,
}
