#!/usr/bin/env python3
"""End-to-end tests of the switchyard binary's CLI: real processes, real files, real exit codes.

Usage: cli_test.py PATH/TO/switchyard PROJECT_SOURCE_DIR
"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

BIN = None
SRC = None


def sy(*args, stdin=None):
    p = subprocess.run([BIN, *args], input=stdin, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def example(name):
    return os.path.join(SRC, 'examples', 'state_machines', name)


class Cli(unittest.TestCase):
    def test_version_and_help(self):
        code, out, _ = sy('--version')
        self.assertEqual(code, 0)
        self.assertTrue(out.startswith('switchyard '), out)
        for sub in ([], ['validate'], ['run']):
            code, out, _ = sy(*sub, '--help')
            self.assertEqual(code, 0, sub)
            self.assertIn('Usage', out)

    def test_usage_errors_exit_2(self):
        self.assertEqual(sy()[0], 2)
        self.assertEqual(sy('frobnicate')[0], 2)
        self.assertEqual(sy('validate')[0], 2)

    def test_validate_valid_examples(self):
        code, out, _ = sy('validate', example('hello.asl.json'), example('orders.asl.json'),
                          example('retry.asl.json'))
        self.assertEqual(code, 0, out)
        self.assertEqual(out.count(': valid'), 3)

    def test_validate_broken_example_lists_every_problem(self):
        code, out, _ = sy('validate', example('broken.asl.json'), '--json')
        self.assertEqual(code, 1)
        res = json.loads(out)
        self.assertFalse(res['valid'])
        locations = {d['location'] for d in res['diagnostics']}
        # Next to a missing state, States.ALL not alone, a negative MaxAttempts, Heartbeat >=
        # Timeout, a Choice with End, a string operand for a Numeric operator, a Succeed with
        # Next, an unreachable state: all reported at once.
        for loc in ('/States/Charge/Next', '/States/Charge/HeartbeatSeconds',
                    '/States/Charge/Retry/0/MaxAttempts', '/States/Decide'):
            self.assertTrue(any(l.startswith(loc) for l in locations), (loc, locations))
        self.assertGreaterEqual(len(res['diagnostics']), 6, res['diagnostics'])
        for d in res['diagnostics']:
            self.assertEqual(set(d), {'severity', 'code', 'location', 'message'})

    def test_validate_text_format_and_stdin(self):
        code, out, _ = sy('validate', '-', stdin='{"StartAt": "A", "States": {}}')
        self.assertEqual(code, 1)
        self.assertRegex(out, r'^<stdin>:/\S*: error [A-Z_]+: .+', out)
        code, out, _ = sy('validate', '-', stdin='not json')
        self.assertEqual(code, 1)
        self.assertIn('INVALID_JSON_DESCRIPTION', out)

    def test_validate_unreadable_file_exits_2(self):
        code, _, err = sy('validate', '/nonexistent/definition.json')
        self.assertEqual(code, 2)
        self.assertIn('/nonexistent/definition.json', err)


class Run(unittest.TestCase):
    def test_hello(self):
        code, out, err = sy('run', example('hello.asl.json'), '--input', '{"name":"Ada"}')
        self.assertEqual(code, 0, err)
        self.assertEqual(json.loads(out), {'greeting': 'Hello, Ada!', 'encoded': 'QWRh'})

    def test_orders_json_and_history(self):
        code, out, err = sy('run', example('orders.asl.json'), '--input-file',
                            example('orders.input.json'), '--json', '--history')
        self.assertEqual(code, 0, err)
        res = json.loads(out)
        self.assertEqual(res['status'], 'SUCCEEDED')
        self.assertEqual(res['output']['lines'], 3)
        self.assertEqual(res['output']['receipt'],
                         {'id': 'receipt-A-1001', 'discount': {'percent': 15, 'reason': 'gold customer'}})
        types = [e['type'] for e in res['history']]
        self.assertEqual(types[0], 'ExecutionStarted')
        self.assertEqual(types[-1], 'ExecutionSucceeded')
        self.assertEqual(types.count('MapIterationSucceeded'), 3)
        self.assertIn('ParallelStateStarted', types)
        self.assertIn('ParallelStateExited', types)

    def test_failure_exit_1_with_error_on_stderr(self):
        with tempfile.NamedTemporaryFile('w', suffix='.json', delete=False) as f:
            json.dump({'StartAt': 'F', 'States': {'F': {'Type': 'Fail', 'Error': 'Oops',
                                                         'Cause': 'on purpose'}}}, f)
        try:
            code, out, err = sy('run', f.name)
            self.assertEqual(code, 1)
            self.assertIn('Oops', err)
            self.assertIn('on purpose', err)
            code, out, _ = sy('run', f.name, '--json')
            self.assertEqual(json.loads(out), {'status': 'FAILED', 'output': None, 'error': 'Oops',
                                               'cause': 'on purpose'})
        finally:
            os.unlink(f.name)

    def test_invalid_definition_exit_2(self):
        code, _, err = sy('run', example('broken.asl.json'))
        self.assertEqual(code, 2)
        self.assertIn('MISSING_TRANSITION_TARGET', err)

    def test_retry_and_catch_with_fast_timers(self):
        code, out, err = sy('run', example('retry.asl.json'), '--fast-timers', '--json', '--history')
        self.assertEqual(code, 0, err)
        res = json.loads(out)
        self.assertEqual(res['output']['error'], 'Inventory.OutOfStock')
        self.assertEqual(res['output']['message'], 'Sorry: no kettles left')
        types = [e['type'] for e in res['history']]
        self.assertEqual(types.count('ParallelStateStarted'), 3)  # first try + 2 retries

    def test_run_with_functions(self):
        functions = os.path.join(SRC, 'examples', 'functions')
        code, out, err = sy('run', example('greet.asl.json'), '--functions', functions,
                            '--input', '{"name": "Ada", "amount": 42}', '--json', '--history')
        self.assertEqual(code, 0, err)
        res = json.loads(out)
        self.assertEqual(res['status'], 'SUCCEEDED')
        self.assertEqual(res['output']['greet']['greetings'],
                         {'python': 'Hello, Ada!', 'node': 'Hello, Ada!', 'status': 200,
                          'shell': 'Hello from a shell function'})
        self.assertEqual(res['output']['payment'], {'charged': 42})
        types = [e['type'] for e in res['history']]
        self.assertEqual(types.count('LambdaFunctionSucceeded'), 2)
        self.assertEqual(types.count('TaskSucceeded'), 2)
        self.assertIn('REPORT RequestId:', err)  # function logs go to stderr

        # The function raises: the Catch gets its error type and error document.
        code, out, err = sy('run', example('greet.asl.json'), '--functions', functions,
                            '--input', '{"name": "Ada", "amount": 420}')
        self.assertEqual(code, 0, err)
        res = json.loads(out)
        self.assertEqual(res['declined'], 'PaymentDeclined')
        self.assertEqual(res['why']['errorMessage'], 'amount 420 is over the card limit')

    def test_run_without_functions_names_the_missing_backend(self):
        code, _, err = sy('run', example('greet.asl.json'), '--input', '{"amount": 1}')
        self.assertEqual(code, 1)
        self.assertIn('States.TaskFailed', err)
        self.assertIn('no function backend configured for', err)


if __name__ == '__main__':
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], '-v'])
