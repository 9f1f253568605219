#!/usr/bin/env python3
"""End-to-end tests of EventBridge Scheduler on `switchyard serve`, driven by the AWS CLI (every
`aws` found: the first on PATH and /usr/bin/aws) and boto3: the API (groups, schedules, errors,
pagination, client tokens) and firing. TWO serve nodes share one throwaway PostgreSQL; a
rate(1 minute) schedule fires its function and its state machine exactly once per occurrence,
and after both nodes were down each missed occurrence inside the catch-up window fires once.
Time is advanced with the test-only SWITCHYARD_TEST_CLOCK_OFFSET_FILE (docs/operations.md).

Usage: scheduler_test.py PATH/TO/switchyard PATH/TO/pg_test_cluster
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402
from e2e_common import REGION, aws_clis, wait_until, zip_of  # noqa: E402

BIN = None
LAUNCHER = None
ACCOUNT = '000000000000'
ROLE = 'arn:aws:iam::%s:role/scheduler' % ACCOUNT
PASS_MACHINE = json.dumps({'StartAt': 'P', 'States': {'P': {'Type': 'Pass', 'End': True}}})


# Appends {request id, event} to $RECORD_FILE, one JSON line per invocation.
RECORDER_ZIP = zip_of({'rec.py': (
    'import json, os\n'
    'def handler(event, context):\n'
    '    with open(os.environ["RECORD_FILE"], "a") as f:\n'
    '        f.write(json.dumps({"id": context.aws_request_id, "event": event}) + "\\n")\n'
    '    return event\n')})


class Node:
    """One `switchyard serve` of the shared database; start() again after stop() restarts it."""

    def __init__(self, base, index, url, offset_file):
        self.dir = os.path.join(base, 'node%d' % index)
        os.makedirs(self.dir, exist_ok=True)
        self.db_url = url
        self.offset_file = offset_file
        self.server = None

    def start(self):
        self.server = e2e_common.Server(
            BIN, '--functions-store', os.path.join(self.dir, 'code'), data_dir=self.dir,
            env={'SWITCHYARD_TEST_CLOCK_OFFSET_FILE': self.offset_file}, clean_env=True,
            database_url=self.db_url, stop_timeout=90)
        self.port = self.server.port
        self.url = self.server.url

    def output(self):
        return self.server.output()

    def stop(self):
        if self.server:
            self.server.stop()

    def client(self, service):
        return self.server.client(service)

    def aws(self, binary, *args):
        return self.server.cli(binary, *args)


def call_with_action(client, operation, action, **kwargs):
    """client.<operation>(ActionAfterCompletion=action, **kwargs), also with a botocore older
    than that member (Debian's 1.29): then it is added to the serialised body before signing."""
    method = getattr(client, ''.join('_' + c.lower() if c.isupper() else c
                                     for c in operation).lstrip('_'))
    members = client.meta.service_model.operation_model(operation).input_shape.members
    if 'ActionAfterCompletion' in members:
        return method(ActionAfterCompletion=action, **kwargs)

    def add(params, **_):
        body = json.loads(params['body'] or b'{}')
        body['ActionAfterCompletion'] = action
        params['body'] = json.dumps(body).encode()
    event = 'before-call.scheduler.' + operation
    client.meta.events.register(event, add)
    try:
        return method(**kwargs)
    finally:
        client.meta.events.unregister(event, add)


def error_code(call):
    try:
        call()
    except ClientError as e:
        return e.response['Error']['Code'], e.response['Error']['Message'], \
            e.response['ResponseMetadata']['HTTPStatusCode']
    return None


class SchedulerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix='sy-sched-')
        os.chmod(cls.base, 0o755)  # the cluster's user (postgres, when run as root) enters it
        out = subprocess.run([LAUNCHER, 'start', os.path.join(cls.base, 'pg')],
                             capture_output=True, text=True, timeout=180)
        if out.returncode != 0:
            raise RuntimeError('pg_test_cluster start failed: ' + out.stderr)
        cls.db_url = out.stdout.strip().splitlines()[-1]
        cls.offset_file = os.path.join(cls.base, 'clock-offset')
        cls.offset = 0.0
        cls.set_offset(0)
        cls.nodes = [Node(cls.base, i, cls.db_url, cls.offset_file) for i in range(2)]
        for node in cls.nodes:
            node.start()

    @classmethod
    def tearDownClass(cls):
        for node in cls.nodes:
            node.stop()
        subprocess.run([LAUNCHER, 'stop', os.path.join(cls.base, 'pg')], capture_output=True,
                       timeout=180)
        shutil.rmtree(cls.base, ignore_errors=True)

    @classmethod
    def set_offset(cls, seconds):
        cls.offset = float(seconds)
        with open(cls.offset_file + '.tmp', 'w') as f:
            f.write('%f\n' % cls.offset)
        os.rename(cls.offset_file + '.tmp', cls.offset_file)

    def sched(self, i=0):
        return self.nodes[i].client('scheduler')

    def target(self, arn, **extra):
        target = {'Arn': arn, 'RoleArn': ROLE}
        target.update(extra)
        return target

    def test_api_with_every_aws_cli(self):
        node = self.nodes[0]
        sm_arn = 'arn:aws:states:%s:%s:stateMachine:cli-target' % (REGION, ACCOUNT)
        for n, binary in enumerate(aws_clis()):
            group = 'cli-group-%d' % n
            code, out, err = node.aws(binary, 'scheduler', 'create-schedule-group', '--name', group)
            self.assertEqual(code, 0, err)
            self.assertEqual(json.loads(out)['ScheduleGroupArn'],
                             'arn:aws:scheduler:%s:%s:schedule-group/%s' % (REGION, ACCOUNT, group))
            code, out, err = node.aws(binary, 'scheduler', 'get-schedule-group', '--name', group)
            self.assertEqual((code, json.loads(out)['State']), (0, 'ACTIVE'), err)
            for name in ('alpha', 'beta', 'gamma'):
                code, out, err = node.aws(
                    binary, 'scheduler', 'create-schedule', '--name', name, '--group-name', group,
                    '--schedule-expression', 'cron(0 12 * * ? *)',
                    '--schedule-expression-timezone', 'Europe/Paris',
                    '--flexible-time-window', 'Mode=OFF', '--state',
                    'DISABLED' if name == 'gamma' else 'ENABLED',
                    '--target', json.dumps(self.target(sm_arn)))
                self.assertEqual(code, 0, err)
                self.assertEqual(json.loads(out)['ScheduleArn'],
                                 'arn:aws:scheduler:%s:%s:schedule/%s/%s' %
                                 (REGION, ACCOUNT, group, name))
            code, out, err = node.aws(binary, 'scheduler', 'get-schedule', '--name', 'alpha',
                                      '--group-name', group)
            self.assertEqual(code, 0, err)
            got = json.loads(out)
            self.assertEqual((got['ScheduleExpression'], got['ScheduleExpressionTimezone'],
                              got['State'], got['Target']['RetryPolicy']),
                             ('cron(0 12 * * ? *)', 'Europe/Paris', 'ENABLED',
                              {'MaximumEventAgeInSeconds': 86400, 'MaximumRetryAttempts': 185}))
            code, out, err = node.aws(binary, 'scheduler', 'list-schedules', '--group-name', group,
                                      '--state', 'ENABLED')
            self.assertEqual(code, 0, err)
            self.assertEqual([s['Name'] for s in json.loads(out)['Schedules']], ['alpha', 'beta'])
            code, out, err = node.aws(binary, 'scheduler', 'get-schedule', '--name', 'nope',
                                      '--group-name', group)
            self.assertNotEqual(code, 0)
            self.assertIn('ResourceNotFoundException', err)
            self.assertIn('Schedule nope does not exist.', err)
            code, out, err = node.aws(
                binary, 'scheduler', 'create-schedule', '--name', 'bad', '--schedule-expression',
                'rate(5 weeks)', '--flexible-time-window', 'Mode=OFF', '--target',
                json.dumps(self.target(sm_arn)))
            self.assertNotEqual(code, 0)
            self.assertIn('ValidationException', err)
            self.assertIn('Invalid Schedule Expression rate(5 weeks).', err)
            code, out, err = node.aws(binary, 'scheduler', 'delete-schedule-group', '--name', group)
            self.assertEqual(code, 0, err)
            code, out, err = node.aws(binary, 'scheduler', 'get-schedule', '--name', 'alpha',
                                      '--group-name', group)
            self.assertIn('Schedule group %s does not exist.' % group, err)

    def test_api_errors_pagination_and_client_tokens_with_boto3(self):
        s = self.sched(1)
        sm_arn = 'arn:aws:states:%s:%s:stateMachine:api-target' % (REGION, ACCOUNT)
        base = dict(ScheduleExpression='rate(1 day)', FlexibleTimeWindow={'Mode': 'OFF'},
                    Target=self.target(sm_arn), State='DISABLED')
        arn = s.create_schedule(Name='tok', ClientToken='t-1', **base)['ScheduleArn']
        self.assertEqual(s.create_schedule(Name='tok', ClientToken='t-1', **base)['ScheduleArn'],
                         arn)
        self.assertEqual(error_code(lambda: s.create_schedule(Name='tok', **base)),
                         ('ConflictException', 'Schedule tok already exists.', 409))
        self.assertEqual(
            error_code(lambda: s.create_schedule(Name='g', GroupName='no-such-group', **base)),
            ('ResourceNotFoundException', 'Schedule group no-such-group does not exist.', 404))
        bad = dict(base, ScheduleExpressionTimezone='Mars/Olympus')
        self.assertEqual(error_code(lambda: s.create_schedule(Name='tz', **bad)),
                         ('ValidationException', 'Invalid Schedule Expression Timezone '
                          'Mars/Olympus.', 400))
        bad = dict(base, Target=self.target(sm_arn,
                                            RetryPolicy={'MaximumEventAgeInSeconds': 90000}))
        code = error_code(lambda: s.create_schedule(Name='age', **bad))
        self.assertEqual(code[0], 'ValidationException')
        self.assertIn('maximumEventAgeInSeconds', code[1])
        bad = dict(base, FlexibleTimeWindow={'Mode': 'FLEXIBLE'})
        self.assertEqual(error_code(lambda: s.create_schedule(Name='flex', **bad))[0],
                         'ValidationException')
        self.assertEqual(error_code(lambda: s.delete_schedule_group(Name='default')),
                         ('ValidationException', 'The default schedule group cannot be deleted.',
                          400))
        self.assertEqual(error_code(lambda: s.delete_schedule(Name='missing')),
                         ('ResourceNotFoundException', 'Schedule missing does not exist.', 404))
        for i in range(5):
            s.create_schedule(Name='page-%d' % i, **base)
        names, token = [], None
        while True:
            kwargs = {'NamePrefix': 'page-', 'MaxResults': 2}
            if token:
                kwargs['NextToken'] = token
            page = s.list_schedules(**kwargs)
            names += [x['Name'] for x in page['Schedules']]
            token = page.get('NextToken')
            if not token:
                break
        self.assertEqual(names, ['page-%d' % i for i in range(5)])
        call_with_action(s, 'UpdateSchedule', 'DELETE', Name='page-0',
                         ScheduleExpression='at(2030-01-01T00:00:00)',
                         FlexibleTimeWindow={'Mode': 'FLEXIBLE', 'MaximumWindowInMinutes': 15},
                         Target=self.target(sm_arn))
        got = s.get_schedule(Name='page-0')
        # (an older botocore drops the member it does not know from the answer)
        self.assertEqual((got['ScheduleExpression'], got['State'],
                          got.get('ActionAfterCompletion', 'DELETE'), got['FlexibleTimeWindow']),
                         ('at(2030-01-01T00:00:00)', 'ENABLED', 'DELETE',
                          {'Mode': 'FLEXIBLE', 'MaximumWindowInMinutes': 15}))
        self.assertIn('default', [g['Name'] for g in s.list_schedule_groups()['ScheduleGroups']])
        group_arn = s.create_schedule_group(
            Name='tagged', Tags=[{'Key': 'team', 'Value': 'ops'}])['ScheduleGroupArn']
        s.tag_resource(ResourceArn=group_arn, Tags=[{'Key': 'env', 'Value': 'test'}])
        self.assertEqual(sorted((t['Key'], t['Value'])
                                for t in s.list_tags_for_resource(ResourceArn=group_arn)['Tags']),
                         [('env', 'test'), ('team', 'ops')])
        s.untag_resource(ResourceArn=group_arn, TagKeys=['team'])
        self.assertEqual(s.list_tags_for_resource(ResourceArn=group_arn)['Tags'],
                         [{'Key': 'env', 'Value': 'test'}])
        self.assertEqual(error_code(lambda: s.list_tags_for_resource(
            ResourceArn=group_arn.replace('tagged', 'absent'))),
            ('ResourceNotFoundException', 'Schedule group absent does not exist.', 404))
        s.delete_schedule_group(Name='tagged')
        for i in range(5):
            s.delete_schedule(Name='page-%d' % i)
        s.delete_schedule(Name='tok')

    def test_rate_schedule_fires_exactly_once_per_occurrence_on_two_nodes(self):
        a, b = self.nodes
        record = os.path.join(self.base, 'records.jsonl')
        lam = a.client('lambda')
        lam.create_function(FunctionName='tick', Runtime='python3.11', Role=ROLE,
                            Handler='rec.handler', Code={'ZipFile': RECORDER_ZIP},
                            Environment={'Variables': {'RECORD_FILE': record}})
        sfn = a.client('stepfunctions')
        sm_arn = sfn.create_state_machine(name='ticker', definition=PASS_MACHINE,
                                          roleArn=ROLE)['stateMachineArn']
        sm_short_arn = sfn.create_state_machine(name='ticker-short', definition=PASS_MACHINE,
                                                roleArn=ROLE)['stateMachineArn']
        time.sleep(2.5)  # node b installs the function (sync every 2 s)
        fn_arn = 'arn:aws:lambda:%s:%s:function:tick' % (REGION, ACCOUNT)
        t0 = time.time() + self.offset
        self.sched(0).create_schedule(
            Name='fn-every-minute', ScheduleExpression='rate(1 minute)',
            FlexibleTimeWindow={'Mode': 'OFF'},
            Target=self.target(fn_arn, Input=json.dumps({'from': 'scheduler'})))
        self.sched(1).create_schedule(
            Name='sm-every-minute', ScheduleExpression='rate(1 minute)',
            FlexibleTimeWindow={'Mode': 'OFF'}, Target=self.target(sm_arn))
        self.sched(1).create_schedule(
            Name='sm-short-window', ScheduleExpression='rate(1 minute)',
            FlexibleTimeWindow={'Mode': 'OFF'},
            Target=self.target(sm_short_arn, RetryPolicy={'MaximumEventAgeInSeconds': 60,
                                                          'MaximumRetryAttempts': 2}))

        def records():
            if not os.path.exists(record):
                return []
            with open(record) as f:
                return [json.loads(line) for line in f if line.strip()]

        def executions(arn):  # through node a, wherever it listens now
            return a.client('stepfunctions').list_executions(stateMachineArn=arn)['executions']

        def check(expected_fn, expected_sm, expected_short):
            wait_until(lambda: len(records()) >= expected_fn and
                       len(executions(sm_arn)) >= expected_sm and
                       len(executions(sm_short_arn)) >= expected_short,
                       what='%d/%d/%d firings' % (expected_fn, expected_sm, expected_short))
            time.sleep(2)  # both nodes polled several times more: no second firing
            got = records()
            self.assertEqual(len(got), expected_fn, got)
            self.assertEqual(len({r['id'] for r in got}), expected_fn)
            self.assertTrue(all(r['event'] == {'from': 'scheduler'} for r in got), got)
            for arn, expected in ((sm_arn, expected_sm), (sm_short_arn, expected_short)):
                runs = executions(arn)
                self.assertEqual(len(runs), expected, runs)
                self.assertEqual(len({r['name'] for r in runs}), expected)

        # A rate without StartDate fires at once, then each minute (of the offset clock).
        check(1, 1, 1)
        for minute in (1, 2, 3):
            self.set_offset(60 * minute)
            check(1 + minute, 1 + minute, 1 + minute)
        # Both nodes down; 5 1/2 minutes pass. At restart each of the 5 missed occurrences fires
        # once on the default window (86400 s); with MaximumEventAgeInSeconds 60 only the one
        # still younger than 60 s fires, the 4 older ones are skipped. Then it continues.
        for node in self.nodes:
            node.stop()
        self.set_offset(t0 + 3 * 60 + 330 - time.time())
        for node in self.nodes:
            node.start()
        check(4 + 5, 4 + 5, 4 + 1)
        self.set_offset(t0 + 3 * 60 + 330 + 60 - time.time())
        check(10, 10, 6)
        for name in ('fn-every-minute', 'sm-every-minute', 'sm-short-window'):
            self.sched(0).delete_schedule(Name=name)

    def test_at_schedule_fires_once_and_deletes_itself(self):
        sfn = self.nodes[1].client('stepfunctions')
        arn = sfn.create_state_machine(name='once', definition=PASS_MACHINE,
                                       roleArn=ROLE)['stateMachineArn']
        now = time.gmtime(time.time() + self.offset + 5)
        at = time.strftime('%Y-%m-%dT%H:%M:%S', now)
        call_with_action(self.sched(0), 'CreateSchedule', 'DELETE', Name='one-shot',
                         ScheduleExpression='at(%s)' % at, FlexibleTimeWindow={'Mode': 'OFF'},
                         Target=self.target(arn, Input='{"once": true}'))
        wait_until(lambda: sfn.list_executions(stateMachineArn=arn)['executions'],
                   what='the at() firing')
        wait_until(lambda: error_code(lambda: self.sched(1).get_schedule(Name='one-shot')),
                   what='the schedule deleted after completion')
        runs = sfn.list_executions(stateMachineArn=arn)['executions']
        self.assertEqual(len(runs), 1)
        described = sfn.describe_execution(executionArn=runs[0]['executionArn'])
        self.assertEqual(json.loads(described['input']), {'once': True})

    def test_missing_target_is_dead_lettered(self):
        # A function that does not exist, one retry: recorded as a dead letter, never fired.
        self.sched(0).create_schedule(
            Name='to-nowhere', ScheduleExpression='rate(1 minute)',
            FlexibleTimeWindow={'Mode': 'OFF'},
            Target=self.target('arn:aws:lambda:%s:%s:function:absent' % (REGION, ACCOUNT),
                               RetryPolicy={'MaximumRetryAttempts': 0},
                               DeadLetterConfig={'Arn': 'arn:aws:sqs:%s:%s:dlq' %
                                                 (REGION, ACCOUNT)}))
        psql = shutil.which('psql') or '/usr/bin/psql'

        def dead_letters():
            p = subprocess.run([psql, self.db_url, '-AtX', '-c',
                                "SELECT dead_letter_arn, error FROM schedule_dead_letters WHERE "
                                "schedule_arn LIKE '%/to-nowhere'"],
                               capture_output=True, text=True, timeout=60)
            return [line for line in p.stdout.splitlines() if line]
        got = wait_until(dead_letters, what='the dead letter')
        self.assertEqual(got, ['arn:aws:sqs:%s:%s:dlq|ResourceNotFoundException: Function not '
                               'found: arn:aws:lambda:%s:%s:function:absent' %
                               (REGION, ACCOUNT, REGION, ACCOUNT)])
        self.sched(0).delete_schedule(Name='to-nowhere')

    def test_queue_target_and_queue_dead_letter(self):
        # An SQS queue as the target (the input as the message body), and a real queue as the
        # dead-letter queue of a schedule whose target does not exist.
        sqs = self.nodes[1].client('sqs')
        target_url = sqs.create_queue(QueueName='sched-target')['QueueUrl']
        dlq_url = sqs.create_queue(QueueName='sched-dlq')['QueueUrl']
        queue_arn = 'arn:aws:sqs:%s:%s:' % (REGION, ACCOUNT)
        self.sched(0).create_schedule(
            Name='to-queue', ScheduleExpression='rate(1 minute)',
            FlexibleTimeWindow={'Mode': 'OFF'},
            Target=self.target(queue_arn + 'sched-target', Input='{"tick": 1}'))
        self.sched(0).create_schedule(
            Name='to-nowhere-dlq', ScheduleExpression='rate(1 minute)',
            FlexibleTimeWindow={'Mode': 'OFF'},
            Target=self.target('arn:aws:lambda:%s:%s:function:absent' % (REGION, ACCOUNT),
                               Input='{"lost": true}',
                               RetryPolicy={'MaximumRetryAttempts': 0},
                               DeadLetterConfig={'Arn': queue_arn + 'sched-dlq'}))

        def receive(url):
            return sqs.receive_message(QueueUrl=url, WaitTimeSeconds=1).get('Messages')
        got = wait_until(lambda: receive(target_url), timeout=150,
                         what='the message sent to the queue')
        self.assertEqual(json.loads(got[0]['Body']), {'tick': 1})
        got = wait_until(lambda: receive(dlq_url), timeout=150,
                         what='the message in the dead-letter queue')
        self.assertEqual(json.loads(got[0]['Body']), {'lost': True})
        for name in ('to-queue', 'to-nowhere-dlq'):
            self.sched(0).delete_schedule(Name=name)


if __name__ == '__main__':
    BIN = os.path.abspath(sys.argv[1])
    LAUNCHER = os.path.abspath(sys.argv[2])
    unittest.main(argv=sys.argv[:1], verbosity=2)
