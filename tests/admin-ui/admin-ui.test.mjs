// The real Socket.IO Admin UI (the built UI of the npm package @socket.io/admin-ui, ui/dist,
// served here from a local port) in headless Chromium against a ninecloud process of its own:
// log in, see the server and its sockets, find a test client's socket, disconnect it from the
// UI and watch the client be disconnected; wrong credentials are refused. (The UI's buttons
// are icons from a CDN font, unreachable here: they are found by their place, not their name.)
//
// Needs NC_BIN (the server binary) and Chromium (CHROMIUM, default /usr/bin/chromium);
// scripts/test.sh provides both.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { io } from 'socket.io-client';

const BIN = process.env.NC_BIN;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const USER = 'operator';
const PASSWORD = 'correct horse battery staple';
const SERVER_ID = 'ninecloud-e2e';
const UI_DIR = join(dirname(createRequire(import.meta.url).resolve('@socket.io/admin-ui/package.json')), 'ui', 'dist');

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.png': 'image/png', '.svg': 'image/svg+xml' };

let ui, uiUrl, server, serverUrl, dataDir, browser;
const clients = [];

function listen(srv) {
  return new Promise((resolve) => srv.listen(0, '127.0.0.1', () => resolve(srv.address().port)));
}

/**
 * Starts the server on a port the OS picks (PORT=0) and resolves with the address from its
 * "ready" log line (JSON logs, on its standard output). (A port found free and handed over could be taken in between.)
 */
function startServer(env) {
  const child = spawn(BIN, [], {
    env: { ...env, PORT: '0', LOG_FORMAT: 'json', RUST_LOG: 'warn,ninecloud=info' },
    // The server logs to standard output.
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const ready = new Promise((resolve, reject) => {
    let rest = '';
    child.stdout.on('data', (chunk) => {
      rest += chunk;
      const lines = rest.split('\n');
      rest = lines.pop();
      for (const line of lines) {
        let entry;
        try {
          entry = JSON.parse(line);
        } catch {
          process.stderr.write(`${line}\n`);
          continue;
        }
        if (entry.fields?.message === 'ready') resolve(entry.fields.addr);
        else if (entry.level === 'WARN' || entry.level === 'ERROR') process.stderr.write(`${line}\n`);
      }
    });
    child.on('exit', (code) => reject(new Error(`the server exited (${code}) before it was ready`)));
    setTimeout(() => reject(new Error('the server did not say it was ready within 60 s')), 60_000).unref();
  });
  return { child, ready };
}

before(async () => {
  assert.ok(BIN, 'NC_BIN names the ninecloud binary');
  assert.ok(existsSync(join(UI_DIR, 'index.html')), `the UI is installed (${UI_DIR})`);
  // A self-hosted copy of the UI: its own origin, which the server must allow (ADMIN_UI_ORIGINS).
  ui = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(UI_DIR, path === '/' ? 'index.html' : path);
    if (!file.startsWith(UI_DIR) || !existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
    res.end(readFileSync(file));
  });
  const uiPort = await listen(ui);
  uiUrl = `http://127.0.0.1:${uiPort}`;

  const hash = execFileSync(BIN, ['hash-password'], { input: `${PASSWORD}\n` }).toString().trim();
  assert.match(hash, /^\$2[aby]\$10\$/);
  dataDir = mkdtempSync(join(tmpdir(), 'nc-admin-ui-'));
  const started = startServer({
    ...process.env,
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    METRICS_ADDR: 'off',
    ADMIN_USERNAME: USER,
    ADMIN_PASSWORD_HASH: hash,
    ADMIN_MODE: 'development',
    ADMIN_SERVER_ID: SERVER_ID,
    ADMIN_UI_ORIGINS: uiUrl,
  });
  server = started.child;
  serverUrl = `http://${await started.ready}`;
  assert.equal((await fetch(`${serverUrl}/ready`)).status, 200);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  for (const c of clients) c.disconnect();
  await browser?.close();
  server?.kill();
  ui?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

/** A page of the UI; fonts and icons from CDNs are not reachable here and not needed. */
async function openUi() {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  await context.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
  const page = await context.newPage();
  await page.goto(uiUrl);
  return page;
}

async function logIn(page, password) {
  const dialog = page.locator('.v-dialog');
  await dialog.getByLabel('Server URL').fill(serverUrl);
  await dialog.getByLabel('Username').fill(USER);
  await dialog.getByLabel('Password').fill(password);
  await dialog.getByRole('button', { name: 'Connect' }).click();
}

test('wrong credentials are refused in the UI', async () => {
  const page = await openUi();
  await logIn(page, 'not the password');
  await page.getByText('Invalid credentials').waitFor({ timeout: 10_000 });
  await page.context().close();
});

test('log in, see the server and a client socket, disconnect it from the UI', async () => {
  const client = io(serverUrl, { forceNew: true, reconnection: false, transports: ['websocket'] });
  clients.push(client);
  await new Promise((resolve, reject) => {
    client.once('connect', resolve);
    client.once('connect_error', reject);
  });
  const id = client.id;
  const disconnected = new Promise((resolve) => client.once('disconnect', (reason) => resolve(reason)));

  const page = await openUi();
  await logIn(page, PASSWORD);
  await page.locator('.v-dialog').waitFor({ state: 'hidden', timeout: 10_000 });

  // The servers page: this server, healthy, with its clients (the UI's own and the test's).
  await page.goto(`${uiUrl}/#/servers/`);
  const row = page.locator('tr', { hasText: SERVER_ID });
  await row.waitFor({ timeout: 10_000 });
  await page.waitForFunction(
    (serverId) => {
      const tr = [...document.querySelectorAll('tr')].find((r) => r.textContent.includes(serverId));
      return tr && /\b[2-9]\b/.test(tr.textContent);
    },
    SERVER_ID,
    { timeout: 10_000 },
  );

  // The sockets page lists the client's socket; its page has the Disconnect button.
  await page.goto(`${uiUrl}/#/sockets/`);
  await page.getByText(id).waitFor({ timeout: 10_000 });
  await page.goto(`${uiUrl}/#/n/%2F/sockets/${id}`);
  // Two status rows, each with its disconnect button (an icon: the icon font is from a CDN):
  // the client's (the whole connection) and the socket's (this namespace); the socket's.
  await page.getByText('Socket details').waitFor();
  const status = page.locator('tr', { hasText: 'Status' });
  await status.nth(1).waitFor();
  await status.nth(1).locator('button').click();
  const reason = await Promise.race([disconnected, sleep(10_000).then(() => 'still connected')]);
  assert.equal(reason, 'io server disconnect');
  await page.context().close();
});
