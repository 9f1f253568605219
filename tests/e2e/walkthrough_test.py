#!/usr/bin/env python3
"""examples/boto3_walkthrough.py against a fresh `switchyard serve` (ctest label e2e), so the
walkthrough in examples/README.md cannot rot.

Usage: walkthrough_test.py PATH/TO/switchyard PROJECT_SOURCE_DIR
"""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

BIN = os.path.abspath(sys.argv[1])
SRC = os.path.abspath(sys.argv[2])

work = tempfile.mkdtemp(prefix='switchyard-walkthrough-e2e-')
os.chmod(work, 0o755)  # the embedded PostgreSQL runs as 'postgres' when we are root
port_file = os.path.join(work, 'port')
log = open(os.path.join(work, 'serve.log'), 'w+')
server = subprocess.Popen([BIN, 'serve', '--port', '0', '--port-file', port_file, '--data-dir',
                           os.path.join(work, 'data')], stdout=log, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL)
status = 1
try:
    deadline = time.time() + 120
    while not os.path.exists(port_file):
        if server.poll() is not None or time.time() > deadline:
            raise SystemExit('server did not start')
        time.sleep(0.05)
    with open(port_file) as f:
        endpoint = 'http://127.0.0.1:%d' % int(f.read())
    # Twice: the second run (other names) checks it can run again against the same server.
    for suffix in ('a', 'b'):
        env = dict(os.environ, SWITCHYARD_WALKTHROUGH_SUFFIX=suffix)
        run = subprocess.run([sys.executable, os.path.join(SRC, 'examples', 'boto3_walkthrough.py'),
                              endpoint], env=env, capture_output=True, text=True, timeout=300)
        print(run.stdout, run.stderr)
        if run.returncode != 0 or 'walkthrough: ok' not in run.stdout:
            raise SystemExit('the walkthrough failed (run %s)' % suffix)
    status = 0
finally:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=120)
    if status != 0:
        log.seek(0)
        print(log.read()[-4000:])
    log.close()
    shutil.rmtree(work, ignore_errors=True)
if server.returncode != 0:
    raise SystemExit('serve exited with %s' % server.returncode)
sys.exit(status)
