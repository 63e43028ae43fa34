// The soak (make soak, opt-in: DEEPPLAY_SOAK_MINUTES=30): every lab in
// turn in one browser tab, trained for an equal share of the time, and
// while it trains it is reset and its weights exported again and again.
// Every 30 s it samples what could grow:
// - the page's JS heap after a full garbage collection (DevTools protocol),
// - the page's and the worker's WebAssembly memory (both only ever grow,
//   so they are high-water marks; the app keeps them on <html> as
//   data-page-memory and data-worker-memory),
// - the resident memory of Chromium's renderer processes (/proc via ps),
// - the DOM's nodes and event listeners (DevTools protocol).
// It fails if, after a minute of warm-up in each lab, the worker's memory
// or the page's JS heap keeps growing, or if the renderers end the soak
// much larger than they were after the first lab. The samples go to
// soak-report.json beside this file, and a table to the log.
import { test } from "node:test";
import assert from "node:assert/strict";
import { execSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApp, openPage, byTestId, dataValue, waitFor } from "./harness.mjs";

const minutes = Number(process.env.DEEPPLAY_SOAK_MINUTES ?? 0);
const LABS = ["playground", "cnn", "sequences", "attention", "diffusion", "gan", "transfer", "detection"];
const SAMPLE_MS = 30_000;
const WARM_UP_MS = 60_000;
const MB = 1024 * 1024;

/** Resident memory (MB) of this test's Chromium renderer processes (the
 * descendants of this process, so that another browser on the machine
 * does not count). */
function rendererRssMb() {
  const rows = [];
  for (const line of execSync("ps -eo pid,ppid,rss,args --no-headers").toString().split("\n")) {
    const m = line.trim().match(/^(\d+)\s+(\d+)\s+(\d+)\s+(.*)$/);
    if (m) rows.push({ pid: Number(m[1]), ppid: Number(m[2]), rss: Number(m[3]), args: m[4] });
  }
  const ours = new Set([process.pid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const r of rows) {
      if (!ours.has(r.pid) && ours.has(r.ppid)) {
        ours.add(r.pid);
        grew = true;
      }
    }
  }
  const total = rows
    .filter((r) => ours.has(r.pid) && /--type=renderer/.test(r.args))
    .reduce((sum, r) => sum + r.rss, 0);
  return Math.round(total / 1024);
}

async function sample(page, cdp, lab, startedAt) {
  await cdp.send("HeapProfiler.collectGarbage");
  const { usedSize } = await cdp.send("Runtime.getHeapUsage");
  const { nodes, jsEventListeners } = await cdp.send("Memory.getDOMCounters");
  const attrs = await page.evaluate(() => ({
    page: Number(document.documentElement.dataset.pageMemory ?? NaN),
    worker: Number(document.documentElement.dataset.workerMemory ?? NaN),
  }));
  return {
    lab,
    seconds: Math.round((Date.now() - startedAt) / 1000),
    steps: await dataValue(page, "step-count"),
    jsHeapMb: +(usedSize / MB).toFixed(2),
    pageWasmMb: +(attrs.page / MB).toFixed(1),
    workerWasmMb: +(attrs.worker / MB).toFixed(1),
    rendererRssMb: rendererRssMb(),
    domNodes: nodes,
    listeners: jsEventListeners,
  };
}

