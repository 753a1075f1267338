#!/bin/bash
# Tiny training step (the demo model, one step): an older build's default proof against
# this build's whir (conjectured) and ligero, N interleaved rounds (issue 12, "prove time
# not worse than today"):
#   git worktree add /tmp/wt_old ca770e0     # + an environment whose zklora is that tree
#   flock /tmp/heavy.lock bash tests/bench/prove_vs_baseline.sh 3 /path/to/old/bin/zklora
# Optional third argument: this build's zklora (default .venv/bin/zklora).  One line per
# proof: bytes, prove CPU (user+sys), wall and peak RSS under /usr/bin/time, the CLI's
# "verified in" time and the verify process's wall and CPU.  Medians at the end.
set -euo pipefail
# Python writes and reuses bytecode, as an installed package has it (pip compiles it at
# install); a sandbox with PYTHONDONTWRITEBYTECODE=1 recompiles every source per process.
unset PYTHONDONTWRITEBYTECODE
N=${1:?rounds}
OLD=${2:?old zklora executable}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
Z=${3:-"$ROOT/.venv/bin/zklora"}
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
printf '[proof]\ncommitment = "whir"\n[commitment.whir]\nregime = "conjectured"\n' > "$W/whir.toml"
printf '[proof]\ncommitment = "ligero"\n' > "$W/ligero.toml"
run() {  # label zklora [prove options...]
  local c=$1 z=$2
  shift 2
  /usr/bin/time -f "%U %S %e %M" -o "$W/t" "$z" prove --task train "$@" --out "$W/$c.zkp" \
    --quiet > /dev/null
  read -r u s e m < "$W/t"
  /usr/bin/time -f "%U %S %e" -o "$W/tv" "$z" verify "$W/$c.zkp" > "$W/v"
  v=$(grep -o "verified in [0-9.]*" "$W/v" | awk '{print $3}')
  read -r vu vs ve < "$W/tv"
  echo "$c round $i bytes $(stat -c %s "$W/$c.zkp") prove_cpu $(echo "$u+$s" | bc)" \
       "prove_wall $e rss_kb $m verify $v verify_wall $ve verify_cpu $(echo "$vu+$vs" | bc)" \
    | tee -a "$W/all"
}
for i in $(seq 1 "$N"); do
  (cd "$W" && run old "$OLD")
  (cd "$W" && run whir "$Z" --config "$W/whir.toml")
  (cd "$W" && run ligero "$Z" --config "$W/ligero.toml")
done
python3 - "$W/all" <<'EOF'
import statistics as st, sys
rows = {}
for line in open(sys.argv[1]):
    f = line.split()
    rows.setdefault(f[0], []).append({f[k]: float(f[k + 1]) for k in range(3, len(f), 2)})
med = {c: {k: st.median(r[k] for r in rs) for k in rs[0]} for c, rs in rows.items()}
print("medians:")
for c, m in med.items():
    print(f"  {c:7s} " + " ".join(f"{k} {v:g}" for k, v in m.items())
          + f"  prove_wall/verify {m['prove_wall'] / m['verify']:.1f}")
for c in med:
    if c != "old":
        print(f"  {c} / old: prove_cpu {med[c]['prove_cpu'] / med['old']['prove_cpu']:.3f}"
              f" prove_wall {med[c]['prove_wall'] / med['old']['prove_wall']:.3f}")
EOF
