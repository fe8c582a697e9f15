/**
 * The browser journey: the REAL existing web client (CarpoolMATE/FRONTEND,
 * built from LEGACY_CLIENT_DIR by scripts/legacy-client/build.sh, started with
 * `next start`) driven in Chromium as people would use it, against this
 * backend in its embedded mode, through the legacy paths /api/... .
 *
 * Three people (a driver who signs up in the evening, a second driver, a
 * passenger who signs up the next morning) and a guest who forgot their
 * credentials go through sign-up, sign-in, the home lists, driver
 * registration, posting, reserving, "my carpool" on both sides, cancel,
 * delete, history after the day rolled over, a report, profile and password
 * changes, find-id and find-password with the mails read from the outbox, and
 * access-token expiry with several calls at once.
 *
 * The only stand-in is the outside world: the Kakao Maps SDK is answered by
 * page.route with a small script (kakao-standin.ts); any other outside request
 * is blocked and listed. The API's clock is moved by the test (backend.ts),
 * the browser's with Playwright's clock, both in Asia/Seoul.
 *
 * Every step takes a screenshot (MATE_JOURNEY_SCREENSHOTS, default a temp
 * folder) and, when it fails, prints the calls the client made in it with
 * their answers. journey-report.json in that folder has everything.
 *
 * Skipped only when LEGACY_CLIENT_DIR is unset.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { kakaoMapsStandIn, KAKAO_PLACES } from './kakao-standin.js';
import {
  buildClient,
  describeExchange,
  freePort,
  png,
  portIsFree,
  readOutbox,
  Recorder,
  startBackend,
  startClient,
  waitForMail,
  type Backend,
  type Child,
  type Exchange,
} from './support.js';

const CLIENT_DIR = process.env.LEGACY_CLIENT_DIR;
const SKIP = CLIENT_DIR
  ? false
  : 'LEGACY_CLIENT_DIR is unset: set it to a checkout of CarpoolMATE/FRONTEND (the existing web client) to run the browser journey; see scripts/legacy-client/build.sh';

const API_PORT = Number(process.env.MATE_JOURNEY_API_PORT ?? 18480);
const ACCESS_TTL = Number(process.env.MATE_JOURNEY_ACCESS_TTL_SECONDS ?? 300);
const CHROMIUM = process.env.MATE_JOURNEY_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ZONE = 'Asia/Seoul';

// ---------------------------------------------------------------------------
// The timeline, on Seoul's wall clock: D is today's date in Seoul.

function seoulDate(offsetDays = 0): string {
  const d = new Date(Date.now() + 9 * 3_600_000 + offsetDays * 86_400_000);
  return d.toISOString().slice(0, 10);
}
const D = seoulDate(0);
const D1 = seoulDate(1);
const at = (day: string, hhmm: string) => new Date(`${day}T${hhmm}:00+09:00`);
/** The evening before: the service day D (10:00 D .. 10:00 D+1). */
const EVENING = at(D, '20:00');
/** The next morning, before 10:00: still the service day D. */
const MORNING = at(D1, '06:30');
/** After 10:00 on D+1: the day rolled over. */
const NEXT_DAY = at(D1, '10:30');

// ---------------------------------------------------------------------------
// The people and their carpools

interface Person {
  key: string;
  loginId: string;
  password: string;
  nickname: string;
  email: string;
}
const A: Person = {
  key: 'A',
  loginId: 'eveningdriver',
  password: 'mate2025eve',
  nickname: '저녁운전자',
  email: 'evening.driver@journey.example',
};
/** A seeded demo driver (embedded mode); the password is read from demo-credentials.txt. */
const B: Person = { key: 'B', loginId: 'driver2', password: '', nickname: '수원드라이버', email: 'driver2@demo.mate.example' };
const C: Person = {
  key: 'C',
  loginId: 'morningrider',
  password: 'mate2025ride',
  nickname: '아침손님',
  email: 'morning.rider@journey.example',
};
/** Taken values for the duplicate checks: the seeded demo driver1. */
const TAKEN = { loginId: 'driver1', nickname: '출근왕', email: 'driver1@demo.mate.example' };

const [OMOK, SUWON] = KAKAO_PLACES as [(typeof KAKAO_PLACES)[0], (typeof KAKAO_PLACES)[0]];
/** X: A's, posted in the evening through the client. */
const X = {
  place: OMOK.road_address_name,
  search: '오목천',
  pick: OMOK.place_name,
  hour: 7,
  minute: 30,
  capacity: 1,
  cost: 5000,
  chat: 'https://open.kakao.com/o/gJourneyX',
};
/** Y: B's, posted in the morning through the client. */
const Y = {
  place: SUWON.road_address_name,
  search: '수원역',
  pick: SUWON.place_name,
  hour: 8,
  minute: 50,
  capacity: 3,
  cost: 2000,
  chat: 'https://open.kakao.com/o/gJourneyY',
};
/** Z: driver1's, posted through /api/v1 in the evening, first (the rest of the market). */
const Z = { place: '경기 수원시 영통구 광교중앙로 140', departure: at(D1, '08:00'), capacity: 2, cost: 3000 };

// ---------------------------------------------------------------------------
// State shared by the steps

let backend: Backend | undefined;
let client: { url: string; child: Child } | undefined;
let browser: Browser | undefined;
let rec: Recorder;
let outDir = '';
let buildSeconds = 0;
/** Where the API's clock was set, and when (real time): it runs on from there. */
let clockBase = { at: EVENING, setAt: Date.now() };
const apiNow = () => new Date(clockBase.at.getTime() + (Date.now() - clockBase.setAt));

interface Actor extends Person {
  context: BrowserContext;
  page: Page;
}
const actors = new Map<string, Actor>();
const actor = (key: string) => {
  const a = actors.get(key);
  if (!a) throw new Error(`no browser for ${key}`);
  return a;
};

interface StepRecord {
  n: number;
  name: string;
  ok: boolean;
  seconds: number;
  apiClock: string;
  error?: string;
  notes: string[];
  screenshots: string[];
  calls: Exchange[];
}
const steps: StepRecord[] = [];
let shotSeq = 0;
let notes: string[] = [];

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 50);

async function shot(a: Actor, label: string): Promise<string | undefined> {
  const file = path.join(outDir, `${String(++shotSeq).padStart(3, '0')}-${slug(label)}-${a.key}.png`);
  try {
    await a.page.screenshot({ path: file, fullPage: true, timeout: 10_000 });
    return file;
  } catch (e) {
    notes.push(`screenshot ${file} failed: ${(e as Error).message.split('\n')[0]}`);
    return undefined;
  }
}

async function setClock(to: Date): Promise<void> {
  const now = await backend!.setClock(to);
  clockBase = { at: now, setAt: Date.now() };
  for (const a of actors.values()) await a.context.clock.setFixedTime(now);
}

