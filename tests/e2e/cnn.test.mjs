// The CNN lab end to end in the release build: MNIST loads in the worker,
// training moves step and loss, kernels and feature maps are drawn, a
// drawing gets a prediction, bad settings are refused, nothing errs.
// DEEPPLAY_CNN_TARGET=0.97 (make e2e-long) also trains until test accuracy
// reaches that fraction and prints the time it took.
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

async function openCnn(viewport) {
  const opened = await openPage(app, "/cnn", viewport);
  await byTestId(opened.page, "train-toggle").waitFor();
  // MNIST arrives, the network is built and the untrained network is evaluated.
  await waitFor("the first kernels", async () => (await distinctColours(opened.page, "kernel-grid")) > 5, 30000);
  return opened;
}


test("the CNN trains live on MNIST and shows kernels, feature maps and a prediction", async () => {
  const { page, context, problems } = await openCnn();
  assert.equal(await dataValue(page, "step-count"), 0);
  const untrained = await waitFor("the untrained test accuracy", async () => {
    const a = await dataValue(page, "test-accuracy");
    return Number.isFinite(a) ? a : false;
  });
  assert.ok(untrained < 0.4, `an untrained network is near chance (${untrained})`);
  assert.match(await byTestId(page, "param-count").textContent(), /^5,?994$/, "8*26 + 16*201 + 10*257 parameters");

  await watchLongTasks(page);
  await byTestId(page, "train-toggle").click();
  const firstLoss = await waitFor("a first loss", async () => {
    const loss = await dataValue(page, "loss-value");
    return Number.isFinite(loss) ? loss : false;
  });
  await waitFor("300 steps", async () => (await dataValue(page, "step-count")) >= 300, 60000);
  await page.waitForTimeout(1500);
  const steps = await dataValue(page, "step-count");
  const loss = await dataValue(page, "loss-value");
  assert.ok(loss < firstLoss && loss < 1.0, `the loss falls (${firstLoss} -> ${loss})`);
  const accuracy = await waitFor("a trained test accuracy", async () => {
    const a = await dataValue(page, "test-accuracy");
    return a > 0.8 ? a : false;
  }, 30000);
  assert.ok(await coloursInside(page, "feature-maps") > 20, "feature maps are drawn");
  assert.ok(await distinctColours(page, "kernel-grid") > 10, "kernels are drawn");
  const throughput = await dataValue(page, "throughput");
  assert.ok(throughput > 0, `examples per second shown (${throughput})`);
  const slow = await longTasks(page);
  console.log(`# main-thread tasks over 50 ms while training: ${JSON.stringify(slow)}`);
  assert.deepEqual(slow, [], "no main-thread task over 50 ms while training");

  // The feature maps answer the keyboard as they do a pointer: a focused
  // layer's arrow keys move the cell whose receptive field the digit shows.
  const maps = page.locator('[data-testid="feature-maps"] canvas.maps-canvas').first();
  await maps.focus();
  await page.keyboard.press("ArrowRight");
  await page.keyboard.press("ArrowDown");
  assert.match(await page.locator(".probe-input figcaption").textContent(), /^Cell \(1, 0\) sees input rows/);

  // Draw a "1": one vertical stroke.
  const pad = byTestId(page, "draw-canvas");
  await pad.scrollIntoViewIfNeeded();
  const box = await pad.boundingBox();
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) {
    await page.mouse.move(box.x + box.width * (0.5 + 0.01 * i), box.y + box.height * (0.15 + 0.07 * i));
  }
  await page.mouse.up();
  const predicted = await waitFor("a prediction", async () => {
    const p = await dataValue(page, "prediction");
    return Number.isInteger(p) ? String(p) : false;
  });
  assert.ok(Number(predicted) >= 0 && Number(predicted) <= 9);
  // The same pad by keyboard: clear it, then a pen put down in the middle
  // and moved up and down draws a stroke the network reads.
  await byTestId(page, "clear-drawing").click();
  await waitFor("the prediction cleared", async () => (await byTestId(page, "prediction").getAttribute("data-value")) === "");
  await pad.focus();
  for (const key of ["Enter", "ArrowUp", "ArrowUp", "ArrowUp", "ArrowUp", "Enter"]) await page.keyboard.press(key);
  for (let i = 0; i < 8; i++) await page.keyboard.press("ArrowDown");
  await waitFor("a prediction of the keyboard's stroke", async () => Number.isInteger(await dataValue(page, "prediction")));

  await byTestId(page, "train-toggle").click();
  await waitFor("the confusion matrix", async () => Number(await byTestId(page, "confusion-matrix").getAttribute("data-total")) === 2000);
  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  console.log(`# CNN: ${steps} steps, loss ${firstLoss.toFixed(3)} -> ${loss.toFixed(3)}, test accuracy ${accuracy}, ` +
    `${Math.round(throughput)} examples/s, drawing read as ${predicted}`);
  await context.close();
});

