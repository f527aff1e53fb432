"""Schemathesis hooks for .ci/schemathesis: how to send the one media type it lacks."""

import schemathesis


@schemathesis.serializer("message/rfc822")
def rfc822(ctx, value):
    # POST /bounces takes a delivery status notification as raw mail text.
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")
