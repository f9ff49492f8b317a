"""REST served from the gRPC contracts: routes, requests and responses derived from `google.api.http`.

The gateway holds no per-endpoint code for what a service owns. At start it reads the contracts'
descriptor sets (`contracts.py`), turns every annotated RPC into a route (`rules.py`), and serves each
route with one generic view (`views.py`) that maps JSON and the query string to the request message
(`requests.py`), calls the service with a deadline and the caller's identity, and renders the response
message (`responses.py`). The OpenAPI document is generated from the same routes (gateway/openapi.py).
"""
