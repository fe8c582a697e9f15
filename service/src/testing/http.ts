export interface Reply<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A small JSON client for tests: `call('POST', '/auth/signin', { body })`. */
export function httpClient(baseUrl: string) {
  return async function call<T = any>(
    method: string,
    path: string,
    opts: { token?: string; body?: unknown; headers?: Record<string, string>; form?: FormData } = {},
  ): Promise<Reply<T>> {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    let body: BodyInit | undefined;
    if (opts.form) body = opts.form;
    else if (opts.body !== undefined) {
      headers['content-type'] ??= 'application/json';
      body = JSON.stringify(opts.body);
    }
    const url = path.startsWith('/api/') || path.startsWith('/file/') || !path.startsWith('/') ? path : `/api/v1${path}`;
    const res = await fetch(new URL(url, baseUrl), { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  };
}

export type Call = ReturnType<typeof httpClient>;
