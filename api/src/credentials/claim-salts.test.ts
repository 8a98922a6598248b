import { ClaimSalts } from './claim-salts.js';

describe('ClaimSalts', () => {
  const salts = new ClaimSalts('a server secret');

  it('gives the same salt and credential id for the same issuer, request and claim', () => {
    expect(salts.salt('AuditOrgMSP/registrar', 'req-00000001', 0, 'grade')).toBe(
      new ClaimSalts('a server secret').salt('AuditOrgMSP/registrar', 'req-00000001', 0, 'grade'),
    );
    expect(salts.salt('AuditOrgMSP/registrar', 'req-00000001', 0, 'grade')).toMatch(/^[0-9a-f]{64}$/);
    expect(salts.credentialId('AuditOrgMSP/registrar', 'req-00000001')).toMatch(
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it('gives different salts for another issuer, request, position, name or secret', () => {
    const base = salts.salt('AuditOrgMSP/registrar', 'req-00000001', 0, 'grade');
    const others = [
      salts.salt('AuditOrgMSP/other', 'req-00000001', 0, 'grade'),
      salts.salt('AuditOrgMSP/registrar', 'req-00000002', 0, 'grade'),
      salts.salt('AuditOrgMSP/registrar', 'req-00000001', 1, 'grade'),
      salts.salt('AuditOrgMSP/registrar', 'req-00000001', 0, 'title'),
      // Length prefixes keep shifted boundaries apart.
      salts.salt('AuditOrgMSP/registrar', 'req-0000000', 10, 'grade'),
      new ClaimSalts('another secret').salt('AuditOrgMSP/registrar', 'req-00000001', 0, 'grade'),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
  });
});
