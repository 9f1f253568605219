#!/usr/bin/env python3
"""The crash test (issue #9): three `switchyard serve` nodes on one throwaway PostgreSQL run
EXECUTIONS executions of a machine with Task (a real function process, a `provided` bash runtime,
by Lambda ARN), Wait, Parallel, Map and Retry states while

  - a node is killed with SIGKILL every few seconds and restarted,
  - a node is paused with SIGSTOP for longer than its lease, then resumed,
  - PostgreSQL itself is restarted once (`pg_ctl restart -m immediate`).

Afterwards every execution must have SUCCEEDED with exactly the expected output, its history
must be whole (ids 1..n, previousEventId = id - 1, one ExecutionStarted and one
ExecutionSucceeded, every state entered and exited once per visit, one task scheduling per
attempt), and the leased work of every dead (or paused) node must have been taken over by
another node within 15 s. The figures are printed at the end.

Usage: chaos_test.py SWITCHYARD PG_TEST_CLUSTER [--executions N] [--seed S] [--keep]
(N defaults to $SWITCHYARD_CHAOS_EXECUTIONS or 2000). Runs under Debian's python3 (boto3).
"""
import argparse
import collections
import concurrent.futures
import json
import os
import pwd
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

REGION = 'us-east-1'
ACCOUNT = '000000000000'
FUNCTION = 'chaos-work'
MACHINE = 'chaos'
LEASE_MS = 2000            # --lease-ms of every node (the default is 10 s)
KILL_EVERY = 3.0           # seconds between SIGKILLs
PAUSE_AT = 10.0            # seconds into the run: SIGSTOP a node ...
PAUSE_FOR = LEASE_MS / 1000 * 2 + 1.0  # ... for twice its lease and more, then SIGCONT
PG_RESTART_AT = 20.0       # seconds into the run: pg_ctl restart -m immediate
TAKEOVER_LIMIT = 15.0      # a dead node's leased work must move within this
FUNCTIONS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'functions')
TASK_ARN = 'arn:aws:lambda:%s:%s:function:%s' % (REGION, ACCOUNT, FUNCTION)
RETRY = [{'ErrorEquals': ['Transient'], 'IntervalSeconds': 1, 'MaxAttempts': 2,
          'BackoffRate': 1.0}]


def task(k_path):
    return {'Type': 'Task', 'Resource': TASK_ARN,
            'Parameters': {'n.$': '$.n', k_path[0]: k_path[1],
                           'retry.$': '$$.State.RetryCount'},
            'Retry': RETRY, 'ResultSelector': {'value.$': '$.value'}}


DEFINITION = {
    'Comment': 'The crash test: Pass, Parallel, Task + Retry, Wait, Map',
    'StartAt': 'Prepare',
    'States': {
        'Prepare': {'Type': 'Pass', 'Parameters': {'n.$': '$.n',
                                                    'items.$': 'States.ArrayRange(1, 3, 1)'},
                    'Next': 'Fan'},
        'Fan': {'Type': 'Parallel', 'Next': 'Done', 'Branches': [
            {'StartAt': 'Call', 'States': {'Call': dict(task(('k', 0)), End=True)}},
            {'StartAt': 'Pause', 'States': {
                'Pause': {'Type': 'Wait', 'Seconds': 1, 'Next': 'Each'},
                'Each': {'Type': 'Map', 'ItemsPath': '$.items', 'End': True,
                         'ItemSelector': {'n.$': '$.n', 'k.$': '$$.Map.Item.Value'},
                         'ItemProcessor': {
                             'ProcessorConfig': {'Mode': 'INLINE'}, 'StartAt': 'MapCall',
                             'States': {'MapCall': dict(task(('k.$', '$.k')),
                                                        OutputPath='$.value', End=True)}}}}},
        ]},
        'Done': {'Type': 'Pass', 'Parameters': {'call.$': '$[0].value', 'map.$': '$[1]'},
                 'End': True},
    },
}


def expected_output(n):
    return {'call': n * 10, 'map': [n * 10 + 1, n * 10 + 2, n * 10 + 3]}


