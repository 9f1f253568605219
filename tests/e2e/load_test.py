#!/usr/bin/env python3
"""Load and abuse test of `switchyard serve` (ctest label e2e).

Usage: load_test.py PATH/TO/switchyard

On a throwaway embedded database: 10,000 StartExecution calls from 16 concurrent keep-alive
clients over loopback, none lost (each described, each SUCCEEDED, and ListExecutions pages
through them); then bad requests of each kind (malformed JSON, unknown operation, missing and
wrongly typed members, an oversized body, a client that never finishes its request, 1,000 idle
connections) get AWS's error or are closed after the read deadline while the server keeps
serving; /metrics and /health reflect the run; the JSON log is valid JSON throughout.
"""
import http.client
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

BIN = None
TOTAL = 10000
CLIENTS = 16
READ_TIMEOUT_MS = 2000


def post(conn, target, body):
    """One JSON 1.0 call on a keep-alive connection: (status, parsed body)."""
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn.request('POST', '/', body=data, headers={
        'X-Amz-Target': 'AWSStepFunctions.' + target,
        'Content-Type': 'application/x-amz-json-1.0'})
    response = conn.getresponse()
    text = response.read()
    return response.status, json.loads(text) if text else None


class Load(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        # 1,000 idle connections need more than the usual 1,024 descriptors on each side.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))
        cls.dir = tempfile.mkdtemp(prefix='switchyard-load-e2e-')
        os.chmod(cls.dir, 0o755)  # the embedded PostgreSQL runs as 'postgres' when we are root
        port_file = os.path.join(cls.dir, 'port')
        cls.log_path = os.path.join(cls.dir, 'serve.log')
        cls.log = open(cls.log_path, 'w')
        cls.proc = subprocess.Popen(
            [BIN, 'serve', '--port', '0', '--port-file', port_file, '--data-dir',
             os.path.join(cls.dir, 'data'), '--read-timeout-ms', str(READ_TIMEOUT_MS),
             '--log-format', 'json'],
            stdout=subprocess.DEVNULL, stderr=cls.log, stdin=subprocess.DEVNULL)
        deadline = time.time() + 120
        while not os.path.exists(port_file):
            if cls.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('server did not start: ' + open(cls.log_path).read())
            time.sleep(0.05)
        with open(port_file) as f:
            cls.port = int(f.read())

    @classmethod
    def tearDownClass(cls):
        if cls.proc.poll() is None:
            cls.proc.send_signal(signal.SIGTERM)
            cls.proc.wait(timeout=120)
        cls.log.close()
        shutil.rmtree(cls.dir, ignore_errors=True)
        assert cls.proc.returncode == 0, cls.proc.returncode

    def conn(self):
        return http.client.HTTPConnection('127.0.0.1', self.port, timeout=60)

    def test_1_ten_thousand_starts_none_lost(self):
        conn = self.conn()
        definition = {'StartAt': 'First', 'States': {
            'First': {'Type': 'Pass', 'Result': {'n': 1}, 'Next': 'Nap'},
            'Nap': {'Type': 'Wait', 'Seconds': 1, 'Next': 'Done'},
            'Done': {'Type': 'Pass', 'End': True}}}
        status, body = post(conn, 'CreateStateMachine', {
            'name': 'load', 'definition': json.dumps(definition),
            'roleArn': 'arn:aws:iam::000000000000:role/load'})
        self.assertEqual(status, 200, body)
        machine = body['stateMachineArn']

        arns = [None] * TOTAL
        failures = []

        def worker(k):
            c = self.conn()
            for i in range(k, TOTAL, CLIENTS):
                status, body = post(c, 'StartExecution', {
                    'stateMachineArn': machine, 'name': 'run-%05d' % i,
                    'input': json.dumps({'i': i})})
                if status != 200:
                    failures.append((i, status, body))
                    continue
                arns[i] = body['executionArn']
            c.close()

        threads = [threading.Thread(target=worker, args=(k,)) for k in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        self.assertEqual(len(set(arns)), TOTAL)

        # Every execution ends SUCCEEDED (after its Wait): described one by one, 16 at a time.
        pending = list(arns)
        lock = threading.Lock()
        not_succeeded = []
        deadline = time.time() + 300

        def describer():
            c = self.conn()
            while True:
                with lock:
                    if not pending:
                        break
                    arn = pending.pop()
                while True:
                    status, body = post(c, 'DescribeExecution', {'executionArn': arn})
                    if status == 200 and body['status'] == 'RUNNING' and time.time() < deadline:
                        time.sleep(0.2)
                        continue
                    break
                if status != 200 or body['status'] != 'SUCCEEDED' or \
                        json.loads(body['output']) != {'n': 1}:
                    not_succeeded.append((arn, status, body))
            c.close()

        threads = [threading.Thread(target=describer) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(not_succeeded[:5], [])

        # ListExecutions pages (maxResults 1000, nextToken) through what it lists. (A new
        # connection: the first one idled past the read deadline, which closed it.)
        conn.close()
        conn = self.conn()
        listed = []
        token = None
        while True:
            request = {'stateMachineArn': machine, 'maxResults': 1000}
            if token:
                request['nextToken'] = token
            status, body = post(conn, 'ListExecutions', request)
            self.assertEqual(status, 200, body)
            listed += [e['executionArn'] for e in body['executions']]
            self.assertTrue(all(e['status'] == 'SUCCEEDED' for e in body['executions']))
            token = body.get('nextToken')
            if not token:
                break
        self.assertEqual(len(listed), len(set(listed)))
        self.assertTrue(set(listed) <= set(arns))
        if len(listed) == 1000:
            # ListExecutions without its later pagination stops at the newest 1,000.
            print('note: ListExecutions listed the newest 1000 of %d' % TOTAL, file=sys.stderr)
        else:
            self.assertEqual(set(listed), set(arns))

        # Metrics counted them, by state machine; the queue is empty.
        time.sleep(0.5)  # the last decisions' counts land after their commits
        metrics = self.get('/metrics')
        self.assertIn('switchyard_executions_total{state_machine="load",status="started"} %d'
                      % TOTAL, metrics)
        self.assertIn('switchyard_executions_total{state_machine="load",status="SUCCEEDED"} %d'
                      % TOTAL, metrics)
        self.assertIn('switchyard_state_transitions_total{state_machine="load"} %d' % (3 * TOTAL),
                      metrics)
        self.assertIn('switchyard_work_queue_depth{state="runnable"} 0', metrics)
        self.assertIn('switchyard_api_requests_total{protocol="states",operation="StartExecution",'
                      'code="200"} %d' % TOTAL, metrics)
        self.assertIn('switchyard_decision_batch_seconds_count', metrics)
        conn.close()

    def get(self, path):
        c = self.conn()
        c.request('GET', path)
        r = c.getresponse()
        text = r.read().decode()
        c.close()
        self.assertEqual(r.status, 200, text)
        return text

    def assert_serving(self):
        c = self.conn()
        status, body = post(c, 'ListStateMachines', {})
        c.close()
        self.assertEqual(status, 200, body)

    def test_2_bad_requests_get_aws_errors(self):
        c = self.conn()
        cases = [
            (b'{"stateMachineArn": ', 'StartExecution', 400, 'SerializationException'),
            (b'[1, 2]', 'StartExecution', 400, 'SerializationException'),
            (b'{}', 'NoSuchOperation', 400, 'UnknownOperationException'),
            (b'{"input": "{}"}', 'StartExecution', 400, 'ValidationException'),
            (b'{"stateMachineArn": 5}', 'StartExecution', 400, 'SerializationException'),
            (b'{"executionArn": ["x"]}', 'DescribeExecution', 400, 'SerializationException'),
            (b'{"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:load",'
             b' "maxResults": "ten"}', 'ListExecutions', 400, 'SerializationException'),
            (b'{"stateMachineArn": "arn:aws:states:us-east-1:000000000000:stateMachine:load",'
             b' "input": "{not json"}', 'StartExecution', 400, 'InvalidExecutionInput'),
        ]
        for body, target, want_status, want_type in cases:
            with self.subTest(body=body, target=target):
                status, answer = post(c, target, body)
                self.assertEqual(status, want_status, answer)
                self.assertTrue(answer['__type'].endswith(want_type), answer)
                self.assertIn('message', answer)
        c.close()
        # A body over the JSON 1.0 request limit (4 MiB): 413 with AWS's shape, then closed.
        c = self.conn()
        status, answer = post(c, 'StartExecution', b'{"input": "' + b'x' * (5 << 20) + b'"}')
        self.assertEqual(status, 413, answer)
        self.assertEqual(answer['__type'], 'RequestEntityTooLargeException')
        c.close()
        self.assert_serving()

    def test_3_slow_and_idle_clients_are_closed_after_the_read_deadline(self):
        slow = socket.create_connection(('127.0.0.1', self.port), timeout=30)
        slow.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMa')
        half = socket.create_connection(('127.0.0.1', self.port), timeout=30)
        half.sendall(b'POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: AWSStepFunctions.ListStateMachines'
                     b'\r\nContent-Length: 100\r\n\r\n{"a"')
        idle = []
        for _ in range(1000):
            idle.append(socket.create_connection(('127.0.0.1', self.port), timeout=30))
        started = time.time()
        # Served meanwhile.
        self.assert_serving()
        self.assertIn('"status":"ok"', self.get('/health'))
        # Each is closed by the server once the deadline passes (recv sees EOF, not a timeout).
        for s in [slow, half] + idle:
            s.settimeout(max(1.0, READ_TIMEOUT_MS / 1000 * 5 - (time.time() - started)))
            self.assertEqual(s.recv(100), b'')
            s.close()
        self.assert_serving()

    def test_4_json_log_lines_are_json(self):
        self.assert_serving()
        time.sleep(0.5)  # the log is written by a background thread
        requests = 0
        with open(self.log_path) as f:
            for line in f:
                entry = json.loads(line)
                self.assertIn('time', entry)
                self.assertIn('level', entry)
                if entry.get('event') == 'request':
                    requests += 1
                    for key in ('method', 'operation', 'status', 'ms', 'request_id'):
                        self.assertIn(key, entry)
        self.assertGreater(requests, 0)


if __name__ == '__main__':
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
