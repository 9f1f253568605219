# The crash test's Task function (tests/chaos/chaos_test.py). Deterministic by its input:
# {"n": execution number, "k": item, "retry": $$.State.RetryCount}.


class Transient(Exception):
    """A failure the state machine's Retry absorbs (the first attempt of every 7th item)."""


def handler(event, context):
    n, k, retry = event["n"], event["k"], event["retry"]
    if (n + k) % 7 == 0 and retry == 0:
        raise Transient("transient failure of n=%d k=%d" % (n, k))
    return {"value": n * 10 + k}
