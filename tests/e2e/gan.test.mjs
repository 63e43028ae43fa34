// The GAN lab end to end in the release build: the two networks train; the
// discriminator's heatmap, the samples and the manifold are drawn and not
// blank; both losses are charted; the fakes cover more of the ring and come
// far closer to the data than a fitted Gaussian; step-d and step-g each
// change only their own network (compared in the exported weights); bad
// input gets messages; a run that explodes pauses with advice; a phone does
// not scroll sideways. DEEPPLAY_GAN_TARGET=120 (make e2e-long) trains the
// ring with defaults from several seeds for up to that many seconds each
// and prints when each covered all 8 modes.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, openPage, byTestId, bannerText, dataValue, waitFor, distinctColours, coloursInside, watchLongTasks, longTasks } from "./harness.mjs";

let app;

before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

async function openGan(query = "", viewport) {
  const opened = await openPage(app, "/gan" + query, viewport);
  await byTestId(opened.page, "train-toggle").waitFor();
  // The untrained generator's fakes are measured at once.
  await waitFor("the first samples", async () => Number.isFinite(await dataValue(opened.page, "sample-quality")), 30000);
  return opened;
}

/** The tensors of an exported safetensors file: name -> bytes (as hex). */
async function exportedTensors(page) {
  const [download] = await Promise.all([page.waitForEvent("download"), byTestId(page, "export-weights").click()]);
  const file = join(await mkdtemp(join(tmpdir(), "deepplay-gan-")), download.suggestedFilename());
  await download.saveAs(file);
  const bytes = await readFile(file);
  const length = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + length).toString());
  const tensors = {};
  for (const [name, info] of Object.entries(header)) {
    if (name === "__metadata__") continue;
    const [from, to] = info.data_offsets;
    tensors[name] = bytes.subarray(8 + length + from, 8 + length + to).toString("hex");
  }
  return { name: download.suggestedFilename(), header, tensors };
}

function changed(a, b, prefix) {
  return Object.keys(a).filter((k) => k.startsWith(prefix) && a[k] !== b[k]);
}

test("the GAN trains: heatmap, samples and manifold are drawn; the fakes cover the ring", async () => {
  const { page, context, problems } = await openGan();
  const untrained = await dataValue(page, "sample-quality");
  const gaussian = await dataValue(page, "gaussian-quality");
  const modesBefore = await dataValue(page, "modes-covered");
  assert.ok((await distinctColours(page, "disc-heatmap")) > 3, "the discriminator's view is drawn");
  assert.ok((await distinctColours(page, "gan-samples")) > 3, "the samples are drawn");
  assert.equal(await byTestId(page, "gan-samples").getAttribute("data-points"), "500");
  assert.ok((await distinctColours(page, "manifold")) > 3, "the manifold is drawn");
  await watchLongTasks(page);

  await byTestId(page, "train-toggle").click();
  const reached = await waitFor("all 8 modes and samples far closer than a fitted Gaussian", async () => {
    const [q, m] = [await dataValue(page, "sample-quality"), await dataValue(page, "modes-covered")];
    return m === 8 && q < 0.6 * gaussian ? { q, m, steps: await dataValue(page, "step-count") } : false;
  }, 120000);
  await byTestId(page, "train-toggle").click();
  assert.ok(reached.q < untrained, `quality ${untrained} -> ${reached.q}`);
  assert.ok(reached.m > modesBefore, `modes ${modesBefore} -> ${reached.m}`);
  assert.ok((await coloursInside(page, "loss-chart")) > 3, "the loss chart is drawn");
  const legend = await page.locator('[data-testid="loss-chart"]').locator("xpath=..").textContent();
  assert.match(legend, /discriminator/);
  assert.match(legend, /generator/);
  // (The fakes keep moving for a step or two after the pause.)
  assert.match(await byTestId(page, "coverage-message").textContent(), /All 8 modes covered|7 of 8 modes covered/);
  assert.ok((await distinctColours(page, "disc-heatmap")) > 10, "the trained discriminator's view has structure");

  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  const slow = await longTasks(page);
  console.log(`# main-thread tasks over 50 ms while training: ${JSON.stringify(slow)}`);
  assert.deepEqual(slow, [], "no main-thread task over 50 ms while training");
  console.log(
    `# gan: ${reached.steps} steps to 8 modes, sample quality ${untrained.toFixed(3)} -> ${reached.q.toFixed(3)} (fitted Gaussian ${gaussian.toFixed(3)})`,
  );
  await context.close();
});

