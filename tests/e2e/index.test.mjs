// The release build's index and placeholder pages.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startApp, openPage, byTestId, DIST } from "./harness.mjs";
import { shippedPolicy } from "./serve.mjs";

const LABS = ["playground", "cnn", "sequences", "attention", "diffusion", "gan", "transfer", "detection"];
let app;

before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

// The policy of issue "Hardening": scripts and styles from the site only
// (WebAssembly compiled with 'wasm-unsafe-eval'), no other host.
const POLICY =
  "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data: blob:; " +
  "worker-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'";

test("the build ships a strict Content-Security-Policy and no inline script or style", async () => {
  assert.equal(shippedPolicy(DIST), POLICY);
  const html = readFileSync(join(DIST, "index.html"), "utf8");
  for (const tag of html.match(/<script[^>]*>/g) ?? []) assert.match(tag, /\ssrc="\/[^"]+"/, `an inline script: ${tag}`);
  assert.doesNotMatch(html, /<style/, "an inline style sheet");
  assert.doesNotMatch(html, /\sstyle="/, "an inline style attribute");
  assert.doesNotMatch(html, /'unsafe-inline'|'unsafe-eval'/);
  // The server sends the same policy as a header (harness), and every page
  // test fails on a violation: here the index and every lab's first paint.
  for (const path of ["/", ...LABS.map((slug) => `/${slug}`), "/no-such-lab"]) {
    const { page, context, problems } = await openPage(app, path);
    await page.locator("main h1").first().waitFor();
    assert.equal(await page.locator("#loading").count(), 0, `${path}: mounted`);
    assert.deepEqual(problems, [], path);
    await context.close();
  }
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

test("the index and a lab's own page navigate in place, another lab loads its bundle, and Back and Forward restore each page with its query", async () => {
  const { page, context, problems } = await openPage(app, "/playground?seed=42");
  await byTestId(page, "playground").waitFor();
  // Survives client-side navigation only: a page load drops it.
  const markDocument = () =>
    page.evaluate(() => {
      window.__sameDocument = true;
    });
  const sameDocument = () => page.evaluate(() => window.__sameDocument === true);
  await markDocument();
  const nav = (href) => page.locator(`nav[aria-label="Main"] a[href="${href}"]`);
  const current = async () =>
    page.locator('.site-header a[aria-current="page"]').evaluateAll((links) => links.map((a) => a.getAttribute("href")));
  assert.deepEqual(await current(), ["/playground"]);
  assert.equal(await byTestId(page, "seed-input").inputValue(), "42");

  // Every bundle carries the index: the brand and "Labs" lead there in
  // place, and both are marked there.
  await page.locator(".site-header a.brand").click();
  await byTestId(page, "lab-list").waitFor();
  assert.equal(new URL(page.url()).pathname, "/");
  assert.deepEqual(await current(), ["/", "/"]);
  assert.ok(await sameDocument(), "the index in place");
  await page.goBack();
  await byTestId(page, "playground").waitFor();
  assert.equal(await byTestId(page, "seed-input").inputValue(), "42", "the query is read again");
  assert.ok(await sameDocument(), "back in place");

  // Another lab's page is in its own bundle: the browser loads it.
  await nav("/cnn").click();
  await byTestId(page, "cnn-lab").waitFor();
  assert.equal(new URL(page.url()).pathname, "/cnn");
  assert.match(await page.title(), /Convolutional network/);
  assert.deepEqual(await current(), ["/cnn"]);
  assert.equal(await sameDocument(), false, "a page load for another lab");
  await markDocument();
  await page.locator(".site-header a.brand").click();
  await byTestId(page, "lab-list").waitFor();
  assert.ok(await sameDocument(), "the index in place from a lab's bundle too");

  // A card on the index is a plain link.
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
  assert.deepEqual(problems, []);
  await context.close();
});
