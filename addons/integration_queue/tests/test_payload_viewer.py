import ast

from lxml import etree

from odoo.modules.module import get_manifest
from odoo.tests import new_test_user, tagged

from .common import QueueHttpCase

OUR_ADDONS = (
    "integration_audit",
    "integration_queue",
    "healthcare_inventory_sync",
    "contract_procurement",
)
CODE_WIDGETS = "//field[@widget='code' or @widget='ace']"


def code_editor_modes(arch):
    """(field, ace mode) of every code editor in ``arch``, as Odoo's AceField reads it."""
    tree = etree.fromstring(arch) if isinstance(arch, str) else arch
    for node in tree.xpath(CODE_WIDGETS):
        mode = ast.literal_eval(node.get("options") or "{}").get("mode", "qweb")
        # AceField shows xml with its qweb mode
        yield node.get("name"), "qweb" if mode == "xml" else mode


@tagged("post_install", "-at_install")
class TestPayloadViewer(QueueHttpCase):
    """The payload viewer's editor mode is one Odoo ships: no asset answers 404."""

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.viewer = new_test_user(
            cls.env,
            login="iq_payload_viewer",
            groups="base.group_user,integration_queue.group_integration_user",
        )
        bundle = get_manifest("web")["assets"]["web.ace_lib"]
        cls.bundled_modes = {
            path.rsplit("/mode-", 1)[1].removesuffix(".js") for path in bundle if "/mode-" in path
        }

    def assertModeServed(self, where, mode):
        """The mode is in Odoo's ace bundle, and its file is served (never a 404)."""
        self.assertIn(mode, self.bundled_modes, f"{where}: ace mode {mode!r} is not bundled")
        response = self.url_open(f"/web/static/lib/ace/mode-{mode}.js")
        self.assertEqual(response.status_code, 200, f"{where}: mode-{mode}.js")

    def test_message_form_payload_uses_a_shipped_mode(self):
        self.receive({"note": "payload viewer"}, msg_id="msg_payload_viewer")
        message = self.message("msg_payload_viewer").with_user(self.viewer)
        views = message.get_views([(False, "form")])
        modes = dict(code_editor_modes(views["views"]["form"]["arch"]))
        self.assertIn("payload_pretty", modes)
        self.assertModeServed("integration.message form", modes["payload_pretty"])
        self.assertIn('"note": "payload viewer"', message.payload_pretty)

    def test_every_code_editor_of_our_views_uses_a_shipped_mode(self):
        views = (
            self.env["ir.model.data"]
            .search([("module", "in", OUR_ADDONS), ("model", "=", "ir.ui.view")])
            .mapped(lambda data: self.env["ir.ui.view"].browse(data.res_id))
        )
        found = [
            (view.xml_id, field, mode)
            for view in views.exists()
            for field, mode in code_editor_modes(view.arch)
        ]
        self.assertTrue(found, "the payload and schema editors are code widgets")
        for xml_id, field, mode in found:
            self.assertModeServed(f"{xml_id} {field}", mode)

    def test_the_json_mode_is_not_shipped(self):
        """Why the views use the javascript mode: a json mode would be a 404."""
        self.assertNotIn("json", self.bundled_modes)
        self.assertEqual(self.url_open("/web/static/lib/ace/mode-json.js").status_code, 404)
