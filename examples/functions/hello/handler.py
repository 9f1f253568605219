import os


def handler(event, context):
    name = (event or {}).get("name", "world") if isinstance(event, dict) else "world"
    print("greeting", name)
    return {"greeting": "%s, %s!" % (os.environ.get("GREETING", "Hello"), name)}
