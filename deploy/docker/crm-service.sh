#!/bin/sh
# Entrypoint of the service image (services/Dockerfile), installed as /app/bin/crm-service:
# runs `crm-$CRM_SERVICE ARGS...`, with the gRPC server listening on every interface on CRM_GRPC_PORT
# unless <SERVICE>_GRPC_LISTEN is already set. One image recipe serves five services, and a Dockerfile
# can neither upper-case a build argument nor expand variables in an exec-form ENTRYPOINT: hence here.
set -eu
: "${CRM_SERVICE:?CRM_SERVICE names the service (the image sets it)}"
case "$CRM_SERVICE" in
    *[!a-z_]*) echo "crm-service: bad CRM_SERVICE '$CRM_SERVICE'" >&2; exit 2 ;;
esac
listen_var="$(printf '%s' "$CRM_SERVICE" | tr '[:lower:]' '[:upper:]')_GRPC_LISTEN"
eval "current=\${$listen_var:-}"
if [ -z "$current" ] && [ -n "${CRM_GRPC_PORT:-}" ]; then
    export "$listen_var=0.0.0.0:$CRM_GRPC_PORT"
fi
exec "crm-$CRM_SERVICE" "$@"
