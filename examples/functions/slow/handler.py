import time


def handler(event, context):
    seconds = event.get("seconds", 3) if isinstance(event, dict) else 3
    time.sleep(seconds)
    return {"slept": seconds}
