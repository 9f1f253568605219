"""Scaffolding shared by the end-to-end tests of `switchyard serve` (api_test.py,
activities_test.py, lambda_durable_test.py, sfn_api_test.py, sqs_test.py, scheduler_test.py):
starting and stopping the server, boto3 clients and AWS CLI runs against it, zips of functions,
SigV4-signed raw requests, the installed AWS CLIs, polling for a condition.
"""
import io
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import zipfile
from unittest import mock

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
from botocore.config import Config

REGION = 'us-east-1'


def zip_of(files):
    """A zip archive (bytes) of {name: text}."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, 'w') as z:
        for name, text in files.items():
            z.writestr(name, text)
    return data.getvalue()


class Server:
    """One `switchyard serve` process on a free port, with its own embedded database.

    `data_dir` None: a fresh temporary directory, removed by stop(). Otherwise that directory is
    kept (a later Server on it restarts on the same database) and the log is appended to.
    `env` None: this process's environment; with `clean_env`, SWITCHYARD_DATABASE_URL is dropped
    from it and `env` is added on top. `database_url`: serve on that database instead of an
    embedded one in the directory (which then holds only the port file and the log).
    """

    def __init__(self, binary, *args, env=None, data_dir=None, prefix='switchyard-e2e-',
                 clean_env=False, stop_timeout=60, database_url=None):
        self.owns_dir = data_dir is None
        self.dir = tempfile.mkdtemp(prefix=prefix) if data_dir is None else data_dir
        # The embedded PostgreSQL runs as 'postgres' (it refuses root) and must reach its data dir.
        os.chmod(self.dir, 0o755)
        self.stop_timeout = stop_timeout
        self.port_file = os.path.join(self.dir, 'port')
        if os.path.exists(self.port_file):
            os.remove(self.port_file)
        self.log = open(os.path.join(self.dir, 'serve.log'), 'w+' if self.owns_dir else 'a+')
        if clean_env:
            full_env = dict(os.environ)
            full_env.pop('SWITCHYARD_DATABASE_URL', None)
            full_env.update(env or {})
            env = full_env
        database = ['--database-url', database_url] if database_url else \
            ['--data-dir', os.path.join(self.dir, 'data')]
        self.proc = subprocess.Popen(
            [binary, 'serve', '--port', '0', '--port-file', self.port_file, *database, *args],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        deadline = time.time() + 120
        while not os.path.exists(self.port_file):
            if self.proc.poll() is not None or time.time() > deadline:
                raise RuntimeError('server did not start: ' + self.output())
            time.sleep(0.05)
        with open(self.port_file) as f:
            self.port = int(f.read())
        self.url = 'http://127.0.0.1:%d' % self.port

    def output(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def client(self, service, key=('x', 'y')):
        """A boto3 client of this server (no retries, 60 s reads)."""
        return boto3.client(service, endpoint_url=self.url, region_name=REGION,
                            aws_access_key_id=key[0], aws_secret_access_key=key[1],
                            config=Config(retries={'max_attempts': 1}, read_timeout=60))

    def cli(self, program, *args, key=('x', 'y')):
        """(exit status, stdout, stderr) of `program --endpoint-url URL ARGS --output json`."""
        env = dict(os.environ, AWS_ACCESS_KEY_ID=key[0], AWS_SECRET_ACCESS_KEY=key[1],
                   AWS_DEFAULT_REGION=REGION, AWS_PAGER='')
        p = subprocess.run([program, '--endpoint-url', self.url, *args, '--output', 'json'],
                           capture_output=True, text=True, env=env, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def stop(self, sig=signal.SIGTERM):
        """Stops the server with `sig` and returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=self.stop_timeout)
        code = self.proc.returncode
        self.log.close()
        if self.owns_dir:
            shutil.rmtree(self.dir, ignore_errors=True)
        return code


def send(method, url, body=b'', headers=None, timeout=30):
    """An HTTP request; returns (status, headers, body bytes), also for error statuses."""
    if isinstance(body, str):
        body = body.encode()
    req = urllib.request.Request(url, data=body if body else None, method=method,
                                 headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def signed_send(method, url, body=b'', headers=None, key=('k', 's'), service='lambda',
                when=None, region=REGION):
    """send() of a request signed with botocore's own SigV4 signer (optionally at another
    time)."""
    request = botocore.awsrequest.AWSRequest(method=method, url=url, data=body,
                                             headers=headers or {})
    signer = botocore.auth.SigV4Auth(botocore.credentials.Credentials(*key), service, region)
    if when is None:
        signer.add_auth(request)
    else:
        with mock.patch('botocore.auth.datetime') as fake:
            fake.datetime.utcnow.return_value = when
            fake.datetime.now.return_value = when
            signer.add_auth(request)
    return send(request.method, request.url, request.body, dict(request.headers.items()))


def error_code(e):
    """(error code, HTTP status) of a botocore ClientError."""
    return e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode']


def aws_clis():
    """The AWS CLIs installed (`aws` on PATH, /usr/bin/aws), each once."""
    found = []
    for cli in (shutil.which('aws'), '/usr/bin/aws'):
        if cli and os.path.exists(cli) and \
                os.path.realpath(cli) not in [os.path.realpath(c) for c in found]:
            found.append(cli)
    return found


def wait_until(predicate, timeout=60, what='condition'):
    """predicate()'s first truthy value, polled every 0.2 s; AssertionError after `timeout`."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError('timed out waiting for ' + what)
