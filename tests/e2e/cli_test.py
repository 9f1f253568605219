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


def write_temp(obj_or_text, suffix='.json'):
    with tempfile.NamedTemporaryFile('w', suffix=suffix, delete=False) as f:
        f.write(obj_or_text if isinstance(obj_or_text, str) else json.dumps(obj_or_text))
    return f.name


ENDLESS_CHOICE = {'StartAt': 'Loop', 'States': {
    'Loop': {'Type': 'Choice', 'Choices': [{'Variable': '$.spin', 'BooleanEquals': True,
                                            'Next': 'Loop'}], 'Default': 'Done'},
    'Done': {'Type': 'Succeed'}}}
PASS = {'StartAt': 'P', 'States': {'P': {'Type': 'Pass', 'End': True}}}
LIMIT_CAUSE = 'The execution reached the maximum number of history events (25000).'


class Limits(unittest.TestCase):
    """AWS's limits, enforced where AWS enforces them."""

    def setUp(self):
        self.files = []

    def tearDown(self):
        for name in self.files:
            os.unlink(name)

    def temp(self, obj_or_text):
        name = write_temp(obj_or_text)
        self.files.append(name)
        return name

    def test_directories_are_usage_errors(self):
        for args in (['validate', SRC], ['run', example('hello.asl.json'), '--input-file', SRC],
                     ['run', SRC]):
            code, _, err = sy(*args)
            self.assertEqual(code, 2, args)
            self.assertIn('Is a directory', err)
            self.assertNotIn('basic_filebuf', err)

    def test_endless_loop_fails_at_the_history_limit(self):
        loop = self.temp(ENDLESS_CHOICE)
        code, out, err = sy('run', loop, '--input', '{"spin": true}', '--json', '--history')
        self.assertEqual(code, 1, err)
        res = json.loads(out)
        self.assertEqual((res['status'], res['error'], res['cause']),
                         ('FAILED', 'States.Runtime', LIMIT_CAUSE))
        self.assertEqual(len(res['history']), 25000)
        self.assertEqual(res['history'][-2]['type'], 'ChoiceStateExited')
        self.assertEqual(res['history'][-1]['id'], 25000)
        # The explicit type gives the same.
        code, _, err = sy('run', loop, '--input', '{"spin": true}', '--type', 'STANDARD')
        self.assertEqual(code, 1)
        self.assertIn(LIMIT_CAUSE, err)

    def test_express_lasts_five_minutes(self):
        wait = self.temp({'StartAt': 'W', 'States': {'W': {'Type': 'Wait', 'Seconds': 400,
                                                            'End': True}}})
        code, out, err = sy('run', wait, '--type', 'EXPRESS', '--fast-timers', '--json')
        self.assertEqual(code, 1, err)
        self.assertEqual(json.loads(out), {'status': 'TIMED_OUT', 'output': None,
                                           'error': 'States.Timeout', 'cause': None})
        code, out, _ = sy('run', wait, '--fast-timers', '--json')  # Standard: a year
        self.assertEqual(json.loads(out)['status'], 'SUCCEEDED')
        code, _, err = sy('run', wait, '--type', 'express')
        self.assertEqual(code, 2)
        self.assertIn('--type', err)

    def test_wait_until_year_9999_times_out(self):
        wait = self.temp({'StartAt': 'W', 'TimeoutSeconds': 2, 'States': {
            'W': {'Type': 'Wait', 'Timestamp': '9999-12-31T23:59:59Z', 'End': True}}})
        code, _, _ = sy('validate', wait)
        self.assertEqual(code, 0)
        code, out, _ = sy('run', wait, '--fast-timers', '--json', '--history')
        self.assertEqual(code, 1)
        res = json.loads(out)
        self.assertEqual(res['status'], 'TIMED_OUT')
        self.assertEqual([e['type'] for e in res['history']],
                         ['ExecutionStarted', 'WaitStateEntered', 'ExecutionTimedOut'])

    def test_execution_names_follow_aws_rules(self):
        pass_machine = self.temp(PASS)
        for name in ('a b', 'a/b', 'a*', '[x]', 'tab\there', 'ctl\x7f', 'x\u0085y'):
            code, _, err = sy('run', pass_machine, '--name', name)
            self.assertEqual(code, 2, name)
            self.assertIn("InvalidName: Invalid Name: '" + name + "'", err)
        code, _, err = sy('run', pass_machine, '--name', '')
        self.assertEqual(code, 2)
        self.assertIn("ValidationException: 1 validation error detected: Value at 'name' failed "
                      "to satisfy constraint: Member must have length greater than or equal to 1",
                      err)
        code, _, err = sy('run', pass_machine, '--name', 'n' * 81)
        self.assertEqual(code, 2)
        self.assertIn("Member must have length less than or equal to 80", err)
        for name in ('n' * 80, 'order-42_x.y', 'caf\u00e9'):
            code, out, err = sy('run', pass_machine, '--name', name, '--json')
            self.assertEqual(code, 0, (name, err))

    def test_input_over_256_kib_is_refused_before_the_execution(self):
        pass_machine = self.temp(PASS)
        at_limit = '{"a":"' + 'x' * (262144 - 8) + '"}'
        self.assertEqual(len(at_limit), 262144)
        code, out, err = sy('run', pass_machine, '--input-file', self.temp(at_limit))
        self.assertEqual(code, 0, err)
        over = '{"a":"' + 'x' * (262144 - 7) + '"}'
        code, out, err = sy('run', pass_machine, '--input-file', self.temp(over), '--json')
        self.assertEqual(code, 2)
        self.assertEqual(out, '')
        self.assertIn("ValidationException: 1 validation error detected: Value at 'input' failed "
                      "to satisfy constraint: Member must have length less than or equal to "
                      "262144", err)
        self.assertNotIn('returned a result', err)

    def test_big_integers_round_trip_exactly(self):
        # Jackson keeps an integer beyond 64 bits as a BigInteger: exact through every state and
        # in the history; numeric Choice rules compare it as a double (asDouble()).
        big = 123456789012345678901234567890
        machine = self.temp({'StartAt': 'P', 'States': {
            'P': {'Type': 'Pass', 'InputPath': '$.in',
                  'Parameters': {'big.$': '$.big', 'list.$': '$.list', 'pair.$': 'States.Array($.big)'},
                  'ResultPath': '$.params', 'OutputPath': '$.params', 'Next': 'M'},
            'M': {'Type': 'Map', 'ItemsPath': '$.list', 'ResultPath': '$.mapped',
                  'ItemProcessor': {'StartAt': 'I', 'States': {'I': {'Type': 'Pass', 'End': True}}},
                  'Next': 'C'},
            'C': {'Type': 'Choice', 'Default': 'Small', 'Choices': [
                {'Variable': '$.big', 'NumericGreaterThan': 1e29, 'Next': 'Big'}]},
            'Small': {'Type': 'Fail', 'Error': 'Small'},
            'Big': {'Type': 'Pass', 'End': True}}})
        text = '{"in":{"big":%d,"list":[%d,-%d,18446744073709551616]}}' % (big, big, big)
        code, out, err = sy('run', machine, '--input', text, '--json', '--history')
        self.assertEqual(code, 0, err)
        self.assertIn('"big":123456789012345678901234567890', out)
        self.assertNotIn('e29', out)
        res = json.loads(out)
        self.assertEqual(res['status'], 'SUCCEEDED')
        self.assertEqual(res['output'], {'big': big, 'list': [big, -big, 2 ** 64],
                                         'pair': [big], 'mapped': [big, -big, 2 ** 64]})
        exited = [e for e in res['history'] if e['type'] == 'PassStateExited'][0]
        self.assertIn('123456789012345678901234567890', exited['stateExitedEventDetails']['output'])

    def test_definition_over_1_mb_is_refused(self):
        big = json.dumps(PASS)[:-1] + ', "Comment": "' + 'c' * 1048576 + '"}'
        name = self.temp(big)
        code, out, _ = sy('validate', name, '--json')
        self.assertEqual(code, 1)
        res = json.loads(out)
        self.assertFalse(res['valid'])
        self.assertEqual(res['diagnostics'][0]['code'], 'ValidationException')
        code, _, err = sy('run', name)
        self.assertEqual(code, 2)
        self.assertIn("Value at 'definition' failed to satisfy constraint", err)

    def test_history_in_text_mode_goes_to_stderr_as_json_lines(self):
        pass_machine = self.temp(PASS)
        for args, env in ((['--history'], None), ([], {'SWITCHYARD_RUN_HISTORY': '1'})):
            p = subprocess.run([BIN, 'run', pass_machine, '--input', '{"a":1}', *args],
                               capture_output=True, text=True, timeout=60,
                               env={**os.environ, **(env or {})})
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout), {'a': 1})
            events = [json.loads(line) for line in p.stderr.splitlines()]
            self.assertEqual([e['type'] for e in events],
                             ['ExecutionStarted', 'PassStateEntered', 'PassStateExited',
                              'ExecutionSucceeded'])


if __name__ == '__main__':
    BIN, SRC = sys.argv[1], sys.argv[2]
    unittest.main(argv=[sys.argv[0], '-v'])
