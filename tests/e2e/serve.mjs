// A tiny static server for the release build: serves dist/ and answers
// every unknown path without a file extension with index.html, as the app's
// client-side routes need. `node tests/e2e/serve.mjs [dir] [port]`.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const TYPES = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".mjs": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".wasm": "application/wasm",
  ".json": "application/json",
  ".png": "image/png",
  ".svg": "image/svg+xml",
  ".gz": "application/gzip",
  ".md": "text/markdown; charset=utf-8",
  ".txt": "text/plain; charset=utf-8",
};

async function fileAt(root, urlPath) {
  const path = normalize(join(root, decodeURIComponent(urlPath)));
  if (!path.startsWith(root)) return null;
  try {
    const info = await stat(path);
    if (info.isFile()) return path;
    if (info.isDirectory()) return fileAt(root, join(urlPath, "index.html"));
  } catch {
    // not found
  }
  return null;
}

/** The Content-Security-Policy index.html ships in its <meta> tag. */
export function shippedPolicy(dir) {
  const html = readFileSync(join(resolve(dir), "index.html"), "utf8");
  const meta = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/);
  return meta ? meta[1] : null;
}

/** Serves `dir`; resolves to { server, url } once listening. Every response
 * carries the policy of index.html as a header too, as a host that sets
 * headers would send it (workers take their policy from the header only). */
export function serve(dir, port = 0, host = "127.0.0.1") {
  const root = resolve(dir);
  const policy = shippedPolicy(dir);
  const server = createServer(async (req, res) => {
    try {
      const urlPath = new URL(req.url, "http://localhost").pathname;
      let path = await fileAt(root, urlPath);
      if (!path && !extname(urlPath)) path = join(root, "index.html");
      if (!path) {
        res.writeHead(404, { "content-type": "text/plain" });
        res.end("not found");
        return;
      }
      const body = await readFile(path);
      res.writeHead(200, {
        "content-type": TYPES[extname(path)] ?? "application/octet-stream",
        "content-length": body.length,
        "cache-control": "no-cache",
        ...(policy ? { "content-security-policy": policy } : {}),
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (error) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end(String(error));
    }
  });
  return new Promise((done, fail) => {
    server.once("error", fail);
    server.listen(port, host, () => {
      const { port: actual } = server.address();
      done({ server, url: `http://${host}:${actual}` });
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] ?? "dist";
  const port = Number(process.argv[3] ?? 8080);
  const { url } = await serve(dir, port);
  console.log(`serving ${dir} at ${url}`);
}
