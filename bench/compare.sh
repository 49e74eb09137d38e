#!/usr/bin/env bash
# bptt side by side with SymPy, SymEngine and numpy, in one run on this machine. Run by hand (not in CI):
#   bash bench/compare.sh            (PEER_TIMEOUT=60 by default: seconds allowed to each peer run)
# Installs sympy, symengine and numpy from PyPI into bench/.venv the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
TIMEOUT=${PEER_TIMEOUT:-60}
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q sympy symengine numpy
fi
PY=bench/.venv/bin/python
cargo build --release -q
B=target/release/bptt
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2 - $1:.3f}')"; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
echo "versions: $($PY -c 'import sympy, symengine, numpy; print("sympy", sympy.__version__, "symengine", symengine.__version__, "numpy", numpy.__version__)'), $($B --version)"
echo
echo "Job: the unrolled RNN (hidden 3, input 2), ∂L/∂ every entry of W_r and W_x, printed (LaTeX)."
echo "bptt: 'derive --wrt W_r' and '--wrt W_x' with --format latex, whole processes (every step checked numerically)."
echo "SymPy/SymEngine: time after imports; timeout ${TIMEOUT}s each."
printf '\n| T | bptt (s) | bptt LaTeX bytes | SymPy (s) | SymPy LaTeX bytes | SymEngine (s) | SymEngine str bytes | SymPy / bptt |\n|---|---|---|---|---|---|---|---|\n'
for T in 2 4 6 8 16 32; do
  t0=$(now)
  bytes=$( { $B derive --wrt W_r --steps $T --format latex; $B derive --wrt W_x --steps $T --format latex; } | wc -c)
  t1=$(now)
  ours=$(secs $t0 $t1)
  peer() {
    if out=$(timeout "$TIMEOUT" $PY bench/peers.py "$1" "$T" 2>/dev/null); then echo "$out"; else echo "timeout -"; fi
  }
  read -r sp spb <<<"$(peer sympy)"
  read -r se seb <<<"$(peer symengine)"
  ratio=$(python3 -c "print(f'> {$TIMEOUT/$ours:.0f}×' if '$sp'=='timeout' else f'{float(\"$sp\")/$ours:.0f}×')")
  [ "$sp" = timeout ] && sp=">${TIMEOUT} (timeout)"
  [ "$se" = timeout ] && se=">${TIMEOUT} (timeout)"
  echo "| $T | $ours | $bytes | $sp | $spb | $se | $seb | $ratio |"
done

echo
echo "Numbers: ∂L/∂W_r at hidden 64, input 64 (same parameters for both; median of 5 runs)."
printf '\n| T | bptt grad (ms) | numpy BPTT (ms) | numpy / bptt | max abs difference |\n|---|---|---|---|---|\n' 
tmp=$(mktemp -d)
$PY - "$tmp/params.json" <<'PYEOF'
import json, sys
import numpy as np
rng = np.random.default_rng(1)
n, d, m, T = 64, 64, 2, 1000
u = lambda *s: (0.9 * (2 * rng.random(s) - 1) / np.sqrt(s[-1])).tolist()
json.dump({"W_r": u(n, n), "W_x": u(n, d), "W_y": u(m, n), "s0": u(n), "x": u(T, d), "target": u(m)}, open(sys.argv[1], "w"))
PYEOF
for T in 250 500 1000; do
  if [ "$T" != 1000 ]; then
    $PY -c "import json,sys; p=json.load(open('$tmp/params.json')); p['x']=p['x'][:$T]; json.dump(p, open('$tmp/p$T.json','w'))"
    f="$tmp/p$T.json"
  else
    f="$tmp/params.json"
  fi
  # the median of 5 runs each: evaluation time only (bptt: the side equations derived at this T and the closed
  # form evaluated; numpy: the forward and backward loops)
  ours=$(for i in 1 2 3 4 5; do $B grad --params "$f" --stats --format json 2>"$tmp/stats" >"$tmp/ours.json"; sed -n 's/.*evaluate \([0-9.]*\) ms/\1/p' "$tmp/stats"; done | sort -g | sed -n 3p)
  theirs=$(for i in 1 2 3 4 5; do $PY bench/peers.py numpy 64 64 $T "$f" > "$tmp/theirs$i.json"; $PY -c "import json; print(json.load(open('$tmp/theirs$i.json'))['seconds'])"; done | sort -g | sed -n 3p)
  $PY - "$tmp/ours.json" "$ours" "$theirs" "$T" "$tmp/theirs1.json" <<'PYEOF'
import json, sys
import numpy as np
ours = json.load(open(sys.argv[1]))
theirs = json.load(open(sys.argv[5]))
diff = np.max(np.abs(np.array(ours["gradient"]) - np.array(theirs["gradient"])))
o, t = float(sys.argv[2]) / 1e3, float(sys.argv[3])
print(f"| {sys.argv[4]} | {o*1e3:.1f} | {t*1e3:.1f} | {t/o:.2f} | {diff:.1e} |")
PYEOF
done
rm -rf "$tmp"

echo
echo "bptt alone (whole process, median of 5 runs):"
printf '\n| command | T | time (ms) | output bytes |\n|---|---|---|---|\n'
median() { for i in 1 2 3 4 5; do s=$(date +%s%N); "$@" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); done | sort -n | sed -n 3p; }
for T in 3 10 30 100; do
  echo "| derive | $T | $(median $B derive --steps $T) | $($B derive --steps $T | wc -c) |"
done
for T in 3 50; do
  echo "| derive --wrt all | $T | $(median $B derive --wrt all --steps $T) | $($B derive --wrt all --steps $T | wc -c) |"
done
for T in 3 10; do
  echo "| check (proved) | $T | $(median $B check --steps $T 'sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]') | |"
  echo "| check (refuted + diagnosis) | $T | $(median $B check --steps $T 'sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]') | |"
done
