import json


def handler(event, context):
    """A function URL handler: the request arrives as payload format 2.0, the answer is
    {statusCode, headers, cookies, body} (any other JSON would be a 200 JSON body)."""
    name = (event.get("queryStringParameters") or {}).get("name", "world")
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json", "X-Served-By": "switchyard"},
        "cookies": ["visited=yes"],
        "body": json.dumps({
            "hello": name,
            "method": event["requestContext"]["http"]["method"],
            "path": event["rawPath"],
        }),
    }
