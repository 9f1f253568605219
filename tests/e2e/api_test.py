#!/usr/bin/env python3
"""End-to-end tests of `switchyard serve`: the real binary driven by boto3 and the AWS CLI.

Usage: api_test.py PATH/TO/switchyard PROJECT_SOURCE_DIR
Runs under Debian's python3 (python3-boto3). The AWS CLI checks run with every CLI found
(`aws` on PATH, /usr/bin/aws), v1 or v2.
"""
import base64
import datetime
import json
import os
import shutil
import signal
import socket
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
from e2e_common import aws_clis, error_code, send, signed_send, zip_of  # noqa: E402,F401

BIN = None
SRC = None

KEY_A = ('AKIDSWITCHYARDA', 'secret/A+key')
KEY_B = ('AKIDSWITCHYARDB', 'secret-B-key')
REGION = 'us-east-1'


HELLO_ZIP = None
FAILING_ZIP = zip_of({'fail.py': 'def handler(event, context):\n    raise ValueError("boom")\n'})


class Server(e2e_common.Server):
    """One `switchyard serve` process on a free port."""

    def __init__(self, *args, env=None):
        super().__init__(BIN, *args, env=env, prefix='switchyard-api-e2e-')


def client(server, service, key=KEY_A, retries=0):
    return boto3.client(service, endpoint_url=server.url, region_name=REGION,
                        aws_access_key_id=key[0], aws_secret_access_key=key[1],
                        config=Config(retries={'max_attempts': retries + 1},
                                      read_timeout=60, connect_timeout=10))


def signed_request(server, method, path, body=b'', headers=None, key=KEY_A, service='lambda',
                   when=None):
    """Signs a raw request with botocore's own SigV4 signer (optionally at another time)."""
    return signed_send(method, server.url + path, body, headers, key=key, service=service,
                       when=when, region=REGION)


