#!/usr/bin/env bash
# bptt side by side with SymPy, SymEngine and numpy, in one run on this machine. Run by hand (not in CI):
#   bash bench/compare.sh            (PEER_TIMEOUT=60 by default: seconds allowed to each peer run)
#   BPTT=/path/to/bptt bash bench/compare.sh   (measure that binary, e.g. a copy, while the tree is rebuilt)
# Installs sympy, symengine, numpy and jax[cpu] from PyPI into bench/.venv the first time; compiles bench/floor.c.
set -euo pipefail
cd "$(dirname "$0")/.."
TIMEOUT=${PEER_TIMEOUT:-60}
if [ ! -x bench/.venv/bin/python ]; then
  python3 -m venv bench/.venv
  bench/.venv/bin/pip install -q sympy symengine numpy "jax[cpu]"
fi
PY=bench/.venv/bin/python
if [ -z "${BPTT:-}" ]; then
  cargo build --release -q
fi
B=${BPTT:-target/release/bptt}
# the shell's own clock ($EPOCHREALTIME, bash 5): reading it starts no process, so a timing holds only the
# command (with date, the second reading's own fork and exec, about a millisecond here, was counted too)
now() { echo "$EPOCHREALTIME"; }
# whole microseconds from one reading to another (both $EPOCHREALTIME: seconds, six decimals)
us() { echo $(( ${2/./} - ${1/./} )); }
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
echo "Numbers: ∂L/∂W_r of the tanh RNN (squared error at the last step), the same parameters for every program."
echo "bptt: 'grad --params' (first = the derived side equations and closed form evaluated once in a fresh process,"
echo "from --stats; steady = the median of 20 more evaluations in the same process, 'grad --repeat 21', as JAX's is"
echo "after compilation; whole = the process); numpy: the hand-written BPTT loops; JAX: jit(grad) of a lax.scan loss,"
echo "steady-state call after compilation (compile time beside it); C: plain loops, -O3 -march=native -ffast-math"
echo "(vectorised sums: the floor). Medians of 5 runs (JAX, C: of 20 calls)."
printf '\n| n, d, T | bptt first (ms) | bptt steady (ms) | bptt whole (ms) | numpy (ms) | JAX (ms) | JAX compile (s) | C floor (ms) | bptt steady / JAX | max abs diff vs JAX |\n|---|---|---|---|---|---|---|---|---|---|\n'
tmp=$(mktemp -d)
cc -O3 -march=native -ffast-math -o "$tmp/floor" bench/floor.c -lm
for size in "64 64 250" "64 64 1000" "256 256 1000" "64 64 10000"; do
  read -r n d T <<<"$size"
  f="$tmp/p-$n-$d-$T.json"
  $PY - "$f" "$n" "$d" "$T" "$tmp/floor-in.txt" <<'PYEOF'
import json, sys
import numpy as np
n, d, T = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
m = 2
rng = np.random.default_rng(1)
u = lambda *s: 0.9 * (2 * rng.random(s) - 1) / np.sqrt(s[-1])
p = {"W_r": u(n, n), "W_x": u(n, d), "W_y": u(m, n), "s0": u(n), "x": u(T, d), "target": u(m)}
json.dump({k: v.tolist() for k, v in p.items()}, open(sys.argv[1], "w"))
with open(sys.argv[5], "w") as out:
    out.write(f"{n} {d} {m} {T}\n")
    for k in ["W_r", "W_x", "W_y", "s0", "x", "target"]:
        out.write(" ".join(repr(float(v)) for v in np.ravel(p[k])) + "\n")
PYEOF
  for i in 1 2 3 4 5; do $B grad --params "$f" --stats --repeat 21 --format json 2>"$tmp/stats" >"$tmp/ours.json"; sed -n 's/.*evaluate \([0-9.]*\) ms, then \([0-9.]*\) ms.*/\1 \2/p' "$tmp/stats"; done > "$tmp/evals"
  ours=$(awk '{print $1}' "$tmp/evals" | sort -g | sed -n 3p)
  steady=$(awk '{print $2}' "$tmp/evals" | sort -g | sed -n 3p)
  whole=$(for i in 1 2 3 4 5; do s0=$EPOCHREALTIME; $B grad --params "$f" >/dev/null; e0=$EPOCHREALTIME; us $s0 $e0; done | sort -n | sed -n 3p)
  np_s=$(for i in 1 2 3 4 5; do $PY bench/peers.py numpy "$n" "$d" "$T" "$f" > "$tmp/np.json"; $PY -c "import json; print(json.load(open('$tmp/np.json'))['seconds'])"; done | sort -g | sed -n 3p)
  timeout "$TIMEOUT" $PY bench/peers.py jax "$n" "$d" "$T" "$f" > "$tmp/jax.json" 2>/dev/null || echo '{"seconds": null}' > "$tmp/jax.json"
  floor=$("$tmp/floor" "$tmp/floor-in.txt" | cut -d' ' -f1)
  $PY - "$tmp/ours.json" "$ours" "$whole" "$np_s" "$tmp/jax.json" "$floor" "$size" "$steady" <<'PYEOF'
