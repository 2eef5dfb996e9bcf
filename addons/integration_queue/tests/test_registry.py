from odoo.exceptions import AccessError
from odoo.tests import BaseCase, TransactionCase, tagged

from .. import registry
from .common import ECHO_JOB, TEST_HANDLER, TEST_TYPE, FakeModelsMixin

RIVAL_HANDLER = "integration.queue.test.rival.handler"


class TestRegistryGuard(BaseCase):
    def test_guard_is_python_only(self):
        self.assertFalse(registry.guarded())
        with registry.write_guard():
            self.assertTrue(registry.guarded())
        self.assertFalse(registry.guarded())


@tagged("post_install", "-at_install")
class TestRegistryDeclarations(FakeModelsMixin, TransactionCase):
    """What the decorators of the fake models (tests/models.py) declare, as routed."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._load_fake_models()

    def test_declarations_are_found_by_model(self):
        routes = registry.routes(self.registry)
        self.assertEqual(routes.handler(TEST_TYPE), (TEST_HANDLER, "_handle"))
        self.assertTrue(routes.is_target(*ECHO_JOB))
        self.assertFalse(routes.is_target(TEST_HANDLER, "_raise_outcome"))
        self.assertFalse(routes.is_target(TEST_HANDLER, "_handle"))

    def test_override_without_decorator_stays_the_declared_handler(self):
        # the extension in tests/models.py overrides _handle without the decorator
        handle = type(self.env[TEST_HANDLER])._handle
        self.assertEqual(handle.__qualname__, "IntegrationQueueTestHandlerExtension._handle")
        routes = registry.routes(self.registry)
        self.assertEqual(routes.handler(TEST_TYPE), (TEST_HANDLER, "_handle"))

    def test_message_type_shows_its_declared_handler(self):
        message_type = self.env["integration.message.type"].create(
            {"code": TEST_TYPE, "name": "Queue test"}
        )
        self.assertEqual(
            (message_type.handler_model, message_type.handler_method), (TEST_HANDLER, "_handle")
        )

    def test_job_of_an_undeclared_method_is_refused(self):
        Job = self.env["integration.job"]
        self.assertTrue(Job._enqueue(*ECHO_JOB, lane="bulk"))
        with self.assertRaises(AccessError):
            Job._enqueue(TEST_HANDLER, "_raise_outcome", kwargs={"outcome": "business"})


@tagged("post_install", "-at_install")
class TestRegistryRivalHandlers(FakeModelsMixin, TransactionCase):
    """Two models declaring one message type: the registry must not load."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.rivals = cls._prepare_fake_models(
            ("IntegrationQueueTestHandler", "IntegrationQueueTestRivalHandler")
        )

    def test_two_handlers_of_one_code_stop_the_load(self):
        # the registry's set-up runs integration.job's _register_hook, which scans
        with self.assertRaises(registry.RegistryError) as caught:
            self.loader.update_registry(self.rivals)
        self.assertIn(f"{TEST_HANDLER}._handle", str(caught.exception))
        self.assertIn(f"{RIVAL_HANDLER}._handle_too", str(caught.exception))
        self.assertIsNone(registry.routes(self.registry).handler(TEST_TYPE))


@tagged("post_install", "-at_install")
class TestRegistryRoutes(TransactionCase):
    def test_loaded_registry_knows_the_declared_handlers_and_targets(self):
        routes = registry.routes(self.env.registry)
        self.assertEqual(routes.handler("integration.ping"), ("integration.ping", "_handle"))
        self.assertTrue(routes.is_target("integration.ping", "_job_ping"))
        self.assertTrue(routes.is_target("integration.message", "_deliver_outbound"))
        self.assertFalse(routes.is_target("res.users", "write"))
        self.assertFalse(routes.is_target("integration.ping", "_fail_as_asked"))
        ping = self.env.ref("integration_queue.message_type_ping")
        self.assertEqual((ping.handler_model, ping.handler_method), ("integration.ping", "_handle"))