def transient_failures(n):
    """How many task attempts of execution n fail (tests/chaos/functions/chaos-work/bootstrap)."""
    return sum(1 for k in range(4) if (n + k) % 7 == 0)


def expected_history(n):
    """Event type -> count for execution n."""
    f = transient_failures(n)
    return collections.Counter({
        'ExecutionStarted': 1, 'ExecutionSucceeded': 1,
        'PassStateEntered': 2, 'PassStateExited': 2,
        'ParallelStateEntered': 1, 'ParallelStateStarted': 1,
        'ParallelStateExited': 1,
        'WaitStateEntered': 1, 'WaitStateExited': 1,
        'MapStateEntered': 1, 'MapStateStarted': 1, 'MapStateSucceeded': 1, 'MapStateExited': 1,
        'MapIterationStarted': 3, 'MapIterationSucceeded': 3,
        'TaskStateEntered': 4, 'TaskStateExited': 4,
        'LambdaFunctionScheduled': 4 + f, 'LambdaFunctionStarted': 4 + f,
        'LambdaFunctionSucceeded': 4, 'LambdaFunctionFailed': f,
    })


# Visits of each state (by name) in one execution: entered and exited once per visit.
EXPECTED_VISITS = {'Prepare': 1, 'Fan': 1, 'Call': 1, 'Pause': 1, 'Each': 1, 'MapCall': 3,
                   'Done': 1}


def log(message):
    print('[%7.1f] %s' % (time.monotonic() - T0, message), flush=True)


T0 = time.monotonic()


class Cluster:
    """The throwaway PostgreSQL cluster, started with the pg tests' launcher."""

    def __init__(self, launcher, base):
        self.launcher = launcher
        self.dir = os.path.join(base, 'pg')
        out = subprocess.run([launcher, 'start', self.dir], capture_output=True, text=True,
                             timeout=180)
        if out.returncode != 0:
            raise RuntimeError('pg_test_cluster start failed: ' + out.stderr)
        self.url = out.stdout.strip().splitlines()[-1]
        self.psql_bin = shutil.which('psql') or '/usr/bin/psql'

    def query(self, sql, attempts=100):
        """Rows (lists of strings) of one query; retried while the server restarts."""
        for attempt in range(attempts):
            p = subprocess.run([self.psql_bin, self.url, '-AtX', '-F', '\t', '-c', sql],
                               capture_output=True, text=True, timeout=60)
            if p.returncode == 0:
                return [line.split('\t') for line in p.stdout.splitlines() if line]
            time.sleep(0.1)
        raise RuntimeError('psql failed: ' + p.stderr)

    def restart_immediate(self):
        pgdata = os.path.join(self.dir, 'pgdata')
        bindir = subprocess.run(['pg_config', '--bindir'], capture_output=True,
                                text=True).stdout.strip()
        pg_ctl = os.path.join(bindir, 'pg_ctl')
        command = [pg_ctl, 'restart', '-D', pgdata, '-m', 'immediate', '-w', '-t', '120', '-s',
                   '-l', os.path.join(self.dir, 'postgres.log')]
        owner = os.stat(pgdata).st_uid
        if os.geteuid() == 0 and owner != 0:  # PostgreSQL refuses root: as the cluster's user
            command = ['runuser', '-u', pwd.getpwuid(owner).pw_name, '--'] + command
        p = subprocess.run(command, capture_output=True, text=True, timeout=180,
                           stdin=subprocess.DEVNULL)
        if p.returncode != 0:
            raise RuntimeError('pg_ctl restart failed: ' + p.stdout + p.stderr)

    def stop(self):
        subprocess.run([self.launcher, 'stop', self.dir], capture_output=True, timeout=180)


