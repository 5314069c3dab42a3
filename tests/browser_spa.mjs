// Drives the demo SPA (spa/) in a real headless Chromium with Playwright, as tests/browser_edge.rs
// asks:
//   node tests/browser_spa.mjs <allowed-origin> <disallowed-origin> <user-token> <workspace> <artifacts-dir>
// From the allowed origin: the notes list loads, a note is created and listed, shared, and its
// share link opened in a fresh page without a session. From the
// disallowed origin: the same page fails, and Chromium reports the CORS refusal. A screenshot of
// each is written to <artifacts-dir>. Prints one JSON report; exits 1 on any failed expectation.
import { chromium } from "playwright-core";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [allowedOrigin, disallowedOrigin, userToken, workspace, artifacts] = process.argv.slice(2);
mkdirSync(artifacts, { recursive: true });
const failures = [];
const expect = (ok, what) => {
  if (!ok) failures.push(what);
};

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
  // Root needs --no-sandbox (ci runs as root); nothing else differs from a user's browser.
  args: ["--no-sandbox"],
  headless: true,
});

/** Opens `url` in a fresh page; returns the page and what its console printed. */
async function openPage(url) {
  const page = await browser.newPage();
  const console = [];
  page.on("console", (message) => console.push(message.text()));
  await page.goto(url);
  return { page, console };
}

/** The SPA on `origin` with the session in the fragment, as Supabase's sign-in redirect puts it. */
const open = (origin) =>
  openPage(`${origin}/#${new URLSearchParams({ access_token: userToken, workspace })}`);

/** Waits until the status line says `done` (a regular expression) or shows an error. */
const waitForStatus = (page, done) =>
  page.waitForFunction((source) => {
    const status = document.querySelector("#status");
    return status.dataset.state === "error" || new RegExp(source).test(status.textContent);
  }, done.source);

const settled = (page) => waitForStatus(page, /notes$/);

const report = { screenshots: [] };

// The allowed origin: every screen works.
{
  const { page } = await open(allowedOrigin);
  await settled(page);
  const listed = await page.locator("#notes li").allTextContents();
  report.allowed_listed = listed.length;
  expect((await page.locator("#status").getAttribute("data-state")) === "ok", `list failed: ${await page.locator("#status").textContent()}`);
  expect(listed.length > 0, "the notes list is empty");

  const text = `Written in Chromium at ${new Date().toISOString()}`;
  await page.getByRole("button", { name: "New note" }).click();
  await page.locator("#note-body").fill(text);
  await page.getByRole("button", { name: "Save note" }).click();
  await waitForStatus(page, /^Saved note/);
  const saved = await page.locator("#status").textContent();
  report.created = saved;
  expect(saved.startsWith("Saved note"), `create failed: ${saved}`);
  const after = await page.locator("#notes li").allTextContents();
  expect(after.includes(text), "the created note is not listed");

  await page.getByRole("button", { name: "Share the saved note" }).click();
  await waitForStatus(page, /^Share link created/);
  const link = await page.locator("#share-link-out").getAttribute("href");
  expect(link?.startsWith(`${allowedOrigin}/#share=`), `no share link: ${await page.locator("#status").textContent()}`);

  const shot = join(artifacts, "spa-allowed-origin.png");
  await page.screenshot({ path: shot, fullPage: true });
  report.screenshots.push(shot);

  // The link, opened by someone without a session: the shared note, and only it.
  if (link) {
    const { page: reader } = await openPage(link);
    await waitForStatus(reader, /^Shared note opened/);
    const shared = await reader.locator("#shared-note").textContent();
    report.shared = shared;
    expect(shared === text, `the share link opened ${JSON.stringify(shared)}: ${await reader.locator("#status").textContent()}`);
    const sharedShot = join(artifacts, "spa-share-link.png");
    await reader.screenshot({ path: sharedShot, fullPage: true });
    report.screenshots.push(sharedShot);
  }
}

// The disallowed origin: the same page, refused by the browser.
{
  const { page, console } = await open(disallowedOrigin);
  await settled(page);
  const status = await page.locator("#status").textContent();
  report.disallowed_status = status;
  expect((await page.locator("#status").getAttribute("data-state")) === "error", `the disallowed origin was served: ${status}`);
  expect((await page.locator("#notes li").count()) === 0, "notes listed on the disallowed origin");
  const refusal = console.find((line) => line.includes("blocked by CORS policy"));
  report.disallowed_console = refusal ?? console;
  expect(refusal !== undefined, `no CORS error in the console: ${JSON.stringify(console)}`);
  const shot = join(artifacts, "spa-disallowed-origin.png");
  await page.screenshot({ path: shot, fullPage: true });
  report.screenshots.push(shot);
}

await browser.close();
report.failures = failures;
console.log(JSON.stringify(report));
process.exit(failures.length === 0 ? 0 : 1);