class Authenticated(unittest.TestCase):
    """A server with a credentials file of two profiles."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix='switchyard-api-creds-')
        cls.credentials = os.path.join(cls.tmp, 'credentials')
        with open(cls.credentials, 'w') as f:
            f.write('[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n'
                    '[ci]\naws_access_key_id=%s\naws_secret_access_key=%s\n' % (KEY_A + KEY_B))
        cls.server = Server('--credentials-file', cls.credentials, '--functions-dir',
                            os.path.join(SRC, 'examples', 'functions'), '--read-timeout-ms', '2000')
        cls.lam = client(cls.server, 'lambda')

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, code

    def create(self, name, zip_bytes=None, handler='handler.handler', **extra):
        return self.lam.create_function(
            FunctionName=name, Runtime='python3.11', Handler=handler,
            Role='arn:aws:iam::000000000000:role/test', Code={'ZipFile': zip_bytes or HELLO_ZIP},
            **extra)

    def test_functions_dir_is_registered(self):
        names = [f['FunctionName'] for f in self.lam.list_functions()['Functions']]
        for name in ('hello', 'hello-node', 'hello-shell'):
            self.assertIn(name, names)
        out = self.lam.invoke(FunctionName='hello-shell', Payload=b'{"name":"sh"}')
        self.assertEqual(out['StatusCode'], 200)

    def test_create_get_invoke_update_delete(self):
        created = self.create('e2e-hello', Environment={'Variables': {'GREETING': 'Hey'}})
        self.assertEqual(created['FunctionArn'],
                         'arn:aws:lambda:us-east-1:000000000000:function:e2e-hello')
        self.assertEqual(created['CodeSize'], len(HELLO_ZIP))
        with self.assertRaises(ClientError) as e:
            self.create('e2e-hello')
        self.assertEqual(error_code(e.exception), ('ResourceConflictException', 409))

        got = self.lam.get_function(FunctionName='e2e-hello')
        self.assertEqual(got['Configuration']['Handler'], 'handler.handler')
        self.assertEqual(got['Configuration']['Environment']['Variables'], {'GREETING': 'Hey'})

        out = self.lam.invoke(FunctionName='e2e-hello', Payload=b'{"name":"Ada"}', LogType='Tail')
        self.assertEqual(out['StatusCode'], 200)
        self.assertEqual(json.loads(out['Payload'].read()), {'greeting': 'Hey, Ada!'})
        self.assertEqual(out['ExecutedVersion'], '$LATEST')
        log = base64.b64decode(out['LogResult']).decode()
        self.assertIn('greeting Ada', log)
        self.assertIn('REPORT RequestId:', log)

        # By ARN, and asynchronously.
        arn = created['FunctionArn']
        out = self.lam.invoke(FunctionName=arn, Payload=b'{"name":"Arn"}')
        self.assertEqual(json.loads(out['Payload'].read()), {'greeting': 'Hey, Arn!'})
        self.assertEqual(self.lam.invoke(FunctionName='e2e-hello', InvocationType='Event',
                                         Payload=b'{}')['StatusCode'], 202)
        self.assertEqual(self.lam.invoke(FunctionName='e2e-hello', InvocationType='DryRun')
                         ['StatusCode'], 204)

        updated = self.lam.update_function_configuration(
            FunctionName='e2e-hello', Timeout=10, Environment={'Variables': {'GREETING': 'Yo'}})
        self.assertEqual(updated['Timeout'], 10)
        out = self.lam.invoke(FunctionName='e2e-hello', Payload=b'{"name":"B"}')
        self.assertEqual(json.loads(out['Payload'].read()), {'greeting': 'Yo, B!'})

        new_zip = zip_of({'handler.py': 'def handler(e, c):\n    return {"v": 2}\n'})
        code = self.lam.update_function_code(FunctionName='e2e-hello', ZipFile=new_zip)
        self.assertNotEqual(code['CodeSha256'], created['CodeSha256'])
        out = self.lam.invoke(FunctionName='e2e-hello', Payload=b'{}')
        self.assertEqual(json.loads(out['Payload'].read()), {'v': 2})

        self.lam.delete_function(FunctionName='e2e-hello')
        with self.assertRaises(ClientError) as e:
            self.lam.get_function(FunctionName='e2e-hello')
        self.assertEqual(error_code(e.exception), ('ResourceNotFoundException', 404))
        self.assertEqual(e.exception.response['Error']['Message'],
                         'Function not found: arn:aws:lambda:us-east-1:000000000000:function:e2e-hello')
        with self.assertRaises(ClientError) as e:
            self.lam.invoke(FunctionName='e2e-hello', Payload=b'{}')
        self.assertEqual(error_code(e.exception), ('ResourceNotFoundException', 404))

    def test_function_error(self):
        self.create('e2e-fail', FAILING_ZIP, handler='fail.handler')
        out = self.lam.invoke(FunctionName='e2e-fail', Payload=b'{}')
        self.assertEqual(out['StatusCode'], 200)
        self.assertEqual(out['FunctionError'], 'Unhandled')
        body = json.loads(out['Payload'].read())
        self.assertEqual(body['errorType'], 'ValueError')
        self.assertEqual(body['errorMessage'], 'boom')
        self.lam.delete_function(FunctionName='e2e-fail')

    def test_list_functions_paginates(self):
        for i in range(3):
            self.create('e2e-page-%d' % i)
        pages = list(self.lam.get_paginator('list_functions').paginate(
            PaginationConfig={'PageSize': 2}))
        self.assertGreater(len(pages), 1)
        names = [f['FunctionName'] for p in pages for f in p['Functions']]
        self.assertEqual(len(names), len(set(names)))
        for i in range(3):
            self.assertIn('e2e-page-%d' % i, names)
            self.lam.delete_function(FunctionName='e2e-page-%d' % i)

    def test_versions_aliases_concurrency(self):
        self.create('e2e-ver')
        v1 = self.lam.publish_version(FunctionName='e2e-ver')
        self.assertEqual(v1['Version'], '1')
        self.lam.update_function_configuration(
            FunctionName='e2e-ver', Environment={'Variables': {'GREETING': 'V2'}})
        self.assertEqual(self.lam.publish_version(FunctionName='e2e-ver')['Version'], '2')
        versions = [v['Version'] for v in
                    self.lam.list_versions_by_function(FunctionName='e2e-ver')['Versions']]
        self.assertEqual(versions, ['$LATEST', '1', '2'])
        alias = self.lam.create_alias(FunctionName='e2e-ver', Name='live', FunctionVersion='1')
        self.assertEqual(alias['AliasArn'],
                         'arn:aws:lambda:us-east-1:000000000000:function:e2e-ver:live')
        out = self.lam.invoke(FunctionName='e2e-ver', Qualifier='live', Payload=b'{"name":"A"}')
        self.assertEqual(json.loads(out['Payload'].read()), {'greeting': 'Hello, A!'})
        self.assertEqual(out['ExecutedVersion'], '1')
        self.lam.update_alias(FunctionName='e2e-ver', Name='live', FunctionVersion='2')
        self.assertEqual(self.lam.get_alias(FunctionName='e2e-ver', Name='live')
                         ['FunctionVersion'], '2')
        self.assertEqual([a['Name'] for a in self.lam.list_aliases(FunctionName='e2e-ver')
                          ['Aliases']], ['live'])
        self.lam.delete_alias(FunctionName='e2e-ver', Name='live')
        with self.assertRaises(ClientError) as e:
            self.lam.get_alias(FunctionName='e2e-ver', Name='live')
        self.assertEqual(error_code(e.exception), ('ResourceNotFoundException', 404))

        self.lam.put_function_concurrency(FunctionName='e2e-ver', ReservedConcurrentExecutions=0)
        self.assertEqual(self.lam.get_function_concurrency(FunctionName='e2e-ver')
                         ['ReservedConcurrentExecutions'], 0)
        with self.assertRaises(ClientError) as e:
            self.lam.invoke(FunctionName='e2e-ver', Payload=b'{}')
        self.assertEqual(error_code(e.exception), ('TooManyRequestsException', 429))
        self.lam.delete_function_concurrency(FunctionName='e2e-ver')
        self.assertEqual(self.lam.invoke(FunctionName='e2e-ver', Payload=b'{}')['StatusCode'], 200)
        settings = self.lam.get_account_settings()
        self.assertEqual(settings['AccountLimit']['ConcurrentExecutions'], 1000)
        self.assertGreaterEqual(settings['AccountUsage']['FunctionCount'], 1)
        self.lam.delete_function(FunctionName='e2e-ver')

    def test_every_profiles_key_is_accepted(self):
        other = client(self.server, 'lambda', KEY_B)
        self.assertIn('Functions', other.list_functions())

    def test_bad_signature_and_unknown_key(self):
        wrong_secret = client(self.server, 'lambda', (KEY_A[0], 'not-the-secret'))
        with self.assertRaises(ClientError) as e:
            wrong_secret.list_functions()
        self.assertEqual(error_code(e.exception), ('InvalidSignatureException', 403))
        self.assertIn('The request signature we calculated does not match',
                      e.exception.response['Error']['Message'])
        unknown = client(self.server, 'lambda', ('AKIDUNKNOWN', 'whatever'))
        with self.assertRaises(ClientError) as e:
            unknown.list_functions()
        self.assertEqual(error_code(e.exception), ('UnrecognizedClientException', 403))
        self.assertEqual(e.exception.response['Error']['Message'],
                         'The security token included in the request is invalid.')
        # Step Functions' JSON 1.0 shape for the same failure.
        sfn = client(self.server, 'stepfunctions', ('AKIDUNKNOWN', 'whatever'))
        with self.assertRaises(ClientError) as e:
            sfn.list_state_machines()
        self.assertEqual(error_code(e.exception), ('UnrecognizedClientException', 403))

    def test_expired_and_unsigned_requests(self):
        old = datetime.datetime.utcnow() - datetime.timedelta(minutes=20)
        status, headers, body = signed_request(self.server, 'GET', '/2015-03-31/functions/',
                                               when=old)
        self.assertEqual(status, 403)
        self.assertEqual(headers.get('x-amzn-ErrorType'), 'InvalidSignatureException')
        self.assertTrue(json.loads(body)['message'].startswith('Signature expired: '), body)
        self.assertIn(' - 15 min.)', json.loads(body)['message'])
        status, headers, body = send('GET', self.server.url + '/2015-03-31/functions/')
        self.assertEqual(status, 403)
        self.assertEqual(headers.get('x-amzn-ErrorType'), 'MissingAuthenticationTokenException')

    def test_malformed_json_and_unknown_operation(self):
        status, headers, body = signed_request(self.server, 'POST', '/2015-03-31/functions',
                                               b'{"FunctionName": ', {'Content-Type': 'application/json'})
        self.assertEqual(status, 400)
        self.assertEqual(headers.get('x-amzn-ErrorType'), 'InvalidRequestContentException')
        target = {'X-Amz-Target': 'AWSStepFunctions.ValidateStateMachineDefinition',
                  'Content-Type': 'application/x-amz-json-1.0'}
        status, _, body = signed_request(self.server, 'POST', '/', b'{nope', target,
                                         service='states')
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)['__type'], 'SerializationException')
        target['X-Amz-Target'] = 'AWSStepFunctions.NoSuchOperation'
        status, _, body = signed_request(self.server, 'POST', '/', b'{}', target, service='states')
        self.assertEqual(status, 400)
        self.assertEqual(json.loads(body)['__type'], 'UnknownOperationException')
        status, headers, _ = signed_request(self.server, 'GET', '/2015-03-31/nothing')
        self.assertEqual(status, 404)
        self.assertEqual(headers.get('x-amzn-ErrorType'), 'UnknownOperationException')

    def test_validate_state_machine_definition(self):
        target = {'X-Amz-Target': 'AWSStepFunctions.ValidateStateMachineDefinition',
                  'Content-Type': 'application/x-amz-json-1.0'}
        with open(os.path.join(SRC, 'examples', 'state_machines', 'hello.asl.json')) as f:
            good = f.read()
        status, _, body = signed_request(self.server, 'POST', '/',
                                         json.dumps({'definition': good}).encode(), target,
                                         service='states')
        self.assertEqual((status, json.loads(body)['result']), (200, 'OK'), body)
        status, _, body = signed_request(
            self.server, 'POST', '/', json.dumps({'definition': '{"StartAt":"A","States":{}}'}).encode(),
            target, service='states')
        result = json.loads(body)
        self.assertEqual(result['result'], 'FAIL')
        self.assertIn('MISSING_TRANSITION_TARGET', [d['code'] for d in result['diagnostics']])

    def test_oversized_bodies(self):
        with self.assertRaises(ClientError) as e:
            self.lam.invoke(FunctionName='hello', Payload=b'"' + b'x' * (6 * 1024 * 1024) + b'"')
        self.assertEqual(error_code(e.exception), ('RequestTooLargeException', 413))
        self.assertEqual(e.exception.response['Error']['Message'],
                         'Request must be smaller than 6291456 bytes for the InvokeFunction operation')
        # Announced too large: refused from the head alone.
        with socket.create_connection(('127.0.0.1', self.server.port), timeout=10) as s:
            s.sendall(b'POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\n'
                      b'Content-Length: 70000000\r\n\r\n')
            head = s.recv(4096).decode()
        self.assertTrue(head.startswith('HTTP/1.1 413'), head)
        # The server still serves.
        self.assertIn('Functions', self.lam.list_functions())

    def test_slow_client_does_not_stop_the_server(self):
        slow = socket.create_connection(('127.0.0.1', self.server.port), timeout=30)
        slow.sendall(b'POST /2015-03-31/functions HTTP/1.1\r\nHost: x\r\nContent-Le')
        self.assertIn('Functions', self.lam.list_functions())
        # The read deadline (2 s here) closes it.
        self.assertEqual(slow.recv(100), b'')
        slow.close()
        self.assertIn('Functions', self.lam.list_functions())

    def test_health_and_metrics(self):
        status, _, body = send('GET', self.server.url + '/health')
        self.assertEqual((status, json.loads(body)), (200, {'status': 'ok', 'database': 'ok'}))
        self.lam.invoke(FunctionName='hello', Payload=b'{}')
        status, headers, body = send('GET', self.server.url + '/metrics')
        self.assertEqual(status, 200)
        self.assertTrue(headers['Content-Type'].startswith('text/plain'))
        text = body.decode()
        self.assertIn('switchyard_lambda_invocations_total{function="hello",outcome="success"}', text)
        self.assertIn('switchyard_api_requests_total{protocol="lambda",operation="Invoke",code="200"}',
                      text)

    def test_aws_cli(self):
        clis = aws_clis()
        if not clis:
            self.skipTest('no AWS CLI installed')
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY_A[0], AWS_SECRET_ACCESS_KEY=KEY_A[1],
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER='', AWS_MAX_ATTEMPTS='1')
        env.pop('AWS_PROFILE', None)
        tmp = tempfile.mkdtemp(prefix='switchyard-cli-')
        try:
            zip_path = os.path.join(tmp, 'f.zip')
            with open(zip_path, 'wb') as f:
                f.write(HELLO_ZIP)
            payload = os.path.join(tmp, 'payload.json')
            with open(payload, 'w') as f:
                f.write('{"name": "cli"}')
            for i, cli in enumerate(clis):
                name = 'e2e-cli-%d' % i

                def aws(*args, cli=cli, environ=env):
                    return subprocess.run([cli, '--endpoint-url', self.server.url, *args],
                                          capture_output=True, text=True, env=environ, timeout=120)

                p = aws('lambda', 'create-function', '--function-name', name, '--runtime',
                        'python3.11', '--handler', 'handler.handler', '--role',
                        'arn:aws:iam::000000000000:role/x', '--zip-file', 'fileb://' + zip_path)
                self.assertEqual(p.returncode, 0, (cli, p.stderr))
                self.assertEqual(json.loads(p.stdout)['FunctionName'], name)
                p = aws('lambda', 'list-functions')
                self.assertEqual(p.returncode, 0, (cli, p.stderr))
                self.assertIn(name, [f['FunctionName'] for f in json.loads(p.stdout)['Functions']])
                out = os.path.join(tmp, 'out.json')
                p = aws('lambda', 'invoke', '--function-name', name, '--payload',
                        'fileb://' + payload, out)
                self.assertEqual(p.returncode, 0, (cli, p.stderr))
                self.assertEqual(json.loads(p.stdout)['StatusCode'], 200)
                with open(out) as f:
                    self.assertEqual(json.load(f), {'greeting': 'Hello, cli!'})
                p = aws('lambda', 'get-function', '--function-name', 'e2e-cli-missing')
                self.assertNotEqual(p.returncode, 0)
                self.assertIn('ResourceNotFoundException', p.stderr)
                p = aws('lambda', 'delete-function', '--function-name', name)
                self.assertEqual(p.returncode, 0, (cli, p.stderr))
                p = aws('lambda', 'list-functions',
                        environ=dict(env, AWS_ACCESS_KEY_ID='AKIDUNKNOWN'))
                self.assertNotEqual(p.returncode, 0)
                self.assertIn('UnrecognizedClientException', p.stderr)
                p = aws('lambda', 'list-functions',
                        environ=dict(env, AWS_SECRET_ACCESS_KEY='wrong'))
                self.assertNotEqual(p.returncode, 0)
                self.assertIn('InvalidSignatureException', p.stderr)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


class StepFunctions(unittest.TestCase):
    """Step Functions operations on the durable engine, with Lambda functions created through the
    API as the tasks (one invoker behind both APIs)."""

    @classmethod
    def setUpClass(cls):
        cls.server = Server()
        cls.sfn = client(cls.server, 'stepfunctions', ('k', 's'))
        cls.lam = client(cls.server, 'lambda', ('k', 's'))
        cls.tmp = tempfile.mkdtemp(prefix='switchyard-sfn-e2e-')

    @classmethod
    def tearDownClass(cls):
        code = cls.server.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)
        assert code == 0, code

    def wait(self, arn, timeout=60):
        deadline = time.time() + timeout
        while True:
            d = self.sfn.describe_execution(executionArn=arn)
            if d['status'] != 'RUNNING' or time.time() > deadline:
                return d
            time.sleep(0.1)

    def test_state_machine_lifecycle_and_errors(self):
        definition = json.dumps({'StartAt': 'P', 'States': {'P': {'Type': 'Pass', 'End': True}}})
        arn = self.sfn.create_state_machine(name='e2e-pass', definition=definition,
                                            roleArn='arn:aws:iam::000000000000:role/r')['stateMachineArn']
        self.assertEqual(arn, 'arn:aws:states:us-east-1:000000000000:stateMachine:e2e-pass')
        d = self.sfn.describe_state_machine(stateMachineArn=arn)
        self.assertEqual((d['name'], d['type'], d['status']), ('e2e-pass', 'STANDARD', 'ACTIVE'))
        self.assertEqual(json.loads(d['definition']), json.loads(definition))
        self.assertIn(arn, [m['stateMachineArn'] for m in
                            self.sfn.list_state_machines()['stateMachines']])
        with self.assertRaises(ClientError) as e:
            self.sfn.create_state_machine(name='e2e-pass', definition=json.dumps(
                {'StartAt': 'Q', 'States': {'Q': {'Type': 'Succeed'}}}), roleArn='arn:aws:iam::000000000000:role/r')
        self.assertEqual(error_code(e.exception), ('StateMachineAlreadyExists', 400))
        with self.assertRaises(ClientError) as e:
            self.sfn.create_state_machine(name='e2e-bad', definition='{"StartAt":"X","States":{}}',
                                          roleArn='arn:aws:iam::000000000000:role/r')
        self.assertEqual(error_code(e.exception), ('InvalidDefinition', 400))
        with self.assertRaises(ClientError) as e:
            self.sfn.describe_state_machine(
                stateMachineArn='arn:aws:states:us-east-1:000000000000:stateMachine:nope')
        self.assertEqual(error_code(e.exception), ('StateMachineDoesNotExist', 400))
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=arn, input='{not json')
        self.assertEqual(error_code(e.exception), ('InvalidExecutionInput', 400))
        # The texts: the name's length as AWS words it (quoted from a recorded AWS answer); the
        # InvalidName and input-size texts are ours (no public record of AWS's).
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=arn, input='"' + 'x' * 262144 + '"')
        self.assertEqual(error_code(e.exception), ('ValidationException', 400))
        self.assertEqual(e.exception.response['Error']['Message'],
                         "1 validation error detected: Value at 'input' failed to satisfy "
                         "constraint: Member must have length less than or equal to 262144")
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=arn, name='bad name')
        self.assertEqual(error_code(e.exception), ('InvalidName', 400))
        self.assertEqual(e.exception.response['Error']['Message'], "Invalid Name: 'bad name'")
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=arn, name='n' * 81)
        self.assertEqual(error_code(e.exception), ('ValidationException', 400))
        self.assertEqual(e.exception.response['Error']['Message'],
                         "1 validation error detected: Value '" + 'n' * 81 + "' at 'name' failed "
                         "to satisfy constraint: Member must have length less than or equal to 80")
        for bad in ('a\ufffeb', 'a\uffffb', 'a\U0010ffffb'):  # the API reference's added ranges
            with self.assertRaises(ClientError) as e:
                self.sfn.start_execution(stateMachineArn=arn, name=bad)
            self.assertEqual(error_code(e.exception), ('InvalidName', 400))
        with self.assertRaises(ClientError) as e:
            self.sfn.describe_execution(
                executionArn='arn:aws:states:us-east-1:000000000000:execution:e2e-pass:none')
        self.assertEqual(error_code(e.exception), ('ExecutionDoesNotExist', 400))
        self.sfn.delete_state_machine(stateMachineArn=arn)

    def test_executions_history_and_lambda_tasks(self):
        self.lam.create_function(FunctionName='e2e-sfn-hello', Runtime='python3.11',
                                 Handler='handler.handler', Role='arn:aws:iam::000000000000:role/r',
                                 Code={'ZipFile': HELLO_ZIP})
        definition = json.dumps({
            'StartAt': 'Hello',
            'States': {
                'Hello': {'Type': 'Task',
                          'Resource': 'arn:aws:lambda:us-east-1:000000000000:function:e2e-sfn-hello',
                          'Next': 'Done'},
                'Done': {'Type': 'Succeed'}}})
        arn = self.sfn.create_state_machine(name='e2e-task', definition=definition,
                                            roleArn='arn:aws:iam::000000000000:role/r')['stateMachineArn']
        started = self.sfn.start_execution(stateMachineArn=arn, name='run-1', input='{"name":"Ada"}')
        self.assertEqual(started['executionArn'],
                         'arn:aws:states:us-east-1:000000000000:execution:e2e-task:run-1')
        # Idempotent by name and input; another input is ExecutionAlreadyExists.
        again = self.sfn.start_execution(stateMachineArn=arn, name='run-1', input='{"name":"Ada"}')
        self.assertEqual(again['executionArn'], started['executionArn'])
        d = self.wait(started['executionArn'])
        self.assertEqual(d['status'], 'SUCCEEDED', d)
        self.assertEqual(json.loads(d['output']), {'greeting': 'Hello, Ada!'})
        with self.assertRaises(ClientError) as e:
            self.sfn.start_execution(stateMachineArn=arn, name='run-1', input='{"name":"Other"}')
        self.assertEqual(error_code(e.exception), ('ExecutionAlreadyExists', 400))

        for i in range(3):
            self.sfn.start_execution(stateMachineArn=arn, name='more-%d' % i, input='{}')
        pages = list(self.sfn.get_paginator('list_executions').paginate(
            stateMachineArn=arn, PaginationConfig={'PageSize': 2}))
        self.assertGreater(len(pages), 1)
        names = [x['name'] for p in pages for x in p['executions']]
        self.assertEqual(sorted(names), ['more-0', 'more-1', 'more-2', 'run-1'])

        events = [ev for p in self.sfn.get_paginator('get_execution_history').paginate(
            executionArn=started['executionArn'], PaginationConfig={'PageSize': 3}) for ev in p['events']]
        types = [ev['type'] for ev in events]
        self.assertEqual(types[0], 'ExecutionStarted')
        self.assertEqual(types[-1], 'ExecutionSucceeded')
        self.assertIn('LambdaFunctionSucceeded', types)
        self.assertEqual([ev['id'] for ev in events], list(range(1, len(events) + 1)))
        newest = self.sfn.get_execution_history(executionArn=started['executionArn'],
                                                reverseOrder=True, maxResults=1)['events']
        self.assertEqual(newest[0]['type'], 'ExecutionSucceeded')

    def test_callback_with_send_task_success_and_stop(self):
        token_file = os.path.join(self.tmp, 'token')
        code = zip_of({'cb.py': 'import os\ndef handler(event, context):\n'
                                '    with open(os.environ["TOKEN_FILE"] + ".tmp", "w") as f:\n'
                                '        f.write(event["token"])\n'
                                '    os.rename(os.environ["TOKEN_FILE"] + ".tmp", os.environ["TOKEN_FILE"])\n'
                                '    return {}\n'})
        self.lam.create_function(FunctionName='e2e-sfn-cb', Runtime='python3.11', Handler='cb.handler',
                                 Role='arn:aws:iam::000000000000:role/r', Code={'ZipFile': code},
                                 Environment={'Variables': {'TOKEN_FILE': token_file}})
        definition = json.dumps({
            'StartAt': 'Wait',
            'States': {'Wait': {
                'Type': 'Task', 'Resource': 'arn:aws:states:::lambda:invoke.waitForTaskToken',
                'Parameters': {'FunctionName': 'e2e-sfn-cb', 'Payload': {'token.$': '$$.Task.Token'}},
                'End': True}}})
        arn = self.sfn.create_state_machine(name='e2e-callback', definition=definition,
                                            roleArn='arn:aws:iam::000000000000:role/r')['stateMachineArn']
        execution = self.sfn.start_execution(stateMachineArn=arn, input='{}')['executionArn']
        deadline = time.time() + 60
        while not os.path.exists(token_file) and time.time() < deadline:
            time.sleep(0.1)
        with open(token_file) as f:
            token = f.read()
        os.remove(token_file)
        self.assertEqual(self.sfn.describe_execution(executionArn=execution)['status'], 'RUNNING')
        self.sfn.send_task_heartbeat(taskToken=token)
        self.sfn.send_task_success(taskToken=token, output='{"approved": true}')
        d = self.wait(execution)
        self.assertEqual((d['status'], json.loads(d['output'])), ('SUCCEEDED', {'approved': True}))
        with self.assertRaises(ClientError) as e:
            self.sfn.send_task_success(taskToken=token, output='{}')
        self.assertEqual(error_code(e.exception)[0], 'TaskDoesNotExist')
        with self.assertRaises(ClientError) as e:
            self.sfn.send_task_failure(taskToken='not-a-token', error='E')
        # The engine decides which tokens are malformed (InvalidToken) and which name no task.
        self.assertIn(error_code(e.exception), [('InvalidToken', 400), ('TaskDoesNotExist', 400)])

        # A second run is stopped while it waits.
        execution = self.sfn.start_execution(stateMachineArn=arn, input='{}')['executionArn']
        deadline = time.time() + 60
        while not os.path.exists(token_file) and time.time() < deadline:
            time.sleep(0.1)
        stopped = self.sfn.stop_execution(executionArn=execution, error='Manual', cause='test')
        self.assertIn('stopDate', stopped)
        d = self.sfn.describe_execution(executionArn=execution)
        self.assertEqual((d['status'], d.get('error'), d.get('cause')), ('ABORTED', 'Manual', 'test'))

    def test_aws_cli_step_functions(self):
        clis = aws_clis()
        if not clis:
            self.skipTest('no AWS CLI installed')
        env = dict(os.environ, AWS_ACCESS_KEY_ID='k', AWS_SECRET_ACCESS_KEY='s',
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER='', AWS_MAX_ATTEMPTS='1')
        definition = os.path.join(SRC, 'examples', 'state_machines', 'hello.asl.json')
        for i, cli in enumerate(clis):
            def aws(*args, cli=cli):
                p = subprocess.run([cli, '--endpoint-url', self.server.url, 'stepfunctions', *args],
                                   capture_output=True, text=True, env=env, timeout=120)
                self.assertEqual(p.returncode, 0, (cli, args, p.stderr))
                return json.loads(p.stdout) if p.stdout.strip() else {}
            arn = aws('create-state-machine', '--name', 'e2e-cli-%d' % i, '--definition',
                      'file://' + definition, '--role-arn',
                      'arn:aws:iam::000000000000:role/r')['stateMachineArn']
            execution = aws('start-execution', '--state-machine-arn', arn, '--input',
                            '{"name": "cli"}')['executionArn']
            d = self.wait(execution)
            self.assertEqual(json.loads(d['output'])['greeting'], 'Hello, cli!')
            d = aws('describe-execution', '--execution-arn', execution)
            self.assertEqual(d['status'], 'SUCCEEDED')
            history = aws('get-execution-history', '--execution-arn', execution)
            self.assertEqual(history['events'][-1]['type'], 'ExecutionSucceeded')


class Unauthenticated(unittest.TestCase):
    def test_loopback_only_without_credentials(self):
        proc = subprocess.run([BIN, 'serve', '--port', '0', '--bind', '0.0.0.0'],
                              capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn('refusing to listen on 0.0.0.0 without credentials', proc.stderr)

        server = Server()
        try:
            self.assertIn('requests are not authenticated, listening on loopback only',
                          server.output())
            lam = client(server, 'lambda', ('anything', 'goes'))
            self.assertIsInstance(lam.list_functions()['Functions'], list)
        finally:
            self.assertEqual(server.stop(), 0)

    def test_bad_credentials_file_is_refused(self):
        with tempfile.NamedTemporaryFile('w', suffix='.ini') as f:
            f.write('[p]\naws_access_key_id = AK\n')
            f.flush()
            proc = subprocess.run([BIN, 'serve', '--port', '0', '--credentials-file', f.name],
                                  capture_output=True, text=True, timeout=30)
        self.assertEqual(proc.returncode, 2)
        self.assertIn('has aws_access_key_id without aws_secret_access_key', proc.stderr)

    def test_sigterm_finishes_the_request_in_flight(self):
        fdir = tempfile.mkdtemp(prefix='switchyard-slowfn-')
        os.makedirs(os.path.join(fdir, 'sleepy'))
        with open(os.path.join(fdir, 'sleepy', 'function.json'), 'w') as f:
            json.dump({'Runtime': 'python3.11', 'Handler': 'h.handler', 'Timeout': 30}, f)
        with open(os.path.join(fdir, 'sleepy', 'h.py'), 'w') as f:
            f.write('import time\ndef handler(e, c):\n    time.sleep(1.5)\n    return "done"\n')
        server = Server('--functions-dir', fdir)
        try:
            lam = client(server, 'lambda', ('a', 'b'))
            import threading
            result = {}

            def call():
                result['out'] = lam.invoke(FunctionName='sleepy', Payload=b'{}')['Payload'].read()

            t = threading.Thread(target=call)
            t.start()
            time.sleep(0.7)  # the invocation is running
            server.proc.send_signal(signal.SIGTERM)
            t.join(60)
            self.assertEqual(result.get('out'), b'"done"')
            self.assertEqual(server.proc.wait(timeout=60), 0)
            self.assertIn('switchyard serve: stopped', server.output())
        finally:
            server.stop()
            shutil.rmtree(fdir, ignore_errors=True)


if __name__ == '__main__':
    BIN = os.path.abspath(sys.argv[1])
    SRC = os.path.abspath(sys.argv[2])
    with open(os.path.join(SRC, 'examples', 'functions', 'hello', 'handler.py')) as f:
        HELLO_ZIP = zip_of({'handler.py': f.read()})
    unittest.main(argv=[sys.argv[0], '-v'] + sys.argv[3:])
