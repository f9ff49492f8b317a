"""The gateway's tests, a package so that pytest names them gateway_tests.* (a bare gateway/tests would be
named gateway.tests.* under --import-mode=importlib and shadow the gateway package itself)."""
