"""The CRM REST gateway: authentication, the public REST API, customer-360 composition, OpenAPI.

Entry points: `gateway.app.create_app` (the WSGI app) and `gateway.main` (`crm-gateway serve|migrate`).
"""
