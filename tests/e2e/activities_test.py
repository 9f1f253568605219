#!/usr/bin/env python3
"""End-to-end tests of activities and RedriveExecution: `switchyard serve` driven by boto3 and
the AWS CLI.

Usage: activities_test.py PATH/TO/switchyard
"""
import json
import os
import subprocess
import sys
import threading
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402
from e2e_common import aws_clis, error_code, signed_send  # noqa: E402,F401

BIN = None
REGION = 'us-east-1'


class Server(e2e_common.Server):
    """One `switchyard serve` process on a free port and its own embedded database."""

    def __init__(self, *args):
        super().__init__(BIN, *args, prefix='switchyard-act-e2e-', stop_timeout=90)


class RawError(Exception):
    def __init__(self, status, body):
        super().__init__(body)
        self.status = status
        self.code = body.get('__type', '').split('#')[-1]


def raw_call(server, operation, **body):
    """A SigV4-signed JSON 1.0 call, for operations and members older botocore releases (Debian's
    1.29) do not know: RedriveExecution, DescribeExecution's redrive members."""
    status, _, data = signed_send(
        'POST', server.url + '/', json.dumps(body).encode(),
        {'Content-Type': 'application/x-amz-json-1.0',
         'X-Amz-Target': 'AWSStepFunctions.' + operation}, key=('k', 's'), service='states',
        region=REGION)
    if status != 200:
        raise RawError(status, json.loads(data or b'{}'))
    return json.loads(data or b'{}')


