import { existsSync, mkdirSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seededRandom } from "../domain/price/gbm.ts";
import { chromium, type Browser, type Page, type Request } from "playwright-core";
import { buildWeb } from "../scripts/build-web.ts";
import { startTestServer, type TestServer } from "./helpers/server.ts";
import { startEdgeStack, type EdgeStack } from "./helpers/edge-stack.ts";
import { hasBinary } from "./helpers/services.ts";

/**
 * The demo page at GET / in a real headless Chromium (Debian's package, driven by playwright-core;
 * no browser is ever downloaded), against the real server with a manual price feed the test moves.
 * Through the page's accessible handles (API.md § Client surface) only: sign in with the demo
 * wallet, bet, watch it settle, read a refusal, see the circuit grey the grid, reload and stay
 * signed in. It also measures how many taps on a moving price the server accepts, and prints it.
 * Twice: against the single process, and through nginx with a core and two edges (SPEC §11), where
 * the page's socket is on an edge and its bets go to the core, and its edge is killed at the end.
 */

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const ARTIFACTS = new URL("../test-artifacts/", import.meta.url).pathname;
const TICK_MS = 100;
const START_CENTS = 9_500_500; // the middle of band 9500 ($95,000 – $95,010)
/** The synthetic source's default volatility (SYNTHETIC_VOL_ANNUAL_BP 6000): 60 %/year, per 100 ms tick. */
const SIGMA_PER_TICK = 0.6 * Math.sqrt(TICK_MS / (365.25 * 24 * 3600 * 1000));
const TAPS = 40;
const SEED = Number(process.env.WEB_TEST_SEED ?? 20261201);

function chromiumPresent(): boolean {
  if (existsSync(CHROMIUM)) return true;
  if (process.env.CI === "true") throw new Error(`chromium is required under CI=true but ${CHROMIUM} is missing (.ci/run installs it)`);
  return false;
}

/** The test's price feed: holds a price (small moves inside one band), walks like the synthetic GBM, or stops. */
class Feed {
  mode: "hold" | "walk" | "stop" = "hold";
  priceCents = START_CENTS;
  readonly #timer: NodeJS.Timeout;
  constructor(server: Pick<TestServer, "ctx">, random: () => number) {
    this.#timer = setInterval(() => {
      if (this.mode === "stop") return;
      if (this.mode === "hold") {
        const band = Math.floor(this.priceCents / 1000) * 1000;
        this.priceCents = band + 300 + Math.floor(random() * 400);
      } else {
        const z = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
        this.priceCents = Math.round(this.priceCents * Math.exp(SIGMA_PER_TICK * z));
      }
      server.ctx.services.price.ingest("manual", this.priceCents, Date.now());
    }, TICK_MS);
  }
  stop(): void {
    clearInterval(this.#timer);
  }
}

/** Polls for what the player would see; generous, as eight test runs may share two cores. */
const poll = <T>(read: () => Promise<T> | T, timeout = 15_000) => expect.poll(read, { timeout, interval: 100 });

const isBetPost = (request: Request) => request.method() === "POST" && new URL(request.url()).pathname === "/api/bets";

/**
 * What the page runs against: `url` is where the browser goes, `server` the process that holds the
 * money (the test feeds its prices and asks it for balances).
 */
interface Target {
  url: string;
  server: TestServer;
  /** The page's socket goes away; `back()` resolves once the page has somewhere to reconnect to. */
  dropSocket(): Promise<{ back(): Promise<void> }>;
  stop(): Promise<void>;
}

