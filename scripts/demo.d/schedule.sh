# Sourced by scripts/demo (uses its step, $aws_cli, $endpoint, $orders, $role, sfn): an
# EventBridge Scheduler schedule that starts the order machine. A rate without a StartDate fires
# at once, then every minute; each occurrence fires once, whichever node claims it.
step "aws scheduler create-schedule: the order machine, every minute"
sched() { "$aws_cli" --endpoint-url "$endpoint" scheduler "$@" </dev/null; }
sched create-schedule --name orders-every-minute --schedule-expression 'rate(1 minute)' \
  --flexible-time-window Mode=OFF --query ScheduleArn --output text \
  --target "{\"Arn\":\"$orders\",\"RoleArn\":\"$role\",\"Input\":\"{\\\"customer\\\":{\\\"name\\\":\\\"Cron\\\",\\\"tier\\\":\\\"gold\\\"},\\\"amount\\\":10,\\\"lines\\\":[{\\\"sku\\\":\\\"pen\\\",\\\"quantity\\\":1}]}\"}"
sched get-schedule --name orders-every-minute \
  --query '[ScheduleExpression, State, Target.RetryPolicy.MaximumEventAgeInSeconds]' --output text
fired=""
for _ in $(seq 100); do
  fired=$(sfn list-executions --state-machine-arn "$orders" \
    --query 'executions[?!starts_with(name, `order-`)].name' --output text)
  [ -n "$fired" ] && [ "$fired" != None ] && break
  sleep 0.1
done
echo "-- the schedule started execution $fired (status, input):"
sfn describe-execution --execution-arn "${orders/stateMachine/execution}:$fired" \
  --query '[status, input]' --output text
sched delete-schedule --name orders-every-minute
