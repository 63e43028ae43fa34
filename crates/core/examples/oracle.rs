//! The op oracle: one JSON request on stdin, one JSON reply on stdout, so
//! anyone can check DeepPlay's ops against another framework
//! (`tools/oracle_check.py` does, against JAX written to PyTorch's
//! semantics). This JSON is the oracle's own contract; it has nothing to do
//! with how the page talks to its worker (postcard).
//!
//! Request: {"op": name, "inputs": {name: T}, "attrs": {name: value},
//! "grad_output": T}, T = {"shape": [..], "data": [..]} row-major; "attrs"
//! and "grad_output" are optional. Each op's input names and attributes are
//! in `float_inputs` and `answer` below.
//!
//!   echo '{"op":"relu","inputs":{"x":{"shape":[2],"data":[-1,2]}},"grad_output":{"shape":[2],"data":[1,1]}}' \
//!     | cargo run --release -q -p deepplay-core --example oracle
//!
//! Reply: {"output": T, "grads": {name: T}} (grads only with grad_output;
//! multi_head_attention adds "attention"). An unknown op, a shape mismatch or
//! a malformed request: one line on stderr and exit code 2.

use deepplay_core::ddpm::DdpmSchedule;
use deepplay_core::layers::{positional_encoding, AttentionParams};
use deepplay_core::ops::{Conv2dSpec, PoolSpec};
use deepplay_core::{tensor, Graph, Tensor, Var};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;
use std::io::Read;

type Failure = String;

fn main() {
    // Nothing should panic, but if something does, keep the contract.
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown".into());
        eprintln!("oracle: internal error: {}", msg.replace('\n', " "));
        std::process::exit(2);
    }));
    let mut input = String::new();
    let reply = std::io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read stdin: {e}"))
        .and_then(|_| serde_json::from_str::<Value>(&input).map_err(|e| format!("malformed JSON: {e}")))
        .and_then(|request| answer(&request));
    match reply {
        Ok(reply) => println!("{reply}"),
        Err(message) => {
            eprintln!("oracle: {}", message.replace('\n', " "));
            std::process::exit(2);
        }
    }
}

/// A request's inputs, split into float tensors (which get gradients) and integer ones.
struct Request<'a> {
    op: &'a str,
    inputs: &'a Map<String, Value>,
    attrs: Map<String, Value>,
}

impl Request<'_> {
    fn shape_and_data(&self, name: &str) -> Result<(Vec<usize>, &Vec<Value>), Failure> {
        let t = self
            .inputs
            .get(name)
            .ok_or_else(|| format!("{}: missing input \"{name}\"", self.op))?;
        let shape = t
            .get("shape")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{}: input \"{name}\" needs a \"shape\" array", self.op))?
            .iter()
            .map(|d| d.as_u64().map(|d| d as usize))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| {
                format!(
                    "{}: input \"{name}\" has a shape that is not a list of non-negative integers",
                    self.op
                )
            })?;
        let data = t
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| format!("{}: input \"{name}\" needs a \"data\" array", self.op))?;
        let count: usize = shape.iter().product();
        if count != data.len() {
            return Err(format!(
                "{}: input \"{name}\" has shape {shape:?} ({count} elements) but {} data values",
                self.op,
                data.len()
            ));
        }
        Ok((shape, data))
    }

    fn float(&self, name: &str) -> Result<Tensor, Failure> {
        let (shape, data) = self.shape_and_data(name)?;
        let values = data
            .iter()
            .map(|v| v.as_f64().map(|v| v as f32))
            .collect::<Option<Vec<f32>>>()
            .ok_or_else(|| format!("{}: input \"{name}\" has a value that is not a number", self.op))?;
        tensor::from_vec(&shape, values).map_err(|e| e.to_string())
    }

    fn ints(&self, name: &str) -> Result<(Vec<usize>, Vec<usize>), Failure> {
        let (shape, data) = self.shape_and_data(name)?;
        let values = data
            .iter()
            .map(|v| v.as_f64().filter(|f| f.fract() == 0.0 && *f >= 0.0).map(|f| f as usize))
            .collect::<Option<Vec<usize>>>()
            .ok_or_else(|| format!("{}: input \"{name}\" must hold non-negative integers", self.op))?;
        Ok((shape, values))
    }

    fn usize_attr(&self, name: &str, default: Option<usize>) -> Result<usize, Failure> {
        match self.attrs.get(name) {
            None => default.ok_or_else(|| format!("{}: missing attribute \"{name}\"", self.op)),
            Some(v) => v
                .as_u64()
                .map(|v| v as usize)
                .ok_or_else(|| format!("{}: attribute \"{name}\" must be a non-negative integer", self.op)),
        }
    }

    fn f32_attr(&self, name: &str, default: f32) -> Result<f32, Failure> {
        match self.attrs.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_f64()
                .map(|v| v as f32)
                .ok_or_else(|| format!("{}: attribute \"{name}\" must be a number", self.op)),
        }
    }

    fn bool_attr(&self, name: &str, default: bool) -> Result<bool, Failure> {
        match self.attrs.get(name) {
            None => Ok(default),
            Some(v) => v
                .as_bool()
                .ok_or_else(|| format!("{}: attribute \"{name}\" must be true or false", self.op)),
        }
    }
}

