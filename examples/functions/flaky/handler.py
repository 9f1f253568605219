class PaymentDeclined(Exception):
    pass


def handler(event, context):
    amount = event.get("amount", 0) if isinstance(event, dict) else 0
    if amount > 100:
        raise PaymentDeclined("amount %s is over the card limit" % amount)
    return {"charged": amount, "request": context.aws_request_id}
