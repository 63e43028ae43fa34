// The Sequences lab end to end in the release build: three networks train
// side by side, the gradient-norm chart and the GRU's gate heatmaps are
// drawn, bad settings are refused, a diverging run stops with advice,
// weights go out and come back, and a phone does not scroll sideways.
// DEEPPLAY_SEQ_TARGET=0.95 (make e2e-long) also trains the defaults until
// the GRU reaches that held-out accuracy and prints the time it took.
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

const MODELS = ["rnn", "gru", "lstm"];

async function openSequences(query = "", viewport) {
  const opened = await openPage(app, "/sequences" + query, viewport);
  await byTestId(opened.page, "train-toggle").waitFor();
  // The untrained networks are measured on the held-out set.
  await waitFor("the first accuracies", async () => Number.isFinite(await dataValue(opened.page, "gru-accuracy")), 30000);
  return opened;
}


async function accuracies(page) {
  return Promise.all(MODELS.map((m) => dataValue(page, `${m}-accuracy`)));
}

test("three networks train side by side; gradients and gates are drawn", async () => {
  const { page, context, problems } = await openSequences();
  await byTestId(page, "seq-length").fill("8");
  await byTestId(page, "seq-length").press("Enter");
  await waitFor("the URL to follow", async () => page.url().includes("len=8"));
  await page.waitForTimeout(500);
  const untrained = await accuracies(page);
  for (const a of untrained) assert.ok(a >= 0 && a <= 1, `accuracy is a fraction (${a})`);

  // Long main-thread tasks while training: the page must stay smooth while
  // it draws three hidden states, two gates and two charts ten times a second.
  await watchLongTasks(page);
  await byTestId(page, "train-toggle").click();
  await waitFor("100 steps", async () => (await dataValue(page, "step-count")) >= 100, 60000);
  // Every accuracy moves off its untrained value (length 8 is learnable by all three).
  const trained = await waitFor("every accuracy to move", async () => {
    const now = await accuracies(page);
    return now.every((a, i) => Number.isFinite(a) && a !== untrained[i]) ? now : false;
  }, 60000);
  assert.ok(Math.max(...trained) > 0.5, `someone learns (${trained})`);
  for (const m of MODELS) {
    const params = await byTestId(page, `${m}-params`).textContent();
    assert.match(params, /^[\d,]+$/, `${m} shows its parameter count`);
    assert.match(await byTestId(page, `${m}-step-ms`).textContent(), /ms$/, `${m} shows its time per step`);
  }
  assert.ok((await coloursInside(page, "grad-norm-chart")) > 4, "the gradient-norm chart is drawn");
  assert.ok((await coloursInside(page, "loss-chart")) > 4, "the loss chart is drawn");
  assert.ok((await distinctColours(page, "gate-update")) > 3, "the update gate is not one colour");
  // A focused heatmap reads its cells out by keyboard as by pointer.
  await byTestId(page, "gate-update").focus();
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowRight");
  const readout = page.locator('[data-testid="gate-update"]').locator("xpath=ancestor::figure").locator(".readout");
  assert.match(await readout.textContent(), /^unit 0, step 2: -?[\d.]+$/);
  assert.ok((await distinctColours(page, "gate-reset")) > 3, "the reset gate is not one colour");
  assert.ok((await distinctColours(page, "hidden-rnn")) > 3, "the RNN's hidden state is drawn");
  assert.match(await byTestId(page, "example-text").textContent(), /^[A-D]( [·?])+$/);
  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  const slow = await longTasks(page);
  console.log(`# main-thread tasks over 50 ms while training: ${JSON.stringify(slow)}`);
  assert.deepEqual(slow, [], "no main-thread task over 50 ms while training");

  // Pausing then stepping once moves exactly one step.
  await byTestId(page, "train-toggle").click();
  await page.waitForTimeout(500);
  const before = await dataValue(page, "step-count");
  await byTestId(page, "step-once").click();
  await waitFor("one more step", async () => (await dataValue(page, "step-count")) === before + 1);
  await context.close();
});

