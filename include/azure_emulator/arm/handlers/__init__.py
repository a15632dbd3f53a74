"""ARM handlers, one module per resource family: parse the request, call the model, serialize."""