fn to_json(t: &Tensor) -> Value {
    json!({"shape": t.shape(), "data": t.iter().copied().collect::<Vec<f32>>()})
}

/// The float inputs of each op, in the order its builder takes them.
fn float_inputs(op: &str) -> Option<&'static [&'static str]> {
    Some(match op {
        "linear" => &["x", "w", "b"],
        "conv2d" => &["x", "w", "b"],
        "max_pool2d" | "avg_pool2d" | "relu" | "tanh" | "sigmoid" | "softplus" | "gelu" | "softmax" => &["x"],
        "cross_entropy" => &["logits"],
        "mse_loss" => &["x", "y"],
        "layer_norm" => &["x", "gamma", "beta"],
        "embedding" => &["w"],
        "rnn_tanh" | "gru" => &["x", "h0", "w_ih", "w_hh", "b_ih", "b_hh"],
        "lstm" => &["x", "h0", "c0", "w_ih", "w_hh", "b_ih", "b_hh"],
        "multi_head_attention" => &["q", "kv", "w_q", "w_k", "w_v", "w_o", "b_q", "b_k", "b_v", "b_o"],
        "positional_encoding" => &[],
        "ddpm_q_sample" => &["x0", "noise"],
        _ => return None,
    })
}

fn answer(request: &Value) -> Result<Value, Failure> {
    let op = request
        .get("op")
        .and_then(Value::as_str)
        .ok_or("the request needs a string \"op\"")?;
    let names = float_inputs(op).ok_or_else(|| format!("unknown op \"{op}\""))?;
    let empty = Map::new();
    let inputs = match request.get("inputs") {
        None => &empty,
        Some(v) => v.as_object().ok_or("\"inputs\" must be an object")?,
    };
    let attrs = match request.get("attrs") {
        None | Some(Value::Null) => Map::new(),
        Some(v) => v.as_object().ok_or("\"attrs\" must be an object")?.clone(),
    };
    let req = Request { op, inputs, attrs };

    let mut g = Graph::new();
    let mut vars: BTreeMap<&str, Var> = BTreeMap::new();
    for &name in names {
        let t = req.float(name)?;
        vars.insert(name, g.variable(t));
    }
    let v = |name: &str| vars[name];
    let err = |e: deepplay_core::Error| e.to_string();
    let mut attention = None;
    let out = match op {
        "linear" => g.linear(v("x"), v("w"), Some(v("b"))).map_err(err)?,
        "conv2d" => {
            let spec = Conv2dSpec {
                stride: req.usize_attr("stride", Some(1))?,
                padding: req.usize_attr("padding", Some(0))?,
            };
            g.conv2d(v("x"), v("w"), Some(v("b")), spec).map_err(err)?
        }
        "max_pool2d" | "avg_pool2d" => {
            let kernel = req.usize_attr("kernel", None)?;
            let spec = PoolSpec {
                kernel,
                stride: req.usize_attr("stride", Some(kernel))?,
            };
            if op == "max_pool2d" {
                g.max_pool2d(v("x"), spec).map_err(err)?
            } else {
                g.avg_pool2d(v("x"), spec).map_err(err)?
            }
        }
        "relu" => g.relu(v("x")),
        "tanh" => g.tanh(v("x")),
        "sigmoid" => g.sigmoid(v("x")),
        "gelu" => g.gelu(v("x")),
        "softplus" => g.softplus(v("x")),
        "softmax" => g.softmax(v("x")).map_err(err)?,
        "cross_entropy" => {
            let (shape, labels) = req.ints("labels")?;
            if shape.len() != 1 {
                return Err(format!("cross_entropy: labels must be [N], got shape {shape:?}"));
            }
            g.cross_entropy(v("logits"), &labels).map_err(err)?
        }
        "mse_loss" => g.mse_loss(v("x"), v("y")).map_err(err)?,
        "layer_norm" => g
            .layer_norm(v("x"), v("gamma"), v("beta"), req.f32_attr("eps", 1e-5)?)
            .map_err(err)?,
        "embedding" => {
            let (shape, ids) = req.ints("ids")?;
            g.embedding(v("w"), &ids, &shape).map_err(err)?
        }
        "rnn_tanh" => {
            g.rnn_tanh(v("x"), v("h0"), v("w_ih"), v("w_hh"), v("b_ih"), v("b_hh"))
                .map_err(err)?
                .outputs
        }
        "gru" => {
            g.gru(v("x"), v("h0"), v("w_ih"), v("w_hh"), v("b_ih"), v("b_hh"))
                .map_err(err)?
                .rnn
                .outputs
        }
        "lstm" => {
            g.lstm(v("x"), v("h0"), v("c0"), v("w_ih"), v("w_hh"), v("b_ih"), v("b_hh"))
                .map_err(err)?
                .rnn
                .outputs
        }
        "multi_head_attention" => {
            let p = AttentionParams {
                w_q: v("w_q"),
                w_k: v("w_k"),
                w_v: v("w_v"),
                w_o: v("w_o"),
                b_q: v("b_q"),
                b_k: v("b_k"),
                b_v: v("b_v"),
                b_o: v("b_o"),
            };
            let heads = req.usize_attr("num_heads", Some(1))?;
            let causal = req.bool_attr("causal", false)?;
            let result = g.multi_head_attention(v("q"), v("kv"), p, heads, causal).map_err(err)?;
            attention = Some(result.attention);
            result.output
        }
        "positional_encoding" => {
            let (length, d_model) = (req.usize_attr("length", None)?, req.usize_attr("d_model", None)?);
            g.constant(positional_encoding(length, d_model))
        }
        "ddpm_q_sample" => {
            let schedule = DdpmSchedule::linear(
                req.usize_attr("steps", Some(1000))?,
                req.f32_attr("beta_start", 1e-4)?,
                req.f32_attr("beta_end", 0.02)?,
            )
            .map_err(err)?;
            let (shape, t) = req.ints("t")?;
            if shape.len() != 1 {
                return Err(format!("ddpm_q_sample: t must be [N], got shape {shape:?}"));
            }
            schedule.q_sample(&mut g, v("x0"), v("noise"), &t).map_err(err)?
        }
        _ => unreachable!("float_inputs() lists every op handled here"),
    };

    let mut reply = Map::new();
    reply.insert("output".into(), to_json(g.value(out)));
    if let Some(a) = attention {
        reply.insert("attention".into(), to_json(g.value(a)));
    }
    if let Some(grad_output) = request.get("grad_output").filter(|v| !v.is_null()) {
        let holder = Request {
            op,
            inputs: &Map::from_iter([("grad_output".to_string(), grad_output.clone())]),
            attrs: Map::new(),
        };
        let grad_output = holder.float("grad_output")?;
        if grad_output.shape() != g.shape(out) {
            return Err(format!(
                "{op}: shape mismatch, grad_output {:?} vs output {:?}",
                grad_output.shape(),
                g.shape(out)
            ));
        }
        if g.requires_grad(out) {
            g.backward_with(out, grad_output).map_err(err)?;
        }
        let mut grads = Map::new();
        for (&name, &var) in &vars {
            let grad = g.grad(var).cloned().unwrap_or_else(|| tensor::zeros(g.shape(var)));
            grads.insert(name.to_string(), to_json(&grad));
        }
        reply.insert("grads".into(), Value::Object(grads));
    }
    Ok(Value::Object(reply))
}
