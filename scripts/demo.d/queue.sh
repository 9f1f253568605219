# Sourced by scripts/demo once `serve` runs ($aws_cli, $endpoint, $base, $role, lam, step,
# zip_dir): a queue feeding a function through an event-source mapping, with the AWS CLI.
step "A queue feeding a function (SQS API + event-source mapping), with the AWS CLI"
sqs() { "$aws_cli" --endpoint-url "$endpoint" sqs "$@" </dev/null; }
mkdir -p "$base/queue-consumer"
cat >"$base/queue-consumer/handler.py" <<'PY'
import os

def handler(event, context):
    # Lambda's SQS event: {"Records": [{"messageId", "body", "attributes", ...}]}.
    failed = []
    with open(os.environ["OUT_FILE"], "a") as out:
        for record in event["Records"]:
            if record["body"].startswith("poison"):
                failed.append({"itemIdentifier": record["messageId"]})
            else:
                out.write("processed %s (receive %s)\n" % (
                    record["body"], record["attributes"]["ApproximateReceiveCount"]))
    # ReportBatchItemFailures: only these come back (and go to the dead-letter queue later).
    return {"batchItemFailures": failed}
PY
zip_dir "$base/queue-consumer" "$base/queue-consumer.zip"
lam create-function --function-name order-queue-consumer --runtime python3.11 \
  --handler handler.handler --role "$role" --timeout 3 --zip-file "fileb://$base/queue-consumer.zip" \
  --environment "Variables={OUT_FILE=$base/processed.txt}" --query '[FunctionName, State]' --output text
echo "-- aws sqs create-queue: orders-dlq, and orders (redrive to orders-dlq after 2 receives):"
sqs create-queue --queue-name orders-dlq --query QueueUrl --output text
queue=$(sqs create-queue --queue-name orders --query QueueUrl --output text --attributes \
  '{"VisibilityTimeout":"3","RedrivePolicy":"{\"deadLetterTargetArn\":\"arn:aws:sqs:us-east-1:000000000000:orders-dlq\",\"maxReceiveCount\":\"2\"}"}')
echo "$queue"
echo "-- aws lambda create-event-source-mapping (batches of up to 10, partial batch failures):"
mapping=$(lam create-event-source-mapping --function-name order-queue-consumer --batch-size 10 \
  --event-source-arn arn:aws:sqs:us-east-1:000000000000:orders \
  --function-response-types ReportBatchItemFailures --query UUID --output text)
lam get-event-source-mapping --uuid "$mapping" --query '[UUID, State, BatchSize]' --output text
echo "-- aws sqs send-message-batch: four orders and a poison message"
sqs send-message-batch --queue-url "$queue" --query 'Successful[].Id' --output text --entries \
  Id=o1,MessageBody=order-1 Id=o2,MessageBody=order-2 Id=o3,MessageBody=order-3 \
  Id=o4,MessageBody=order-4 Id=p1,MessageBody=poison-pill
dlq_url=$(sqs get-queue-url --queue-name orders-dlq --query QueueUrl --output text)
echo "-- waiting for the poison message to reach orders-dlq (two failed receives, 3 s apart)"
for _ in $(seq 150); do
  [ "$(sqs get-queue-attributes --queue-url "$dlq_url" --attribute-names ApproximateNumberOfMessages \
    --query Attributes.ApproximateNumberOfMessages --output text)" = 1 ] && break
  sleep 0.2
done
echo "-- what the function processed:"
sort "$base/processed.txt"
echo "-- aws sqs receive-message on orders-dlq:"
sqs receive-message --queue-url "$dlq_url" --attribute-names ApproximateReceiveCount \
  --query 'Messages[].[Body, MessageId]' --output text
echo "-- orders is empty:"
sqs get-queue-attributes --queue-url "$queue" --attribute-names ApproximateNumberOfMessages \
  ApproximateNumberOfMessagesNotVisible --query Attributes --output json
lam delete-event-source-mapping --uuid "$mapping" --query State --output text
