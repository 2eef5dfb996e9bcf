from datetime import date, timedelta

from odoo import Command
from odoo.tests import HttpCase, TransactionCase

from odoo.addons.integration_queue import signing
from odoo.addons.integration_queue.tests.common import QueueMixin

INVENTORY_TYPES = ("snapshot", "consumption", "receipt", "transfer_request")


class HealthcareMixin(QueueMixin):
    """Two facilities of our own, a few supplies, and a partner allowed to post for both;
    a second company with its own facility, items and partner."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls._setup_company_a()
        cls._setup_company_b()

    @classmethod
    def _setup_company_a(cls):
        env = cls.env
        cls.company_a = env.company
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
            for name in INVENTORY_TYPES
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

    @classmethod
    def _setup_company_b(cls):
        """Company B: a facility whose code is also one of company A's, its own item
        (same internal reference and lot names as A's may occur) and its own partner."""
        env = cls.env
        cls.company_b = env["res.company"].create({"name": "Test Company B"})
        env.user.company_ids = [Command.link(cls.company_b.id)]
        cls.facility_b = (
            env["stock.warehouse"]
            .with_company(cls.company_b)
            .create(
                {
                    "name": "B Hospital",
                    "code": "BHO",
                    "facility_code": "T-B-HOSP",
                    "company_id": cls.company_b.id,
                }
            )
        )
        # same facility code as company A's hospital: resolved per company
        cls.facility_b_twin = (
            env["stock.warehouse"]
            .with_company(cls.company_b)
            .create(
                {
                    "name": "B Twin",
                    "code": "BTW",
                    "facility_code": "T-HOSP",
                    "company_id": cls.company_b.id,
                }
            )
        )
        cls.product_b = env["product.product"].create(
            {
                "name": "B saline 500 ml",
                "default_code": "T-B-NACL",
                "barcode": "4006381333931",
                "is_storable": True,
                "tracking": "lot",
                "use_expiration_date": True,
                "is_critical_supply": True,
                "standard_price": 2.0,
                "company_id": cls.company_b.id,
            }
        )
        inventory_types = [
            env.ref(f"healthcare_inventory_sync.message_type_inventory_{name}").id
            for name in INVENTORY_TYPES
        ]
        cls.partner_b = env["integration.partner"].create(
            {
                "code": "TEST-B-WMS",
                "name": "Company B stock system",
                "company_id": cls.company_b.id,
                "rate_limit": 1000,
                "message_type_ids": [Command.set(inventory_types)],
                "facility_ids": [Command.set([cls.facility_b.id, cls.facility_b_twin.id])],
            }
        )
        cls.secret_b = signing.generate_secret()
        env["integration.partner.secret"]._store(cls.partner_b, cls.secret_b)
        env["integration.item.mapping"].create(
            {
                "partner_id": cls.partner_b.id,
                "external_code": "B-EHR-1",
                "product_id": cls.product_b.id,
            }
        )

    @classmethod
    def _new_user(cls, login, groups, companies=None):
        """A user with the groups (xml ids) and companies given, password = login."""
        companies = companies or cls.company_a
        return (
            cls.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": login,
                    "login": login,
                    "password": login,
                    "company_id": companies[0].id,
                    "company_ids": [Command.set(companies.ids)],
                    "groups_id": [Command.set([cls.env.ref(xmlid).id for xmlid in groups])],
                }
            )
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

    def process_b(self, message_type, payload):
        """Send as company B's partner and run the jobs; return the message."""
        msg_id = self.new_id()
        answer = self.receive(
            payload,
            message_type=message_type,
            msg_id=msg_id,
            secret=self.secret_b,
            partner_code=self.partner_b.code,
        )
        self.assertEqual(answer.status, 202, answer.body)
        self.run_jobs()
        return self.env["integration.message"].search(
            [("external_id", "=", msg_id), ("partner_id", "=", self.partner_b.id)]
        )

    def snapshot(self, warehouse, lines, **extra):
        payload = dict(
            {"facility": warehouse.facility_code, "as_of": "2026-11-01T08:00:00Z", "lines": lines},
            **extra,
        )
        return self.process("inventory.snapshot", payload)


class HealthcareCase(HealthcareMixin, TransactionCase):
    pass


class HealthcareHttpCase(HealthcareMixin, HttpCase):
    pass