class Node:
    """One `switchyard serve` process slot; restarted in place after a kill."""

    def __init__(self, index, binary, base, url):
        self.index = index
        self.binary = binary
        self.dir = os.path.join(base, 'node%d' % index)
        os.makedirs(self.dir)
        self.url = url
        self.proc = None
        self.port = None
        self.node_id = None
        self.paused = False
        self.generation = 0
        self.lock = threading.Lock()

    def start(self):
        self.generation += 1
        port_file = os.path.join(self.dir, 'port')
        if os.path.exists(port_file):
            os.remove(port_file)
        self.log_path = os.path.join(self.dir, 'serve.%d.log' % self.generation)
        logf = open(self.log_path, 'w')
        self.proc = subprocess.Popen(
            [self.binary, 'serve', '--database-url', self.url, '--port', '0', '--port-file',
             port_file, '--functions', FUNCTIONS_DIR, '--lease-ms', str(LEASE_MS)],
            stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        logf.close()
        deadline = time.monotonic() + 120
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError('node %d did not start:\n%s' % (self.index, self.output()))
            time.sleep(0.02)
        with open(port_file) as f:
            self.port = int(f.read())
        m = re.search(r'serve: engine node=(\S+)', self.output())
        self.node_id = m.group(1) if m else None

    def output(self):
        with open(self.log_path, errors='replace') as f:
            return f.read()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None


class Clients:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_port = {}

    def sfn(self, port):
        with self.lock:
            if port not in self.by_port:
                self.by_port[port] = boto3.client(
                    'stepfunctions', endpoint_url='http://127.0.0.1:%d' % port, region_name=REGION,
                    aws_access_key_id='k', aws_secret_access_key='s',
                    config=Config(retries={'max_attempts': 1}, read_timeout=10, connect_timeout=3,
                                  max_pool_connections=16))
            return self.by_port[port]


class Chaos:
    def __init__(self, cluster, nodes, rng):
        self.cluster = cluster
        self.nodes = nodes
        self.rng = rng
        self.stop = threading.Event()
        self.kills = 0
        self.paused_once = False
        self.pg_restarted = False
        self.takeovers = []       # (what, seconds or None when nothing was leased)
        self.failures = []
        self.threads = []

    def leased(self, node_id):
        """What node_id holds: ('w', work_id, generation) of work items, ('i', execution_id,
        generation) of inline tasks (execution_states)."""
        rows = self.cluster.query("SELECT 'w', work_id, generation FROM work_items "
                                  "WHERE lease_owner = '%s' UNION ALL SELECT 'i', execution_id, "
                                  "task_generation FROM execution_states WHERE task_owner = '%s'"
                                  % (node_id, node_id))
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    def watch_takeover(self, what, node_id, since):
        """Time from `since` until none of the leases node_id held then is held by it any more
        (each claimed by another node, or done). A paused node may claim more once resumed:
        only the leases it held at `since` count."""
        work = self.leased(node_id)
        if not work:
            self.takeovers.append((what, None, 0))
            return
        held_w = ','.join('(%d,%d)' % (w[1], w[2]) for w in work if w[0] == 'w') or '(0,0)'
        held_i = ','.join('(%d,%d)' % (w[1], w[2]) for w in work if w[0] == 'i') or '(0,0)'
        deadline = since + 60
        while time.monotonic() < deadline:
            left = self.cluster.query(
                "SELECT (SELECT count(*) FROM work_items WHERE lease_owner = '%s' AND "
                "(work_id, generation) IN (%s)) + (SELECT count(*) FROM execution_states WHERE "
                "task_owner = '%s' AND (execution_id, task_generation) IN (%s))"
                % (node_id, held_w, node_id, held_i))
            if left[0][0] == '0':
                seconds = time.monotonic() - since
                self.takeovers.append((what, seconds, len(work)))
                log('%s: %d leased item(s) taken over after %.2f s' % (what, len(work), seconds))
                return
            time.sleep(0.05)
        self.takeovers.append((what, float('inf'), len(work)))
        self.failures.append('%s: leased work never taken over' % what)

    def spawn(self, fn, *args):
        t = threading.Thread(target=fn, args=args, daemon=True)
        t.start()
        self.threads.append(t)

    def busiest(self, candidates):
        """The candidate holding the most leases (random among equals): the worst one to lose."""
        counts = dict((r[0], int(r[1])) for r in self.cluster.query(
            'SELECT owner, count(*) FROM (SELECT lease_owner AS owner FROM work_items WHERE '
            'lease_owner IS NOT NULL UNION ALL SELECT task_owner FROM execution_states WHERE '
            'task_owner IS NOT NULL) AS held GROUP BY 1'))
        self.rng.shuffle(candidates)
        return max(candidates, key=lambda n: counts.get(n.node_id, 0))

    def kill_one(self):
        candidates = [n for n in self.nodes if n.alive() and not n.paused]
        if len(candidates) < 2:
            return
        node = self.busiest(candidates)
        with node.lock:
            node.proc.send_signal(signal.SIGKILL)
            node.proc.wait()
            killed_at = time.monotonic()
            self.kills += 1
            dead_id = node.node_id
            log('SIGKILL node %d (%s), kill #%d' % (node.index, dead_id, self.kills))
            self.spawn(self.watch_takeover, 'kill #%d' % self.kills, dead_id, killed_at)
            node.start()
            log('node %d restarted as %s' % (node.index, node.node_id))

    def pause_one(self):
        node = self.busiest([n for n in self.nodes if n.alive()])
        with node.lock:
            node.paused = True
            node.proc.send_signal(signal.SIGSTOP)
            paused_at = time.monotonic()
            log('SIGSTOP node %d (%s) for %.1f s' % (node.index, node.node_id, PAUSE_FOR))
            self.spawn(self.watch_takeover, 'pause', node.node_id, paused_at)
            time.sleep(PAUSE_FOR)
            node.proc.send_signal(signal.SIGCONT)
            node.paused = False
            log('SIGCONT node %d' % node.index)
        self.paused_once = True

    def restart_pg(self):
        log('pg_ctl restart -m immediate')
        started = time.monotonic()
        self.cluster.restart_immediate()
        log('PostgreSQL back after %.1f s' % (time.monotonic() - started))
        self.pg_restarted = True

    def run(self):
        started = time.monotonic()
        next_kill = started + KILL_EVERY
        pause_thread = pg_thread = None
        while not self.stop.is_set():
            now = time.monotonic()
            if pause_thread is None and now - started >= PAUSE_AT:
                pause_thread = threading.Thread(target=self.pause_one, daemon=True)
                pause_thread.start()
            if pg_thread is None and now - started >= PG_RESTART_AT:
                pg_thread = threading.Thread(target=self.restart_pg, daemon=True)
                pg_thread.start()
            if now >= next_kill:
                try:
                    self.kill_one()
                except Exception as e:  # noqa: BLE001 - reported as a failure
                    self.failures.append('kill/restart failed: %r' % e)
                next_kill = time.monotonic() + KILL_EVERY * self.rng.uniform(0.75, 1.25)
            time.sleep(0.05)
        for t in (pause_thread, pg_thread):
            if t is not None:
                t.join()

    def done_enough(self):
        return self.paused_once and self.pg_restarted and self.kills >= 3


def start_executions(count, nodes, clients, machine_arn, deadline):
    """Starts executions e00000.. over the nodes (round robin), retrying on other nodes when a
    node is dead, paused or its database is restarting; StartExecution is idempotent by name."""
    todo = collections.deque(range(count))
    lock = threading.Lock()
    stats = collections.Counter()

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                n = todo.popleft()
            attempt = 0
            while True:
                node = nodes[(n + attempt) % len(nodes)]
                attempt += 1
                if node.paused or not node.alive():
                    time.sleep(0.05)
                    continue
                try:
                    clients.sfn(node.port).start_execution(
                        stateMachineArn=machine_arn, name='e%05d' % n,
                        input=json.dumps({'n': n}))
                    with lock:
                        stats['started'] += 1
                    break
                except ClientError as e:
                    code = e.response['Error']['Code']
                    if code == 'ExecutionAlreadyExists' and attempt > 1:
                        with lock:  # an earlier attempt got through, then ended
                            stats['already_exists_on_retry'] += 1
                        break
                    with lock:
                        stats['retried_' + code] += 1
                except Exception:  # noqa: BLE001 - connection refused/reset, timeout
                    with lock:
                        stats['retried_connection'] += 1
                if time.monotonic() > deadline:
                    raise RuntimeError('could not start execution %d' % n)
                time.sleep(0.1)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(6)]
    for t in threads:
        t.start()
    return threads, stats


