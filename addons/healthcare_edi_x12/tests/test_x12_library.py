import re
from datetime import datetime
from pathlib import Path

from odoo.tests import TransactionCase, tagged

from .. import gln
from ..x12 import ack, documents, envelope
from . import samples


@tagged("post_install", "-at_install")
class TestX12Envelope(TransactionCase):
    """The plain-Python reader: separators, structure, counts and control numbers."""

    def test_004010_two_groups_several_sets(self):
        text = samples.interchange(
            [
                (
                    "PR",
                    11,
                    [
                        ("855", "0001", samples.ack_855()),
                        ("855", "0002", samples.ack_855("P00002")),
                    ],
                ),
                ("IN", 12, [("810", "0001", samples.invoice_810())]),
            ]
        )
        interchange = envelope.parse(text)
        self.assertEqual(interchange.codes, [])
        self.assertEqual(interchange.delimiters, envelope.Delimiters("*", ">", "~", None))
        self.assertEqual(
            [(g.functional_id, g.control, [t.control for t in g.sets]) for g in interchange.groups],
            [("PR", "11", ["0001", "0002"]), ("IN", "12", ["0001"])],
        )
        self.assertTrue(all(t.accepted for g in interchange.groups for t in g.sets))
        self.assertEqual(interchange.sender_id, "SUPPLIERX12")

    def test_005010_other_separators(self):
        text = samples.interchange(
            [("SH", 5, [("856", "0001", samples.notice_856())])],
            version="00501",
            sep="|",
            sub=":",
            rep="!",
            term="\n",
        )
        interchange = envelope.parse(text)
        self.assertEqual(interchange.delimiters, envelope.Delimiters("|", ":", "\n", "!"))
        self.assertEqual(interchange.codes, [])
        notice = documents.read_856(interchange.groups[0].sets[0])
        self.assertEqual(notice["shipment_id"], "SHIP-1")
        self.assertEqual(notice["items"][0]["lot"], "LOT-A")
        self.assertEqual(notice["items"][0]["expiry"], "2027-11-30")

    def test_not_an_interchange_raises(self):
        for text in ("", "GS*PO*X~", "ISA*00*short~"):
            with self.assertRaises(envelope.X12Error):
                envelope.parse(text)

    def test_wrong_segment_count_rejects_that_set_only(self):
        good = samples.ack_855()
        text = samples.interchange([("PR", 1, [("855", "0001", good), ("855", "0002", good)])])
        text = text.replace("SE*5*0002", "SE*9*0002")
        group = envelope.parse(text).groups[0]
        self.assertEqual([t.codes for t in group.sets], [[], [envelope.SET_SEGMENT_COUNT]])
        segments = ack.functional_ack_segments(group)
        self.assertIn(["AK5", "R", "4"], segments)
        self.assertEqual(segments[-1], ["AK9", "P", "2", "2", "1"])

    def test_set_control_mismatch_and_duplicate(self):
        sets = [("855", "0001", samples.ack_855()), ("855", "0001", samples.ack_855())]
        text = samples.interchange([("PR", 1, sets)]).replace("SE*5*0001", "SE*5*0009", 1)
        group = envelope.parse(text).groups[0]
        self.assertEqual(
            [t.codes for t in group.sets],
            [[envelope.SET_CONTROL_MISMATCH], [envelope.SET_CONTROL_NOT_UNIQUE]],
        )
        self.assertEqual(ack.group_status(group), "R")

    def test_group_count_and_control_mismatch(self):
        text = samples.interchange([("PR", 7, [("855", "0001", samples.ack_855())])])
        group = envelope.parse(text.replace("GE*1*7", "GE*2*8")).groups[0]
        self.assertEqual(group.codes, [envelope.GROUP_CONTROL_MISMATCH, envelope.GROUP_SET_COUNT])
        self.assertEqual(
            ack.functional_ack_segments(group)[-1], ["AK9", "R", "2", "1", "0", "4", "5"]
        )

    def test_interchange_trailer_faults_give_a_rejecting_ta1(self):
        sets = [("855", "0001", samples.ack_855())]
        interchange = envelope.parse(samples.interchange([("PR", 1, sets)], iea_control=2))
        self.assertEqual(interchange.codes, [envelope.TA1_CONTROL_MISMATCH])
        self.assertEqual(ack.ta1_segment(interchange)[4:], ["R", "001"])
        interchange = envelope.parse(samples.interchange([("PR", 1, sets)], iea_count=3))
        self.assertEqual(interchange.codes, [envelope.TA1_GROUP_COUNT])
        text = samples.interchange([("PR", 1, sets)]).replace("IEA*1*000000001~", "")
        self.assertIn(envelope.TA1_NO_TRAILER, envelope.parse(text).codes)

    def test_missing_set_trailer(self):
        text = samples.interchange([("PR", 1, [("855", "0001", samples.ack_855())])])
        group = envelope.parse(text.replace("SE*5*0001~\n", "")).groups[0]
        self.assertEqual(group.sets[0].codes, [envelope.SET_NO_TRAILER])

    def test_set_not_in_its_group(self):
        text = samples.interchange([("PR", 1, [("810", "0001", samples.invoice_810())])])
        group = envelope.parse(text).groups[0]
        self.assertEqual(group.sets[0].codes, [envelope.SET_NOT_SUPPORTED])

    def test_bad_control_number_in_isa(self):
        text = samples.interchange([("PR", 1, [("855", "0001", samples.ack_855())])])
        text = text.replace("*000000001*0*T*", "*00000000X*0*T*")
        self.assertIn(envelope.TA1_BAD_CONTROL_NUMBER, envelope.parse(text).codes)


