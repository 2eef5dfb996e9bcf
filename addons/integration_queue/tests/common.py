import contextlib
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from odoo_test_helper import FakeModelLoader

from odoo.tests import HttpCase, TransactionCase
from odoo.tools import SQL, config

from odoo.addons.integration_audit.tests.common import thread_env

from .. import registry, secret_box, signing

TEST_KEY = secret_box.generate_key()
# the test handler's message type and job targets (tests/models.py)
TEST_TYPE = "test.queue.record"
TEST_HANDLER = "integration.queue.test.handler"
ECHO_JOB = (TEST_HANDLER, "_job_echo")
# a plain table of the runner tests, which need a committed row other sessions see
CONTENDED_TABLE = "integration_queue_test_contended"


def set_jobs(jobs, **values):
    """Set columns of jobs as a test fixture would (the ORM refuses: jobs are the runner's).

    ``eta="due"`` makes them due now, by the database's clock.
    """
    jobs.env.flush_all()
    for name, value in values.items():
        if value == "due":
            jobs.env.cr.execute(
                "UPDATE integration_job SET eta = (statement_timestamp() at time zone 'UTC')"
                " - interval '1 second' WHERE id = ANY(%s)",
                [jobs.ids],
            )
        else:
            jobs.env.cr.execute(
                SQL(
                    "UPDATE integration_job SET %s = %s WHERE id = ANY(%s)",
                    SQL.identifier(name),
                    value,
                    jobs.ids,
                )
            )
    jobs.invalidate_recordset()


def allow_local_outbound(env):
    """Let outbound delivery reach plain http on 127.0.0.1 (test partner endpoints)."""
    params = env["ir.config_parameter"].sudo()
    params.set_param("integration_queue.allow_insecure_http", "1")
    params.set_param("integration_queue.outbound_allowed_networks", "127.0.0.0/8")


@contextlib.contextmanager
def encryption_key(key=TEST_KEY):
    """Set (or, with None, remove) the secret encryption key of the config file."""
    sentinel = object()
    previous = config.options.get(secret_box.CONFIG_OPTION, sentinel)
    if key is None:
        config.options.pop(secret_box.CONFIG_OPTION, None)
    else:
        config.options[secret_box.CONFIG_OPTION] = key
    try:
        yield
    finally:
        if previous is sentinel:
            config.options.pop(secret_box.CONFIG_OPTION, None)
        else:
            config.options[secret_box.CONFIG_OPTION] = previous


class QueueMixin:
    """Shared set-up and helpers for queue tests (an API, not just fixtures)."""

    @classmethod
    def _setup_env(cls):
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls._key = encryption_key()
        cls._key.__enter__()
        cls.addClassCleanup(cls._key.__exit__, None, None, None)

    @classmethod
    def _setup_records(cls):
        cls.ping_type = cls.env.ref("integration_queue.message_type_ping")
        cls.partner = cls.env["integration.partner"].create(
            {
                "code": "TEST-EHR",
                "name": "Test EHR",
                "rate_limit": 1000,
                "message_type_ids": [(6, 0, cls.ping_type.ids)],
            }
        )
        cls.secret = signing.generate_secret()
        cls.env["integration.partner.secret"]._store(cls.partner, cls.secret)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._setup_env()
        cls._setup_records()

    # helpers -----------------------------------------------------------

    def new_id(self):
        return "msg_" + uuid.uuid4().hex

    def signed(self, body, msg_id=None, secret=None, partner_code=None, timestamp=None):
        """Headers of a correctly signed request (override any of them)."""
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        body_bytes = body.encode() if isinstance(body, str) else body
        msg_id = msg_id or self.new_id()
        headers = signing.sign_headers(
            secret or self.secret, msg_id, body_bytes, timestamp=timestamp or int(time.time())
        )
        headers["X-Partner-Code"] = partner_code or self.partner.code
        headers["Content-Type"] = "application/json"
        return headers, body_bytes

    def receive(self, body, message_type="integration.ping", **kwargs):
        """Hand a signed message to the gateway (no HTTP); return the Answer."""
        headers, body_bytes = self.signed(body, **kwargs)
        return self.env["integration.gateway"]._receive(
            message_type, headers, body_bytes, headers["Content-Type"], len(body_bytes)
        )

    def run_jobs(self, lane=None, max_batches=50):
        """Run ready jobs like the lane crons do, without committing."""
        Job = self.env["integration.job"]
        lanes = [lane] if lane else ["critical", "standard", "bulk"]
        total = 0
        for _round in range(max_batches):
            done = sum(Job._run_batch(name, 20) for name in lanes)
            total += done
            if not done:
                break
        return total

    def message(self, external_id):
        return self.env["integration.message"].search(
            [("external_id", "=", external_id), ("partner_id", "=", self.partner.id)]
        )

    @contextlib.contextmanager
    def trap_jobs(self):
        """Collect the jobs enqueued inside the block (to test enqueueing apart from running)."""
        Job = self.env["integration.job"]
        before = Job.search([], order="id desc", limit=1).id or 0
        trapped = Job.browse()
        holder = {"jobs": trapped}
        yield holder
        holder["jobs"] = Job.search([("id", ">", before)], order="id")


