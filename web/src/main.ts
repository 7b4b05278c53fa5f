import { api, ApiError, type Bet, type Proof } from "./api.ts";
import { BetBook, renderBetLists } from "./bets.ts";
import { Board } from "./board.ts";
import { formatMicroUsd } from "./format.ts";
import { LOCK_MARGIN_MS, Market, type OfferedCell } from "./market.ts";
import { drawProof, proofSummary } from "./proof.ts";
import { refusalSentence } from "./refusals.ts";
import { PageSocket } from "./socket.ts";
import { decideTap, DEFAULT_SLIPPAGE_BP, newIdempotencyKey, SLIPPAGE_CHOICES_BP } from "./tap.ts";
import { loadSession, pickWallet, saveSession, signIn, type Session, type Wallet } from "./wallet.ts";

/** The demo page: wiring of wallet, socket, market, board and bet lists (API.md § Client surface). */

const $ = <T extends HTMLElement>(selector: string) => {
  const element = document.querySelector<T>(selector);
  if (!element) throw new Error(`the page lacks ${selector}`);
  return element;
};

const STAKES_USD = [1, 5, 10, 25, 50, 100];
const SLIPPAGE_STORAGE = "tap.slippageBp";
const ALERT_SHOWN_MS = 8000;

const ui = {
  signIn: $<HTMLButtonElement>("#sign-in"),
  signOut: $<HTMLButtonElement>("#sign-out"),
  wallet: $("#wallet-label"),
  balance: $("[data-balance]"),
  price: $("#price"),
  connection: $("[data-connection]"),
  circuit: $("[data-circuit]"),
  banner: $("#circuit-banner"),
  alert: $("[role=alert]"),
  stake: $<HTMLSelectElement>("#stake"),
  slippage: $<HTMLSelectElement>("#slippage"),
  openBets: $("#open-bets"),
  history: $("#history"),
  proof: $<HTMLDialogElement>("#proof"),
  proofCanvas: $<HTMLCanvasElement>("#proof canvas"),
  proofText: $("#proof-text"),
  board: $("#board"),
  chart: $<HTMLCanvasElement>("#chart"),
};

const market = new Market();
const book = new BetBook();
let session: Session | undefined = loadSession(localStorage, Date.now());
const wallet: Wallet = pickWallet(window);
let pingSentAt = 0;
let alertTimer: number | undefined;

function say(sentence: string): void {
  ui.alert.textContent = sentence;
  if (alertTimer !== undefined) window.clearTimeout(alertTimer);
  alertTimer = window.setTimeout(() => (ui.alert.textContent = ""), ALERT_SHOWN_MS);
}

function setBalance(microUsd: number | undefined): void {
  ui.balance.textContent = microUsd === undefined ? "" : formatMicroUsd(microUsd);
}

function showSignedIn(): void {
  const signedIn = session !== undefined;
  ui.signIn.hidden = signedIn;
  ui.signOut.hidden = !signedIn;
  ui.balance.hidden = !signedIn;
  const short = session ? `${session.address.slice(0, 6)}…${session.address.slice(-4)}` : "";
  ui.wallet.textContent = signedIn ? `${session!.wallet === "demo" ? "demo wallet" : "wallet"} ${short}` : wallet.kind === "demo" ? "demo wallet (made in this browser)" : "";
}

async function loadAccount(): Promise<void> {
  if (!session) return;
  const token = session.token;
  try {
    const [me, list] = await Promise.all([
      api<{ balanceMicroUsd: number }>("/api/me", { token }),
      api<{ bets: Bet[] }>("/api/bets?limit=100", { token }),
    ]);
    setBalance(me.balanceMicroUsd);
    for (const bet of list.bets) book.upsert(bet);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) {
      endSession();
      say("Your session has ended. Sign in again.");
    }
  }
}

function endSession(): void {
  session = undefined;
  saveSession(localStorage, undefined);
  book.clear();
  setBalance(undefined);
  showSignedIn();
  socket.connect(undefined);
}

/** `[data-connection]`: the socket, or (with `retryInMs` undefined while open) the live prices behind it. */
function setConnection(state: "open" | "reconnecting", retryInMs?: number): void {
  ui.connection.dataset.connection = state;
  ui.connection.textContent =
    state === "open" ? "live" : retryInMs === undefined ? "live prices interrupted, reconnecting…" : `connection lost, reconnecting${retryInMs ? ` in ${Math.ceil(retryInMs / 1000)} s` : ""}…`;
}

function resync(): void {
  void refreshCircuit();
  void loadAccount();
}

const socket = new PageSocket({
  onState(state, retryInMs) {
    setConnection(state, state === "open" ? undefined : (retryInMs ?? 0));
    if (state === "open") {
      pingSentAt = Date.now();
      resync(); // events may have been missed while the socket was down
    }
  },
  onMessage(message) {
    switch (message.type) {
      case "hello":
        market.onHello(message);
        break;
      case "price":
        // Ticks were missed (a reconnect, an edge that lost the core for a while, a new core): the
        // player's own events may have been missed too, so read them again.
        if (market.onPrice(message) === "gap") resync();
        board.requote();
        // The freshest tick the page holds (what a tap quotes from), for people and tests checking lag.
        if (typeof message.at === "number") ui.board.dataset.priceAt = String(message.at);
        if (typeof message.priceCents === "number") ui.price.textContent = `BTC ${new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" }).format(message.priceCents / 100)}`;
        break;
      case "stream":
        // The server we are connected to hears nothing from the core: prices stop until it does.
        setConnection(message.state === "interrupted" ? "reconnecting" : "open");
        break;
      case "circuit":
        setCircuit(message.state);
        break;
      case "pong":
        if (typeof message.serverTime === "number") market.onPong(message.serverTime, pingSentAt);
        break;
      case "bet":
        if (typeof message.bet === "object" && message.bet !== null) book.upsert(message.bet as Bet);
        break;
      case "balance":
        if (typeof message.balanceMicroUsd === "number") setBalance(message.balanceMicroUsd);
        break;
    }
  },
});

