#!/usr/bin/env bash
# Failover time on PostgreSQL (docs/PERFORMANCE.md): two servers share a schema
# "failover" with the default lease timings; the leader, under a light signed-order
# load, is killed with SIGKILL and the time to the first signed order the standby
# serves is printed; three rounds, the dead server coming back as the standby.
# Needs psql, curl and bc. BIN is the twinex binary, DB the database's URL.
set -u
BIN=${BIN:-./twinex}
DB=${DB:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}
psql -q "$DB" -c "SET client_min_messages = warning; DROP SCHEMA IF EXISTS failover CASCADE; CREATE SCHEMA failover"
STORE="$DB&search_path=failover"
DATA=$(mktemp -d); chmod 700 "$DATA"
start() { "$BIN" serve --listen 127.0.0.1:$1 --data "$DATA" --mode production --store "$STORE" --rate-private off >/dev/null 2>>"$DATA/log.$1" & echo $!; }
declare -A pid
pid[18181]=$(start 18181); sleep 2; pid[18182]=$(start 18182); sleep 2
TOK=$(cat "$DATA/admin.token"); H="Authorization: Bearer $TOK"
curl -s -XPOST -H "$H" localhost:18181/admin/v1/accounts -d '{"email":"f@example.com","verified":true}' >/dev/null
curl -s -XPOST -H "$H" localhost:18181/admin/v1/fund -d '{"email":"f@example.com","currency":"USD","amount":"1000000"}' >/dev/null
K=$(curl -s -XPOST -H "$H" localhost:18181/admin/v1/keys -d '{"email":"f@example.com","roles":"trader"}')
export GEMINI_API_KEY=$(echo "$K" | sed 's/.*"key":"\([^"]*\)".*/\1/') GEMINI_API_SECRET=$(echo "$K" | sed 's/.*"secret":"\([^"]*\)".*/\1/')
order() { "$BIN" api --base-url http://127.0.0.1:$1 order new --symbol btcusd --side buy --amount 0.01 --price 100 >/dev/null 2>&1; }
leader=18181; standby=18182
for round in 1 2 3; do
  for i in $(seq 20); do order $leader || echo "order to the leader failed"; done
  ( while order $leader; do :; done ) &  # load until the leader dies
  sleep 1
  kill -9 ${pid[$leader]}; t0=$(date +%s.%N)
  until order $standby; do sleep 0.02; done
  t1=$(date +%s.%N)
  echo "round $round: leader $leader killed; first signed order served by $standby after $(echo "$t1 - $t0" | bc) s; load $(cut -d' ' -f1 /proc/loadavg)"
  wait $!
  pid[$leader]=$(start $leader); sleep 2   # the dead one comes back as a standby
  tmp=$leader; leader=$standby; standby=$tmp
done
curl -s -H "$H" localhost:$leader/admin/v1/verify; echo
kill ${pid[18181]} ${pid[18182]}; wait 2>/dev/null