class QueueCase(QueueMixin, TransactionCase):
    pass


class FakeModelsMixin:
    """Give a test class the models of tests/models.py: a handler, job targets and
    records of its own, so that no test borrows ``integration.ping`` or a business model.

    Call ``_load_fake_models()`` in ``setUpClass`` before creating records; the
    registry and the queue's routes are restored when the class is done, also when
    its set-up fails.
    """

    # a package of their own: the loader rebuilds every model of the package it is
    # given and runs their init(), whose DDL (integration.job's CREATE INDEX IF NOT
    # EXISTS) would lock integration_job until the end of the test's transaction,
    # blocking the runner tests' other sessions
    FAKE_PACKAGE = "odoo.addons.integration_queue_test_models.tests"
    FAKE_MODELS = (
        "IntegrationQueueTestRecord",
        "IntegrationQueueTestCall",
        "IntegrationQueueTestHandler",
        "IntegrationQueueTestHandlerExtension",
    )

    @classmethod
    def _load_fake_models(cls, class_names=None):
        """Load the classes ``class_names`` of tests/models.py (default ``FAKE_MODELS``).

        The registry's set-up runs the models' ``_register_hook``, which rebuilds
        the queue's routes: the test handler and job targets are allowed.
        """
        classes = cls._prepare_fake_models(class_names)
        cls.loader.update_registry(classes)

    @classmethod
    def _prepare_fake_models(cls, class_names=None):
        """Back the registry up, arrange its restoration; return the classes to load."""
        cls.loader = FakeModelLoader(cls.env, cls.FAKE_PACKAGE)
        cls.loader.backup_registry()
        # imported here, after the backup, so that the registry forgets them again
        from . import models as fake_models  # noqa: PLC0415

        classes = [getattr(fake_models, name) for name in class_names or cls.FAKE_MODELS]
        cls.fake_model_names = {klass._name or klass._inherit for klass in classes}
        # class cleanups rather than tearDownClass: they also run when setUpClass
        # fails later on, and before TransactionCase's (LIFO); the routes are
        # rebuilt without the fake models, and last, nothing of them may be left
        # for the test classes that follow
        cls.addClassCleanup(cls._check_fake_models_removed)
        cls.addClassCleanup(registry.reset, cls.registry)
        cls.addClassCleanup(cls.loader.restore_registry)
        return classes

    @classmethod
    def _create_contended_table(cls):
        """Create, committed, the plain table that jobs of ``_job_set_contended`` update.

        For tests whose jobs run in sessions of their own (a fake model's table would
        exist in the test's transaction only). After the class, the table is dropped
        and the committed jobs naming the fake handler are removed.
        """
        cls.addClassCleanup(cls._drop_contended_table)
        with thread_env(cls.registry) as env:
            env.cr.execute(
                SQL(
                    "CREATE TABLE IF NOT EXISTS %s (id serial PRIMARY KEY, value varchar)",
                    SQL.identifier(CONTENDED_TABLE),
                )
            )

    @classmethod
    def _drop_contended_table(cls):
        with thread_env(cls.registry) as env:
            env.cr.execute(SQL("DROP TABLE IF EXISTS %s", SQL.identifier(CONTENDED_TABLE)))
            jobs = env["integration.job"].search([("model_name", "=", TEST_HANDLER)])
            with registry.write_guard():
                jobs.unlink()

    def contended_row(self, env, value="initial"):
        """Insert a row of the contended table with ``env``'s cursor; return its id."""
        env.cr.execute(
            SQL(
                "INSERT INTO %s (value) VALUES (%s) RETURNING id",
                SQL.identifier(CONTENDED_TABLE),
                value,
            )
        )
        return env.cr.fetchone()[0]

    def contended_value(self, env, row_id):
        env.cr.execute(
            SQL("SELECT value FROM %s WHERE id = %s", SQL.identifier(CONTENDED_TABLE), row_id)
        )
        return env.cr.fetchone()[0]

    @classmethod
    def _check_fake_models_removed(cls):
        left = cls.fake_model_names & set(cls.registry)
        if left:
            raise AssertionError("fake models left in the registry: %s" % sorted(left))
        routes = registry.routes(cls.registry)
        targets = {model for model, _method in routes.targets}
        if routes.handler(TEST_TYPE) or targets & cls.fake_model_names:
            raise AssertionError("the queue still routes to the fake models")


