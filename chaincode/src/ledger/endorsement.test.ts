import { KeyEndorsementPolicy } from 'fabric-shim';
import { everyOrganisationPolicy, policyOrganisations } from './endorsement';

describe('key-level endorsement policy', () => {
  it('requires each organisation, named once, in a stable order', () => {
    const policy = everyOrganisationPolicy(['TalentOrgMSP', 'ClientOrgMSP', 'TalentOrgMSP']);
    expect(policyOrganisations(policy)).toEqual(['ClientOrgMSP', 'TalentOrgMSP']);
    expect(everyOrganisationPolicy(['ClientOrgMSP', 'TalentOrgMSP'])).toEqual(policy);
  });

  it('builds the same bytes as the shim for member principals', () => {
    const shim = new KeyEndorsementPolicy();
    shim.addOrgs('MEMBER', 'ClientOrgMSP', 'TalentOrgMSP');
    expect(Buffer.from(everyOrganisationPolicy(['TalentOrgMSP', 'ClientOrgMSP']))).toEqual(
      Buffer.from(shim.getPolicy()),
    );
    const peers = new KeyEndorsementPolicy();
    peers.addOrgs('PEER', 'ClientOrgMSP', 'TalentOrgMSP');
    expect(Buffer.from(everyOrganisationPolicy(['ClientOrgMSP', 'TalentOrgMSP']))).not.toEqual(
      Buffer.from(peers.getPolicy()),
    );
  });

  it('names a single organisation when both parties share it', () => {
    expect(policyOrganisations(everyOrganisationPolicy(['ClientOrgMSP', 'ClientOrgMSP']))).toEqual(['ClientOrgMSP']);
  });

  it('refuses to build a policy nobody could satisfy', () => {
    expect(() => everyOrganisationPolicy([])).toThrow('needs at least one organisation');
  });
});
