#!/usr/bin/env python3
"""Cross-check DeepPlay's op oracle against JAX.

OPTIONAL: this is a manual cross-check against another framework. The
project's own tests (cargo test, CI) do not need Python or this script.

How to run (from the repository root):

    pip install jax jaxlib numpy        # CPU JAX is enough
    cargo build --release -q -p deepplay-core --example oracle
    python3 tools/oracle_check.py       # ORACLE=path/to/oracle to override

For every op of the table in design.md ("The op oracle") it makes random
inputs with numpy (fixed seeds), computes the output and the gradient of
sum(output * grad_output) for every float input with JAX's autodiff (in
float64, from the same float32 inputs), sends the same request to the oracle
and compares. It also checks the error contract: exit code 2, exactly one
line on stderr, no Rust panic text. It prints a table and, as its last line,
"N passed, M failed"; the exit code is non-zero on any failure.

The reference follows PyTorch's semantics (the design's contract), written in
JAX: nn.Linear (x @ w.T + b), F.conv2d (cross-correlation, zero padding),
F.max_pool2d / F.avg_pool2d (no padding, floor mode), F.gelu (erf form),
F.cross_entropy (mean), F.mse_loss (mean), F.layer_norm (biased variance),
nn.RNN (tanh), nn.GRU (gates r, z, n; n = tanh(W_in x + b_in + r*(W_hn h + b_hn)),
h' = (1-z)*n + z*h), nn.MultiheadAttention (per-head weights, scale
1/sqrt(head_dim), causal = query i sees keys j <= i).
"""

import json
import os
import subprocess
import sys

import numpy as np

try:
    import jax
    import jax.numpy as jnp
    from jax import lax
except ImportError:  # pragma: no cover
    sys.exit("oracle_check.py needs JAX: pip install jax jaxlib numpy")

jax.config.update("jax_enable_x64", True)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ORACLE = os.environ.get("ORACLE", os.path.join(ROOT, "target", "release", "examples", "oracle"))

OUT_TOL = dict(rtol=1e-4, atol=1e-5)
GRAD_TOL = dict(rtol=1e-3, atol=1e-4)

results = []  # (name, ok, detail)


# ---------------------------------------------------------------- helpers

def f32(a):
    return np.asarray(a, dtype=np.float32)


def tjson(a):
    a = np.asarray(a)
    if a.dtype.kind in "iu":
        data = [int(v) for v in a.reshape(-1)]
    else:
        data = [float(v) for v in f32(a).reshape(-1)]
    return {"shape": list(a.shape), "data": data}


def from_json(t):
    return np.asarray(t["data"], dtype=np.float64).reshape(t["shape"])


