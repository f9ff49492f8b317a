#!/bin/sh
# Runs in the `lock` stage of every image (services/Dockerfile, gateway/Dockerfile), from a copy of the
# repository at /src. Writes OUT/requirements.txt and OUT/app/ for the image's final stage:
#
#   OUT/requirements.txt  the package's third-party dependencies, exactly as uv.lock pins them, with hashes
#                         (installed first, in a layer of its own that stays cached while only our code changes)
#   OUT/app/              the workspace packages it needs (chassis, contracts, the service itself) as source,
#                         plus app/workspace.txt to install them, app/bin/crm-probe for HEALTHCHECK and
#                         app/bin/crm-service, the service images' entrypoint
#
# Workspace packages are installed editable from /app, the layout they have in development, because a
# service finds its Alembic revisions beside its package (services/<name>/migrations), outside any wheel.
#
# Usage: build.sh PACKAGE OUT     e.g. build.sh crm-contacts /out
set -eu

package="$1"
out="$2"
cd "$(dirname "$0")/../.."  # the repository root (/src in the image)

uv export --frozen --no-dev --package "$package" --no-emit-workspace --no-header --quiet \
    --output-file "$out/requirements.txt"

# The lock names the workspace members this package depends on as editable paths ("-e ./protos").
members=$(uv export --frozen --no-dev --package "$package" --no-hashes --no-header --no-annotate --quiet \
    | sed -n 's|^-e \./||p')
[ -n "$members" ] || { echo "build.sh: uv export lists no workspace member for $package" >&2; exit 1; }

mkdir -p "$out/app/bin"
: > "$out/app/workspace.txt"
for member in $members; do
    mkdir -p "$out/app/$member"
    cp -R "$member/." "$out/app/$member/"
    rm -rf "$out/app/$member/tests"
    echo "-e /app/$member" >> "$out/app/workspace.txt"
done
cp deploy/docker/probe.py "$out/app/bin/crm-probe"
cp deploy/docker/crm-service.sh "$out/app/bin/crm-service"
chmod 0755 "$out/app/bin/crm-probe" "$out/app/bin/crm-service"