async function singleProcess(): Promise<Target> {
  let server = await startTestServer({ DEMO_BALANCE_MICRO_USD: 50_000_000 });
  const dataDir = server.dataDir;
  const target: Target = {
    url: server.url,
    server,
    async dropSocket() {
      const port = new URL(server.url).port;
      await server.close(); // the data stays: the restart reuses it
      return {
        back: async () => {
          target.server = server = await startTestServer({ PORT: port, DEMO_BALANCE_MICRO_USD: 50_000_000 }, { dataDir });
        },
      };
    },
    async stop() {
      await server.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  return target;
}

async function coreAndEdges(): Promise<Target> {
  const stack: EdgeStack = await startEdgeStack({ DEMO_BALANCE_MICRO_USD: 50_000_000 });
  return {
    url: stack.base,
    server: stack.core,
    async dropSocket() {
      // Kill the edge the page's socket is on: the page reconnects through nginx to the other one.
      const clients = await Promise.all(stack.edges.map(async (e) => Number(/^ws_clients (\d+)$/m.exec(await (await fetch(`${e.url}/metrics`)).text())?.[1])));
      await stack.killEdge(clients.findIndex((n) => n > 0));
      return { back: async () => {} };
    },
    stop: () => stack.stop(),
  };
}

const TARGETS: [string, () => Promise<Target>, boolean][] = [
  ["one process", singleProcess, true],
  ["a core and two edges behind nginx", coreAndEdges, hasBinary("redis-server") && hasBinary("nginx")],
];

for (const [topology, start, available] of TARGETS) describe.runIf(chromiumPresent() && available)(`web: the demo page in Chromium, ${topology}`, () => {
  let target: Target;
  let server: TestServer;
  let feed: Feed;
  let browser: Browser;
  let page: Page;
  const nonceRequests: string[] = [];

  beforeAll(async () => {
    await buildWeb();
    mkdirSync(ARTIFACTS, { recursive: true });
    target = await start();
    server = target.server;
    feed = new Feed(server, seededRandom(SEED));
    const root = typeof process.getuid === "function" && process.getuid() === 0;
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: root ? ["--no-sandbox"] : [] });
    page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    page.on("request", (request) => {
      if (new URL(request.url()).pathname === "/api/auth/nonce") nonceRequests.push(request.url());
    });
    page.on("pageerror", (error) => console.error(`page error: ${error.message}`));
  }, 120_000);
  afterAll(async () => {
    feed?.stop();
    await browser?.close();
    await target?.stop();
  });

  it("serves the page at / and signs in with the demo wallet over SIWE", { timeout: 60_000 }, async () => {
    await page.goto(target.url + "/");
    await poll(() => page.locator("[data-connection]").getAttribute("data-connection")).toBe("open");
    await poll(() => page.getByText("demo wallet").count()).toBeGreaterThan(0);
    await page.getByRole("button", { name: "Sign in" }).click();
    await poll(() => page.locator("[data-balance]").textContent()).toBe("$50.00");
    expect(nonceRequests).toHaveLength(1);
    await poll(() => page.getByRole("button", { name: "Sign in" }).isVisible()).toBe(false);
    expect(await page.locator("[data-circuit]").getAttribute("data-circuit")).toBe("closed");
    // The grid: 12 columns × 21 rows of buttons that read as sentences.
    await poll(() => page.locator("button[data-multiplier]").count()).toBeGreaterThan(200);
    const label = await page.locator("button[data-multiplier]").first().getAttribute("aria-label");
    expect(label).toMatch(/^Price \$[\d,]+ – \$[\d,]+ between \d\d:\d\d:\d\d and \d\d:\d\d:\d\d, pays \d+\.\d\dx$/);
  });

  it("places a bet with a tap and shows it settle: the cell turns green with +$x, history offers the proof", async () => {
    feed.mode = "hold";
    await page.getByLabel("Stake").selectOption("5");
    const row = Math.floor(feed.priceCents / 1000);
    // The second column: the first may lock before the tap lands on a busy machine.
    const firstCol = await page.$$eval("button[data-multiplier]", (cells) => Math.min(...cells.map((c) => Number((c as HTMLElement).dataset.col))));
    const cell = page.locator(`button[data-col="${firstCol + 1}"][data-row="${row}"]`);
    const posted = page.waitForRequest(isBetPost);
    const answered = page.waitForResponse((r) => isBetPost(r.request()));
    await cell.click({ force: true }); // the grid scrolls, so it is never "stable" for Playwright
    const body = (await posted).postDataJSON() as { stakeMicroUsd: number; minMultiplier: number; idempotencyKey: string };
    expect(body.stakeMicroUsd).toBe(5_000_000);
    const response = await answered;
    expect(response.status()).toBe(201);
    const { bet } = (await response.json()) as { bet: { id: string; payoutMicroUsd: number; multiplier: number } };
    expect(bet.multiplier).toBeGreaterThanOrEqual(body.minMultiplier);

    await poll(() => cell.getAttribute("data-bet-status")).toBe("open");
    await poll(() => page.locator(`#open-bets [data-bet-id="${bet.id}"]`).getAttribute("data-status")).toBe("open");
    // The price stays inside the band: the first tick of the window wins.
    await poll(() => cell.getAttribute("data-bet-status"), 45_000).toBe("won");
    const payout = `+$${(bet.payoutMicroUsd / 1e6).toFixed(2)}`;
    expect(await cell.textContent()).toBe(payout);
    await poll(() => page.locator("[data-balance]").textContent()).toBe(`$${(45 + bet.payoutMicroUsd / 1e6).toFixed(2)}`);

    const item = page.locator(`#history [data-bet-id="${bet.id}"]`);
    expect(await item.getAttribute("data-status")).toBe("won");
    await item.getByRole("button", { name: "Proof" }).click();
    const dialog = page.locator("dialog[open]");
    await poll(() => dialog.textContent()).toContain("Recomputed outcome: won (recorded: won)");
    await page.screenshot({ path: `${ARTIFACTS}web-proof.png` });
    await dialog.getByRole("button", { name: "Close" }).click();
    await poll(() => page.locator("dialog[open]").count()).toBe(0);
  }, 120_000);

  it("tells the player why a bet was refused, in a sentence", async () => {
    await page.getByLabel("Stake").selectOption("100");
    // A cell of the third column next to the price: offered, and far from locking while the tap lands.
    const firstCol = await page.$$eval("button[data-multiplier]", (cells) => Math.min(...cells.map((c) => Number((c as HTMLElement).dataset.col))));
    const cell = `button[data-col="${firstCol + 2}"][data-row="${Math.floor(feed.priceCents / 1000) + 1}"]`;
    // The server checks the quote before the balance: if the multiplier moved past the allowance
    // meanwhile, the page says so and the player taps again (API.md § Client surface), as here.
    let response = undefined as Awaited<ReturnType<typeof page.waitForResponse>> | undefined;
    for (let tap = 0; tap < 3 && response?.status() !== 402; tap++) {
      const answered = page.waitForResponse((r) => isBetPost(r.request()));
      const { sent, alert } = await tapNow(page, cell);
      if (!sent) {
        // The freshest quote had already moved past the allowance: the page says so without asking.
        void answered.catch(() => undefined);
        expect(alert).toMatch(/^The multiplier moved to .*Tap again to take it\.$/);
        continue;
      }
      response = await answered;
      if (response.status() === 402) break;
      const refusal = (await response.json()) as { error: { code: string; details: { multiplier: number } } };
      expect(`${response.status()} ${refusal.error.code}`).toBe("409 multiplier_changed");
      await poll(() => page.getByRole("alert").textContent()).toMatch(/^The multiplier moved to .*Tap again to take it\.$/);
    }
    expect(response!.status()).toBe(402);
    await poll(() => page.getByRole("alert").textContent()).toBe("Not enough balance for a $100.00 stake.");
    await page.getByLabel("Stake").selectOption("1");
  });

  it(`gets taps through on a moving price (${TAPS} taps at the default 3 % allowance)`, async () => {
    feed.mode = "walk";
    await new Promise((r) => setTimeout(r, 1000));
    const random = seededRandom(SEED + 1);
    const outcomes: Record<string, number> = {};
    const keys = new Set<string>();
    const lagsTicks: number[] = [];
    const tapTicks: number[] = [];
    let accepted = 0;
    for (let i = 0; i < TAPS; i++) {
      let serverTickAtRequest = 0;
      const posted = page.waitForRequest((r) => isBetPost(r) && (serverTickAtRequest = server.ctx.services.price.latest()!.t) > 0, { timeout: 15_000 });
      const answered = page.waitForResponse((r) => isBetPost(r.request()), { timeout: 15_000 });
      // Read what the cell shows and tap it in the same instant, as a player's finger does.
      const shown = await page.evaluate((r) => {
        const cells = [...document.querySelectorAll<HTMLButtonElement>("button[data-multiplier]:not([disabled]):not([data-bet-status]):not([data-pending])")];
        const cell = cells[Math.floor(r * cells.length)];
        if (cell === undefined) throw new Error(`no cell to tap (circuit ${document.querySelector("[data-circuit]")?.getAttribute("data-circuit")})`);
        const multiplier = cell.dataset.multiplier!;
        const quoteAt = Number(document.querySelector<HTMLElement>("#board")!.dataset.quoteAt);
        cell.click();
        // Not pending: the page refused the tap itself (the column locked meanwhile, or the freshest
        // quote was below what was shown by more than the allowance), no request.
        return { multiplier, quoteAt, sent: cell.dataset.pending === "true", alert: document.querySelector("[role=alert]")!.textContent };
      }, random());
      if (!shown.sent) {
        const moved = /^The multiplier moved to .*Tap again to take it\.$/.test(shown.alert ?? "");
        if (!moved) expect(shown.alert).toBe("That cell is no longer offered. Pick another one.");
        const outcome = moved ? "moved_on_page" : "refused_by_page";
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        void posted.catch(() => undefined);
        void answered.catch(() => undefined);
        continue;
      }
      tapTicks.push(shown.quoteAt);
      const body = (await posted).postDataJSON() as { minMultiplier: number; idempotencyKey: string };
      lagsTicks.push(Math.round((serverTickAtRequest - tapTicks[tapTicks.length - 1]!) / TICK_MS));
      // The multiplier on screen at the tap less exactly the allowance, rounded up to the cent (never below it).
      expect(body.minMultiplier).toBe(Math.ceil((Math.round(Number(shown.multiplier) * 100) * 9700) / 10_000) / 100);
      keys.add(body.idempotencyKey);
      const response = await answered;
      const code = response.status() === 201 ? "accepted" : ((await response.json()) as { error: { code: string } }).error.code;
      outcomes[code] = (outcomes[code] ?? 0) + 1;
      if (code === "accepted") accepted++;
      else await poll(() => page.getByRole("alert").textContent()).not.toBe("");
      await new Promise((r) => setTimeout(r, 150 + random() * 300));
    }
    const share = accepted / TAPS;
    console.log(
      `web: ${accepted}/${TAPS} taps accepted (${(share * 100).toFixed(1)} %) at the default 3 % allowance on a 60 %/year walk, ` +
        `${TICK_MS} ms ticks, seed ${SEED}; outcomes ${JSON.stringify(outcomes)}; ` +
        `ticks between the one a tap quoted from and the server's when the request left: ${JSON.stringify(lagsTicks)}`,
    );
    expect(keys.size).toBe(TAPS - (outcomes.refused_by_page ?? 0) - (outcomes.moved_on_page ?? 0));
    feed.mode = "hold";
    expect(share).toBeGreaterThanOrEqual(0.9);
  }, 120_000);

  it("greys the grid while the circuit is open and says so", async () => {
    feed.mode = "stop";
    await poll(() => page.locator("[data-circuit]").getAttribute("data-circuit")).toBe("open");
    await poll(() => page.locator("button[data-multiplier]:not([disabled])").count()).toBe(0);
    expect(await page.locator("button[data-multiplier]").count()).toBeGreaterThan(0);
    expect(await page.getByText("bets are paused until it recovers").isVisible()).toBe(true);
    feed.mode = "hold";
    await poll(() => page.locator("[data-circuit]").getAttribute("data-circuit")).toBe("closed");
    await poll(() => page.locator("button[data-multiplier]:not([disabled])").count()).toBeGreaterThan(200);
  }, 60_000);

  it("keeps the player signed in across a reload, without a new signature", async () => {
    const bets = await page.locator("[data-bet-id]").count();
    await page.reload();
    // Bets of the taps above may settle meanwhile: the page must show the server's balance now.
    const token = await page.evaluate(() => (JSON.parse(localStorage.getItem("tap.session")!) as { token: string }).token);
    const balance = async () => {
      const me = (await (await server.request("/api/me", { token })).json()) as { balanceMicroUsd: number };
      return `$${(Math.floor(me.balanceMicroUsd / 10_000) / 100).toFixed(2)}`;
    };
    await poll(async () => (await page.locator("[data-balance]").textContent()) === (await balance())).toBe(true);
    expect(await page.getByRole("button", { name: "Sign in" }).isVisible()).toBe(false);
    await poll(() => page.locator("[data-bet-id]").count()).toBe(bets);
    expect(nonceRequests).toHaveLength(1);
    await poll(() => page.locator("button[data-multiplier]").count()).toBeGreaterThan(200);
    await page.screenshot({ path: `${ARTIFACTS}web-demo.png` });
  }, 60_000);

  it("says so when the socket drops, and reconnects by itself when the server is back", async () => {
    // Every value [data-connection] takes, as the page sets it (a reconnect to another edge is quick).
    await page.evaluate(() => {
      const seen: string[] = [];
      (window as unknown as { connectionStates: string[] }).connectionStates = seen;
      const element = document.querySelector("[data-connection]")!;
      new MutationObserver(() => seen.push(`${element.getAttribute("data-connection")} ${element.textContent}`)).observe(element, { attributes: true, childList: true });
    });
    const states = () => page.evaluate(() => (window as unknown as { connectionStates: string[] }).connectionStates.join("|"));
    feed.stop();
    const dropped = await target.dropSocket();
    await poll(states).toMatch(/reconnecting connection lost, reconnecting/);
    await dropped.back();
    server = target.server;
    feed = new Feed(server, seededRandom(SEED + 2));
    await poll(() => page.locator("[data-connection]").getAttribute("data-connection"), 30_000).toBe("open");
    await poll(() => page.locator("button[data-multiplier]:not([disabled])").count(), 30_000).toBeGreaterThan(200);
  }, 90_000);
});

/** Clicks the cell `selector` in the page and reports at once whether the tap left as a request, and the alert. */
function tapNow(page: Page, selector: string): Promise<{ sent: boolean; alert: string | null }> {
  return page.evaluate((sel) => {
    const cell = document.querySelector<HTMLButtonElement>(sel);
    if (!cell) throw new Error(`no cell ${sel}`);
    cell.click();
    return { sent: cell.dataset.pending === "true", alert: document.querySelector("[role=alert]")!.textContent };
  }, selector);
}