class FakeQueueCase(FakeModelsMixin, QueueCase):
    """A queue test whose partner sends ``test.queue.record``, handled by the fake handler.

    The message type is the test's own: lane ``critical``, 3 attempts, ordered by
    the payload's ``stream``.
    """

    @classmethod
    def _setup_env(cls):  # pylint: disable=missing-return
        super()._setup_env()
        cls._load_fake_models()

    @classmethod
    def _setup_records(cls):  # pylint: disable=missing-return
        super()._setup_records()
        cls.test_type = cls.env["integration.message.type"].create(
            {
                "code": TEST_TYPE,
                "name": "Queue test",
                "lane": "critical",
                "max_attempts": 3,
                "ordering_key_field": "stream",
                "schema": json.dumps(
                    {
                        "type": "object",
                        "properties": {
                            "note": {"type": "string", "maxLength": 200},
                            "stream": {"type": "string", "maxLength": 64},
                            "ref": {"type": "string", "maxLength": 64},
                            "outcome": {"enum": ["business", "technical"]},
                        },
                        "additionalProperties": False,
                    }
                ),
            }
        )
        cls.partner.message_type_ids = [(4, cls.test_type.id)]
        cls.TestRecord = cls.env["integration.queue.test.record"]
        cls.TestCall = cls.env["integration.queue.test.call"]

    def receive_test(self, body, **kwargs):
        """Hand a signed ``test.queue.record`` message to the gateway; return the Answer."""
        return self.receive(body, message_type=TEST_TYPE, **kwargs)

    def handled(self):
        """External ids of the messages the test handler completed, in call order."""
        return self.TestCall.search([]).mapped("message_id.external_id")


class QueueHttpCase(QueueMixin, HttpCase):
    def rpc(self, model, method, *args, **kwargs):
        """Call ``model.method(*args, **kwargs)`` over JSON-RPC as the authenticated user.

        Return ``(result, error)``; ``error`` is the server's error data (name, message)
        or None.
        """
        payload = {
            "jsonrpc": "2.0",
            "method": "call",
            "id": 1,
            "params": {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        }
        response = self.url_open(
            "/web/dataset/call_kw",
            data=json.dumps(payload),
            headers={"Content-Type": "application/json"},
        )
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        if "error" in body:
            return None, body["error"]["data"]
        return body["result"], None

    def assertRefused(self, model, method, *args, error="odoo.exceptions.AccessError", **kwargs):
        """Assert that the RPC call is refused with ``error``; return the error message."""
        result, data = self.rpc(model, method, *args, **kwargs)
        self.assertIsNotNone(data, f"{model}.{method} was allowed: {result!r}")
        self.assertEqual(data["name"], error, data.get("message"))
        return data["message"]


class _Recorder(BaseHTTPRequestHandler):
    """A partner endpoint on 127.0.0.1 answering with the statuses it is told."""

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        server = self.server
        server.received.append((dict(self.headers), body))
        status = server.statuses.pop(0) if server.statuses else 200
        self.send_response(status)
        if 300 <= status < 400:
            self.send_header("Location", getattr(server, "location", "/"))
        self.end_headers()
        self.wfile.write(getattr(server, "answer_body", b"{}"))

    def log_message(self, *args):
        pass


def start_recorder():
    """Start a recording HTTP endpoint on 127.0.0.1; ``server.received`` lists requests."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    server.received = []
    server.statuses = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
