#!/usr/bin/env python3
"""End-to-end tests of `switchyard serve` and `switchyard migrate` on the embedded PostgreSQL:
real processes, real signals, a real cluster in a temporary data directory.

Usage: serve_test.py PATH/TO/switchyard
"""
import os
import queue
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN = None


def clean_env():
    env = dict(os.environ)
    for name in ('SWITCHYARD_DATABASE_URL', 'XDG_DATA_HOME'):
        env.pop(name, None)
    return env


def sy(*args, env=None):
    p = subprocess.run([BIN, *args], capture_output=True, text=True, timeout=120,
                       env=env or clean_env())
    return p.returncode, p.stdout, p.stderr


class Server:
    """A `switchyard serve` process whose log lines are read on a thread."""

    def __init__(self, *args, env=None):
        # --port 0: the HTTP API on any free port, so that several servers can run at once.
        self.proc = subprocess.Popen([BIN, 'serve', '--port', '0', *args], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True, env=env or clean_env())
        self.lines = queue.Queue()
        self.log = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stderr:
            self.lines.put(line.rstrip('\n'))
        self.lines.put(None)

    def wait_for(self, pattern, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=deadline - time.monotonic())
            except queue.Empty:
                break
            if line is None:
                break
            self.log.append(line)
            if re.search(pattern, line):
                return line
        raise AssertionError('no log line matching %r; log so far:\n%s' %
                             (pattern, '\n'.join(self.log)))

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=120)
        while True:  # the rest of the log
            line = self.lines.get(timeout=10)
            if line is None:
                break
            self.log.append(line)
        self.proc.stderr.close()
        return code


class Serve(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix='switchyard-serve.')
        os.chmod(self.base, 0o755)  # the cluster's user (when run as root) must enter it
        self.data = os.path.join(self.base, 'data')
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            if server.proc.poll() is None:
                server.proc.kill()
                server.proc.wait()
            server.proc.stderr.close()
        if os.path.exists(os.path.join(self.data, 'pgdata', 'postmaster.pid')):
            # Stop a cluster a failed test left behind.
            serve = Server('--data-dir', self.data, '--no-migrate')
            try:
                serve.wait_for('serve: ready')
            finally:
                serve.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def serve(self, *args, env=None):
        server = Server(*args, env=env)
        self.servers.append(server)
        return server

    def socket_exists(self):
        return os.path.exists(os.path.join(self.data, '.s.PGSQL.5432'))

    def test_embedded_cluster_shared_by_servers_and_migrate(self):
        first = self.serve('--data-dir', self.data)
        line = first.wait_for(r'serve: database=embedded')
        self.assertIn('cluster=started', line)
        url = re.search(r'url=(\S+)', line).group(1)
        self.assertEqual(url, 'postgresql:///switchyard?host=%s&port=5432&user=switchyard'
                         % self.data)
        first.wait_for(r'serve: migrations applied=\d+ known=\d+')
        first.wait_for('serve: ready')
        self.assertTrue(self.socket_exists())

        # migrate on the running cluster: nothing left to do.
        code, out, err = sy('migrate', '--data-dir', self.data)
        self.assertEqual(code, 0, err)
        self.assertTrue(out.startswith('switchyard migrate: up to date'), out)

        # A second server on the same data dir reuses the cluster; a third uses it by URL.
        second = self.serve('--data-dir', self.data)
        self.assertIn('cluster=reused', second.wait_for(r'serve: database=embedded'))
        second.wait_for('serve: ready')
        env = clean_env()
        env['SWITCHYARD_DATABASE_URL'] = url
        third = self.serve('--no-migrate', env=env)
        third.wait_for(r'serve: database=external')
        third.wait_for(r'migrations skipped \(--no-migrate\)')
        third.wait_for('serve: ready')

        # The first leaves: the cluster stays for the second.
        self.assertEqual(first.stop(signal.SIGTERM), 0)
        self.assertTrue(any('leaving cluster running' in l for l in first.log), first.log)
        self.assertTrue(self.socket_exists())

        # The second dies without cleaning up: the cluster outlives it, and the next server
        # reuses it.
        second.stop(signal.SIGKILL)
        self.assertTrue(self.socket_exists())
        fourth = self.serve('--data-dir', self.data)
        self.assertIn('cluster=reused', fourth.wait_for(r'serve: database=embedded'))
        fourth.wait_for('serve: ready')

        self.assertEqual(third.stop(signal.SIGINT), 0)
        # The last user stops the cluster on SIGINT.
        self.assertEqual(fourth.stop(signal.SIGINT), 0)
        self.assertTrue(any('received SIGINT' in l for l in fourth.log), fourth.log)
        self.assertTrue(any('stopping cluster' in l for l in fourth.log), fourth.log)
        self.assertFalse(self.socket_exists())

    def test_server_killed_with_sigkill_restarts_cleanly(self):
        first = self.serve('--data-dir', self.data)
        first.wait_for('serve: ready')
        with open(os.path.join(self.data, 'pgdata', 'postmaster.pid')) as f:
            postmaster = int(f.readline())
        # PostgreSQL itself dies hard (stale postmaster.pid), then the node.
        os.kill(postmaster, signal.SIGKILL)
        first.stop(signal.SIGKILL)
        time.sleep(0.5)
        second = self.serve('--data-dir', self.data)
        self.assertIn('cluster=started', second.wait_for(r'serve: database=embedded'))
        second.wait_for('serve: ready')
        self.assertEqual(second.stop(signal.SIGTERM), 0)
        self.assertFalse(self.socket_exists())

    def test_errors(self):
        code, _, err = sy('serve', '--database-url', 'postgresql:///x', '--data-dir', self.data)
        self.assertEqual(code, 2)
        self.assertIn('excludes', err)
        code, _, err = sy('migrate', '--database-url',
                          'postgresql:///switchyard?host=/nonexistent/socket/dir')
        self.assertEqual(code, 1)
        self.assertIn('switchyard migrate: ', err)
        self.assertIn('/nonexistent/socket/dir', err)
        code, _, err = sy('serve', '--data-dir', '/tmp/' + 'd' * 120)
        self.assertEqual(code, 1)
        self.assertIn('the path is too long for a unix socket', err)


if __name__ == '__main__':
    BIN = sys.argv.pop(1)
    unittest.main(verbosity=2)