class Activities(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        # GetActivityTask may hold a request 60 s, as AWS does.
        cls.sfn = boto3.client('stepfunctions', endpoint_url=cls.server.url, region_name=REGION,
                               aws_access_key_id='k', aws_secret_access_key='s',
                               config=Config(retries={'max_attempts': 1}, read_timeout=70,
                                             connect_timeout=10))

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, code

    def wait(self, arn, timeout=60):
        deadline = time.time() + timeout
        while True:
            d = self.sfn.describe_execution(executionArn=arn)
            if d['status'] != 'RUNNING' or time.time() > deadline:
                return d
            time.sleep(0.1)

    def redrive(self, arn, **extra):
        return raw_call(self.server, 'RedriveExecution', executionArn=arn, **extra)

    def describe(self, arn):
        return raw_call(self.server, 'DescribeExecution', executionArn=arn)

    def take(self, activity, worker='w'):
        # Poll in a thread with a short overall bound: a task is already scheduled.
        for _ in range(30):
            task = self.sfn.get_activity_task(activityArn=activity, workerName=worker)
            if task.get('taskToken'):
                return task
        self.fail('no activity task')

    def machine(self, name, activity, **task):
        state = dict({'Type': 'Task', 'Resource': activity, 'End': True}, **task)
        return self.sfn.create_state_machine(
            name=name, roleArn='arn:aws:iam::000000000000:role/r',
            definition=json.dumps({'StartAt': 'Work', 'States': {'Work': state}}))['stateMachineArn']

    def test_activity_lifecycle_and_errors(self):
        created = self.sfn.create_activity(name='e2e-lifecycle', tags=[{'key': 'k', 'value': 'v'}])
        arn = created['activityArn']
        self.assertEqual(arn, 'arn:aws:states:us-east-1:000000000000:activity:e2e-lifecycle')
        # Idempotent by name.
        self.assertEqual(self.sfn.create_activity(name='e2e-lifecycle',
                                                  tags=[{'key': 'k', 'value': 'v'}])['activityArn'],
                         arn)
        d = self.sfn.describe_activity(activityArn=arn)
        self.assertEqual(d['name'], 'e2e-lifecycle')
        self.assertIn('creationDate', d)
        for i in range(3):
            self.sfn.create_activity(name='e2e-page-%d' % i)
        page = self.sfn.list_activities(maxResults=2)
        self.assertEqual(len(page['activities']), 2)
        names = [a['name'] for a in page['activities']]
        while 'nextToken' in page:
            page = self.sfn.list_activities(maxResults=2, nextToken=page['nextToken'])
            names += [a['name'] for a in page['activities']]
        self.assertTrue({'e2e-page-0', 'e2e-page-1', 'e2e-page-2', 'e2e-lifecycle'} <= set(names))
        self.assertEqual(names, sorted(names))
        paginated = [a['name'] for p in self.sfn.get_paginator('list_activities').paginate(
            PaginationConfig={'PageSize': 1}) for a in p['activities']]
        self.assertEqual(paginated, names)

        self.sfn.delete_activity(activityArn=arn)
        with self.assertRaises(ClientError) as e:
            self.sfn.describe_activity(activityArn=arn)
        self.assertEqual(error_code(e.exception), ('ActivityDoesNotExist', 400))
        with self.assertRaises(ClientError) as e:
            self.sfn.get_activity_task(activityArn=arn)
        self.assertEqual(error_code(e.exception), ('ActivityDoesNotExist', 400))
        with self.assertRaises(ClientError) as e:
            self.sfn.describe_activity(
                activityArn='arn:aws:states:us-east-1:000000000000:stateMachine:x')
        self.assertEqual(error_code(e.exception), ('InvalidArn', 400))
        with self.assertRaises(ClientError) as e:
            self.sfn.create_activity(name='bad name')
        self.assertEqual(error_code(e.exception), ('InvalidName', 400))
        with self.assertRaises(ClientError) as e:
            self.sfn.send_task_success(taskToken='0' * 32, output='{}')
        self.assertEqual(error_code(e.exception), ('TaskDoesNotExist', 400))

    def test_worker_success_failure_and_heartbeat_timeout(self):
        activity = self.sfn.create_activity(name='e2e-worker')['activityArn']
        machine = self.machine('e2e-activity', activity, HeartbeatSeconds=3)

        # A long poll waiting when the task is scheduled gets it.
        got = {}
        poll = threading.Thread(target=lambda: got.update(
            self.sfn.get_activity_task(activityArn=activity, workerName='poller')))
        poll.start()
        time.sleep(0.3)
        ok = self.sfn.start_execution(stateMachineArn=machine, input='{"n": 1}')['executionArn']
        poll.join(timeout=75)
        self.assertTrue(got.get('taskToken'), got)
        self.assertEqual(json.loads(got['input']), {'n': 1})
        self.sfn.send_task_heartbeat(taskToken=got['taskToken'])
        self.sfn.send_task_success(taskToken=got['taskToken'], output='{"done": true}')
        d = self.wait(ok)
        self.assertEqual((d['status'], json.loads(d['output'])), ('SUCCEEDED', {'done': True}))
        events = self.sfn.get_execution_history(executionArn=ok)['events']
        types = [e['type'] for e in events]
        self.assertEqual(types, ['ExecutionStarted', 'TaskStateEntered', 'ActivityScheduled',
                                 'ActivityStarted', 'ActivitySucceeded', 'TaskStateExited',
                                 'ExecutionSucceeded'])
        self.assertEqual(events[3]['activityStartedEventDetails'], {'workerName': 'poller'})
        self.assertEqual(events[2]['activityScheduledEventDetails']['heartbeatInSeconds'], 3)

        bad = self.sfn.start_execution(stateMachineArn=machine, input='{}')['executionArn']
        task = self.take(activity)
        self.sfn.send_task_failure(taskToken=task['taskToken'], error='Worker.Error',
                                   cause='it broke')
        d = self.wait(bad)
        self.assertEqual((d['status'], d['error'], d['cause']),
                         ('FAILED', 'Worker.Error', 'it broke'))

        # The worker dies after taking the task: HeartbeatSeconds passes.
        dead = self.sfn.start_execution(stateMachineArn=machine, input='{}')['executionArn']
        self.take(activity)
        d = self.wait(dead)
        self.assertEqual((d['status'], d['error']), ('FAILED', 'States.HeartbeatTimeout'))
        types = [e['type'] for e in self.sfn.get_execution_history(executionArn=dead)['events']]
        self.assertIn('ActivityTimedOut', types)

    def test_redrive(self):
        activity = self.sfn.create_activity(name='e2e-redrive')['activityArn']
        machine = self.machine('e2e-redrive', activity)
        arn = self.sfn.start_execution(stateMachineArn=machine, input='{"try": 1}')['executionArn']
        task = self.take(activity)
        self.sfn.send_task_failure(taskToken=task['taskToken'], error='Oops', cause='first')
        self.wait(arn)
        d = self.describe(arn)
        self.assertEqual((d['status'], d['redriveCount'], d['redriveStatus']),
                         ('FAILED', 0, 'REDRIVABLE'))
        redriven = self.redrive(arn, clientToken='once')
        self.assertIn('redriveDate', redriven)
        again = self.redrive(arn, clientToken='once')
        self.assertEqual(again['redriveDate'], redriven['redriveDate'])
        task = self.take(activity)
        self.assertEqual(json.loads(task['input']), {'try': 1})
        with self.assertRaises(RawError) as e:
            self.redrive(arn)
        self.assertEqual((e.exception.code, e.exception.status), ('ExecutionNotRedrivable', 400))
        self.sfn.send_task_success(taskToken=task['taskToken'], output='"second"')
        self.wait(arn)
        d = self.describe(arn)
        self.assertEqual((d['status'], d['output'], d['redriveCount']), ('SUCCEEDED', '"second"', 1))
        self.assertEqual(d['redriveDate'], redriven['redriveDate'])
        self.assertEqual(d['redriveStatus'], 'NOT_REDRIVABLE')
        self.assertEqual(d['redriveStatusReason'], 'Execution is SUCCEEDED and cannot be redriven.')
        types = [e['type'] for e in self.sfn.get_execution_history(executionArn=arn)['events']]
        self.assertEqual(types[types.index('ExecutionFailed'):],
                         ['ExecutionFailed', 'ExecutionRedriven', 'TaskStateEntered',
                          'ActivityScheduled', 'ActivityStarted', 'ActivitySucceeded',
                          'TaskStateExited', 'ExecutionSucceeded'])
        with self.assertRaises(RawError) as e:
            self.redrive(arn + 'x')
        self.assertEqual((e.exception.code, e.exception.status), ('ExecutionDoesNotExist', 400))
        if hasattr(self.sfn, 'redrive_execution'):  # a botocore that knows the operation
            with self.assertRaises(ClientError) as e:
                self.sfn.redrive_execution(executionArn=arn)
            self.assertEqual(error_code(e.exception), ('ExecutionNotRedrivable', 400))

    def test_aws_cli_activities_and_redrive(self):
        clis = aws_clis()
        if not clis:
            self.skipTest('no AWS CLI installed')
        env = dict(os.environ, AWS_ACCESS_KEY_ID='k', AWS_SECRET_ACCESS_KEY='s',
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER='', AWS_MAX_ATTEMPTS='1')
        for i, cli in enumerate(clis):
            def aws(*args, cli=cli, ok=True):
                p = subprocess.run([cli, '--endpoint-url', self.server.url, '--cli-read-timeout',
                                    '70', 'stepfunctions', *args],
                                   capture_output=True, text=True, env=env, timeout=120)
                if ok:
                    self.assertEqual(p.returncode, 0, (cli, args, p.stderr))
                    return json.loads(p.stdout) if p.stdout.strip() else {}
                return p
            activity = aws('create-activity', '--name', 'e2e-cli-%d' % i)['activityArn']
            self.assertEqual(aws('describe-activity', '--activity-arn', activity)['name'],
                             'e2e-cli-%d' % i)
            self.assertIn(activity, [a['activityArn'] for a in aws('list-activities')['activities']])
            machine = self.machine('e2e-cli-act-%d' % i, activity)
            arn = aws('start-execution', '--state-machine-arn', machine, '--input',
                      '{"cli": true}')['executionArn']
            task = {}
            for _ in range(30):
                task = aws('get-activity-task', '--activity-arn', activity, '--worker-name', 'cli')
                if task.get('taskToken'):
                    break
            self.assertEqual(json.loads(task['input']), {'cli': True})
            aws('send-task-heartbeat', '--task-token', task['taskToken'])
            aws('send-task-failure', '--task-token', task['taskToken'], '--error', 'E')
            self.assertEqual(self.wait(arn)['status'], 'FAILED')
            # Older CLIs (Debian's awscli 1.x) predate RedriveExecution: boto3 redrives then.
            p = aws('redrive-execution', '--execution-arn', arn, ok=False)
            cli_redrives = 'Invalid choice' not in p.stderr
            if cli_redrives:
                self.assertEqual(p.returncode, 0, (cli, p.stderr))
                self.assertIn('redriveDate', json.loads(p.stdout))
            else:
                self.redrive(arn)
            for _ in range(30):
                task = aws('get-activity-task', '--activity-arn', activity)
                if task.get('taskToken'):
                    break
            aws('send-task-success', '--task-token', task['taskToken'], '--task-output', '{"r": 1}')
            self.wait(arn)
            d = self.describe(arn)
            self.assertEqual((d['status'], d['redriveCount']), ('SUCCEEDED', 1))
            if cli_redrives:
                p = aws('redrive-execution', '--execution-arn', arn, ok=False)
                self.assertNotEqual(p.returncode, 0)
                self.assertIn('ExecutionNotRedrivable', p.stderr)
            aws('delete-activity', '--activity-arn', activity)


class RetentionFlag(unittest.TestCase):
    def test_bad_retention_is_refused(self):
        p = subprocess.run([BIN, 'serve', '--retention-days', '-1'], capture_output=True,
                           text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn('retention-days', p.stderr)


if __name__ == '__main__':
    BIN = os.path.abspath(sys.argv[1])
    unittest.main(argv=[sys.argv[0], '-v'] + sys.argv[2:])
