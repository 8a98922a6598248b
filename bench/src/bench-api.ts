import { readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Creates people on a running API the way an operator does: each organisation's
 * administrator (from the server's first-start `bootstrap-admin.json` in `dataDir`)
 * creates a user with a password, who then logs in.
 *
 * @returns a function giving the new person's access token.
 * @throws Error naming the path and status when the API refuses a step.
 */
export function apiPeople(
  url: string,
  dataDir: string,
): (userId: string, org: string, role: string) => Promise<string> {
  const { admins } = JSON.parse(readFileSync(path.join(dataDir, 'bootstrap-admin.json'), 'utf8')) as {
    admins: Record<string, { userId: string; password: string }>;
  };
  const post = async <T>(pathname: string, body: unknown, token?: string): Promise<T> => {
    const response = await fetch(`${url}${pathname}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify(body),
    });
    if (!response.ok) throw new Error(`${pathname} answered ${response.status}: ${await response.text()}`);
    return (await response.json()) as T;
  };
  return async (userId, org, role) => {
    const admin = (await post<{ accessToken: string }>('/v1/auth/token', admins[org])).accessToken;
    const password = `bench password ${userId}`;
    await post('/v1/admin/users', { userId, org, role, password }, admin);
    return (await post<{ accessToken: string }>('/v1/auth/token', { userId, password })).accessToken;
  };
}

/**
 * One authenticated API call with a JSON body (when given) and a JSON answer.
 *
 * @throws Error naming the method, path, status and the start of the answer unless it is 2xx.
 */
export async function callApi<T>(
  url: string,
  token: string,
  method: string,
  pathname: string,
  body?: unknown,
): Promise<T> {
  const response = await fetch(`${url}${pathname}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${pathname} answered ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}
