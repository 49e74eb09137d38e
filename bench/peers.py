"""Peers for bench/compare.sh: SymPy and SymEngine on the unrolled RNN, and a hand-written numpy BPTT.

  python peers.py sympy T       build the unrolled model in scalars (hidden 3, input 2), differentiate L with respect
  python peers.py symengine T   to every entry of W_r and W_x, print every derivative (LaTeX for SymPy, str for
                                SymEngine, which has no LaTeX printer); prints the seconds taken after imports
  python peers.py numpy N D T PARAMS.json   BPTT for dL/dW_r in numpy with the parameters of the file; prints
                                the seconds of the BPTT and the gradient as JSON
  python peers.py jax N D T PARAMS.json     jax.grad of the loss of a lax.scan RNN, jit-compiled; prints the
                                median seconds of 20 calls after compilation (and the compile time) and the gradient
"""
import json
import sys
import time


def unrolled(lib, T, n=3, d=2, m=2):
    Wr = [[lib.Symbol(f"Wr_{i}{p}") for p in range(n)] for i in range(n)]
    Wx = [[lib.Symbol(f"Wx_{i}{q}") for q in range(d)] for i in range(n)]
    Wy = [[lib.Symbol(f"Wy_{o}{a}") for a in range(n)] for o in range(m)]
    s = [lib.Symbol(f"s0_{i}") for i in range(n)]
    for t in range(1, T + 1):
        x = [lib.Symbol(f"x{t}_{q}") for q in range(d)]
        h = [sum(Wr[i][p] * s[p] for p in range(n)) + sum(Wx[i][q] * x[q] for q in range(d)) for i in range(n)]
        s = [lib.tanh(v) for v in h]
    y = [sum(Wy[o][a] * s[a] for a in range(n)) for o in range(m)]
    L = sum(lib.Rational(1, 2) * (y[o] - lib.Symbol(f"ybar_{o}")) ** 2 for o in range(m))
    return L, [w for row in Wr for w in row] + [w for row in Wx for w in row]


def symbolic(which, T):
    if which == "sympy":
        import sympy as lib
        show = lib.latex
    else:
        import symengine as lib
        show = str
    t0 = time.perf_counter()
    L, ws = unrolled(lib, T)
    size = 0
    for w in ws:
        size += len(show(L.diff(w)))
    print(f"{time.perf_counter() - t0:.4f} {size}")


def numpy_bptt(n, d, T, path):
    import numpy as np
    p = json.load(open(path))
    Wr, Wx, Wy = np.array(p["W_r"]), np.array(p["W_x"]), np.array(p["W_y"])
    s0, X, ybar = np.array(p["s0"]), np.array(p["x"]), np.array(p["target"])
    t0 = time.perf_counter()
    S = [s0]
    H = []
    for t in range(T):
        h = Wr @ S[-1] + Wx @ X[t]
        H.append(h)
        S.append(np.tanh(h))
    y = Wy @ S[-1]
    g = (Wy.T @ (y - ybar)) * (1 - S[-1] ** 2)  # dL/dh at T
    dWr = np.zeros_like(Wr)
    for t in range(T, 0, -1):
        dWr += np.outer(g, S[t - 1])
        if t > 1:
            g = (Wr.T @ g) * (1 - S[t - 1] ** 2)
    secs = time.perf_counter() - t0
    print(json.dumps({"seconds": secs, "gradient": dWr.tolist()}))


def jax_grad(n, d, T, path):
    import jax
    jax.config.update("jax_enable_x64", True)
    import jax.numpy as jnp
    import numpy as np
    p = json.load(open(path))
    Wr, Wx, Wy = jnp.array(p["W_r"]), jnp.array(p["W_x"]), jnp.array(p["W_y"])
    s0, X, ybar = jnp.array(p["s0"]), jnp.array(p["x"][:T]), jnp.array(p["target"])

    def loss(Wr, Wx, Wy, s0, X, ybar):
        def step(s, x):
            s = jnp.tanh(Wr @ s + Wx @ x)
            return s, None
        s, _ = jax.lax.scan(step, s0, X)
        y = Wy @ s
        return 0.5 * jnp.sum((y - ybar) ** 2)

    g = jax.jit(jax.grad(loss))
    t0 = time.perf_counter()
    out = g(Wr, Wx, Wy, s0, X, ybar).block_until_ready()
    compile_secs = time.perf_counter() - t0
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        out = g(Wr, Wx, Wy, s0, X, ybar).block_until_ready()
        times.append(time.perf_counter() - t0)
    times.sort()
    print(json.dumps({"seconds": times[len(times) // 2], "compile_seconds": compile_secs, "gradient": np.asarray(out).tolist()}))


if __name__ == "__main__":
    if sys.argv[1] in ("sympy", "symengine"):
        symbolic(sys.argv[1], int(sys.argv[2]))
    elif sys.argv[1] == "jax":
        jax_grad(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        numpy_bptt(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
