import logging
from datetime import timedelta

from odoo import api, fields, models

_logger = logging.getLogger(__name__)

# Long past: the demo's snapshots never make a later one (a partner's, a test's, the
# readme's examples) stale, whether it carries a sequence or only its time.
DEMO_AS_OF = "2026-01-05T06:00:00Z"
DEMO_SEQUENCE = 1

# (facility, partner, [(item, lot, days to expiry or None, quantity)])
DEMO_STOCK = [
    (
        "CENTRAL",
        "DEMO-CENTRAL",
        # no surgical masks left (the hospitals' shortages escalate to purchasing), and
        # its saline expires late: transfers out of it take the lots received later first
        # when those expire earlier (FEFO)
        [
            ("MSK-FFP2", None, None, 900),
            ("GLV-NIT-M", None, None, 5000),
            ("IVS-NACL-500", "NACL-C-2611", 420, 600),
            ("IVC-20G", "IVC-C-0931", 540, 800),
            ("DRG-ADR-1MG", "ADR-C-114", 300, 400),
            ("DRG-ADR-1MG", "ADR-C-097", 12, 30),
            ("SYR-5ML", "SYR5-C-77", 700, 3000),
        ],
    ),
    (
        "HOSP-N",
        "DEMO-HOSP-N",
        [
            ("MSK-SURG", None, None, 8),
            ("GLV-NIT-M", None, None, 600),
            ("IVS-GLU5-500", "GLU-N-2402", 25, 14),
            ("IVC-20G", "IVC-N-0877", 200, 55),
            ("DRG-ADR-1MG", "ADR-N-101", 9, 6),
            ("NDL-21G", "NDL-N-551", 380, 400),
        ],
    ),
    (
        "HOSP-S",
        "DEMO-HOSP-S",
        [
            ("MSK-SURG", None, None, 160),
            ("IVS-NACL-500", "NACL-S-2450", 90, 70),
            ("IVC-20G", "IVC-S-0912", 27, 12),
            ("DRG-ADR-1MG", "ADR-S-120", 260, 40),
            ("SYR-10ML", "SYR10-S-31", 600, 500),
        ],
    ),
    (
        "CLIN-E",
        "DEMO-CLIN-E",
        [
            ("GLV-NIT-L", None, None, 300),
            ("DRS-GAUZE", "GZ-E-401", 21, 120),
            ("DRS-FILM", "FLM-E-88", 410, 60),
            ("ALC-SWAB", None, None, 900),
        ],
    ),
    (
        "PHARM-1",
        "DEMO-PHARM-1",
        [
            ("DRG-PARA-500", "PARA-P-7731", 500, 2000),
            ("DRG-AMOX-500", "AMOX-P-221", 15, 180),
            ("DRG-ADR-1MG", "ADR-P-130", 330, 25),
        ],
    ),
    (
        "WV-HOSP",
        "DEMO-WV-HOSP",
        [("WV-NACL-500", "WV-NACL-77", 28, 45), ("WV-NACL-500", "WV-NACL-91", 365, 200)],
    ),
]


