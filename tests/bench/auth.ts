/**
 * Accounts benchmark (prints figures; not a test). Production hash parameters,
 * real MariaDB and Redis. Each figure stands beside a baseline measured in the
 * same run: an unauthenticated route of the same server.
 *   npx tsx tests/bench/auth.ts            # full run
 *   BENCH_SMOKE=1 npx tsx tests/bench/auth.ts   # a few seconds, for CI
 */
import autocannon from 'autocannon';
import { startTestApp } from '../../service/src/testing/harness.js';
import { newMember } from '../../service/src/features/auth/fixtures.js';

const smoke = process.env.BENCH_SMOKE === '1';
const seconds = smoke ? 1 : 10;

async function load(name: string, opts: autocannon.Options) {
  const r = await autocannon({ duration: seconds, connections: 10, ...opts });
  const row = {
    scenario: name,
    'req/s': Math.round(r.requests.average),
    'p50 ms': r.latency.p50,
    'p99 ms': r.latency.p99,
    errors: r.errors + r.non2xx,
  };
  console.log(JSON.stringify(row));
  return row;
}

const t = await startTestApp({
  // The production defaults of config, not the harness's cheap test parameters.
  env: {
    ARGON2_MEMORY_KIB: '19456',
    ARGON2_TIME_COST: '2',
    ARGON2_PARALLELISM: '1',
    SIGNIN_MAX_FAILURES_PER_ACCOUNT: '1000',
    SIGNIN_MAX_FAILURES_PER_CLIENT: '10000',
    LOG_LEVEL: 'warn',
  },
});
try {
  const m = await newMember(t);
  console.log(
    `argon2id parameters: m=${t.deps.config.ARGON2_MEMORY_KIB} KiB, t=${t.deps.config.ARGON2_TIME_COST}, p=${t.deps.config.ARGON2_PARALLELISM}`,
  );
  const baseline = await load('baseline GET /healthz', { url: `${t.url}/healthz` });
  const me = await load('GET /api/v1/me (token + session check + member read)', {
    url: `${t.url}/api/v1/me`,
    headers: { authorization: `Bearer ${m.accessToken}` },
  });
  const signin = await load('POST /api/v1/auth/signin (argon2id verify + session)', {
    url: `${t.url}/api/v1/auth/signin`,
    method: 'POST',
    connections: 4,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ loginId: m.loginId, password: m.password }),
  });

  // The token check alone, in process: verify cost per request.
  const n = smoke ? 2_000 : 50_000;
  const token = t.services.tokens.sign({ sub: String(m.id), sid: 'bench', role: 'member' });
  let start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) t.services.tokens.verify(token);
  const verifyUs = Number(process.hrtime.bigint() - start) / n / 1000;

  // Wrong login id vs wrong password: the same work, so the same time.
  const timed = async (loginId: string) => {
    const samples: number[] = [];
    for (let i = 0; i < (smoke ? 5 : 30); i++) {
      start = process.hrtime.bigint();
      await fetch(`${t.url}/api/v1/auth/signin`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ loginId, password: 'wrong-pass1' }),
      });
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return samples.sort((a, b) => a - b)[Math.floor(samples.length / 2)]!;
  };
  const wrongPassword = await timed(m.loginId);
  const wrongId = await timed('nosuchmember');

  console.log('\n| scenario | req/s | p50 ms | p99 ms | errors | vs baseline |\n|---|---|---|---|---|---|');
  for (const row of [baseline, me, signin])
    console.log(
      `| ${row.scenario} | ${row['req/s']} | ${row['p50 ms']} | ${row['p99 ms']} | ${row.errors} | ${(row['req/s'] / baseline['req/s']).toFixed(3)} |`,
    );
  console.log(`\naccess-token verification in process: ${verifyUs.toFixed(1)} µs per token`);
  console.log(
    `median sign-in failure: wrong password ${wrongPassword.toFixed(1)} ms, unknown login id ${wrongId.toFixed(1)} ms (ratio ${(wrongId / wrongPassword).toFixed(2)})`,
  );
} finally {
  await t.close();
}
