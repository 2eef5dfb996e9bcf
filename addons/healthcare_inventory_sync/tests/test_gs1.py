from datetime import date

from odoo.tests import TransactionCase, tagged

from .. import gs1


@tagged("post_install", "-at_install")
class TestGS1(TransactionCase):
    def test_human_readable(self):
        data = gs1.parse("(01)09506000134352(17)270315(10)LOT-A1(21)SN9")
        self.assertEqual(data, gs1.GS1Data("09506000134352", "LOT-A1", date(2027, 3, 15), "SN9"))

    def test_day_00_means_last_day_of_month(self):
        self.assertEqual(gs1.parse("(01)09506000134352(17)280200(10)X").expiry, date(2028, 2, 29))

    def test_raw_with_fnc1_and_symbology_prefix(self):
        raw = "]C1" + "0109506000134352" + "10LOT-B" + "\x1d" + "17261231"
        data = gs1.parse(raw)
        self.assertEqual(
            (data.gtin, data.lot, data.expiry), ("09506000134352", "LOT-B", date(2026, 12, 31))
        )

    def test_invalid_strings(self):
        for value in ("", "hello", "(10)LOT-ONLY"):
            with self.subTest(value=value), self.assertRaises(gs1.GS1Error):
                gs1.parse(value)

    def test_normalise_gtin(self):
        self.assertEqual(gs1.normalise_gtin("9506000134352"), "09506000134352")
        self.assertIsNone(gs1.normalise_gtin("12ab"))