class IntegrationDemo(models.AbstractModel):
    _inherit = "integration.demo"

    @api.model
    def _demo_load_inventory_story(self):
        """The group's stock systems report: lots near expiry at every facility,
        consumption, a receipt, transfers, a mapping fixed and replayed; then the
        proposals and alerts are evaluated as their crons would."""
        for facility, partner, lines in DEMO_STOCK:
            self._demo_snapshot(facility, partner, lines)
        self._demo_pharmacy_partial_snapshot()
        self._demo_consumption()
        self._demo_receipt()
        self._demo_transfers()
        self._demo_unknown_item_replayed()
        self.env["healthcare.replenishment.proposal"]._cron_scan()
        self.env["healthcare.facility.sync.state"]._cron_check_silence()
        _logger.info("demo inventory story loaded")

    @api.model
    def _demo_expiry(self, days):
        return fields.Date.to_string(fields.Date.context_today(self) + timedelta(days=days))

    @api.model
    def _demo_snapshot_line(self, item, lot, days, quantity):
        line = {"item": item, "quantity": quantity}
        if lot:
            line.update(lot=lot, expiry=self._demo_expiry(days))
        return line

    @api.model
    def _demo_snapshot(self, facility, partner, lines):
        payload = {
            "facility": facility,
            "as_of": DEMO_AS_OF,
            "sequence": DEMO_SEQUENCE,
            "complete": False,
            "lines": [self._demo_snapshot_line(*line) for line in lines],
        }
        return self._demo_process(
            partner, "inventory.snapshot", payload, f"demo-snapshot-{facility}"
        )

    @api.model
    def _demo_pharmacy_partial_snapshot(self):
        """The pharmacy sends a line with an unknown item: its partner applies the
        good lines and raises a Rejected Snapshot Lines alert."""
        expiry = (fields.Date.context_today(self) + timedelta(days=20)).strftime("%y%m%d")
        payload = {
            "facility": "PHARM-1",
            "as_of": DEMO_AS_OF,
            "sequence": DEMO_SEQUENCE + 1,
            "complete": False,
            "lines": [
                # a GS1 scan: GTIN, expiry (YYMMDD) and lot in one string
                {"gs1": f"(01)00871234000216(17){expiry}(10)ADR-P-141", "quantity": 12},
                {"item": "PH-UNKNOWN-42", "quantity": 5},
            ],
        }
        return self._demo_process(
            "DEMO-PHARM-1", "inventory.snapshot", payload, "demo-snapshot-PHARM-1-partial"
        )

    @api.model
    def _demo_consumption(self):
        now = fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ")
        self._demo_process(
            "DEMO-HOSP-N",
            "inventory.consumption",
            {
                "facility": "HOSP-N",
                "occurred_at": now,
                "reference": "ENC-DEMO-1001",
                "cost_center": "ICU",
                "lines": [
                    {"item": "IVC-20G", "lot": "IVC-N-0877", "quantity": 15},
                    {"item": "GLV-NIT-M", "quantity": 120},
                ],
            },
            "demo-consumption-HOSP-N",
        )
        # without a lot: never refused, posted on the lot first to expire (FEFO) and
        # flagged Lot Assumed for review
        self._demo_process(
            "DEMO-HOSP-S",
            "inventory.consumption",
            {
                "facility": "HOSP-S",
                "occurred_at": now,
                "reference": "ENC-DEMO-2002",
                "cost_center": "ER",
                "lines": [{"item": "IVS-NACL-500", "quantity": 10}],
            },
            "demo-consumption-HOSP-S",
        )

    @api.model
    def _demo_receipt(self):
        self._demo_process(
            "DEMO-CENTRAL",
            "inventory.receipt",
            {
                "facility": "CENTRAL",
                "received_at": fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reference": "GRN-DEMO-501",
                "lines": [
                    {
                        "gtin": "0871234000094",
                        "lot": "IVC-C-1002",
                        "expiry": self._demo_expiry(720),
                        "quantity": 400,
                    }
                ],
            },
            "demo-receipt-CENTRAL",
        )

    @api.model
    def _demo_transfers(self):
        self._demo_process(
            "DEMO-HOSP-N",
            "inventory.transfer_request",
            {
                "from_facility": "CENTRAL",
                "to_facility": "HOSP-N",
                "priority": "routine",
                "reference": "HOSP-N/DEMO-0007",
                "lines": [{"item": "IVC-20G", "quantity": 60}],
            },
            "demo-transfer-HOSP-N",
        )
        # more than the source holds: the emergency transfer waits for stock
        self._demo_process(
            "DEMO-CLIN-E",
            "inventory.transfer_request",
            {
                "from_facility": "HOSP-S",
                "to_facility": "CLIN-E",
                "priority": "emergency",
                "reference": "CLIN-E/DEMO-0003",
                "lines": [{"item": "DRG-ADR-1MG", "quantity": 60}],
            },
            "demo-transfer-CLIN-E",
        )

    @api.model
    def _demo_unknown_item_replayed(self):
        """The clinic's system uses its own item code: a business exception until a
        data steward maps the code, then the message is replayed and processed."""
        message = self._demo_process(
            "DEMO-CLIN-E",
            "inventory.consumption",
            {
                "facility": "CLIN-E",
                "occurred_at": fields.Datetime.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
                "reference": "ENC-DEMO-3003",
                "lines": [{"item": "CE-GAUZE-10", "quantity": 6}],
            },
            "demo-consumption-CLIN-E",
        )
        self.env["integration.item.mapping"].create(
            {
                "partner_id": self.env.ref(
                    "healthcare_inventory_sync.partner_system_clinic_east"
                ).id,
                "external_code": "CE-GAUZE-10",
                "product_id": self.env.ref("healthcare_inventory_sync.product_drs_gauze").id,
            }
        )
        message.with_user(self.env.ref("base.user_admin")).action_replay()
        self._demo_run_jobs()
        return message
