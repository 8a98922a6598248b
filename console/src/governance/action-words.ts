import type { GovernanceAction } from '@gigledger/chaincode/model';

interface Party {
  readonly mspId: string;
  readonly userId: string;
}

const person = (party: Party): string => `${party.userId} (${party.mspId})`;

/** A parameter's value as a sentence shows it: lists joined, text as it is, other values as JSON. */
function valueInWords(value: unknown): string {
  if (Array.isArray(value)) return value.length === 0 ? 'nothing' : value.map(valueInWords).join(', ');
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * One governance action in words, as a proposal's page lists it (the chaincode's
 * `governanceActionSchema` kinds): what rule it changes, and to what. An action of a kind
 * this console does not know is shown as its JSON, so nothing a proposal carries is hidden.
 */
export function actionInWords(action: GovernanceAction | Record<string, unknown>): string {
  const known = action as GovernanceAction;
  switch (known.type) {
    case 'setParameter':
      // Parameters named …Bps are basis points (1/100 of a percent).
      return typeof known.value === 'number' && known.name.endsWith('Bps')
        ? `Set ${known.name} to ${String(known.value)} basis points (${String(known.value / 100)} %)`
        : `Set ${known.name} to ${valueInWords(known.value)}`;
    case 'registerIssuer':
      return `Register ${known.displayName}, ${person(known.issuer)}, as an issuer of ${known.credentialTypes.join(', ')}`;
    case 'removeIssuer':
      return `Remove the issuer ${person(known.issuer)}: ${known.reason}`;
    case 'addArbitrator':
      return `Add ${known.displayName}, ${person(known.arbitrator)}, to the arbitrators`;
    case 'removeArbitrator':
      return `Remove the arbitrator ${person(known.arbitrator)}: ${known.reason}`;
    case 'setMemberRights':
      return known.voting || known.veto
        ? `Give ${known.mspId} ${known.voting ? 'a vote' : 'no vote'} and ${known.veto ? 'a veto' : 'no veto'}`
        : `Remove ${known.mspId} from the members`;
    default:
      return JSON.stringify(action);
  }
}
