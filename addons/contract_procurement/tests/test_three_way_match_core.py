from odoo.tests import TransactionCase, tagged

from .. import contract_consumption
from .. import three_way_match as twm


def bill_line(qty=10.0, price=5.0, received=10.0, ordered=10.0, elsewhere=0.0, order_price=5.0):
    order_line = twm.OrderLine(
        id=7, price_unit=order_price, ordered=ordered, received=received, rounding=0.01
    )
    return twm.BillLine(
        id=3,
        order_line=order_line,
        quantity=qty,
        price_unit=price,
        billed_elsewhere=elsewhere,
        label="Gloves",
    )


def kinds(line, tolerances=None):
    result = twm.match_line(line, tolerances or twm.Tolerances())
    return [finding.kind for finding in result.findings]


@tagged("post_install", "-at_install")
class TestThreeWayMatchCore(TransactionCase):
    """The plain-Python match decisions, without records."""

    def test_billed_as_ordered_and_received_matches(self):
        result = twm.match_line(bill_line(), twm.Tolerances())
        self.assertEqual((result.state, result.findings), (twm.MATCHED, ()))

    def test_billed_beyond_receipt_within_order_waits_for_the_receipt(self):
        result = twm.match_line(bill_line(qty=10, received=6), twm.Tolerances())
        self.assertEqual(result.state, twm.EXCEPTION)
        (finding,) = result.findings
        self.assertEqual(
            (finding.kind, finding.expected, finding.billed, finding.waiting_for),
            (twm.QTY_NOT_RECEIVED, 6.0, 10.0, twm.WAITING_RECEIPT),
        )
        self.assertEqual(finding.key, (twm.QTY_NOT_RECEIVED, 3, 7))

    def test_billed_beyond_the_order_waits_for_a_decision(self):
        (finding,) = twm.match_line(bill_line(qty=12, received=10), twm.Tolerances()).findings
        self.assertEqual(finding.waiting_for, twm.WAITING_APPROVAL)

    def test_earlier_bills_count_towards_the_received_quantity(self):
        self.assertEqual(kinds(bill_line(qty=5, received=10, elsewhere=5)), [])
        self.assertEqual(kinds(bill_line(qty=5, received=10, elsewhere=6)), [twm.QTY_NOT_RECEIVED])

    def test_quantity_tolerance_and_rounding(self):
        self.assertEqual(kinds(bill_line(qty=10.5, received=10)), [twm.QTY_NOT_RECEIVED])
        self.assertEqual(kinds(bill_line(qty=10.5, received=10), twm.Tolerances(qty_pct=5)), [])
        # below the unit's rounding is no difference
        self.assertEqual(kinds(bill_line(qty=10.004, received=10)), [])

    def test_price_tolerances_percentage_or_amount_whichever_is_larger(self):
        line = bill_line(price=5.2)
        self.assertEqual(kinds(line), [twm.PRICE_VARIANCE])
        self.assertEqual(kinds(line, twm.Tolerances(price_pct=5)), [])
        self.assertEqual(kinds(line, twm.Tolerances(price_abs=0.25)), [])
        self.assertEqual(
            kinds(line, twm.Tolerances(price_pct=1, price_abs=0.1)), [twm.PRICE_VARIANCE]
        )
        self.assertEqual(kinds(bill_line(price=4.0)), [])

    def test_a_line_can_fail_on_quantity_and_price(self):
        findings = twm.match_line(bill_line(qty=10, received=4, price=6), twm.Tolerances()).findings
        self.assertEqual([f.kind for f in findings], [twm.QTY_NOT_RECEIVED, twm.PRICE_VARIANCE])
        self.assertEqual((findings[1].expected, findings[1].billed), (5.0, 6.0))

    def test_a_refund_line_never_raises_a_finding(self):
        self.assertEqual(kinds(bill_line(qty=-10, received=0, price=9, elsewhere=10)), [])

    def test_match_lines_keeps_one_result_per_line(self):
        results = twm.match_lines([bill_line(), bill_line(qty=20)], twm.Tolerances())
        self.assertEqual([r.state for r in results], [twm.MATCHED, twm.EXCEPTION])

    def test_compare_absorbs_float_noise(self):
        self.assertEqual(twm.compare(0.1 + 0.2, 0.3, 1e-6), 0)
        self.assertEqual(twm.compare(1.005, 1.0, 0.01), 1)
        self.assertEqual(twm.compare(1.004, 1.0, 0.01), 0)
        self.assertEqual(twm.compare(0.99, 1.0, 0.01), -1)

    def test_bill_po_policy_vendor_then_journal_then_strictest_category(self):
        resolve = twm.resolve_bill_po_policy
        free, limited = (twm.NOT_REQUIRED, 0.0), (twm.THRESHOLD, 500.0)
        self.assertEqual(resolve(vendor=free, journal=(twm.REQUIRED, 0)), free)
        self.assertEqual(resolve(vendor=(False, 0), journal=limited, categories=[free]), limited)
        self.assertEqual(resolve(categories=[free, limited]), limited)
        self.assertEqual(
            resolve(categories=[(twm.THRESHOLD, 900.0), limited]), (twm.THRESHOLD, 500.0)
        )
        # the default: an order is required
        self.assertEqual(resolve(categories=[free, (False, 0.0)]), (twm.REQUIRED, 0.0))
        self.assertEqual(resolve(categories=[]), (twm.REQUIRED, 0.0))
        self.assertEqual(
            resolve(categories=[free], all_lines_categorised=False), (twm.REQUIRED, 0.0)
        )

    def test_no_order_finding_follows_the_policy(self):
        self.assertIsNone(twm.no_order_finding(twm.NOT_REQUIRED, 0, 10_000))
        self.assertIsNone(twm.no_order_finding(twm.THRESHOLD, 500, 500))
        finding = twm.no_order_finding(twm.THRESHOLD, 500, 500.01)
        self.assertEqual(
            (finding.kind, finding.expected, finding.billed), (twm.NO_ORDER, 500, 500.01)
        )
        self.assertEqual(twm.no_order_finding(twm.REQUIRED, 0, 1).key, (twm.NO_ORDER, False, False))

    def test_duplicate_finding_names_the_other_bill(self):
        self.assertIsNone(twm.duplicate_finding(""))
        self.assertEqual(twm.duplicate_finding("BILL/1").label, "BILL/1")

    def test_plan_updates_found_resolves_gone_and_raises_new(self):
        kept = twm.Finding(twm.PRICE_VARIANCE, 3, 7, expected=5, billed=6)
        new = twm.Finding(twm.QTY_NOT_RECEIVED, 3, 7)
        gone = (twm.NO_ORDER, False, False)
        changes = twm.plan([kept, new, new], [kept.key, gone])
        self.assertEqual(changes.create, (new,))
        self.assertEqual(changes.update, (kept,))
        self.assertEqual(changes.resolve, (gone,))

    def test_bill_state(self):
        self.assertEqual(twm.bill_state(False, ["open"], False), twm.NOT_A_BILL)
        self.assertEqual(twm.bill_state(True, [], False), twm.MATCHED)
        self.assertEqual(twm.bill_state(True, ["resolved"], False), twm.MATCHED)
        self.assertEqual(twm.bill_state(True, ["open", "resolved"], False), twm.EXCEPTION)
        self.assertEqual(twm.bill_state(True, ["open"], True), twm.OVERRIDDEN)
        # posted over its exceptions: never "matched"
        self.assertEqual(twm.bill_state(True, ["overridden", "resolved"], False), twm.OVERRIDDEN)

    def test_waiting_for_is_the_receipt_only_when_every_finding_waits_for_it(self):
        receipt = twm.Finding(twm.QTY_NOT_RECEIVED, waiting_for=twm.WAITING_RECEIPT)
        price = twm.Finding(twm.PRICE_VARIANCE)
        self.assertIsNone(twm.waiting_for([]))
        self.assertEqual(twm.waiting_for([receipt]), twm.WAITING_RECEIPT)
        self.assertEqual(twm.waiting_for([receipt, price]), twm.WAITING_APPROVAL)


@tagged("post_install", "-at_install")
class TestContractConsumptionCore(TransactionCase):
    def test_consumed_is_the_larger_of_committed_and_invoiced(self):
        figures = contract_consumption.consumption(1000.0, 300.0, 250.0)
        self.assertEqual((figures.consumed, figures.remaining, figures.percent), (300, 700, 30))
        figures = contract_consumption.consumption(1000.0, 300.0, 400.0)
        self.assertEqual((figures.consumed, figures.remaining), (400, 600))

    def test_an_overrun_shows_as_negative_remaining(self):
        figures = contract_consumption.consumption(1000.0, 1200.0, 0.0)
        self.assertEqual(
            (figures.remaining, figures.percent, figures.over_ceiling), (-200, 120, True)
        )

    def test_without_ceiling_nothing_remains_and_no_percentage(self):
        figures = contract_consumption.consumption(0.0, 500.0, 100.0)
        self.assertEqual(
            (figures.consumed, figures.remaining, figures.percent, figures.over_ceiling),
            (500, 0.0, 0.0, False),
        )
