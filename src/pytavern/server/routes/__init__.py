"""One router per resource, each with its whole path under ``/api``; ``_table.ROUTERS`` is
what the app serves (import the modules one by one: this package imports none of them, so
the app can take the few it needs at start and load the others while it answers).

The app takes the routers' routes into its own list as they are rather than
``include_router`` them: FastAPI builds an included route a second time (its parameters,
models and serializers) on the first request, which cost ~0.1 s of every cold start, and
matches every request through an extra layer per router."""