@tagged("post_install", "-at_install")
class TestX12Documents(TransactionCase):
    """Readers name the segment and element at fault; the 850 round-trips."""

    def _set(self, set_id, segments, functional_id):
        text = samples.interchange([(functional_id, 1, [(set_id, "0001", segments)])])
        return envelope.parse(text).groups[0].sets[0]

    def test_855_read(self):
        segments = samples.ack_855(lines=[("C-GLV", 10, 2.75, "IC")], version=2)
        result = documents.read_855(self._set("855", segments, "PR"))
        self.assertEqual(result["status"], "changed")
        self.assertEqual(result["order_version"], 2)
        line = result["lines"][0]
        self.assertEqual(
            (line["ids"], line["quantity"], line["price"], line["status"], line["promised_date"]),
            ({"BP": "C-GLV"}, 10.0, 2.75, "changed", "2026-11-25"),
        )

    def test_bad_date_names_segment_and_element(self):
        segments = samples.invoice_810()
        segments[0] = "BIG*20261345*INV-1**P00001"
        with self.assertRaises(envelope.ElementError) as caught:
            documents.read_810(self._set("810", segments, "IN"))
        error = caught.exception
        self.assertEqual((error.tag, error.position, error.element, error.code), ("BIG", 2, 1, "8"))
        self.assertIn("BIG (segment 2), element BIG01", error.describe())

    def test_missing_mandatory_segment(self):
        with self.assertRaises(envelope.ElementError) as caught:
            documents.read_855(self._set("855", ["REF*PP*1"], "PR"))
        self.assertEqual((caught.exception.tag, caught.exception.segment_code), ("BAK", "3"))

    def test_invoice_total_must_match_lines(self):
        segments = samples.invoice_810(lines=[("C-GLV", 10, 2.5)], total=30)
        with self.assertRaises(envelope.ElementError) as caught:
            documents.read_810(self._set("810", segments, "IN"))
        self.assertEqual((caught.exception.tag, caught.exception.element), ("TDS", 1))

    def test_rejected_set_lists_ak3_ak4(self):
        transaction = self._set("855", ["BAK*00*XX*P00001*20261120"], "PR")
        try:
            documents.read_855(transaction)
        except envelope.ElementError as error:
            transaction.reject(error)
        group = envelope.FunctionalGroup("PR", "S", "R", "", "", "1", "004010", [transaction])
        self.assertEqual(
            ack.functional_ack_segments(group),
            [
                ["AK1", "PR", "1"],
                ["AK2", "855", "0001"],
                ["AK3", "BAK", "2", "", "8"],
                ["AK4", "2", "", "7", "XX"],
                ["AK5", "R", "5"],
                ["AK9", "R", "1", "1", "0"],
            ],
        )

    def test_856_serials_and_quantities(self):
        segments = samples.notice_856(items=[("C-GLV", 2, "L1", "20270101", ("S1", "S2"))])
        item = documents.read_856(self._set("856", segments, "SH"))["items"][0]
        self.assertEqual((item["quantity"], item["serials"]), (2.0, ["S1", "S2"]))

    def test_997_read(self):
        result = documents.read_997(self._set("997", samples.fa_997(3, "0001", status="R"), "FA"))
        self.assertEqual(result["status"], "R")
        self.assertEqual(
            result["sets"], [{"set_id": "850", "control": "0001", "status": "R", "codes": []}]
        )

    def test_850_round_trip_in_both_versions(self):
        order = {
            "purchase_order": "P00042",
            "order_version": 3,
            "purpose": "replace",
            "date_order": "2026-11-20",
            "currency": "USD",
            "contract": "CT-1",
            "account_number": "ACCT*7",
            "ship_to_gln": "0614141000012",
            "ship_to_name": "Main",
            "bill_to_gln": "0614141000029",
            "bill_to_name": "Group",
            "supplier_gln": "0614141000036",
            "supplier_name": "Supplier",
            "lines": [
                {
                    "line": 1,
                    "quantity": 12.0,
                    "uom": "EA",
                    "price": 2.125,
                    "ids": {"VN": "C-GLV", "BP": "GLV"},
                    "description": "Gloves",
                    "date_planned": "2026-12-01",
                },
                {
                    "line": 2,
                    "quantity": 3.5,
                    "uom": "BX",
                    "price": 10.0,
                    "ids": {"UK": "06291041500213"},
                    "description": "Masks",
                    "date_planned": "2026-12-02",
                },
            ],
        }
        for version, sep in (("00401", "*"), ("00501", "|")):
            delimiters = envelope.Delimiters(sep, ":", "~", "^" if version == "00501" else None)
            text = envelope.write_interchange(
                {
                    "sender_qualifier": "ZZ",
                    "sender_id": "HCSC",
                    "receiver_qualifier": "14",
                    "receiver_id": "0614141000036",
                    "control": 5,
                    "version": version,
                },
                [
                    {
                        "functional_id": "PO",
                        "sender": "HCSC",
                        "receiver": "SUP",
                        "control": 9,
                        "version": envelope.VERSIONS[version],
                        "sets": [
                            {"set_id": "850", "control": 1, "segments": documents.write_850(order)}
                        ],
                    }
                ],
                delimiters=delimiters,
                when=datetime(2026, 11, 20, 9, 0),
            )
            interchange = envelope.parse(text)
            self.assertEqual(interchange.codes, [])
            transaction = interchange.groups[0].sets[0]
            self.assertTrue(transaction.accepted)
            # a separator inside a value never leaks into the structure
            expected = dict(order, account_number="ACCT 7" if sep == "*" else "ACCT*7")
            self.maxDiff = None
            self.assertEqual(documents.read_850(transaction), expected)


