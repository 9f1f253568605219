#!/usr/bin/env python3
"""End-to-end tests of the Step Functions versions, aliases, tags, TestState, pagination and
response shapes of `switchyard serve`, driven by boto3 and the AWS CLI.

Usage: sfn_api_test.py PATH/TO/switchyard PROJECT_SOURCE_DIR
An operation the installed botocore does not know (Debian's is older than versions, aliases and
TestState) is sent as a raw JSON 1.0 request instead, so every operation is tested either way. The
AWS CLI checks run with every CLI found (`aws` on PATH, /usr/bin/aws); a CLI without a command
(an older v2) skips that command only.
"""
import json
import os
import subprocess
import sys
import time
import unittest

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, ParamValidationError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_test  # noqa: E402  (Server, client, send, error_code, aws_clis)
from api_test import Server, client, send, error_code, aws_clis, zip_of  # noqa: E402

REGION = 'us-east-1'
ROLE = 'arn:aws:iam::000000000000:role/r'
PREFIX = 'arn:aws:states:us-east-1:000000000000:stateMachine:'


def pass_machine(value):
    return json.dumps({'StartAt': 'P', 'States': {'P': {'Type': 'Pass', 'Result': value,
                                                          'End': True}}})


class Sfn:
    """boto3's client, or raw JSON 1.0 requests for operations its botocore lacks."""

    def __init__(self, server):
        self.server = server
        # TestState (like StartSyncExecution) goes to the host "sync-<endpoint host>" unless
        # host prefixes are off.
        self.boto = boto3.client('stepfunctions', endpoint_url=server.url, region_name=REGION,
                                 aws_access_key_id='k', aws_secret_access_key='s',
                                 config=Config(retries={'max_attempts': 1},
                                               inject_host_prefix=False, read_timeout=120))

    def raw(self, operation, **body):
        status, _, data = send('POST', self.server.url, json.dumps(body), {
            'Content-Type': 'application/x-amz-json-1.0',
            'X-Amz-Target': 'AWSStepFunctions.' + operation})
        out = json.loads(data) if data else {}
        if status != 200:
            raise ClientError({'Error': {'Code': out.get('__type', '').split('#')[-1],
                                         'Message': out.get('message', '')},
                               'ResponseMetadata': {'HTTPStatusCode': status}}, operation)
        return out

    def __getattr__(self, snake):
        operation = ''.join(part.capitalize() for part in snake.split('_'))
        # A botocore older than versions and aliases also drops their members from answers.
        if not hasattr(self.boto, snake) or not hasattr(self.boto, 'publish_state_machine_version'):
            return lambda **body: self.raw(operation, **body)

        def call(**body):
            try:
                return getattr(self.boto, snake)(**body)
            except ParamValidationError:  # a member this botocore does not know yet
                return self.raw(operation, **body)
        return call


class StepFunctionsApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.sfn = Sfn(cls.server)
        cls.lam = client(cls.server, 'lambda', ('k', 's'))

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        assert code == 0, code

    def wait(self, arn, timeout=60):
        deadline = time.time() + timeout
        while True:
            d = self.sfn.raw('DescribeExecution', executionArn=arn)
            if d['status'] != 'RUNNING' or time.time() > deadline:
                return d
            time.sleep(0.05)

    def assertError(self, expected, fn, *args, **kwargs):
        with self.assertRaises(ClientError) as e:
            fn(*args, **kwargs)
        self.assertEqual(error_code(e.exception), expected)

    def test_versions_aliases_and_routing(self):
        sfn = self.sfn
        created = sfn.create_state_machine(name='ver', definition=pass_machine('v1'), roleArn=ROLE,
                                           publish=True, versionDescription='first')
        arn = created['stateMachineArn']
        v1 = created['stateMachineVersionArn']
        self.assertEqual(v1, PREFIX + 'ver:1')
        d = sfn.describe_state_machine(stateMachineArn=v1)
        self.assertEqual((d['stateMachineArn'], d['description']), (v1, 'first'))
        self.assertEqual(json.loads(d['definition'])['States']['P']['Result'], 'v1')
        # Publishing the same revision again gives the same version.
        self.assertEqual(sfn.publish_state_machine_version(stateMachineArn=arn)
                         ['stateMachineVersionArn'], v1)
        updated = sfn.update_state_machine(stateMachineArn=arn, definition=pass_machine('v2'),
                                           publish=True, versionDescription='second')
        v2 = updated['stateMachineVersionArn']
        self.assertEqual(v2, PREFIX + 'ver:2')
        self.assertError(('ConflictException', 400), sfn.publish_state_machine_version,
                         stateMachineArn=arn, revisionId='not-the-current-one')
        self.assertEqual(sfn.publish_state_machine_version(
            stateMachineArn=arn, revisionId=updated['revisionId'])['stateMachineVersionArn'], v2)
        # The machine moves on; versions keep their definitions.
        sfn.update_state_machine(stateMachineArn=arn, definition=pass_machine('v3'))

        page = sfn.list_state_machine_versions(stateMachineArn=arn, maxResults=1)
        self.assertEqual([v['stateMachineVersionArn'] for v in page['stateMachineVersions']], [v2])
        rest = sfn.list_state_machine_versions(stateMachineArn=arn, nextToken=page['nextToken'])
        self.assertEqual([v['stateMachineVersionArn'] for v in rest['stateMachineVersions']], [v1])
        self.assertNotIn('nextToken', rest)
        self.assertError(('InvalidToken', 400), sfn.list_state_machine_versions,
                         stateMachineArn=arn, nextToken='garbage')

        # Executions on the machine, a version, an alias.
        def run(target, name):
            execution = sfn.start_execution(stateMachineArn=target, name=name)['executionArn']
            self.assertEqual(execution, 'arn:aws:states:us-east-1:000000000000:execution:ver:' + name)
            d = self.wait(execution)
            self.assertEqual(d['status'], 'SUCCEEDED')
            self.assertEqual(d['stateMachineArn'], arn)
            return d
        d = run(arn, 'on-machine')
        self.assertEqual(json.loads(d['output']), 'v3')
        self.assertNotIn('stateMachineVersionArn', d)
        d = run(v1, 'on-v1')
        self.assertEqual((json.loads(d['output']), d['stateMachineVersionArn']), ('v1', v1))
        self.assertNotIn('stateMachineAliasArn', d)

        alias = sfn.create_state_machine_alias(
            name='prod', description='live',
            routingConfiguration=[{'stateMachineVersionArn': v1, 'weight': 100}])
        alias_arn = alias['stateMachineAliasArn']
        self.assertEqual(alias_arn, PREFIX + 'ver:prod')
        # Idempotent with the same configuration; a different one conflicts.
        self.assertEqual(sfn.create_state_machine_alias(
            name='prod', description='live',
            routingConfiguration=[{'stateMachineVersionArn': v1, 'weight': 100}])
            ['stateMachineAliasArn'], alias_arn)
        self.assertError(('ConflictException', 400), sfn.create_state_machine_alias, name='prod',
                         routingConfiguration=[{'stateMachineVersionArn': v2, 'weight': 100}])
        d = run(alias_arn, 'on-alias')
        self.assertEqual((json.loads(d['output']), d['stateMachineVersionArn'],
                          d['stateMachineAliasArn']), ('v1', v1, alias_arn))
        described = sfn.describe_state_machine_for_execution(executionArn=d['executionArn'])
        self.assertEqual(json.loads(described['definition'])['States']['P']['Result'], 'v1')
        self.assertEqual((described['stateMachineArn'], described['name']), (arn, 'ver'))
        self.assertError(('ExecutionDoesNotExist', 400), sfn.describe_state_machine_for_execution,
                         executionArn='arn:aws:states:us-east-1:000000000000:execution:ver:none')
        self.assertError(('InvalidArn', 400), sfn.describe_state_machine_for_execution,
                         executionArn='not-an-arn')

        a = sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
        self.assertEqual((a['name'], a['description'], a['routingConfiguration']),
                         ('prod', 'live', [{'stateMachineVersionArn': v1, 'weight': 100}]))
        self.assertIn('creationDate', a)
        self.assertIn('updateDate', a)
        # The alias holds version 1.
        self.assertError(('ConflictException', 400), sfn.delete_state_machine_version,
                         stateMachineVersionArn=v1)
        listed = sfn.list_state_machine_aliases(stateMachineArn=arn)['stateMachineAliases']
        self.assertEqual([x['stateMachineAliasArn'] for x in listed], [alias_arn])
        self.assertEqual(sfn.list_state_machine_aliases(stateMachineArn=v2)
                         ['stateMachineAliases'], [])
        # ListExecutions on a version or an alias lists what ran through it.
        on_alias = sfn.list_executions(stateMachineArn=alias_arn)['executions']
        self.assertEqual([x['name'] for x in on_alias], ['on-alias'])
        on_v1 = sfn.list_executions(stateMachineArn=v1)['executions']
        self.assertEqual(sorted(x['name'] for x in on_v1), ['on-alias', 'on-v1'])

        # Weighted routing between two versions.
        sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, routingConfiguration=[
            {'stateMachineVersionArn': v1, 'weight': 50},
            {'stateMachineVersionArn': v2, 'weight': 50}])
        outputs = set()
        for i in range(40):
            execution = sfn.start_execution(stateMachineArn=alias_arn,
                                            name='split-%d' % i)['executionArn']
            outputs.add(json.loads(self.wait(execution)['output']))
        self.assertEqual(outputs, {'v1', 'v2'})
        sfn.update_state_machine_alias(stateMachineAliasArn=alias_arn, description='moved',
                                       routingConfiguration=[
                                           {'stateMachineVersionArn': v2, 'weight': 100}])
        self.assertEqual(json.loads(run(alias_arn, 'after-move')['output']), 'v2')
        self.assertEqual(sfn.describe_state_machine_alias(stateMachineAliasArn=alias_arn)
                         ['description'], 'moved')

        # Routing configurations AWS refuses.
        for routing, code in (
                ([{'stateMachineVersionArn': v1, 'weight': 60},
                  {'stateMachineVersionArn': v2, 'weight': 30}], 'ValidationException'),
                ([{'stateMachineVersionArn': v1, 'weight': 100},
                  {'stateMachineVersionArn': v1, 'weight': 0}], 'ValidationException'),
                ([{'stateMachineVersionArn': v1, 'weight': 34},
                  {'stateMachineVersionArn': v2, 'weight': 33},
                  {'stateMachineVersionArn': PREFIX + 'ver:3', 'weight': 33}],
                 'ValidationException'),
                ([], 'ValidationException'),
                ([{'stateMachineVersionArn': PREFIX + 'ver:9', 'weight': 100}],
                 'ResourceNotFound'),
                ([{'stateMachineVersionArn': arn, 'weight': 100}], 'InvalidArn')):
            self.assertError((code, 400), sfn.create_state_machine_alias, name='bad',
                             routingConfiguration=routing)
        self.assertError(('InvalidName', 400), sfn.create_state_machine_alias, name='12',
                         routingConfiguration=[{'stateMachineVersionArn': v1, 'weight': 100}])
        self.assertError(('ResourceNotFound', 400), sfn.describe_state_machine_alias,
                         stateMachineAliasArn=PREFIX + 'ver:nope')
        self.assertError(('ResourceNotFound', 400), sfn.start_execution,
                         stateMachineArn=PREFIX + 'ver:nope')
        self.assertError(('StateMachineDoesNotExist', 400), sfn.start_execution,
                         stateMachineArn=PREFIX + 'ver:9')
        self.assertError(('ResourceNotFound', 400), sfn.update_state_machine_alias,
                         stateMachineAliasArn=PREFIX + 'ver:nope', description='x')
        self.assertError(('ValidationException', 400), sfn.update_state_machine_alias,
                         stateMachineAliasArn=alias_arn)
        self.assertError(('InvalidToken', 400), sfn.list_state_machine_aliases,
                         stateMachineArn=arn, nextToken='garbage')

        # Deleting: the alias, then the version it held; then the version is gone.
        sfn.delete_state_machine_version(stateMachineVersionArn=v1)  # no alias holds it now
        self.assertError(('StateMachineDoesNotExist', 400), sfn.start_execution,
                         stateMachineArn=v1)
        sfn.delete_state_machine_alias(stateMachineAliasArn=alias_arn)
        self.assertError(('ResourceNotFound', 400), sfn.delete_state_machine_alias,
                         stateMachineAliasArn=alias_arn)
        sfn.delete_state_machine_version(stateMachineVersionArn=v2)
        sfn.delete_state_machine_version(stateMachineVersionArn=v2)  # idempotent
        self.assertEqual(sfn.list_state_machine_versions(stateMachineArn=arn)
                         ['stateMachineVersions'], [])
        # Numbers are never given twice.
        self.assertEqual(sfn.publish_state_machine_version(stateMachineArn=arn)
                         ['stateMachineVersionArn'], PREFIX + 'ver:3')
        sfn.delete_state_machine(stateMachineArn=arn)
        self.assertError(('StateMachineDoesNotExist', 400), sfn.list_state_machine_versions,
                         stateMachineArn=arn)

    def test_start_sync_execution_on_a_version_or_alias(self):
        sfn = self.sfn
        created = sfn.create_state_machine(name='syncver', definition=pass_machine('one'),
                                           roleArn=ROLE, type='EXPRESS', publish=True)
        arn, v1 = created['stateMachineArn'], created['stateMachineVersionArn']
        sfn.update_state_machine(stateMachineArn=arn, definition=pass_machine('two'))
        alias_arn = sfn.create_state_machine_alias(
            name='live', routingConfiguration=[{'stateMachineVersionArn': v1, 'weight': 100}]
        )['stateMachineAliasArn']
        for target, name, expected in ((v1, 'by-version', 'one'), (alias_arn, 'by-alias', 'one'),
                                       (arn, 'by-machine', 'two')):
            out = sfn.raw('StartSyncExecution', stateMachineArn=target, name=name, input='{}')
            self.assertEqual((out['status'], json.loads(out['output']), out['name'],
                              out['stateMachineArn']), ('SUCCEEDED', expected, name, arn))
            self.assertTrue(out['executionArn'].startswith(
                'arn:aws:states:us-east-1:000000000000:express:syncver:' + name + ':'))
        self.assertError(('ResourceNotFound', 400), sfn.raw, 'StartSyncExecution',
                         stateMachineArn=arn + ':nope')
        self.assertError(('StateMachineDoesNotExist', 400), sfn.raw, 'StartSyncExecution',
                         stateMachineArn=arn + ':9')
        standard = sfn.create_state_machine(name='syncstd', definition=pass_machine('s'),
                                            roleArn=ROLE, publish=True)
        for target in (standard['stateMachineArn'], standard['stateMachineVersionArn']):
            self.assertError(('StateMachineTypeNotSupported', 400), sfn.raw,
                             'StartSyncExecution', stateMachineArn=target)

    def test_tags(self):
        sfn = self.sfn
        arn = sfn.create_state_machine(name='tagged', definition=pass_machine(1), roleArn=ROLE,
                                       tags=[{'key': 'team', 'value': 'core'}])['stateMachineArn']
        self.assertEqual(sfn.list_tags_for_resource(resourceArn=arn)['tags'],
                         [{'key': 'team', 'value': 'core'}])
        sfn.tag_resource(resourceArn=arn, tags=[{'key': 'env', 'value': 'dev'},
                                                {'key': 'team', 'value': 'platform'}])
        self.assertEqual(sfn.list_tags_for_resource(resourceArn=arn)['tags'],
                         [{'key': 'env', 'value': 'dev'}, {'key': 'team', 'value': 'platform'}])
        sfn.untag_resource(resourceArn=arn, tagKeys=['team', 'absent'])
        self.assertEqual(sfn.list_tags_for_resource(resourceArn=arn)['tags'],
                         [{'key': 'env', 'value': 'dev'}])
        self.assertError(('TooManyTags', 400), sfn.tag_resource, resourceArn=arn,
                         tags=[{'key': 'k%d' % i, 'value': ''} for i in range(50)])
        self.assertError(('ValidationException', 400), sfn.tag_resource, resourceArn=arn,
                         tags=[{'key': 'x' * 129, 'value': ''}])
        missing = PREFIX + 'absent'
        self.assertError(('ResourceNotFound', 400), sfn.list_tags_for_resource,
                         resourceArn=missing)
        with self.assertRaises(ClientError) as e:
            sfn.raw('ListTagsForResource', resourceArn=missing)
        status, _, body = send('POST', self.server.url, json.dumps({'resourceArn': missing}), {
            'Content-Type': 'application/x-amz-json-1.0',
            'X-Amz-Target': 'AWSStepFunctions.ListTagsForResource'})
        self.assertEqual((status, json.loads(body)['resourceName']), (400, missing))
        self.assertError(('ResourceNotFound', 400), sfn.tag_resource, resourceArn=missing,
                         tags=[{'key': 'a', 'value': 'b'}])
        self.assertError(('InvalidArn', 400), sfn.untag_resource, resourceArn='nope',
                         tagKeys=['a'])
        # Deleting the machine drops its tags: a new machine of that name starts bare.
        sfn.delete_state_machine(stateMachineArn=arn)
        sfn.create_state_machine(name='tagged', definition=pass_machine(1), roleArn=ROLE)
        self.assertEqual(sfn.list_tags_for_resource(resourceArn=arn)['tags'], [])
        sfn.delete_state_machine(stateMachineArn=arn)

    def test_list_executions_pagination_and_errors(self):
        sfn = self.sfn
        arn = sfn.create_state_machine(name='paged', definition=pass_machine(0),
                                       roleArn=ROLE)['stateMachineArn']
        names = ['run-%02d' % i for i in range(7)]
        for name in names:
            self.wait(sfn.start_execution(stateMachineArn=arn, name=name)['executionArn'])
        pages = list(sfn.boto.get_paginator('list_executions').paginate(
            stateMachineArn=arn, PaginationConfig={'PageSize': 3}))
        self.assertEqual([len(p['executions']) for p in pages], [3, 3, 1])
        self.assertEqual([x['name'] for p in pages for x in p['executions']],
                         list(reversed(names)))  # newest first
        listed = sfn.list_executions(stateMachineArn=arn, statusFilter='SUCCEEDED',
                                     maxResults=1000)['executions']
        self.assertEqual(len(listed), 7)
        self.assertEqual(sfn.list_executions(stateMachineArn=arn, statusFilter='RUNNING')
                         ['executions'], [])
        self.assertError(('InvalidToken', 400), sfn.list_executions, stateMachineArn=arn,
                         nextToken='garbage')
        self.assertError(('InvalidToken', 400), sfn.get_execution_history,
                         executionArn=listed[0]['executionArn'], nextToken='garbage')
        # The raw request: AWS checks the enum and the range itself.
        self.assertError(('ValidationException', 400), sfn.raw, 'ListExecutions',
                         stateMachineArn=arn, statusFilter='DONE')
        self.assertError(('ValidationException', 400), sfn.raw, 'ListExecutions',
                         stateMachineArn=arn, maxResults=1001)
        self.assertError(('StateMachineDoesNotExist', 400), sfn.list_executions,
                         stateMachineArn=PREFIX + 'absent')
        machines = [m['name'] for p in sfn.boto.get_paginator('list_state_machines').paginate(
            PaginationConfig={'PageSize': 1}) for m in p['stateMachines']]
        self.assertIn('paged', machines)
        self.assertError(('InvalidToken', 400), sfn.list_state_machines, nextToken='garbage')
        sfn.delete_state_machine(stateMachineArn=arn)

    def test_history_shapes_and_timestamps(self):
        sfn = self.sfn
        arn = sfn.create_state_machine(name='shapes', definition=pass_machine({'a': 1}),
                                       roleArn=ROLE)['stateMachineArn']
        execution = sfn.start_execution(stateMachineArn=arn, input='{"x": 1}')['executionArn']
        self.wait(execution)
        # Every timestamp on the wire is epoch seconds (a JSON number), history events included.
        for operation, body in (('DescribeExecution', {'executionArn': execution}),
                                ('DescribeStateMachine', {'stateMachineArn': arn}),
                                ('ListExecutions', {'stateMachineArn': arn}),
                                ('GetExecutionHistory', {'executionArn': execution})):
            out = sfn.raw(operation, **body)
            stamps = []
            for key in ('startDate', 'stopDate', 'creationDate'):
                if key in out:
                    stamps.append(out[key])
            for item in out.get('executions', []) + out.get('events', []):
                stamps += [item[k] for k in ('startDate', 'stopDate', 'timestamp') if k in item]
            self.assertTrue(stamps, operation)
            for stamp in stamps:
                self.assertIsInstance(stamp, (int, float), (operation, out))
                self.assertLess(abs(stamp - time.time()), 3600)
        events = sfn.raw('GetExecutionHistory', executionArn=execution)['events']
        started = events[0]
        self.assertEqual(started['type'], 'ExecutionStarted')
        self.assertEqual(json.loads(started['executionStartedEventDetails']['input']), {'x': 1})
        bare = sfn.get_execution_history(executionArn=execution, includeExecutionData=False)
        self.assertNotIn('input', bare['events'][0]['executionStartedEventDetails'])
        self.assertNotIn('output', bare['events'][-1]['executionSucceededEventDetails'])
        # reverseOrder by pages.
        pages = list(sfn.boto.get_paginator('get_execution_history').paginate(
            executionArn=execution, reverseOrder=True, PaginationConfig={'PageSize': 2}))
        ids = [e['id'] for p in pages for e in p['events']]
        self.assertEqual(ids, list(range(len(events), 0, -1)))

        # Express executions: no DescribeExecution nor GetExecutionHistory (AWS: InvalidArn).
        express = sfn.create_state_machine(name='shapes-x', definition=pass_machine(1),
                                           roleArn=ROLE, type='EXPRESS')['stateMachineArn']
        x = sfn.start_execution(stateMachineArn=express)['executionArn']
        self.assertIn(':express:', x)
        for fn, key in ((sfn.describe_execution, 'executionArn'),
                        (sfn.get_execution_history, 'executionArn'),
                        (sfn.describe_state_machine_for_execution, 'executionArn')):
            self.assertError(('InvalidArn', 400), fn, **{key: x})
        self.assertError(('StateMachineTypeNotSupported', 400), sfn.list_executions,
                         stateMachineArn=express)
        sfn.delete_state_machine(stateMachineArn=express)
        sfn.delete_state_machine(stateMachineArn=arn)

    def test_test_state(self):
        sfn = self.sfn
        out = sfn.test_state(definition=json.dumps({
            'Type': 'Pass', 'InputPath': '$.in', 'Parameters': {'v.$': '$.n'},
            'ResultPath': '$.r', 'Next': 'Done'}),
            roleArn=ROLE, input='{"in": {"n": 5}}', inspectionLevel='DEBUG')
        self.assertEqual(out['status'], 'SUCCEEDED')
        self.assertEqual(out['nextState'], 'Done')
        self.assertEqual(json.loads(out['output']), {'in': {'n': 5}, 'r': {'v': 5}})
        data = out['inspectionData']
        self.assertEqual(json.loads(data['input']), {'in': {'n': 5}})
        self.assertEqual(json.loads(data['afterInputPath']), {'n': 5})
        self.assertEqual(json.loads(data['afterParameters']), {'v': 5})
        self.assertEqual(json.loads(data['result']), {'v': 5})
        self.assertEqual(json.loads(data['afterResultPath']), {'in': {'n': 5}, 'r': {'v': 5}})
        # INFO: no inspection data.
        out = sfn.test_state(definition=json.dumps({'Type': 'Pass', 'End': True}),
                             roleArn=ROLE, input='{"a": 1}')
        self.assertEqual((out['status'], json.loads(out['output'])), ('SUCCEEDED', {'a': 1}))
        self.assertNotIn('inspectionData', out)
        self.assertNotIn('nextState', out)
        # Choice picks the next state.
        out = sfn.test_state(definition=json.dumps({
            'Type': 'Choice', 'Choices': [{'Variable': '$.n', 'NumericGreaterThan': 3,
                                           'Next': 'Big'}], 'Default': 'Small'}),
            roleArn=ROLE, input='{"n": 4}')
        self.assertEqual((out['status'], out['nextState']), ('SUCCEEDED', 'Big'))
        # Fail.
        out = sfn.test_state(definition=json.dumps({'Type': 'Fail', 'Error': 'E', 'Cause': 'c'}),
                             roleArn=ROLE)
        self.assertEqual((out['status'], out['error'], out['cause']), ('FAILED', 'E', 'c'))
        # Variables are visible to the state.
        out = sfn.test_state(definition=json.dumps({
            'Type': 'Pass', 'Parameters': {'seen.$': '$greeting'}, 'End': True}),
            roleArn=ROLE, variables='{"greeting": "hi"}', inspectionLevel='TRACE')
        self.assertEqual(json.loads(out['output']), {'seen': 'hi'})
        self.assertEqual(json.loads(out['inspectionData']['variables']), {'greeting': 'hi'})
        # A mocked state sees TestState's context as it is ($$ and $states.context), and AWS's
        # refusals of a context are ValidationExceptions.
        given = {'Execution': {'Input': {'given': True}}, 'State': {'Name': 'Mine'}}
        out = sfn.test_state(definition=json.dumps({
            'Type': 'Task', 'Resource': 'arn:aws:states:::lambda:invoke',
            'ResultSelector': {'ctx.$': '$$', 'r.$': '$'}, 'End': True}),
            roleArn=ROLE, mock={'result': '{"ok": 1}'}, context=json.dumps(given))
        self.assertEqual(json.loads(out['output']), {'ctx': given, 'r': {'ok': 1}}, out)
        out = sfn.test_state(definition=json.dumps({
            'Type': 'Task', 'QueryLanguage': 'JSONata', 'Resource': 'arn:aws:states:::lambda:invoke',
            'Output': '{% $states.context.State.Name %}', 'End': True}),
            roleArn=ROLE, mock={'result': '{}'}, context=json.dumps(given))
        self.assertEqual(json.loads(out['output']), 'Mine', out)
        with self.assertRaises(ClientError) as refused:
            sfn.test_state(definition=json.dumps({
                'Type': 'Task', 'Resource': 'arn:aws:states:::lambda:invoke', 'End': True}),
                roleArn=ROLE, mock={'result': '{}'}, context='{"Map": {}}')
        self.assertEqual(refused.exception.response['Error']['Code'], 'ValidationException')
        self.assertIn("'Map' field is not supported", str(refused.exception))
        # A Wait state does not wait.
        began = time.time()
        out = sfn.test_state(definition=json.dumps({'Type': 'Wait', 'Seconds': 3600,
                                                    'Next': 'After'}), roleArn=ROLE)
        self.assertEqual((out['status'], out['nextState']), ('SUCCEEDED', 'After'))
        self.assertLess(time.time() - began, 600)

        # A Task invokes its function for real; Retry is reported, Catch is applied.
        self.lam.create_function(
            FunctionName='ts-echo', Runtime='python3.11', Handler='h.handler', Role=ROLE,
            Code={'ZipFile': zip_of({'h.py': 'def handler(e, c):\n    return {"got": e}\n'})})
        self.lam.create_function(
            FunctionName='ts-fail', Runtime='python3.11', Handler='h.handler', Role=ROLE,
            Code={'ZipFile': zip_of({'h.py': 'def handler(e, c):\n    raise KeyError("k")\n'})})
        fn = 'arn:aws:lambda:us-east-1:000000000000:function:'
        out = sfn.test_state(definition=json.dumps({
            'Type': 'Task', 'Resource': fn + 'ts-echo', 'ResultSelector': {'g.$': '$.got'},
            'End': True}), roleArn=ROLE, input='{"q": 1}', inspectionLevel='DEBUG')
        self.assertEqual(out['status'], 'SUCCEEDED', out)
        self.assertEqual(json.loads(out['output']), {'g': {'q': 1}})
        self.assertEqual(json.loads(out['inspectionData']['result']), {'got': {'q': 1}})
        self.assertEqual(json.loads(out['inspectionData']['afterResultSelector']),
                         {'g': {'q': 1}})
        failing = {'Type': 'Task', 'Resource': fn + 'ts-fail', 'End': True}
        out = sfn.test_state(definition=json.dumps(failing), roleArn=ROLE)
        self.assertEqual((out['status'], out['error']), ('FAILED', 'KeyError'), out)
        out = sfn.test_state(definition=json.dumps(dict(failing, Retry=[
            {'ErrorEquals': ['States.ALL'], 'MaxAttempts': 5}])), roleArn=ROLE)
        self.assertEqual((out['status'], out['error']), ('RETRIABLE', 'KeyError'), out)
        del failing['End']
        out = sfn.test_state(definition=json.dumps(dict(failing, Next='Ok', Catch=[
            {'ErrorEquals': ['KeyError'], 'ResultPath': '$.err', 'Next': 'Recover'}])),
            roleArn=ROLE, input='{"keep": true}')
        self.assertEqual((out['status'], out['error'], out['nextState']),
                         ('CAUGHT_ERROR', 'KeyError', 'Recover'), out)
        self.assertEqual(json.loads(out['output'])['keep'], True)
        self.assertEqual(json.loads(out['output'])['err']['Error'], 'KeyError')

        # Bad requests.
        self.assertError(('InvalidDefinition', 400), sfn.test_state, roleArn=ROLE,
                         definition='{"Type": "Nope"}')
        self.assertError(('InvalidDefinition', 400), sfn.test_state, roleArn=ROLE,
                         definition='not json')
        self.assertError(('InvalidExecutionInput', 400), sfn.test_state, roleArn=ROLE,
                         definition='{"Type": "Pass", "End": true}', input='{bad')
        self.assertError(('ValidationException', 400), sfn.raw, 'TestState', roleArn=ROLE,
                         definition='{"Type": "Pass", "End": true}', inspectionLevel='LOUD')
        self.assertError(('ValidationException', 400), sfn.raw, 'TestState', roleArn=ROLE)

    def test_aws_cli(self):
        clis = aws_clis()
        if not clis:
            self.skipTest('no AWS CLI installed')
        env = dict(os.environ, AWS_ACCESS_KEY_ID='k', AWS_SECRET_ACCESS_KEY='s',
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER='', AWS_MAX_ATTEMPTS='1',
                   AWS_DISABLE_HOST_PREFIX_INJECTION='true')  # test-state: no "sync-" host
        for i, cli in enumerate(clis):
            commands = subprocess.run([cli, 'stepfunctions', 'help'], capture_output=True,
                                      text=True, env=dict(env, MANPAGER='cat', PAGER='cat'),
                                      timeout=120).stdout

            def has(command):
                return command in commands

            def aws(*args, cli=cli, fails=False):
                p = subprocess.run([cli, '--endpoint-url', self.server.url, 'stepfunctions',
                                    *args], capture_output=True, text=True, env=env, timeout=120)
                # A service error: 255 from CLI v1, 254 from v2 (252/255 for a bad token).
                if fails:
                    self.assertNotEqual(p.returncode, 0, (cli, args, p.stdout))
                    return p.stderr
                self.assertEqual(p.returncode, 0, (cli, args, p.stdout, p.stderr))
                return json.loads(p.stdout) if p.stdout.strip() else {}
            name = 'cli-%d' % i
            arn = aws('create-state-machine', '--name', name, '--definition', pass_machine('a'),
                      '--role-arn', ROLE, '--tags', 'key=team,value=core')['stateMachineArn']
            self.assertEqual(aws('list-tags-for-resource', '--resource-arn', arn)['tags'],
                             [{'key': 'team', 'value': 'core'}])
            aws('tag-resource', '--resource-arn', arn, '--tags', 'key=env,value=dev')
            aws('untag-resource', '--resource-arn', arn, '--tag-keys', 'team')
            self.assertEqual(aws('list-tags-for-resource', '--resource-arn', arn)['tags'],
                             [{'key': 'env', 'value': 'dev'}])
            err = aws('list-tags-for-resource', '--resource-arn', PREFIX + 'absent', fails=True)
            self.assertIn('ResourceNotFound', err)
            for n in range(3):
                execution = aws('start-execution', '--state-machine-arn', arn, '--name',
                                'e%d' % n)['executionArn']
                self.wait(execution)
            # The CLI follows nextToken itself: 3 executions in pages of 1.
            listed = aws('list-executions', '--state-machine-arn', arn, '--page-size', '1')
            self.assertEqual(len(listed['executions']), 3)
            one = aws('list-executions', '--state-machine-arn', arn, '--max-items', '1')
            self.assertEqual(len(one['executions']), 1)
            self.assertIn('NextToken', one)
            err = aws('list-executions', '--state-machine-arn', arn, '--starting-token',
                      'garbage', fails=True)
            self.assertTrue('InvalidToken' in err or 'token' in err.lower(), err)
            history = aws('get-execution-history', '--execution-arn', execution,
                          '--reverse-order', '--no-include-execution-data')
            self.assertEqual(history['events'][0]['type'], 'ExecutionSucceeded')
            self.assertNotIn('output', history['events'][0]['executionSucceededEventDetails'])
            d = aws('describe-state-machine-for-execution', '--execution-arn', execution)
            self.assertEqual(d['name'], name)
            if has('publish-state-machine-version'):
                v1 = aws('publish-state-machine-version', '--state-machine-arn', arn,
                         '--description', 'one')['stateMachineVersionArn']
                self.assertEqual(v1, arn + ':1')
                aws('update-state-machine', '--state-machine-arn', arn, '--definition',
                    pass_machine('b'), '--publish')
                versions = aws('list-state-machine-versions', '--state-machine-arn',
                               arn)['stateMachineVersions']
                self.assertEqual([v['stateMachineVersionArn'] for v in versions],
                                 [arn + ':2', v1])
                alias = aws('create-state-machine-alias', '--name', 'live',
                            '--routing-configuration',
                            'stateMachineVersionArn=%s,weight=100' % v1)['stateMachineAliasArn']
                self.assertEqual(aws('describe-state-machine-alias', '--state-machine-alias-arn',
                                     alias)['routingConfiguration'],
                                 [{'stateMachineVersionArn': v1, 'weight': 100}])
                self.assertEqual(len(aws('list-state-machine-aliases', '--state-machine-arn',
                                         arn)['stateMachineAliases']), 1)
                execution = aws('start-execution', '--state-machine-arn', alias)['executionArn']
                d = self.wait(execution)
                self.assertEqual((json.loads(d['output']), d['stateMachineAliasArn']),
                                 ('a', alias))
                err = aws('delete-state-machine-version', '--state-machine-version-arn', v1,
                          fails=True)
                self.assertIn('ConflictException', err)
                aws('update-state-machine-alias', '--state-machine-alias-arn', alias,
                    '--routing-configuration',
                    'stateMachineVersionArn=%s,weight=100' % (arn + ':2'))
                aws('delete-state-machine-alias', '--state-machine-alias-arn', alias)
                aws('delete-state-machine-version', '--state-machine-version-arn', v1)
            if has('test-state'):
                out = aws('test-state', '--definition', '{"Type":"Pass","Result":7,"Next":"N"}',
                          '--role-arn', ROLE, '--inspection-level', 'DEBUG')
                self.assertEqual((out['status'], out['nextState'], json.loads(out['output'])),
                                 ('SUCCEEDED', 'N', 7))
                self.assertEqual(json.loads(out['inspectionData']['result']), 7)
            aws('delete-state-machine', '--state-machine-arn', arn)


if __name__ == '__main__':
    if len(sys.argv) < 3:
        sys.exit('usage: sfn_api_test.py SWITCHYARD SRC')
    api_test.BIN = os.path.abspath(sys.argv[1])
    api_test.SRC = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], '-v'] + sys.argv[3:])
