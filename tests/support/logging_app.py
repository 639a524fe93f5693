"""An app that logs on a fraiseql logger at debug level per request (the serve --log-level test)."""

import logging

from support.hello_app import app as hello

log = logging.getLogger("fraiseql.test_app")


async def app(scope, receive, send):
    if scope["type"] == "http":
        log.debug("debug line from fraiseql.test_app")
    await hello(scope, receive, send)