@tagged("post_install", "-at_install")
class TestGln(TransactionCase):
    def test_check_digit(self):
        self.assertTrue(gln.is_gln("0614141000012"))
        self.assertEqual(
            gln.gln_error("0614141000013"), "the check digit of 0614141000013 should be 2"
        )
        self.assertEqual(gln.gln_error("061414100001"), "a GLN is 13 digits")
        self.assertFalse(gln.is_gln("06141410000a2"))


@tagged("post_install", "-at_install")
class TestUsageExamples(TransactionCase):
    """The X12 samples of readme/USAGE.md read as they say."""

    @classmethod
    def _blocks(cls):
        text = (Path(__file__).parents[1] / "readme" / "USAGE.md").read_text()
        return re.findall(r"```\n(.*?)```", text, re.S)

    def test_the_posted_interchange_is_valid(self):
        request = self._blocks()[0]
        interchange = envelope.parse(request.split("\n\n", 1)[1])
        self.assertEqual(interchange.codes, [])
        transaction = interchange.groups[0].sets[0]
        self.assertTrue(transaction.accepted)
        acknowledgement = documents.read_855(transaction)
        self.assertEqual(
            (acknowledgement["status"], acknowledgement["lines"][0]["price"]), ("changed", 2.75)
        )
        answer = ack.functional_ack_segments(interchange.groups[0])
        expected = [line.rstrip("~").split("*") for line in self._blocks()[1].split()]
        self.assertEqual(answer, expected[1:-1])

    def test_the_856_and_810_fragments_read(self):
        for block, reader, set_id, functional_id in (
            (self._blocks()[2], documents.read_856, "856", "SH"),
            (self._blocks()[3], documents.read_810, "810", "IN"),
        ):
            segments = [line.rstrip("~") for line in block.split()]
            text = samples.interchange([(functional_id, 1, [(set_id, "0001", segments)])])
            transaction = envelope.parse(text).groups[0].sets[0]
            self.assertTrue(transaction.accepted)
            self.assertTrue(reader(transaction))
