// Starts DeepPlay: loads the page bundle of the address (the index's, or
// one lab's: web/src/bin/), showing its download on the loading screen of
// index.html. A file of its own, not an inline script, so that the page runs
// under a Content-Security-Policy without 'unsafe-inline' (index.html).
// The app removes the loading screen once it has mounted.
"use strict";
(function boot() {
  // The labs with a bundle of their own (a test in web/src/labs/mod.rs keeps
  // this list equal to the registry's).
  const LABS = ["playground", "cnn", "sequences", "attention", "diffusion", "gan", "transfer", "detection"];
  const parts = location.pathname.split("/").filter(Boolean);
  const name = "page_" + (parts.length === 1 && LABS.includes(parts[0]) ? parts[0] : "index");

  const screen = () => document.getElementById("loading");
  const setStatus = (text) => {
    const status = screen()?.querySelector(".status");
    if (status) status.textContent = text;
  };
  const fail = (error) => {
    console.error(`DeepPlay could not start: ${error}`);
    screen()?.classList.add("failed");
    setStatus(`DeepPlay could not start: ${error}. It needs a browser with WebAssembly; reload to try again.`);
  };
  const progress = (current, total) => {
    const el = screen();
    if (!el || !total) return;
    const percent = Math.min(100, Math.round((100 * current) / total));
    el.classList.remove("indeterminate");
    el.querySelector(".fill").style.width = `${percent}%`;
    el.querySelector(".bar").setAttribute("aria-valuenow", String(percent));
    const mb = (n) => (n / 1048576).toFixed(1);
    setStatus(`Loading the WebAssembly engine\u2026 ${mb(current)} of ${mb(total)} MB`);
  };

  // The module's bytes, counted as they arrive.
  async function download(url) {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
    const total = Number(response.headers.get("content-length")) || 0;
    if (!response.body || !total) return response.arrayBuffer();
    const reader = response.body.getReader();
    const bytes = new Uint8Array(total);
    let current = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      if (current + value.length > total) return new Blob([bytes.subarray(0, current), value]).arrayBuffer();
      bytes.set(value, current);
      current += value.length;
      progress(current, total);
    }
    return bytes.subarray(0, current);
  }

  const script = document.createElement("script");
  script.src = `/${name}.js`;
  script.onerror = () => fail(`${script.src} did not load`);
  script.onload = async () => {
    try {
      const bytes = await download(`/${name}_bg.wasm`);
      setStatus("Starting\u2026");
      // wasm-bindgen's glue (no-modules) declares `let wasm_bindgen` in the
      // global scope (not a property of window); init runs main.
      // eslint-disable-next-line no-undef
      await wasm_bindgen({ module_or_path: bytes });
    } catch (error) {
      fail(error);
    }
  };
  document.head.appendChild(script);
})();
