// Accessibility on every route, end to end in the release build: axe-core
// (injected into the page) finds no serious or critical violation on the
// index, on every lab after a few seconds of training (so that charts,
// heatmaps and panels are drawn), and on the page of an unknown address.
// Every violation axe reports is printed, whatever its impact.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { startApp, openPage, byTestId } from "./harness.mjs";

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");
const LABS = ["playground", "cnn", "sequences", "attention", "diffusion", "gan", "transfer", "detection"];
let app;

before(async () => {
  app = await startApp();
});
after(async () => {
  await app?.close();
});

/** axe's violations on the page as it is now. */
async function violations(page) {
  // Through the DevTools protocol, which the page's policy does not govern
  // (a <script> tag with axe's text would be refused, rightly).
  await page.evaluate(AXE);
  const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ["violations"] }));
  return result.violations.map((v) => ({
    id: v.id,
    impact: v.impact,
    nodes: v.nodes.map((n) => `${n.target.join(" ")}: ${n.failureSummary?.split("\n")[1]?.trim() ?? ""}`),
  }));
}

for (const path of ["/", ...LABS.map((slug) => `/${slug}`), "/no-such-lab"]) {
  test(`axe finds no serious or critical violation on ${path}`, async () => {
    const { page, context, problems } = await openPage(app, path);
    await page.locator("main h1").first().waitFor();
    if (LABS.includes(path.slice(1))) {
      await byTestId(page, "train-toggle").click();
      await page.waitForTimeout(3000);
      await byTestId(page, "train-toggle").click();
      await page.waitForTimeout(800);
    }
    const found = await violations(page);
    for (const v of found) console.log(`# ${path}: ${v.impact} ${v.id} (${v.nodes.length}): ${v.nodes.slice(0, 3).join(" | ")}`);
    const grave = found.filter((v) => v.impact === "serious" || v.impact === "critical");
    assert.deepEqual(grave, [], `${path}: ${JSON.stringify(grave, null, 1)}`);
    assert.deepEqual(problems, []);
    await context.close();
  });
}
