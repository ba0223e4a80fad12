#!/usr/bin/env bash
# The Valdera scenario (DOMAIN.md §6.1) through the HTTP API. Needs a running Iter (npm start) and jq.
set -euo pipefail
API=${API:-http://localhost:3000}
# tokens signed with the built-in development secret, as `npm start` uses (set JWT_SECRET to use your own)
[ -n "${JWT_SECRET:-}" ] || export JWT_DEV_SECRET=true
iter() { node dist/apps/cli/src/main.js "$@"; }
tok() { iter token --sub "$1" --role "$2" --ente "$3" --unione u_valdera; }
PRES=$(tok presidente.valdera presidente u_valdera)
post() {
  local out code
  out=$(curl -s -w '\n%{http_code}' -X POST "$API$1" -H "Authorization: Bearer $2" -H 'Content-Type: application/json' -d "$3")
  code=${out##*$'\n'}; out=${out%$'\n'*}
  if [ "${code:0:1}" != 2 ]; then echo "HTTP $code: $out" >&2; exit 1; fi
  printf '%s' "$out"
}
ev() { post "/v1/processes/$ID/events" "$1" "$2" | jq -r '"\(.state)  v\(.version)"'; }
COMUNI=(c_a864 c_b303 c_b392 c_b647 c_m327 c_g254 c_g843)
MEMBERS=$(printf '"%s",' "${COMUNI[@]}"); MEMBERS="[${MEMBERS%,}]"
ID=$(post /v1/processes "$PRES" "{\"definition\":\"convenzione\",\"businessKey\":\"valdera-ict-$RANDOM\",
  \"input\":{\"title\":\"Convenzione ICT e RTD associato\",\"unione\":\"u_valdera\",\"members\":$MEMBERS}}" | jq -r .id)
echo "process $ID"
TEXT='Convenzione per la gestione associata della funzione ICT e dell’ufficio per la transizione al digitale'
ev "$PRES" "{\"type\":\"convention.freeze\",\"payload\":{\"text\":\"$TEXT\"}}"
HASH=$(printf '%s' "$TEXT" | sha256sum | cut -d' ' -f1)
sleep 1 # the PEC is delivered after the text was frozen (the API refuses the opposite)
ev "$PRES" "{\"type\":\"convention.send\",\"payload\":{\"deliveredAt\":\"$(date -u +%FT%TZ)\"}}"
TODAY=$(date +%F)
N=$((RANDOM % 90000 + 10000)) # deliberation numbers are unique per comune and year: a fresh block per run
for E in "${COMUNI[@]}" u_valdera; do
  SEG=$(tok "segretario.$E" segretario "$E")
  N=$((N+1))
  ev "$SEG" "{\"type\":\"convention.deliberation.record\",\"payload\":{\"ente\":\"$E\",\"number\":\"$N\",\"date\":\"$TODAY\",
    \"outcome\":\"APPROVED\",\"textHash\":\"$HASH\",\"immediatamenteEseguibile\":true,
    \"ieVotes\":{\"favorevoli\":10,\"contrari\":1,\"astenuti\":0,\"presenti\":11,\"assegnati\":13},
    \"pareri\":[{\"type\":\"TECNICO\",\"outcome\":\"FAVOREVOLE\",\"signer\":\"Responsabile ICT\",\"date\":\"$TODAY\"}]}}"
done
for E in "${COMUNI[@]}" u_valdera; do
  if [ "$E" = u_valdera ]; then SIG=$PRES; else SIG=$(tok "sindaco.$E" sindaco "$E"); fi
  ev "$SIG" "{\"type\":\"convention.sign\",\"payload\":{\"ente\":\"$E\",\"signedAt\":\"$(date -u +%FT%TZ)\",
    \"signatureType\":\"FIRMA_DIGITALE\",\"digitalSignature\":true}}"
done
curl -sf "$API/v1/processes/$ID" -H "Authorization: Bearer $PRES" | jq '{state, version, inForceFrom: .data.inForceFrom, expiresOn: .data.expiresOn, entes: [.data.entes[] | {ente, status}]}'
curl -sf "$API/v1/processes/$ID/history/verify" -H "Authorization: Bearer $PRES" | jq -c .
