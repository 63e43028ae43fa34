// The Attention lab end to end in the release build: the Transformer trains,
// every head's attention map and the positional-encoding table are drawn and
// not blank, a typed sentence updates the maps, bad input gets messages, a
// run whose loss explodes pauses with advice,
// switching positional encoding off leaves the model near chance, weights go
// out with PyTorch's names and come back, and a phone does not scroll
// sideways. DEEPPLAY_ATTENTION_TARGET=0.99 (make e2e-long) also trains the
// defaults until that held-out accuracy and prints the time it took.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, openPage, byTestId, bannerText, dataValue, waitFor, distinctColours, coloursInside, watchLongTasks, longTasks } from "./harness.mjs";

let app;

before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

async function openAttention(query = "", viewport) {
  const opened = await openPage(app, "/attention" + query, viewport);
  await byTestId(opened.page, "train-toggle").waitFor();
  await waitFor("the first accuracy", async () => Number.isFinite(await dataValue(opened.page, "seq-accuracy")), 30000);
  return opened;
}


/** The pixels of a canvas, as a string to compare two paints. */
function canvasPixels(page, testid) {
  return page.evaluate((id) => {
    const canvas = document.querySelector(`[data-testid="${id}"]`);
    if (!canvas?.width) return "";
    return Array.from(canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data.filter((_, i) => i % 16 === 0)).join(",");
  }, testid);
}

test("the Transformer trains; every head's map and the encoding are drawn; a typed sentence redraws them", async () => {
  const { page, context, problems } = await openAttention();
  const untrained = await dataValue(page, "seq-accuracy");
  await watchLongTasks(page);
  await byTestId(page, "train-toggle").click();
  await waitFor("60 steps", async () => (await dataValue(page, "step-count")) >= 60, 60000);
  // Far above what a model blind to order can reach (50%).
  const trained = await waitFor("the accuracy to pass 90%", async () => {
    const a = await dataValue(page, "seq-accuracy");
    return a > 0.9 ? a : false;
  }, 60000);
  assert.ok(trained > untrained, `accuracy ${untrained} -> ${trained}`);
  // Defaults: 2 layers of 4 heads.
  for (let l = 0; l < 2; l++) {
    for (let h = 0; h < 4; h++) {
      assert.ok((await distinctColours(page, `attention-map-${l}-${h}`)) > 3, `map ${l}-${h} is not blank`);
    }
  }
  assert.equal(await byTestId(page, "attention-map-2-0").count(), 0, "no third layer");
  assert.ok((await distinctColours(page, "pe-heatmap")) > 5, "the encoding shows its bands");
  assert.ok((await coloursInside(page, "loss-chart")) > 3, "the loss chart is drawn");
  assert.match(await byTestId(page, "model-answer").textContent(), /The model answers “\w+”/);
  assert.match(await byTestId(page, "params").textContent(), /^[\d,]+$/);

  // A new sentence: the maps follow it.
  await byTestId(page, "train-toggle").click();
  await page.waitForTimeout(500);
  const before = await canvasPixels(page, "attention-map-0-0");
  await byTestId(page, "sentence-input").fill("a hungry fox slowly followed the old horse");
  await byTestId(page, "sentence-input").press("Enter");
  await waitFor("the map to change", async () => (await canvasPixels(page, "attention-map-0-0")) !== before, 10000);
  await waitFor("the answer for the new sentence", async () =>
    /“(fox|horse)”/.test(await byTestId(page, "model-answer").textContent()),
  );
  // Clicking a row shows what that token gathers.
  await byTestId(page, "attention-map-1-0").scrollIntoViewIfNeeded();
  const box = await byTestId(page, "attention-map-1-0").boundingBox();
  await page.mouse.click(box.x + box.width * 0.7, box.y + box.height * 0.5);
  await byTestId(page, "query-detail").waitFor();
  assert.match(await byTestId(page, "query-detail").textContent(), /attends to/);

  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  const slow = await longTasks(page);
  console.log(`# main-thread tasks over 50 ms while training: ${JSON.stringify(slow)}`);
  assert.deepEqual(slow, [], "no main-thread task over 50 ms while training");
  await context.close();
});

