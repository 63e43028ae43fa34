// The release build's index and placeholder pages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { startApp, openPage, byTestId } from "./harness.mjs";

const LABS = ["playground", "cnn", "sequences", "attention", "diffusion", "gan", "transfer", "detection"];
let app;

before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test("the index mounts, drops the loading screen and links every lab", async () => {
  const { page, context, problems } = await openPage(app, "/");
  await byTestId(page, "lab-list").waitFor();
  assert.equal(await page.locator("#loading").count(), 0, "the loading screen is gone");
  for (const slug of LABS) {
    const link = byTestId(page, `lab-link-${slug}`);
    assert.equal(await link.getAttribute("href"), `/${slug}`, slug);
  }
  assert.match(await page.title(), /DeepPlay/);
  assert.deepEqual(problems, []);
  await context.close();
});

test("labs not built yet say so, reached by link and by address", async () => {
  const { page, context, problems } = await openPage(app, "/");
  await byTestId(page, "lab-link-gan").click();
  await byTestId(page, "coming-soon").waitFor();
  assert.match(await page.locator("h1").textContent(), /GAN/);
  assert.match(await byTestId(page, "coming-soon").textContent(), /not available yet/);
  // The live labs open their own pages.
  await page.goto(`${app.url}/cnn`);
  await byTestId(page, "cnn-lab").waitFor();
  await page.goto(`${app.url}/sequences`);
  await byTestId(page, "sequences").waitFor();
  await page.goto(`${app.url}/attention`);
  await byTestId(page, "attention").waitFor();
  await page.goto(`${app.url}/diffusion`);
  await byTestId(page, "diffusion").waitFor();
  // Straight to a route: the static server falls back to index.html.
  for (const slug of LABS.slice(5)) {
    await page.goto(`${app.url}/${slug}`);
    await byTestId(page, "coming-soon").waitFor();
  }
  await page.goto(`${app.url}/no-such-lab`);
  await byTestId(page, "not-found").waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});
