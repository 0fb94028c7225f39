#!/bin/sh
# pgstrace into a running PostgreSQL pod with an ephemeral debug container.
# Usage: deploy/debug-ephemeral.sh POD [CONTAINER] [NAMESPACE]
# --target shares the postgres container's PID namespace; --profile=general adds SYS_PTRACE
# (tracing, probes, queries from memory). The kernel-side source (--backend=perf) needs
# --profile=sysadmin (privileged). The static binary is copied in (kubectl cp needs tar in the
# debug image: debian:12 has it).
set -eu
POD=$1
TARGET=${2:-postgres}
NS=${3:-default}
NAME=pgstrace-$(date +%s)
kubectl -n "$NS" debug "$POD" --target="$TARGET" --profile=general \
    --image=debian:12 --container="$NAME" -- sleep 3600
kubectl -n "$NS" wait --for=jsonpath='{.status.ephemeralContainerStatuses[0].state.running}' \
    pod/"$POD" --timeout=60s || true
kubectl -n "$NS" cp ./pgstrace "$POD":/tmp/pgstrace -c "$NAME"
echo "now: kubectl -n $NS exec -it $POD -c $NAME -- /tmp/pgstrace doctor -p 1"
