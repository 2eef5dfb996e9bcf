import threading

from odoo.tests import TransactionCase, tagged

from .common import thread_env


@tagged("post_install", "-at_install")
class TestChainConcurrentWriters(TransactionCase):
    """Several transactions append at once, commit in any order; the chain holds."""

    def _writer(self, index, barrier, errors):
        try:
            with thread_env(self.registry) as env:
                barrier.wait(timeout=30)
                for n in range(25):
                    env["integration.audit.event"]._log(
                        "manual_action",
                        f"concurrent writer {index} event {n}",
                        correlation_id=f"concurrency-{self._run}-{index}",
                    )
                # commit in reverse order of start, to interleave ids and commits
                barrier.wait(timeout=30)
        except Exception as error:
            errors.append(error)

    def test_concurrent_writers_then_seal_verifies(self):
        self._run = id(self)
        threads, errors = [], []
        barrier = threading.Barrier(6)
        for index in range(6):
            thread = threading.Thread(target=self._writer, args=(index, barrier, errors))
            threads.append(thread)
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertFalse(errors)
        # two sealers race: one seals, the other backs off without waiting
        with thread_env(self.registry) as env1, thread_env(self.registry) as env2:
            sealed1 = env1["integration.audit.event"]._seal_pending()
            sealed2 = env2["integration.audit.event"]._seal_pending()
            self.assertGreaterEqual(sealed1, 150)
            self.assertEqual(sealed2, 0)
        with thread_env(self.registry) as env:
            cr = env.cr
            env["integration.audit.event"]._seal_pending()
            report = env["integration.audit.event"]._verify_chain()
            self.assertTrue(report["ok"], report)
            cr.execute(
                "SELECT count(*) FROM integration_audit_event e JOIN integration_audit_seal s"
                " ON s.event_id = e.id WHERE e.correlation_id LIKE %s",
                [f"concurrency-{self._run}-%"],
            )
            self.assertEqual(cr.fetchone()[0], 150)
