// Screenshots of the release build for the README: the 2-D playground
// mid-training on a desktop and on a phone, the index, and the CNN lab
// after a few seconds of training (desktop and phone), and the Attention lab
// trained, on a passive sentence with one query row opened, and the
// Diffusion lab trained, its samples over the data, and the GAN lab with
// its fakes on every mode of the ring, and the Transfer lab after a few
// hundred steps, and the Detection lab trained, with its objectness grid and
// a scene drawn by hand. `make screenshot`
// (`SHOTS=diffusion make screenshot`: only the names containing "diffusion").
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApp, openPage, byTestId, dataValue, waitFor } from "./harness.mjs";

const docs = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs");
await mkdir(docs, { recursive: true });
const app = await startApp();
try {
  const shots = [
    ["screenshot.png", { width: 1280, height: 800 }, true],
    ["screenshot-phone.png", { width: 390, height: 844 }, true],
    ["screenshot-index.png", { width: 1280, height: 800 }, false],
    ["screenshot-cnn.png", { width: 1400, height: 900 }, true],
    ["screenshot-cnn-phone.png", { width: 390, height: 844 }, true],
    ["screenshot-attention.png", { width: 1400, height: 900 }, true],
    ["screenshot-diffusion.png", { width: 1400, height: 900 }, false],
    ["screenshot-gan.png", { width: 1400, height: 900 }, false],
    ["screenshot-transfer.png", { width: 1400, height: 1000 }, false],
    ["screenshot-detection.png", { width: 1400, height: 1000 }, false],
  ].filter(([name]) => !process.env.SHOTS || name.includes(process.env.SHOTS));
  for (const [name, viewport, fullPage] of shots) {
    const path =
      name === "screenshot-index.png"
        ? "/"
        : name.startsWith("screenshot-cnn")
          ? "/cnn"
          : name.startsWith("screenshot-attention")
            ? "/attention"
            : name.startsWith("screenshot-diffusion")
              ? "/diffusion"
              : name.startsWith("screenshot-gan")
                ? "/gan"
                : name.startsWith("screenshot-transfer")
                  ? "/transfer"
                  : name.startsWith("screenshot-detection")
                    ? "/detection"
                    : "/playground";
    const { page, context, problems } = await openPage(app, path, viewport);
    if (path === "/playground") {
      await byTestId(page, "train-toggle").click();
      await waitFor("some training", async () => (await dataValue(page, "step-count")) > 3000);
      await page.waitForTimeout(1500);
      await byTestId(page, "train-toggle").click();
      await page.waitForTimeout(300);
    } else if (path === "/cnn") {
      await waitFor("MNIST and the network", async () => Number.isFinite(await dataValue(page, "test-accuracy")), 30000);
      await byTestId(page, "train-toggle").click();
      await waitFor("some training", async () => (await dataValue(page, "step-count")) > 600, 60000);
      await byTestId(page, "train-toggle").click();
      await waitFor("a test pass", async () => Number(await byTestId(page, "confusion-matrix").getAttribute("data-total")) === 2000);
      // A drawn 7 and a hovered feature-map cell, to show both.
      const pad = byTestId(page, "draw-canvas");
      await pad.scrollIntoViewIfNeeded();
      const box = await pad.boundingBox();
      await page.mouse.move(box.x + box.width * 0.25, box.y + box.height * 0.2);
      await page.mouse.down();
      await page.mouse.move(box.x + box.width * 0.75, box.y + box.height * 0.2, { steps: 8 });
      await page.mouse.move(box.x + box.width * 0.45, box.y + box.height * 0.85, { steps: 8 });
      await page.mouse.up();
      await waitFor("a prediction", async () => Number.isInteger(await dataValue(page, "prediction")));
      const maps = page.locator(".maps-canvas").first();
      await maps.scrollIntoViewIfNeeded();
      const mapBox = await maps.boundingBox();
      await page.mouse.move(mapBox.x + 30, mapBox.y + 24);
      await page.waitForTimeout(300);
      await page.evaluate(() => window.scrollTo(0, 0));
    } else if (path === "/attention") {
      // Trained, on a passive sentence, with one query row opened.
      await byTestId(page, "train-toggle").click();
      await waitFor("some training", async () => (await dataValue(page, "step-count")) > 500, 60000);
      await byTestId(page, "train-toggle").click();
      await byTestId(page, "sentence-input").fill("the food was eaten by the hungry dog");
      await byTestId(page, "sentence-input").press("Enter");
      await waitFor("the answer", async () => /dog/.test(await byTestId(page, "model-answer").textContent()));
      const map = byTestId(page, "attention-map-1-1");
      await map.scrollIntoViewIfNeeded();
      await map.focus();
      await page.keyboard.press("Home");
      await byTestId(page, "query-detail").waitFor();
      await page.evaluate(() => window.scrollTo(0, 0));
    } else if (path === "/diffusion") {
      // Trained for a while; fresh samples, shown half-way from noise.
      await byTestId(page, "train-toggle").click();
      await waitFor("some training", async () => (await dataValue(page, "step-count")) > 8000, 90000);
      await byTestId(page, "train-toggle").click();
      await byTestId(page, "sample-button").click();
      await page.waitForTimeout(300);
      await waitFor("the samples", async () => !/Sampling/.test(await page.locator(".sample-actions").first().textContent()), 30000);
      await byTestId(page, "denoise-scrubber").fill("85");
      await page.waitForTimeout(300);
    } else if (path === "/gan") {
      // Trained until every mode of the ring is covered.
      await byTestId(page, "train-toggle").click();
      await waitFor("all 8 modes", async () => (await dataValue(page, "step-count")) > 3000 && (await dataValue(page, "modes-covered")) === 8, 90000);
      await byTestId(page, "train-toggle").click();
      await page.waitForTimeout(300);
    } else if (path === "/transfer") {
      // Both networks trained a few hundred steps on 10 examples of each new digit.
      await waitFor("the held-out set measured", async () => Number.isFinite(await dataValue(page, "finetune-accuracy")), 60000);
      await byTestId(page, "train-toggle").click();
      await waitFor("some training", async () => (await dataValue(page, "step-count")) > 400, 60000);
      await byTestId(page, "train-toggle").click();
      await waitFor("the final pass", async () => /After \d+ steps/.test(await byTestId(page, "lesson").textContent()), 30000);
      await page.waitForTimeout(500);
    } else if (path === "/detection") {
      // Trained past mAP@0.5 0.9; the real objects dashed, a cell picked,
      // and a drawn scene of three shapes.
      await waitFor("the first measurement", async () => Number.isFinite(await dataValue(page, "map50")), 30000);
      await byTestId(page, "train-toggle").click();
      await waitFor("some training", async () => (await dataValue(page, "step-count")) > 600 && (await dataValue(page, "map50")) >= 0.9, 90000);
      await byTestId(page, "train-toggle").click();
      await page.waitForTimeout(1000);
      await byTestId(page, "truth-toggle").check();
      await page.evaluate(() => window.scrollTo(0, 0));
      const pad = byTestId(page, "draw-scene");
      for (const [shape, fx, fy] of [["circle", 0.25, 0.3], ["triangle", 0.7, 0.35], ["square", 0.45, 0.75]]) {
        await byTestId(page, "shape-select").selectOption(shape);
        const box = await pad.boundingBox();
        await page.mouse.click(box.x + box.width * fx, box.y + box.height * fy);
        await page.waitForTimeout(300);
      }
      await byTestId(page, "scene").nth(1).click({ position: { x: 40, y: 40 } });
      await page.waitForTimeout(500);
      await page.evaluate(() => window.scrollTo(0, 0));
    } else {
      await byTestId(page, "lab-list").waitFor();
    }
    await page.screenshot({ path: join(docs, name), fullPage });
    if (problems.length) throw new Error(problems.join("\n"));
    console.log(`wrote docs/${name}`);
    await context.close();
  }
} finally {
  await app.close();
}
