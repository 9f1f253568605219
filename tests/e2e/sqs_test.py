#!/usr/bin/env python3
"""End-to-end tests of queues (the SQS API) and event-source mappings in `switchyard serve`.

Both SQS protocols are driven by real clients: boto3 >= 1.34 and awscli v1 speak the JSON
protocol; Debian's awscli v2 (/usr/bin/aws 2.9) and Debian's boto3 1.26 (/usr/bin/python3)
speak the query/XML protocol. boto3 verifies MD5OfMessageBody / MD5OfMessageAttributes.

Usage: sqs_test.py PATH/TO/switchyard
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.parse
import urllib.request

from botocore.exceptions import ClientError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import e2e_common  # noqa: E402
from e2e_common import REGION, wait_until, zip_of  # noqa: E402

BIN = None
V2_CLI = '/usr/bin/aws'
SYSTEM_PYTHON = '/usr/bin/python3'


# Records each batch (one JSON line: the records' ids, bodies, receive counts) in $RECORD_FILE.
# Bodies starting with "poison" always fail the whole batch; with $PARTIAL set, bodies starting
# with "flaky" are reported as failed items on their first delivery.
CONSUMER_ZIP = zip_of({'consumer.py': (
    'import json, os\n'
    'def handler(event, context):\n'
    '    records = event["Records"]\n'
    '    line = json.dumps([[r["messageId"], r["body"], r["attributes"]["ApproximateReceiveCount"],\n'
    '                        r["eventSource"], r["eventSourceARN"], r["md5OfBody"],\n'
    '                        r["messageAttributes"]] for r in records])\n'
    '    with open(os.environ["RECORD_FILE"], "a") as f:\n'
    '        f.write(line + "\\n")\n'
    '    if any(r["body"].startswith("poison") for r in records):\n'
    '        raise ValueError("poison message")\n'
    '    if os.environ.get("PARTIAL"):\n'
    '        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in records\n'
    '                if r["body"].startswith("flaky") and\n'
    '                r["attributes"]["ApproximateReceiveCount"] == "1"]}\n'
    '    return {}\n')})


def Server(data_dir):
    """`switchyard serve` on the embedded PostgreSQL in `data_dir` (kept by stop())."""
    return e2e_common.Server(BIN, data_dir=data_dir, clean_env=True)


def error_code(call):
    try:
        call()
    except ClientError as e:
        return e.response['Error']['Code']
    return None


def batches(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f.read().splitlines() if line]


class Sqs(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix='switchyard-sqs.')
        os.chmod(cls.base, 0o755)
        cls.server = Server(cls.base)
        cls.sqs = cls.server.client('sqs')
        cls.lam = cls.server.client('lambda')

    @classmethod
    def tearDownClass(cls):
        cls.server.stop()
        shutil.rmtree(cls.base, ignore_errors=True)

    def arn(self, name):
        return 'arn:aws:sqs:%s:000000000000:%s' % (REGION, name)

    def consumer(self, name, partial=False, timeout=3):
        record = os.path.join(self.base, name + '.jsonl')
        env = {'RECORD_FILE': record}
        if partial:
            env['PARTIAL'] = '1'
        self.lam.create_function(FunctionName=name, Runtime='python3.11',
                                 Role='arn:aws:iam::1:role/r', Handler='consumer.handler',
                                 Code={'ZipFile': CONSUMER_ZIP}, Timeout=timeout,
                                 Environment={'Variables': env})
        return record

    def count(self, url, name='ApproximateNumberOfMessages'):
        attributes = self.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[name])
        return int(attributes['Attributes'][name])

    # ---- the queue API, JSON protocol (boto3) ---------------------------------------------------

    def test_json_protocol_send_receive_delete_with_attributes(self):
        url = self.sqs.create_queue(QueueName='plain')['QueueUrl']
        self.assertEqual(url, self.server.url + '/000000000000/plain')
        # Same attributes again: the same queue; different ones: QueueNameExists.
        self.assertEqual(self.sqs.create_queue(QueueName='plain')['QueueUrl'], url)
        self.assertEqual(error_code(lambda: self.sqs.create_queue(
            QueueName='plain', Attributes={'VisibilityTimeout': '7'})), 'QueueAlreadyExists')
        sent = self.sqs.send_message(
            QueueUrl=url, MessageBody='héllo <&>',
            MessageAttributes={'s': {'DataType': 'String', 'StringValue': 'v'},
                               'n': {'DataType': 'Number', 'StringValue': '42'},
                               'b': {'DataType': 'Binary', 'BinaryValue': b'\x00\xff'}})
        self.assertIn('MD5OfMessageAttributes', sent)
        got = self.sqs.receive_message(QueueUrl=url, MessageAttributeNames=['All'],
                                       AttributeNames=['All'])['Messages']
        self.assertEqual(len(got), 1)
        message = got[0]
        self.assertEqual(message['MessageId'], sent['MessageId'])
        self.assertEqual(message['Body'], 'héllo <&>')
        self.assertEqual(message['MessageAttributes']['b']['BinaryValue'], b'\x00\xff')
        self.assertEqual(message['Attributes']['ApproximateReceiveCount'], '1')
        self.assertIn('SentTimestamp', message['Attributes'])
        # In flight: not received again, counted as not visible.
        self.assertNotIn('Messages', self.sqs.receive_message(QueueUrl=url))
        self.assertEqual(self.count(url, 'ApproximateNumberOfMessagesNotVisible'), 1)
        # Visible again at once, received a second time with a new handle; the old one no
        # longer deletes it.
        self.sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=message['ReceiptHandle'],
                                           VisibilityTimeout=0)
        again = self.sqs.receive_message(QueueUrl=url, AttributeNames=['ApproximateReceiveCount'])
        again = again['Messages'][0]
        self.assertEqual(again['Attributes']['ApproximateReceiveCount'], '2')
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=message['ReceiptHandle'])
        self.assertEqual(self.count(url, 'ApproximateNumberOfMessagesNotVisible'), 1)
        self.sqs.delete_message(QueueUrl=url, ReceiptHandle=again['ReceiptHandle'])
        self.assertEqual(self.count(url, 'ApproximateNumberOfMessagesNotVisible'), 0)
        self.assertEqual(error_code(lambda: self.sqs.delete_message(
            QueueUrl=url, ReceiptHandle='garbage')), 'ReceiptHandleIsInvalid')

    def test_json_protocol_errors(self):
        url = self.sqs.create_queue(QueueName='errors')['QueueUrl']
        self.assertEqual(error_code(lambda: self.sqs.get_queue_url(QueueName='absent')),
                         'AWS.SimpleQueueService.NonExistentQueue')
        try:
            self.sqs.get_queue_url(QueueName='absent')
        except self.sqs.exceptions.QueueDoesNotExist:
            pass
        self.assertEqual(error_code(lambda: self.sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=11)), 'InvalidParameterValue')
        self.assertEqual(error_code(lambda: self.sqs.receive_message(
            QueueUrl=url, WaitTimeSeconds=21)), 'InvalidParameterValue')
        self.assertEqual(error_code(lambda: self.sqs.send_message_batch(
            QueueUrl=url, Entries=[{'Id': 'a', 'MessageBody': 'x'},
                                   {'Id': 'a', 'MessageBody': 'y'}])),
            'AWS.SimpleQueueService.BatchEntryIdsNotDistinct')
        self.assertEqual(error_code(lambda: self.sqs.send_message_batch(
            QueueUrl=url, Entries=[{'Id': str(i), 'MessageBody': 'x'} for i in range(11)])),
            'AWS.SimpleQueueService.TooManyEntriesInBatchRequest')
        self.assertEqual(error_code(lambda: self.sqs.create_queue(
            QueueName='bad name')), 'InvalidParameterValue')
        self.assertEqual(error_code(lambda: self.sqs.create_queue(
            QueueName='x', Attributes={'VisibilityTimeout': '99999'})), 'InvalidAttributeValue')
        self.assertEqual(error_code(lambda: self.sqs.create_queue(
            QueueName='x', Attributes={'Color': 'red'})), 'InvalidAttributeName')
        self.assertEqual(error_code(lambda: self.sqs.send_message(
            QueueUrl=url, MessageBody='x', DelaySeconds=901)), 'InvalidParameterValue')
        # A batch with one bad entry: the others are sent, the bad one is reported.
        result = self.sqs.send_message_batch(
            QueueUrl=url, Entries=[{'Id': 'ok', 'MessageBody': 'x'},
                                   {'Id': 'bad', 'MessageBody': 'x', 'DelaySeconds': 1000}])
        self.assertEqual([e['Id'] for e in result['Successful']], ['ok'])
        self.assertEqual([(e['Id'], e['Code']) for e in result['Failed']],
                         [('bad', 'InvalidParameterValue')])

    def test_delay_long_poll_purge_list_delete(self):
        url = self.sqs.create_queue(QueueName='delays')['QueueUrl']
        self.sqs.send_message(QueueUrl=url, MessageBody='later', DelaySeconds=1)
        self.assertEqual(self.count(url, 'ApproximateNumberOfMessagesDelayed'), 1)
        self.assertNotIn('Messages', self.sqs.receive_message(QueueUrl=url))
        # Long polling returns the message once its delay has passed.
        got = self.sqs.receive_message(QueueUrl=url, WaitTimeSeconds=10)
        self.assertEqual(got['Messages'][0]['Body'], 'later')
        self.sqs.send_message(QueueUrl=url, MessageBody='x')
        self.sqs.purge_queue(QueueUrl=url)
        self.assertEqual(self.count(url), 0)
        # SQS: one purge per queue per 60 seconds; the second changes nothing.
        self.sqs.send_message(QueueUrl=url, MessageBody='kept')
        with self.assertRaises(ClientError) as raised:
            self.sqs.purge_queue(QueueUrl=url)
        self.assertEqual(raised.exception.response['Error']['Code'],
                         'AWS.SimpleQueueService.PurgeQueueInProgress')
        self.assertEqual(raised.exception.response['Error']['Message'],
                         'Only one PurgeQueue operation on delays is allowed every 60 seconds.')
        self.assertEqual(raised.exception.response['ResponseMetadata']['HTTPStatusCode'], 403)
        self.assertEqual(self.count(url), 1)
        for i in range(3):
            self.sqs.create_queue(QueueName='page-%d' % i)
        first = self.sqs.list_queues(QueueNamePrefix='page-', MaxResults=2)
        self.assertEqual(len(first['QueueUrls']), 2)
        rest = self.sqs.list_queues(QueueNamePrefix='page-', MaxResults=2,
                                    NextToken=first['NextToken'])
        self.assertEqual(rest['QueueUrls'], [self.server.url + '/000000000000/page-2'])
        self.sqs.delete_queue(QueueUrl=url)
        self.assertEqual(error_code(lambda: self.sqs.send_message(QueueUrl=url, MessageBody='x')),
                         'AWS.SimpleQueueService.NonExistentQueue')

    def test_redrive_moves_messages_received_too_often(self):
        dlq = self.sqs.create_queue(QueueName='plain-dlq')['QueueUrl']
        url = self.sqs.create_queue(QueueName='redriven', Attributes={
            'RedrivePolicy': json.dumps({'deadLetterTargetArn': self.arn('plain-dlq'),
                                         'maxReceiveCount': 2})})['QueueUrl']
        self.sqs.send_message(QueueUrl=url, MessageBody='bad')
        for _ in range(2):
            got = self.sqs.receive_message(QueueUrl=url, VisibilityTimeout=0)
            self.assertEqual(len(got['Messages']), 1)
        self.assertNotIn('Messages', self.sqs.receive_message(QueueUrl=url))
        moved = self.sqs.receive_message(QueueUrl=dlq)['Messages']
        self.assertEqual([m['Body'] for m in moved], ['bad'])

    def test_fifo_order_groups_and_deduplication(self):
        url = self.sqs.create_queue(QueueName='orders.fifo', Attributes={
            'FifoQueue': 'true', 'ContentBasedDeduplication': 'true'})['QueueUrl']
        self.assertEqual(error_code(lambda: self.sqs.send_message(
            QueueUrl=url, MessageBody='x')), 'MissingParameter')
        first = self.sqs.send_message(QueueUrl=url, MessageBody='a1', MessageGroupId='a')
        # The same body within five minutes: deduplicated, answered with the first id.
        again = self.sqs.send_message(QueueUrl=url, MessageBody='a1', MessageGroupId='a')
        self.assertEqual(again['MessageId'], first['MessageId'])
        for body, group in [('a2', 'a'), ('b1', 'b'), ('a3', 'a'), ('b2', 'b')]:
            self.sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group,
                                  MessageDeduplicationId=body)
        got = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=2)['Messages']
        self.assertEqual([m['Body'] for m in got], ['a1', 'a2'])
        # Group a is in flight: only b's messages come out, in order.
        more = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)['Messages']
        self.assertEqual([m['Body'] for m in more], ['b1', 'b2'])
        self.assertNotIn('Messages', self.sqs.receive_message(QueueUrl=url))
        for m in got:
            self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m['ReceiptHandle'])
        last = self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)['Messages']
        self.assertEqual([m['Body'] for m in last], ['a3'])

    # ---- the query protocol -------------------------------------------------------------------------

    def test_query_protocol_with_awscli_v2(self):
        if not os.path.exists(V2_CLI):
            self.skipTest('no ' + V2_CLI)
        rc, out, err = self.server.cli(V2_CLI, 'sqs', 'create-queue', '--queue-name', 'v2q',
                                       '--attributes', 'VisibilityTimeout=40')
        self.assertEqual(rc, 0, err)
        url = json.loads(out)['QueueUrl']
        rc, out, err = self.server.cli(
            V2_CLI, 'sqs', 'send-message', '--queue-url', url, '--message-body', 'a & <b>',
            '--message-attributes', '{"k":{"DataType":"String","StringValue":"v"}}')
        self.assertEqual(rc, 0, err)
        rc, out, err = self.server.cli(V2_CLI, 'sqs', 'receive-message', '--queue-url', url,
                                       '--message-attribute-names', 'All',
                                       '--attribute-names', 'All')
        self.assertEqual(rc, 0, err)
        message = json.loads(out)['Messages'][0]
        self.assertEqual(message['Body'], 'a & <b>')
        self.assertEqual(message['MessageAttributes']['k']['StringValue'], 'v')
        rc, out, err = self.server.cli(V2_CLI, 'sqs', 'delete-message', '--queue-url', url,
                                       '--receipt-handle', message['ReceiptHandle'])
        self.assertEqual(rc, 0, err)
        rc, out, err = self.server.cli(V2_CLI, 'sqs', 'get-queue-attributes', '--queue-url', url,
                                       '--attribute-names', 'VisibilityTimeout', 'QueueArn')
        self.assertEqual(json.loads(out)['Attributes'],
                         {'VisibilityTimeout': '40', 'QueueArn': self.arn('v2q')})
        rc, out, err = self.server.cli(V2_CLI, 'sqs', 'get-queue-url', '--queue-name', 'absent')
        self.assertNotEqual(rc, 0)
        self.assertIn('AWS.SimpleQueueService.NonExistentQueue', err)
        rc, out, err = self.server.cli(V2_CLI, 'sqs', 'purge-queue', '--queue-url', url)
        self.assertEqual(rc, 0, err)
        rc, out, err = self.server.cli(V2_CLI, 'sqs', 'purge-queue', '--queue-url', url)
        self.assertNotEqual(rc, 0)
        self.assertIn('AWS.SimpleQueueService.PurgeQueueInProgress', err)
        self.assertIn('Only one PurgeQueue operation on v2q is allowed every 60 seconds.', err)
        # awscli v1 (JSON protocol) sees the same queue.
        rc, out, err = self.server.cli('aws', 'sqs', 'list-queues', '--queue-name-prefix', 'v2')
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out)['QueueUrls'], [url])

    def test_query_protocol_raw_xml(self):
        self.sqs.create_queue(QueueName='rawq')
        form = urllib.parse.urlencode({'Action': 'SendMessage', 'MessageBody': 'x y+z',
                                       'Version': '2012-11-05'}).encode()
        request = urllib.request.Request(self.server.url + '/000000000000/rawq', data=form,
                                         headers={'Content-Type':
                                                  'application/x-www-form-urlencoded'})
        body = urllib.request.urlopen(request).read().decode()
        self.assertIn('<SendMessageResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">',
                      body)
        self.assertIn('<MD5OfMessageBody>', body)
        form = urllib.parse.urlencode({'Action': 'GetQueueUrl', 'QueueName': 'nope'}).encode()
        request = urllib.request.Request(self.server.url + '/', data=form, headers={
            'Content-Type': 'application/x-www-form-urlencoded'})
        with self.assertRaises(urllib.error.HTTPError) as raised:
            urllib.request.urlopen(request)
        self.assertEqual(raised.exception.code, 400)
        error = raised.exception.read().decode()
        self.assertIn('<Code>AWS.SimpleQueueService.NonExistentQueue</Code>', error)
        self.assertIn('<ErrorResponse', error)

    def test_query_protocol_with_debian_boto3(self):
        if not os.path.exists(SYSTEM_PYTHON):
            self.skipTest('no ' + SYSTEM_PYTHON)
        script = (
            'import boto3, sys\n'
            'c = boto3.client("sqs", endpoint_url=sys.argv[1], region_name="us-east-1",\n'
            '                 aws_access_key_id="x", aws_secret_access_key="y")\n'
            'assert c.meta.service_model.protocol == "query", c.meta.service_model.protocol\n'
            'u = c.create_queue(QueueName="oldboto")["QueueUrl"]\n'
            'r = c.send_message_batch(QueueUrl=u, Entries=[\n'
            '    {"Id": "1", "MessageBody": "one", "MessageAttributes":\n'
            '     {"b": {"DataType": "Binary", "BinaryValue": b"\\x01\\x02"}}},\n'
            '    {"Id": "2", "MessageBody": "two"}])\n'
            'assert len(r["Successful"]) == 2, r\n'
            'm = c.receive_message(QueueUrl=u, MaxNumberOfMessages=10,\n'
            '                      MessageAttributeNames=["All"])["Messages"]\n'
            'assert sorted(x["Body"] for x in m) == ["one", "two"], m\n'
            'd = c.delete_message_batch(QueueUrl=u, Entries=[\n'
            '    {"Id": str(i), "ReceiptHandle": x["ReceiptHandle"]} for i, x in enumerate(m)])\n'
            'assert len(d["Successful"]) == 2, d\n'
            'print("ok")\n')
        p = subprocess.run([SYSTEM_PYTHON, '-c', script, self.server.url], capture_output=True,
                           text=True, timeout=60)
        if 'No module named' in p.stderr:
            self.skipTest('no boto3 for ' + SYSTEM_PYTHON)
        self.assertEqual(p.stdout.strip(), 'ok', p.stderr)

    def test_query_protocol_signature_failures_answer_xml(self):
        """With credentials, a query request that fails SigV4 gets the query protocol's XML
        ErrorResponse (code, HTTP status), from Debian's aws CLI, Debian's boto3 and raw."""
        base = tempfile.mkdtemp(prefix='switchyard-sqs-auth.')
        os.chmod(base, 0o755)
        credentials = os.path.join(base, 'credentials')
        with open(credentials, 'w') as f:
            f.write('[default]\naws_access_key_id = AKSQS\naws_secret_access_key = secret\n')
        os.makedirs(os.path.join(base, 'node'))
        server = e2e_common.Server(BIN, '--credentials-file', credentials,
                                   data_dir=os.path.join(base, 'node'), clean_env=True)
        try:
            good = ('AKSQS', 'secret')
            url = server.client('sqs', key=good).create_queue(QueueName='authq')['QueueUrl']
            # Raw: the query protocol's XML, with each failure's code and status.
            form = urllib.parse.urlencode({'Action': 'GetQueueUrl', 'QueueName': 'authq',
                                           'Version': '2012-11-05'})
            headers = {'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8'}
            cases = [(('AKSQS', 'wrong'), 403, 'SignatureDoesNotMatch'),
                     (('AKNOBODY', 'secret'), 403, 'InvalidClientTokenId')]
            for key, status, code in cases:
                got, got_headers, body = e2e_common.signed_send(
                    'POST', server.url + '/', form, headers, key=key, service='sqs')
                body = body.decode()
                self.assertEqual(got, status, body)
                self.assertTrue(got_headers['Content-Type'].startswith('text/xml'), got_headers)
                self.assertIn('<ErrorResponse xmlns="http://queue.amazonaws.com/doc/2012-11-05/">'
                              '<Error><Type>Sender</Type><Code>%s</Code>' % code, body)
            got, _, body = e2e_common.send('POST', server.url + '/', form, headers)
            self.assertEqual(got, 403)
            self.assertIn('<Code>MissingAuthenticationToken</Code>', body.decode())
            # Debian's aws CLI (query protocol) reads the code.
            if os.path.exists(V2_CLI):
                rc, out, err = server.cli(V2_CLI, 'sqs', 'get-queue-url', '--queue-name', 'authq',
                                          key=('AKSQS', 'wrong'))
                self.assertNotEqual(rc, 0)
                self.assertIn('SignatureDoesNotMatch', err)
                rc, out, err = server.cli(V2_CLI, 'sqs', 'get-queue-url', '--queue-name', 'authq',
                                          key=('AKNOBODY', 'secret'))
                self.assertNotEqual(rc, 0)
                self.assertIn('InvalidClientTokenId', err)
                rc, out, err = server.cli(V2_CLI, 'sqs', 'get-queue-url', '--queue-name', 'authq',
                                          key=good)
                self.assertEqual(rc, 0, err)
                self.assertEqual(json.loads(out)['QueueUrl'], url)
            # Debian's boto3 (query protocol) parses the XML error.
            if os.path.exists(SYSTEM_PYTHON):
                script = (
                    'import boto3, sys\n'
                    'from botocore.config import Config\n'
                    'from botocore.exceptions import ClientError\n'
                    'for key, secret in (("AKSQS", "wrong"), ("AKNOBODY", "secret")):\n'
                    '    c = boto3.client("sqs", endpoint_url=sys.argv[1],\n'
                    '                     region_name="us-east-1", aws_access_key_id=key,\n'
                    '                     aws_secret_access_key=secret,\n'
                    '                     config=Config(retries={"max_attempts": 1}))\n'
                    '    assert c.meta.service_model.protocol == "query"\n'
                    '    try:\n'
                    '        c.get_queue_url(QueueName="authq")\n'
                    '    except ClientError as e:\n'
                    '        print(e.response["Error"]["Code"],\n'
                    '              e.response["ResponseMetadata"]["HTTPStatusCode"])\n')
                p = subprocess.run([SYSTEM_PYTHON, '-c', script, server.url],
                                   capture_output=True, text=True, timeout=60)
                if 'No module named' not in p.stderr:
                    self.assertEqual(p.stdout.split('\n')[:2],
                                     ['SignatureDoesNotMatch 403', 'InvalidClientTokenId 403'],
                                     p.stderr)
        finally:
            server.stop()
            shutil.rmtree(base, ignore_errors=True)

    # ---- event-source mappings ------------------------------------------------------------------------

    def test_mapping_api_shapes_and_errors(self):
        self.sqs.create_queue(QueueName='esm-api')
        self.consumer('esm_api_fn')
        self.assertEqual(error_code(lambda: self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('esm-api'), FunctionName='absent')),
            'ResourceNotFoundException')
        self.assertEqual(error_code(lambda: self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('absent'), FunctionName='esm_api_fn')),
            'InvalidParameterValueException')
        self.assertEqual(error_code(lambda: self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('esm-api'), FunctionName='esm_api_fn', BatchSize=100)),
            'InvalidParameterValueException')
        created = self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('esm-api'), FunctionName='esm_api_fn', BatchSize=5,
            Enabled=False, FunctionResponseTypes=['ReportBatchItemFailures'],
            ScalingConfig={'MaximumConcurrency': 2})
        self.assertEqual(created['State'], 'Creating')
        self.assertEqual(created['FunctionArn'],
                         'arn:aws:lambda:us-east-1:000000000000:function:esm_api_fn')
        self.assertEqual(self.lam.get_event_source_mapping(UUID=created['UUID'])['State'],
                         'Disabled')
        self.assertEqual(error_code(lambda: self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('esm-api'), FunctionName='esm_api_fn')),
            'ResourceConflictException')
        listed = self.lam.list_event_source_mappings(FunctionName='esm_api_fn')
        self.assertEqual([m['UUID'] for m in listed['EventSourceMappings']], [created['UUID']])
        updated = self.lam.update_event_source_mapping(UUID=created['UUID'], BatchSize=7)
        self.assertEqual(updated['BatchSize'], 7)
        self.assertEqual(updated['ScalingConfig'], {'MaximumConcurrency': 2})
        self.assertEqual(updated['FunctionResponseTypes'], ['ReportBatchItemFailures'])
        self.assertEqual(self.lam.delete_event_source_mapping(UUID=created['UUID'])['State'],
                         'Deleting')
        self.assertEqual(error_code(lambda: self.lam.get_event_source_mapping(
            UUID=created['UUID'])), 'ResourceNotFoundException')
        # A queue whose visibility timeout is shorter than the function's timeout is refused.
        self.sqs.create_queue(QueueName='esm-short', Attributes={'VisibilityTimeout': '1'})
        self.assertEqual(error_code(lambda: self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('esm-short'), FunctionName='esm_api_fn')),
            'InvalidParameterValueException')

    def test_mapping_delivers_1000_messages_once_in_batches(self):
        url = self.sqs.create_queue(QueueName='feed')['QueueUrl']
        record = self.consumer('feed_fn')
        mapping = self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('feed'), FunctionName='feed_fn', BatchSize=10)
        sent = {}
        for start in range(0, 1000, 10):
            result = self.sqs.send_message_batch(QueueUrl=url, Entries=[
                {'Id': str(i), 'MessageBody': 'm-%d' % i,
                 'MessageAttributes': {'n': {'DataType': 'Number', 'StringValue': str(i)}}}
                for i in range(start, start + 10)])
            self.assertEqual(result.get('Failed', []), [])
            for entry in result['Successful']:
                sent[entry['MessageId']] = 'm-%s' % entry['Id']

        def delivered():
            return sum(len(b) for b in batches(record)) >= 1000 and self.count(url) == 0 and \
                self.count(url, 'ApproximateNumberOfMessagesNotVisible') == 0
        wait_until(delivered, what='1000 messages delivered', timeout=90)
        seen = [r for b in batches(record) for r in b]
        self.assertEqual(len(seen), 1000)  # none processed twice
        self.assertEqual({r[0]: r[1] for r in seen}, sent)  # none lost, bodies intact
        self.assertTrue(all(1 <= len(b) <= 10 for b in batches(record)))
        self.assertLess(len(batches(record)), 1000)  # batched, not one by one
        first = seen[0]
        self.assertEqual(first[3], 'aws:sqs')
        self.assertEqual(first[4], self.arn('feed'))
        self.assertEqual(first[6]['n']['dataType'], 'Number')
        self.assertEqual(
            self.lam.get_event_source_mapping(UUID=mapping['UUID'])['LastProcessingResult'], 'OK')
        self.lam.delete_event_source_mapping(UUID=mapping['UUID'])

    def test_partial_batch_failures_are_redelivered(self):
        url = self.sqs.create_queue(QueueName='partial',
                                    Attributes={'VisibilityTimeout': '2'})['QueueUrl']
        record = self.consumer('partial_fn', partial=True, timeout=1)
        mapping = self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('partial'), FunctionName='partial_fn', BatchSize=10,
            FunctionResponseTypes=['ReportBatchItemFailures'])
        bodies = ['ok-%d' % i for i in range(6)] + ['flaky-%d' % i for i in range(4)]
        self.sqs.send_message_batch(QueueUrl=url, Entries=[
            {'Id': str(i), 'MessageBody': b} for i, b in enumerate(bodies)])

        def settled():
            seen = [r for b in batches(record) for r in b]
            return len(seen) >= 14 and self.count(url) == 0 and \
                self.count(url, 'ApproximateNumberOfMessagesNotVisible') == 0 and seen
        seen = wait_until(settled, what='flaky messages redelivered', timeout=90)
        time.sleep(2.5)  # nothing more comes after a visibility timeout
        seen = [r for b in batches(record) for r in b]
        deliveries = {}
        for r in seen:
            deliveries.setdefault(r[1], []).append(r[2])
        for body in bodies:
            expected = ['1', '2'] if body.startswith('flaky') else ['1']
            self.assertEqual(deliveries[body], expected, body)
        self.lam.delete_event_source_mapping(UUID=mapping['UUID'])

    def test_poison_messages_are_dead_lettered(self):
        dlq = self.sqs.create_queue(QueueName='poison-dlq')['QueueUrl']
        url = self.sqs.create_queue(QueueName='poisoned', Attributes={
            'VisibilityTimeout': '1',
            'RedrivePolicy': json.dumps({'deadLetterTargetArn': self.arn('poison-dlq'),
                                         'maxReceiveCount': '2'})})['QueueUrl']
        record = self.consumer('poison_fn', timeout=1)
        mapping = self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('poisoned'), FunctionName='poison_fn', BatchSize=1)
        self.sqs.send_message(QueueUrl=url, MessageBody='poison-pill')
        self.sqs.send_message(QueueUrl=url, MessageBody='fine')
        moved = wait_until(lambda: self.sqs.receive_message(QueueUrl=dlq).get('Messages'),
                           what='the poison message in the dead-letter queue', timeout=90)
        self.assertEqual([m['Body'] for m in moved], ['poison-pill'])
        attempts = [r for b in batches(record) for r in b if r[1] == 'poison-pill']
        self.assertEqual([r[2] for r in attempts], ['1', '2'])
        fine = [r for b in batches(record) for r in b if r[1] == 'fine']
        self.assertEqual(len(fine), 1)
        self.lam.delete_event_source_mapping(UUID=mapping['UUID'])

    def test_fifo_mapping_keeps_group_order(self):
        url = self.sqs.create_queue(QueueName='seq.fifo', Attributes={
            'FifoQueue': 'true', 'ContentBasedDeduplication': 'true'})['QueueUrl']
        record = self.consumer('seq_fn')
        for i in range(30):
            self.sqs.send_message(QueueUrl=url, MessageBody='%s-%02d' % ('ab'[i % 2], i),
                                  MessageGroupId='ab'[i % 2])
        mapping = self.lam.create_event_source_mapping(
            EventSourceArn=self.arn('seq.fifo'), FunctionName='seq_fn', BatchSize=4)
        wait_until(lambda: sum(len(b) for b in batches(record)) >= 30, what='30 FIFO messages',
                   timeout=90)
        seen = [r[1] for b in batches(record) for r in b]
        for group in 'ab':
            mine = [s for s in seen if s.startswith(group)]
            self.assertEqual(mine, sorted(mine))
            self.assertEqual(len(mine), 15)
        self.lam.delete_event_source_mapping(UUID=mapping['UUID'])

    # ---- a queue as a Lambda async destination -------------------------------------------------

    def test_queue_as_async_destination(self):
        ok_url = self.sqs.create_queue(QueueName='on-success')['QueueUrl']
        bad_url = self.sqs.create_queue(QueueName='on-failure')['QueueUrl']
        self.consumer('dest_fn')
        self.lam.put_function_event_invoke_config(
            FunctionName='dest_fn', MaximumRetryAttempts=0, DestinationConfig={
                'OnSuccess': {'Destination': self.arn('on-success')},
                'OnFailure': {'Destination': self.arn('on-failure')}})
        self.lam.invoke(FunctionName='dest_fn', InvocationType='Event',
                        Payload=json.dumps({'Records': [{
                            'messageId': 'm', 'body': 'fine', 'eventSource': 'x',
                            'eventSourceARN': 'x', 'md5OfBody': 'x', 'messageAttributes': {},
                            'attributes': {'ApproximateReceiveCount': '1'}}]}))
        self.lam.invoke(FunctionName='dest_fn', InvocationType='Event',
                        Payload=json.dumps({'not': 'records'}))
        for url, condition in ((ok_url, 'Success'), (bad_url, 'RetriesExhausted')):
            got = wait_until(lambda: self.sqs.receive_message(QueueUrl=url).get('Messages'),
                             what='a record on ' + url, timeout=90)
            record = json.loads(got[0]['Body'])
            self.assertEqual(record['requestContext']['condition'], condition)
            self.assertEqual(record['requestContext']['functionArn'],
                             'arn:aws:lambda:us-east-1:000000000000:function:dest_fn:$LATEST')

    # ---- Step Functions' sqs:sendMessage ----------------------------------------------------------

    def test_task_states_send_to_a_queue(self):
        url = self.sqs.create_queue(QueueName='from-states')['QueueUrl']
        sfn = self.server.client('stepfunctions')
        definition = {'StartAt': 'Send', 'States': {
            'Send': {'Type': 'Task', 'Resource': 'arn:aws:states:::sqs:sendMessage',
                     'Parameters': {'QueueUrl': url, 'MessageBody': {'order.$': '$.order'}},
                     'ResultSelector': {'id.$': '$.MessageId', 'md5.$': '$.MD5OfMessageBody'},
                     'ResultPath': '$.sent', 'Next': 'Wait'},
            'Wait': {'Type': 'Task',
                     'Resource': 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
                     'Parameters': {'QueueUrl': url,
                                    'MessageBody': {'token.$': '$$.Task.Token'}},
                     'ResultPath': '$.approval', 'End': True}}}
        machine = sfn.create_state_machine(
            name='sender', roleArn='arn:aws:iam::000000000000:role/r',
            definition=json.dumps(definition))['stateMachineArn']
        execution = sfn.start_execution(stateMachineArn=machine,
                                        input=json.dumps({'order': 7}))['executionArn']
        got = []

        def two_messages():
            for m in self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
                    'Messages', []):
                got.append(json.loads(m['Body']))
                self.sqs.delete_message(QueueUrl=url, ReceiptHandle=m['ReceiptHandle'])
            return len(got) >= 2
        wait_until(two_messages, what='the two messages of the state machine', timeout=90)
        self.assertEqual(got[0], {'order': 7})
        sfn.send_task_success(taskToken=got[1]['token'], output=json.dumps({'ok': True}))
        wait_until(lambda: sfn.describe_execution(executionArn=execution)['status'] != 'RUNNING',
                   what='the execution to end', timeout=90)
        described = sfn.describe_execution(executionArn=execution)
        self.assertEqual(described['status'], 'SUCCEEDED')
        output = json.loads(described['output'])
        self.assertEqual(output['approval'], {'ok': True})
        self.assertEqual(len(output['sent']['md5']), 32)
        # A queue that does not exist fails the task with SQS's error.
        bad = sfn.create_state_machine(
            name='sender-bad', roleArn='arn:aws:iam::000000000000:role/r',
            definition=json.dumps({'StartAt': 'S', 'States': {'S': {
                'Type': 'Task', 'Resource': 'arn:aws:states:::sqs:sendMessage',
                'Parameters': {'QueueUrl': url + '-absent', 'MessageBody': 'x'},
                'End': True}}}))['stateMachineArn']
        failed = sfn.start_execution(stateMachineArn=bad)['executionArn']
        wait_until(lambda: sfn.describe_execution(executionArn=failed)['status'] != 'RUNNING',
                   what='the failing execution to end', timeout=90)
        self.assertEqual(sfn.describe_execution(executionArn=failed)['error'],
                         'SQS.QueueDoesNotExistException')


if __name__ == '__main__':
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