test(`soak: every lab trains, resets and exports for ${minutes} minutes without growing`, { skip: !(minutes > 0), timeout: (minutes + 10) * 60_000 }, async () => {
  const app = await startApp();
  const { page, context, problems } = await openPage(app, "/");
  const cdp = await context.newCDPSession(page);
  let downloads = 0;
  page.on("download", async (download) => {
    downloads += 1;
    await download.delete().catch(() => {});
  });
  const share = (minutes * 60_000) / LABS.length;
  const samples = [];
  const startedAt = Date.now();
  for (const lab of LABS) {
    // Switching labs as a visitor does: by the page's own link.
    await page.locator(`a[href="/${lab}"]`).first().click();
    await waitFor(`the ${lab} lab`, async () => new URL(page.url()).pathname === `/${lab}`, 30_000);
    await byTestId(page, "train-toggle").waitFor({ timeout: 60_000 });
    // Start queues while the lab builds (data to fetch, a model to make).
    await byTestId(page, "train-toggle").click();
    const visitStart = Date.now();
    // Samples fall midway between resets (every 30 s), so that each shows
    // a run some seconds in.
    let nextSample = visitStart + 15_000;
    let cycle = 0;
    while (Date.now() - visitStart < share) {
      if (Date.now() >= nextSample) {
        const s = await sample(page, cdp, lab, startedAt);
        s.warm = Date.now() - visitStart >= WARM_UP_MS;
        samples.push(s);
        console.log(`# ${JSON.stringify(s)}`);
        nextSample += SAMPLE_MS;
      }
      // Every 10 s: export the weights, and every third time reset (a reset
      // pauses, so training is started again).
      await page.waitForTimeout(10_000);
      cycle += 1;
      if (await byTestId(page, "export-weights").count()) await byTestId(page, "export-weights").click();
      if (cycle % 3 === 0) {
        await byTestId(page, "reset").click();
        await waitFor(`${lab} paused by the reset`, async () => (await byTestId(page, "train-toggle").textContent()).includes("Start"), 30_000);
        await waitFor(`${lab} reset to step 0`, async () => (await dataValue(page, "step-count")) === 0, 30_000);
        await byTestId(page, "train-toggle").click();
      }
    }
    // Back to the index between labs, as a visitor browsing would.
    await page.locator('a[href="/"]').first().click();
    await waitFor("the index", async () => new URL(page.url()).pathname === "/", 30_000);
  }
  const report = { minutes, downloads, problems, samples };
  writeFileSync(join(dirname(fileURLToPath(import.meta.url)), "soak-report.json"), JSON.stringify(report, null, 1));

  // Per lab: first and last warm sample, and the growth between them.
  const rows = [];
  for (const lab of LABS) {
    const warm = samples.filter((s) => s.lab === lab && s.warm);
    assert.ok(warm.length >= 2, `${lab}: at least two samples after warm-up (${warm.length})`);
    const [first, last] = [warm[0], warm.at(-1)];
    rows.push({ lab, steps: last.steps, ...Object.fromEntries(["jsHeapMb", "pageWasmMb", "workerWasmMb", "rendererRssMb", "domNodes"].map((k) => [k, `${first[k]} -> ${last[k]}`])) });
    // The worker's memory after warm-up: resets and exports free what they
    // took. One allocator growth step of slack (a few MB).
    assert.ok(last.workerWasmMb - first.workerWasmMb <= 8, `${lab}: the worker's memory grew ${first.workerWasmMb} -> ${last.workerWasmMb} MB`);
    assert.ok(last.pageWasmMb - first.pageWasmMb <= 8, `${lab}: the page's wasm memory grew ${first.pageWasmMb} -> ${last.pageWasmMb} MB`);
    assert.ok(last.jsHeapMb - first.jsHeapMb <= 4, `${lab}: the page's JS heap grew ${first.jsHeapMb} -> ${last.jsHeapMb} MB`);
    assert.ok(last.domNodes <= first.domNodes * 1.5 + 500, `${lab}: the DOM grew ${first.domNodes} -> ${last.domNodes} nodes`);
  }
  console.table(rows);
  // Across the soak: the renderers at the end against the end of the first lab.
  const firstLabEnd = samples.filter((s) => s.lab === LABS[0]).at(-1).rendererRssMb;
  const end = samples.at(-1).rendererRssMb;
  console.log(`# renderer RSS: ${firstLabEnd} MB after the first lab, ${end} MB at the end; ${downloads} weight files exported`);
  assert.ok(end - firstLabEnd <= 150, `the renderers grew ${firstLabEnd} -> ${end} MB over the soak`);
  assert.ok(downloads > LABS.length, `weights were exported (${downloads})`);
  assert.deepEqual(problems, []);
  await context.close();
  await app.close();
});
