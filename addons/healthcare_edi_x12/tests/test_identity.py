from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from odoo.addons.contract_procurement.tests.common import ProcurementCase

from .common import FACILITY_GLN, X12Mixin


@tagged("post_install", "-at_install")
class TestIdentity(X12Mixin, ProcurementCase):
    def test_gln_check_digit_is_verified_everywhere(self):
        for record in (self.warehouse_b, self.company_b, self.other_supplier):
            with self.assertRaisesRegex(ValidationError, "check digit"):
                record.gln = "0614141000043"[:12] + "9"
        self.warehouse_b.gln = "0614141000043"
        self.assertEqual(self.warehouse_b.gln, "0614141000043")

    def test_a_gln_names_one_facility(self):
        with self.assertRaisesRegex(ValidationError, "already names"):
            self.warehouse_b.gln = FACILITY_GLN

    def test_x12_partner_needs_its_interchange_ids(self):
        with self.assertRaisesRegex(ValidationError, "Partner Interchange ID"):
            self.partner.x12_partner_id = False

    def test_control_numbers_increase_per_partner_and_level(self):
        Counter = self.env["x12.control.number"].sudo()
        first = Counter._next(self.partner, "isa")
        self.assertEqual(Counter._next(self.partner, "isa"), first + 1)
        self.assertEqual(Counter._next(self.partner_b, "isa"), 1)
        with self.assertRaises(AccessError):
            self.env["x12.control.number"].with_user(self.buyer)._next(self.partner, "isa")
