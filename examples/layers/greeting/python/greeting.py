# A module shipped in a layer: Lambda puts a layer's python/ folder on the Python path.
def greet(name):
    return "Hello from a layer, %s!" % name
