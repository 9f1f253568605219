import greeting  # from the function's layer (python/greeting.py)


def handler(event, context):
    return {"message": greeting.greet(event.get("name", "world"))}
