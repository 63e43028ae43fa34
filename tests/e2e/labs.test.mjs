// What every lab page shares, end to end in the release build: titles
// that tell labs apart, a fresh seed in one click, Start pressed while a
// dataset still loads, and a weights file crafted to crash the reader.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFile, mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startApp, openPage, byTestId, bannerText, dataValue, waitFor } from "./harness.mjs";

let app;

before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

test("every lab's page has its own document title", async () => {
  const titles = new Set();
  for (const [path, expected] of [
    ["/", /DeepPlay/],
    ["/playground", /2-D playground/],
    ["/cnn", /Convolutional network/],
    ["/sequences", /Sequences/],
    ["/attention", /Attention/],
    ["/diffusion", /Diffusion/],
    ["/gan", /GAN/],
    ["/transfer", /Transfer learning/],
    ["/detection", /Object detection/],
  ]) {
    const { page, context, problems } = await openPage(app, path);
    await page.locator("main h1").first().waitFor();
    const title = await page.title();
    assert.match(title, expected, path);
    titles.add(title);
    assert.deepEqual(problems, []);
    await context.close();
  }
  assert.equal(titles.size, 9, "no two pages share a title");
});

test("the dice draws a fresh seed, puts it in the URL and restarts the run", async () => {
  const { page, context, problems } = await openPage(app, "/playground?seed=42");
  await byTestId(page, "step-once").click();
  await waitFor("a step", async () => (await dataValue(page, "step-count")) === 1);
  const seeds = new Set();
  for (let i = 0; i < 2; i++) {
    await byTestId(page, "new-seed").click();
    const seed = await waitFor("a new seed in the URL", async () => {
      const value = new URL(page.url()).searchParams.get("seed");
      return value !== "42" && !seeds.has(value) ? value : false;
    });
    assert.equal(await byTestId(page, "seed-input").inputValue(), seed);
    assert.match(seed, /^\d+$/);
    seeds.add(seed);
    await waitFor("the reset", async () => (await dataValue(page, "step-count")) === 0);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test("Start while MNIST loads is queued with progress, then trains", async () => {
  // Hold the digits back for a while, as a slow connection would.
  const slow = (context) =>
    context.route("**/data/mnist-10k-images-idx3-ubyte.gz", async (route) => {
      await new Promise((done) => setTimeout(done, 2500));
      await route.continue();
    });
  const { page, context, problems } = await openPage(app, "/cnn", undefined, slow);
  await byTestId(page, "train-toggle").waitFor();
  const status = await waitFor("the loading status", async () => {
    const s = byTestId(page, "status");
    return (await s.count()) > 0 && /Loading MNIST/.test(await s.textContent()) ? await s.textContent() : false;
  });
  assert.match(status, /%/);
  await byTestId(page, "train-toggle").click();
  await waitFor("the queued start to be said", async () =>
    /starts as soon/.test((await byTestId(page, "status").textContent().catch(() => "")) ?? ""),
  );
  assert.equal(await byTestId(page, "error-banner").count(), 0, "not an error");
  await waitFor("training after the data arrived", async () => (await dataValue(page, "step-count")) > 20, 60000);
  assert.equal(await byTestId(page, "status").count(), 0);
  assert.equal(await byTestId(page, "error-banner").count(), 0);
  assert.deepEqual(problems, []);
  await context.close();
});

/** A safetensors file: 8-byte little-endian header length, JSON header, data. */
function safetensors(header, data = Buffer.alloc(0)) {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, data]);
}

test("crafted weights files are refused with a message while training goes on, no worker restart", async () => {
  const { page, context, problems } = await openPage(app, "/playground");
  await byTestId(page, "train-toggle").click();
  await waitFor("training", async () => (await dataValue(page, "step-count")) > 100);
  const dir = await mkdtemp(join(tmpdir(), "deepplay-"));
  const crafted = {
    // 65536 x 65536 floats and no data: wrapped to 0 bytes on wasm32 before.
    "huge.safetensors": safetensors({ "fc1.weight": { dtype: "F32", shape: [65536, 65536], data_offsets: [0, 0] } }),
    "past-the-end.safetensors": Buffer.concat([Buffer.from([255, 255, 255, 255, 0, 0, 0, 0]), Buffer.from("{}")]),
    "overlapping.safetensors": safetensors(
      {
        "fc1.weight": { dtype: "F32", shape: [2], data_offsets: [0, 8] },
        "fc1.bias": { dtype: "F32", shape: [2], data_offsets: [4, 12] },
      },
      Buffer.alloc(12),
    ),
    "wrong-dtype.safetensors": safetensors({ "fc1.weight": { dtype: "I64", shape: [1], data_offsets: [0, 8] } }, Buffer.alloc(8)),
  };
  for (const [name, bytes] of Object.entries(crafted)) {
    const file = join(dir, name);
    await writeFile(file, bytes);
    const before = await dataValue(page, "step-count");
    await byTestId(page, "import-weights").setInputFiles(file);
    const banner = await bannerText(page, `the refusal of ${name}`);
    assert.match(banner, /Could not load these weights/, name);
    assert.doesNotMatch(banner, /crashed|restarted/, name);
    await waitFor(`training to go on after ${name}`, async () => (await dataValue(page, "step-count")) > before + 200);
    // Acting again clears the message.
    await byTestId(page, "train-toggle").click();
    await byTestId(page, "train-toggle").click();
  }
  assert.deepEqual(problems, []);
  await context.close();
});
