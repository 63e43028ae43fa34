// Trunk's initializer hooks: drive the loading screen in index.html while
// the app's wasm downloads. The app removes the screen once it has mounted.
export default function loadingScreen() {
  const screen = () => document.getElementById("loading");
  const setStatus = (text) => {
    const status = screen()?.querySelector(".status");
    if (status) status.textContent = text;
  };
  return {
    onStart: () => setStatus("Loading the WebAssembly engine\u2026"),
    onProgress: ({ current, total }) => {
      const el = screen();
      if (!el || !total) return;
      const percent = Math.min(100, Math.round((100 * current) / total));
      el.classList.remove("indeterminate");
      el.querySelector(".fill").style.width = `${percent}%`;
      el.querySelector(".bar").setAttribute("aria-valuenow", String(percent));
      const mb = (n) => (n / 1048576).toFixed(1);
      setStatus(`Loading the WebAssembly engine\u2026 ${mb(current)} of ${mb(total)} MB`);
    },
    onComplete: () => setStatus("Starting\u2026"),
    onSuccess: () => {},
    onFailure: (error) => {
      screen()?.classList.add("failed");
      setStatus(
        `DeepPlay could not start: ${error}. It needs a browser with WebAssembly; reload to try again.`,
      );
    },
  };
}