test("out-of-range settings are refused next to their fields and change nothing", async () => {
  const { page, context, problems } = await openSequences();
  for (const [id, text, pattern] of [
    ["seq-length", "500", /Length: .*200/],
    ["seq-length", "1", /Length: .*2/],
    ["hidden-size", "2", /Hidden size: .*4/],
    ["clip-input", "-1", /Clipping: .*0/],
  ]) {
    await byTestId(page, id).fill(text);
    await byTestId(page, id).press("Enter");
    const error = await byTestId(page, `${id}-error`).textContent();
    assert.match(error, pattern, `${id}=${text}: ${error}`);
  }
  assert.ok(!page.url().includes("len=500") && !page.url().includes("hidden=2&"), page.url());
  assert.equal(await dataValue(page, "step-count"), 0);
  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a diverging run pauses with advice, and reset recovers", async () => {
  const { page, context, problems } = await openSequences("?task=adding&len=10&clip=0&opt=sgd&lr=1000");
  await byTestId(page, "train-toggle").click();
  const banner = await bannerText(page, "the error banner", 30000);
  assert.match(banner, /diverged/i);
  assert.match(banner, /Reset/);
  await byTestId(page, "lr-input").fill("0.01");
  await byTestId(page, "lr-input").press("Enter");
  await byTestId(page, "clip-input").fill("1");
  await byTestId(page, "clip-input").press("Enter");
  await byTestId(page, "reset").click();
  await waitFor("the banner to go", async () => (await byTestId(page, "error-banner").count()) === 0);
  await byTestId(page, "step-once").click();
  await waitFor("a step after reset", async () => (await dataValue(page, "step-count")) === 1);
  assert.ok(Number.isFinite(await dataValue(page, "loss-value")));
  assert.deepEqual(problems, []);
  await context.close();
});

test("weights download with PyTorch's names and load back; another model's file is refused", async () => {
  const { page, context, problems } = await openSequences("?len=6&hidden=8");
  await byTestId(page, "train-toggle").click();
  await waitFor("60 steps", async () => (await dataValue(page, "step-count")) >= 60, 60000);
  await byTestId(page, "train-toggle").click();
  const trained = await waitFor("settled accuracies", async () => {
    const a = await accuracies(page);
    await page.waitForTimeout(400);
    const b = await accuracies(page);
    return a.every((v, i) => v === b[i] && Number.isFinite(v)) ? a : false;
  });
  const [download] = await Promise.all([page.waitForEvent("download"), byTestId(page, "export-weights").click()]);
  assert.match(download.suggestedFilename(), /^deepplay-sequences-first-h8\.safetensors$/);
  const { mkdtemp, writeFile, readFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "deepplay-seq-"));
  const file = join(dir, "seq.safetensors");
  await download.saveAs(file);
  const bytes = await readFile(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString());
  for (const name of ["rnn.weight_ih_l0", "gru.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0"]) {
    assert.ok(header[name], `${name} in the file`);
  }
  assert.deepEqual(header["gru.weight_ih_l0"].shape, [24, 9]);

  // The same seed again: fresh weights, the same held-out set; then the file.
  await byTestId(page, "reset").click();
  await waitFor("the reset", async () => (await dataValue(page, "step-count")) === 0);
  await byTestId(page, "import-weights").setInputFiles(file);
  await waitFor("the restored accuracies", async () => {
    const a = await accuracies(page);
    return a.every((v, i) => Math.abs(v - trained[i]) < 1e-6);
  });

  // A file from a wider network is refused with the reason.
  await byTestId(page, "hidden-size").fill("16");
  await byTestId(page, "hidden-size").press("Enter");
  await waitFor("the wider run", async () => page.url().includes("hidden=16"));
  await page.waitForTimeout(500);
  const before = await accuracies(page);
  await byTestId(page, "import-weights").setInputFiles(file);
  const banner = await bannerText(page, "the refusal");
  assert.match(banner, /Could not load these weights/);
  assert.match(banner, /unchanged/);
  assert.deepEqual(await accuracies(page), before, "the refused file changed nothing");
  const junk = join(dir, "junk.safetensors");
  await writeFile(junk, "not a weights file");
  await byTestId(page, "import-weights").setInputFiles(junk);
  await page.waitForTimeout(300);
  assert.deepEqual(problems, []);
  await context.close();
});

test("on a phone the Sequences lab does not scroll sideways", async () => {
  const { page, context, problems } = await openSequences("", { width: 390, height: 844 });
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(widths[0] <= widths[1], `page ${widths[0]} px wide in a ${widths[1]} px viewport`);
  assert.deepEqual(problems, []);
  await context.close();
});

const target = Number(process.env.DEEPPLAY_SEQ_TARGET ?? "0");
test("long run: at length 40 the GRU reaches the target while the RNN stays near chance", { skip: !(target > 0) }, async () => {
  const { page, context } = await openSequences();
  const started = Date.now();
  await byTestId(page, "train-toggle").click();
  const reached = await waitFor(`GRU accuracy ${target}`, async () => {
    const a = await dataValue(page, "gru-accuracy");
    return a >= target ? a : false;
  }, 5 * 60 * 1000);
  const seconds = (Date.now() - started) / 1000;
  const steps = await dataValue(page, "step-count");
  const [rnn, , lstm] = await accuracies(page);
  const ms = await Promise.all(MODELS.map(async (m) => (await byTestId(page, `${m}-step-ms`).textContent()).trim()));
  console.log(
    `# GRU reached ${reached} held-out accuracy in ${seconds.toFixed(1)} s (${steps} steps); ` +
      `RNN ${rnn}, LSTM ${lstm}; per step: RNN ${ms[0]}, GRU ${ms[1]}, LSTM ${ms[2]}`,
  );
  await context.close();
});