test("bad sentences and sizes get messages next to their fields and change nothing", async () => {
  const { page, context, problems } = await openAttention();
  for (const [text, pattern] of [
    ["the wolf ate the dog", /Unknown word "wolf".*knows only these words: the, a, dog/],
    ["   ", /Type a sentence/],
    ["the big red old dog was quickly chased by the small old young cat", /at most 12/],
  ]) {
    await byTestId(page, "sentence-input").fill(text);
    await byTestId(page, "sentence-input").press("Enter");
    assert.match(await byTestId(page, "sentence-input-error").textContent(), pattern, text);
  }
  for (const [id, text, pattern] of [
    ["heads", "3", /Heads: 3 does not divide the model width 32/],
    ["layers", "5", /Layers: .*3/],
    ["d-model", "4", /Model width: .*8/],
    ["d-model", "30", /Model width: 30 is not a multiple of the 4 heads/],
  ]) {
    await byTestId(page, id).fill(text);
    await byTestId(page, id).press("Enter");
    assert.match(await byTestId(page, `${id}-error`).textContent(), pattern, `${id}=${text}`);
  }
  assert.ok(page.url().includes("heads=4") && page.url().includes("layers=2"), page.url());
  assert.equal(await dataValue(page, "step-count"), 0);
  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("without positional encoding the model stays near chance", async () => {
  const { page, context, problems } = await openAttention();
  await byTestId(page, "pe-toggle").uncheck();
  await waitFor("the URL to follow", async () => page.url().includes("pe=off"));
  await byTestId(page, "reset").click();
  await waitFor("the reset", async () => (await dataValue(page, "step-count")) === 0);
  assert.equal(await byTestId(page, "pe-heatmap").count(), 0, "no table to show");
  await byTestId(page, "train-toggle").click();
  await waitFor("400 steps", async () => (await dataValue(page, "step-count")) >= 400, 90000);
  await byTestId(page, "train-toggle").click();
  await page.waitForTimeout(600);
  const accuracy = await dataValue(page, "seq-accuracy");
  assert.ok(accuracy > 0.35 && accuracy < 0.65, `without positions: ${accuracy}`);
  assert.match(await byTestId(page, "lesson").textContent(), /same bag of words/);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a run whose loss explodes pauses with advice", async () => {
  // The highest rate the page accepts: clipping keeps the loss finite, but
  // it grows to hundreds of times a blind guess's.
  const { page, context, problems } = await openAttention("?opt=sgd&lr=10");
  await byTestId(page, "train-toggle").click();
  const banner = await bannerText(page, "the error banner", 30000);
  assert.match(banner, /diverged.*times a blind guess/i);
  assert.match(banner, /Reset/);
  assert.equal(await byTestId(page, "train-toggle").textContent().then((t) => /Start/.test(t)), true, "training paused");
  assert.deepEqual(problems, []);
  await context.close();
});

test("weights download with PyTorch's names and load back; another model's file is refused", async () => {
  const { page, context, problems } = await openAttention("?d=16&heads=2&layers=1");
  await byTestId(page, "train-toggle").click();
  await waitFor("40 steps", async () => (await dataValue(page, "step-count")) >= 40, 60000);
  await byTestId(page, "train-toggle").click();
  const trained = await waitFor("a settled accuracy", async () => {
    const a = await dataValue(page, "seq-accuracy");
    await page.waitForTimeout(400);
    return a === (await dataValue(page, "seq-accuracy")) ? a : false;
  });
  const [download] = await Promise.all([page.waitForEvent("download"), byTestId(page, "export-weights").click()]);
  assert.equal(download.suggestedFilename(), "deepplay-attention-who-d16-h2.safetensors");
  const { mkdtemp, readFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const file = join(await mkdtemp(join(tmpdir(), "deepplay-attn-")), "attn.safetensors");
  await download.saveAs(file);
  const bytes = await readFile(file);
  const header = JSON.parse(bytes.subarray(8, 8 + Number(bytes.readBigUInt64LE(0))).toString());
  assert.deepEqual(header["encoder.layers.0.self_attn.in_proj_weight"].shape, [48, 16]);
  assert.ok(header["encoder.layers.0.self_attn.out_proj.weight"]);
  assert.equal(header.__metadata__.norm_first, "true");

  await byTestId(page, "reset").click();
  await waitFor("the reset", async () => (await dataValue(page, "step-count")) === 0);
  await byTestId(page, "import-weights").setInputFiles(file);
  await waitFor("the restored accuracy", async () => Math.abs((await dataValue(page, "seq-accuracy")) - trained) < 1e-6);

  // A two-layer model refuses the one-layer file.
  await byTestId(page, "layers").fill("2");
  await byTestId(page, "layers").press("Enter");
  await waitFor("the deeper run", async () => page.url().includes("layers=2"));
  await page.waitForTimeout(500);
  const before = await dataValue(page, "seq-accuracy");
  await byTestId(page, "import-weights").setInputFiles(file);
  const banner = await bannerText(page, "the refusal");
  assert.match(banner, /Could not load these weights/);
  assert.match(banner, /unchanged/);
  assert.equal(await dataValue(page, "seq-accuracy"), before, "the refused file changed nothing");
  assert.deepEqual(problems, []);
  await context.close();
});

test("on a phone the Attention lab does not scroll sideways", async () => {
  const { page, context, problems } = await openAttention("", { width: 390, height: 844 });
  await byTestId(page, "step-once").click();
  await waitFor("a step", async () => (await dataValue(page, "step-count")) === 1);
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(widths[0] <= widths[1], `page ${widths[0]} px wide in a ${widths[1]} px viewport`);
  assert.deepEqual(problems, []);
  await context.close();
});

const target = Number(process.env.DEEPPLAY_ATTENTION_TARGET ?? "0");
test("long run: with positional encoding the defaults reach the target", { skip: !(target > 0) }, async () => {
  const { page, context } = await openAttention();
  const started = Date.now();
  await byTestId(page, "train-toggle").click();
  const reached = await waitFor(`accuracy ${target}`, async () => {
    const a = await dataValue(page, "seq-accuracy");
    return a >= target ? a : false;
  }, 2 * 60 * 1000);
  const seconds = (Date.now() - started) / 1000;
  const steps = await dataValue(page, "step-count");
  const ms = (await byTestId(page, "step-ms").textContent()).trim();
  console.log(`# Attention reached ${reached} held-out accuracy in ${seconds.toFixed(1)} s (${steps} steps, ${ms} per step)`);
  // The same run without positional encoding, for two minutes.
  await byTestId(page, "train-toggle").click();
  await byTestId(page, "pe-toggle").uncheck();
  await waitFor("the URL to follow", async () => page.url().includes("pe=off"));
  await byTestId(page, "train-toggle").click();
  await page.waitForTimeout(2 * 60 * 1000);
  await byTestId(page, "train-toggle").click();
  await page.waitForTimeout(1000);
  const blind = await dataValue(page, "seq-accuracy");
  const blindSteps = await dataValue(page, "step-count");
  console.log(`# without positional encoding: ${blind} held-out accuracy after 2 minutes (${blindSteps} steps)`);
  assert.ok(blind < 0.65, `without positions ${blind}`);
  await context.close();
});