test("impossible networks and bad hyperparameters are refused next to their fields", async () => {
  const { page, context, problems } = await openCnn();
  await byTestId(page, "k").fill("9");
  await byTestId(page, "k").press("Enter");
  await byTestId(page, "p").fill("0");
  await byTestId(page, "p").press("Enter");
  await byTestId(page, "p1").fill("4");
  await byTestId(page, "p1").press("Enter");
  const message = await byTestId(page, "arch-error").textContent();
  assert.match(message, /does not fit/);
  await byTestId(page, "lr-input").fill("-1");
  await byTestId(page, "lr-input").press("Enter");
  assert.match(await byTestId(page, "lr-input-error").textContent(), /greater than 0/i);
  await byTestId(page, "batch-input").fill("0");
  await byTestId(page, "batch-input").press("Enter");
  assert.ok((await byTestId(page, "batch-input-error").textContent()).length > 0);
  // Nothing was applied: the default network still trains.
  await byTestId(page, "step-once").click();
  await waitFor("one step", async () => (await dataValue(page, "step-count")) === 1);
  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a huge learning rate diverges with advice, and reset recovers without a reload", async () => {
  const { page, context, problems } = await openCnn();
  await byTestId(page, "optimizer-select").selectOption("sgd");
  await byTestId(page, "lr-input").fill("10");
  await byTestId(page, "lr-input").press("Enter");
  await byTestId(page, "train-toggle").click();
  const banner = await bannerText(page, "the error banner", 30000);
  assert.match(banner, /diverged/i);
  assert.match(banner, /Reset/);
  await byTestId(page, "lr-input").fill("0.01");
  await byTestId(page, "lr-input").press("Enter");
  await byTestId(page, "reset").click();
  await waitFor("the banner to go", async () => (await byTestId(page, "error-banner").count()) === 0);
  await byTestId(page, "step-once").click();
  await waitFor("a step after reset", async () => (await dataValue(page, "step-count")) === 1);
  const loss = await dataValue(page, "loss-value");
  assert.ok(Number.isFinite(loss) && loss < 5, `a sane loss after reset (${loss})`);
  assert.deepEqual(problems, []);
  await context.close();
});

const target = Number(process.env.DEEPPLAY_CNN_TARGET ?? "0");
test("long run: the defaults reach the target test accuracy", { skip: !(target > 0) }, async () => {
  const { page, context } = await openCnn();
  const started = Date.now();
  await byTestId(page, "train-toggle").click();
  const reached = await waitFor(`test accuracy ${target}`, async () => {
    const a = await dataValue(page, "test-accuracy");
    return a >= target ? a : false;
  }, 10 * 60 * 1000);
  const seconds = (Date.now() - started) / 1000;
  const steps = await dataValue(page, "step-count");
  console.log(`# CNN reached ${reached} test accuracy in ${seconds.toFixed(1)} s (${steps} steps)`);
  await context.close();
});

test("on a phone the CNN lab does not scroll sideways", async () => {
  const { page, context, problems } = await openCnn({ width: 390, height: 844 });
  const widths = await page.evaluate(() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]);
  assert.ok(widths[0] <= widths[1], `page ${widths[0]} px wide in a ${widths[1]} px viewport`);
  assert.deepEqual(problems, []);
  await context.close();
});

test("weights download as safetensors and load back; a bad file is refused and changes nothing", async () => {
  const { page, context, problems } = await openCnn();
  await byTestId(page, "train-toggle").click();
  await waitFor("250 steps", async () => (await dataValue(page, "step-count")) >= 250, 60000);
  await byTestId(page, "train-toggle").click();
  // Pausing measures all 2,000 test digits with the paused weights; wait
  // until the readout has settled on that pass.
  const trained = await waitFor("the paused weights' accuracy", async () => {
    const a = await dataValue(page, "test-accuracy");
    const steps = await dataValue(page, "step-count");
    await page.waitForTimeout(400);
    const settled = a === (await dataValue(page, "test-accuracy")) && steps === (await dataValue(page, "step-count"));
    return settled && a > 0.8 ? a : false;
  });
  const [download] = await Promise.all([page.waitForEvent("download"), byTestId(page, "export-weights").click()]);
  assert.equal(download.suggestedFilename(), "deepplay-cnn.safetensors");
  const { mkdtemp, writeFile } = await import("node:fs/promises");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const dir = await mkdtemp(join(tmpdir(), "deepplay-weights-"));
  const file = join(dir, "cnn.safetensors");
  await download.saveAs(file);

  // Fresh weights from another seed, then the saved ones back.
  await byTestId(page, "seed-input").fill("77");
  await byTestId(page, "seed-input").press("Enter");
  await waitFor("the reset", async () => (await dataValue(page, "step-count")) === 0);
  await byTestId(page, "import-weights").setInputFiles(file);
  const restored = await waitFor("the restored accuracy", async () => {
    const a = await dataValue(page, "test-accuracy");
    return Math.abs(a - trained) < 1e-6 ? a : false;
  });
  assert.equal(restored, trained);

  const junk = join(dir, "junk.safetensors");
  await writeFile(junk, "this is not a weights file");
  await byTestId(page, "import-weights").setInputFiles(junk);
  const banner = await bannerText(page, "the refusal");
  assert.match(banner, /Could not load these weights/);
  assert.match(banner, /unchanged/);
  assert.equal(await dataValue(page, "test-accuracy"), trained, "the refused file changed nothing");
  assert.deepEqual(problems, []);
  await context.close();
});
