from datetime import date, timedelta

from odoo import Command

from odoo.addons.integration_queue.tests.common import QueueCase


class HealthcareCase(QueueCase):
    """Two facilities of our own, a few supplies, and a partner allowed to post for both."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        env = cls.env
        cls.central = env["stock.warehouse"].create(
            {
                "name": "Test Central",
                "code": "TCS",
                "facility_code": "T-CENTRAL",
                "facility_type": "central_store",
            }
        )
        cls.hospital = env["stock.warehouse"].create(
            {
                "name": "Test Hospital",
                "code": "THO",
                "facility_code": "T-HOSP",
                "facility_type": "hospital",
                "min_shelf_life_days": 30,
            }
        )
        cls.other = env["stock.warehouse"].create(
            {"name": "Test Clinic", "code": "TCL", "facility_code": "T-CLINIC"}
        )
        cls.gloves = env["product.product"].create(
            {
                "name": "Test gloves",
                "default_code": "T-GLV",
                "barcode": "0871000000017",
                "is_storable": True,
                "standard_price": 0.1,
            }
        )
        cls.box = env["product.packaging"].create(
            {
                "name": "Box 100",
                "product_id": cls.gloves.id,
                "qty": 100,
                "unit_code": "BX",
                "barcode": "18710000000014",
            }
        )
        cls.saline = env["product.product"].create(
            {
                "name": "Test saline 500 ml",
                "default_code": "T-NACL",
                "barcode": "9506000134352",
                "is_storable": True,
                "tracking": "lot",
                "use_expiration_date": True,
                "is_critical_supply": True,
                "standard_price": 1.5,
            }
        )
        inventory_types = [
            env.ref(f"healthcare_inventory_sync.message_type_inventory_{name}").id
            for name in ("snapshot", "consumption", "receipt", "transfer_request")
        ]
        cls.partner.write(
            {
                "message_type_ids": [Command.link(type_id) for type_id in inventory_types],
                "facility_ids": [Command.set([cls.central.id, cls.hospital.id])],
            }
        )
        cls.steward = env["res.users"].create(
            {
                "name": "Data Steward",
                "login": "test-steward",
                "groups_id": [
                    Command.link(
                        env.ref("healthcare_inventory_sync.group_inventory_data_steward").id
                    )
                ],
            }
        )

    # helpers -------------------------------------------------------------

    def in_days(self, days):
        return (date.today() + timedelta(days=days)).isoformat()

    def process(self, message_type, payload, **kwargs):
        """Send through the gateway, run the jobs; return the message."""
        msg_id = kwargs.pop("msg_id", None) or self.new_id()
        answer = self.receive(payload, message_type=message_type, msg_id=msg_id, **kwargs)
        self.assertEqual(answer.status, 202, answer.body)
        self.run_jobs()
        return self.message(msg_id)

    def on_hand(self, warehouse, product, lot_name=None):
        domain = [
            ("product_id", "=", product.id),
            ("location_id", "child_of", warehouse.view_location_id.id),
            ("location_id.usage", "=", "internal"),
        ]
        if lot_name:
            domain.append(("lot_id.name", "=", lot_name))
        return sum(self.env["stock.quant"].search(domain).mapped("quantity"))

    def snapshot(self, warehouse, lines, **extra):
        payload = dict(
            {"facility": warehouse.facility_code, "as_of": "2026-11-01T08:00:00Z", "lines": lines},
            **extra,
        )
        return self.process("inventory.snapshot", payload)