def check_execution(n, nodes, clients, machine_arn):
    """Problems (strings) with execution n, as the API tells them."""
    arn = 'arn:aws:states:%s:%s:execution:%s:e%05d' % (REGION, ACCOUNT, MACHINE, n)
    for attempt in range(20):
        node = nodes[(n + attempt) % len(nodes)]
        try:
            sfn = clients.sfn(node.port)
            desc = sfn.describe_execution(executionArn=arn)
            events, token = [], None
            while True:
                kwargs = {'executionArn': arn, 'maxResults': 1000}
                if token:
                    kwargs['nextToken'] = token
                page = sfn.get_execution_history(**kwargs)
                events.extend(page['events'])
                token = page.get('nextToken')
                if not token:
                    break
            break
        except Exception:  # noqa: BLE001
            if attempt == 19:
                raise
            time.sleep(0.2)
    problems = []
    if desc['status'] != 'SUCCEEDED':
        problems.append('status %s (%s: %s)' % (desc['status'], desc.get('error'),
                                                desc.get('cause')))
        return problems
    if json.loads(desc['output']) != expected_output(n):
        problems.append('output %s' % desc['output'])
    ids = [e['id'] for e in events]
    if ids != list(range(1, len(events) + 1)):
        problems.append('event ids are not 1..%d: %s' % (len(events), ids))
    for e in events:
        if e['previousEventId'] != e['id'] - 1:
            problems.append('event %d: previousEventId %d' % (e['id'], e['previousEventId']))
    types = collections.Counter(e['type'] for e in events)
    if types != expected_history(n):
        diff = {t: (types.get(t, 0), expected_history(n).get(t, 0))
                for t in set(types) | set(expected_history(n))
                if types.get(t, 0) != expected_history(n).get(t, 0)}
        problems.append('event counts (got, want): %s' % diff)
    if events and events[0]['type'] != 'ExecutionStarted':
        problems.append('first event %s' % events[0]['type'])
    if events and events[-1]['type'] != 'ExecutionSucceeded':
        problems.append('last event %s' % events[-1]['type'])
    entered, exited = collections.Counter(), collections.Counter()
    for e in events:
        if e['type'].endswith('StateEntered'):
            entered[e['stateEnteredEventDetails']['name']] += 1
        elif e['type'].endswith('StateExited'):
            exited[e['stateExitedEventDetails']['name']] += 1
    if entered != collections.Counter(EXPECTED_VISITS):
        problems.append('states entered %s' % dict(entered))
    if exited != collections.Counter(EXPECTED_VISITS):
        problems.append('states exited %s' % dict(exited))
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('switchyard')
    parser.add_argument('pg_test_cluster')
    parser.add_argument('--executions', type=int,
                        default=int(os.environ.get('SWITCHYARD_CHAOS_EXECUTIONS', '2000')))
    parser.add_argument('--seed', type=int, default=None)
    parser.add_argument('--keep', action='store_true', help='keep the temp directory')
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    log('executions=%d seed=%d lease_ms=%d' % (args.executions, seed, LEASE_MS))

    base = tempfile.mkdtemp(prefix='switchyard-chaos.')
    os.chmod(base, 0o755)  # the cluster's user (when run as root) must enter it
    cluster = nodes = None
    ok = False
    try:
        cluster = Cluster(args.pg_test_cluster, base)
        log('PostgreSQL at %s' % cluster.url)
        nodes = [Node(i, args.switchyard, base, cluster.url) for i in range(3)]
        for node in nodes:
            node.start()
            log('node %d: port %d, %s' % (node.index, node.port, node.node_id))
        clients = Clients()
        sfn = clients.sfn(nodes[0].port)
        machine_arn = sfn.create_state_machine(
            name=MACHINE, definition=json.dumps(DEFINITION),
            roleArn='arn:aws:iam::%s:role/chaos' % ACCOUNT)['stateMachineArn']

        run_started = time.monotonic()
        chaos = Chaos(cluster, nodes, rng)
        chaos_thread = threading.Thread(target=chaos.run, daemon=True)
        chaos_thread.start()
        starters, start_stats = start_executions(args.executions, nodes, clients, machine_arn,
                                                 run_started + 600)

        # Until every execution has ended (and the chaos has done each of its things).
        deadline = run_started + 600
        last_report = 0
        while True:
            rows = dict((r[0], int(r[1])) for r in cluster.query(
                'SELECT status, count(*) FROM executions GROUP BY status'))
            total = sum(rows.values())
            if time.monotonic() - last_report > 5:
                log('executions %s' % rows)
                last_report = time.monotonic()
            if (total == args.executions and rows.get('RUNNING', 0) == 0 and
                    chaos.done_enough()):
                break
            if time.monotonic() > deadline:
                raise AssertionError('executions did not finish: %s' % rows)
            time.sleep(0.5)
        finished_at = time.monotonic()
        chaos.stop.set()
        chaos_thread.join()
        for t in starters:
            t.join()
        for t in chaos.threads:
            t.join(timeout=90)
        for node in nodes:
            if not node.alive():
                node.start()

        # Every execution, through the API.
        failures = list(chaos.failures)
        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            results = list(pool.map(lambda n: (n, check_execution(n, nodes, clients, machine_arn)),
                                    range(args.executions)))
        bad = [(n, p) for n, p in results if p]
        for n, problems in bad[:20]:
            failures.append('execution e%05d: %s' % (n, '; '.join(problems)))
        if len(bad) > 20:
            failures.append('... and %d more executions with problems' % (len(bad) - 20))
        measured = [t for _, t, _ in chaos.takeovers if t is not None]
        slow = [(w, t) for w, t, _ in chaos.takeovers if t is not None and t > TAKEOVER_LIMIT]
        for what, seconds in slow:
            failures.append('%s: takeover took %.1f s (limit %.0f s)' % (what, seconds,
                                                                         TAKEOVER_LIMIT))
        events = 0
        for n in range(args.executions):
            events += sum(expected_history(n).values())
        print()
        print('== crash test figures')
        print('executions:           %d started, %d SUCCEEDED with the expected output' %
              (args.executions, args.executions - len(bad)))
        print('run time:             %.1f s (start of the run to the last execution ending)' %
              (finished_at - run_started))
        print('SIGKILLs:             %d (every ~%.0f s, each node restarted at once)' %
              (chaos.kills, KILL_EVERY))
        print('SIGSTOP:              1 node for %.1f s (lease %d ms)' % (PAUSE_FOR, LEASE_MS))
        print('PostgreSQL restarts:  %d (pg_ctl restart -m immediate)' % int(chaos.pg_restarted))
        kills = [t for w, t, _ in chaos.takeovers if t is not None and w.startswith('kill')]
        pause = [t for w, t, _ in chaos.takeovers if t is not None and w == 'pause']
        print('takeovers measured:   %d of %d (others held no leases); max %.2f s, median %.2f s'
              % (len(measured), len(chaos.takeovers), max(measured, default=0),
                 sorted(measured)[len(measured) // 2] if measured else 0))
        print('  after a SIGKILL:    %d, max %.2f s; of a SIGSTOPped node: %s' %
              (len(kills), max(kills, default=0),
               '%.2f s' % pause[0] if pause else 'held no leases'))
        print('history checked:      %d executions, %d events: ids 1..n, previousEventId, '
              'one Entered/Exited per visit, one task scheduling per attempt; %d bad' %
              (args.executions, events, len(bad)))
        print('start calls:          %s' % dict(start_stats))
        if failures:
            print('\nFAILED:')
            for f in failures:
                print('  ' + f)
            return 1
        ok = True
        print('\nchaos_test: passed')
        return 0
    finally:
        if nodes:
            for node in nodes:
                if node.alive():
                    if node.paused:
                        node.proc.send_signal(signal.SIGCONT)
                    node.proc.send_signal(signal.SIGTERM)
            for node in nodes:
                if node.proc is not None:
                    try:
                        node.proc.wait(timeout=60)
                    except subprocess.TimeoutExpired:
                        node.proc.kill()
                        node.proc.wait()
        if not ok:
            for node in nodes or []:
                if node.proc is not None:
                    print('--- node %d log tail' % node.index)
                    print(node.output()[-3000:])
        if cluster:
            cluster.stop()
        if args.keep:
            print('kept %s' % base)
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == '__main__':
    sys.exit(main())
