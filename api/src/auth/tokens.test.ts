import { parseApiConfig } from '../config.js';
import { TokenService } from './tokens.js';

const secret = 'a test signing secret of more than thirty-two characters';

function tokenService(ttlSeconds: number): TokenService {
  const config = parseApiConfig({ GIGLEDGER_CONNECTION_PROFILE: '/dev/null' });
  return new TokenService({ ...config.jwt, ttlSeconds }, secret);
}

describe('verified tokens kept between requests', () => {
  it('refuses a token once it expires, although it was verified while valid', async () => {
    // `exp` is in whole seconds: a one-second token issued late in a second lapses at
    // once, so the token lives three seconds and the check waits four after issue.
    const tokens = tokenService(3);
    const { token } = await tokens.issue('erin');
    const issuedAt = Date.now();
    await expect(tokens.verify(token)).resolves.toMatchObject({ subject: 'erin', issuer: 'local' });
    await expect(tokens.verify(token)).resolves.toMatchObject({ subject: 'erin' });

    await new Promise((resolve) => setTimeout(resolve, Math.max(0, issuedAt + 4_100 - Date.now())));

    await expect(tokens.verify(token)).rejects.toThrow(/exp/);
  });

  it('refuses a copy of a verified token with its subject or signature changed', async () => {
    const tokens = tokenService(3600);
    const { token } = await tokens.issue('frank');
    await tokens.verify(token);
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<string, unknown>;
    const otherSubject = Buffer.from(JSON.stringify({ ...claims, sub: 'mallory' })).toString('base64url');
    const flipped = `${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`;

    await expect(tokens.verify(`${header}.${otherSubject}.${signature}`)).rejects.toThrow(/signature/);
    await expect(tokens.verify(`${header}.${payload}.${flipped}`)).rejects.toThrow(/signature/);
    await expect(tokens.verify(token)).resolves.toMatchObject({ subject: 'frank' });
  });
});
