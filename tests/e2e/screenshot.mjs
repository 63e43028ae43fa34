// Screenshots of the release build for the README: the 2-D playground
// mid-training on a desktop and on a phone. `make screenshot`.
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
  ];
  for (const [name, viewport, fullPage] of shots) {
    const path = name === "screenshot-index.png" ? "/" : "/playground";
    const { page, context, problems } = await openPage(app, path, viewport);
    if (path === "/playground") {
      await byTestId(page, "train-toggle").click();
      await waitFor("some training", async () => (await dataValue(page, "step-count")) > 3000);
      await page.waitForTimeout(1500);
      await byTestId(page, "train-toggle").click();
      await page.waitForTimeout(300);
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
