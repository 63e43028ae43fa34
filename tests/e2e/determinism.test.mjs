// Determinism in the browser, lab by lab: two fresh page loads with the
// same seed, stepped 100 times with Step, report the same loss after every
// step (the lab's main loss, as `loss-value` shows it), and another seed a
// different one. The same holds natively (each trainer's
// `the_same_seed_gives_the_same_run`).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, openPage, byTestId, dataValue, waitFor } from "./harness.mjs";

const STEPS = 100;
const LABS = ["playground", "cnn", "sequences", "attention", "diffusion", "gan", "transfer", "detection"];
// What each lab shows once its run is built and measured.
const READY = {
  playground: "accuracy",
  cnn: "test-accuracy",
  sequences: "gru-accuracy",
  attention: "seq-accuracy",
  diffusion: "sample-quality",
  gan: "sample-quality",
  transfer: "finetune-accuracy",
  detection: "map50",
};
let app;

before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** The loss after each of `steps` single steps of a fresh run of `slug`. */
async function losses(slug, seed, steps) {
  const { page, context, problems } = await openPage(app, `/${slug}?seed=${seed}`);
  await byTestId(page, "step-once").waitFor();
  // Built and measured once (a lab that loads data first ignores Step until
  // then, and Steps queued while it builds would all be taken).
  await waitFor(`${slug}: the untrained measurement`, async () => Number.isFinite(await dataValue(page, READY[slug])), 60000);
  await byTestId(page, "step-once").click();
  await page.waitForFunction(
    () => Number(document.querySelector('[data-testid="step-count"]')?.getAttribute("data-value")) >= 1,
    null,
    { polling: "raf", timeout: 20000 },
  );
  assert.equal(await dataValue(page, "step-count"), 1, `${slug}: one step`);
  const seen = [await dataValue(page, "loss-value")];
  for (let step = 2; step <= steps; step++) {
    await byTestId(page, "step-once").click();
    await page.waitForFunction(
      (n) => document.querySelector('[data-testid="step-count"]')?.getAttribute("data-value") === String(n),
      step,
      { polling: "raf", timeout: 20000 },
    );
    seen.push(await dataValue(page, "loss-value"));
  }
  assert.deepEqual(problems, [], slug);
  await context.close();
  return seen;
}

for (const slug of LABS) {
  test(`${slug}: the same seed gives the same losses for ${STEPS} steps, another seed others`, async () => {
    const first = await losses(slug, 7, STEPS);
    assert.equal(first.length, STEPS);
    assert.ok(first.every(Number.isFinite), `${slug}: ${first}`);
    const again = await losses(slug, 7, STEPS);
    assert.deepEqual(again, first, `${slug}: seed 7 twice`);
    const other = await losses(slug, 8, 5);
    assert.notDeepEqual(other, first.slice(0, 5), `${slug}: seed 8`);
  });
}
