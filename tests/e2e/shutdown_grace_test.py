#!/usr/bin/env python3
"""End-to-end test of `switchyard serve --shutdown-grace-seconds` (issue #10): after SIGTERM a
task that finishes within the grace is recorded as usual; one that runs past it is killed, the
server exits soon after the grace, and the task runs again after a restart (as after a crash),
with no failure in the execution's history.

Usage: shutdown_grace_test.py PATH/TO/switchyard
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import unittest

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402
from e2e_common import zip_of  # noqa: E402

BIN = None
REGION = 'us-east-1'
ROLE = 'arn:aws:iam::000000000000:role/test'

# Records each attempt in $RECORD_FILE; the first attempt sleeps event["sleep"] seconds.
SLEEPER_ZIP = zip_of({'app.py': (
    'import os, time\n'
    'def handler(event, context):\n'
    '    path = os.environ["RECORD_FILE"]\n'
    '    with open(path, "a") as f:\n'
    '        f.write(context.aws_request_id + "\\n")\n'
    '    with open(path) as f:\n'
    '        attempt = len(f.readlines())\n'
    '    if attempt == 1:\n'
    '        time.sleep(event.get("sleep", 0))\n'
    '    return {"attempt": attempt}\n')})


def machine(function_arn):
    return json.dumps({'StartAt': 'Work', 'States': {'Work': {
        'Type': 'Task', 'Resource': function_arn, 'TimeoutSeconds': 600, 'End': True}}})


def lines(path):
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(f.readlines())


def wait_until(predicate, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError('timed out waiting for ' + what)


class ShutdownGraceTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix='switchyard-grace-')
        os.chmod(self.dir, 0o755)
        self.servers = []

    def tearDown(self):
        for server in self.servers:
            if server.proc.poll() is None:
                server.proc.kill()
                server.proc.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    def start(self, grace):
        server = e2e_common.Server(BIN, '--shutdown-grace-seconds', str(grace),
                                   data_dir=self.dir, clean_env=True, stop_timeout=120)
        self.servers.append(server)
        return server

    def clients(self, server):
        config = Config(retries={'max_attempts': 1}, read_timeout=120)
        args = dict(endpoint_url=server.url, region_name=REGION, aws_access_key_id='x',
                    aws_secret_access_key='y', config=config)
        return boto3.client('lambda', **args), boto3.client('stepfunctions', **args)

    def deploy(self, server, name, record):
        lam, sfn = self.clients(server)
        function_arn = lam.create_function(
            FunctionName=name, Runtime='python3.11', Handler='app.handler', Role=ROLE,
            Code={'ZipFile': SLEEPER_ZIP}, Timeout=300,
            Environment={'Variables': {'RECORD_FILE': record}})['FunctionArn']
        return sfn.create_state_machine(name=name + '-flow', definition=machine(function_arn),
                                        roleArn=ROLE)['stateMachineArn']

    def stop_timed(self, server):
        started = time.monotonic()
        code = server.stop()
        return code, time.monotonic() - started

    def history_types(self, sfn, execution_arn):
        events = sfn.get_execution_history(executionArn=execution_arn,
                                           maxResults=1000)['events']
        return [e['type'] for e in events]

    def test_work_within_the_grace_finishes_and_work_past_it_runs_again_after_a_restart(self):
        short_record = os.path.join(self.dir, 'short.txt')
        long_record = os.path.join(self.dir, 'long.txt')

        # 1. A generous grace: the task in flight (3 s) finishes and its result is recorded.
        server = self.start(30)
        short_machine = self.deploy(server, 'short', short_record)
        long_machine = self.deploy(server, 'long', long_record)
        _, sfn = self.clients(server)
        short_run = sfn.start_execution(stateMachineArn=short_machine, name='short-1',
                                        input=json.dumps({'sleep': 3}))['executionArn']
        wait_until(lambda: lines(short_record) == 1, 60, 'the short task to start')
        code, _ = self.stop_timed(server)
        self.assertEqual(code, 0, server.output() if not server.log.closed else '')

        # 2. A short grace: the task in flight (it would sleep 10 minutes) is killed, the server
        # exits soon after the grace, and nothing about the task is recorded.
        server = self.start(2)
        _, sfn = self.clients(server)
        desc = sfn.describe_execution(executionArn=short_run)
        self.assertEqual(desc['status'], 'SUCCEEDED')
        self.assertEqual(json.loads(desc['output']), {'attempt': 1})
        long_run = sfn.start_execution(stateMachineArn=long_machine, name='long-1',
                                       input=json.dumps({'sleep': 600}))['executionArn']
        wait_until(lambda: lines(long_record) == 1, 60, 'the long task to start')
        # A synchronous Invoke in flight too: its caller gets an answer, not a hang.
        lam, _ = self.clients(server)
        answered = []

        def call():
            try:
                answered.append(lam.invoke(FunctionName='short',
                                           Payload=json.dumps({'sleep': 600}))['StatusCode'])
            except Exception as e:  # noqa: BLE001 (a closed connection is fine too)
                answered.append(type(e).__name__)

        # 'short' has had its one slow attempt: make its record file count from zero again.
        os.remove(short_record)
        caller = threading.Thread(target=call)
        caller.start()
        wait_until(lambda: lines(short_record) == 1, 60, 'the synchronous invocation to start')
        log_path = os.path.join(self.dir, 'serve.log')
        code, took = self.stop_timed(server)
        self.assertEqual(code, 0)
        caller.join(timeout=60)
        self.assertFalse(caller.is_alive())
        self.assertEqual(len(answered), 1)
        # Far below the 600 s the function would have slept (not a tight bound: grace 2 s plus
        # stopping the embedded database on a busy machine).
        self.assertLess(took, 120)
        with open(log_path) as f:
            log = f.read()
        self.assertIn('shutdown grace of 2s has passed', log)

        # 3. After a restart the task runs again (its second attempt returns at once) and the
        # execution succeeds with no failure in its history.
        server = self.start(30)
        _, sfn = self.clients(server)
        wait_until(lambda: sfn.describe_execution(executionArn=long_run)['status'] != 'RUNNING',
                   120, 'the long execution to finish after the restart')
        desc = sfn.describe_execution(executionArn=long_run)
        self.assertEqual(desc['status'], 'SUCCEEDED')
        self.assertEqual(json.loads(desc['output']), {'attempt': 2})
        self.assertEqual(lines(long_record), 2)
        types = self.history_types(sfn, long_run)
        self.assertNotIn('TaskFailed', types)
        self.assertNotIn('LambdaFunctionFailed', types)
        self.assertEqual(self.stop_timed(server)[0], 0)


if __name__ == '__main__':
    BIN = sys.argv.pop(1)
    unittest.main()