/** One step of the journey: screenshots of the people in it, and on failure the calls the client made. */
async function step(name: string, who: string[], fn: (shots: string[]) => Promise<void>): Promise<void> {
  const n = steps.length + 1;
  const label = `S${String(n).padStart(2, '0')} ${name}`;
  rec.step = label;
  notes = [];
  const shots: string[] = [];
  const started = Date.now();
  const now = apiNow();
  // The browsers read the same wall clock as the API.
  for (const a of actors.values()) await a.context.clock.setFixedTime(now);
  let error: Error | undefined;
  try {
    await fn(shots);
  } catch (e) {
    error = e as Error;
  }
  await rec.flush();
  for (const key of who) {
    const a = actors.get(key);
    if (!a) continue;
    const file = await shot(a, `${label}${error ? ' FAILED' : ''}`);
    if (file) shots.push(file);
  }
  if (error) {
    // What the client itself reported: an uncaught exception explains most timeouts.
    for (const e of rec.consoleErrors.filter((e) => e.step === label && e.text.startsWith('uncaught'))) {
      const line = `[${e.actor}] the client threw: ${e.text.slice('uncaught: '.length)}`;
      if (!notes.includes(line)) notes.push(line);
    }
    for (const key of who) {
      const a = actors.get(key);
      if (
        a &&
        (await a.page
          .getByText('Application error: a client-side exception has occurred')
          .count()
          .catch(() => 0))
      ) {
        notes.push(`[${key}] the client shows Next.js's "Application error: a client-side exception has occurred" page`);
      }
    }
  }
  const calls = rec.ofStep(label);
  for (const f of rec.clientFailures.filter((f) => f.step === label))
    notes.push(`the client's server answered ${f.status} for ${f.url}: ${f.body}`);
  steps.push({
    n,
    name,
    ok: !error,
    seconds: (Date.now() - started) / 1000,
    apiClock: now.toISOString(),
    error: error?.message,
    notes,
    screenshots: shots,
    calls,
  });
  const lines = [`${error ? '✗' : '✓'} ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`];
  for (const s of shots) lines.push(`    screenshot: ${s}`);
  for (const note of notes) lines.push(`    note: ${note}`);
  if (error) {
    lines.push(
      `    error: ${error.message
        .split('\n')
        .filter((l) => !l.includes('Call log:') && !l.includes('\u001b[2m') && !/^\s*- /.test(l))
        .slice(0, 4)
        .join('\n           ')}`,
    );
    lines.push(`    calls the client made in this step (${calls.length}):`);
    for (const x of calls) lines.push(`    ${x.status && x.status < 400 ? ' ' : '!'} ${describeExchange(x)}`);
  }
  console.log(lines.join('\n'));
  if (error) throw error;
}

// ---------------------------------------------------------------------------
// The API, directly: only for the rest of the market (Z) and for fallbacks that
// let later steps run when a step before them broke.

