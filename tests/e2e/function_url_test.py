#!/usr/bin/env python3
"""End-to-end tests of function URLs and layers on `switchyard serve`, driven by boto3, the AWS
CLI (v1 on PATH and v2 at /usr/bin/aws) and curl: a URL answers curl with the function's status,
headers and body (payload format 2.0 in, Lambda's inference rules out); AWS_IAM refuses unsigned
and badly signed requests and accepts SigV4-signed ones; CORS preflight; 502 for function errors;
URL configs survive a restart; a Python function imports a module from its layer, later layers
override earlier ones, and the 250 MB limit counts layers.

Usage: function_url_test.py PATH/TO/switchyard
"""
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import zipfile

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config
from botocore.exceptions import ClientError

BIN = None
REGION = 'us-east-1'
KEY = ('AKIDURLTEST', 'url-test-secret')


def zip_of(files):
    data = io.BytesIO()
    with zipfile.ZipFile(data, 'w', zipfile.ZIP_DEFLATED) as z:
        for name, text in files.items():
            z.writestr(name, text)
    return data.getvalue()


# Echoes the event back as a structured response, with a header, a cookie and a chosen status.
ECHO_ZIP = zip_of({'app.py': (
    'import json\n'
    'def handler(event, context):\n'
    '    q = event.get("queryStringParameters") or {}\n'
    '    if q.get("fail"):\n'
    '        raise ValueError("boom")\n'
    '    if q.get("plain"):\n'
    '        return {"hello": "world"}\n'
    '    return {"statusCode": int(q.get("status", "201")),\n'
    '            "headers": {"Content-Type": "application/json", "X-Echo": "yes"},\n'
    '            "cookies": ["a=1", "b=2"],\n'
    '            "body": json.dumps(event)}\n')})

LAYER_ONE = zip_of({'python/greeting.py': 'WORD = "from layer one"\n',
                    'python/shared.py': 'WHO = "one"\n'})
LAYER_TWO = zip_of({'python/shared.py': 'WHO = "two"\n'})
USES_LAYER_ZIP = zip_of({'app.py': (
    'import os, greeting, shared\n'
    'def handler(event, context):\n'
    '    root = os.environ.get("SWITCHYARD_LAYERS_DIR", "")\n'
    '    try:\n'
    '        open(root + "/python/new.py", "w").close()\n'
    '        write = "ok"\n'
    '    except OSError as e:\n'
    '        write = os.strerror(e.errno)\n'
    '    return {"word": greeting.WORD, "who": shared.WHO, "layers": root,\n'
    '            "file": greeting.__file__, "write": write,\n'
    '            "shared": open(root + "/python/shared.py").read().strip()}\n')})


class Server:
    def __init__(self, base, credentials):
        self.base = base
        self.port_file = os.path.join(base, 'port')
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.log = open(os.path.join(base, 'serve.log'), 'a+')
        env = dict(os.environ)
        env.pop('SWITCHYARD_DATABASE_URL', None)
        self.proc = subprocess.Popen(
            [BIN, 'serve', '--port', '0', '--port-file', self.port_file, '--data-dir',
             os.path.join(base, 'data'), '--credentials-file', credentials],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 120
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('server did not start: ' + self.output())
            time.sleep(0.05)
        time.sleep(0.1)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = 'http://127.0.0.1:%d' % self.port

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout=60)
        self.log.close()

    def lam(self):
        return boto3.client('lambda', endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id=KEY[0], aws_secret_access_key=KEY[1],
                            config=Config(retries={'max_attempts': 1}, read_timeout=60))

    def aws(self, cli, *args):
        env = dict(os.environ, AWS_ACCESS_KEY_ID=KEY[0], AWS_SECRET_ACCESS_KEY=KEY[1],
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER='')
        p = subprocess.run([cli, '--endpoint-url', self.url, *args, '--output', 'json'],
                           capture_output=True, text=True, env=env, timeout=120)
        return p.returncode, p.stdout, p.stderr