import json, sys
import numpy as np
ours = json.load(open(sys.argv[1]))
jx = json.load(open(sys.argv[5]))
o, whole, nps, fl, st = float(sys.argv[2]), float(sys.argv[3]) / 1e3, float(sys.argv[4]) * 1e3, float(sys.argv[6]) * 1e3, float(sys.argv[8])
if jx.get("seconds") is None:
    j, jc, ratio, diff = "timeout", "-", "-", "-"
else:
    jms = jx["seconds"] * 1e3
    j, jc, ratio = f"{jms:.2f}", f"{jx['compile_seconds']:.2f}", f"{st / jms:.2f}×"
    diff = f"{np.max(np.abs(np.array(ours['gradient']) - np.array(jx['gradient']))):.1e}"
print(f"| {sys.argv[7].replace(' ', ', ')} | {o:.1f} | {st:.1f} | {whole:.1f} | {nps:.1f} | {j} | {jc} | {fl:.2f} | {ratio} | {diff} |")
PYEOF
done
rm -rf "$tmp"

echo
echo "How derive grows with T (W_r, text; SymPy/SymEngine: the unrolled model differentiated and printed as in the"
echo "first table, up to T = 8 — beyond it they time out; every figure the whole process, Python's start and imports"
echo "included, with its peak memory; bptt: the median of three runs). The chart: bench/scaling.svg (log-log)."
printf '\n| T | bptt (s) | bptt peak (MB) | SymPy (s) | SymPy peak (MB) | SymEngine (s) | SymEngine peak (MB) |\n|---|---|---|---|---|---|---|\n'
rows=$(mktemp)
for T in 2 3 4 6 8 10 30 100 300 1000; do
  # bptt: the median of three runs (this VM pauses now and then; one run can be 50x slow), the largest peak; the
  # time of the bare process, the peak from a run of its own under /usr/bin/time (whose start would be timed too)
  runs=$(for i in 1 2 3; do
    s0=$EPOCHREALTIME
    $B derive --steps $T >/dev/null
    e0=$EPOCHREALTIME
    m=$( { /usr/bin/time -f '%M' $B derive --steps $T >/dev/null; } 2>&1 | tail -1)
    echo "$(us $s0 $e0) $m"
  done | sort -n)
  bt=$(echo "$runs" | sed -n 2p | awk '{printf "%.3f", $1 / 1e6}')
  bm=$(echo "$runs" | awk '{print $2}' | sort -n | tail -1)
  peer2() {
    if r=$( { /usr/bin/time -f '%e %M' timeout "$TIMEOUT" $PY bench/peers.py "$1" "$T" >/dev/null; } 2>&1 | tail -1) && [ "$(echo "$r" | wc -w)" = 2 ]; then echo "$r"; else echo "- -"; fi
  }
  if [ "$T" -le 8 ]; then read -r st sm <<<"$(peer2 sympy)"; read -r et em <<<"$(peer2 symengine)"; else st=-; sm=-; et=-; em=-; fi
  mb() { [ "$1" = - ] && echo - || python3 -c "print(f'{$1/1024:.0f}')"; }
  echo "$T $bt $(mb $bm) $st $(mb $sm) $et $(mb $em)" >> "$rows"
  echo "| $T | $bt | $(mb $bm) | $st | $(mb $sm) | $et | $(mb $em) |"
done
python3 bench/chart.py "$rows" bench/scaling.svg
rm -f "$rows"

echo
echo "bptt alone (whole process, median of 5 runs):"
printf '\n| command | T | time (ms) | output bytes |\n|---|---|---|---|\n'
median() { for i in 1 2 3 4 5; do s=$EPOCHREALTIME; "$@" >/dev/null 2>&1 || true; e=$EPOCHREALTIME; us $s $e; done | sort -n | sed -n 3p | awk '{printf "%.1f", $1 / 1e3}'; }
for T in 3 10 30 100; do
  echo "| derive | $T | $(median $B derive --steps $T) | $($B derive --steps $T | wc -c) |"
done
# the issue's own command for the gradient: seeded numbers, no params file to read
echo "| grad --hidden 64 --input 64 | 1000 | $(median $B grad --steps 1000 --hidden 64 --input 64) | $($B grad --steps 1000 --hidden 64 --input 64 | wc -c) |"
for T in 3 50; do
  echo "| derive --wrt all | $T | $(median $B derive --wrt all --steps $T) | $($B derive --wrt all --steps $T | wc -c) |"
done
for T in 3 10; do
  echo "| check (proved) | $T | $(median $B check --steps $T 'sum_{k=1}^{T} dL/dh^(k)[i] * s^(k-1)[p]') | |"
  echo "| check (refuted + diagnosis) | $T | $(median $B check --steps $T 'sum_{k=1}^{T} dL/dh^(k)[i] * s^(k)[p]') | |"
done
