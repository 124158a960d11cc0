#!/usr/bin/env bash
# Registers the Citus workers with the coordinator. Run once the nodes accept connections
# (docker-compose.yml's citus-init service); running it again changes nothing.
#
#   COORDINATOR   host name of the coordinator, as the workers reach it (default coordinator)
#   CITUS_WORKERS worker host names, separated by spaces (default "worker-1 worker-2")
#   PGPORT        port of every node (default 5432)
#   PGUSER, PGPASSWORD, PGDATABASE   how to connect, as for psql
set -euo pipefail

coordinator="${COORDINATOR:-coordinator}"
port="${PGPORT:-5432}"
read -r -a workers <<< "${CITUS_WORKERS:-worker-1 worker-2}"

run_sql() {
  psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --host "$coordinator" --port "$port" "$@"
}

# Workers reach the coordinator by this name (metadata sync, shard moves, queries from workers).
run_sql --set host="$coordinator" --set port="$port" --output /dev/null <<'SQL'
SELECT citus_set_coordinator_host(:'host', :port);
SQL

for worker in "${workers[@]}"; do
  run_sql --set host="$worker" --set port="$port" --output /dev/null <<'SQL'
SELECT citus_add_node(:'host', :port)
WHERE NOT EXISTS (SELECT 1 FROM pg_dist_node WHERE nodename = :'host' AND nodeport = :port);
SQL
  echo "worker $worker:$port is registered"
done

run_sql --command "SELECT nodename, nodeport, noderole, isactive, shouldhaveshards FROM pg_dist_node ORDER BY nodeid"
