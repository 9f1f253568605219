#!/usr/bin/env python3
"""End-to-end tests of durable Lambda functions in `switchyard serve`, driven by boto3 and the
AWS CLI: functions, versions, aliases and settings survive a restart; event invoke configs;
provisioned concurrency; weighted aliases; async (Event) invocations whose retries, dead letters
and destinations survive a restart.

Usage: lambda_durable_test.py PATH/TO/switchyard
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402
from e2e_common import wait_until, zip_of  # noqa: E402

BIN = None
REGION = 'us-east-1'


def version_zip(tag):
    return zip_of({'app.py': 'def handler(event, context):\n    return {"tag": %r}\n' % tag})


# Appends each event it gets to $RECORD_FILE (one JSON line) and returns it.
RECORDER_ZIP = zip_of({'rec.py': (
    'import json, os\n'
    'def handler(event, context):\n'
    '    with open(os.environ["RECORD_FILE"], "a") as f:\n'
    '        f.write(json.dumps(event) + "\\n")\n'
    '    return event\n')})
# Counts its attempts in $COUNT_FILE, then fails.
FAILING_ZIP = zip_of({'fail.py': (
    'import os\n'
    'def handler(event, context):\n'
    '    with open(os.environ["COUNT_FILE"], "a") as f:\n'
    '        f.write(context.aws_request_id + "\\n")\n'
    '    raise ValueError("boom")\n')})


class Server(e2e_common.Server):
    """`switchyard serve` on the embedded PostgreSQL in `data_dir` (kept across restarts)."""

    def __init__(self, data_dir, env=None):
        super().__init__(BIN, env=env, data_dir=data_dir, clean_env=True)

    def lam(self):
        return boto3.client('lambda', endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id='x', aws_secret_access_key='y',
                            config=Config(retries={'max_attempts': 1}, read_timeout=60))

    def aws(self, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID='x', AWS_SECRET_ACCESS_KEY='y',
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER='')
        p = subprocess.run(['aws', '--endpoint-url', self.url, *args, '--output', 'json'],
                           capture_output=True, text=True, env=env, timeout=120)
        return p.returncode, p.stdout, p.stderr


def error_code(call):
    try:
        call()
    except ClientError as e:
        return e.response['Error']['Code']
    return None


def lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [line for line in f.read().splitlines() if line]


class DurableLambda(unittest.TestCase):
    def setUp(self):
        self.base = tempfile.mkdtemp(prefix='switchyard-lambda-durable.')
        os.chmod(self.base, 0o755)
        self.server = None

    def tearDown(self):
        if self.server:
            self.server.stop()
        shutil.rmtree(self.base, ignore_errors=True)

    def start(self, **env):
        self.server = Server(self.base, env=env)
        return self.server.lam()

    def restart(self, sig=signal.SIGTERM, **env):
        self.server.stop(sig)
        return self.start(**env)

    def create(self, lam, name, zip_bytes, handler, env=None):
        lam.create_function(FunctionName=name, Runtime='python3.11', Role='arn:aws:iam::1:role/r',
                            Handler=handler, Code={'ZipFile': zip_bytes},
                            Environment={'Variables': env or {}})

    def test_functions_versions_aliases_and_settings_survive_a_restart(self):
        lam = self.start()
        self.create(lam, 'keep', version_zip('v1'), 'app.handler')
        v1 = lam.publish_version(FunctionName='keep')['Version']
        lam.update_function_code(FunctionName='keep', ZipFile=version_zip('v2'))
        v2 = lam.publish_version(FunctionName='keep')['Version']
        lam.update_function_code(FunctionName='keep', ZipFile=version_zip('latest'))
        lam.create_alias(FunctionName='keep', Name='live', FunctionVersion=v1)
        lam.put_function_concurrency(FunctionName='keep', ReservedConcurrentExecutions=7)
        lam.put_function_event_invoke_config(FunctionName='keep', MaximumRetryAttempts=1,
                                             MaximumEventAgeInSeconds=120)
        lam = self.restart()
        self.assertEqual([v['Version'] for v in lam.list_versions_by_function(
            FunctionName='keep')['Versions']], ['$LATEST', v1, v2])
        for qualifier, tag in (('$LATEST', 'latest'), (v1, 'v1'), (v2, 'v2'), ('live', 'v1')):
            r = lam.invoke(FunctionName='keep', Qualifier=qualifier, Payload=b'{}')
            self.assertEqual(json.loads(r['Payload'].read()), {'tag': tag}, qualifier)
        self.assertEqual(lam.get_alias(FunctionName='keep', Name='live')['FunctionVersion'], v1)
        self.assertEqual(lam.get_function_concurrency(FunctionName='keep')
                         ['ReservedConcurrentExecutions'], 7)
        config = lam.get_function_event_invoke_config(FunctionName='keep')
        self.assertEqual((config['MaximumRetryAttempts'], config['MaximumEventAgeInSeconds']),
                         (1, 120))
        # The code store can be rebuilt from the database: remove it, restart, invoke.
        self.server.stop()
        shutil.rmtree(os.path.join(self.base, 'data', 'functions'))
        lam = self.start()
        r = lam.invoke(FunctionName='keep', Qualifier=v2, Payload=b'{}')
        self.assertEqual(json.loads(r['Payload'].read()), {'tag': 'v2'})
        # Deleted functions stay deleted.
        lam.delete_function(FunctionName='keep')
        lam = self.restart()
        self.assertEqual(error_code(lambda: lam.get_function(FunctionName='keep')),
                         'ResourceNotFoundException')

    def test_event_invoke_configs(self):
        lam = self.start()
        self.create(lam, 'cfg', version_zip('x'), 'app.handler')
        self.assertEqual(error_code(lambda: lam.get_function_event_invoke_config(
            FunctionName='cfg')), 'ResourceNotFoundException')
        self.assertEqual(error_code(lambda: lam.put_function_event_invoke_config(
            FunctionName='cfg', MaximumRetryAttempts=3)), 'ValidationException')
        self.assertEqual(error_code(lambda: lam.put_function_event_invoke_config(
            FunctionName='cfg', MaximumEventAgeInSeconds=21601)), 'ValidationException')
        self.assertEqual(error_code(lambda: lam.put_function_event_invoke_config(
            FunctionName='cfg', DestinationConfig={'OnFailure': {'Destination': 'nope'}})),
            'InvalidParameterValueException')
        self.assertEqual(error_code(lambda: lam.put_function_event_invoke_config(
            FunctionName='cfg', Qualifier='9', MaximumRetryAttempts=0)),
            'ResourceNotFoundException')
        dest = 'arn:aws:lambda:us-east-1:000000000000:function:other'
        put = lam.put_function_event_invoke_config(
            FunctionName='cfg', MaximumRetryAttempts=0,
            DestinationConfig={'OnFailure': {'Destination': dest}})
        self.assertTrue(put['FunctionArn'].endswith(':function:cfg:$LATEST'))
        self.assertEqual(put['MaximumRetryAttempts'], 0)
        self.assertEqual(put['DestinationConfig']['OnFailure']['Destination'], dest)
        updated = lam.update_function_event_invoke_config(FunctionName='cfg',
                                                          MaximumEventAgeInSeconds=300)
        self.assertEqual((updated['MaximumRetryAttempts'], updated['MaximumEventAgeInSeconds']),
                         (0, 300))
        v1 = lam.publish_version(FunctionName='cfg')['Version']
        lam.put_function_event_invoke_config(FunctionName='cfg', Qualifier=v1,
                                             MaximumRetryAttempts=2)
        listed = lam.list_function_event_invoke_configs(FunctionName='cfg')
        self.assertEqual(sorted(c['FunctionArn'].rsplit(':', 1)[1]
                                for c in listed['FunctionEventInvokeConfigs']), ['$LATEST', v1])
        # The AWS CLI sees the same.
        code, out, err = self.server.aws('lambda', 'get-function-event-invoke-config',
                                         '--function-name', 'cfg', '--qualifier', v1)
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out)['MaximumRetryAttempts'], 2)
        lam.delete_function_event_invoke_config(FunctionName='cfg', Qualifier=v1)
        self.assertEqual(error_code(lambda: lam.delete_function_event_invoke_config(
            FunctionName='cfg', Qualifier=v1)), 'ResourceNotFoundException')

    def test_provisioned_concurrency(self):
        lam = self.start()
        self.create(lam, 'warm', version_zip('w'), 'app.handler')
        v1 = lam.publish_version(FunctionName='warm')['Version']
        lam.create_alias(FunctionName='warm', Name='prod', FunctionVersion=v1)
        self.assertEqual(error_code(lambda: lam.get_provisioned_concurrency_config(
            FunctionName='warm', Qualifier=v1)), 'ProvisionedConcurrencyConfigNotFoundException')
        self.assertEqual(error_code(lambda: lam.put_provisioned_concurrency_config(
            FunctionName='warm', Qualifier='$LATEST', ProvisionedConcurrentExecutions=1)),
            'InvalidParameterValueException')
        self.assertEqual(error_code(lambda: lam.put_provisioned_concurrency_config(
            FunctionName='warm', Qualifier='nosuch', ProvisionedConcurrentExecutions=1)),
            'ResourceNotFoundException')
        put = lam.put_provisioned_concurrency_config(FunctionName='warm', Qualifier='prod',
                                                     ProvisionedConcurrentExecutions=2)
        self.assertEqual(put['RequestedProvisionedConcurrentExecutions'], 2)
        self.assertIn(put['Status'], ('IN_PROGRESS', 'READY'))
        self.assertEqual(error_code(lambda: lam.put_provisioned_concurrency_config(
            FunctionName='warm', Qualifier=v1, ProvisionedConcurrentExecutions=1)),
            'ResourceConflictException')
        ready = wait_until(lambda: lam.get_provisioned_concurrency_config(
            FunctionName='warm', Qualifier='prod')['Status'] == 'READY', what='READY')
        self.assertTrue(ready)
        got = lam.get_provisioned_concurrency_config(FunctionName='warm', Qualifier='prod')
        self.assertEqual(got['AllocatedProvisionedConcurrentExecutions'], 2)
        listed = lam.list_provisioned_concurrency_configs(FunctionName='warm')
        self.assertEqual([c['FunctionArn'].rsplit(':', 1)[1]
                          for c in listed['ProvisionedConcurrencyConfigs']], ['prod'])
        # Kept across a restart, and warm again.
        lam = self.restart()
        wait_until(lambda: lam.get_provisioned_concurrency_config(
            FunctionName='warm', Qualifier='prod')['Status'] == 'READY', what='READY again')
        code, out, err = self.server.aws('lambda', 'delete-provisioned-concurrency-config',
                                         '--function-name', 'warm', '--qualifier', 'prod')
        self.assertEqual(code, 0, err)
        self.assertEqual(error_code(lambda: lam.get_provisioned_concurrency_config(
            FunctionName='warm', Qualifier='prod')), 'ProvisionedConcurrencyConfigNotFoundException')

    def test_weighted_alias_splits_invocations(self):
        lam = self.start()
        self.create(lam, 'split', version_zip('one'), 'app.handler')
        v1 = lam.publish_version(FunctionName='split')['Version']
        lam.update_function_code(FunctionName='split', ZipFile=version_zip('two'))
        v2 = lam.publish_version(FunctionName='split')['Version']
        self.assertEqual(error_code(lambda: lam.create_alias(
            FunctionName='split', Name='bad', FunctionVersion=v1,
            RoutingConfig={'AdditionalVersionWeights': {v2: 1.5}})), 'ValidationException')
        self.assertEqual(error_code(lambda: lam.create_alias(
            FunctionName='split', Name='bad', FunctionVersion=v1,
            RoutingConfig={'AdditionalVersionWeights': {v1: 0.5}})),
            'InvalidParameterValueException')
        alias = lam.create_alias(FunctionName='split', Name='canary', FunctionVersion=v1,
                                 RoutingConfig={'AdditionalVersionWeights': {v2: 0.3}})
        self.assertEqual(alias['RoutingConfig']['AdditionalVersionWeights'], {v2: 0.3})
        lam = self.restart()
        counts = {v1: 0, v2: 0}
        n = 200
        for _ in range(n):
            r = lam.invoke(FunctionName='split', Qualifier='canary', Payload=b'{}')
            version = r['ExecutedVersion']
            tag = json.loads(r['Payload'].read())['tag']
            self.assertEqual(tag, 'one' if version == v1 else 'two')
            counts[version] += 1
        # 30% of 200 = 60; the bound is generous (p < 1e-6 of a false failure).
        self.assertTrue(25 <= counts[v2] <= 100, counts)
        lam.update_alias(FunctionName='split', Name='canary',
                         RoutingConfig={'AdditionalVersionWeights': {}})
        self.assertNotIn('RoutingConfig', lam.get_alias(FunctionName='split', Name='canary'))
        for _ in range(10):
            r = lam.invoke(FunctionName='split', Qualifier='canary', Payload=b'{}')
            self.assertEqual(r['ExecutedVersion'], v1)

    def test_async_retries_dead_letters_and_destinations_survive_a_restart(self):
        env = {'SWITCHYARD_ASYNC_RETRY_BASE_MS': '3000'}
        lam = self.start(**env)
        count_file = os.path.join(self.base, 'attempts')
        record_file = os.path.join(self.base, 'records')
        self.create(lam, 'flaky', FAILING_ZIP, 'fail.handler', {'COUNT_FILE': count_file})
        self.create(lam, 'sink', RECORDER_ZIP, 'rec.handler', {'RECORD_FILE': record_file})
        sink_arn = lam.get_function(FunctionName='sink')['Configuration']['FunctionArn']
        lam.put_function_event_invoke_config(
            FunctionName='flaky', MaximumRetryAttempts=2,
            DestinationConfig={'OnFailure': {'Destination': sink_arn}})
        r = lam.invoke(FunctionName='flaky', InvocationType='Event', Payload=b'{"n": 1}')
        self.assertEqual(r['StatusCode'], 202)
        wait_until(lambda: len(lines(count_file)) >= 1, what='first attempt')
        time.sleep(1)  # the failed attempt is recorded; the retry is due 3 s after it
        # Killed between attempts: the event and its attempt count are in the database.
        lam = self.restart(signal.SIGKILL, **env)
        wait_until(lambda: lines(record_file), timeout=90, what='on-failure record')
        attempts = lines(count_file)
        self.assertEqual(len(attempts), 3, attempts)
        self.assertEqual(len(set(attempts)), 1)  # one request id for every attempt
        record = json.loads(lines(record_file)[0])
        self.assertEqual(record['requestContext']['condition'], 'RetriesExhausted')
        self.assertEqual(record['requestContext']['approximateInvokeCount'], 3)
        self.assertEqual(record['requestPayload'], {'n': 1})
        self.assertEqual(record['responseContext']['functionError'], 'Unhandled')
        # The dead-letter table has the original event.
        out = subprocess.run(
            ['psql', '-h', os.path.join(self.base, 'data'), '-d', 'switchyard', '-AtXc',
             "SELECT destination || ' ' || record FROM dead_letters WHERE function_name = "
             "'flaky'"], capture_output=True, text=True)
        if out.returncode == 0:
            self.assertIn('dead-letter {"n": 1}', out.stdout)
        time.sleep(1)
        self.assertEqual(len(lines(count_file)), 3)  # no fourth attempt

    def test_a_failed_event_goes_to_the_functions_dead_letter_queue(self):
        lam = self.start()
        count_file = os.path.join(self.base, 'attempts')
        queue = 'arn:aws:sqs:us-east-1:000000000000:orders-dlq'
        lam.create_function(FunctionName='dlq', Runtime='python3.11', Role='arn:aws:iam::1:role/r',
                            Handler='fail.handler', Code={'ZipFile': FAILING_ZIP},
                            Environment={'Variables': {'COUNT_FILE': count_file}},
                            DeadLetterConfig={'TargetArn': queue})
        self.assertEqual(error_code(lambda: lam.update_function_configuration(
            FunctionName='dlq', DeadLetterConfig={'TargetArn': 'arn:aws:s3:::bucket'})),
            'InvalidParameterValueException')
        lam.put_function_event_invoke_config(FunctionName='dlq', MaximumRetryAttempts=0)
        lam = self.restart()
        self.assertEqual(lam.get_function_configuration(FunctionName='dlq')['DeadLetterConfig'],
                         {'TargetArn': queue})
        lam.invoke(FunctionName='dlq', InvocationType='Event', Payload=b'{"n": 2}')
        # No queue service here: the event is kept in dead_letters under the queue's ARN.

        data = os.path.join(self.base, 'data')
        sockets = [n for n in os.listdir(data) if n.startswith('.s.PGSQL.') and
                   not n.endswith('.lock')]
        self.assertEqual(len(sockets), 1, os.listdir(data))

        def dead_letters():
            out = subprocess.run(
                ['psql', '-h', data, '-p', sockets[0].split('.')[-1], '-U', 'switchyard', '-d',
                 'switchyard', '-AtXc',
                 "SELECT destination || ' ' || record FROM dead_letters WHERE function_name = "
                 "'dlq'"], capture_output=True, text=True)
            self.assertEqual(out.returncode, 0, out.stderr)
            return out.stdout.strip()
        self.assertEqual(wait_until(dead_letters, what='dead letter'), queue + ' {"n": 2}')
        self.assertEqual(len(lines(count_file)), 1)


if __name__ == '__main__':
    BIN = sys.argv.pop(1)
    unittest.main()