test("step-d changes only the discriminator and step-g only the generator", async () => {
  const { page, context, problems } = await openGan("?gw=16&dw=16");
  const start = await exportedTensors(page);
  assert.equal(start.name, "deepplay-gan-ring-ns-z2.safetensors");
  assert.deepEqual(start.header["generator.net.0.weight"].shape, [16, 2]);
  assert.deepEqual(start.header["discriminator.net.4.weight"].shape, [1, 16]);

  const heatmapBefore = await distinctColours(page, "disc-heatmap");
  await byTestId(page, "step-d").click();
  await waitFor("one discriminator update", async () => /discriminator 1, generator 0/.test(await byTestId(page, "updates").textContent()));
  const afterD = await exportedTensors(page);
  assert.deepEqual(changed(start.tensors, afterD.tensors, "generator."), [], "step-d left the generator alone");
  assert.ok(changed(start.tensors, afterD.tensors, "discriminator.").length >= 5, "step-d moved the discriminator");

  await byTestId(page, "step-g").click();
  await waitFor("one generator update", async () => /discriminator 1, generator 1/.test(await byTestId(page, "updates").textContent()));
  const afterG = await exportedTensors(page);
  assert.deepEqual(changed(afterD.tensors, afterG.tensors, "discriminator."), [], "step-g left the discriminator alone");
  assert.equal(changed(afterD.tensors, afterG.tensors, "generator.").length, 6, "step-g moved every generator tensor");
  assert.ok(heatmapBefore > 3);
  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("bad settings get messages next to their fields; a drawing needs enough points", async () => {
  const { page, context, problems } = await openGan();
  for (const [id, text, pattern] of [
    ["g-width-input", "1000", /at most 256/],
    ["d-layers-input", "0", /at least 1/],
    ["noise-dim-input", "9", /at most 8/],
    ["d-steps-input", "11", /at most 10/],
    ["d-lr-input", "-1", /greater than 0/i],
  ]) {
    await byTestId(page, id).fill(text);
    await byTestId(page, id).press("Enter");
    assert.match(await byTestId(page, `${id}-error`).textContent(), pattern, `${id}=${text}`);
  }
  assert.ok(page.url().includes("gw=64") && page.url().includes("z=2"), page.url());

  await byTestId(page, "data-select").selectOption("drawn");
  const pad = byTestId(page, "draw-points");
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  for (const f of [0.3, 0.5, 0.7]) await page.mouse.click(box.x + box.width * f, box.y + box.height * 0.5);
  await waitFor("three points", async () => /^3 points/.test(await byTestId(page, "drawing-count").textContent()));
  // And by keyboard: the first key shows the pen, Enter puts it down (a
  // point), each arrow then adds one more.
  await pad.focus();
  for (const key of ["Enter", "Enter", "ArrowRight", "ArrowRight", "ArrowRight", "ArrowRight"]) await page.keyboard.press(key);
  await waitFor("five points more", async () => /^8 points/.test(await byTestId(page, "drawing-count").textContent()));
  await byTestId(page, "use-drawing").click();
  assert.match(await bannerText(page, "the refusal"), /at least 20 points.*has 8/);
  assert.ok(!page.url().includes("data=drawn"), "still the ring");
  assert.deepEqual(problems, []);
  await context.close();
});

test("a run whose loss explodes pauses with advice", async () => {
  const { page, context, problems } = await openGan("?loss=lsgan&gopt=sgd&glr=10&dopt=sgd&dlr=10");
  await byTestId(page, "train-toggle").click();
  const banner = await bannerText(page, "the error banner", 30000);
  assert.match(banner, /diverged/i);
  assert.match(banner, /lower them.*Reset/);
  assert.equal(await byTestId(page, "train-toggle").textContent().then((t) => /Start/.test(t)), true, "training paused");
  assert.deepEqual(problems, []);
  await context.close();
});

test("on a phone the GAN lab does not scroll sideways", async () => {
  const { page, context, problems } = await openGan("", { width: 390, height: 844 });
  await byTestId(page, "step-once").click();
  await waitFor("a step", async () => (await dataValue(page, "step-count")) === 1);
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(widths[0] <= widths[1], `page ${widths[0]} px wide in a ${widths[1]} px viewport`);
  assert.deepEqual(problems, []);
  await context.close();
});

const seconds = Number(process.env.DEEPPLAY_GAN_TARGET ?? "0");
const seeds = Number(process.env.DEEPPLAY_GAN_SEEDS ?? "5");
// Settings to try instead of the defaults, as a URL query ("&glr=0.0002...").
const extra = process.env.DEEPPLAY_GAN_QUERY ?? "";
test("long run: from several seeds, the defaults cover all 8 modes of the ring in time, and keep them", { skip: !(seconds > 0) }, async () => {
  const results = [];
  for (let seed = 1; seed <= seeds; seed++) {
    const { page, context } = await openGan(`?seed=${seed}${extra}`);
    const gaussian = await dataValue(page, "gaussian-quality");
    await byTestId(page, "train-toggle").click();
    const started = Date.now();
    let reached = null;
    // After the first time: how often (of the polls) all 8 are covered.
    let polls = 0;
    let covered = 0;
    while (Date.now() - started < seconds * 1000) {
      await page.waitForTimeout(500);
      const [q, m] = [await dataValue(page, "sample-quality"), await dataValue(page, "modes-covered")];
      const there = m === 8 && q < 0.5 * gaussian;
      if (reached) {
        polls += 1;
        covered += m === 8 ? 1 : 0;
      } else if (there) {
        reached = { s: (Date.now() - started) / 1000, steps: await dataValue(page, "step-count"), q };
      }
    }
    await byTestId(page, "train-toggle").click();
    await page.waitForTimeout(500);
    const [q, m, steps] = [await dataValue(page, "sample-quality"), await dataValue(page, "modes-covered"), await dataValue(page, "step-count")];
    const ms = (await byTestId(page, "step-ms").textContent()).trim();
    const first = reached
      ? `8 modes and quality ${reached.q.toFixed(3)} first after ${reached.s.toFixed(1)} s (${reached.steps} steps); all 8 covered in ${covered} of the ${polls} checks after that`
      : `never all 8 with quality under half the fitted Gaussian's`;
    console.log(`# gan seed ${seed}: ${first}; at ${seconds} s (${steps} steps, ${ms} per step): ${m} modes, quality ${q.toFixed(3)} (fitted Gaussian ${gaussian.toFixed(3)})`);
    results.push(reached);
    if (seed === 1) await page.locator(".gan-stage").screenshot({ path: "/tmp/gan-ring.png" });
    await context.close();
  }
  const hits = results.filter(Boolean).length;
  console.log(`# gan: ${hits} of ${seeds} seeds covered all 8 modes within ${seconds} s`);
  assert.ok(hits >= Math.ceil(0.8 * seeds), `${hits} of ${seeds}`);
});
