#!/usr/bin/env python3
"""The examples/README.md walkthrough with boto3, against a running `switchyard serve`.

  python3 examples/boto3_walkthrough.py [ENDPOINT]     (default http://127.0.0.1:8083)

Creates the example functions (Python, Node.js, provided) from examples/functions, the
order-processing state machine from examples/state_machines/order_processing.asl.json, starts
two orders, completes the approval callback with SendTaskSuccess and prints what happened.
Names get a suffix (SWITCHYARD_WALKTHROUGH_SUFFIX, default the process id) so that it can run
again against the same server. Exits non-zero when an order does not end as described.
(tests/e2e runs it, so this walkthrough cannot rot.)
"""
import io
import json
import os
import sys
import time
import zipfile

import boto3

HERE = os.path.dirname(os.path.abspath(__file__))
ENDPOINT = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8083"
SUFFIX = os.environ.get("SWITCHYARD_WALKTHROUGH_SUFFIX", str(os.getpid()))
ROLE = "arn:aws:iam::000000000000:role/walkthrough"

# Without --credentials-file the server accepts any key (it listens on loopback only); with one,
# use a key from that file (boto3 reads AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY as usual).
session = boto3.session.Session(
    aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "demo"),
    aws_secret_access_key=os.environ.get("AWS_SECRET_ACCESS_KEY", "demo"),
    region_name="us-east-1")
lam = session.client("lambda", endpoint_url=ENDPOINT)
sfn = session.client("stepfunctions", endpoint_url=ENDPOINT)


def zip_directory(path):
    """The function's folder as a zip, keeping file modes (a `bootstrap` must stay executable)."""
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        for name in sorted(os.listdir(path)):
            z.write(os.path.join(path, name), name)
    return data.getvalue()


# 1. Functions: one per runtime, and the card charger that raises PaymentDeclined above 100.
functions = {
    "order-reserve": ("hello-shell", "provided.al2023", "function.handler"),
    "order-charge": ("flaky", "python3.11", "handler.handler"),
    "order-greet-python": ("hello", "python3.11", "handler.handler"),
    "order-greet-node": ("hello-node", "nodejs20.x", "index.handler"),
}
names = {}
for name, (folder, runtime, handler) in functions.items():
    names[name] = name + "-" + SUFFIX
    created = lam.create_function(
        FunctionName=names[name], Runtime=runtime, Handler=handler, Role=ROLE, Timeout=10,
        Code={"ZipFile": zip_directory(os.path.join(HERE, "functions", folder))})
    print("function", created["FunctionName"], created["Runtime"])

answer = lam.invoke(FunctionName=names["order-greet-python"], Payload=json.dumps({"name": "Ada"}))
print("invoke:", answer["StatusCode"], answer["Payload"].read().decode())

# 2. The state machine, its function names pointed at this run's functions.
with open(os.path.join(HERE, "state_machines", "order_processing.asl.json")) as f:
    definition = f.read()
for name, unique in names.items():
    definition = definition.replace('"' + name + '"', '"' + unique + '"')
    definition = definition.replace(":function:" + name + '"', ":function:" + unique + '"')
machine = sfn.create_state_machine(name="order-processing-" + SUFFIX, definition=definition,
                                   roleArn=ROLE)["stateMachineArn"]
print("state machine", machine)

# 3. Two orders: a gold customer's (goes through to the approval), and one the card declines.
orders = {
    "order-1001": {"customer": {"name": "Ada", "tier": "gold"}, "amount": 80,
                   "lines": [{"sku": "book", "quantity": 2}, {"sku": "pen", "quantity": 10}]},
    "order-1002": {"customer": {"name": "Bob", "tier": "silver"}, "amount": 420,
                   "lines": [{"sku": "desk", "quantity": 1}]},
}
arns = {}
for name, order in orders.items():
    arns[name] = sfn.start_execution(stateMachineArn=machine, name=name,
                                     input=json.dumps(order))["executionArn"]


def wait(arn, timeout=120):
    deadline = time.time() + timeout
    while True:
        description = sfn.describe_execution(executionArn=arn)
        if description["status"] != "RUNNING" or time.time() > deadline:
            return description
        time.sleep(0.2)


declined = wait(arns["order-1002"])
print("order-1002:", declined["status"], declined.get("error"), declined.get("cause"))


# 4. order-1001 waits in Approve (.waitForTaskToken); its token is in the TaskScheduled event.
def task_token(arn, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        for page in sfn.get_paginator("get_execution_history").paginate(executionArn=arn):
            for event in page["events"]:
                details = event.get("taskScheduledEventDetails")
                if details and details["resource"].endswith("waitForTaskToken"):
                    return json.loads(details["parameters"])["Payload"]["token"]
        time.sleep(0.2)
    raise SystemExit("no task token")


sfn.send_task_success(taskToken=task_token(arns["order-1001"]),
                      output=json.dumps({"approver": "Grace"}))
shipped = wait(arns["order-1001"])
print("order-1001:", shipped["status"], shipped.get("output"))
history = sfn.get_execution_history(executionArn=arns["order-1001"], reverseOrder=True,
                                    maxResults=5)["events"]
for event in reversed(history):
    print("  ", event["id"], event["type"])

# What the README promises.
output = json.loads(shipped.get("output") or "null")
ok = (declined["status"] == "FAILED" and declined.get("error") == "OrderDeclined" and
      shipped["status"] == "SUCCEEDED" and output["approvedBy"] == "Grace" and
      output["discount"] == 15 and output["charged"] == 80 and
      output["notified"] == {"email": "Hello, Ada!", "sms": "Hello, Ada!"} and
      [line["sku"] for line in output["reserved"]] == ["book", "pen"])
print("walkthrough:", "ok" if ok else "NOT as described")
sys.exit(0 if ok else 1)
