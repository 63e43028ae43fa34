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

test("every lab opens its own page, by link and by address; an unknown route says so", async () => {
  const { page, context, problems } = await openPage(app, "/");
  await byTestId(page, "lab-link-detection").click();
  await byTestId(page, "detection").waitFor();
  assert.match(await page.locator("h1").textContent(), /detection/i);
  // Straight to a route: the static server falls back to index.html.
  for (const [slug, testid] of [
    ["cnn", "cnn-lab"],
    ["sequences", "sequences"],
    ["attention", "attention"],
    ["diffusion", "diffusion"],
    ["gan", "gan"],
    ["transfer", "transfer"],
    ["detection", "detection"],
  ]) {
    await page.goto(`${app.url}/${slug}`);
    await byTestId(page, testid).waitFor();
  }
  assert.equal(await byTestId(page, "coming-soon").count(), 0);
  await page.goto(`${app.url}/no-such-lab`);
  await byTestId(page, "not-found").waitFor();
  assert.deepEqual(problems, []);
  await context.close();
});

test("links navigate without reloading, mark the current page, and Back and Forward restore each page with its query", async () => {
  const { page, context, problems } = await openPage(app, "/playground?seed=42");
  await byTestId(page, "playground").waitFor();
  // Survives client-side navigation only: a page load would drop it.
  await page.evaluate(() => {
    window.__sameDocument = true;
  });
  const nav = (href) => page.locator(`nav[aria-label="Main"] a[href="${href}"]`);
  const current = async () =>
    page.locator('.site-header a[aria-current="page"]').evaluateAll((links) => links.map((a) => a.getAttribute("href")));
  assert.deepEqual(await current(), ["/playground"]);
  assert.equal(await byTestId(page, "seed-input").inputValue(), "42");

  await nav("/cnn").click();
  await byTestId(page, "cnn-lab").waitFor();
  assert.equal(new URL(page.url()).pathname, "/cnn");
  assert.match(await page.title(), /Convolutional network/);
  assert.deepEqual(await current(), ["/cnn"]);

  // The brand and "Labs" both lead to the index, and both are marked there.
  await page.locator(".site-header a.brand").click();
  await byTestId(page, "lab-list").waitFor();
  assert.equal(new URL(page.url()).pathname, "/");
  assert.deepEqual(await current(), ["/", "/"]);

  // A card on the index is a plain link: it navigates in place too.
  await byTestId(page, "lab-link-sequences").click();
  await byTestId(page, "sequences").waitFor();
  assert.deepEqual(await current(), ["/sequences"]);

  await page.goBack();
  await byTestId(page, "lab-list").waitFor();
  await page.goBack();
  await byTestId(page, "cnn-lab").waitFor();
  assert.match(await page.title(), /Convolutional network/);
  await page.goBack();
  await byTestId(page, "playground").waitFor();
  assert.equal(new URL(page.url()).searchParams.get("seed"), "42");
  assert.equal(await byTestId(page, "seed-input").inputValue(), "42", "the query is read again");
  assert.deepEqual(await current(), ["/playground"]);
  await page.goForward();
  await byTestId(page, "cnn-lab").waitFor();
  assert.deepEqual(await current(), ["/cnn"]);

  assert.equal(await page.evaluate(() => window.__sameDocument), true, "no page load on the way");
  assert.deepEqual(problems, []);
  await context.close();
});