async function v1(method: string, p: string, body?: unknown, token?: string): Promise<{ status: number; body: any }> {
  const res = await fetch(`${backend!.url}/api/v1${p}`, {
    method,
    headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: parsed };
}

async function v1Token(p: Person): Promise<string> {
  const r = await v1('POST', '/auth/signin', { loginId: p.loginId, password: p.password });
  assert.equal(r.status, 200, `v1 sign-in of ${p.loginId}: ${JSON.stringify(r.body)}`);
  return r.body.accessToken as string;
}

async function v1Carpool(p: Person, c: { place: string; departure: Date; capacity: number; cost: number; chat?: string }) {
  const r = await v1(
    'POST',
    '/carpools',
    {
      departurePlace: c.place,
      latitude: 37.2431,
      longitude: 126.9534,
      departureAt: c.departure.toISOString(),
      chatLink: c.chat ?? 'https://open.kakao.com/o/gJourneyZ',
      capacity: c.capacity,
      cost: c.cost,
    },
    await v1Token(p),
  );
  assert.equal(r.status, 201, `v1 carpool of ${p.loginId}: ${JSON.stringify(r.body)}`);
  return r.body;
}

// ---------------------------------------------------------------------------
// What a person does in the client

const pathOf = (page: Page) => new URL(page.url()).pathname;
const signedIn = (page: Page) => page.evaluate(() => !!localStorage.getItem('auth_token') && !!localStorage.getItem('refresh_token'));

/** The message of the open modal (the client's Modal), waiting for one to open. */
async function modalMessage(page: Page, timeout = 10_000): Promise<string> {
  const modal = page.locator('div.modal').last();
  await modal.waitFor({ state: 'visible', timeout });
  return (await modal.innerText()).trim();
}

async function closeModal(page: Page, button = '확인'): Promise<void> {
  await page.locator('div.modal').last().getByRole('button', { name: button, exact: true }).click();
  await page.locator('div.modal').last().waitFor({ state: 'detached', timeout: 5_000 });
}

async function expectPath(page: Page, re: RegExp, what: string, timeout = 15_000): Promise<void> {
  try {
    await page.waitForURL((u) => re.test(u.pathname + u.search), { timeout });
  } catch {
    const modal = await page
      .locator('div.modal')
      .last()
      .innerText({ timeout: 500 })
      .catch(() => '');
    throw new Error(
      `${what}: the client is at ${pathOf(page)}${new URL(page.url()).search}, not ${re}${modal ? `; it shows a modal: "${modal.trim()}"` : ''}`,
    );
  }
}

/** Fails when the client signed the person out (its answer to a 401 it could not refresh, or to a 418). */
async function expectStillSignedIn(a: Actor, what: string): Promise<void> {
  await a.page.waitForTimeout(300);
  if (pathOf(a.page) === '/sign-in' || !(await signedIn(a.page))) {
    throw new Error(
      `${what}: the client signed ${a.loginId} out (it is at ${pathOf(a.page)}, tokens ${(await signedIn(a.page)) ? 'kept' : 'removed'})`,
    );
  }
}

async function signInThroughClient(a: Actor, password = a.password): Promise<void> {
  await a.page.goto(`${client!.url}/login`);
  await a.page.getByPlaceholder('아이디', { exact: true }).fill(a.loginId);
  await a.page.getByPlaceholder('비밀번호', { exact: true }).fill(password);
  await a.page.getByRole('button', { name: '로그인', exact: true }).click();
  await expectPath(a.page, /^\/home/, `signing in as ${a.loginId}`);
}

/** Recovery for the steps after a broken one: signs in again when the client lost the session. */
async function ensureSignedIn(a: Actor): Promise<void> {
  if (a.page.url().startsWith(client!.url) && (await signedIn(a.page)) && pathOf(a.page) !== '/sign-in') return;
  notes.push(`${a.loginId} was not signed in (an earlier step broke): signed in again first`);
  await signInThroughClient(a);
}

async function openHome(a: Actor): Promise<void> {
  await a.page.goto(`${client!.url}/home`);
  await waitForHomeLoaded(a.page);
}

async function waitForHomeLoaded(page: Page): Promise<void> {
  await page.getByRole('button', { name: '카풀 생성하기' }).waitFor({ timeout: 15_000 });
  await page.waitForFunction(() => !document.querySelector('.animate-pulse'), undefined, { timeout: 15_000 });
}

/** The reservation card at the top of home: its text. */
async function reservationCard(page: Page): Promise<string> {
  await page.waitForFunction(() => !document.querySelector('.animate-pulse'), undefined, { timeout: 15_000 });
  const card = page.locator('section > div.w-full.mt-2, section > a > div.w-full.mt-2').first();
  return (await card.innerText({ timeout: 10_000 })).replace(/\s+/g, ' ').trim();
}

/** The places of the carpools home lists, in the order shown. */
async function listedPlaces(page: Page): Promise<string[]> {
  const rows = page.locator('ul.w-full > li');
  const texts = await rows.allInnerTexts();
  const known = [X.place, Y.place, Z.place];
  return texts.filter((t) => t.includes('출발')).map((t) => known.find((p) => t.includes(p)) ?? t.replace(/\s+/g, ' ').slice(0, 60));
}

async function expectList(a: Actor, expected: string[], what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen: string[] = [];
  while (Date.now() < deadline) {
    await a.page.waitForFunction(() => !document.querySelector('.animate-pulse'), undefined, { timeout: 10_000 });
    seen = await listedPlaces(a.page);
    if (JSON.stringify(seen) === JSON.stringify(expected)) return;
    if (expected.length === 0 && (await a.page.getByText('현재 모집 중인 카풀이 없습니다').count())) return;
    await a.page.waitForTimeout(300);
  }
  const name = (p: string) => (p === X.place ? 'X' : p === Y.place ? 'Y' : p === Z.place ? 'Z' : p);
  throw new Error(`${what}: the list shows [${seen.map(name).join(', ')}], expected [${expected.map(name).join(', ')}]`);
}

type ListName = 'latest' | 'active' | 'fast' | 'low';

/** The four orders, chosen as a person does: the checkbox, then the sort menu. */
async function checkFourOrders(a: Actor, expected: Record<ListName, string[]>, shots: string[], label: string): Promise<void> {
  const page = a.page;
  await openHome(a);
  await expectList(a, expected.latest, `${label}, newest first (/api/carpool/list)`);
  await page.getByText('모집 중인 카풀만 보기').click();
  await expectPath(page, /filter=active/, 'the "only with free seats" checkbox');
  await expectList(a, expected.active, `${label}, only with free seats (/api/carpool/active)`);
  shots.push((await shot(a, `${label} active`))!);
  await page.getByText('모집 중인 카풀만 보기').click();
  await expectPath(page, /^\/home$/, 'unchecking the checkbox');
  await page.getByRole('button', { name: '필터' }).click();
  await page.getByRole('link', { name: '빠른 시간순' }).click();
  await expectPath(page, /filter=fast/, 'the sort menu: earliest departure');
  await expectList(a, expected.fast, `${label}, earliest departure first (/api/carpool/fast)`);
  shots.push((await shot(a, `${label} fast`))!);
  await page.getByRole('button', { name: '빠른 시간순' }).click();
  await page.getByRole('link', { name: '낮은 요금순' }).click();
  await expectPath(page, /filter=low/, 'the sort menu: cheapest');
  await expectList(a, expected.low, `${label}, cheapest first (/api/carpool/low)`);
}

/** Picks an image file in an ImageUploader, crops it in the client's crop modal and waits for the upload. */
async function uploadImage(a: Actor, file: { name: string; buffer: Buffer }): Promise<string> {
  const page = a.page;
  const uploaded = page.waitForResponse((r) => r.url().startsWith(`${backend!.url}/file/upload`), { timeout: 20_000 });
  await page.locator('input[type=file]').first().setInputFiles({ name: file.name, mimeType: 'image/png', buffer: file.buffer });
  const crop = page.locator('div.modal').last();
  await crop.waitFor({ state: 'visible' });
  // The cropper reports its area once the image is laid out; until then 확인 does nothing.
  for (let i = 0; i < 20 && (await crop.isVisible()); i++) {
    await crop
      .getByRole('button', { name: '확인', exact: true })
      .click({ timeout: 2_000 })
      .catch(() => {
        /* the modal closed meanwhile */
      });
    await page.waitForTimeout(300);
  }
  if (await crop.isVisible()) throw new Error('the crop modal does not close on 확인');
  const res = await uploaded;
  const body = await res.text();
  if (!res.ok()) throw new Error(`POST /file/upload answered ${res.status()}: ${body}`);
  const url = (JSON.parse(body) as { data?: unknown }).data;
  if (typeof url !== 'string' || !url) throw new Error(`POST /file/upload answered no image URL in data: ${body}`);
  return url;
}

async function openDropdown(page: Page, placeholder: string, value: number): Promise<void> {
  await page.getByRole('button', { name: placeholder, exact: true }).click();
  await page.getByRole('button', { name: String(value), exact: true }).click();
}

/** The carpool form, start to end, as a driver fills it in. */
async function postCarpoolThroughClient(a: Actor, c: typeof X, shots: string[]): Promise<void> {
  const page = a.page;
  if (pathOf(page) !== '/carpool-registration') {
    await openHome(a);
    await page.getByRole('button', { name: '카풀 생성하기' }).click();
    await expectPath(page, /^\/carpool-registration$/, '"카풀 생성하기" of a driver');
  }
  // Where from: the map (the Kakao stand-in), searched and picked.
  await page.getByPlaceholder('지도에서 선택').click();
  await page.getByPlaceholder('장소명으로 검색').fill(c.search);
  await page.getByText(c.pick).click();
  shots.push((await shot(a, `map ${c.search}`))!);
  await page.getByRole('button', { name: '선택', exact: true }).click();
  await page.getByPlaceholder('지도에서 선택').waitFor();
  assert.equal(await page.getByPlaceholder('지도에서 선택').inputValue(), c.place, 'the picked place is in the form');
  await page.getByRole('button', { name: '다음', exact: true }).click();
  // When.
  await openDropdown(page, '시간', c.hour);
  await openDropdown(page, '분', c.minute);
  await page.getByRole('button', { name: '다음', exact: true }).click();
  // The chat link.
  await page.getByPlaceholder('링크를 붙여넣기해주세요').fill(c.chat);
  await page.getByRole('button', { name: '다음', exact: true }).click();
  // Seats and cost.
  await openDropdown(page, '선택', c.capacity);
  await page.getByPlaceholder('비용을 입력해주세요').fill(String(c.cost));
  await page.getByRole('button', { name: '다음', exact: true }).click();
  // The preview, then post.
  await page.getByText('카풀 미리보기').waitFor();
  shots.push((await shot(a, 'carpool preview'))!);
  const posted = page.waitForResponse((r) => r.url() === `${backend!.url}/api/carpool` && r.request().method() === 'POST', {
    timeout: 15_000,
  });
  await page.getByRole('button', { name: '카풀 생성하기', exact: true }).click();
  const res = await posted;
  await expectPath(
    page,
    /^\/carpool-registration\/done$/,
    `posting the carpool (POST /api/carpool answered ${res.status()}: ${await res.text().catch(() => '')})`,
  );
}

/** Sign-up as the client's form does it, with a duplicate check of each field first against taken values. */
async function signUpThroughClient(a: Actor, shots: string[], withDuplicates: boolean): Promise<void> {
  const page = a.page;
  await page.goto(`${client!.url}/sign-in`);
  await page.getByText('회원가입', { exact: true }).click();
  await expectPath(page, /^\/sign-up$/, 'the sign-up link');

  const check = async (placeholder: string, value: string, freeMessage: string, taken: boolean) => {
    const input = page.getByPlaceholder(placeholder);
    await input.fill(value);
    await input.locator('xpath=following-sibling::button[1]').click();
    const message = await modalMessage(page);
    if (taken) {
      assert.ok(!message.includes(freeMessage), `the duplicate check of a taken ${placeholder} "${value}" said "${message}"`);
      assert.ok(
        !/^\s*확인\s*$/.test(message) && message.length > 2,
        `the duplicate check of a taken value shows an error message, got "${message}"`,
      );
      notes.push(`duplicate ${value}: "${message.replace(/\s*확인$/, '')}"`);
      shots.push(
        (await shot(
          a,
          `duplicate ${{ 아이디를: 'login id', 닉네임을: 'nickname', 이메일을: 'email' }[placeholder.split(' ')[0]!] ?? 'value'}`,
        ))!,
      );
    } else {
      assert.ok(
        message.includes(freeMessage),
        `the duplicate check of a free ${placeholder} "${value}" said "${message}", expected "${freeMessage}"`,
      );
    }
    await closeModal(page);
  };
  if (withDuplicates) await check('아이디를 입력해주세요', TAKEN.loginId, '사용 가능한 아이디입니다.', true);
  await check('아이디를 입력해주세요', a.loginId, '사용 가능한 아이디입니다.', false);
  await page.getByPlaceholder('비밀번호를 입력해주세요').fill(a.password);
  await page.getByPlaceholder('비밀번호 확인').fill(a.password);
  if (withDuplicates) await check('닉네임을 입력해주세요', TAKEN.nickname, '사용 가능한 닉네임입니다.', true);
  await check('닉네임을 입력해주세요', a.nickname, '사용 가능한 닉네임입니다.', false);
  if (withDuplicates) await check('이메일을 입력해주세요', TAKEN.email, '사용 가능한 이메일입니다.', true);
  await check('이메일을 입력해주세요', a.email, '사용 가능한 이메일입니다.', false);
  shots.push((await shot(a, 'sign-up form filled'))!);
  await page.getByRole('button', { name: '회원가입', exact: true }).click();
  const message = await modalMessage(page);
  shots.push((await shot(a, 'sign-up answer'))!);
  await closeModal(page);
  // The client goes on to the login page only when the message is the predecessor's "회원가입 성공".
  await expectPath(page, /^\/login$/, `after sign-up (the modal said "${message.replace(/\s*확인$/, '')}")`, 5_000);
}

/** Opens "my carpool" from the reservation card on home. */
async function openMyCarpool(a: Actor): Promise<void> {
  await openHome(a);
  await a.page.locator('a[href="/reservation-detail"]').click();
  await expectPath(a.page, /^\/reservation-detail$/, 'the reservation card');
  await a.page.getByText(/카풀 예약 확인/).waitFor();
  await a.page.locator('section .grid').waitFor({ timeout: 10_000 });
}

async function reserveThroughClient(a: Actor, place: string): Promise<void> {
  const page = a.page;
  await openHome(a);
  await page.locator('ul.w-full > li', { hasText: place }).click();
  const reserve = page.getByRole('button', { name: '예약하기', exact: true });
  await reserve.waitFor();
  if (await reserve.isDisabled()) {
    const why = await page.getByText('이미 진행중인 카풀이 있어요').count();
    throw new Error(
      `the 예약하기 button is disabled${why ? ' ("이미 진행중인 카풀이 있어요": GET /api/member says reservation=true)' : ' (the carpool is full)'}`,
    );
  }
  const answered = page.waitForResponse((r) => r.url() === `${backend!.url}/api/carpool/reservation`, { timeout: 15_000 });
  await reserve.click();
  const res = await answered;
  await expectPath(
    page,
    /^\/reservation-detail$/,
    `reserving (POST /api/carpool/reservation answered ${res.status()}: ${await res.text().catch(() => '')})`,
  );
  await page.locator('section .grid').waitFor({ timeout: 10_000 });
}

/** The calls of a step that came back 401 and were repeated with the refresh token. */
function refreshDance(calls: Exchange[]): { expired: Exchange[]; retried: Exchange[] } {
  return {
    expired: calls.filter((x) => x.status === 401 && !x.sent.refreshtoken),
    retried: calls.filter((x) => !!x.sent.refreshtoken),
  };
}

function assertRefreshDance(calls: Exchange[], minParallel: number): void {
  const { expired, retried } = refreshDance(calls);
  assert.ok(
    expired.length >= minParallel,
    `expected at least ${minParallel} calls answered 401 at once (the token expired), saw ${expired.length}`,
  );
  assert.ok(
    retried.length >= minParallel,
    `expected the client to repeat ${minParallel}+ calls with its refresh token, saw ${retried.length}`,
  );
  const bad = retried.filter((x) => !x.status || x.status >= 300);
  assert.equal(
    bad.length,
    0,
    `every repeated call must succeed with the same refresh token (grace period), but: ${bad.map((x) => `${x.method} ${x.url} → ${x.status} ${x.responseBody ?? x.failure ?? ''}`).join('; ')}`,
  );
  notes.push(
    `${expired.length} calls answered 401 together; ${retried.length} repeats with the refresh token: ${retried.map((x) => `${x.url} ${x.status}`).join(', ')}`,
  );
}

// ---------------------------------------------------------------------------

describe('the existing web client, driven in a browser against this backend', { skip: SKIP }, () => {
  before(
    async () => {
      outDir = process.env.MATE_JOURNEY_SCREENSHOTS || fs.mkdtempSync(path.join(os.tmpdir(), 'mate-journey-'));
      fs.mkdirSync(outDir, { recursive: true });
      console.log(`journey artifacts (screenshots, logs, journey-report.json): ${outDir}`);
      assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install -y chromium (or set MATE_JOURNEY_CHROMIUM)`);
      assert.ok(
        await portIsFree(API_PORT),
        `127.0.0.1:${API_PORT} is taken: the client is built for that API URL; free it or set MATE_JOURNEY_API_PORT`,
      );
      const apiUrl = `http://127.0.0.1:${API_PORT}`;

      const build = await buildClient(apiUrl, path.join(outDir, 'legacy-client-build.log'));
      buildSeconds = build.seconds;
      console.log(`legacy client: ${build.dir} (build step ${buildSeconds.toFixed(1)} s)`);

      const clientPort = await freePort();
      const clientOrigin = `http://127.0.0.1:${clientPort}`;
      const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mate-journey-data-'));
      backend = await startBackend({
        port: API_PORT,
        clientOrigin,
        dataDir,
        accessTokenTtlSeconds: ACCESS_TTL,
        clock: EVENING,
        logFile: path.join(outDir, 'api.log'),
      });
      clockBase = { at: await backend.setClock(EVENING), setAt: Date.now() };
      client = await startClient({ dir: build.dir, port: clientPort, logFile: path.join(outDir, 'next.log') });
      console.log(`API ${backend.url} (embedded, data ${dataDir}); client ${client.url}; API clock ${apiNow().toISOString()}`);

      const creds = fs.readFileSync(path.join(dataDir, 'demo-credentials.txt'), 'utf8');
      B.password = /password: (\S+)/.exec(creds)![1]!;

      rec = new Recorder(backend.url, client.url);
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const standIns = { 'https://dapi.kakao.com/': { contentType: 'application/javascript', body: kakaoMapsStandIn() } };
      for (const p of [A, B, C, { key: 'G', loginId: C.loginId, password: C.password, nickname: C.nickname, email: C.email }]) {
        // A phone-sized window, as the client is laid out for one.
        const context = await browser.newContext({ timezoneId: ZONE, locale: 'ko-KR', viewport: { width: 390, height: 844 } });
        context.setDefaultTimeout(15_000);
        await context.clock.setFixedTime(apiNow());
        await rec.attach(context, p.key, standIns);
        const page = await context.newPage();
        actors.set(p.key, { ...p, context, page });
      }
      // The rest of the market: driver1's carpool, posted first in the evening through /api/v1.
      const token = await v1Token({ ...B, loginId: 'driver1', password: B.password });
      const z = await v1(
        'POST',
        '/carpools',
        {
          departurePlace: Z.place,
          latitude: 37.2886,
          longitude: 127.0517,
          departureAt: Z.departure.toISOString(),
          chatLink: 'https://open.kakao.com/o/gJourneyZ',
          capacity: Z.capacity,
          cost: Z.cost,
        },
        token,
      );
      assert.equal(z.status, 201, `driver1's carpool through /api/v1: ${JSON.stringify(z.body)}`);
    },
    { timeout: 30 * 60_000 },
  );

  after(async () => {
    await rec?.flush();
    await browser?.close().catch(() => {});
    await client?.child.stop();
    await backend?.stop();
    if (!outDir) return;
    const report = {
      when: new Date().toISOString(),
      timeline: { D, EVENING, MORNING, NEXT_DAY, accessTokenTtlSeconds: ACCESS_TTL },
      buildSeconds,
      steps,
      outsideRequests: rec?.outside ?? [],
      consoleErrors: rec?.consoleErrors ?? [],
      clientFailures: rec?.clientFailures ?? [],
      calls: rec?.exchanges ?? [],
    };
    const file = path.join(outDir, 'journey-report.json');
    fs.writeFileSync(file, JSON.stringify(report, null, 2));
    const failed = steps.filter((s) => !s.ok);
    console.log(
      [
        `journey: ${steps.length - failed.length}/${steps.length} steps passed; report ${file}`,
        ...failed.map((s) => `  ✗ S${String(s.n).padStart(2, '0')} ${s.name}: ${s.error?.split('\n')[0]}`),
        ...[
          ...new Set(
            steps.flatMap((s) =>
              s.notes
                .filter((n) => /does not load|client's server answered/.test(n))
                .map((n) => `  ! (not failing) S${String(s.n).padStart(2, '0')}: ${n}`),
            ),
          ),
        ],
        `  outside requests: ${[...new Set((rec?.outside ?? []).map((o) => `${o.handledBy}: ${o.url.split('?')[0]}`))].join(', ') || 'none'}`,
      ].join('\n'),
    );
  });

  // --- The evening before (service day D) -----------------------------------

  it('sign-up with the duplicate checks (login id, nickname, email)', { timeout: 120_000 }, () =>
    step('sign-up with the duplicate checks', ['A'], async (shots) => {
      const a = actor('A');
      try {
        await signUpThroughClient(a, shots, true);
      } finally {
        // Later steps need A to exist: when the client's sign-up broke, sign up through /api/v1.
        const exists = await v1('POST', '/auth/signin', { loginId: a.loginId, password: a.password });
        if (exists.status !== 200) {
          const r = await v1('POST', '/auth/signup', { loginId: a.loginId, email: a.email, nickname: a.nickname, password: a.password });
          notes.push(`fallback: ${a.loginId} signed up through /api/v1 (${r.status})`);
        }
      }
    }),
  );

  it('sign-in with a wrong password, then the right one', { timeout: 120_000 }, () =>
    step('sign-in with a wrong then the right password', ['A'], async (shots) => {
      const a = actor('A');
      const page = a.page;
      await page.goto(`${client!.url}/login`);
      await page.getByPlaceholder('아이디', { exact: true }).fill(a.loginId);
      await page.getByPlaceholder('비밀번호', { exact: true }).fill('wrong1password');
      await page.getByRole('button', { name: '로그인', exact: true }).click();
      let message: string;
      try {
        message = await modalMessage(page, 8_000);
      } catch {
        throw new Error(
          `a wrong password shows no error modal; the client is at ${pathOf(page)} (a 401 makes it try a refresh and send the person to /sign-in)`,
        );
      }
      shots.push((await shot(a, 'wrong password'))!);
      notes.push(`wrong password: "${message.replace(/\s*확인$/, '')}"`);
      assert.equal(pathOf(page), '/login', 'a wrong password keeps the person on the login page');
      await closeModal(page);
      await page.getByPlaceholder('비밀번호', { exact: true }).fill(a.password);
      await page.getByRole('button', { name: '로그인', exact: true }).click();
      await expectPath(page, /^\/home/, 'the right password');
      assert.ok(await signedIn(page), 'the client stored both tokens from the Authorization and Refreshtoken headers');
    }),
  );

  it('home in the evening: no carpool of my own, the market so far', { timeout: 120_000 }, () =>
    step('home without a carpool of my own (evening)', ['A'], async () => {
      const a = actor('A');
      await ensureSignedIn(a);
      await openHome(a);
      const card = await reservationCard(a.page);
      assert.match(
        card,
        /현재 예약 중인 카풀이 없습니다/,
        `the reservation card (GET /api/carpool/myCarpool must answer 404 MATE-001 when there is none): "${card}"`,
      );
      await expectList(a, [Z.place], 'the evening market');
    }),
  );

  it('driver registration with a car photo', { timeout: 120_000 }, () =>
    step('driver registration with a car photo', ['A'], async (shots) => {
      const a = actor('A');
      const page = a.page;
      try {
        await ensureSignedIn(a);
        await openHome(a);
        await page.getByRole('button', { name: '카풀 생성하기' }).click();
        await page.getByText('차량 등록이 필요합니다').or(page.getByText('이 필요합니다')).first().waitFor();
        shots.push((await shot(a, 'not a driver yet'))!);
        await page.getByRole('button', { name: '차량 등록', exact: true }).click();
        await expectPath(page, /^\/driver-registration$/, 'the 차량 등록 button');
        const url = await uploadImage(a, { name: 'my-car.png', buffer: png(480, 360, [40, 90, 200]) });
        notes.push(`car photo uploaded: ${url}`);
        const preview = page.locator('img[alt="선택된 이미지"]');
        await preview.waitFor();
        await page.waitForTimeout(1_000);
        const shown = await preview.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0);
        if (!shown)
          notes.push(`the uploader's preview of the car photo (next/image, src ${await preview.getAttribute('src')}) does not load`);
        shots.push((await shot(a, 'car photo uploaded'))!);
        await page.getByRole('button', { name: '다음', exact: true }).click();
        await page.getByPlaceholder('띄어쓰기 없이 입력해주세요').fill('45다6789');
        await page.getByRole('button', { name: '다음', exact: true }).click();
        await page.getByPlaceholder("'-'없이 11자리를 입력해주세요.").fill('01098765432');
        await page.getByRole('button', { name: '드라이버 등록하기', exact: true }).click();
        await expectPath(page, /^\/driver-registration\/done$/, 'registering as a driver');
      } finally {
        const token = await v1Token(a).catch(() => '');
        const me = token ? await v1('GET', '/me', undefined, token) : undefined;
        if (me?.status === 200 && !me.body?.driver) {
          const r = await v1('PUT', '/me/driver', { carNumber: '45다6789', phoneNumber: '010-9876-5432' }, token);
          notes.push(`fallback: ${a.loginId} registered as a driver through /api/v1 (${r.status})`);
        }
      }
    }),
  );

  it('posting a carpool in the evening for the next morning', { timeout: 120_000 }, () =>
    step('posting a carpool in the evening before', ['A'], async (shots) => {
      const a = actor('A');
      try {
        await ensureSignedIn(a);
        if (pathOf(a.page) === '/driver-registration/done') {
          await a.page.getByRole('button', { name: '카풀 모집하기' }).click();
          await expectPath(a.page, /^\/carpool-registration$/, '카풀 모집하기');
        }
        await postCarpoolThroughClient(a, X, shots);
      } finally {
        const token = await v1Token(a).catch(() => '');
        const mine = token ? await v1('GET', '/me/carpool', undefined, token) : undefined;
        if (token && mine?.body?.status !== 'active') {
          const r = await v1Carpool(a, {
            place: X.place,
            departure: at(D1, '07:30'),
            capacity: X.capacity,
            cost: X.cost,
            chat: X.chat,
          }).catch((e: Error) => e.message);
          notes.push(`fallback: X posted through /api/v1 so that later steps can run (${typeof r === 'string' ? r : 'ok'})`);
        }
      }
    }),
  );

  it('home with a carpool of my own, and my carpool as its driver', { timeout: 120_000 }, () =>
    step('home with my own carpool; my carpool (driver, no passengers yet)', ['A'], async (shots) => {
      const a = actor('A');
      await ensureSignedIn(a);
      await openHome(a);
      const card = await reservationCard(a.page);
      assert.match(card, /내일 07시 30분에 카풀 예약이 있어요/, `the reservation card: "${card}"`);
      await expectList(a, [X.place, Z.place], 'the evening market with my carpool');
      shots.push((await shot(a, 'home with my carpool'))!);
      await openMyCarpool(a);
      const text = await a.page.locator('section').first().innerText();
      assert.match(text, /카풀 예약 확인\(드라이버\)/, 'my carpool says I am its driver (amIDriver)');
      assert.match(text, /아직 승객이 없습니다/, 'no passengers yet');
      assert.match(text, /카풀 삭제하기/, 'the driver can delete it');
    }),
  );

  // --- The next morning (still service day D) -------------------------------

  it('the next morning: home with an expired access token (several calls at once)', { timeout: 120_000 }, async () => {
    await setClock(MORNING);
    await step('token expiry on home after the night (several calls at once)', ['A'], async () => {
      const a = actor('A');
      await ensureSignedIn(a);
      await openHome(a);
      await expectStillSignedIn(a, 'opening home with an expired access token');
      assert.match(await reservationCard(a.page), /내일 07시 30분에 카풀 예약이 있어요/, 'home shows my carpool after the refresh');
      assertRefreshDance(rec.ofStep(rec.step), 2);
    });
  });

  it('posting a carpool in the morning', { timeout: 120_000 }, () =>
    step('posting a carpool in the morning', ['B'], async (shots) => {
      const b = actor('B');
      try {
        await signInThroughClient(b);
        await postCarpoolThroughClient(b, Y, shots);
      } finally {
        const token = await v1Token(b).catch(() => '');
        const mine = token ? await v1('GET', '/me/carpool', undefined, token) : undefined;
        if (token && mine?.body?.status !== 'active') {
          const r = await v1Carpool(b, {
            place: Y.place,
            departure: at(D1, '08:50'),
            capacity: Y.capacity,
            cost: Y.cost,
            chat: Y.chat,
          }).catch((e: Error) => e.message);
          notes.push(`fallback: Y posted through /api/v1 (${typeof r === 'string' ? r : 'ok'})`);
        }
      }
    }),
  );

  it('a second member signs up and sees the home list in its four orders (no carpool of its own)', { timeout: 180_000 }, () =>
    step('home list in four orders without a carpool of my own', ['C'], async (shots) => {
      const c = actor('C');
      try {
        await signUpThroughClient(c, shots, false);
      } catch (e) {
        notes.push(`the sign-up broke (${(e as Error).message.split('\n')[0]}); signing up through /api/v1 to go on`);
        await v1('POST', '/auth/signup', { loginId: c.loginId, email: c.email, nickname: c.nickname, password: c.password });
      }
      await signInThroughClient(c);
      assert.match(await reservationCard(c.page), /현재 예약 중인 카풀이 없습니다/, 'no carpool of my own');
      await checkFourOrders(
        c,
        {
          latest: [Y.place, X.place, Z.place],
          active: [Y.place, X.place, Z.place],
          fast: [X.place, Z.place, Y.place],
          low: [Y.place, Z.place, X.place],
        },
        shots,
        'without own carpool',
      );
    }),
  );

  it('the second member reserves a seat; my carpool as a passenger', { timeout: 120_000 }, () =>
    step('a second member reserving; my carpool (passenger)', ['C'], async () => {
      const c = actor('C');
      await ensureSignedIn(c);
      await reserveThroughClient(c, X.place);
      const text = await c.page.locator('section').first().innerText();
      assert.doesNotMatch(text, /\(드라이버\)/, 'a passenger is not told it is the driver');
      assert.match(text, new RegExp(A.nickname), "the driver's nickname is shown");
      assert.match(text, /예약 취소하기/, 'a passenger can cancel');
    }),
  );

  it("the driver's side of my carpool shows the passenger", { timeout: 120_000 }, () =>
    step('my carpool (driver) with its passenger', ['A'], async () => {
      const a = actor('A');
      await ensureSignedIn(a);
      await openMyCarpool(a);
      const text = await a.page.locator('section').first().innerText();
      assert.match(text, /카풀 예약 확인\(드라이버\)/, 'amIDriver');
      assert.match(text, new RegExp(C.nickname), `the passenger ${C.nickname} is listed`);
    }),
  );

  it('the home list in its four orders with a carpool of my own', { timeout: 180_000 }, () =>
    step('home list in four orders with a carpool of my own', ['A'], async (shots) => {
      const a = actor('A');
      await ensureSignedIn(a);
      await checkFourOrders(
        a,
        // X has one seat, taken: it is not among those with free seats.
        {
          latest: [Y.place, X.place, Z.place],
          active: [Y.place, Z.place],
          fast: [X.place, Z.place, Y.place],
          low: [Y.place, Z.place, X.place],
        },
        shots,
        'with own carpool',
      );
      assert.match(await reservationCard(a.page), /내일 07시 30분에 카풀 예약이 있어요/);
    }),
  );

  it('the passenger cancels', { timeout: 120_000 }, () =>
    step('cancel a reservation', ['C'], async (shots) => {
      const c = actor('C');
      await ensureSignedIn(c);
      await openMyCarpool(c);
      await c.page.getByRole('button', { name: '예약 취소하기' }).click();
      assert.match(await modalMessage(c.page), /예약을 취소하시겠어요/);
      shots.push((await shot(c, 'cancel?'))!);
      const answered = c.page.waitForResponse((r) => r.url() === `${backend!.url}/api/carpool/cancelCarpool`);
      await c.page.locator('div.modal').getByRole('button', { name: '네, 취소할래요' }).click();
      const res = await answered;
      await expectPath(c.page, /^\/home$/, `after cancelling (POST /api/carpool/cancelCarpool answered ${res.status()})`);
      await waitForHomeLoaded(c.page);
      await expectStillSignedIn(c, 'after cancelling');
      const card = await reservationCard(c.page);
      assert.match(card, /현재 예약 중인 카풀이 없습니다/, `home after cancelling (myCarpool must answer 404): "${card}"`);
      assert.match(await c.page.locator('ul.w-full > li', { hasText: X.place }).innerText(), /0\/1/, 'the seat is free again');
    }),
  );

  it('the driver deletes its carpool; the passenger sees it and reserves another', { timeout: 180_000 }, () =>
    step('delete a carpool (the passenger is freed)', ['A', 'C'], async (shots) => {
      const a = actor('A');
      const c = actor('C');
      await ensureSignedIn(c);
      await reserveThroughClient(c, X.place);
      await ensureSignedIn(a);
      await openMyCarpool(a);
      await a.page.getByRole('button', { name: '카풀 삭제하기' }).click();
      assert.match(await modalMessage(a.page), /카풀 예약을 취소하시겠어요/);
      shots.push((await shot(a, 'delete?'))!);
      const answered = a.page.waitForResponse((r) => r.url() === `${backend!.url}/api/carpool/deleteCarpool`);
      await a.page.locator('div.modal').getByRole('button', { name: '네, 취소할래요' }).click();
      const res = await answered;
      await expectPath(a.page, /^\/home$/, `after deleting (DELETE /api/carpool/deleteCarpool answered ${res.status()})`);
      await waitForHomeLoaded(a.page);
      assert.match(await reservationCard(a.page), /현재 예약 중인 카풀이 없습니다/, "the driver's home after deleting");
      await expectList(a, [Y.place, Z.place], 'the market without the deleted carpool');
      // The passenger: its home says it has no carpool (not a crash), and it may reserve another.
      await openHome(c);
      await expectStillSignedIn(c, "the passenger's home after the driver deleted the carpool");
      const card = await reservationCard(c.page);
      assert.match(
        card,
        /현재 예약 중인 카풀이 없습니다/,
        `the passenger's home (myCarpool must answer 404 after the driver deleted): "${card}"`,
      );
      shots.push((await shot(c, 'passenger after delete'))!);
      await reserveThroughClient(c, Y.place);
      assert.match(await c.page.locator('section').first().innerText(), /수원드라이버/, "now in B's carpool");
    }),
  );

  it('token expiry on home with several calls at once', { timeout: 120_000 }, async () => {
    await setClock(new Date(apiNow().getTime() + (ACCESS_TTL + 30) * 1000));
    await step('token expiry on home (several calls at once)', ['C'], async () => {
      const c = actor('C');
      await ensureSignedIn(c);
      await openHome(c);
      await expectStillSignedIn(c, 'home with an expired access token');
      assert.match(await reservationCard(c.page), /내일 08시 50분에 카풀 예약이 있어요/, 'home shows my reservation after the refresh');
      assertRefreshDance(rec.ofStep(rec.step), 2);
    });
  });

  it('token expiry on profile with several calls at once', { timeout: 120_000 }, async () => {
    await setClock(new Date(apiNow().getTime() + (ACCESS_TTL + 30) * 1000));
    await step('token expiry on profile (several calls at once)', ['C'], async () => {
      const c = actor('C');
      await ensureSignedIn(c);
      await c.page.goto(`${client!.url}/profile`);
      await c.page.getByText('최근 탑승 목록').waitFor();
      await expectStillSignedIn(c, 'profile with an expired access token');
      await c.page.getByText(C.loginId).waitFor({ timeout: 10_000 });
      assertRefreshDance(rec.ofStep(rec.step), 2);
    });
  });

  // --- The day rolled over (service day D+1) --------------------------------

  it('history after the day rolls over (rides and drives)', { timeout: 120_000 }, async () => {
    await setClock(NEXT_DAY);
    await step('history after the day rolls over', ['C', 'B'], async (shots) => {
      const c = actor('C');
      const b = actor('B');
      // A person opens its profile for the history (the access token expired overnight: the refresh dance).
      await ensureSignedIn(c);
      await c.page.goto(`${client!.url}/profile`);
      await c.page.getByText('최근 탑승 목록').waitFor();
      await expectStillSignedIn(c, "the passenger's profile the next day");
      const ride = c.page.locator('div.h-\\[105px\\]', { hasText: Y.place });
      await ride.waitFor({ timeout: 10_000 }).catch(() => {
        throw new Error(`the ride history (GET /api/carpool/history) does not show yesterday's carpool Y`);
      });
      assert.match(await ride.innerText(), /2,000원/);
      await openHome(c);
      assert.match(await reservationCard(c.page), /현재 예약 중인 카풀이 없습니다/, 'a new day: no carpool yet');
      await expectList(c, [], 'a new day: no carpools yet');
      shots.push((await shot(c, 'new day home'))!);
      await ensureSignedIn(b);
      await b.page.goto(`${client!.url}/profile`);
      await b.page.getByText('최근 탑승 목록').waitFor();
      // The tab asks GET /api/member whether I am a driver: wait until the profile shows it.
      await b.page.getByText(b.loginId, { exact: true }).waitFor();
      await b.page.getByText('드라이버', { exact: true }).click();
      await b.page.getByText('최근 운행 목록').waitFor();
      const drive = b.page.locator('div.h-\\[105px\\]', { hasText: Y.place });
      await drive.waitFor({ timeout: 10_000 }).catch(() => {
        throw new Error(`the drive history (GET /api/carpool/driveHis) does not show yesterday's carpool Y`);
      });
      assert.match(await drive.innerText(), /1\/3/, 'one of three seats was taken');
    });
  });

  it('a report on yesterday’s ride', { timeout: 120_000 }, () =>
    step('a report', ['C'], async () => {
      const c = actor('C');
      await ensureSignedIn(c);
      if (pathOf(c.page) !== '/profile') {
        await c.page.goto(`${client!.url}/profile`);
        await c.page.getByText('최근 탑승 목록').waitFor();
      }
      const ride = c.page.locator('div.h-\\[105px\\]', { hasText: Y.place });
      await ride.locator('svg').last().click();
      await ride.getByRole('link', { name: '신고하기' }).click();
      await expectPath(c.page, /^\/report\/\d+$/, 'the 신고하기 link of a ride');
      await c.page.getByPlaceholder('제목을 입력해주세요.').fill('약속 시간에 늦었어요');
      await c.page
        .getByPlaceholder('불편했던 점들을 자세히 작성해주세요.')
        .fill('출발 시간보다 20분 늦게 도착했고 연락이 없었습니다. 한국어 내용 그대로 저장되는지도 봅니다.');
      const answered = c.page.waitForResponse((r) => r.url().startsWith(`${backend!.url}/api/report/`));
      await c.page.getByRole('button', { name: '신고하기', exact: true }).click();
      const res = await answered;
      const body = await res.text();
      await c.page.waitForTimeout(500);
      const modal = await c.page.locator('div.modal').count();
      assert.ok(
        res.ok() && !modal,
        `the report: POST ${new URL(res.url()).pathname} answered ${res.status()} ${body}${modal ? ' and the client shows an error modal' : ''}`,
      );
      notes.push(`the client stays on the report form after a successful report (it has no redirect to /report/done): ${body}`);
    }),
  );

  it('profile change: nickname and profile image', { timeout: 120_000 }, () =>
    step('profile change (nickname, image)', ['C'], async (shots) => {
      const c = actor('C');
      await ensureSignedIn(c);
      await c.page.goto(`${client!.url}/profile`);
      await c.page.getByText('최근 탑승 목록').waitFor();
      await c.page.getByRole('link', { name: '수정' }).click();
      await expectPath(c.page, /^\/profile\/passenger-edit$/, 'the 수정 link');
      await c.page.getByPlaceholder('닉네임을 입력해주세요.').waitFor();
      await c.page.waitForFunction(
        () => (document.querySelector('input[placeholder="닉네임을 입력해주세요."]') as HTMLInputElement)?.value !== '',
      );
      const image = await uploadImage(c, { name: 'me.png', buffer: png(300, 300, [230, 120, 60]) });
      const nickname = '새아침손님';
      await c.page.getByPlaceholder('닉네임을 입력해주세요.').fill(nickname);
      await c.page.getByRole('button', { name: '중복확인' }).click();
      assert.match(await modalMessage(c.page), /사용 가능한 닉네임입니다/);
      await closeModal(c.page);
      const answered = c.page
        .waitForResponse((r) => r.url() === `${backend!.url}/api/member/member`, { timeout: 10_000 })
        .catch(() => null);
      await c.page.getByRole('button', { name: '수정하기' }).click();
      const res = await answered;
      if (!res)
        throw new Error(
          '수정하기 sent nothing: the form did not validate (its schema needs nickname and profileImage strings: GET /api/member must give a profileImage)',
        );
      const message = await modalMessage(c.page);
      shots.push((await shot(c, 'profile saved'))!);
      assert.match(message, /수정이 완료되었습니다/, `PUT /api/member/member answered ${res.status()} ${await res.text()}`);
      await closeModal(c.page);
      C.nickname = nickname;
      c.nickname = nickname;
      await c.page.goto(`${client!.url}/profile`);
      await c.page.getByText(nickname).waitFor();
      notes.push(`new profile image ${image}`);
    }),
  );

  it('password change: the current one first (a wrong one keeps me signed in), then the new one', { timeout: 120_000 }, () =>
    step('password change', ['C'], async (shots) => {
      const c = actor('C');
      await ensureSignedIn(c);
      await c.page.goto(`${client!.url}/profile/verify-password`);
      await c.page.getByPlaceholder('기존 비밀번호를 입력해주세요').fill('notmy1password');
      await c.page.getByRole('button', { name: '확인', exact: true }).click();
      let message: string;
      try {
        message = await modalMessage(c.page, 8_000);
      } catch {
        throw new Error(
          `a wrong current password shows no error; the client is at ${pathOf(c.page)} (POST /api/member/checkPassword must answer 400 INVALID_PASSWORD, not 401)`,
        );
      }
      shots.push((await shot(c, 'wrong current password'))!);
      notes.push(`wrong current password: "${message.replace(/\s*확인$/, '')}"`);
      await closeModal(c.page);
      await expectStillSignedIn(c, 'a wrong current password');
      await c.page.getByPlaceholder('기존 비밀번호를 입력해주세요').fill(c.password);
      await c.page.getByRole('button', { name: '확인', exact: true }).click();
      await expectPath(c.page, /^\/profile\/change-password$/, 'the right current password');
      const next = 'mate2026new';
      await c.page.getByPlaceholder('비밀번호를 입력해주세요').fill(next);
      await c.page.getByPlaceholder('비밀번호를 재입력 해주세요.').fill(next);
      await c.page.getByRole('button', { name: '확인', exact: true }).click();
      notes.push(`change-password answer: "${(await modalMessage(c.page)).replace(/\s*확인$/, '')}"`);
      await closeModal(c.page);
      await expectPath(c.page, /^\/profile$/, 'after changing the password');
      C.password = next;
      c.password = next;
      await c.page.getByRole('button', { name: '로그아웃' }).click();
      await expectPath(c.page, /^\/sign-in$/, 'log out');
      await signInThroughClient(c, next);
    }),
  );

  it('find-id: the masked id on screen, the full id by mail', { timeout: 120_000 }, () =>
    step('find-id with the mail read', ['G'], async (shots) => {
      const g = actor('G');
      const seen = new Set(readOutbox(backend!.outboxDir).map((m) => m.file));
      await g.page.goto(`${client!.url}/login`);
      await g.page.getByRole('link', { name: '아이디 찾기' }).click();
      await expectPath(g.page, /^\/find-id$/, 'the 아이디 찾기 link');
      await g.page.getByPlaceholder('닉네임을 입력해주세요').fill(C.nickname);
      await g.page.getByPlaceholder('이메일을 입력해주세요.').fill(C.email);
      await g.page.getByRole('button', { name: '아이디 찾기' }).click();
      await expectPath(g.page, /^\/find-id\/result/, 'finding the id');
      const shown = new URL(g.page.url()).searchParams.get('memberId') ?? '';
      assert.ok(shown && shown !== 'undefined' && shown !== C.loginId, `the result page shows the masked id, got "${shown}"`);
      assert.equal(shown.length, C.loginId.length, 'masked, the id keeps its length');
      const mail = await waitForMail(backend!.outboxDir, C.email, /아이디/, seen);
      shots.push((await shot(g, 'find-id result'))!);
      assert.ok(mail.text.includes(C.loginId), `the mail (${mail.file}) carries the full id: ${mail.text}`);
      notes.push(`shown "${shown}"; mail ${mail.file}: "${mail.subject}"`);
    }),
  );

  it('find-password: the reset link by mail, a new password, signed in with it', { timeout: 120_000 }, () =>
    step('find-password with the mail read', ['G'], async (shots) => {
      const g = actor('G');
      const seen = new Set(readOutbox(backend!.outboxDir).map((m) => m.file));
      await g.page.goto(`${client!.url}/login`);
      await g.page.getByRole('link', { name: '비밀번호 찾기' }).click();
      await expectPath(g.page, /^\/find-password$/, 'the 비밀번호 찾기 link');
      await g.page.getByPlaceholder('아이디를 입력해주세요').fill(C.loginId);
      await g.page.getByPlaceholder('이메일을 입력해주세요.').fill(C.email);
      await g.page.getByRole('button', { name: '비밀번호 찾기' }).click();
      const message = await modalMessage(g.page);
      shots.push((await shot(g, 'find-password answer'))!);
      await closeModal(g.page);
      await expectPath(
        g.page,
        /^\/login$/,
        `after find-password (the client goes on only for "이메일이 발송되었습니다."; it said "${message.replace(/\s*확인$/, '')}")`,
        5_000,
      );
      const mail = await waitForMail(backend!.outboxDir, C.email, /비밀번호/, seen);
      const link = /https?:\/\/\S+reset-password\?token=[\w.-]+/.exec(mail.text)?.[0];
      assert.ok(link, `the mail (${mail.file}) carries a reset link: ${mail.text}`);
      assert.ok(!mail.text.includes(C.password), 'no password in the mail');
      await g.page.goto(link);
      const reset = 'mate2027reset';
      await g.page.locator('input[name=password]').fill(reset);
      await g.page.locator('input[name=confirm]').fill(reset);
      await g.page.getByRole('button', { name: '변경하기' }).click();
      await g.page.getByText('비밀번호가 변경되었습니다').waitFor();
      shots.push((await shot(g, 'reset page done'))!);
      C.password = reset;
      g.password = reset;
      await signInThroughClient(g, reset);
      await g.page.getByRole('button', { name: '카풀 생성하기' }).waitFor();
    }),
  );
});