def run_oracle(payload):
    """payload: dict (sent as JSON) or str (sent verbatim)."""
    text = payload if isinstance(payload, str) else json.dumps(payload)
    p = subprocess.run([ORACLE], input=text, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def compare(got, exp, tol):
    """Returns None when close, else a short description of the worst element."""
    got = np.asarray(got, dtype=np.float64)
    exp = np.asarray(exp, dtype=np.float64)
    if got.shape != exp.shape:
        return f"shape {list(got.shape)} != expected {list(exp.shape)}"
    if got.size == 0:
        return None
    if not np.all(np.isfinite(got)):
        return "non-finite values in reply"
    err = np.abs(got - exp)
    bound = tol["atol"] + tol["rtol"] * np.abs(exp)
    if np.all(err <= bound):
        return None
    idx = np.unravel_index(np.argmax(err - bound), err.shape)
    return (f"max|err|={err.max():.3g}; worst at {list(map(int, idx))}: "
            f"got {got[idx]:.7g}, expected {exp[idx]:.7g} "
            f"({int(np.sum(err > bound))}/{err.size} elements off)")


def check(name, op, floats, ints=None, attrs=None, ref=None, with_grad=True, seed=0,
          extra=None):
    """floats: name -> float32 array (differentiable); ints: name -> int array.
    ref(floats_as_jnp, ints) -> output (or (output, {extra_name: array}))."""
    ints = ints or {}
    attrs = attrs or {}
    fl64 = {k: jnp.asarray(f32(v), dtype=jnp.float64) for k, v in floats.items()}

    def f(fl):
        r = ref(fl, ints)
        return r[0] if isinstance(r, tuple) else r

    full = ref(fl64, ints)
    extras = full[1] if isinstance(full, tuple) else {}
    out, vjp = jax.vjp(f, fl64)
    out = np.asarray(out)
    request = {"op": op, "inputs": {**{k: tjson(v) for k, v in floats.items()},
                                    **{k: tjson(np.asarray(v, dtype=np.int64)) for k, v in ints.items()}},
               "attrs": attrs}
    go = None
    if with_grad:
        rng = np.random.default_rng(1000 + seed)
        go = f32(rng.standard_normal(out.shape))
        request["grad_output"] = tjson(go)
    code, stdout, stderr = run_oracle(request)
    if code != 0:
        results.append((name, False, f"exit {code}: {stderr.strip()[:200]}"))
        return
    try:
        reply = json.loads(stdout)
    except json.JSONDecodeError as e:
        results.append((name, False, f"reply is not JSON: {e}"))
        return
    problems = []
    worst = 0.0
    if "output" not in reply:
        problems.append("no output in reply")
    else:
        d = compare(from_json(reply["output"]), out, OUT_TOL)
        if d:
            problems.append(f"output: {d}")
        elif out.size:
            worst = max(worst, float(np.max(np.abs(from_json(reply["output"]) - out))))
    for k, v in extras.items():
        if k not in reply:
            problems.append(f"no {k} in reply")
            continue
        d = compare(from_json(reply[k]), np.asarray(v), OUT_TOL)
        if d:
            problems.append(f"{k}: {d}")
    if with_grad:
        (grads,) = vjp(jnp.asarray(go, dtype=jnp.float64))
        rgrads = reply.get("grads", {})
        if set(rgrads) != set(floats):
            problems.append(f"grads for {sorted(rgrads)}, expected {sorted(floats)}")
        for k in floats:
            if k in rgrads:
                d = compare(from_json(rgrads[k]), np.asarray(grads[k]), GRAD_TOL)
                if d:
                    problems.append(f"grad {k}: {d}")
    elif "grads" in reply:
        problems.append("grads present without grad_output")
    shapes = ", ".join(f"{k}{list(np.shape(v))}" for k, v in {**floats, **ints}.items())
    att = ", ".join(f"{k}={v}" for k, v in attrs.items())
    detail = "; ".join(problems) if problems else f"{shapes} {att}".strip()
    results.append((name, not problems, detail))


def check_error(name, payload):
    code, stdout, stderr = run_oracle(payload)
    lines = stderr.splitlines()
    problems = []
    if code != 2:
        problems.append(f"exit code {code}, expected 2")
    if len(lines) != 1 or not lines[0].strip():
        problems.append(f"{len(lines)} stderr lines, expected 1")
    if "panicked" in stderr or "RUST_BACKTRACE" in stderr:
        problems.append("Rust panic text on stderr")
    if "internal error" in stderr:
        problems.append("a panic caught by the oracle's hook, not a validation error")
    if stdout.strip():
        problems.append("something on stdout")
    msg = lines[0].strip() if lines else ""
    results.append((name, not problems, "; ".join(problems + [repr(msg[:160])]) if problems else repr(msg[:160])))


# ---------------------------------------------------------------- references

def ref_linear(fl, _):
    return fl["x"] @ fl["w"].T + fl["b"]


def ref_conv2d(stride, padding):
    def r(fl, _):
        y = lax.conv_general_dilated(fl["x"], fl["w"], (stride, stride),
                                     [(padding, padding), (padding, padding)],
                                     dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                     precision=lax.Precision.HIGHEST)
        return y + fl["b"][None, :, None, None]
    return r


def ref_pool(kind, kernel, stride):
    def r(fl, _):
        x = fl["x"]
        dims, strides = (1, 1, kernel, kernel), (1, 1, stride, stride)
        if kind == "max":
            return lax.reduce_window(x, -jnp.inf, lax.max, dims, strides, "VALID")
        return lax.reduce_window(x, 0.0, lax.add, dims, strides, "VALID") / (kernel * kernel)
    return r


def ref_cross_entropy(fl, ints):
    lp = jax.nn.log_softmax(fl["logits"], axis=-1)
    labels = jnp.asarray(ints["labels"])
    return -jnp.mean(lp[jnp.arange(lp.shape[0]), labels])


def ref_layer_norm(eps):
    def r(fl, _):
        x = fl["x"]
        mu = jnp.mean(x, axis=-1, keepdims=True)
        var = jnp.mean((x - mu) ** 2, axis=-1, keepdims=True)
        return (x - mu) / jnp.sqrt(var + eps) * fl["gamma"] + fl["beta"]
    return r


def ref_embedding(fl, ints):
    return fl["w"][jnp.asarray(ints["ids"])]


def ref_rnn(cell):
    def r(fl, _):
        h = fl["h0"]
        outs = []
        for t in range(fl["x"].shape[0]):
            h = cell(fl, fl["x"][t], h)
            outs.append(h)
        return jnp.stack(outs)
    return r


def rnn_cell(fl, x, h):
    return jnp.tanh(x @ fl["w_ih"].T + fl["b_ih"] + h @ fl["w_hh"].T + fl["b_hh"])


def gru_cell(fl, x, h):
    gi = x @ fl["w_ih"].T + fl["b_ih"]
    gh = h @ fl["w_hh"].T + fl["b_hh"]
    H = h.shape[-1]
    i_r, i_z, i_n = gi[:, :H], gi[:, H:2 * H], gi[:, 2 * H:]
    h_r, h_z, h_n = gh[:, :H], gh[:, H:2 * H], gh[:, 2 * H:]
    r = jax.nn.sigmoid(i_r + h_r)
    z = jax.nn.sigmoid(i_z + h_z)
    n = jnp.tanh(i_n + r * h_n)
    return (1 - z) * n + z * h


def ref_mha(heads, causal):
    def r(fl, _):
        q, kv = fl["q"], fl["kv"]
        N, L, E = q.shape
        S = kv.shape[1]
        d = E // heads
        Q = q @ fl["w_q"].T + fl["b_q"]
        K = kv @ fl["w_k"].T + fl["b_k"]
        V = kv @ fl["w_v"].T + fl["b_v"]
        split = lambda t, n: t.reshape(N, n, heads, d).transpose(0, 2, 1, 3)
        Qh, Kh, Vh = split(Q, L), split(K, S), split(V, S)
        scores = Qh @ Kh.transpose(0, 1, 3, 2) / np.sqrt(d)
        if causal:
            mask = np.tril(np.ones((L, S), dtype=bool))
            scores = jnp.where(mask, scores, -jnp.inf)
        attn = jax.nn.softmax(scores, axis=-1)
        ctx = (attn @ Vh).transpose(0, 2, 1, 3).reshape(N, L, E)
        return ctx @ fl["w_o"].T + fl["b_o"], {"attention": attn}
    return r


def ref_pe(length, d_model):
    pe = np.zeros((length, d_model))
    for p in range(length):
        for j in range(d_model):
            i2 = j - (j % 2)
            angle = p / 10000.0 ** (i2 / d_model)
            pe[p, j] = np.sin(angle) if j % 2 == 0 else np.cos(angle)
    return pe


def ref_ddpm(steps, beta_start, beta_end):
    def r(fl, ints):
        betas = np.linspace(beta_start, beta_end, steps)
        abar = np.cumprod(1.0 - betas)
        a = abar[np.asarray(ints["t"])]
        shape = (-1,) + (1,) * (fl["x0"].ndim - 1)
        a = jnp.asarray(a).reshape(shape)
        return jnp.sqrt(a) * fl["x0"] + jnp.sqrt(1.0 - a) * fl["noise"]
    return r


# ---------------------------------------------------------------- cases

def rnd(rng, *shape, scale=1.0):
    return f32(rng.standard_normal(shape) * scale)


def main():
    if not os.path.exists(ORACLE):
        sys.exit(f"no oracle at {ORACLE}: cargo build --release -q -p deepplay-core --example oracle")
    rng = np.random.default_rng(20240611)
    s = iter(range(10_000))

    # linear
    for (N, I, O) in [(5, 7, 4), (3, 1, 6)]:
        check(f"linear x[{N},{I}] w[{O},{I}]", "linear",
              {"x": rnd(rng, N, I), "w": rnd(rng, O, I), "b": rnd(rng, O)}, ref=ref_linear, seed=next(s))

    # conv2d: stride/padding combos, non-square inputs and kernels
    conv_cases = [
        ((2, 3, 7, 9), (4, 3, 3, 3), 1, 0),
        ((2, 3, 7, 9), (4, 3, 3, 3), 1, 1),
        ((2, 3, 7, 9), (4, 3, 3, 3), 2, 1),
        ((1, 2, 8, 5), (3, 2, 2, 4), 3, 2),
        ((2, 1, 10, 6), (2, 1, 4, 3), 2, 0),
        ((1, 3, 5, 5), (2, 3, 1, 1), 1, 0),
        ((1, 2, 6, 4), (2, 2, 3, 3), 1, 2),
    ]
    for xs, ws, st, pad in conv_cases:
        check(f"conv2d x{list(xs)} w{list(ws)} s{st} p{pad}", "conv2d",
              {"x": rnd(rng, *xs), "w": rnd(rng, *ws, scale=0.5), "b": rnd(rng, ws[0])},
              attrs={"stride": st, "padding": pad}, ref=ref_conv2d(st, pad), seed=next(s))
    # default stride/padding (attrs omitted)
    check("conv2d defaults (s1 p0)", "conv2d",
          {"x": rnd(rng, 1, 2, 6, 7), "w": rnd(rng, 3, 2, 3, 2), "b": rnd(rng, 3)},
          ref=ref_conv2d(1, 0), seed=next(s))

    # pooling, stride != kernel, odd sizes (floor mode)
    for kind in ("max", "avg"):
        for xs, k, st in [((2, 3, 7, 9), 3, 2), ((1, 2, 6, 5), 2, 1), ((2, 2, 7, 8), 3, 1),
                          ((1, 2, 9, 7), 2, 3), ((1, 1, 7, 5), 2, None)]:
            attrs = {"kernel": k} if st is None else {"kernel": k, "stride": st}
            check(f"{kind}_pool2d x{list(xs)} k{k} s{st if st else 'default'}", f"{kind}_pool2d",
                  {"x": rnd(rng, *xs)}, attrs=attrs, ref=ref_pool(kind, k, st or k), seed=next(s))

    # elementwise
    acts = {"relu": jax.nn.relu, "tanh": jnp.tanh, "sigmoid": jax.nn.sigmoid,
            "gelu": lambda x: jax.nn.gelu(x, approximate=False)}
    for op, fn in acts.items():
        for shape in [(3, 4, 5), (7,)]:
            check(f"{op} x{list(shape)}", op, {"x": rnd(rng, *shape, scale=3.0)},
                  ref=lambda fl, _, fn=fn: fn(fl["x"]), seed=next(s))

    # softmax (3-D and 2-D)
    for shape in [(2, 3, 5), (4, 6)]:
        check(f"softmax x{list(shape)}", "softmax", {"x": rnd(rng, *shape, scale=3.0)},
              ref=lambda fl, _: jax.nn.softmax(fl["x"], axis=-1), seed=next(s))

    # cross_entropy
    for N, K in [(6, 5), (1, 3)]:
        labels = rng.integers(0, K, size=N)
        check(f"cross_entropy logits[{N},{K}]", "cross_entropy", {"logits": rnd(rng, N, K, scale=2.0)},
              ints={"labels": labels}, ref=ref_cross_entropy, seed=next(s))

    # mse_loss
    for shape in [(3, 4), (2, 3, 5)]:
        check(f"mse_loss x{list(shape)}", "mse_loss", {"x": rnd(rng, *shape), "y": rnd(rng, *shape)},
              ref=lambda fl, _: jnp.mean((fl["x"] - fl["y"]) ** 2), seed=next(s))

    # layer_norm (3-D with non-default eps; 2-D with the default)
    for shape, eps in [((2, 3, 6), 1e-3), ((2, 4, 5), 0.1), ((4, 8), None)]:
        E = shape[-1]
        check(f"layer_norm x{list(shape)} eps={eps if eps is not None else 'default'}", "layer_norm",
              {"x": rnd(rng, *shape, scale=2.0) + 0.5, "gamma": rnd(rng, E) + 1.0, "beta": rnd(rng, E)},
              attrs={} if eps is None else {"eps": eps}, ref=ref_layer_norm(1e-5 if eps is None else eps),
              seed=next(s))

    # embedding with repeated ids
    ids = np.array([[0, 2, 2, 4], [1, 0, 4, 4], [3, 3, 3, 0]])
    check("embedding ids[3,4] (repeats) w[5,3]", "embedding", {"w": rnd(rng, 5, 3)},
          ints={"ids": ids}, ref=ref_embedding, seed=next(s))
    check("embedding ids[2,1] w[4,6]", "embedding", {"w": rnd(rng, 4, 6)},
          ints={"ids": np.array([[3], [3]])}, ref=ref_embedding, seed=next(s))

    # recurrent
    for op, cell, mult in [("rnn_tanh", rnn_cell, 1), ("gru", gru_cell, 3)]:
        for T, N, I, H in [(5, 2, 3, 4), (3, 1, 2, 3)]:
            fl = {"x": rnd(rng, T, N, I), "h0": rnd(rng, N, H, scale=0.5),
                  "w_ih": rnd(rng, mult * H, I, scale=0.6), "w_hh": rnd(rng, mult * H, H, scale=0.6),
                  "b_ih": rnd(rng, mult * H, scale=0.3), "b_hh": rnd(rng, mult * H, scale=0.3)}
            check(f"{op} T{T} N{N} I{I} H{H}", op, fl, ref=ref_rnn(cell), seed=next(s))

    # multi-head attention
    for N, L, S, E, heads, causal in [(2, 3, 5, 8, 2, False), (2, 4, 4, 8, 2, True),
                                      (1, 4, 4, 6, 2, False), (1, 5, 5, 6, 2, True),
                                      (2, 2, 3, 4, 1, False),
                                      # causal with L != S: top-left aligned (torch.tril(ones(L, S)))
                                      (1, 3, 5, 4, 2, True), (1, 5, 3, 4, 2, True)]:
        sc = 1.0 / np.sqrt(E)
        fl = {"q": rnd(rng, N, L, E), "kv": rnd(rng, N, S, E)}
        for w in "qkvo":
            fl[f"w_{w}"] = rnd(rng, E, E, scale=sc * 1.5)
            fl[f"b_{w}"] = rnd(rng, E, scale=0.2)
        check(f"mha N{N} L{L} S{S} E{E} heads{heads} causal={causal}", "multi_head_attention", fl,
              attrs={"num_heads": heads, "causal": causal}, ref=ref_mha(heads, causal), seed=next(s))

    # positional encoding (no inputs, no grads)
    for length, d in [(7, 6), (5, 7), (50, 16), (3, 1)]:
        pe = ref_pe(length, d)
        check(f"positional_encoding length{length} d_model{d}", "positional_encoding", {},
              attrs={"length": length, "d_model": d}, ref=lambda fl, _, pe=pe: jnp.asarray(pe),
              with_grad=False, seed=next(s))

    # DDPM forward process
    check("ddpm_q_sample steps10 b0.001..0.2", "ddpm_q_sample",
          {"x0": rnd(rng, 4, 2, 3, 3), "noise": rnd(rng, 4, 2, 3, 3)},
          ints={"t": np.array([0, 5, 9, 3])},
          attrs={"steps": 10, "beta_start": 0.001, "beta_end": 0.2},
          ref=ref_ddpm(10, 0.001, 0.2), seed=next(s))
    check("ddpm_q_sample steps50 b1e-3..0.05 x0[3,4]", "ddpm_q_sample",
          {"x0": rnd(rng, 3, 4), "noise": rnd(rng, 3, 4)}, ints={"t": np.array([49, 0, 17])},
          attrs={"steps": 50, "beta_start": 1e-3, "beta_end": 0.05},
          ref=ref_ddpm(50, 1e-3, 0.05), seed=next(s))
    check("ddpm_q_sample defaults (1000, 1e-4, 0.02)", "ddpm_q_sample",
          {"x0": rnd(rng, 5, 1, 2, 2), "noise": rnd(rng, 5, 1, 2, 2)},
          ints={"t": np.array([0, 999, 500, 123, 1])},
          ref=ref_ddpm(1000, 1e-4, 0.02), seed=next(s))

    # error contract
    x = tjson(rnd(rng, 2, 3))
    check_error("error: unknown op", {"op": "frobnicate", "inputs": {"x": x}})
    check_error("error: linear w[4,5] for x[2,3]", {"op": "linear", "inputs": {
        "x": x, "w": tjson(rnd(rng, 4, 5)), "b": tjson(rnd(rng, 4))}})
    check_error("error: linear b[3] for w[4,3]", {"op": "linear", "inputs": {
        "x": x, "w": tjson(rnd(rng, 4, 3)), "b": tjson(rnd(rng, 3))}})
    check_error("error: malformed JSON", '{"op": "relu", "inputs": {"x": {"shape": [2], "data": [1, 2]}')
    check_error("error: negative label", {"op": "cross_entropy", "inputs": {
        "logits": x, "labels": {"shape": [2], "data": [-1, 0]}}})
    check_error("error: label >= K", {"op": "cross_entropy", "inputs": {
        "logits": x, "labels": {"shape": [2], "data": [0, 3]}}})
    check_error("error: data length != shape", {"op": "relu", "inputs": {
        "x": {"shape": [2, 2], "data": [1, 2, 3]}}})
    check_error("error: conv2d channel mismatch", {"op": "conv2d", "inputs": {
        "x": tjson(rnd(rng, 1, 2, 5, 5)), "w": tjson(rnd(rng, 3, 4, 3, 3)), "b": tjson(rnd(rng, 3))}})
    check_error("error: conv2d kernel larger than input", {"op": "conv2d", "inputs": {
        "x": tjson(rnd(rng, 1, 1, 2, 2)), "w": tjson(rnd(rng, 1, 1, 3, 3)), "b": tjson(rnd(rng, 1))}})
    check_error("error: max_pool2d kernel larger than input", {"op": "max_pool2d", "inputs": {
        "x": tjson(rnd(rng, 1, 1, 2, 2))}, "attrs": {"kernel": 3}})
    check_error("error: embedding id >= V", {"op": "embedding", "inputs": {
        "w": tjson(rnd(rng, 4, 3)), "ids": {"shape": [1, 2], "data": [0, 4]}}})
    check_error("error: mha E not divisible by heads", {"op": "multi_head_attention", "inputs": {
        **{k: tjson(rnd(rng, 1, 2, 6)) for k in ("q", "kv")},
        **{f"w_{w}": tjson(rnd(rng, 6, 6)) for w in "qkvo"},
        **{f"b_{w}": tjson(rnd(rng, 6)) for w in "qkvo"}}, "attrs": {"num_heads": 4}})
    check_error("error: ddpm t >= steps", {"op": "ddpm_q_sample", "inputs": {
        "x0": x, "noise": x, "t": {"shape": [2], "data": [0, 10]}}, "attrs": {"steps": 10}})
    check_error("error: grad_output shape mismatch", {"op": "relu", "inputs": {"x": x},
                                                      "grad_output": tjson(rnd(rng, 3, 2))})
    check_error("error: missing input", {"op": "linear", "inputs": {"x": x}})

    # report
    width = max(len(n) for n, _, _ in results)
    for name, ok, detail in results:
        print(f"{'PASS' if ok else 'FAIL'}  {name:<{width}}  {detail}")
    passed = sum(ok for _, ok, _ in results)
    failed = len(results) - passed
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
