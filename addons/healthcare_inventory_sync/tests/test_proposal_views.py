from lxml import etree

from odoo.tests import tagged

from .common import HealthcareCase


@tagged("post_install", "-at_install")
class TestProposalViews(HealthcareCase):
    """The proposal has a form of its own: Apply and Cancel for Inventory Managers,
    by state; a list and a search view to work in."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.manager = cls._new_user("proposal-manager", ["stock.group_stock_manager"])
        cls.stock_user = cls._new_user("proposal-user", ["stock.group_stock_user"])
        cls.proposal = cls.env["healthcare.replenishment.proposal"].create(
            {
                "warehouse_id": cls.hospital.id,
                "product_id": cls.saline.id,
                "quantity": 10,
                "source_type": "transfer",
                "source_warehouse_id": cls.central.id,
            }
        )

    def arch(self, user, view_type):
        Proposal = self.env["healthcare.replenishment.proposal"].with_user(user)
        view = Proposal.get_views([(False, view_type)])["views"][view_type]
        return view["id"], etree.fromstring(view["arch"])

    def test_form_is_the_addons_own_with_apply_and_cancel(self):
        view_id, arch = self.arch(self.manager, "form")
        self.assertEqual(
            view_id,
            self.env.ref(
                "healthcare_inventory_sync.healthcare_replenishment_proposal_view_form"
            ).id,
        )
        header = arch.find("header")
        self.assertIsNotNone(header)
        buttons = {button.get("name"): button for button in header.iter("button")}
        self.assertIn("action_apply", buttons)
        self.assertIn("action_cancel", buttons)
        self.assertEqual(buttons["action_apply"].get("invisible"), "state != 'draft'")
        self.assertEqual(header.find("field").get("widget"), "statusbar")
        names = {field.get("name") for field in arch.iter("field")}
        for name in (
            "warehouse_id",
            "product_id",
            "on_hand",
            "incoming",
            "reserved",
            "minimum",
            "quantity",
            "source_type",
            "source_warehouse_id",
            "route_description",
        ):
            self.assertIn(name, names)
        self.assertIsNotNone(arch.find(".//chatter"))
        # no auto-generated internals of mail.thread on the sheet
        self.assertNotIn("message_follower_ids", names)

    def test_stock_user_sees_no_apply_or_cancel(self):
        _view_id, arch = self.arch(self.stock_user, "form")
        names = {button.get("name") for button in arch.iter("button")}
        self.assertNotIn("action_apply", names)
        self.assertNotIn("action_cancel", names)
        _view_id, arch = self.arch(self.stock_user, "list")
        self.assertNotIn("action_apply", {b.get("name") for b in arch.iter("button")})

    def test_list_and_search_are_made_for_the_manager(self):
        _view_id, arch = self.arch(self.manager, "list")
        names = {field.get("name") for field in arch.iter("field")}
        self.assertTrue({"incoming", "quantity", "source_type", "state"} <= names)
        _view_id, arch = self.arch(self.manager, "search")
        filters = {node.get("name") for node in arch.iter("filter")}
        self.assertTrue(
            {"filter_draft", "filter_critical", "filter_transfer", "group_by_facility"} <= filters
        )

    def test_route_describes_the_source(self):
        self.assertEqual(
            self.proposal.route_description, "Internal transfer Test Central → Test Hospital"
        )

    def test_cancel_leaves_an_applied_proposal_applied(self):
        self.proposal.state = "done"
        self.proposal.with_user(self.manager).action_cancel()
        self.assertEqual(self.proposal.state, "done")
