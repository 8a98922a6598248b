import { createHash } from 'node:crypto';
import {
  claimCommitment,
  claimCommitmentDomain,
  claimCommitmentPreimage,
  credentialClaimsSchema,
  issueCredentialRequestSchema,
} from './credential';

const salt = Buffer.from(Array.from({ length: 32 }, (_, index) => index)).toString('hex');

describe('claim commitments', () => {
  it('matches the documented test vector, computed independently', () => {
    expect(salt).toBe('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
    // Computed with Python's struct and hashlib from the encoding in model/credential.ts.
    expect(claimCommitment({ salt, name: 'degree', value: 'MSc Machine Learning' })).toBe(
      'ae952ced708e3a5c67aafc3193b779e516cfbf5f31db28f133ca9caf3c2f883c',
    );
    expect(claimCommitment({ salt, name: 'name', value: 'Zoë' })).toBe(
      'e39b989a489f230a3c03604998bf635677b716e2aba2f9482d7d302b8995b170',
    );
  });

  it('hashes four length-prefixed fields: domain tag, salt bytes, UTF-8 name, UTF-8 value', () => {
    const field = (bytes: Buffer) => {
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length);
      return Buffer.concat([length, bytes]);
    };
    const expected = Buffer.concat([
      field(Buffer.from(claimCommitmentDomain, 'utf8')),
      field(Buffer.from(salt, 'hex')),
      field(Buffer.from('grade', 'utf8')),
      field(Buffer.from('très bien', 'utf8')),
    ]);
    const preimage = claimCommitmentPreimage({ salt, name: 'grade', value: 'très bien' });
    expect(Buffer.from(preimage)).toEqual(expected);
    expect(preimage.length).toBe(4 + 29 + 4 + 32 + 4 + 5 + 4 + 10);
    expect(claimCommitment({ salt, name: 'grade', value: 'très bien' })).toBe(
      createHash('sha256').update(expected).digest('hex'),
    );
  });

  it('is unambiguous: moving bytes between name and value changes the commitment', () => {
    expect(claimCommitment({ salt, name: 'ab', value: 'c' })).not.toBe(
      claimCommitment({ salt, name: 'a', value: 'bc' }),
    );
  });

  it('binds the claim name, so a value and salt do not open another claim', () => {
    expect(claimCommitment({ salt, name: 'grade', value: 'A' })).not.toBe(
      claimCommitment({ salt, name: 'level', value: 'A' }),
    );
  });

  it('hashes strings exactly as given, without Unicode normalisation or trimming', () => {
    const composed = 'Zo\u00eb';
    const decomposed = 'Zoe\u0308';
    expect(claimCommitment({ salt, name: 'name', value: composed })).not.toBe(
      claimCommitment({ salt, name: 'name', value: decomposed }),
    );
    expect(claimCommitment({ salt, name: 'name', value: 'Zoe ' })).not.toBe(
      claimCommitment({ salt, name: 'name', value: 'Zoe' }),
    );
  });

  it('refuses a salt that is not 64 lowercase hex characters', () => {
    expect(() => claimCommitment({ salt: salt.toUpperCase(), name: 'a', value: 'b' })).toThrow(
      'a claim salt must be 64 lowercase hex characters',
    );
    expect(() => claimCommitment({ salt: salt.slice(2), name: 'a', value: 'b' })).toThrow();
  });
});

describe('credential schemas', () => {
  it('refuses repeated claim names and repeated salts, naming the claim', () => {
    const claims = [
      { name: 'a', value: '1', salt },
      { name: 'a', value: '2', salt: 'f'.repeat(64) },
      { name: 'b', value: '3', salt },
    ];
    const issues = credentialClaimsSchema.safeParse(claims).error?.issues ?? [];
    expect(issues.map((issue) => [issue.path.join('.'), issue.message])).toEqual([
      ['1.name', 'repeats claim name a'],
      [`2.salt`, `repeats the salt ${salt}`],
    ]);
  });

  it('requires the expiration date after the issuance date', () => {
    const parsed = issueCredentialRequestSchema.safeParse({
      requestId: 'req-00000001',
      credentialId: 'c-1',
      subject: { mspId: 'TalentOrgMSP', userId: 'tara' },
      type: 'Course',
      issuanceDate: '2026-01-02T00:00:00.000Z',
      expirationDate: '2026-01-01T00:00:00.000Z',
    });
    expect(parsed.error?.issues.map((issue) => issue.path.join('.'))).toEqual(['expirationDate']);
  });
});
