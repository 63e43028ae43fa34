// Shared set-up for the end-to-end tests: the release build served locally,
// Debian's Chromium driven by playwright-core, and a record of everything
// that should not happen (console errors, page errors, foreign requests).
import { chromium } from "playwright-core";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { serve } from "./serve.mjs";

const here = dirname(fileURLToPath(import.meta.url));
export const DIST = process.env.DEEPPLAY_DIST ?? join(here, "..", "..", "dist");

// Without the background-networking flags Chromium keeps trying to reach
// outside hosts, which this machine's closed network refuses.
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

export async function startApp() {
  if (!existsSync(join(DIST, "index.html"))) {
    throw new Error(`no release build in ${DIST}: run \`trunk build --release\` first`);
  }
  const { server, url } = await serve(DIST);
  // launch() gives every run a fresh temporary profile (user-data-dir).
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: CHROMIUM_ARGS,
  });
  return {
    url,
    browser,
    async close() {
      await browser.close();
      await new Promise((done) => server.close(done));
    },
  };
}

/** A new page that records console errors, page errors and requests to
 * any host but the app's own. */
export async function openPage(app, path = "/", viewport = { width: 1280, height: 860 }, prepare) {
  const context = await app.browser.newContext({ viewport });
  if (prepare) await prepare(context);
  // A refused script, style, worker or request under the page's
  // Content-Security-Policy is a problem like any console error.
  await context.addInitScript(() => {
    self.addEventListener("securitypolicyviolation", (event) =>
      console.error(`CSP violation: ${event.violatedDirective} refused ${event.blockedURI || "an inline script or style"}`),
    );
  });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console error: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("request", (request) => {
    const url = request.url();
    if (!url.startsWith(app.url) && !url.startsWith("data:") && !url.startsWith("blob:")) {
      problems.push(`request to another host: ${url}`);
    }
  });
  await page.goto(app.url + path);
  return { page, context, problems };
}

export const byTestId = (page, id) => page.locator(`[data-testid="${id}"]`);

/** The number in an element's data-value attribute. */
export async function dataValue(page, id) {
  const text = await byTestId(page, id).getAttribute("data-value");
  return text === null || text === "" ? NaN : Number(text);
}

/** Waits for the page's error banner and returns its text; fails with `what`. */
export function bannerText(page, what, timeoutMs = 20000) {
  return waitFor(what, async () => {
    const banner = byTestId(page, "error-banner");
    return (await banner.count()) > 0 ? await banner.textContent() : false;
  }, timeoutMs);
}

/** Waits until `predicate()` resolves truthy, polling; fails with `what`. */
export async function waitFor(what, predicate, timeoutMs = 20000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await predicate();
    if (last) return last;
    await new Promise((done) => setTimeout(done, 100));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (last: ${last})`);
}

/** Distinct colours over every canvas inside an element (a chart's or a
 * panel's frame, where the test id is not on the canvas itself). */
export function coloursInside(page, id) {
  return page.evaluate((testid) => {
    const seen = new Set();
    for (const canvas of document.querySelectorAll(`[data-testid="${testid}"] canvas`)) {
      if (!canvas.width || !canvas.height) continue;
      const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
      for (let i = 0; i < data.length; i += 4 * 7) seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
    }
    return seen.size;
  }, id);
}

/** How many distinct colours the canvas shows (sampled on a grid). */
export function distinctColours(page, id) {
  return page.evaluate((testid) => {
    const canvas = document.querySelector(`[data-testid="${testid}"]`);
    if (!canvas || !canvas.width || !canvas.height) return 0;
    const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
    const seen = new Set();
    const stepX = Math.max(1, Math.floor(canvas.width / 40));
    const stepY = Math.max(1, Math.floor(canvas.height / 40));
    for (let y = 0; y < canvas.height; y += stepY) {
      for (let x = 0; x < canvas.width; x += stepX) {
        const i = (y * canvas.width + x) * 4;
        seen.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
      }
    }
    return seen.size;
  }, id);
}

/** Starts recording the page's main-thread tasks (PerformanceObserver
 * `longtask`, which reports every task over 50 ms). Call it just before
 * training starts; read the record with `longTasks`. */
export function watchLongTasks(page) {
  return page.evaluate(() => {
    window.__longTasks = [];
    new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) window.__longTasks.push(Math.round(entry.duration));
    }).observe({ type: "longtask", buffered: false });
  });
}

/** The durations (ms) of the main-thread tasks over 50 ms since
 * `watchLongTasks`: the budget is that there are none while a lab trains. */
export async function longTasks(page) {
  const all = await page.evaluate(() => window.__longTasks ?? null);
  if (all === null) throw new Error("longTasks before watchLongTasks");
  return all.filter((d) => d > 50);
}
