import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startTestApp, type TestApp } from '../../testing/harness.js';
import { httpClient } from '../../testing/http.js';
import { newMember } from '../../features/auth/fixtures.js';
import { PNG_1x1, imageForm } from '../../features/files/fixtures.js';

/** The value of one series in a Prometheus text exposition, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('service metrics', () => {
  let t: TestApp;
  let text: string;
  before(async () => {
    t = await startTestApp({ env: { GIT_COMMIT: 'abc1234', MATE_VERSION: '1.4.0-rc.1' } });
    const call = httpClient(t.url);
    const m = await newMember(t);
    await call('POST', '/auth/signin', { body: { loginId: m.loginId, password: 'wrong-pass1' } });
    await m.call('POST', '/files', { form: imageForm(PNG_1x1, 'a.png', 'profile') });
    await call('POST', '/auth/login-id/forgot', { body: { email: m.email } });
    await t.services.mail.idle();
    text = await (await fetch(`${t.url}/metrics`)).text();
  });
  after(() => t.close());

  it('counts sign-ups and sign-ins by outcome', () => {
    assert.equal(sample(text, 'mate_signups_total{provider="mate"}'), 1);
    assert.equal(sample(text, 'mate_signins_total{outcome="success"}'), 1);
    assert.equal(sample(text, 'mate_signins_total{outcome="wrong_credentials"}'), 1);
  });

  it('reports dependency health, pool occupancy and operation timings', () => {
    assert.equal(sample(text, 'mate_dependency_up{dependency="database"}'), 1);
    assert.equal(sample(text, 'mate_dependency_up{dependency="redis"}'), 1);
    assert.ok(sample(text, 'mate_db_pool_connections{state="free"}')! >= 0);
    assert.ok(sample(text, 'mate_db_query_duration_seconds_count')! > 0);
    assert.ok(sample(text, 'mate_redis_operation_duration_seconds_count{operation="get"}')! > 0);
    assert.equal(sample(text, 'mate_s3_requests_total{operation="put",outcome="ok"}'), 1);
    assert.equal(sample(text, 'mate_mail_sends_total{outcome="sent"}'), 1);
  });

  it('labels HTTP metrics by route template, never by raw path', () => {
    assert.ok(sample(text, 'mate_http_requests_total{method="POST",route="/api/v1/auth/signin",status="200"}')! >= 1);
    assert.doesNotMatch(text, /route="\/api\/v1\/files\/profile-/);
  });

  it('says which build runs', () => {
    assert.match(text, /^mate_build_info\{version="1\.4\.0-rc\.1",commit="abc1234"\} 1$/m);
  });
});
