import Router from '@koa/router';

/**
 * The small page a reset link opens when no PASSWORD_RESET_URL is configured:
 * a form that posts the token and the new password to /api/v1/auth/password/reset.
 * Its script is a file of its own, so the page runs under a strict CSP.
 */
const PAGE = `<!doctype html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>MATE 비밀번호 재설정</title></head>
<body>
<h1>비밀번호 재설정</h1>
<form id="reset">
  <label>새 비밀번호 <input type="password" name="password" minlength="8" maxlength="64" required autocomplete="new-password"></label>
  <label>새 비밀번호 확인 <input type="password" name="confirm" minlength="8" maxlength="64" required autocomplete="new-password"></label>
  <button type="submit">변경하기</button>
</form>
<p id="result" role="status"></p>
<script src="/reset-password/app.js"></script>
</body></html>`;

const SCRIPT = `
document.getElementById('reset').addEventListener('submit', async (e) => {
  e.preventDefault();
  const form = e.target;
  const out = document.getElementById('result');
  if (form.password.value !== form.confirm.value) { out.textContent = '두 비밀번호가 다릅니다.'; return; }
  const token = new URLSearchParams(location.search).get('token') || '';
  const res = await fetch('/api/v1/auth/password/reset', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, password: form.password.value }),
  });
  if (res.status === 204) { form.hidden = true; out.textContent = '비밀번호가 변경되었습니다. 다시 로그인해 주세요.'; return; }
  const problem = await res.json().catch(() => ({}));
  out.textContent = problem.code === 'AUTH-010' ? '링크가 만료되었거나 이미 사용되었습니다.' : '비밀번호는 8~64자이며 영문과 숫자를 포함해야 합니다.';
});`;

export function resetPageRouter(): Router {
  const router = new Router();
  router.get('/reset-password', (ctx) => {
    ctx.type = 'html';
    // The token is in the URL: keep it out of Referer headers and caches.
    ctx.set('Referrer-Policy', 'no-referrer');
    ctx.set('Cache-Control', 'no-store');
    ctx.body = PAGE;
  });
  router.get('/reset-password/app.js', (ctx) => {
    ctx.type = 'application/javascript';
    ctx.body = SCRIPT;
  });
  return router;
}
