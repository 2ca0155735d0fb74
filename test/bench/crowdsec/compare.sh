#!/usr/bin/env bash
# Which clients Debian's crowdsec flags on Apache access logs, offline, for the side-by-side with Visor's
# detect rules (issue 19). Never `apt-get install crowdsec`: its post-install registers online and leaves dpkg
# broken here. The package is fetched with `apt-get download` and unpacked with `dpkg -x` into WORK; its
# local API runs on loopback (no Central API), the agent replays each file in time-machine mode (-dsn).
#   bash test/bench/crowdsec/compare.sh FILE...   -> one line per flag: FILE IP SCENARIO EVENTS
# Default files: ../shared/corpora/crowdsec-hub-tests/*/*.log and test/fixtures/attacks/side-by-side.access.txt
# (written for this comparison, 181 lines, TEST-NET clients, one per attack: 203.0.113.10 20 missing pages,
# .11 six sensitive files, .12 CVE-2021-41773, .13 CVE-2021-42013, .22 ../ traversal, .14 12 SQLi and .15 12
# XSS probes at 1/s, .16 Log4Shell UA, .17 Shellshock UA, .18 sqlmap UA, .19 Nikto UA, .20 15 POST 401 on
# wp-login.php, .21 60 pages at 2/s; near-misses 198.51.100.30-33: static assets, three 404s, one login,
# /docs/.envoy.html).
# Measured with crowdsec 1.4.6-6~deb12u1 (Debian 12): 28 s for the 7 files, 2 cores shared.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../../.." && pwd)
WORK=${WORK:-/tmp/visor-crowdsec}
PORT=${PORT:-18080}
mkdir -p "$WORK"
cd "$WORK"
if [ ! -x root/usr/bin/crowdsec ]; then
  ls crowdsec_*.deb >/dev/null 2>&1 || apt-get download crowdsec >&2
  dpkg -x crowdsec_*.deb root
fi
HUB=$WORK/root/usr/share/crowdsec/hub
E=$WORK/etc
rm -rf "$E" "$WORK/data" && mkdir -p "$E"/parsers/{s00-raw,s01-parse,s02-enrich} "$E/scenarios" "$WORK/data"
cp -r root/etc/crowdsec/patterns root/etc/crowdsec/simulation.yaml root/etc/crowdsec/profiles.yaml "$E/"
cp root/usr/share/crowdsec/data/* "$WORK/data/"
# The scenario names its data file http_path_traversal.txt; Debian ships it as path_traversal.txt.
cp "$WORK/data/path_traversal.txt" "$WORK/data/http_path_traversal.txt"
# Debian's hub snapshot has no crowdsecurity/non-syslog (the raw stage for plain files): the same statics.
cat > "$E/parsers/s00-raw/non-syslog.yaml" <<'YAML'
filter: "evt.Line.Labels.type != 'syslog'"
onsuccess: next_stage
name: local/non-syslog
statics:
  - parsed: message
    expression: evt.Line.Raw
  - parsed: program
    expression: evt.Line.Labels.type
YAML
ln -s "$HUB/parsers/s01-parse/crowdsecurity/apache2-logs.yaml" "$E/parsers/s01-parse/"
ln -s "$HUB/parsers/s02-enrich/crowdsecurity/dateparse-enrich.yaml" "$HUB/parsers/s02-enrich/crowdsecurity/http-logs.yaml" "$E/parsers/s02-enrich/"
# collections crowdsecurity/apache2 -> base-http-scenarios, plus the Apache CVEs of http-cve.
for s in http-crawl-non_statics http-probing http-bad-user-agent http-path-traversal-probing http-sensitive-files \
  http-sqli-probing http-xss-probing http-backdoors-attempts http-generic-bf http-open-proxy \
  http-cve-2021-41773 http-cve-2021-42013 apache_log4j2_cve-2021-44228; do
  ln -s "$HUB/scenarios/crowdsecurity/$s.yaml" "$E/scenarios/"
done
ln -s "$HUB/scenarios/ltsich/http-w00tw00t.yaml" "$E/scenarios/"
cat > "$E/config.yaml" <<YAML
common: { daemonize: false, log_media: stdout, log_level: info, working_dir: . }
config_paths:
  config_dir: $E/
  data_dir: $WORK/data/
  simulation_path: $E/simulation.yaml
  hub_dir: $HUB/
  index_path: $HUB/.index.json
crowdsec_service: { acquisition_path: $E/acquis.yaml, parser_routines: 1 }
db_config: { type: sqlite, db_path: $WORK/data/crowdsec.db, use_wal: false }
prometheus: { enabled: false }
api:
  client: { credentials_path: $E/local_api_credentials.yaml }
  server: { listen_uri: "127.0.0.1:$PORT", profiles_path: $E/profiles.yaml, trusted_ips: ["127.0.0.1"] }
YAML
: > "$E/acquis.yaml"
CS=$WORK/root/usr/bin
"$CS/cscli" -c "$E/config.yaml" machines add visor-compare --auto -f "$E/local_api_credentials.yaml" --url "http://127.0.0.1:$PORT" >/dev/null 2>&1
"$CS/crowdsec" -c "$E/config.yaml" -no-cs > "$WORK/lapi.log" 2>&1 &
LAPI=$!
trap 'kill $LAPI' EXIT
for _ in $(seq 50); do grep -q 'Local API listening' "$WORK/lapi.log" && break; sleep 0.1; done
CORPORA=${CORPORA:-$ROOT/../shared/corpora}
if [ $# -eq 0 ]; then set -- "$CORPORA"/crowdsec-hub-tests/*/*.log "$ROOT/test/fixtures/attacks/side-by-side.access.txt"; fi
for f in "$@"; do
  "$CS/crowdsec" -c "$E/config.yaml" -dsn "file://$(realpath "$f")" -type apache2 -no-api 2>&1 \
    | sed -n "s/.*Ip \([^ ]*\) performed '\([^']*\)' (\([0-9]*\) events.*/\1 \2 \3/p" \
    | sort | sed "s|^|$(basename "$(dirname "$f")")/$(basename "$f") |"
done