function setCircuit(state: unknown): void {
  market.onCircuit(state);
  ui.circuit.dataset.circuit = market.circuit;
  ui.circuit.textContent = market.circuit === "open" ? "bets paused" : "bets open";
  ui.banner.hidden = market.circuit !== "open";
}

async function refreshCircuit(): Promise<void> {
  try {
    const price = await api<{ circuit: "open" | "closed" }>("/api/price");
    setCircuit(price.circuit);
  } catch {
    // no price yet: the socket will say when there is one
  }
}

async function tap(cell: OfferedCell): Promise<void> {
  if (!session) {
    say("Sign in to bet.");
    return;
  }
  if (market.circuit === "open") return;
  // `cell` is what the player saw at the tap; the freshest tick's quote may already differ (the
  // frame on screen can be a tick or two behind the socket).
  const fresh = market.multiplierOf(cell.col, cell.row);
  if (fresh === null || cell.windowStart < market.now() + market.lockMs + LOCK_MARGIN_MS) {
    say("That cell is no longer offered. Pick another one.");
    return;
  }
  const stakeMicroUsd = Math.round(Number(ui.stake.value) * 1_000_000);
  const decision = decideTap(cell.multiplierHundredths, fresh, Number(ui.slippage.value));
  board.showMultiplier({ ...cell, multiplierHundredths: fresh });
  if (!decision.send) {
    say(refusalSentence({ status: 409, code: "multiplier_changed", message: "", details: { multiplier: decision.movedToHundredths / 100 } }, stakeMicroUsd));
    return;
  }
  const body = {
    col: cell.col,
    row: cell.row,
    stakeMicroUsd,
    minMultiplier: decision.minMultiplier,
    idempotencyKey: newIdempotencyKey(),
  };
  board.setPending(cell.key, true);
  try {
    const answer = await api<{ bet: Bet; balanceMicroUsd: number }>("/api/bets", { method: "POST", body, token: session.token });
    book.upsert(answer.bet);
    setBalance(answer.balanceMicroUsd);
  } catch (error) {
    const problem = error instanceof ApiError ? error : new ApiError(0, "network", String(error));
    if (problem.code === "network") say("The server could not be reached. Check the connection and tap again.");
    else say(refusalSentence(problem, stakeMicroUsd));
    if (problem.status === 401) endSession();
  } finally {
    board.setPending(cell.key, false);
  }
}

async function openProof(bet: Bet): Promise<void> {
  if (!session) return;
  try {
    const proof = await api<Proof>(`/api/bets/${encodeURIComponent(bet.id)}/proof`, { token: session.token });
    ui.proofText.textContent = proofSummary(proof);
    ui.proof.showModal();
    drawProof(ui.proofCanvas, proof);
  } catch (error) {
    say(`The proof could not be loaded: ${error instanceof Error ? error.message : String(error)}.`);
  }
}

const board = new Board(ui.board, ui.chart, market, () => book.byCell(), () => book.version, { onTap: (cell) => void tap(cell) });

function setUpControls(): void {
  ui.stake.replaceChildren(...STAKES_USD.map((usd) => new Option(`$${usd}`, String(usd))));
  ui.stake.value = "1";
  const storedSlippage = Number(localStorage.getItem(SLIPPAGE_STORAGE) ?? DEFAULT_SLIPPAGE_BP);
  ui.slippage.replaceChildren(...SLIPPAGE_CHOICES_BP.map((bp) => new Option(`${bp / 100}%`, String(bp))));
  ui.slippage.value = String((SLIPPAGE_CHOICES_BP as readonly number[]).includes(storedSlippage) ? storedSlippage : DEFAULT_SLIPPAGE_BP);
  ui.slippage.addEventListener("change", () => localStorage.setItem(SLIPPAGE_STORAGE, ui.slippage.value));

  ui.signIn.addEventListener("click", async () => {
    ui.signIn.disabled = true;
    try {
      session = await signIn(wallet);
      saveSession(localStorage, session);
      showSignedIn();
      socket.connect(session.token);
      await loadAccount();
    } catch (error) {
      say(`Sign-in failed: ${error instanceof Error ? error.message : String(error)}.`);
    } finally {
      ui.signIn.disabled = false;
    }
  });
  ui.signOut.addEventListener("click", async () => {
    const token = session?.token;
    endSession();
    if (token) await api("/api/auth/logout", { method: "POST", token }).catch(() => undefined);
  });
  ui.proof.querySelector("form")?.addEventListener("submit", () => ui.proof.close());
}

let listsVersion = -1;
function renderLists(): void {
  if (book.version !== listsVersion) {
    listsVersion = book.version;
    renderBetLists(book, ui.openBets, ui.history, (bet) => void openProof(bet));
  }
  requestAnimationFrame(renderLists);
}

setUpControls();
showSignedIn();
setCircuit("closed");
socket.connect(session?.token);
board.start();
requestAnimationFrame(renderLists);
