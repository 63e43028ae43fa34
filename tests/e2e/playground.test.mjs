// The 2-D lab end to end: live training in the worker, bad input refused,
// divergence reported and recovered from, settings kept in the URL.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, openPage, byTestId, dataValue, waitFor, distinctColours, watchLongTasks, longTasks } from "./harness.mjs";

let app;

before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

async function openLab(path = "/playground", viewport, prepare) {
  const opened = await openPage(app, path, viewport, prepare);
  await byTestId(opened.page, "train-toggle").waitFor();
  // The worker's first snapshot draws the data and the untrained boundary.
  await waitFor("the first heatmap", async () => (await distinctColours(opened.page, "decision-heatmap")) > 5);
  return opened;
}

test("training runs live: steps and loss move, the heatmap is drawn, nothing errs", async () => {
  const { page, context, problems } = await openLab();
  // Long main-thread tasks while training (the page must stay smooth).
  await watchLongTasks(page);
  assert.equal(await dataValue(page, "step-count"), 0);
  assert.equal(await byTestId(page, "error-banner").count(), 0);

  await byTestId(page, "train-toggle").click();
  const firstLoss = await waitFor("a first loss", async () => {
    const loss = await dataValue(page, "loss-value");
    return Number.isFinite(loss) ? loss : false;
  });
  const steps = await waitFor("100 steps", async () => {
    const step = await dataValue(page, "step-count");
    return step >= 100 ? step : false;
  });
  await page.waitForTimeout(2500);
  const laterSteps = await dataValue(page, "step-count");
  const laterLoss = await dataValue(page, "loss-value");
  assert.ok(laterSteps > steps, `step count moves (${steps} -> ${laterSteps})`);
  assert.ok(Number.isFinite(laterLoss) && laterLoss !== firstLoss, `loss moves (${firstLoss} -> ${laterLoss})`);
  const accuracy = await dataValue(page, "accuracy");
  assert.ok(accuracy >= 0 && accuracy <= 1, `accuracy is a fraction: ${accuracy}`);
  assert.ok(Number(await byTestId(page, "loss-chart").getAttribute("data-points")) > 1, "the loss chart has a curve");
  const colours = await distinctColours(page, "decision-heatmap");
  assert.ok(colours > 20, `the heatmap is not blank (${colours} colours)`);
  const speed = await dataValue(page, "steps-per-second");
  const slow = await longTasks(page);
  console.log(
    `# steps/s ${Math.round(speed)}, ${laterSteps} steps, loss ${firstLoss.toFixed(3)} -> ${laterLoss.toFixed(3)}, ` +
      `accuracy ${accuracy.toFixed(3)}, main-thread tasks over 50 ms: ${JSON.stringify(slow)}`,
  );

  // Pause stops the count.
  await byTestId(page, "train-toggle").click();
  await page.waitForTimeout(300);
  const paused = await dataValue(page, "step-count");
  await page.waitForTimeout(600);
  assert.equal(await dataValue(page, "step-count"), paused, "paused training stays put");
  assert.match(await byTestId(page, "train-toggle").textContent(), /Start/);
  assert.deepEqual(slow, [], "no main-thread task over 50 ms while training");

  // Step once adds exactly one step.
  await byTestId(page, "step-once").click();
  await waitFor("one more step", async () => (await dataValue(page, "step-count")) === paused + 1);

  // Reset starts again from step 0 without reloading.
  await byTestId(page, "reset").click();
  await waitFor("step 0 after reset", async () => (await dataValue(page, "step-count")) === 0);
  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("out-of-range values are refused next to their field", async () => {
  const { page, context, problems } = await openLab();
  const cases = [
    ["lr-input", "-0.5", /greater than 0/],
    ["batch-input", "0", /at least 1/],
    ["seed-input", "abc", /not a number/],
    ["hidden-input", "16,0", /at least 1/],
  ];
  for (const [id, text, message] of cases) {
    const before = page.url();
    await byTestId(page, id).fill(text);
    await byTestId(page, id).press("Tab");
    const error = byTestId(page, `${id}-error`);
    await error.waitFor();
    assert.match(await error.textContent(), message, id);
    assert.equal(await byTestId(page, id).getAttribute("aria-invalid"), "true", id);
    assert.equal(page.url(), before, `${id}: a refused value does not reach the URL`);
  }
  // Training still works with the last valid settings.
  await byTestId(page, "train-toggle").click();
  await waitFor("steps with refused fields", async () => (await dataValue(page, "step-count")) > 10);
  // A corrected field clears its message.
  await byTestId(page, "lr-input").fill("0.02");
  await byTestId(page, "lr-input").press("Enter");
  await waitFor("the lr message to go", async () => (await byTestId(page, "lr-input-error").count()) === 0);
  await waitFor("lr in the URL", async () => page.url().includes("lr=0.02"));
  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a diverging run pauses with advice, and reset recovers without reloading", async () => {
  const { page, context, problems } = await openLab();
  await byTestId(page, "optimizer-select").selectOption("sgd");
  await byTestId(page, "lr-input").fill("1000000");
  await byTestId(page, "lr-input").press("Enter");
  await waitFor("the huge lr to apply", async () => page.url().includes("lr=1000000"));
  await byTestId(page, "train-toggle").click();
  const banner = byTestId(page, "error-banner");
  await banner.waitFor({ timeout: 20000 });
  assert.equal(await banner.getAttribute("role"), "alert");
  const text = await banner.textContent();
  assert.match(text, /diverged/);
  assert.match(text, /Lower the learning rate/);
  assert.match(text, /Reset/);
  await waitFor("training to pause itself", async () => /Start/.test(await byTestId(page, "train-toggle").textContent()));

  await byTestId(page, "lr-input").fill("0.05");
  await byTestId(page, "lr-input").press("Enter");
  await byTestId(page, "reset").click();
  await waitFor("the banner to go", async () => (await banner.count()) === 0);
  assert.equal(await dataValue(page, "step-count"), 0);
  await byTestId(page, "train-toggle").click();
  await waitFor("training again", async () => (await dataValue(page, "step-count")) > 50);
  assert.ok(Number.isFinite(await dataValue(page, "loss-value")));
  assert.equal(await banner.count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the URL reproduces the settings, and a phone-sized screen has no overflow", async () => {
  const query = "?data=circles&hidden=8,8&act=tanh&opt=adam&lr=0.03&batch=16&noise=0.05&seed=7&speed=full";
  const { page, context, problems } = await openLab(`/playground${query}`, { width: 390, height: 844 });
  assert.equal(await byTestId(page, "dataset-select").inputValue(), "circles");
  assert.equal(await byTestId(page, "hidden-input").inputValue(), "8,8");
  assert.equal(await byTestId(page, "lr-input").inputValue(), "0.03");
  assert.equal(await byTestId(page, "seed-input").inputValue(), "7");
  assert.ok(page.url().endsWith(query), page.url());
  const overflow = await page.evaluate(
    () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
  );
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  // The dataset select restarts the run with the new data.
  await byTestId(page, "dataset-select").selectOption("moons");
  await waitFor("moons in the URL", async () => page.url().includes("data=moons"));
  await byTestId(page, "train-toggle").click();
  await waitFor("steps on a phone", async () => (await dataValue(page, "step-count")) > 20);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the speed limit slows training to a watchable pace", async () => {
  const { page, context, problems } = await openLab();
  await byTestId(page, "speed-select").selectOption("veryslow");
  await waitFor("speed in the URL", async () => page.url().includes("speed=veryslow"));
  await byTestId(page, "train-toggle").click();
  await waitFor("a first slow step", async () => (await dataValue(page, "step-count")) >= 1);
  await page.waitForTimeout(2000);
  const steps = await dataValue(page, "step-count");
  // 10 steps a second for about 2 seconds.
  assert.ok(steps >= 10 && steps <= 40, `about 20 steps at 10 steps/s, got ${steps}`);
  await byTestId(page, "speed-select").selectOption("full");
  await waitFor("full speed again", async () => (await dataValue(page, "step-count")) > 1000);
  assert.deepEqual(problems, []);
  await context.close();
});

test("a crashed worker is restarted with a message, and training goes on", async () => {
  let loads = 0;
  // The first worker dies at start-up; the restarted one is the real one.
  const crashFirstWorker = (context) =>
    context.route("**/worker_playground_loader.js", (route) => {
      loads += 1;
      if (loads === 1) {
        route.fulfill({ contentType: "text/javascript", body: 'throw new Error("simulated crash");' });
      } else {
        route.continue();
      }
    });
  const { page, context, problems } = await openLab("/playground", undefined, crashFirstWorker);
  const banner = byTestId(page, "error-banner");
  await banner.waitFor();
  assert.match(await banner.textContent(), /crashed .* restarted/);
  assert.equal(loads, 2, "the worker was started again");
  await byTestId(page, "train-toggle").click();
  await waitFor("the banner to go once training restarts", async () => (await banner.count()) === 0);
  await waitFor("training in the new worker", async () => (await dataValue(page, "step-count")) > 50);
  // The only error is the simulated one, which the page handles.
  assert.deepEqual(problems.filter((p) => !p.includes("simulated crash")), []);
  await context.close();
});
