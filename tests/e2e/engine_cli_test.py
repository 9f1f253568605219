#!/usr/bin/env python3
"""End-to-end: `switchyard serve` runs the durable engine and the state-machine / execution / task
commands drive it through the same database; a server killed with SIGKILL mid-Wait and started
again finishes the execution.

Usage: engine_cli_test.py PATH/TO/switchyard
"""
import json
import os
import signal
import sys
import time
import unittest

import serve_test
from serve_test import sy

WAIT = {"StartAt": "W", "States": {
    "W": {"Type": "Wait", "Seconds": 2, "Next": "P"},
    "P": {"Type": "Pass", "Result": "woke up", "End": True}}}
CALLBACK = {"StartAt": "T", "States": {
    "T": {"Type": "Task", "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
          "Parameters": {"FunctionName": "nobody", "Payload": {"t.$": "$$.Task.Token"}},
          "Catch": [{"ErrorEquals": ["States.ALL"], "Next": "Caught"}], "End": True},
    "Caught": {"Type": "Fail", "Error": "NoFunction"}}}


class EngineCli(unittest.TestCase):
    # serve_test.Serve's fixture (a temp data dir, servers stopped afterwards), not its tests.
    setUp = serve_test.Serve.setUp
    tearDown = serve_test.Serve.tearDown
    serve = serve_test.Serve.serve

    def cli(self, *args):
        code, out, err = sy(*args, '--data-dir', self.data)
        return code, (json.loads(out) if out.strip() else None), err

    def test_kill_mid_wait_then_restart_finishes(self):
        server = self.serve('--data-dir', self.data)
        server.wait_for('serve: ready')
        path = os.path.join(self.base, 'wait.json')
        with open(path, 'w') as f:
            json.dump(WAIT, f)
        code, out, err = self.cli('state-machine', 'create', '--name', 'waiter',
                                  '--definition', path)
        self.assertEqual(code, 0, err)
        self.assertEqual(out['stateMachineArn'],
                         'arn:aws:states:us-east-1:000000000000:stateMachine:waiter')
        code, out, err = self.cli('execution', 'start', '--state-machine', 'waiter',
                                  '--name', 'run1', '--input', '{"a":1}')
        self.assertEqual(code, 0, err)
        arn = out['executionArn']
        self.assertEqual(arn, 'arn:aws:states:us-east-1:000000000000:execution:waiter:run1')
        # Idempotent by name; a different input is refused as AWS refuses it.
        code, out, err = self.cli('execution', 'start', '--state-machine', 'waiter',
                                  '--name', 'run1', '--input', '{"a":1}')
        self.assertEqual((code, out['executionArn']), (0, arn), err)
        code, out, err = self.cli('execution', 'start', '--state-machine', 'waiter',
                                  '--name', 'run1', '--input', '{"a":2}')
        self.assertEqual(code, 1)
        self.assertIn('ExecutionAlreadyExists', err)

        server.stop(signal.SIGKILL)  # mid-Wait
        code, out, err = self.cli('execution', 'describe', '--execution-arn', arn)
        self.assertEqual(out['status'], 'RUNNING', err)
        time.sleep(2.5)  # the Wait is due while no server runs
        again = self.serve('--data-dir', self.data)
        again.wait_for('serve: ready')
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            code, out, err = self.cli('execution', 'describe', '--execution-arn', arn)
            if out['status'] != 'RUNNING':
                break
            time.sleep(0.2)
        self.assertEqual(out['status'], 'SUCCEEDED', out)
        self.assertEqual(out['output'], '"woke up"')
        code, out, err = self.cli('execution', 'history', '--execution-arn', arn)
        self.assertEqual(code, 0, err)
        self.assertEqual([e['id'] for e in out['events']], list(range(1, 7)))
        self.assertEqual(' '.join(e['type'] for e in out['events']),
                         'ExecutionStarted WaitStateEntered WaitStateExited PassStateEntered '
                         'PassStateExited ExecutionSucceeded')
        code, out, err = self.cli('execution', 'start', '--state-machine', 'waiter', '--wait')
        self.assertEqual((code, out['status']), (0, 'SUCCEEDED'), err)
        code, out, err = self.cli('execution', 'list', '--state-machine', 'waiter')
        self.assertEqual(len(out['executions']), 2)

        # Stop, and callbacks with a token nobody holds.
        code, out, err = self.cli('execution', 'start', '--state-machine', 'waiter',
                                  '--name', 'stopped')
        code, out, err = self.cli('execution', 'stop', '--execution-arn',
                                  out['executionArn'], '--error', 'Halt')
        self.assertEqual(code, 0, err)
        code, out, err = self.cli('execution', 'describe', '--execution-arn',
                                  arn.replace(':run1', ':stopped'))
        self.assertEqual((out['status'], out['error']), ('ABORTED', 'Halt'))
        code, out, err = self.cli('task', 'send-success', '--task-token', 'abc',
                                  '--task-output', '{}')
        self.assertEqual(code, 1)
        self.assertIn('TaskDoesNotExist', err)
        code, out, err = self.cli('execution', 'describe', '--execution-arn', arn + 'x')
        self.assertEqual(code, 1)
        self.assertIn('ExecutionDoesNotExist', err)
        self.assertEqual(again.stop(signal.SIGTERM), 0)


if __name__ == '__main__':
    serve_test.BIN = sys.argv.pop(1)
    unittest.main(verbosity=2)