def curl(*args):
    """Runs curl -s -i and returns (status, headers as a list of (lower name, value), body)."""
    p = subprocess.run(['curl', '-s', '-i', *args], capture_output=True, timeout=60)
    raw = p.stdout
    head, _, body = raw.partition(b'\r\n\r\n')
    lines = head.decode().split('\r\n')
    status = int(lines[0].split()[1])
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(':')
        headers.append((name.strip().lower(), value.strip()))
    return status, headers, body


def header(headers, name):
    values = [v for n, v in headers if n == name]
    return values[0] if values else None


def signed(method, url, body=b'', key=KEY, headers=None):
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                             headers=headers or {})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials(*key), 'lambda',
                            REGION).add_auth(request)
    prepared = request.prepare()
    req = urllib.request.Request(url, data=body or None, method=method,
                                 headers=dict(prepared.headers))
    try:
        with urllib.request.urlopen(req, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class FunctionUrlTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix='switchyard-url.')
        os.chmod(cls.base, 0o755)
        cls.credentials = os.path.join(cls.base, 'credentials')
        with open(cls.credentials, 'w') as f:
            f.write('[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n' % KEY)
        cls.server = Server(cls.base, cls.credentials)
        cls.lam = cls.server.lam()
        cls.lam.create_function(FunctionName='echo', Runtime='python3.11', Handler='app.handler',
                                Role='arn:aws:iam::000000000000:role/x',
                                Code={'ZipFile': ECHO_ZIP})

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.base, ignore_errors=True)

    def url_for(self, function, **kwargs):
        try:
            self.lam.delete_function_url_config(FunctionName=function, **kwargs)
        except ClientError:
            pass
        return self.lam.create_function_url_config(FunctionName=function, AuthType='NONE',
                                                   **kwargs)['FunctionUrl']

    def test_curl_gets_status_headers_body_and_the_v2_event(self):
        url = self.url_for('echo')
        self.assertRegex(url, r'^http://127\.0\.0\.1:\d+/lambda-url/[a-z0-9]{32}/$')
        status, headers, body = curl('-X', 'POST', '-H', 'Content-Type: text/plain',
                                     '-H', 'Cookie: c1=v1; c2=v2', '-H', 'X-Multi: a',
                                     '-H', 'X-Multi: b', '--data-binary', 'hello there',
                                     url + 'some/path?x=1&x=2&y=%20z')
        self.assertEqual(status, 201)
        self.assertEqual(header(headers, 'x-echo'), 'yes')
        self.assertEqual(header(headers, 'content-type'), 'application/json')
        self.assertEqual([v for n, v in headers if n == 'set-cookie'], ['a=1', 'b=2'])
        event = json.loads(body)
        self.assertEqual(event['version'], '2.0')
        self.assertEqual(event['routeKey'], '$default')
        self.assertEqual(event['rawPath'], '/some/path')
        self.assertEqual(event['rawQueryString'], 'x=1&x=2&y=%20z')
        self.assertEqual(event['queryStringParameters'], {'x': '1,2', 'y': ' z'})
        self.assertEqual(event['cookies'], ['c1=v1', 'c2=v2'])
        self.assertEqual(event['headers']['x-multi'], 'a,b')
        self.assertNotIn('cookie', event['headers'])
        self.assertEqual(event['body'], 'hello there')
        self.assertFalse(event['isBase64Encoded'])
        context = event['requestContext']
        self.assertEqual(context['http']['method'], 'POST')
        self.assertEqual(context['http']['path'], '/some/path')
        self.assertEqual(context['http']['sourceIp'], '127.0.0.1')
        self.assertTrue(context['http']['userAgent'].startswith('curl/'))
        self.assertEqual(context['stage'], '$default')
        self.assertEqual(context['accountId'], 'anonymous')
        self.assertEqual(context['apiId'], url.rstrip('/').rsplit('/', 1)[1])
        self.assertIsInstance(context['timeEpoch'], int)

    def test_binary_body_is_base64_and_host_routing_works(self):
        url = self.url_for('echo')
        url_id = url.rstrip('/').rsplit('/', 1)[1]
        host = '%s.lambda-url.%s.localhost' % (url_id, REGION)
        status, _, body = curl('--resolve', '%s:%d:127.0.0.1' % (host, self.server.port),
                               '-H', 'Content-Type: application/octet-stream',
                               '--data-binary', '@-', 'http://%s:%d/bin' % (host, self.server.port),
                               )
        # (curl read an empty stdin: no body)
        self.assertEqual(status, 201)
        event = json.loads(body)
        self.assertEqual(event['rawPath'], '/bin')
        p = subprocess.run(['curl', '-s', '-H', 'Host: %s:%d' % (host, self.server.port),
                            '-H', 'Content-Type: application/octet-stream', '--data-binary',
                            '@-', 'http://127.0.0.1:%d/bin' % self.server.port],
                           input=b'\x00\x01\xff', capture_output=True, timeout=60)
        event = json.loads(p.stdout)
        self.assertTrue(event['isBase64Encoded'])
        self.assertEqual(event['body'], 'AAH/')

    def test_plain_json_result_is_a_200_json_body(self):
        url = self.url_for('echo')
        status, headers, body = curl(url + '?plain=1')
        self.assertEqual(status, 200)
        self.assertEqual(header(headers, 'content-type'), 'application/json')
        self.assertEqual(json.loads(body), {'hello': 'world'})

    def test_function_error_is_502(self):
        url = self.url_for('echo')
        status, _, body = curl(url + '?fail=1')
        self.assertEqual(status, 502)
        self.assertEqual(body, b'Internal Server Error')

    def test_unknown_url_is_404(self):
        status, _, _ = curl('http://127.0.0.1:%d/lambda-url/%s/' % (self.server.port, 'z' * 32))
        self.assertEqual(status, 404)

    def test_aws_iam_rejects_unsigned_and_accepts_signed(self):
        try:
            self.lam.delete_function_url_config(FunctionName='echo')
        except ClientError:
            pass
        url = self.lam.create_function_url_config(FunctionName='echo',
                                                  AuthType='AWS_IAM')['FunctionUrl']
        status, headers, body = curl(url)
        self.assertEqual(status, 403)
        self.assertEqual(json.loads(body), {'Message': 'Forbidden'})
        status, body = signed('GET', url + 'x?status=200', key=(KEY[0], 'wrong-secret'))
        self.assertEqual(status, 403)
        status, body = signed('POST', url + 'x?status=200', body=b'{"a":1}',
                              headers={'Content-Type': 'application/json'})
        self.assertEqual(status, 200, body)
        event = json.loads(body)
        self.assertEqual(event['requestContext']['authorizer']['iam']['accessKey'], KEY[0])
        self.assertEqual(event['requestContext']['accountId'], '000000000000')
        self.lam.delete_function_url_config(FunctionName='echo')

    def test_cors_preflight_and_response_headers(self):
        try:
            self.lam.delete_function_url_config(FunctionName='echo')
        except ClientError:
            pass
        config = self.lam.create_function_url_config(
            FunctionName='echo', AuthType='NONE',
            Cors={'AllowOrigins': ['https://example.com'], 'AllowMethods': ['GET', 'POST'],
                  'AllowHeaders': ['x-custom'], 'ExposeHeaders': ['x-echo'], 'MaxAge': 300,
                  'AllowCredentials': True})
        url = config['FunctionUrl']
        self.assertEqual(config['Cors']['MaxAge'], 300)
        status, headers, _ = curl('-X', 'OPTIONS', '-H', 'Origin: https://example.com',
                                  '-H', 'Access-Control-Request-Method: POST', url)
        self.assertEqual(status, 200)
        self.assertEqual(header(headers, 'access-control-allow-origin'), 'https://example.com')
        self.assertEqual(header(headers, 'access-control-allow-methods'), 'GET,POST')
        self.assertEqual(header(headers, 'access-control-allow-headers'), 'x-custom')
        self.assertEqual(header(headers, 'access-control-max-age'), '300')
        self.assertEqual(header(headers, 'access-control-allow-credentials'), 'true')
        status, headers, _ = curl('-H', 'Origin: https://example.com', url)
        self.assertEqual(status, 201)
        self.assertEqual(header(headers, 'access-control-allow-origin'), 'https://example.com')
        self.assertEqual(header(headers, 'access-control-expose-headers'), 'x-echo')
        status, headers, _ = curl('-H', 'Origin: https://evil.example', url)
        self.assertIsNone(header(headers, 'access-control-allow-origin'))
        self.lam.delete_function_url_config(FunctionName='echo')

    def test_config_operations_and_errors(self):
        try:
            self.lam.delete_function_url_config(FunctionName='echo')
        except ClientError:
            pass
        created = self.lam.create_function_url_config(FunctionName='echo', AuthType='NONE')
        self.assertEqual(created['ResponseMetadata']['HTTPStatusCode'], 201)
        self.assertEqual(created['FunctionArn'],
                         'arn:aws:lambda:us-east-1:000000000000:function:echo')
        if 'InvokeMode' in created:  # botocore models before 1.29.x lack it
            self.assertEqual(created['InvokeMode'], 'BUFFERED')
        with self.assertRaises(ClientError) as e:
            self.lam.create_function_url_config(FunctionName='echo', AuthType='NONE')
        self.assertEqual(e.exception.response['Error']['Code'], 'ResourceConflictException')
        with self.assertRaises(ClientError) as e:
            self.lam.create_function_url_config(FunctionName='nope', AuthType='NONE')
        self.assertEqual(e.exception.response['Error']['Code'], 'ResourceNotFoundException')
        updated = self.lam.update_function_url_config(FunctionName='echo', AuthType='AWS_IAM')
        self.assertEqual(updated['AuthType'], 'AWS_IAM')
        self.assertEqual(updated['FunctionUrl'], created['FunctionUrl'])
        got = self.lam.get_function_url_config(FunctionName='echo')
        self.assertEqual(got['AuthType'], 'AWS_IAM')
        self.assertIn('LastModifiedTime', got)
        # An alias gets its own URL.
        self.lam.publish_version(FunctionName='echo')
        try:
            self.lam.create_alias(FunctionName='echo', Name='live', FunctionVersion='1')
        except ClientError:
            pass
        alias_url = self.lam.create_function_url_config(FunctionName='echo', Qualifier='live',
                                                        AuthType='NONE')
        self.assertEqual(alias_url['FunctionArn'],
                         'arn:aws:lambda:us-east-1:000000000000:function:echo:live')
        status, _, _ = curl(alias_url['FunctionUrl'] + '?status=202')
        self.assertEqual(status, 202)
        listed = self.lam.list_function_url_configs(FunctionName='echo')['FunctionUrlConfigs']
        self.assertEqual(len(listed), 2)
        page = self.lam.list_function_url_configs(FunctionName='echo', MaxItems=1)
        self.assertEqual(len(page['FunctionUrlConfigs']), 1)
        rest = self.lam.list_function_url_configs(FunctionName='echo', Marker=page['NextMarker'])
        self.assertEqual(len(rest['FunctionUrlConfigs']), 1)
        self.assertNotEqual(rest['FunctionUrlConfigs'][0]['FunctionUrl'],
                            page['FunctionUrlConfigs'][0]['FunctionUrl'])
        with self.assertRaises(ClientError) as e:
            self.lam.create_function_url_config(FunctionName='echo', Qualifier='1',
                                                AuthType='NONE')
        self.assertEqual(e.exception.response['Error']['Code'], 'ValidationException')
        self.lam.delete_function_url_config(FunctionName='echo', Qualifier='live')
        self.lam.delete_function_url_config(FunctionName='echo')
        with self.assertRaises(ClientError) as e:
            self.lam.get_function_url_config(FunctionName='echo')
        self.assertEqual(e.exception.response['Error']['Code'], 'ResourceNotFoundException')

    def test_aws_cli_v1_and_v2(self):
        for cli in ('aws', '/usr/bin/aws'):
            if not shutil.which(cli):
                continue
            self.server.aws(cli, 'lambda', 'delete-function-url-config', '--function-name', 'echo')
            rc, out, err = self.server.aws(cli, 'lambda', 'create-function-url-config',
                                           '--function-name', 'echo', '--auth-type', 'NONE')
            self.assertEqual(rc, 0, err)
            url = json.loads(out)['FunctionUrl']
            status, _, body = curl(url + '?plain=1')
            self.assertEqual((status, json.loads(body)), (200, {'hello': 'world'}), cli)
            rc, out, err = self.server.aws(cli, 'lambda', 'list-function-url-configs',
                                           '--function-name', 'echo')
            self.assertEqual(rc, 0, err)
            self.assertEqual(len(json.loads(out)['FunctionUrlConfigs']), 1)
            rc, _, err = self.server.aws(cli, 'lambda', 'delete-function-url-config',
                                         '--function-name', 'echo')
            self.assertEqual(rc, 0, err)

    def test_layers(self):
        one = self.lam.publish_layer_version(LayerName='greet', Content={'ZipFile': LAYER_ONE},
                                             CompatibleRuntimes=['python3.11'],
                                             Description='one')
        self.assertEqual(one['ResponseMetadata']['HTTPStatusCode'], 201)
        self.assertRegex(one['LayerVersionArn'],
                         r'^arn:aws:lambda:us-east-1:000000000000:layer:greet:\d+$')
        self.assertEqual(one['Content']['CodeSize'], len(LAYER_ONE))
        two = self.lam.publish_layer_version(LayerName='override', Content={'ZipFile': LAYER_TWO},
                                             CompatibleRuntimes=['nodejs18.x'])
        self.lam.create_function(FunctionName='layered', Runtime='python3.11',
                                 Handler='app.handler', Role='arn:aws:iam::000000000000:role/x',
                                 Code={'ZipFile': USES_LAYER_ZIP},
                                 Layers=[one['LayerVersionArn']])
        result = json.loads(self.lam.invoke(FunctionName='layered')['Payload'].read())
        self.assertEqual(result['word'], 'from layer one')
        self.assertEqual(result['who'], 'one')
        self.assertNotEqual(result['layers'], '')
        if 'no private /opt' not in self.server.output():
            # Lambda's /opt: read-only, in the function's own mount namespace.
            self.assertEqual(result['layers'], '/opt')
            self.assertEqual(result['file'], '/opt/python/greeting.py')
            self.assertEqual(result['write'], 'Read-only file system')
        # A later layer's files override an earlier one's.
        self.lam.update_function_configuration(
            FunctionName='layered', Layers=[one['LayerVersionArn'], two['LayerVersionArn']])
        result = json.loads(self.lam.invoke(FunctionName='layered')['Payload'].read())
        self.assertEqual(result['who'], 'two')
        self.assertEqual(result['shared'], 'WHO = "two"')
        config = self.lam.get_function(FunctionName='layered')['Configuration']
        self.assertEqual([l['Arn'] for l in config['Layers']],
                         [one['LayerVersionArn'], two['LayerVersionArn']])
        self.assertEqual(config['Layers'][1]['CodeSize'], len(LAYER_TWO))
        # Lookups and listings.
        got = self.lam.get_layer_version(LayerName='greet', VersionNumber=one['Version'])
        self.assertEqual(got['Description'], 'one')
        by_arn = self.lam.get_layer_version_by_arn(Arn=one['LayerVersionArn'])
        self.assertEqual(by_arn['Version'], one['Version'])
        names = [l['LayerName'] for l in
                 self.lam.list_layers(CompatibleRuntime='python3.11')['Layers']]
        self.assertIn('greet', names)
        self.assertNotIn('override', names)
        versions = self.lam.list_layer_versions(LayerName='greet')['LayerVersions']
        self.assertEqual(versions[0]['Version'], one['Version'])
        # Errors: a missing version, too many layers, S3 content.
        with self.assertRaises(ClientError) as e:
            self.lam.get_layer_version(LayerName='greet', VersionNumber=999)
        self.assertEqual(e.exception.response['Error']['Code'], 'ResourceNotFoundException')
        with self.assertRaises(ClientError) as e:
            self.lam.update_function_configuration(
                FunctionName='layered', Layers=['arn:aws:lambda:us-east-1:000000000000:layer:greet:999'])
        self.assertEqual(e.exception.response['Error']['Code'], 'InvalidParameterValueException')
        self.assertIn('does not exist', e.exception.response['Error']['Message'])
        with self.assertRaises(ClientError) as e:
            self.lam.update_function_configuration(FunctionName='layered',
                                                   Layers=[one['LayerVersionArn']] * 6)
        self.assertIn('Cannot reference more than 5 layers',
                      e.exception.response['Error']['Message'])
        with self.assertRaises(ClientError) as e:
            self.lam.publish_layer_version(LayerName='s3', Content={'S3Bucket': 'bucket', 'S3Key': 'key'})
        self.assertEqual(e.exception.response['Error']['Code'], 'InvalidParameterValueException')
        self.assertIn('S3Bucket', e.exception.response['Error']['Message'])
        # The AWS CLI (v2) lists them too.
        rc, out, err = self.server.aws('/usr/bin/aws', 'lambda', 'list-layer-versions',
                                       '--layer-name', 'greet')
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)['LayerVersions'][0]['Version'], one['Version'])
        # Deleting a version: 204, gone from the API, the function keeps working.
        self.lam.delete_layer_version(LayerName='override', VersionNumber=two['Version'])
        with self.assertRaises(ClientError):
            self.lam.get_layer_version(LayerName='override', VersionNumber=two['Version'])
        result = json.loads(self.lam.invoke(FunctionName='layered')['Payload'].read())
        self.assertEqual(result['who'], 'two')
        self.assertEqual(result['shared'], 'WHO = "two"')
        # A node that never unpacked the deleted version (here: this node, its unpacked copies
        # removed) still starts the function: the package is kept while a function uses it.
        removed = 0
        for top, dirs, _ in os.walk(self.base):
            for d in list(dirs):
                if d in ('.layers', 'layers'):
                    shutil.rmtree(os.path.join(top, d))
                    dirs.remove(d)
                    removed += 1
        self.assertGreater(removed, 0)
        self.lam.update_function_configuration(FunctionName='layered', Description='again')
        result = json.loads(self.lam.invoke(FunctionName='layered')['Payload'].read())
        self.assertEqual(result.get('who'), 'two', result)
        self.assertEqual(result['word'], 'from layer one')

    def test_layers_count_in_the_unzipped_limit(self):
        big = io.BytesIO()
        with zipfile.ZipFile(big, 'w', zipfile.ZIP_DEFLATED) as z:
            z.writestr('lib/big.bin', b'\0' * (130 * 1024 * 1024))
        big = big.getvalue()
        a = self.lam.publish_layer_version(LayerName='big-a', Content={'ZipFile': big})
        b = self.lam.publish_layer_version(LayerName='big-b', Content={'ZipFile': big})
        with self.assertRaises(ClientError) as e:
            self.lam.create_function(FunctionName='too-big', Runtime='python3.11',
                                     Handler='app.handler', Role='arn:aws:iam::000000000000:role/x',
                                     Code={'ZipFile': USES_LAYER_ZIP},
                                     Layers=[a['LayerVersionArn'], b['LayerVersionArn']])
        self.assertEqual(e.exception.response['Error']['Code'], 'InvalidParameterValueException')
        self.assertIn('Function code combined with layers exceeds the maximum allowed size of '
                      '262144000 bytes', e.exception.response['Error']['Message'])
        for layer in (a, b):
            self.lam.delete_layer_version(LayerName=layer['LayerArn'].rsplit(':', 1)[1],
                                          VersionNumber=layer['Version'])

    def test_zz_urls_and_layers_survive_a_restart(self):
        url = self.url_for('echo')
        self.server.stop()
        type(self).server = Server(self.base, self.credentials)
        type(self).lam = self.server.lam()
        # Same url id, new port.
        url_id = url.rstrip('/').rsplit('/', 1)[1]
        got = self.lam.get_function_url_config(FunctionName='echo')['FunctionUrl']
        self.assertTrue(got.endswith('/lambda-url/%s/' % url_id))
        status, _, body = curl(got + '?plain=1')
        self.assertEqual(status, 200)
        names = [l['LayerName'] for l in self.lam.list_layers()['Layers']]
        self.assertIn('greet', names)


if __name__ == '__main__':
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
