#!/bin/bash
# Tiny training step, whir (conjectured) against ligero, N interleaved rounds (issue 12):
#   bash tests/bench/whir_vs_ligero.sh 3
# One line per proof: bytes, prove CPU (user+sys) and wall under /usr/bin/time, peak RSS,
# and the CLI's verify time.  Work files go to a temporary directory.
set -euo pipefail
# Python writes and reuses bytecode, as an installed package has it (pip compiles it at
# install); a sandbox with PYTHONDONTWRITEBYTECODE=1 recompiles every source per process.
unset PYTHONDONTWRITEBYTECODE
N=${1:-3}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
Z="$ROOT/.venv/bin/zklora"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
printf '[proof]\ncommitment = "whir"\n[commitment.whir]\nregime = "conjectured"\n' > "$W/whir.toml"
printf '[proof]\ncommitment = "ligero"\n' > "$W/ligero.toml"
for i in $(seq 1 "$N"); do
  for c in whir ligero; do
    /usr/bin/time -f "%U %S %e %M" -o "$W/t" "$Z" prove --task train --config "$W/$c.toml" \
      --out "$W/$c.zkp" --quiet > /dev/null
    /usr/bin/time -f "%e" -o "$W/tv" "$Z" verify "$W/$c.zkp" > "$W/v"
    v=$(grep -o "verified in [0-9.]*" "$W/v" | awk '{print $3}')
    read -r u s e m < "$W/t"
    echo "$c round $i bytes $(stat -c %s "$W/$c.zkp") prove_cpu $(echo "$u+$s" | bc)" \
         "prove_wall $e rss_kb $m verify $v verify_process_wall $(cat "$W/tv")"
  done
done
